#!/usr/bin/env bash
# The daemon allocates nothing per frame: `edgebone run --loop` on the bundled model and sample,
# 50 frames and 550 frames, under a malloc-counting LD_PRELOAD shim. The 500 extra frames may cost
# at most 25 allocations (periodic work, not per frame). Extra arguments go to `edgebone run` (the
# MQTT tests pass --mqtt …: the publisher thread's own allocations are reported, not counted).
# usage: daemon-allocations.sh EDGEBONE [RUN-ARGS...]
set -euo pipefail
exe=${1:?usage: daemon-allocations.sh path/to/edgebone [run args...]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
clang -O2 -shared -fPIC "$root/Tests/alloc/count-mallocs.c" -o "$out/count.so"
count() {
  LD_PRELOAD="$out/count.so" "$exe" run --loop --max-frames "$1" --summary-interval 0 "${@:2}" >/dev/null 2>"$out/err"
  grep '^MALLOCS [0-9]*$' "$out/err" | tail -1 | cut -d' ' -f2
  grep '^MQTT_MALLOCS [0-9]*$' "$out/err" | tail -1 | cut -d' ' -f2 >"$out/mqtt-$1"
}
a=$(count 50 "$@")
b=$(count 550 "$@")
extra=$((b - a))
echo "daemon heap allocations: $a for 50 frames, $b for 550 frames: $extra for 500 more frames${*:+ (with $*)}"
if [ -s "$out/mqtt-550" ] && [ "$(cat "$out/mqtt-550")" != 0 ]; then
  echo "  on the MQTT publisher thread, apart: $(cat "$out/mqtt-50") and $(cat "$out/mqtt-550") (libmosquitto's packets)"
fi
if [ "$extra" -gt 25 ]; then
  echo "FAIL: the daemon allocates per frame" >&2
  exit 1
fi
