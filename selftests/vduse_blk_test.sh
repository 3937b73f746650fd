#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl vduse serve blk: a file served as a virtio-blk device over VDUSE,
# added through the vduse management device and bound to virtio_vdpa, so
# that the kernel's own virtio_blk reads and writes it.  A 1 MiB pattern
# written with O_DIRECT to /dev/vdX is read back identical, after
# drop_caches too, and is in the image file at its offset.  Then the
# lifecycle (vdpa del, SIGTERM: exit 0, nothing left) and the failures: a
# read-only disk refuses writes, a missing file, a bad name, a name in use.
# KTAP output with a Totals line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
V=${BUILD:-$top/build}/bin/vhostctl
. "$top/selftests/vduse_lib.bash"
pass=0 fail=0 skip=0 n=0
total=13
pids=()

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
		pass=$((pass + 1))
	else
		echo "not ok $n $2"
		fail=$((fail + 1))
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
	skip=$((skip + 1))
}

cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for d in vb0 vb1 vb2; do
		$V vdpa del $d >/dev/null 2>&1
	done
	umount "$tmp/mnt" 2>/dev/null
	rm -rf "$tmp"
}

# until SECS CMD...: retry CMD every 0.1 s for SECS seconds.
# serve NAME LOG ARGS...: start the daemon, wait until it serves; its pid in $spid.
serve() {
	local name=$1 log=$2
	shift 2
	$V vduse serve blk name "$name" "$@" >"$log" 2>&1 &
	spid=$!
	pids+=("$spid")
	until_ok 10 grep -q "serving blk $name" "$log"
}

echo "TAP version 13"
echo "1..$total"
modprobe -q -a vdpa vduse vhost_vdpa virtio_vdpa virtio_blk
tmp=$(mktemp -d)
trap cleanup EXIT
mkdir "$tmp/mnt"
img=$tmp/disk.img
truncate -s 16M "$img"
head -c 1M /dev/urandom >"$tmp/pattern"

# 1: the daemon creates the VDUSE device.
serve vb0 "$tmp/s0" file "$img" && [ -c /dev/vduse/vb0 ]
ok $? "vduse serve blk name vb0 file IMG: /dev/vduse/vb0 $(tail -n 1 "$tmp/s0")"
srv0=$spid

# 2: added through the vduse management device, a block device.
$V vdpa add name vb0 mgmtdev vduse 2>"$tmp/e" &&
	$V -j vdpa show vb0 >"$tmp/show.json" &&
	grep -q '"mgmtdev": *"vduse"' "$tmp/show.json" && grep -q '"type": *"block"' "$tmp/show.json"
ok $? "vdpa add name vb0 mgmtdev vduse: $(cat "$tmp/e" "$tmp/show.json" | tr -d '\n')"

# 3: bound to virtio_vdpa, virtio_blk shows the image's size.
dev=
bind_virtio vb0 && until_ok 10 disk vb0 >/dev/null && dev=$(disk vb0) &&
	[ "$(blockdev --getsize64 "$dev")" = $((16 << 20)) ] && [ "$(blockdev --getro "$dev")" = 0 ]
ok $? "bound to virtio_vdpa: ${dev:-no disk}, 16 MiB, writable"

# 4: the acceptance: 1 MiB O_DIRECT at 3 MiB, written and read back identical.
r=1
if [ -n "$dev" ]; then
	dd if="$tmp/pattern" of="$dev" bs=1M seek=3 count=1 oflag=direct conv=fsync status=none &&
		dd if="$dev" of="$tmp/back" bs=1M skip=3 count=1 iflag=direct status=none &&
		cmp -s "$tmp/pattern" "$tmp/back"
	r=$?
fi
ok $r "1 MiB O_DIRECT pattern written to $dev and read back identical"

# 5: again after drop_caches; the image file holds it at 3 MiB, zeros before.
why="no disk"
if [ -n "$dev" ]; then
	sync && echo 3 >/proc/sys/vm/drop_caches
	if ! dd if="$dev" of="$tmp/back2" bs=1M skip=3 count=1 iflag=direct status=none ||
		! cmp -s "$tmp/pattern" "$tmp/back2"; then
		why="read back after drop_caches differs"
	elif ! dd if="$img" of="$tmp/file3" bs=1M skip=3 count=1 status=none ||
		! cmp -s "$tmp/pattern" "$tmp/file3"; then
		why="the image file does not hold the pattern at 3 MiB"
	elif [ "$(dd if="$img" bs=1M count=3 status=none | tr -d '\0' | wc -c)" != 0 ]; then
		why="the image file's first 3 MiB are not zero"
	else
		why=
	fi
fi
[ -z "$why" ]
ok $? "after drop_caches: read back identical; the image file holds the pattern at 3 MiB${why:+: $why}"

# 6: a file system on it: mkfs.ext4, mount, write, remount, read.
# ext4 asks the crypto API for crc32c: the generic module serves it
modprobe -q -a crc32c_generic ext4
if ! command -v mkfs.ext4 >/dev/null; then
	skip "ext4 on the VDUSE disk" "no mkfs.ext4"
elif ! grep -qw ext4 /proc/filesystems; then
	skip "ext4 on the VDUSE disk" "no ext4 in the kernel"
elif [ -z "$dev" ]; then
	ok 1 "ext4 on the VDUSE disk: no disk"
