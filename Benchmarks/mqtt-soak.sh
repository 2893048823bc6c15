#!/usr/bin/env bash
# A long `edgebone run --mqtt --publish every` against a local Mosquitto, flat out on the bundled
# sample: frames processed, messages a subscriber received, drops, resident memory over time; then
# inference latency with and without --mqtt, alternating rounds in the same run.
# usage: Benchmarks/mqtt-soak.sh [SOAK_SECONDS=600] [ROUND_SECONDS=30] [ROUNDS=3]
#        (EDGEBONE_EXE overrides .build/release/edgebone; needs mosquitto and mosquitto-clients)
set -euo pipefail
soak=${1:-600}; round=${2:-30}; rounds=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
exe=${EDGEBONE_EXE:-$root/.build/release/edgebone}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser %s\n' "$port" "$(id -un)" >"$work/broker.conf"
mosquitto -c "$work/broker.conf" >"$work/broker.out" 2>&1 & pids+=($!)
sleep 0.5
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
summary() {  # FILE: frames, inference p50 and p99, mqtt line
  python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
s = t[t.rfind("edgebone run summary"):]
frames = re.search(r"summary: (\d+) frames", s).group(1)
p50, p99 = re.search(r"inference ms: min \S+ p50 (\S+) p90 \S+ p99 (\S+)", s).groups()
m = re.search(r"mqtt: .*", s)
print(frames, p50, p99, m.group(0) if m else "")
EOF
}

echo "== soak: ${soak} s, every frame published to a local broker"
mosquitto_sub -p "$port" -t 'soak/#' -v >"$work/sub.txt" 2>/dev/null & sub=$!; pids+=($sub)
sleep 0.3
"$exe" run --loop --mqtt "mqtt://127.0.0.1:$port/soak" --device-id board --publish every --summary-interval 60 \
  >"$work/soak.out" 2>"$work/soak.err" & d=$!; pids+=($d)
sleep 5; rss_start=$(rss $d); start=$SECONDS
while [ $((SECONDS - start)) -lt $((soak - 5)) ]; do
  sleep 30
  printf '  %4d s: RSS %s kB, %s result lines\n' $((SECONDS - start + 5)) "$(rss $d)" "$(wc -l <"$work/soak.out")"
done
rss_end=$(rss $d)
kill -TERM $d; wait $d
sleep 1; kill -TERM $sub; wait $sub 2>/dev/null || true
received=$(grep -c '^soak/board/result ' "$work/sub.txt" || true)
read -r frames p50 p99 mqtt < <(summary "$work/soak.err")
echo "frames $frames, results received by the subscriber $received, RSS ${rss_start} kB after 5 s → ${rss_end} kB at the end"
echo "inference p50 $p50 ms, p99 $p99 ms; $mqtt"

echo "== latency with and without --mqtt: $rounds rounds of ${round} s each, alternating"
for i in $(seq "$rounds"); do
  for mode in plain mqtt; do
    args=()
    [ $mode = mqtt ] && args=(--mqtt "mqtt://127.0.0.1:$port/soak" --device-id board --publish every)
    timeout --preserve-status -s TERM "$round" "$exe" run --loop --summary-interval 0 "${args[@]}" >/dev/null 2>"$work/$mode-$i.err" || true
    read -r frames p50 p99 _ < <(summary "$work/$mode-$i.err")
    printf '  round %d %-5s frames %6d  p50 %s ms  p99 %s ms\n' "$i" "$mode" "$frames" "$p50" "$p99"
  done
done
