#!/usr/bin/env bash
# Camera tests against a real kernel driver, without a camera: boots Debian's kernel under qemu
# (software emulation) with the `vivid` test driver and runs `edgebone run --source /dev/video0`
# inside. Scenario 1: frames flow (YUYV) and every JSON line is complete. Scenario 2: the device is
# unplugged mid-stream (driver unbound) and plugged back; the daemon logs the loss, reconnects and
# keeps going. Scenario 3: `v4l2loopback` fed an MJPEG clip by Tests/camera/mjpeg-feeder.c.
# Adapted from ../shared/recipes/v4l2-in-vm.sh. Needs root (apt-get, module tools). About 1 minute.
# usage: Tests/camera/run-camera-tests.sh [path/to/edgebone]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exe=$(readlink -f "${1:-$root/.build/release/edgebone}")
model=$root/Models/efficientnet_lite0.int8.safetensors
[ -x "$exe" ] || { echo "build edgebone first (swift build -c release)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
KVER=${KVER:-$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{sub("linux-image-","",$2); print $2; exit}')}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; cd "$W"
apt-get install -y -q --no-install-recommends qemu-system-x86 busybox-static kmod "linux-headers-$KVER" make gcc >/dev/null
apt-get download -q "linux-image-$KVER" >/dev/null 2>&1
dpkg-deb -x linux-image-"${KVER}"_*.deb k && depmod -b k "$KVER"
mkdir -p r/{bin,dev,proc,sys,mods}
cp /bin/busybox r/bin/
for m in $(modprobe -d k -S "$KVER" --show-depends vivid | awk '{print $2}'); do
  cp "$m" r/mods/; basename "$m" >> r/mods/order
done
# v4l2loopback, built for that kernel from Debian's DKMS source package.
apt-get download -q v4l2loopback-dkms >/dev/null 2>&1
dpkg-deb -x v4l2loopback-dkms_*.deb lb
lbsrc=$(ls -d "$W"/lb/usr/src/v4l2loopback-*)
make -s -C "/usr/src/linux-headers-$KVER" M="$lbsrc" modules >/dev/null 2>&1
cp "$lbsrc/v4l2loopback.ko" r/mods/
gcc -O2 -static -o r/bin/mjpeg-feeder "$root/Tests/camera/mjpeg-feeder.c"
cat "$root/Tests/Fixtures/photos/rocket.jpg" "$root/Tests/Fixtures/photos/astronaut.jpg" > r/bin/clip.mjpeg
cp "$exe" r/bin/edgebone
cp "$model" r/bin/
for l in $(ldd "$exe" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do mkdir -p "r$(dirname "$l")"; cp -L "$l" "r$l"; done
cat > r/test.sh <<'SH'
set -u
fail() { echo "CAMERA TEST FAILED: $*"; exit 1; }
M="--model /bin/efficientnet_lite0.int8.safetensors --summary-interval 0"
echo "== scenario 1: vivid YUYV, 3 frames"
/bin/edgebone run $M --source /dev/video0 --max-frames 3 > /tmp/out1 2> /tmp/err1 || { cat /tmp/err1; fail "exit status"; }
cat /tmp/err1
n=$(grep -c '"inference_ms"' /tmp/out1); [ "$n" = 3 ] || fail "expected 3 JSON lines, got $n"
grep -q '"top":\[{"class":' /tmp/out1 || fail "no top-k in the output"
echo "== scenario 2: the device disappears mid-stream and comes back"
: > /tmp/out2
/bin/edgebone run $M --source /dev/video0 --max-frames 5 > /tmp/out2 2> /tmp/err2 &
pid=$!
# Unplug only once frames flow (the emulated VM may take seconds per frame).
lines() { n=$(grep -c inference_ms /tmp/out2 2>/dev/null); echo "${n:-0}"; }
i=0; while [ "$(lines)" -lt 2 ] && [ $i -lt 900 ]; do sleep 0.2; i=$((i+1)); done
[ "$(lines)" -ge 2 ] || { cat /tmp/err2; fail "no frames before the unplug"; }
# Unplug: unbind the driver from its device (the open node goes away, as with a pulled USB camera),
# wait, plug it back.
echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind || fail "unbind"
sleep 3
echo vivid.0 > /sys/bus/platform/drivers/vivid/bind || fail "bind"
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 900 ]; do sleep 0.2; i=$((i+1)); done
kill -0 $pid 2>/dev/null && { kill $pid; fail "did not finish after the device came back"; }
wait $pid || { cat /tmp/err2; fail "exit status"; }
cat /tmp/err2
n=$(grep -c '"inference_ms"' /tmp/out2); [ "$n" = 5 ] || fail "expected 5 JSON lines, got $n"
grep -q "reopening\|cannot open" /tmp/err2 || fail "the disconnect was not logged"
grep -q "1 reconnects\|[2-9] reconnects" /tmp/err2 || fail "no reconnect counted"
echo "== scenario 3: v4l2loopback fed MJPEG"
insmod /mods/v4l2loopback.ko exclusive_caps=1 || fail "insmod v4l2loopback"
lb=""
for d in /sys/class/video4linux/video*; do grep -qi "dummy\|loopback" $d/name && lb=/dev/$(basename $d); done
[ -n "$lb" ] || fail "no loopback device"
/bin/mjpeg-feeder $lb /bin/clip.mjpeg 640 427 120 &
feeder=$!
sleep 1
/bin/edgebone run $M --source $lb --max-frames 3 > /tmp/out3 2> /tmp/err3 || { cat /tmp/err3; fail "exit status"; }
kill $feeder
cat /tmp/err3
grep -q "MJPEG" /tmp/err3 || fail "not read as MJPEG"
n=$(grep -c '"inference_ms"' /tmp/out3); [ "$n" = 3 ] || fail "expected 3 JSON lines, got $n"
echo "CAMERA TESTS PASSED"
SH
{
  echo '#!/bin/busybox sh'
  echo '/bin/busybox --install -s /bin; mount -t proc p /proc; mount -t sysfs s /sys; mount -t devtmpfs d /dev'
  echo 'mkdir -p /tmp; mount -t tmpfs t /tmp; cd /tmp'
  echo 'for m in $(cat /mods/order); do insmod /mods/$m; done'
  echo 'sh /test.sh'
  echo 'echo "VM_RC=$?"; poweroff -f'
} > r/init
chmod +x r/init
(cd r && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > ../initrd.gz)
timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -cpu max -m "${VM_MEM:-2048}" -nographic -no-reboot \
  -kernel "k/boot/vmlinuz-$KVER" -initrd initrd.gz -append "console=ttyS0 panic=-1 loglevel=3 quiet" \
  | tr -d '\r' | sed -n '/^Booting from ROM/,$p' | grep -v '^Booting from ROM' | tee log.txt
rc=$(sed -n 's/.*VM_RC=\([0-9]*\).*/\1/p' log.txt | tail -1)
exit "${rc:-125}"
