#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl user serve and user probe against DPDK 22.11's testpmd (peers
# nobody here wrote).
#
# Traffic: testpmd's virtio_user PMD drives "vhostctl -j user serve net" in
# io forwarding mode after a first burst (--tx-first), so packets go round:
# testpmd TX -> our TX ring -> our RX ring -> testpmd RX -> TX.  Checked from
# testpmd's accumulated statistics and the daemon's JSON exit statistics:
# every packet the daemon took from TX came back on RX (none dropped), it
# took all testpmd sent but what was still on the TX ring when testpmd
# stopped (at most a ring, 256 per queue), and testpmd received all that came
# back but at most a burst of 32 per queue still in flight.  Two runs: the
# daemon listening with one queue pair, and the daemon connecting to testpmd
# listening (server=1) with two pairs.
#
# Probe: "vhostctl -j user probe" against testpmd's net_vhost PMD (client=0,
# it listens) lists its protocol features and queue count, and leaves the
# port able to carry traffic afterwards, as testpmd's log shows.
. "$(dirname "$0")/lib.bash"
need dpdk-testpmd "Debian package dpdk"
need python3

SECS=4
EAL_ARGS=()

stat_of() { # FILE FIELD: from testpmd's accumulated statistics
	sed -n '/Accumulated forward statistics/,/+++++*$/p' "$1" |
		sed -n "s/.*$2: *\([0-9]*\).*/\1/p" | head -n 1
}

testpmd() { # NAME VDEV TESTPMD-ARGS...: testpmd in the background, pid in LAST (EAL_ARGS too)
	local name=$1 vdev=$2
	shift 2
	bg "$T/$name.tp" timeout -s INT -k 5 $((SECS + 30)) dpdk-testpmd -l 0-1 --no-pci --no-huge \
		-m 512 --file-prefix="vc$$$name" "${EAL_ARGS[@]}" --vdev "$vdev" -- --no-mlockall \
		--total-num-mbufs=4096 --forward-mode=io --stats-period 1 "$@"
}

run() { # NAME ROLE(listen|connect) QUEUE-PAIRS
	local name=$1 role=$2 pairs=$3 sock=$T/$1.sock tp srv vdev mq=()
	vdev="net_virtio_user0,mac=00:01:02:03:04:05,path=$sock,queues=$pairs"
	[ "$pairs" -gt 1 ] && mq=(--rxq="$pairs" --txq="$pairs" --nb-cores=1)
	if [ "$role" = listen ]; then
		serve "$T/$name.srv" -j user serve net "unix:$sock" queues "$pairs"
		srv=$LAST
		testpmd "$name" "$vdev" --tx-first "${mq[@]}"
		tp=$LAST
	else
		testpmd "$name" "$vdev,server=1" --tx-first "${mq[@]}"
		tp=$LAST
		wait_for 20 test -S "$sock" || { show "$T/$name.tp"; fail "$name: testpmd did not listen"; }
		bg "$T/$name.srv" "$VHOSTCTL" -j user serve net "unix:$sock" queues "$pairs" connect
		srv=$LAST
		wait_for 10 grep -qx "vhostctl: connected to unix:$sock" "$T/$name.srv.err" ||
			{ show "$T/$name.tp" "$T/$name.srv.err"; fail "$name: serve did not connect"; }
	fi
	wait_for 20 grep -q "start packet forwarding" "$T/$name.tp" ||
		{ show "$T/$name.tp" "$T/$name.srv.err"; fail "$name: testpmd did not start"; }
	sleep "$SECS"
	stop "$tp" INT
	stop "$srv" TERM || { show "$T/$name.srv.err"; fail "$name: serve exited $?"; }
	rm -rf "${XDG_RUNTIME_DIR:-/var/run}/dpdk/vc$$$name"	# EAL's runtime directory
	local tx rx btx brx bdrop
	tx=$(stat_of "$T/$name.tp" TX-packets)
	rx=$(stat_of "$T/$name.tp" RX-packets)
	read -r btx brx bdrop < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["stats"][-1]
assert s["reason"] == "exit" and s["protocol_errors"] == 0 and s["connections"] == 1, s
print(s["tx_packets"], s["rx_packets"], s["dropped"])' "$T/$name.srv") ||
		{ show "$T/$name.srv" "$T/$name.srv.err"; fail "$name: no exit statistics from serve"; }
	echo "$name: testpmd TX $tx RX $rx; vhostctl tx_packets $btx rx_packets $brx dropped $bdrop"
	if [ -z "$tx" ] || [ -z "$rx" ] || [ "$tx" -lt 1000 ] || [ "$btx" -gt "$tx" ] ||
	   [ $((tx - btx)) -gt $((256 * pairs)) ] || [ "$brx" != "$btx" ] || [ "$bdrop" != 0 ] ||
	   [ "$rx" -gt "$brx" ] || [ $((tx - rx)) -gt $((32 * pairs)) ]; then
		show "$T/$name.tp" "$T/$name.srv.err"
		fail "$name: counts do not match"
	fi
	[ ! -e "$sock" ] || [ "$role" = connect ] || fail "$name: socket left behind"
	echo "$name: $((tx / SECS)) packets/s each way"
}

