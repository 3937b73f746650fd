#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vDPA management through libvhostctl (the vhostctl CLI), against the
# software vDPA device of kmod/ and checked with iproute2's vdpa tool, which
# nobody here wrote.  KTAP output with a Totals line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
V=${BUILD:-$top/build}/bin/vhostctl
NET=vhostctl_sim_net
BLK=vhostctl_sim_blk
pass=0 fail=0 n=0
total=15

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

# json FILE EXPR: evaluate a Python expression over the parsed document j.
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

cleanup() {
	for d in tv0 tv1 tb0; do
		$V vdpa del $d >/dev/null 2>&1
	done
}

echo "TAP version 13"
echo "1..$total"
if ! lsmod | grep -q '^vhostctl_sim'; then
	modprobe vhostctl_sim || { echo "# vhostctl_sim is not built"; }
fi
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
cleanup

# 1: both management devices, the same as iproute2 sees them.
$V -j mgmtdev show >"$tmp/m.json" && vdpa -j mgmtdev show >"$tmp/m2.json"
r=$?
[ $r = 0 ] && [ "$(json "$tmp/m.json" "sorted(j['mgmtdev'])")" = "$(json "$tmp/m2.json" "sorted(j['mgmtdev'])")" ] &&
	[ "$(json "$tmp/m.json" "j['mgmtdev']['$NET']['supported_classes']")" = "['net']" ] &&
	[ "$(json "$tmp/m.json" "j['mgmtdev']['$BLK']['supported_classes']")" = "['block']" ]
ok $? "mgmtdev show lists $NET and $BLK as iproute2 does"

# 2: a net device with attributes; iproute2 sees it with 2 pairs + control queue.
$V vdpa add name tv0 mgmtdev $NET mac 52:54:00:12:34:56 mtu 1400 max_vqp 2 &&
	vdpa -j dev show tv0 >"$tmp/d.json" &&
	[ "$(json "$tmp/d.json" "j['dev']['tv0']['max_vqs']")" = 5 ] &&
	[ "$(json "$tmp/d.json" "j['dev']['tv0']['type']")" = network ]
ok $? "vdpa add net with mac, mtu, max_vqp"

# 3: our config read matches iproute2's.
$V -j vdpa config show tv0 >"$tmp/c.json" && vdpa -j dev config show tv0 >"$tmp/c2.json"
r=$?
[ $r = 0 ] && for k in mac mtu max_vq_pairs; do
	[ "$(json "$tmp/c.json" "j['config']['tv0']['$k']")" = "$(json "$tmp/c2.json" "j['config']['tv0']['$k']")" ] || r=1
done
[ $r = 0 ] && [ "$(json "$tmp/c.json" "j['config']['tv0']['mac']")" = 52:54:00:12:34:56 ] &&
	[ "$(json "$tmp/c.json" "j['config']['tv0']['mtu']")" = 1400 ]
ok $? "vdpa config show agrees with iproute2"

# 4: the device is bound to vhost_vdpa and has its character device.
drv=$(basename "$(readlink /sys/bus/vdpa/devices/tv0/driver 2>/dev/null)")
ls /sys/bus/vdpa/devices/tv0/ 2>/dev/null | grep -q '^vhost-vdpa-' && [ "$drv" = vhost_vdpa ]
ok $? "tv0 is bound to vhost_vdpa ($drv)"

# node NAME: the /dev/vhost-vdpa-N of a vDPA device bound to vhost_vdpa.
node() {
	echo "/dev/$(ls "/sys/bus/vdpa/devices/$1/" 2>/dev/null | grep '^vhost-vdpa-' | head -n 1)"
}

# dev show on the node: what the device itself says, through vhost-vdpa.
nd=$(node tv0)
$V -j dev show "$nd" >"$tmp/v.json" &&
	[ "$(json "$tmp/v.json" "(lambda d: d['transport'] == 'vdpa' and d['device_id'] == 1 and
		d['class'] == 'net' and d['config']['mac'] == '52:54:00:12:34:56' and
		d['config']['mtu'] == 1400 and d['config']['max_vq_pairs'] == 2 and
		d['config']['link'] == 'up' and d['vqs'] == 5 and d['vq_sizes'] == [256] * 5 and
		d['groups'] == 3 and d['asids'] == 3 and d['iova_first'] == '0x0' and
		d['iova_last'] == '0xffffffffffffffff' and 'MAC' in d['feature_names'] and
		'IOTLB_MSG_V2' in d['backend_feature_names'])(j['dev']['$nd'])")" = True ]
