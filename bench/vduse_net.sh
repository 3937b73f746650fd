#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Frames per second through VDUSE, against the in-kernel path through our
# module and against the same device over vhost-user, in the test VM (as
# root):
#   tools/vm/run -- bench/vduse_net.sh [COUNT] [REPS]
# Both are a loopback net device under the kernel's own virtio_net through
# virtio_vdpa: "vduse" is vhostctl vduse serve net (the vhost-user backend's
# loopback net device served over VDUSE by a process), "kmod" is the
# module's vhostctl_sim_net (the device in the kernel), and "vhost-user" is
# the same loopback device as "vduse" served over vhost-user to our own
# userspace driver (bench/vu_loop, a ring of 32).  Each repetition sends
# COUNT frames of 64 and of 1500 bytes out of each interface in turn with
# bench/net_loop (32 in flight, each one checked when it comes back), then
# through vu_loop; the ratios are vduse/kmod and vduse/vhost-user frames
# per second (medians of the per-repetition ratios; higher is better for
# VDUSE).  Then the VDUSE server's system calls
# per frame, counted by strace -c over one more 64-byte run.  Under TCG and
# on a shared machine the absolute figures mean little; the ratios are the
# result.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$top/build}
V=$B/bin/vhostctl
L=$B/bench/net_loop
U=$B/bench/vu_loop
. "$top/selftests/vduse_lib.bash"
count=${1:-5000}
reps=${2:-3}
tmp=$(mktemp -d)
srv=

cleanup() {
	[ -n "$srv" ] && kill -TERM "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	$V vdpa del nkm >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# netif NAME: the interface virtio_net made of vDPA device NAME, up.
netif() {
	local n
	n=$(ls /sys/bus/vdpa/devices/"$1"/virtio*/net/ 2>/dev/null | head -n 1)
	[ -n "$n" ] || return 1
	sysctl -qw "net.ipv6.conf.$n.disable_ipv6=1" 2>/dev/null
	ip link set "$n" up && echo "$n"
}

# fps IFNAME SIZE: frames per second, or nothing when a frame was lost.
fps() {
	"$L" "$1" "$count" "$2" >"$tmp/l" || { cat "$tmp/l" >&2; return 1; }
	awk '{ print $(NF - 5) }' "$tmp/l"
}


[ -x "$L" ] && [ -x "$U" ] || { echo "FAIL: $L or $U not built (make -C bench)"; exit 1; }
modprobe -q -a vdpa vduse vhost_vdpa virtio_vdpa virtio_net vhostctl_sim || {
	echo "SKIP: modules"
	exit 77
}
$V vduse serve net name nvd >"$tmp/s" 2>&1 &
srv=$!
until_ok 10 grep -q "serving net nvd" "$tmp/s" && $V vdpa add name nvd mgmtdev vduse &&
	bind_virtio nvd && until_ok 10 netif nvd >/dev/null || {
	cat "$tmp/s"
	echo "FAIL: vduse device"
	exit 1
}
$V vdpa add name nkm mgmtdev vhostctl_sim_net && bind_virtio nkm &&
	until_ok 10 netif nkm >/dev/null || { echo "FAIL: module device"; exit 1; }
iv=$(netif nvd) ik=$(netif nkm)
echo "# vduse $iv, kmod $ik; $count frames, $reps repetitions"
rc=0
for size in 64 1500; do
	ratios=() uratios=()
	for r in $(seq "$reps"); do
		a=$(fps "$iv" $size) && b=$(fps "$ik" $size) &&
			c=$("$U" "$count" $size | awk '{ print $(NF - 1) }') && [ -n "$c" ] ||
			{ rc=1; continue; }
		echo "# $size B rep $r: vduse $a frames/s, kmod $b frames/s, vhost-user $c frames/s"
		ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')")
		uratios+=("$(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.3f", a / c }')")
	done
	[ ${#ratios[@]} -gt 0 ] || continue
	echo "$size B: vduse/kmod frames/s ratio $(median "${ratios[@]}") (per repetition: ${ratios[*]})"
	echo "$size B: vduse/vhost-user frames/s ratio $(median "${uratios[@]}") (per repetition: ${uratios[*]})"
done
if command -v strace >/dev/null; then
	strace -c -f -p "$srv" -o "$tmp/sc" &
	st=$!
	sleep 1
	"$L" "$iv" "$count" 64 >/dev/null
	kill -INT $st
	wait $st
	calls=$(awk '$NF == "total" { print $4 }' "$tmp/sc")
	echo "syscalls per 64-byte frame (VDUSE server): $(awk -v c="$calls" -v n="$count" 'BEGIN { printf "%.2f", c / n }') ($calls for $count)"
	grep -E '^ +[0-9]' "$tmp/sc" | sort -k4 -n -r | head -n 6 | awk '{ print "#  " $NF ": " $4 }'
fi
exit $rc
