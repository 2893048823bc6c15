#!/usr/bin/env bash
# Instructions per frame on the CPUs of a Raspberry Pi 4 (cortex-a72) and Pi 5 (cortex-a76), counted
# exactly under qemu with a TCG plugin of our own (insn-count.c): Edgebone's AArch64 build beside
# ONNX Runtime's aarch64 wheel on the same seeded EfficientNet-B0 and Lite0, one thread each.
#
#   Benchmarks/aarch64/insn-count.sh PYTHON        (PYTHON: the reference environment's python)
#
# Needs the roots and the cross build of Tests/aarch64/whole-program.sh (run it first), the x86-64
# release build (.build/release/edgebone, which quantizes: a model file gives bit-identical results on
# both machines) and the seeded full-size fixtures (Tests/Fixtures/make_fixtures.py --full).
# A frame's count is (count of a run with 4 frames - count with 2 frames) / 2: start-up, model
# loading, graph optimization and the first frame cancel out; the counts are deterministic.
# Edgebone's side is `edgebone bench` on synthetic frames (its own frame synthesis is left out of the
# count); ONNX Runtime's is `session.run` on one float tensor (ort-frames.py), its QuantizeLinear
# included in the graph as Edgebone's pixel conversion is in its network.
# Environment: EDGEBONE_AARCH64_CACHE (default /var/cache/edgebone-aarch64), INSN_CPUS (default
# "cortex-a72 cortex-a76"). Results: $cache/insn-count/runs/*.tsv and the tables printed at the end.
set -euo pipefail
python=${1:?usage: insn-count.sh PYTHON (the reference environment: ../shared/recipes/refenv.sh)}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${EDGEBONE_AARCH64_CACHE:-/var/cache/edgebone-aarch64}
target=$cache/target
binary=$cache/cross/work/build/aarch64-unknown-linux-gnu/release/edgebone
work=$cache/insn-count
cpus=${INSN_CPUS:-cortex-a72 cortex-a76}

log() { printf 'insn-count: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (chroot)"
[ -d "$target/usr/libexec/swift" ] && [ -x "$binary" ] ||
  die "no arm64 root or cross build under $cache: run Tests/aarch64/whole-program.sh first"
[ -x "$repo/.build/release/edgebone" ] || die "no x86-64 build: swift build -c release first"
for f in efficientnet_b0 tf_efficientnet_lite0; do
  [ -f "$repo/Tests/Fixtures/full/$f.onnx" ] ||
    die "no Tests/Fixtures/full/$f.onnx: $python Tests/Fixtures/make_fixtures.py --full first"
done

# qemu-user with plugin support is Debian's dynamic qemu-user (qemu-user-static cannot load plugins).
need=()
for p in qemu-user gcc; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing host packages: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# The x86-64 qemu, its libraries and the plugin go into the arm64 root, so that the guest sees that
# root as / (its absolute symlinks, such as Debian's alternatives for libopenblas, resolve).
tools=$target/opt/insn-count
mkdir -p "$tools" "$work/runs" "$target/tmp/insn-count"
cp /usr/bin/qemu-aarch64 "$tools/"
for lib in $(ldd /usr/bin/qemu-aarch64 | awk '/=>/ {print $3} /ld-linux-x86-64/ {print $1}'); do cp -L "$lib" "$tools/"; done
gcc -O2 -shared -fPIC -Wall -Wextra -Werror -o "$tools/insn-count.so" "$here/insn-count.c"
cp "$here/ort-frames.py" "$target/tmp/insn-count/"

# ONNX Runtime's side runs the root's python3, which the root of whole-program.sh does not carry.
. "$repo/Tests/aarch64/root-packages.sh"
install_missing "$target" "$cache/apt-arm64-insn.log" python3

if [ ! -d "$target/opt/ort-py/onnxruntime" ]; then
  log "ONNX Runtime's aarch64 wheel into the arm64 root (/opt/ort-py)"
  pyver=$(chroot "$target" python3 -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
  "$python" -m pip install -q --target "$target/opt/ort-py" --platform manylinux_2_28_aarch64 \
    --platform manylinux2014_aarch64 --python-version "$pyver" --implementation cp --abi "cp$pyver" \
    --only-binary=:all: onnxruntime numpy
fi
ort_version=$(chroot "$target" /usr/bin/env -i PYTHONPATH=/opt/ort-py python3 -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null)

models=$work/models
stamp="$(sha256sum "$repo/.build/release/edgebone" "$here/prepare-models.py" "$repo"/Tests/Fixtures/full/*.onnx | sha256sum | cut -c1-16)"
if [ "$(cat "$models/stamp" 2>/dev/null)" != "$stamp" ]; then
  log "making the models (Edgebone int8, ONNX Runtime QDQ int8) on x86-64"
  rm -rf "$models"
  "$python" "$here/prepare-models.py" "$repo/.build/release/edgebone" "$models"
  echo "$stamp" >"$models/stamp"
fi
cp "$models"/*.int8.safetensors "$models"/*.onnx "$target/tmp/insn-count/"
cp "$binary" "$target/tmp/insn-count/edgebone"

mountpoint -q "$target/proc" || mount -t proc proc "$target/proc"
trap 'umount -l "$target/proc" 2>/dev/null || true' EXIT

# count CPU NAME FRAMES COMMAND...: one counted run inside the arm64 root.
count() {
  local cpu=$1 name=$2 frames=$3
  shift 3
  chroot "$target" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 PYTHONPATH=/opt/ort-py PYTHONHASHSEED=0 SWIFT_DETERMINISTIC_HASHING=1 \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
    /opt/insn-count/ld-linux-x86-64.so.2 --library-path /opt/insn-count /opt/insn-count/qemu-aarch64 \
    -cpu "$cpu" -plugin "/opt/insn-count/insn-count.so,out=/tmp/insn-count/run.tsv" "$@" >/dev/null 2>"$work/stderr" ||
    { cat "$work/stderr" >&2; die "$name failed under $cpu"; }
  mv "$target/tmp/insn-count/run.tsv" "$work/runs/$cpu.$name.$frames.tsv"
}

for cpu in $cpus; do
  for arch in efficientnet_b0 tf_efficientnet_lite0; do
    for frames in 2 4; do
      log "$cpu $arch: Edgebone, $frames frames"
      count "$cpu" "$arch.edgebone" $frames /tmp/insn-count/edgebone bench --model "/tmp/insn-count/$arch.int8.safetensors" \
        --threads 1 --warmup 0 --frames $frames
      for tag in s8s8 u8s8; do
        log "$cpu $arch: ONNX Runtime $ort_version QDQ $tag, $frames frames"
        count "$cpu" "$arch.ort-$tag" $frames /usr/bin/python3 /tmp/insn-count/ort-frames.py "/tmp/insn-count/$arch.$tag.onnx" $frames
      done
    done
  done
done
python3 "$here/insn-report.py" "$work/runs" "ONNX Runtime $ort_version"
