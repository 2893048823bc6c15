#!/usr/bin/env bash
# Threads on a busy machine: `edgebone bench --threads 1` beside `--threads N` with 0, 1 and N busy
# background processes (shell busy-loops, bounded by `timeout`, started and stopped here), for each
# model given. Prints medians and p99s (ms) and the ratio N threads / 1 thread.
# usage: [EDGEBONE_EXE=BIN] Benchmarks/contention.sh [--threads N] [--frames F] [MODEL...]   (release build; default: the
#        bundled Lite0)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2; frames=150
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    *) break ;;
  esac
done
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(Models/efficientnet_lite0.int8.safetensors)
# EDGEBONE_EXE=path compares another build (e.g. an older one kept aside).
exe=${EDGEBONE_EXE:-.build/release/edgebone}
[ -n "${EDGEBONE_EXE:-}" ] || swift build -c release --product edgebone >/dev/null
busy_pids=()
stop_busy() { for p in "${busy_pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; busy_pids=(); }
trap stop_busy EXIT
start_busy() {
  for ((i = 0; i < $1; i++)); do
    timeout 600 sh -c 'while :; do :; done' &
    busy_pids+=($!)
  done
  sleep 0.5
}
stat() {  # model threads -> "median p99"
  "$exe" bench --model "$1" --threads "$2" --frames "$frames" --json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3f %.3f" % (d["median_ms"], d["p99_ms"]))'
}
echo "cores: $(nproc); frames per run: $frames; threads compared: 1 and $threads"
printf "%-34s %5s  %9s %9s  %9s %9s  %7s\n" model busy "t1 p50" "t1 p99" "t$threads p50" "t$threads p99" "ratio"
for m in "${models[@]}"; do
  for busy in 0 1 "$threads"; do
    start_busy "$busy"
    read -r a1 a99 < <(stat "$m" 1)
    read -r b1 b99 < <(stat "$m" "$threads")
    stop_busy
    ratio=$(python3 -c "print('%.2f' % ($b1 / $a1))")
    printf "%-34s %5s  %9s %9s  %9s %9s  %7s\n" "$(basename "$m" .safetensors)" "$busy" "$a1" "$a99" "$b1" "$b99" "$ratio"
  done
done