run listen listen 1
run connect connect 2

# ---- probe against testpmd's vhost backend -----------------------------
sock=$T/vhost.sock
EAL_ARGS=(--log-level=lib.vhost.config:debug)
testpmd probe "net_vhost0,iface=$sock,queues=2,client=0"
tp=$LAST
# Probe once the port is started: a connection before that is reset.
wait_for 20 grep -q "start packet forwarding" "$T/probe.tp" ||
	{ show "$T/probe.tp"; fail "testpmd net_vhost did not start"; }
"$VHOSTCTL" -j user probe "unix:$sock" >"$T/probe.json" 2>"$T/probe.err" ||
	{ show "$T/probe.err" "$T/probe.tp"; fail "probe of testpmd's net_vhost failed"; }
jq_check "$T/probe.json" \
	"d['user']['unix:$sock']['transport'] == 'vhost-user'" \
	"d['user']['unix:$sock']['class'] == 'net'" \
	"d['user']['unix:$sock']['queues'] == 64" \
	"d['user']['unix:$sock']['max_mem_slots'] == 8" \
	"{'MQ', 'REPLY_ACK', 'BACKEND_REQ'} <= set(d['user']['unix:$sock']['protocol_feature_names'])" \
	"{'MRG_RXBUF', 'VERSION_1', 'PROTOCOL_FEATURES'} <= set(d['user']['unix:$sock']['feature_names'])" \
	"'config' not in d['user']['unix:$sock']"
pf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"]["unix:" + sys.argv[2]]["protocol_features"])' \
	"$T/probe.json" "$sock")
# EAL's log goes to stderr.
log=$T/probe.tp.err
wait_for 5 grep -q "vhost peer closed" "$log" || { show "$log"; fail "probe did not disconnect"; }
# What testpmd logged is what we show; it saw no owner and no ring set up.
grep -q "negotiated Vhost-user protocol features: $pf$" "$log" ||
	{ show "$log"; fail "testpmd negotiated other protocol features than $pf"; }
grep -q "read message VHOST_USER_GET_QUEUE_NUM" "$log" || { show "$log"; fail "no GET_QUEUE_NUM"; }
! grep -Eq "read message VHOST_USER_(SET_OWNER|SET_FEATURES|SET_MEM_TABLE|SET_VRING)" "$log" ||
	{ show "$log"; fail "probe changed the backend's state"; }
kill -0 "$tp" 2>/dev/null || { show "$T/probe.tp"; fail "testpmd died"; }
stop "$tp" INT
rm -rf "${XDG_RUNTIME_DIR:-/var/run}/dpdk/vc$$probe"
echo "probe: testpmd net_vhost: protocol features $pf, queues 64 (at most 64 shown), 8 slots"
echo "PASS: testpmd virtio_user through user serve net (listen, connect), user probe of net_vhost"
