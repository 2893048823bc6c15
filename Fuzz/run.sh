#!/usr/bin/env bash
# Builds the libFuzzer target (Swift -sanitize=fuzzer,address; the C shims with ASan too) and fuzzes
# each parser for a bounded time, starting from the committed seeds (Fuzz/corpus/TARGET) plus what
# earlier runs on this machine found (kept outside the clone). Any crash, sanitizer report, timeout or
# out-of-memory fails the run and names the input that caused it.
# usage: Fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGET...]    targets: model y4m mjpeg image
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(model y4m mjpeg image)
cache=${EDGEBONE_FUZZ_CACHE:-/var/cache/edgebone-fuzz}
mkdir -p "$cache"
echo "fuzz: building (sanitizers: fuzzer, address)" >&2
swift build --scratch-path "$cache/build" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
  -Xcc -fsanitize=fuzzer-no-link,address -Xcc -fsanitize-ignorelist="$PWD/asan-ignore.txt" 2>&1 | grep -E "error|warning: unable|Compiling|Build complete" | tail -3 >&2
exe="$cache/build/debug/edgebone-fuzz"
declare -A max_len=([model]=300000 [y4m]=8192 [mjpeg]=16384 [image]=16384)
failed=0
for t in "${targets[@]}"; do
  work="$cache/corpus/$t" artifacts="$cache/findings/$t"
  mkdir -p "$work" "$artifacts"
  log=$(mktemp)
  status=0
  EDGEBONE_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=0 "$exe" -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "corpus/$t" >"$log" 2>&1 || status=$?
  summary=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -s ' \t' ' ' || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" || true)
  if [ "$status" = 0 ]; then
    echo "fuzz $t: ${seconds} s, ${runs:-?} runs, ${summary#* DONE }"
  else
    failed=$((failed + 1))
    echo "FAIL fuzz $t: exit $status; the input is in $artifacts:" >&2
    grep -E 'ERROR|SUMMARY|Fatal error|crash-|timeout-|oom-|==[0-9]+==' "$log" | head -12 >&2
  fi
  rm -f "$log"
done
[ "$failed" = 0 ] || { echo "FUZZING FOUND $failed PROBLEM(S)" >&2; exit 1; }
echo "FUZZING: no findings"
