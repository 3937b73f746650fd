#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Block IOPS through VDUSE, against the in-kernel path through our module
# and against the same device over vhost-user, in the test VM (as root):
#   tools/vm/run -- bench/vduse_blk.sh [COUNT] [REPS]
# Both are a 64 MiB RAM disk under the kernel's own virtio_blk through
# virtio_vdpa: "vduse" is vhostctl vduse serve blk (the vhost-user backend's
# block device served over VDUSE by a process), "kmod" is the module's
# vhostctl_sim_blk (the device in the kernel).  Each repetition times COUNT
# 4 KiB O_DIRECT reads, then writes, with dd on each device in turn; the
# ratio is vduse/kmod IOPS (median of the per-repetition ratios; higher is
# better for VDUSE).  "vhost-user" is the same block device served over
# vhost-user to our own userspace driver, one request at a time as dd
# issues them (bench/vu_blk_loop: COUNT writes, then COUNT reads checked);
# the second ratio is vduse/vhost-user IOPS.  Then the VDUSE server's system calls per request,
# counted by strace -c over one more read run.  Under TCG and on a shared
# machine the absolute figures mean little; the ratios are the result.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
V=${BUILD:-$top/build}/bin/vhostctl
U=${BUILD:-$top/build}/bench/vu_blk_loop
. "$top/selftests/vduse_lib.bash"
count=${1:-3000}
reps=${2:-3}
tmp=$(mktemp -d)
srv=

cleanup() {
	[ -n "$srv" ] && kill -TERM "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	$V vdpa del bkm >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# iops DEV read|write: COUNT 4 KiB O_DIRECT requests, requests per second.
iops() {
	local t0 t1
	t0=$(date +%s%N)
	if [ "$2" = read ]; then
		dd if="$1" of=/dev/null bs=4k count="$count" iflag=direct status=none
	else
		dd if=/dev/zero of="$1" bs=4k count="$count" oflag=direct status=none
	fi
	t1=$(date +%s%N)
	echo $((count * 1000000000 / (t1 - t0)))
}

modprobe -q -a vdpa vduse vhost_vdpa virtio_vdpa virtio_blk vhostctl_sim || {
	echo "SKIP: modules"
	exit 77
}
$V vduse serve blk name bvd size 64M >"$tmp/s" 2>&1 &
srv=$!
until_ok 10 grep -q "serving blk bvd" "$tmp/s" && $V vdpa add name bvd mgmtdev vduse &&
	bind_virtio bvd && until_ok 10 disk bvd >/dev/null || { echo "FAIL: vduse device"; exit 1; }
$V vdpa add name bkm mgmtdev vhostctl_sim_blk && bind_virtio bkm &&
	until_ok 10 disk bkm >/dev/null || { echo "FAIL: module device"; exit 1; }
dv=$(disk bvd) dk=$(disk bkm)
echo "# vduse $dv, kmod $dk; $count requests of 4 KiB, $reps repetitions"
[ -x "$U" ] || { echo "FAIL: $U not built (make -C bench)"; exit 1; }
for op in read write; do
	ratios=() uratios=()
	for r in $(seq "$reps"); do
		a=$(iops "$dv" $op) b=$(iops "$dk" $op)
		c=$("$U" "$count" | awk -v op=$op '$1 == op { print $2 }')
		[ -n "$c" ] || { echo "FAIL: vu_blk_loop"; exit 1; }
		echo "# $op rep $r: vduse $a IOPS, kmod $b IOPS, vhost-user $c IOPS"
		ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')")
		uratios+=("$(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.3f", a / c }')")
	done
	echo "$op: vduse/kmod IOPS ratio $(median "${ratios[@]}") (per repetition: ${ratios[*]})"
	echo "$op: vduse/vhost-user IOPS ratio $(median "${uratios[@]}") (per repetition: ${uratios[*]})"
done
if command -v strace >/dev/null; then
	strace -c -f -p "$srv" -o "$tmp/sc" &
	st=$!
	sleep 1
	dd if="$dv" of=/dev/null bs=4k count="$count" iflag=direct status=none
	kill -INT $st
	wait $st
	calls=$(awk '$NF == "total" { print $4 }' "$tmp/sc")
	echo "syscalls per 4 KiB read request (VDUSE server): $(awk -v c="$calls" -v n="$count" 'BEGIN { printf "%.2f", c / n }') ($calls for $count)"
	grep -E '^ +[0-9]' "$tmp/sc" | sort -k4 -n -r | head -n 6 | awk '{ print "#  " $NF ": " $4 }'
fi
$V vdpa del bkm
