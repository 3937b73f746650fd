#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# libvhostctl's vhost-user frontend (tests/helpers/vu_fe_net) against DPDK
# testpmd's net_vhost backend (librte_vhost, a backend nobody here wrote) in
# io forwarding mode: what we send on TX comes back on our RX.  Checked: the
# negotiation (features and protocol features DPDK offers, GET_QUEUE_NUM's
# 128 clamped), every packet back once, in order, with its bytes, and
# testpmd's own RX/TX counts equal to ours.  Runs: split ring with testpmd
# listening; packed ring with event-idx, our frontend listening and testpmd
# connecting (client=1); two queue pairs (queues=2, --rxq=2 --txq=2 on one
# forwarding core; our frontend drives both pairs with -q 2 and checks each
# packet comes back on its own pair): testpmd's per-queue forward
# statistics count exactly the packets we sent on each pair.
. "$(dirname "$0")/vu_lib.bash"
vu_need dpdk-testpmd "Debian package dpdk-dev"

N=${VU_DPDK_PACKETS:-20000}
FE=$BUILD/tests/helpers/vu_fe_net
[ -x "$FE" ] || vu_fail "$FE is missing"

stream_of() { # FILE QUEUE FIELD: from testpmd's statistics of the stream of one queue
	sed -n "/Forward Stats for RX Port= *0\/Queue= *$2 /{n;p}" "$1" |
		sed -n "s/.*$3: *\([0-9]*\).*/\1/p" | head -n 1
}

stat_of() { # FILE FIELD: from testpmd's accumulated statistics
	sed -n '/Accumulated forward statistics/,/+++++*$/p' "$1" |
		sed -n "s/.*$2: *\([0-9]*\).*/\1/p" | head -n 1
}

run() { # NAME ROLE(fe-connects|fe-listens) QUEUE-PAIRS FE-FLAGS...
	local name=$1 role=$2 pairs=$3
	shift 3
	local sock=$VU_TMP/$name.sock tp vdev fe_rc mq=()
	vdev="net_vhost0,iface=$sock,queues=$pairs"
	[ "$pairs" -gt 1 ] && mq=(--rxq="$pairs" --txq="$pairs" --nb-cores=1)
	if [ "$role" = fe-listens ]; then
		vdev+=",client=1"
		set -- "$@" -l
	fi
	vu_bg "$VU_TMP/$name.tp" timeout -s INT -k 5 50 dpdk-testpmd -l 0-1 --no-pci --no-huge -m 512 \
		--file-prefix="vu$$$name" --log-level=lib.vhost.config:debug --vdev "$vdev" -- \
		--no-mlockall --total-num-mbufs=4096 --forward-mode=io "${mq[@]}" --stats-period 1
	tp=$VU_LAST
	# Start once testpmd forwards: its vhost PMD (client=1) connects as
	# soon as the port is probed, and a ring that became ready before the
	# port started was seen never to be polled.
	vu_wait_for 20 grep -q "start packet forwarding" "$VU_TMP/$name.tp" ||
		{ vu_show "$VU_TMP/$name.tp"; vu_fail "$name: testpmd did not start"; }
	if [ "$role" = fe-connects ]; then
		vu_wait_for 15 test -S "$sock" || { vu_show "$VU_TMP/$name.tp"; vu_fail "$name: testpmd did not listen"; }
	fi
	timeout 40 "$FE" "$sock" -n "$N" -t 30 -q "$pairs" "$@" >"$VU_TMP/$name.fe" 2>&1
	fe_rc=$?
	sleep 1.5	# let testpmd's statistics see the last burst
	vu_stop "$tp" INT
	rm -rf "${XDG_RUNTIME_DIR:-/var/run}/dpdk/vu$$$name"	# EAL's runtime directory
	sed "s/^/$name: /" "$VU_TMP/$name.fe"
	[ "$fe_rc" = 0 ] || { vu_show "$VU_TMP/$name.tp"; vu_fail "$name: our frontend failed (rc $fe_rc)"; }
	local tx rx
	tx=$(stat_of "$VU_TMP/$name.tp" TX-packets)
	rx=$(stat_of "$VU_TMP/$name.tp" RX-packets)
	echo "$name: testpmd RX $rx TX $tx; $(grep -m1 'negotiated Virtio features' "$VU_TMP/$name.tp" | sed 's/.*) //')"
	[ "$rx" = $((N * pairs)) ] && [ "$tx" = $((N * pairs)) ] ||
		{ vu_show "$VU_TMP/$name.tp"; vu_fail "$name: testpmd counted RX $rx TX $tx, we sent $((N * pairs))"; }
	if [ "$pairs" -gt 1 ]; then
		local k qrx qtx
		for k in $(seq 0 $((pairs - 1))); do
			qrx=$(stream_of "$VU_TMP/$name.tp" "$k" RX-packets)
			qtx=$(stream_of "$VU_TMP/$name.tp" "$k" TX-packets)
			echo "$name: queue $k: testpmd RX $qrx TX $qtx"
			[ "$qrx" = "$N" ] && [ "$qtx" = "$N" ] ||
				{ vu_show "$VU_TMP/$name.tp"; vu_fail "$name: queue $k counted RX $qrx TX $qtx, we sent $N on it"; }
		done
	fi
}

run split fe-connects 1
run packed fe-listens 1 -P -e
run mq fe-connects 2
grep -q "negotiated Virtio features: 0x5" "$VU_TMP/packed.tp" || vu_fail "packed: RING_PACKED not negotiated"
feat=$(grep -m1 -o "negotiated Virtio features: 0x[0-9a-f]*" "$VU_TMP/mq.tp" | sed 's/.*: //')
[ -n "$feat" ] && [ $(((feat >> 22) & 1)) = 1 ] || vu_fail "mq: VIRTIO_NET_F_MQ not negotiated ($feat)"
echo "PASS: libvhostctl frontend <-> testpmd net_vhost, split and packed, 2 queue pairs"
