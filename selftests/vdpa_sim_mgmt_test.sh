#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl_sim management through iproute2's vdpa (6.1): both management
# devices, dev add/show/config show/del for net and block, refusals with
# the kernel's message, fail_next_add, 100 add/del cycles without leaks, and
# a module unload with devices bound to vhost_vdpa and virtio_vdpa.
# Output: KTAP, with the harness's Totals line.
set -u
export LC_ALL=C

n=0 pass=0 fail=0
PLAN=15
out=$(mktemp)
trap 'rm -f "$out" "$out.dmesg"; vdpa dev del smt0 2>/dev/null; vdpa dev del smtb 2>/dev/null' EXIT
param=/sys/module/vhostctl_sim/parameters

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n $2"
	else
		fail=$((fail + 1))
		echo "not ok $n $2"
	fi
}

# run NAME CMD...: the test passes when CMD succeeds.
run() {
	local name=$1
	shift
	"$@" >"$out" 2>&1
	local rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$out"
	result "$rc" "$name"
}

# refused NAME PATTERN CMD...: CMD must fail and print PATTERN.
refused() {
	local name=$1 pat=$2 rc=0
	shift 2
	if "$@" >"$out" 2>&1; then
		echo "# '$*' succeeded"
		rc=1
	elif ! grep -q -- "$pat" "$out"; then
		echo "# '$*' failed without '$pat':"
		sed 's/^/# /' "$out"
		rc=1
	fi
	result "$rc" "$name"
}

# has PATTERN [FILE]: FILE (default: the last command's output) holds PATTERN.
has() {
	local f=${2:-$out}
	grep -q -- "$1" "$f" || { echo "# missing '$1' in:"; sed 's/^/# /' "$f"; return 1; }
}
kv() { sed -n "s/^$1: *\([0-9]*\) kB/\1/p" /proc/meminfo; }
our_devs() { ls /sys/bus/vdpa/devices 2>/dev/null | grep -c '^smt'; }

echo "TAP version 13"
echo "1..$PLAN"
marker=$(dmesg | wc -l)

modprobe -a vdpa vhost_vdpa virtio_vdpa virtio_net virtio_blk vhostctl_sim

mgmt_show() {
	vdpa -j mgmtdev show >"$out" 2>&1 &&
	has '"vhostctl_sim_net":{"supported_classes":\["net"\],"max_supported_vqs":17' &&
	has '"vhostctl_sim_blk":{"supported_classes":\["block"\],"max_supported_vqs":1' &&
	has '"MAC","STATUS","CTRL_VQ","MQ","CTRL_MAC_ADDR"' && has '"RING_PACKED"'
}
run mgmtdev_show mgmt_show

run net_add vdpa dev add name smt0 mgmtdev vhostctl_sim_net mac 02:00:00:aa:bb:01 mtu 1400 max_vqp 4

net_show() {
	vdpa -j dev show smt0 >"$out" 2>&1 &&
	has '"type":"network","mgmtdev":"vhostctl_sim_net","vendor_id":0,"max_vqs":9,"max_vq_size":256' &&
	vdpa -j dev config show smt0 >"$out" 2>&1 &&
	has '"mac":"02:00:00:aa:bb:01"' && has '"max_vq_pairs":4' && has '"mtu":1400' &&
	ls /sys/bus/vdpa/devices/smt0/ | grep -q '^vhost-vdpa-'
}
run net_show_config net_show

refused net_add_duplicate "File exists" vdpa dev add name smt0 mgmtdev vhostctl_sim_net
refused net_add_max_vqp_too_big "Invalid argument" vdpa dev add name smt1 mgmtdev vhostctl_sim_net max_vqp 9
refused net_add_mtu_too_big "Invalid argument" vdpa dev add name smt1 mgmtdev vhostctl_sim_net mtu 9001
refused blk_add_net_attr "not supported" vdpa dev add name smt1 mgmtdev vhostctl_sim_blk mac 02:00:00:00:00:01

blk_cycle() {
	vdpa dev add name smtb mgmtdev vhostctl_sim_blk &&
	vdpa -j dev show smtb >"$out" 2>&1 &&
	has '"type":"block","mgmtdev":"vhostctl_sim_blk","vendor_id":0,"max_vqs":1,"max_vq_size":256' &&
	vdpa dev del smtb && ! vdpa dev show smtb >/dev/null 2>&1
}
run blk_add_show_del blk_cycle

