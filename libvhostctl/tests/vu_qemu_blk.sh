#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# QEMU's vhost-user-blk-pci (a frontend nobody here wrote) against
# libvhostctl's block backend (tests/helpers/vu_be blk on an image file),
# with a Linux guest under software emulation (TCG, never KVM): Debian's
# 6.12 kernel (tools/vm/kernel.sh) and a busybox initramfs made here whose
# init loads virtio_blk, reports the disk's size, reads the marker we put at
# sector 0 and at the last sector, writes one of its own at sector 100,
# writes 4 MiB of random bytes at 1 MiB, drops its caches and reads them
# back, and powers off.  Checked: the guest saw a disk of the image's size
# and read our markers; its 4 MiB read back with the same md5; the image
# file holds the guest's marker and its 4 MiB.  Guest memory is a
# shared memfd, as vhost-user needs.
. "$(dirname "$0")/vu_lib.bash"
vu_need qemu-system-x86_64 "Debian package qemu-system-x86"
[ -x /bin/busybox ] || vu_skip "/bin/busybox is missing (Debian package busybox-static)"
vu_need cpio
vu_need xz
top=$(cd "$(dirname "$0")/../.." && pwd)
kenv=$("$top/tools/vm/kernel.sh" 2>"$VU_TMP/kernel.err") || { cat "$VU_TMP/kernel.err" >&2; vu_fail "tools/vm/kernel.sh: no test kernel"; }
eval "$kenv"
ko=$MODDIR/kernel/drivers/block/virtio_blk.ko.xz
[ -f "$ko" ] || vu_fail "$ko is missing"

# The disk: 32 MiB, our markers at sector 0 and at the last sector.
img=$VU_TMP/disk.img
sock=$VU_TMP/vu-blk.sock
token=$RANDOM$RANDOM
truncate -s 32M "$img"
printf 'VHOSTCTL-FIRST-%s\n' "$token" | dd of="$img" bs=512 seek=0 conv=notrunc,sync status=none
printf 'VHOSTCTL-LAST-%s\n' "$token" | dd of="$img" bs=512 seek=$((32 * 2048 - 1)) conv=notrunc,sync status=none

# The initramfs: busybox, virtio_blk, an init that reports on the console.
stage=$VU_TMP/initramfs
mkdir -p "$stage"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$stage/bin/busybox"
xz -dc "$ko" >"$stage/virtio_blk.ko"
cat >"$stage/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "guest: $*" >/dev/console; }
insmod /virtio_blk.ko || say "insmod failed"
for i in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.1; done
if [ -b /dev/vda ]; then
	n=$(cat /sys/block/vda/size)
	say "vda sectors $n ro $(cat /sys/block/vda/ro)"
	say "sector 0: $(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -n 1)"
	say "last sector: $(dd if=/dev/vda bs=512 skip=$((n - 1)) count=1 2>/dev/null | head -n 1)"
	echo "GUEST-WROTE-$(cat /proc/sys/kernel/random/boot_id)" >/tmp/m
	dd if=/tmp/m of=/dev/vda bs=512 seek=100 conv=sync,fsync 2>/dev/null && say "wrote sector 100: $(cat /tmp/m)"
	dd if=/dev/urandom of=/tmp/r bs=1M count=4 2>/dev/null
	dd if=/tmp/r of=/dev/vda bs=1M seek=1 conv=fsync 2>/dev/null
	echo 3 >/proc/sys/vm/drop_caches
	blockdev --flushbufs /dev/vda
	say "4 MiB at 1 MiB: wrote $(md5sum </tmp/r | cut -c1-32) read $(dd if=/dev/vda bs=1M skip=1 count=4 2>/dev/null | md5sum | cut -c1-32)"
	say "done"
else
	say "no /dev/vda"
fi
sync
poweroff -f
EOF
chmod +x "$stage/init"
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$VU_TMP/initramfs.gz"

vu_bg "$VU_TMP/be.out" "$VU_BE" blk -l "$sock" -f "$img"
be=$VU_LAST
vu_wait_for 5 grep -q ready "$VU_TMP/be.out" || { vu_show "$VU_TMP/be.out"; vu_fail "backend did not start"; }

start=$(date +%s)
timeout -k 5 50 qemu-system-x86_64 -accel tcg -cpu max -m 512M -smp 1 \
	-object memory-backend-memfd,id=mem,size=512M,share=on -machine pc,memory-backend=mem \
	-nodefaults -no-user-config -nographic -no-reboot -nic none \
	-chardev socket,id=vu,path="$sock" -device vhost-user-blk-pci,chardev=vu,num-queues=1 \
	-kernel "$VMLINUZ" -initrd "$VU_TMP/initramfs.gz" \
	-append "console=ttyS0 loglevel=4 panic=-1 rdinit=/init" \
	-serial file:"$VU_TMP/console.log" >"$VU_TMP/qemu.out" 2>&1
rc=$?
secs=$(($(date +%s) - start))
vu_stop "$be"
grep -o 'guest:.*' "$VU_TMP/console.log" | tr -d '\r'
echo "qemu exit $rc after ${secs}s; backend: $(tail -n 1 "$VU_TMP/be.out")"
fail() { vu_show "$VU_TMP/qemu.out" "$VU_TMP/console.log" "$VU_TMP/be.out"; vu_fail "$*"; }
[ "$rc" = 0 ] || fail "qemu exit $rc"
grep -q "guest: vda sectors 65536 ro 0" "$VU_TMP/console.log" || fail "the guest did not see a 32 MiB writable disk"
grep -q "guest: sector 0: VHOSTCTL-FIRST-$token" "$VU_TMP/console.log" || fail "the guest did not read our sector 0"
grep -q "guest: last sector: VHOSTCTL-LAST-$token" "$VU_TMP/console.log" || fail "the guest did not read our last sector"
wrote=$(sed -n 's/.*guest: wrote sector 100: \(GUEST-WROTE-[0-9a-f-]*\).*/\1/p' "$VU_TMP/console.log" | tr -d '\r')
[ -n "$wrote" ] || fail "the guest did not write"
got=$(dd if="$img" bs=512 skip=100 count=1 status=none | head -n 1)
[ "$got" = "$wrote" ] || fail "sector 100 of the image holds '$got', the guest wrote '$wrote'"
w=$(sed -n 's/.*guest: 4 MiB at 1 MiB: wrote \([0-9a-f]*\) read.*/\1/p' "$VU_TMP/console.log")
r=$(sed -n 's/.*guest: 4 MiB at 1 MiB: wrote [0-9a-f]* read \([0-9a-f]*\).*/\1/p' "$VU_TMP/console.log")
[ -n "$w" ] && [ "$w" = "$r" ] || fail "the guest's 4 MiB did not read back (wrote $w, read $r)"
h=$(dd if="$img" bs=1M skip=1 count=4 status=none | md5sum | cut -c1-32)
[ "$h" = "$w" ] || fail "the image holds $h at 1 MiB, the guest wrote $w"
grep -q "errors 0" "$VU_TMP/be.out" || fail "the backend saw protocol errors"
echo "PASS: QEMU vhost-user-blk-pci + Linux guest (TCG) <-> libvhostctl block backend"
