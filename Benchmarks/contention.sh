#!/usr/bin/env bash
# Threads on a busy machine: `edgebone bench --threads 1` beside `--threads N` with 0, 1 and N busy
# background processes (shell busy-loops, bounded by `timeout`, started and stopped here), for each
# model given. Each configuration runs --rounds times, 1 and N threads alternating, and the table shows
# the median over rounds of each run's median and p99 (ms), the ratio N threads / 1 thread, and the shares
# of frames and of split steps (in split frames) that ran on the calling thread alone because splitting
# did not pay, and the medians of the split frames and of the frames run alone (over the rounds in which
# there were some). The ping-pong round trip between two cores (see Benchmarks/README.md) comes first.
# usage: [EDGEBONE_EXE=BIN] Benchmarks/contention.sh [--threads N] [--frames F] [--rounds R] [MODEL...]
#        (release build; default: the bundled Lite0)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2; frames=150; rounds=3
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
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
pingpong=$(mktemp -d)/pingpong
trap 'stop_busy; rm -rf "$(dirname "$pingpong")"' EXIT
start_busy() {
  for ((i = 0; i < $1; i++)); do
    timeout 600 sh -c 'while :; do :; done' &
    busy_pids+=($!)
  done
  sleep 0.5
}
stat() {  # model threads -> "median p99 frames-alone% steps-alone% split-frames-median alone-frames-median"
  "$exe" bench --model "$1" --threads "$2" --frames "$frames" --json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); s=d.get("split_steps",0)+d.get("steps_alone",0)
print("%.3f %.3f %.1f %.1f %s %s" % (d["median_ms"], d["p99_ms"], 100*d.get("frames_alone",0)/(d["frames"]+20), 100*d.get("steps_alone",0)/max(s,1),
      "%.2f" % d["split_median_ms"] if "split_median_ms" in d else "-", "%.2f" % d["alone_median_ms"] if "alone_median_ms" in d else "-"))'
}
median() { python3 -c 'import sys,statistics; print("%.3f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }
cc -O2 -pthread Benchmarks/pingpong.c -o "$pingpong"
echo "cores: $(nproc); frames per run: $frames; rounds: $rounds; threads compared: 1 and $threads; $("$pingpong")"
printf "%-34s %5s  %9s %9s  %9s %9s  %7s  %14s  %11s\n" model busy "t1 p50" "t1 p99" "t$threads p50" "t$threads p99" "ratio" "alone% fr/step" "split/alone"
for m in "${models[@]}"; do
  for busy in 0 1 "$threads"; do
    start_busy "$busy"
    a1=(); a99=(); b1=(); b99=(); fa=(); al=(); sp=(); so=()
    for ((r = 0; r < rounds; r++)); do
      read -r x y _ _ _ _ < <(stat "$m" 1); a1+=("$x"); a99+=("$y")
      read -r x y z u v w < <(stat "$m" "$threads"); b1+=("$x"); b99+=("$y"); fa+=("$z"); al+=("$u")
      [ "$v" = - ] || sp+=("$v"); [ "$w" = - ] || so+=("$w")
    done
    stop_busy
    A1=$(median "${a1[@]}"); B1=$(median "${b1[@]}")
    ratio=$(python3 -c "print('%.2f' % ($B1 / $A1))")
    split_alone="$([ ${#sp[@]} -gt 0 ] && median "${sp[@]}" || echo -)/$([ ${#so[@]} -gt 0 ] && median "${so[@]}" || echo -)"
    printf "%-34s %5s  %9s %9s  %9s %9s  %7s  %14s  %11s\n" "$(basename "$m" .safetensors)" "$busy" "$A1" "$(median "${a99[@]}")" \
      "$B1" "$(median "${b99[@]}")" "$ratio" "$(median "${fa[@]}")/$(median "${al[@]}")" "$split_alone"
  done
done
echo "after: $("$pingpong")"