else
	mkfs.ext4 -q -F "$dev" >"$tmp/e" 2>&1 && mount "$dev" "$tmp/mnt" &&
		cp "$tmp/pattern" "$tmp/mnt/p" && umount "$tmp/mnt" &&
		echo 3 >/proc/sys/vm/drop_caches && mount -o ro "$dev" "$tmp/mnt" &&
		cmp -s "$tmp/pattern" "$tmp/mnt/p" && umount "$tmp/mnt"
	ok $? "ext4 on $dev: made, mounted, a file written and read back after a remount $(cat "$tmp/e")"
fi

# 7: vdpa del takes the disk away; SIGTERM: exit 0, stats, nothing left.
$V vdpa del vb0 && ! [ -e /sys/bus/vdpa/devices/vb0 ] && ! [ -b "${dev:-/nonexistent}" ]
r=$?
kill -TERM $srv0
wait $srv0
rc=$?
[ $r = 0 ] && [ $rc = 0 ] && grep -q '^SIGTERM: name vb0 requests [0-9]* failed 0 ' "$tmp/s0" &&
	! [ -e /dev/vduse/vb0 ] && ! [ -e /sys/class/vduse/vb0 ]
ok $? "vdpa del vb0, then SIGTERM: exit $rc, $(tail -n 1 "$tmp/s0"), no VDUSE device left"

# 8: read-only: the kernel's disk is read-only, a write fails, the file is unchanged.
sum=$(md5sum <"$img")
dev=
serve vb1 "$tmp/s1" file "$img" readonly && srv1=$spid && $V vdpa add name vb1 mgmtdev vduse &&
	bind_virtio vb1 && until_ok 10 disk vb1 >/dev/null && dev=$(disk vb1)
r=$?
[ $r = 0 ] && [ "$(blockdev --getro "$dev")" = 1 ] &&
	! dd if="$tmp/pattern" of="$dev" bs=1M count=1 oflag=direct status=none 2>"$tmp/e" &&
	dd if="$dev" of="$tmp/back3" bs=1M skip=3 count=1 iflag=direct status=none &&
	cmp -s "$tmp/pattern" "$tmp/back3" && [ "$(md5sum <"$img")" = "$sum" ]
ok $? "readonly: ${dev:-no disk} is read-only, a write fails ($(head -c 80 "$tmp/e")), reads work, the file is unchanged"

# 9: SIGTERM while still bound: the daemon deletes the vDPA device itself.
r=1
if [ -n "${srv1:-}" ]; then
	kill -TERM $srv1
	wait $srv1
	r=$?
fi
[ $r = 0 ] && ! [ -e /sys/bus/vdpa/devices/vb1 ] && ! [ -e /dev/vduse/vb1 ] &&
	{ [ -z "$dev" ] || ! [ -b "$dev" ]; }
ok $? "SIGTERM while bound: exit $r, the vDPA and VDUSE devices are gone"

# 10: a missing file: exit 1, the file named, no device made.
$V vduse serve blk name vb2 file "$tmp/missing.img" >"$tmp/o" 2>"$tmp/e"
rc=$?
[ $rc = 1 ] && grep -q "missing.img" "$tmp/e" && ! [ -e /dev/vduse/vb2 ]
ok $? "missing file: exit $rc, $(cat "$tmp/e")"

# 11: a bad name, refused before /dev/vduse is touched.
$V vduse serve blk name a/b file "$img" 2>"$tmp/e"
rc=$?
[ $rc = 1 ] && grep -q 'Invalid name "a/b"' "$tmp/e" && [ -z "$(ls /dev/vduse | grep -v control)" ]
ok $? "bad name: exit $rc, $(cat "$tmp/e")"

# 12: a name in use: the second daemon exits 1, the first keeps serving.
serve vb2 "$tmp/s2" size 1M
r=$?
srv2=$spid
$V vduse serve blk name vb2 size 1M 2>"$tmp/e"
rc=$?
[ $r = 0 ] && [ $rc = 1 ] && grep -q 'exists' "$tmp/e" && [ -c /dev/vduse/vb2 ] &&
	kill -0 $srv2
ok $? "a name in use: exit $rc, $(cat "$tmp/e")"

# 13: usage errors name the keyword; SIGINT ends the first daemon cleanly.
$V vduse serve blk name vb3 file "$img" size 1M 2>"$tmp/e1"
r1=$?
$V vduse serve blk name vb3 size 1M queues 17 2>"$tmp/e2"
r2=$?
$V vduse serve blk name vb3 size 1M bogus 2>"$tmp/e3"
r3=$?
kill -INT $srv2
wait $srv2
rc=$?
[ $r1 = 1 ] && [ $r2 = 1 ] && [ $r3 = 1 ] && grep -q '"file" and "size"' "$tmp/e1" &&
	grep -q 'Invalid queues "17"' "$tmp/e2" && grep -q 'Unknown option "bogus"' "$tmp/e3" &&
	! [ -e /dev/vduse/vb3 ] && [ $rc = 0 ] && grep -q '^SIGINT: name vb2' "$tmp/s2" &&
	! [ -e /dev/vduse/vb2 ]
ok $? "usage errors: $(cat "$tmp/e1" "$tmp/e2" "$tmp/e3" | tr '\n' ';'); SIGINT: exit $rc"
pids=()

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]
