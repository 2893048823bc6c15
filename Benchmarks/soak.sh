#!/usr/bin/env bash
# Soak test: `edgebone run --loop` on a clip for SECONDS (default 600), resident memory sampled every
# 30 s, then SIGTERM; prints the RSS samples and the daemon's final summary.
# usage: Benchmarks/soak.sh [SECONDS] [SOURCE]     (release build)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}; source=${2:-Models/sample.y4m}
swift build -c release --product edgebone >/dev/null
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
.build/release/edgebone run --source "$source" --loop --summary-interval 120 --metrics-file "$out/metrics.prom" >/dev/null 2>"$out/err" &
pid=$!
echo "seconds rss_kb"
for ((t = 0; t <= seconds; t += 30)); do
  echo "$t $(awk '/VmRSS/{print $2}' /proc/$pid/status)"
  sleep 30
done
kill -TERM $pid
wait $pid && echo "exit 0"
tail -3 "$out/err"