fail_next() {
	echo 1 >"$param/fail_next_add" &&
	! vdpa dev add name smtb mgmtdev vhostctl_sim_blk >"$out" 2>&1 &&
	has "Input/output error" &&
	[ "$(cat "$param/fail_next_add")" = N ] &&
	vdpa dev add name smtb mgmtdev vhostctl_sim_blk && vdpa dev del smtb
}
run fail_next_add fail_next

run net_del vdpa dev del smt0
refused del_unknown "No such device" vdpa dev del smt0

cycles() {
	local i slab0 vm0 slab1 vm1
	echo 1 >"$param/capacity_mb"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	slab0=$(kv Slab) vm0=$(kv VmallocUsed)
	for i in $(seq 100); do
		vdpa dev add name smt0 mgmtdev vhostctl_sim_net max_vqp 8 || return 1
		vdpa dev add name smtb mgmtdev vhostctl_sim_blk || return 1
		vdpa dev del smt0 || return 1
		vdpa dev del smtb || return 1
	done
	echo 64 >"$param/capacity_mb"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	slab1=$(kv Slab) vm1=$(kv VmallocUsed)
	echo "# slab ${slab0} -> ${slab1} kB, vmalloc ${vm0} -> ${vm1} kB"
	[ "$(our_devs)" = 0 ] || { echo "# devices left"; return 1; }
	[ "$(cat "$param/live_devices")" = 0 ] || { echo "# $(cat "$param/live_devices") devices not freed"; return 1; }
	# a leaked device would cost >= 1 MiB of vmalloc (disk) or ~20 kB
	# of slab per cycle
	[ $((vm1 - vm0)) -lt 8192 ] && [ $((slab1 - slab0)) -lt 1024 ]
}
run add_del_100_cycles cycles

unload() {
	local dev i
	vdpa dev add name smt0 mgmtdev vhostctl_sim_net max_vqp 2 || return 1
	vdpa dev add name smt1 mgmtdev vhostctl_sim_net || return 1
	vdpa dev add name smtb mgmtdev vhostctl_sim_blk || return 1
	for dev in smt1 smtb; do
		echo "$dev" >/sys/bus/vdpa/drivers/vhost_vdpa/unbind &&
		echo virtio_vdpa >/sys/bus/vdpa/devices/$dev/driver_override &&
		echo "$dev" >/sys/bus/vdpa/drivers_probe || return 1
	done
	for i in $(seq 300); do
		ls /sys/bus/vdpa/devices/smtb/virtio*/block 2>/dev/null | grep -q vd && break
		sleep 0.01
	done
	ls /sys/bus/vdpa/devices/smt1/virtio*/net >/dev/null || { echo "# no netdev"; return 1; }
	ls /sys/bus/vdpa/devices/smtb/virtio*/block >/dev/null || { echo "# no disk"; return 1; }
	ip link set "$(ls /sys/bus/vdpa/devices/smt1/virtio*/net)" up || return 1
	[ "$(cat "$param/live_devices")" = 3 ] || { echo "# live_devices $(cat "$param/live_devices"), not 3"; return 1; }
	rmmod vhostctl_sim || return 1
	[ "$(our_devs)" = 0 ] || { echo "# devices left after unload"; return 1; }
	! ls /dev/vhost-vdpa-* >/dev/null 2>&1 || { echo "# vhost-vdpa node left"; return 1; }
	modprobe vhostctl_sim && vdpa mgmtdev show vhostctl_sim_net >/dev/null
}
run unload_with_devices unload

refcount() {
	vdpa dev add name smt0 mgmtdev vhostctl_sim_net &&
	vdpa dev del smt0 &&
	[ "$(cat /sys/module/vhostctl_sim/refcnt)" = 0 ]
}
run module_refcount refcount

dmesg_clean() {
	local log=$out.dmesg
	dmesg | tail -n +"$((marker + 1))" >"$log"
	if grep -E 'WARNING:|BUG:|Oops|general protection|UBSAN|KASAN|kmemleak|not freed at unload' "$log"; then
		return 1
	fi
	# the refusals above are explained in the log
	has 'smt1: max_vqp 9 outside' "$log" && has 'failing add of smtb' "$log"
}
run dmesg_clean dmesg_clean

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
