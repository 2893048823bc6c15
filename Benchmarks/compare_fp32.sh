#!/usr/bin/env bash
# Edgebone fp32 vs ONNX Runtime fp32 on the same seeded model, interleaved in one run, 1 thread.
# Needs: Tests/Fixtures/make_fixtures.py --full (model + ONNX export) and the reference env python.
# usage: Benchmarks/compare_fp32.sh PYTHON [ARCH] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:?usage: compare_fp32.sh PYTHON [ARCH] [ROUNDS]}; arch=${2:-efficientnet_b0}; rounds=${3:-3}
swift build -c release --product edgebone >/dev/null
for r in $(seq "$rounds"); do
  echo "round $r"
  OPENBLAS_CORETYPE=SkylakeX .build/release/edgebone bench --model "Tests/Fixtures/full/$arch.safetensors" --arch "$arch" --threads 1 --frames 200 --json
  "$py" Benchmarks/ort_bench.py "Tests/Fixtures/full/$arch.onnx" --threads 1 --frames 200
done
