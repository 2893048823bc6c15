#!/usr/bin/env bash
# The whole program on AArch64: cross-compiled at native speed, run under qemu-user on the CPUs of a
# Raspberry Pi 4 (cortex-a72: NEON) and Pi 5 (cortex-a76: NEON dot product), and compared with the
# x86-64 build's output.
#
#   Tests/aarch64/whole-program.sh [X86_EDGEBONE]     (default .build/release/edgebone; run as root)
#
# Two Debian trixie roots, made from Debian's packages only and kept outside the clone so that a
# second run reuses them (EDGEBONE_AARCH64_CACHE, default /var/cache/edgebone-aarch64):
#   target/  arm64: swiftlang 6.0.3 (the Swift a board user gets) and the libraries Edgebone links.
#            It is the sysroot of the cross build and the root the binaries run in (qemu via binfmt).
#   cross/   amd64: the same swiftlang 6.0.3, which can compile for aarch64 against target/ (the
#            host's Swift 6.3 cannot: Debian ships arm64 Foundation as 6.0.3 binary modules only).
#            Building inside an emulated root took 93 minutes; this takes minutes.
# The cross build directory (cross/work/build) is kept too, so a second run rebuilds what changed.
#
# Checked under each CPU, against the x86-64 binary on the same inputs:
#   run       the bundled clip: the same classes and scores for every frame
#   classify  the committed photos with the bundled int8 model: logits bit-identical;
#             the tiny float B0 and SwinV2 checkpoints: logits within 1e-4 (relative to the largest)
#   bench     a few frames: the kernels are the ones the CPU has (neon / neondot)
#   inspect   the bundled model's op table
#   quantize  the tiny B0 on the photos: the same layers, SQNR per layer and end-to-end cosine close to
#             x86's; and the AArch64-made model gives bit-identical int8 logits on both machines
# Then `swift test` for AArch64 (a release build with testing enabled) under cortex-a76: every suite but the CLI
# one (EDGEBONE_AARCH64_TESTS=0 leaves it out; EDGEBONE_AARCH64_TEST_CPUS="cortex-a72 cortex-a76" runs it on both).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
x86=$(realpath "${1:-$repo/.build/release/edgebone}")
cache=${EDGEBONE_AARCH64_CACHE:-/var/cache/edgebone-aarch64}
mirror=${EDGEBONE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=trixie
target=$cache/target
cross=$cache/cross
target_packages=(swiftlang libopenblas-dev libjpeg-dev libpng-dev libmosquitto-dev)
cross_packages=(swiftlang libc6-dev pkg-config git ca-certificates)
compare=(python3 "$repo/Tests/aarch64/compare-outputs.py")

log() { printf 'aarch64: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
. "$repo/Tests/aarch64/root-packages.sh"
elapsed() { local s=$((SECONDS - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

[ "$(id -u)" = 0 ] || die "run as root (debootstrapping, chroot and bind mounts need it)"
[ "$(uname -m)" = x86_64 ] || die "this script cross-compiles from x86-64"
[ -x "$x86" ] || die "no x86-64 build at $x86: swift build -c release first"
start=$SECONDS

# --- host packages and binfmt --------------------------------------------------------------------
need=()
for p in qemu-user-static binfmt-support mmdebstrap arch-test debian-archive-keyring rsync python3; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing host packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
bm=/proc/sys/fs/binfmt_misc
[ -e $bm/register ] || mount -t binfmt_misc binfmt_misc $bm
[ -e $bm/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
if [ ! -e $bm/qemu-aarch64 ]; then
  # As Debian's /usr/lib/binfmt.d/qemu-aarch64.conf, with F: the kernel opens qemu now, so it also
  # works inside a root that does not have it.
  printf '%s' ':qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF' >$bm/register
fi
grep -qx enabled $bm/qemu-aarch64 || echo 1 >$bm/qemu-aarch64
grep -q '^flags: .*F' $bm/qemu-aarch64 || die "qemu-aarch64 is registered without the F flag (echo -1 > $bm/qemu-aarch64, then run again)"

# --- the two roots, each made once ---------------------------------------------------------------
unmount_all() {
  local m
  for m in $(awk -v a="$target/" -v b="$cross/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}
trap unmount_all EXIT

make_root() {  # make_root DIR ARCH PACKAGE...: made once; packages added later are installed into it
  local dir=$1 arch=$2; shift 2
  local t=$SECONDS
  if [ -f "$dir/.edgebone-root" ] && [ "$(head -1 "$dir/.edgebone-root")" = "$suite $arch" ]; then
    install_missing "$dir" "$cache/apt-$arch.log" "$@"
    return
  fi
  unmount_all
  rm -rf "$dir" "$dir.partial"
  mkdir -p "$(dirname "$dir")"
  local how="native"
  [ "$arch" = amd64 ] || how="its second stage under qemu: minutes"
  log "making the $arch root at $dir: Debian $suite with $* ($how)"
  mmdebstrap --mode=root --variant=apt --architectures="$arch" --include="$(IFS=,; echo "$*")" \
    "$suite" "$dir.partial" "$mirror" >"$cache/mmdebstrap-$arch.log" 2>&1 \
    || { tail -20 "$cache/mmdebstrap-$arch.log" >&2; die "mmdebstrap failed (log: $cache/mmdebstrap-$arch.log)"; }
  mv "$dir.partial" "$dir"
  echo "$suite $arch" >"$dir/.edgebone-root"
  log "$arch root ready in $(elapsed $t)"
}
make_root "$target" arm64 "${target_packages[@]}"
make_root "$cross" amd64 "${cross_packages[@]}"

bind() {  # bind SRC DST [ro]
  mkdir -p "$2"
  mountpoint -q "$2" || mount --bind "$1" "$2"
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}
for root in "$target" "$cross"; do
  mkdir -p "$root/proc" "$root/dev"
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  bind /dev "$root/dev"
done
bind "$target" "$cross/sysroot" ro
if [ -d /opt/swift-packages ]; then   # this workplace's offline mirror of GitHub packages
  bind /opt/swift-packages "$cross/opt/swift-packages" ro
  printf '[url "/opt/swift-packages/"]\n\tinsteadOf = https://github.com/\n[safe]\n\tdirectory = *\n' >"$cross/etc/gitconfig"
fi

# --- cross build (release), incremental ----------------------------------------------------------
t=$SECONDS
mkdir -p "$cross/work/project"
rsync -a --delete --exclude '.build*' --exclude '.git' --exclude '/Models/generated' "$repo/" "$cross/work/project/"
log "building for aarch64 with $(chroot "$cross" swift --version 2>/dev/null | head -1)"
cross_build() {  # cross_build SCRATCH ARGS...: swift build for aarch64 inside the cross root
  # SwiftPM reads .pc files itself; Debian's openblas.pc is an absolute alternatives link, so its own
  # folder comes first. Runtime libraries are found where the board has them (/usr/libexec/swift).
  set +e
  chroot "$cross" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 \
    PKG_CONFIG_SYSROOT_DIR=/sysroot PKG_CONFIG_LIBDIR=/nonexistent \
    PKG_CONFIG_PATH=/sysroot/usr/lib/aarch64-linux-gnu/openblas-pthread/pkgconfig:/sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:/sysroot/usr/share/pkgconfig \
    swift build --package-path /work/project --scratch-path "$@" \
      --triple aarch64-unknown-linux-gnu --sdk /sysroot \
      -Xswiftc -sdk -Xswiftc /sysroot -Xswiftc -resource-dir -Xswiftc /sysroot/usr/libexec/swift/lib/swift \
      -Xswiftc -use-ld=lld -Xlinker -rpath -Xlinker /usr/libexec/swift/lib/swift/linux \
    2>&1 | grep -v -e 'Could not read SDKSettings.json' -e "Invalid Exclude '/work/project/Models/generated'" >&2
  local status=${PIPESTATUS[0]}
  set -e
  [ "$status" = 0 ] || die "the aarch64 build ($*) failed"
}
cross_build /work/build -c release
log "built in $(elapsed $t)"

# --- run both builds on the same inputs ----------------------------------------------------------
work=$target/work/edgebone
rm -rf "$work" && mkdir -p "$work/out"
# Installed as on a board: the bundled model and sample clip beside the executable.
cp "$cross/work/build/aarch64-unknown-linux-gnu/release/edgebone" "$repo/Models/efficientnet_lite0.int8.safetensors" \
  "$repo/Models/sample.y4m" "$work/"
for d in Models Tests/Fixtures; do
  mkdir -p "$work/repo/$d" && rsync -a --exclude generated "$repo/$d/" "$work/repo/$d/"
done
ex=$(mktemp -d)
trap 'unmount_all; rm -rf "$ex"' EXIT

photos=("$repo"/Tests/Fixtures/photos/*)
arm_photos=("${photos[@]/#$repo//work/edgebone/repo}")
b0=Tests/Fixtures/tiny/efficientnet_b0_tiny.safetensors
swin=Tests/Fixtures/tiny/swinv2_tiny.safetensors
b0_options=(--arch-option channel_multiplier=0.25 --arch-option depth_multiplier=0.3 --arch-option num_classes=100)

on_x86() { (cd "$repo" && "$x86" "$@"); }
on_arm() {  # on_arm CPU ARGS... (inside the target root, under qemu emulating CPU)
  local cpu=$1; shift
  chroot "$target" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 QEMU_CPU="$cpu" \
    /bin/sh -c 'cd /work/edgebone/repo && exec /work/edgebone/edgebone "$@"' edgebone "$@"
}

on_x86 run >"$ex/run.jsonl" 2>"$ex/run.err"
on_x86 classify --logits "$ex/int8.npy" "${photos[@]}" >/dev/null
on_x86 classify --model $b0 --logits "$ex/b0.npy" "${photos[@]}" >/dev/null
on_x86 classify --model $swin --logits "$ex/swin.npy" "${photos[@]}" >/dev/null
on_x86 inspect >"$ex/inspect.txt"
on_x86 quantize --weights $b0 "${b0_options[@]}" --calibration Tests/Fixtures/photos \
  --out "$ex/q.safetensors" --report "$ex/q.json" >/dev/null 2>&1

failures=0
check() {  # check WHAT CMD...: runs a comparison, counts a failure
  local what=$1; shift
  if out=$("$@" 2>&1); then log "  ok  $what: $out"; else log "  FAIL $what: $out"; failures=$((failures + 1)); fi
}
arm_out=/work/edgebone/out
for spec in cortex-a72:neon cortex-a76:neondot; do
  cpu=${spec%%:*} isa=${spec##*:}
  t=$SECONDS
  log "$cpu (expect $isa):"
  o=$work/out/$cpu && mkdir -p "$o"
  a=$arm_out/$cpu
  on_arm "$cpu" run >"$o/run.jsonl" 2>"$o/run.err" || { tail -3 "$o/run.err" >&2; }
  check run "${compare[@]}" run "$ex/run.jsonl" "$o/run.jsonl"
  on_arm "$cpu" classify --logits "$a/int8.npy" "${arm_photos[@]}" >/dev/null 2>"$o/err" || tail -3 "$o/err" >&2
  check "classify int8" "${compare[@]}" logits-exact "$ex/int8.npy" "$o/int8.npy"
  on_arm "$cpu" classify --model $b0 --logits "$a/b0.npy" "${arm_photos[@]}" >/dev/null 2>"$o/err" || tail -3 "$o/err" >&2
  check "classify float B0" "${compare[@]}" logits-close "$ex/b0.npy" "$o/b0.npy" 1e-4
  on_arm "$cpu" classify --model $swin --logits "$a/swin.npy" "${arm_photos[@]}" >/dev/null 2>"$o/err" || tail -3 "$o/err" >&2
  check "classify float SwinV2" "${compare[@]}" logits-close "$ex/swin.npy" "$o/swin.npy" 1e-4
  on_arm "$cpu" bench --frames 3 --warmup 1 --json >"$o/bench.json" 2>"$o/err" || tail -3 "$o/err" >&2
  check bench "${compare[@]}" isa "$o/bench.json" "$isa"
  on_arm "$cpu" inspect >"$o/inspect.txt" 2>"$o/err" || tail -3 "$o/err" >&2
  check inspect "${compare[@]}" inspect "$ex/inspect.txt" "$o/inspect.txt"
  on_arm "$cpu" quantize --weights $b0 "${b0_options[@]}" --calibration Tests/Fixtures/photos \
    --out "$a/q.safetensors" --report "$a/q.json" >/dev/null 2>"$o/err" || tail -3 "$o/err" >&2
  check quantize "${compare[@]}" report "$ex/q.json" "$o/q.json" 0.5 0.002
  if [ -f "$o/q.safetensors" ]; then
    on_arm "$cpu" classify --model "$a/q.safetensors" --logits "$a/q.npy" "${arm_photos[@]}" >/dev/null 2>"$o/err" || tail -3 "$o/err" >&2
    on_x86 classify --model "$o/q.safetensors" --logits "$ex/q-$cpu.npy" "${photos[@]}" >/dev/null
    check "its model on both" "${compare[@]}" logits-exact "$ex/q-$cpu.npy" "$o/q.npy"
  fi
  log "$cpu done in $(elapsed $t)"
done

# --- the test suites under qemu ------------------------------------------------------------------
# Everything but the CLI suite (edgeboneTests: it starts the binary dozens of times, too slow under
# emulation; the comparisons above run the release binary instead). Release: a debug build runs the
# quantizer's tests for tens of minutes under qemu. Fixture paths are compiled
# in (#filePath), so the project and build folders appear at the same paths in the target root.
if [ "${EDGEBONE_AARCH64_TESTS:-1}" = 1 ]; then
  t=$SECONDS
  cross_build /work/build-tests -c release --build-tests -Xswiftc -enable-testing
  log "test build in $(elapsed $t)"
  bind "$cross/work/project" "$target/work/project" ro
  bind "$cross/work/build-tests" "$target/work/build-tests" ro
  # Under cortex-a76 only by default: it runs every kernel test for scalar, neon and neondot (the suites
  # take each ISA the CPU has as an argument), while the comparisons above already ran the whole program
  # on cortex-a72. About 10 minutes a CPU.
  for cpu in ${EDGEBONE_AARCH64_TEST_CPUS:-cortex-a76}; do
    t=$SECONDS
    if chroot "$target" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 QEMU_CPU="$cpu" TMPDIR=/tmp \
         /work/build-tests/aarch64-unknown-linux-gnu/release/EdgebonePackageTests.xctest --testing-library swift-testing \
         --skip '^edgeboneTests\.' >"$work/out/tests-$cpu.log" 2>&1; then
      log "  ok  swift test on $cpu: $(sed -n 's/.*\(Test run with .*\)/\1/p' "$work/out/tests-$cpu.log" | tail -1) ($(elapsed $t))"
    else
      grep -E '✘|Fatal error|error:' "$work/out/tests-$cpu.log" | grep -v skipped | head -20 >&2 || true
      tail -3 "$work/out/tests-$cpu.log" >&2
      log "  FAIL swift test on $cpu (log: $work/out/tests-$cpu.log)"
      failures=$((failures + 1))
    fi
  done
fi

log "total $(elapsed $start)"
[ $failures = 0 ] || die "$failures check(s) failed"
log "the AArch64 build matches the x86-64 build"
