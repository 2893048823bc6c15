#!/usr/bin/env bash
# Cross-compiles the kernels and kernel-tester.c for AArch64 and runs them under qemu-aarch64 on
# three CPU models: cortex-a72 (Pi 4, NEON), cortex-a76 (Pi 5, NEON dot product), max (also i8mm).
# Installs the cross toolchain and qemu-user when missing. Exit status: non-zero on any mismatch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
need=()
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_ apt-get update -q >/dev/null && sudo_ apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
src=$(find "$root/Sources/CEdgeboneKernels" -name '*.c' | sort)
cc=${CC_AARCH64:-clang}
$cc --target=aarch64-linux-gnu -O2 ${SANITIZE:-} -I "$root/Sources/CEdgeboneKernels/include" \
  $src "$root/Tests/aarch64/kernel-tester.c" -o "$out/kernel-tester" -static -lm
status=0
for spec in cortex-a72:neon cortex-a76:neondot max:neondot; do
  cpu=${spec%%:*}; expect=${spec##*:}
  echo "== qemu-aarch64 -cpu $cpu (expect $expect)"
  qemu-aarch64-static -cpu "$cpu" "$out/kernel-tester" "$expect" || status=1
done
exit $status
