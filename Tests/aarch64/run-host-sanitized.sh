#!/usr/bin/env bash
# Builds kernel-tester.c natively (x86-64 or AArch64 host) with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs every kernel variant this CPU supports against the naive
# references: a read past a buffer (beyond the documented EB_EXTRA_BYTES slack) or UB fails it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
src=$(find "$root/Sources/CEdgeboneKernels" -name '*.c' | sort)
clang -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  -I "$root/Sources/CEdgeboneKernels/include" $src "$root/Tests/aarch64/kernel-tester.c" \
  -o "$out/kernel-tester" -lm 2>/dev/null
best=$(case "$(uname -m)" in x86_64) grep -q avx512_vnni /proc/cpuinfo && { grep -q avx512vbmi /proc/cpuinfo && echo avx512vbmi || echo avx512vnni; } || { grep -q avx2 /proc/cpuinfo && echo avx2 || echo scalar; } ;; *) echo "" ;; esac)
echo "== host kernel tester under ASan+UBSan (expect $best)"
"$out/kernel-tester" $best
