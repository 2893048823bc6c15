#!/usr/bin/env bash
# Instructions per frame under valgrind's callgrind: deterministic whatever the machine's load, so a
# kernel change can be judged by its count when medians are too noisy to tell.
# usage: Benchmarks/callgrind.sh MODEL [ISA] [TOP]
#   MODEL  an Edgebone model file (e.g. Models/efficientnet_lite0.int8.safetensors)
#   ISA    kernel level (EDGEBONE_ISA): avx2 (default) or scalar. Valgrind has no AVX-512, so the
#          avx512vnni/avx512vbmi kernels cannot be counted here (the CPU valgrind shows lacks them).
#   TOP    how many functions to list (default 12)
# Two runs of `bench` (10 and 30 frames, no warm-up) under callgrind; per-frame figures are their
# difference over 20 frames, so loading the model and the process's start cancel out. Needs a release
# build (`swift build -c release`) and valgrind (apt-get install -y valgrind). About a minute for B0.
# `Bench.run()` in the list is bench's own loop making a fresh synthetic frame (outside its timings).
set -euo pipefail
model=${1:?usage: Benchmarks/callgrind.sh MODEL [ISA] [TOP]}
isa=${2:-avx2}
top=${3:-12}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.build/release/edgebone"
[ -x "$bin" ] || { echo "callgrind.sh: no release build at $bin (swift build -c release)" >&2; exit 1; }
[ -f "$model" ] || { echo "callgrind.sh: no model file $model" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not installed (apt-get install -y valgrind)" >&2; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# Valgrind 3.19 gives up on the Swift toolchain's debug information; symbols are enough.
objcopy --strip-debug "$bin" "$out/edgebone"
for frames in 10 30; do
  echo "callgrind: $frames frames on $isa…" >&2
  EDGEBONE_ISA=$isa valgrind --tool=callgrind --callgrind-out-file="$out/cg.$frames" \
    "$out/edgebone" bench --model "$model" --frames "$frames" --warmup 0 >"$out/bench.$frames" 2>"$out/vg.$frames" \
    || { cat "$out/vg.$frames" >&2; exit 1; }
  # Exclusive instructions per function: "count (share) file:function [object]".
  callgrind_annotate --threshold=100 "$out/cg.$frames" | awk '
    /PROGRAM TOTALS/ { gsub(",", "", $1); print "TOTAL", $1; next }
    $1 ~ /^[0-9,]+$/ && $2 ~ /^\(/ {
      n = $1; gsub(",", "", n)
      f = $0; sub(/^[ ]*[0-9,]+ +\([^)]*\) +/, "", f); sub(/ \[.*$/, "", f); sub(/^.*:/, "", f)
      sum[f] += n
    }
    END { for (f in sum) print f, sum[f] }' >"$out/fn.$frames"
done
head -1 "$out/bench.30" >&2
awk -v top="$top" -v isa="$isa" '
  FNR == 1 { file++ }
  file == 1 { a[$1] = $2; next }
  { b[$1] = $2 }
  END {
    per = (b["TOTAL"] - a["TOTAL"]) / 20
    printf "instructions per frame (%s kernels, callgrind, difference of 30 and 10 frames / 20): %.1f M\n", isa, per / 1e6
    n = 0
    for (f in b) if (f != "TOTAL") { d[f] = (b[f] - a[f]) / 20; names[++n] = f }
    # sort by per-frame count, descending (insertion sort: a few hundred names)
    for (i = 2; i <= n; i++) { v = names[i]; j = i - 1; while (j > 0 && d[names[j]] < d[v]) { names[j + 1] = names[j]; j-- } names[j + 1] = v }
    printf "%14s %7s  %s\n", "per frame", "share", "function"
    for (i = 1; i <= n && i <= top; i++) if (d[names[i]] > 0) printf "%14.0f %6.2f%%  %s\n", d[names[i]], 100 * d[names[i]] / per, names[i]
  }' "$out/fn.10" "$out/fn.30" | if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi
