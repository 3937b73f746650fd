#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl dev up on the three kinds of kernel device, with the frame counts
# it reports checked against what the device itself counted: the tap's link
# counters (ip -s link) for vhost-net, the vendor statistics read by
# iproute2's vdpa tool for vhost-vdpa.  Then teardown on SIGINT and SIGTERM
# leaves nothing behind, and dev show answers on all three.  KTAP output
# with a Totals line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
V=${BUILD:-$top/build}/bin/vhostctl
NET=vhostctl_sim_net
TAP=vut0
pass=0 fail=0 skip=0 n=0
total=14

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

# The summary of dev up: j['up'][path].
up() {
	json "$1" "j['up']['$2']$3"
}

cleanup() {
	$V vdpa del tu0 >/dev/null 2>&1
	ip link del $TAP >/dev/null 2>&1
}

echo "TAP version 13"
echo "1..$total"
lsmod | grep -q '^vhostctl_sim' || modprobe vhostctl_sim || echo "# vhostctl_sim is not built"
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
cleanup

# A vDPA net device on our software device; its vhost-vdpa node.
$V vdpa add name tu0 mgmtdev $NET
nd=
for _ in $(seq 50); do
	nd=$(ls /sys/bus/vdpa/devices/tu0/ 2>/dev/null | grep '^vhost-vdpa-' | head -n 1)
	[ -n "$nd" ] && [ -c "/dev/$nd" ] && break
	sleep 0.1
done
nd=/dev/$nd

# 1: the acceptance run: 10000 frames through the device and back, none lost.
$V -j dev up "$nd" traffic loop count 10000 >"$tmp/v.json" 2>"$tmp/e"
r=$?
[ $r = 0 ] && [ "$(up "$tmp/v.json" "$nd" "['frames_sent']")" = 10000 ] &&
	[ "$(up "$tmp/v.json" "$nd" "['frames_back']")" = 10000 ] &&
	[ "$(up "$tmp/v.json" "$nd" "['frames_lost']")" = 0 ] &&
	[ "$(up "$tmp/v.json" "$nd" "['frames_bad']")" = 0 ] &&
	[ "$(up "$tmp/v.json" "$nd" "['vstats']")" = \
	  "{'rx_packets': 10000, 'tx_packets': 10000, 'rx_drops': 0, 'tx_drops': 0}" ]
ok $? "dev up $nd count 10000: 10000 back, 0 lost ($(up "$tmp/v.json" "$nd" "['rate']" 2>/dev/null) frames/s) $(cat "$tmp/e")"

# 2: the device's counters, read by iproute2 while a second dev up holds the
# device set up without traffic: the device counted what dev up said.
$V dev up "$nd" traffic none duration 30 >"$tmp/hold" 2>&1 &
pid=$!
for _ in $(seq 100); do
	vdpa -j dev vstats show tu0 qidx 1 >"$tmp/s1.json" 2>/dev/null && break
	sleep 0.1
done
vdpa -j dev vstats show tu0 qidx 0 >"$tmp/s0.json" 2>/dev/null
$V -j vdpa vstats show tu0 >"$tmp/all.json"
r=$?
kill -INT $pid
wait $pid
rc=$?
vstat() {
	# iproute2: {"vstats": {NAME: {"queue_type": "rx", "rx packets": N, ...}}}
	json "$1" "j['vstats']['tu0']['$2']" 2>/dev/null
}
[ $r = 0 ] && [ $rc = 0 ] && [ "$(vstat "$tmp/s0.json" "rx packets")" = 10000 ] &&
	[ "$(vstat "$tmp/s1.json" "tx packets")" = 10000 ] &&
	[ "$(json "$tmp/all.json" "[q['queue_index'] for q in j['vstats']['tu0']]")" = "[0, 1, 2]" ] &&
	[ "$(json "$tmp/all.json" "j['vstats']['tu0'][0]['rx_packets']")" = 10000 ] &&
	[ "$(json "$tmp/all.json" "j['vstats']['tu0'][1]['tx_packets']")" = 10000 ]
ok $? "iproute2 reads 10000 rx and tx packets; vstats show without qidx gives every queue"

# 3: packed rings through the same device.
$V -j dev up "$nd" packed event_idx count 2000 >"$tmp/p.json" 2>"$tmp/e" &&
	[ "$(up "$tmp/p.json" "$nd" "['frames_back']")" = 2000 ] &&
	[ "$(up "$tmp/p.json" "$nd" "['frames_lost']")" = 0 ] &&
	[ "$(up "$tmp/p.json" "$nd" "['features']")" = 0x720000000 ]
ok $? "dev up $nd packed event_idx: $(up "$tmp/p.json" "$nd" "['features']" 2>/dev/null) $(cat "$tmp/e")"

# 4: SIGTERM mid-run: the device is given back whole, the next dev up has it.
$V dev up "$nd" >"$tmp/t" 2>&1 &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
rc=$?
$V -j dev up "$nd" count 100 >"$tmp/v2.json" 2>"$tmp/e" &&
	[ "$(up "$tmp/v2.json" "$nd" "['frames_back']")" = 100 ] && grep -q 'stopped_by SIGTERM' "$tmp/t" &&
	[ $rc = 0 ]
ok $? "SIGTERM stops dev up (exit $rc) and leaves $nd free: $(cat "$tmp/e")"

# 5: vhost-net on a tap we made: the tap's own counters saw every frame once
# each way.  IPv6 off, so that the kernel sends nothing of its own there.
ip tuntap add dev $TAP mode tap vnet_hdr && sysctl -qw net.ipv6.conf.$TAP.disable_ipv6=1
$V -j dev up /dev/vhost-net tap $TAP count 5000 >"$tmp/n.json" 2>"$tmp/e"
r=$?
ip -j -s link show $TAP >"$tmp/l.json"
lst() {
	json "$tmp/l.json" "j[0]['stats64']$1"
}
[ $r = 0 ] && [ "$(up "$tmp/n.json" /dev/vhost-net "['frames_back']")" = 5000 ] &&
	[ "$(up "$tmp/n.json" /dev/vhost-net "['frames_lost']")" = 0 ] &&
	[ "$(lst "['rx']['packets']")" = 5000 ] && [ "$(lst "['tx']['packets']")" = 5000 ] &&
	[ "$(lst "['rx']['bytes']")" = 640000 ] &&
	[ "$(up "$tmp/n.json" /dev/vhost-net "['link']['rx_packets']")" = 5000 ]
ok $? "dev up /dev/vhost-net tap $TAP count 5000: ip -s link counts 5000 each way $(cat "$tmp/e")"

# 6: a tap we were given stays, and goes back down.
ip -j link show $TAP >"$tmp/l2.json" && [ "$(json "$tmp/l2.json" "'UP' in j[0]['flags']")" = False ]
ok $? "the given tap $TAP is left as it was (down)"

# 7: our own tap, two queue pairs on a multiqueue tap, EVENT_IDX; gone afterwards.
$V -j dev up /dev/vhost-net queues 2 event_idx count 4000 >"$tmp/n2.json" 2>"$tmp/e"
r=$?
t=$(up "$tmp/n2.json" /dev/vhost-net "['tap']" 2>/dev/null)
[ $r = 0 ] && [ -n "$t" ] && [ "$(up "$tmp/n2.json" /dev/vhost-net "['frames_back']")" = 4000 ] &&
	[ "$(up "$tmp/n2.json" /dev/vhost-net "['link']['tx_packets']")" = 4000 ] &&
	[ "$(up "$tmp/n2.json" /dev/vhost-net "['queues']")" = 2 ] && ! ip link show "$t" 2>/dev/null
ok $? "dev up /dev/vhost-net queues 2 event_idx: tap $t, 4000 back, the tap is gone $(cat "$tmp/e")"

# 8: SIGINT mid-run: exit 0 with the summary, nothing left behind.
$V -j dev up /dev/vhost-net >"$tmp/i.json" 2>"$tmp/e" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
rc=$?
t=$(up "$tmp/i.json" /dev/vhost-net "['tap']" 2>/dev/null)
[ $rc = 0 ] && [ "$(up "$tmp/i.json" /dev/vhost-net "['stopped_by']")" = SIGINT ] &&
	[ "$(up "$tmp/i.json" /dev/vhost-net "['frames_back']")" -gt 0 ] &&
	[ "$(up "$tmp/i.json" /dev/vhost-net "['frames_lost']")" = 0 ] &&
	! ip link show "$t" 2>/dev/null && ! ip -o link | grep -q vhostctl
ok $? "SIGINT: exit $rc, $(up "$tmp/i.json" /dev/vhost-net "['frames_back']" 2>/dev/null) frames back, none lost, tap $t gone"

# 9: vhost-net has no packed rings: refused with the reason, before any tap.
$V dev up /dev/vhost-net packed 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && grep -qx 'Error: /dev/vhost-net does not offer packed rings' "$tmp/e" &&
	! ip -o link | grep -q vhostctl
ok $? "dev up /dev/vhost-net packed is refused: $(cat "$tmp/e")"

# 10: vhost-vsock: a host socket to the guest end on the queues, echoed.
$V -j dev up /dev/vhost-vsock cid 42 count 1000 >"$tmp/s.json" 2>"$tmp/e"
r=$?
[ $r = 0 ] && [ "$(up "$tmp/s.json" /dev/vhost-vsock "['messages_back']")" = 1000 ] &&
	[ "$(up "$tmp/s.json" /dev/vhost-vsock "['messages_lost']")" = 0 ] &&
	[ "$(up "$tmp/s.json" /dev/vhost-vsock "['guest']['packets_rx'] >= 1000")" = True ] &&
	[ "$(up "$tmp/s.json" /dev/vhost-vsock "['guest']['packets_tx'] >= 1000")" = True ]
ok $? "dev up /dev/vhost-vsock cid 42 count 1000: 1000 messages echoed $(cat "$tmp/e")"

# 11: a duration ends the run with what was out brought back.
$V -j dev up /dev/vhost-vsock cid 43 duration 1 >"$tmp/s2.json" 2>"$tmp/e"
r=$?
[ $r = 0 ] && [ "$(up "$tmp/s2.json" /dev/vhost-vsock "['messages_lost']")" = 0 ] &&
	[ "$(up "$tmp/s2.json" /dev/vhost-vsock "['messages_back'] > 0")" = True ] &&
	[ "$(json "$tmp/s2.json" "900 <= j['up']['/dev/vhost-vsock']['msecs'] < 5000")" = True ]
ok $? "dev up /dev/vhost-vsock duration 1: $(up "$tmp/s2.json" /dev/vhost-vsock "['messages_back']" 2>/dev/null) back, none lost"

# 12: the CID is the device's: a second device cannot take it while the first runs.
$V dev up /dev/vhost-vsock cid 44 traffic none duration 30 >/dev/null 2>&1 &
pid=$!
sleep 1
$V dev up /dev/vhost-vsock cid 44 count 1 2>"$tmp/e" && r=1 || r=0
kill -INT $pid
wait $pid
rc=$?
[ $r = 0 ] && [ $rc = 0 ] && grep -q 'set-up failed at .*: Address already in use' "$tmp/e"
ok $? "a CID in use is refused: $(cat "$tmp/e")"

# 13: dev show on all three kinds, features by name.
$V -j dev show /dev/vhost-net /dev/vhost-vsock "$nd" >"$tmp/d.json" &&
	[ "$(json "$tmp/d.json" "'VERSION_1' in j['dev']['/dev/vhost-net']['feature_names']")" = True ] &&
	[ "$(json "$tmp/d.json" "'VERSION_1' in j['dev']['/dev/vhost-vsock']['feature_names']")" = True ] &&
	[ "$(json "$tmp/d.json" "j['dev']['$nd']['class']")" = net ]
ok $? "dev show /dev/vhost-net /dev/vhost-vsock $nd"

# 14: usage errors are caught before the device is touched.
$V dev up "$nd" cid 5 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && grep -qx 'Option "cid" does not apply to a vhost-vdpa device' "$tmp/e" &&
	$V -j dev up "$nd" count 10 >/dev/null
ok $? "a usage error leaves the device free"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]
