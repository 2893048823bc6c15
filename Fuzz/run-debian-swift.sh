#!/usr/bin/env bash
# Fuzz/run.sh again, built with Debian's Swift 6.0.3 — the compiler and Foundation a Raspberry Pi user
# installs — instead of the development toolchain. Swift 6.0.3's Foundation traps where newer ones
# throw (its JSONDecoder did, on strings with raw control characters), so the parsers are fuzzed with
# the libraries they will meet on a board. Natively on x86-64: inside the amd64 Debian trixie root of
# Tests/aarch64/whole-program.sh (run that first; it holds the same swiftlang 6.0.3 as the arm64 root).
# The corpus and findings stay in that root (/work/fuzz) between runs.
# usage: Fuzz/run-debian-swift.sh [SECONDS_PER_TARGET=60] [TARGET...]    (as root)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${EDGEBONE_AARCH64_CACHE:-/var/cache/edgebone-aarch64}
cross=$cache/cross
log() { printf 'fuzz (Debian Swift): %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (chroot)"
[ -f "$cross/.edgebone-root" ] || die "no amd64 root at $cross: run Tests/aarch64/whole-program.sh first"

mounts=()
cleanup() { local i; for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
bind() {  # bind SRC DST
  mkdir -p "$2"
  mountpoint -q "$2" || { mount --bind "$1" "$2" && mounts+=("$2"); }
}
mountpoint -q "$cross/proc" || { mount -t proc proc "$cross/proc" && mounts+=("$cross/proc"); }
bind /dev "$cross/dev"
if [ -d /opt/swift-packages ]; then   # this workplace's offline mirror of GitHub packages
  bind /opt/swift-packages "$cross/opt/swift-packages"
  printf '[url "/opt/swift-packages/"]\n\tinsteadOf = https://github.com/\n[safe]\n\tdirectory = *\n' >"$cross/etc/gitconfig"
fi

# The libraries Edgebone links, for x86-64 this time (the cross build links the arm64 ones), and the C++
# library the sanitizer runtimes link.
. "$repo/Tests/aarch64/root-packages.sh"
install_missing "$cross" "$cache/apt-fuzz.log" libopenblas-dev libjpeg-dev libpng-dev libmosquitto-dev libstdc++-14-dev

mkdir -p "$cross/work/fuzz-project"
rsync -a --delete --exclude '.build*' --exclude '.git' --exclude '/Models/generated' "$repo/" "$cross/work/fuzz-project/"
log "$(chroot "$cross" swift --version 2>/dev/null | head -1)"
chroot "$cross" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 EDGEBONE_FUZZ_CACHE=/work/fuzz \
  bash /work/fuzz-project/Fuzz/run.sh "$@"
