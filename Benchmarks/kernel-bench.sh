#!/usr/bin/env bash
# Builds and runs the int8 kernel benchmark (one core). usage: Benchmarks/kernel-bench.sh [ISA]
# With AARCH64=1 it cross-compiles and runs under qemu-aarch64 (correct, but qemu timings mean nothing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
src=$(find "$root/Sources/CEdgeboneKernels" -name '*.c' | sort)
if [ "${AARCH64:-0}" = 1 ]; then
  clang --target=aarch64-linux-gnu -O2 -I "$root/Sources/CEdgeboneKernels/include" $src "$root/Benchmarks/kernels/kernel-bench.c" -o "$out/kb" -static -lm
  exec qemu-aarch64-static -cpu "${QEMU_CPU:-cortex-a76}" "$out/kb" "$@"
fi
clang -O2 -I "$root/Sources/CEdgeboneKernels/include" $src "$root/Benchmarks/kernels/kernel-bench.c" -o "$out/kb" -lm
"$out/kb" "$@"