ok $? "dev show $nd: class, config, queues, groups, IOVA range, backend features"

$V dev show "$nd" >"$tmp/t" && grep -q "^$nd: transport vdpa features 0x[0-9a-f]* device_id 1 class net " "$tmp/t" &&
	grep -q 'mac 52:54:00:12:34:56 link up' "$tmp/t" && grep -q 'backend_feature_names .*IOTLB_BATCH' "$tmp/t"
ok $? "dev show text: $(cut -c1-100 "$tmp/t")"

# 5: an MTU below the minimum is refused with the kernel's reason.
$V vdpa add name tv1 mgmtdev $NET mtu 10 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && grep -q '^Error: ' "$tmp/e" && grep -q '^kernel answers: ' "$tmp/e" && ! vdpa dev show tv1 2>/dev/null
ok $? "an out-of-range mtu is refused: $(head -n 1 "$tmp/e")"

# 6: a duplicate name is refused.
$V vdpa add name tv0 mgmtdev $NET 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && grep -q 'File exists' "$tmp/e"
ok $? "a duplicate device name is refused"

# 7: an unknown management device is refused.
$V vdpa add name tv1 mgmtdev no_such_mgmtdev 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && grep -q '^kernel answers: ' "$tmp/e"
ok $? "an unknown management device is refused: $(tail -n 1 "$tmp/e")"

# 8: the MAC changes at run time, as iproute2 then reads it.
$V vdpa set name tv0 mac 52:54:00:aa:bb:cc && vdpa -j dev config show tv0 >"$tmp/c2.json" &&
	[ "$(json "$tmp/c2.json" "j['config']['tv0']['mac']")" = 52:54:00:aa:bb:cc ]
ok $? "vdpa set mac"

# 9: a block device and its capacity.
$V vdpa add name tb0 mgmtdev $BLK && $V -j vdpa config show tb0 >"$tmp/b.json" &&
	[ "$(json "$tmp/b.json" "j['config']['tb0']['capacity']")" -gt 0 ] &&
	[ "$(json "$tmp/b.json" "j['config']['tb0']['blk_size']")" = 512 ]
ok $? "vdpa add block, capacity $(json "$tmp/b.json" "j['config']['tb0']['capacity']" 2>/dev/null) sectors"

nd=$(node tb0)
$V -j dev show "$nd" >"$tmp/v.json" &&
	[ "$(json "$tmp/v.json" "(lambda d: d['class'] == 'block' and d['config']['capacity'] > 0 and
		d['vqs'] >= 1)(j['dev']['$nd'])")" = True ]
ok $? "dev show $nd: a block device and its capacity"

# 10: text and JSON say the same thing.
$V vdpa show tv0 >"$tmp/t" && grep -q '^tv0: type network mgmtdev vhostctl_sim_net ' "$tmp/t"
ok $? "text output: $(cat "$tmp/t")"

# 11: delete; a second delete is an error.
$V vdpa del tv0 && ! vdpa dev show tv0 2>/dev/null && ! $V vdpa del tv0 2>"$tmp/e" && grep -q 'No such device' "$tmp/e"
ok $? "vdpa del, and del of a missing device fails"

# 12: bad command lines fail before reaching the kernel.
! $V vdpa add name x 2>/dev/null && ! $V vdpa add name x mgmtdev $NET mac 1:2:3 2>/dev/null &&
	! $V vdpa add name x mgmtdev $NET max_vqp 0 2>/dev/null && ! $V vdpa frob 2>/dev/null &&
	! $V vdpa vstats show tb0 qidx x 2>/dev/null && ! vdpa dev show x 2>/dev/null
ok $? "malformed command lines are refused"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
