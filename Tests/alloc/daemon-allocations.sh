#!/usr/bin/env bash
# The daemon allocates nothing per frame: `edgebone run --loop` on the bundled model and sample,
# 50 frames and 550 frames, under a malloc-counting LD_PRELOAD shim. The 500 extra frames may cost
# at most 25 allocations (periodic work, not per frame). usage: daemon-allocations.sh EDGEBONE
set -euo pipefail
exe=${1:?usage: daemon-allocations.sh path/to/edgebone}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
clang -O2 -shared -fPIC "$root/Tests/alloc/count-mallocs.c" -o "$out/count.so"
count() {
  LD_PRELOAD="$out/count.so" "$exe" run --loop --max-frames "$1" --summary-interval 0 >/dev/null 2>"$out/err"
  grep -o 'MALLOCS [0-9]*' "$out/err" | tail -1 | cut -d' ' -f2
}
a=$(count 50)
b=$(count 550)
extra=$((b - a))
echo "daemon heap allocations: $a for 50 frames, $b for 550 frames: $extra for 500 more frames"
if [ "$extra" -gt 25 ]; then
  echo "FAIL: the daemon allocates per frame" >&2
  exit 1
fi
