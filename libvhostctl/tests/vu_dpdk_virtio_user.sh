#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DPDK testpmd's virtio_user PMD (a vhost-user frontend nobody here wrote)
# against libvhostctl's net loopback backend (tests/helpers/vu_be).
# testpmd forwards in io mode after a first burst (--tx-first), so packets
# go round: testpmd TX -> our TX queue -> our RX queue -> testpmd RX -> TX.
# Checked: every packet the backend took from TX came back on RX (none
# dropped); the backend took all testpmd sent but what was still on the TX
# ring when testpmd stopped (at most a ring, 256; usually 0); testpmd
# received all the backend returned but at most the burst of 32 still in
# flight (testpmd TX = RX + 32); and the ring kind is the one asked for.  Three runs: split ring
# with the backend listening, packed ring with testpmd listening (server=1), and two queue pairs
# (queues=2, --rxq=2 --txq=2 on one forwarding core, the backend with 2 pairs): all 4 rings
# started, and testpmd's per-queue forward statistics show both pairs carrying traffic, each
# with at most its burst of 32 in flight, the sums matching the backend's counts.
# Those three run without mergeable buffers and in_order (mrg_rxbuf=0,in_order=0, not
# DPDK's default); then mergeable+in_order (mrg_rxbuf=1,in_order=1), both bits checked in
# the negotiated features: split and packed with 64-byte frames, and split with frames of
# 1000 bytes in three segments onto RX mbufs of 512 bytes (--mbuf-size=512
# --enable-scatter), each frame spread over several RX buffers; testpmd's byte count must
# be 1000 per packet.  (Packed with multi-segment frames is not run: DPDK 22.11 leaves
# VRING_DESC_F_WRITE on the header entry of its packed indirect TX tables, which our ring
# checks refuse as a readable descriptor after a writable one.)
. "$(dirname "$0")/vu_lib.bash"
vu_need dpdk-testpmd "Debian package dpdk-dev"

SECS=${VU_DPDK_SECS:-4}

stream_of() { # FILE QUEUE FIELD: from testpmd's statistics of the stream of one queue
	sed -n "/Forward Stats for RX Port= *0\/Queue= *$2 /{n;p}" "$1" |
		sed -n "s/.*$3: *\([0-9]*\).*/\1/p" | head -n 1
}

stat_of() { # FILE FIELD: from testpmd's accumulated statistics
	sed -n '/Accumulated forward statistics/,/+++++*$/p' "$1" |
		sed -n "s/.*$2: *\([0-9]*\).*/\1/p" | head -n 1
}

run() { # NAME RING(split|packed) ROLE(listen|connect) QUEUE-PAIRS MRG(0|1) [FRAME-BYTES]
	local name=$1 ring=$2 role=$3 pairs=$4 mrg=$5 frame=${6:-}
	local sock=$VU_TMP/$name.sock tp be vdev mq=()
	vdev="net_virtio_user0,mac=00:01:02:03:04:05,path=$sock,queues=$pairs"
	vdev+=",mrg_rxbuf=$mrg,in_order=$mrg"
	[ "$ring" = packed ] && vdev+=",packed_vq=1"
	# Frames of three segments onto 512-byte RX mbufs: several RX buffers each.
	[ -n "$frame" ] && mq+=(--mbuf-size=512 --enable-scatter
				--txpkts=$((frame * 2 / 5)),$((frame * 2 / 5)),$((frame / 5)))
	[ "$pairs" -gt 1 ] && mq+=(--rxq="$pairs" --txq="$pairs" --nb-cores=1)
	if [ "$role" = listen ]; then
		vu_bg "$VU_TMP/$name.be" "$VU_BE" net -q "$pairs" -l "$sock" -o "$VU_TMP/$name.stats"
		be=$VU_LAST
		vu_wait_for 5 grep -q ready "$VU_TMP/$name.be" || { vu_show "$VU_TMP/$name.be"; vu_fail "$name: backend did not start"; }
	else
		vdev+=",server=1"
	fi
	vu_bg "$VU_TMP/$name.tp" timeout -s INT -k 5 $((SECS + 20)) dpdk-testpmd -l 0-1 --no-pci --no-huge -m 512 \
		--file-prefix="vu$$$name" --vdev "$vdev" -- --no-mlockall --total-num-mbufs=4096 \
		--forward-mode=io --tx-first "${mq[@]}" --stats-period 1
	tp=$VU_LAST
	if [ "$role" = connect ]; then
		vu_wait_for 15 test -S "$sock" || { vu_show "$VU_TMP/$name.tp"; vu_fail "$name: testpmd did not listen"; }
		vu_bg "$VU_TMP/$name.be" "$VU_BE" net -q "$pairs" -c "$sock" -o "$VU_TMP/$name.stats"
		be=$VU_LAST
	fi
	vu_wait_for 15 grep -q "vring $((2 * pairs - 1)) started" "$VU_TMP/$name.be" ||
		{ vu_show "$VU_TMP/$name.tp" "$VU_TMP/$name.be"; vu_fail "$name: testpmd never started the TX ring"; }
	sleep "$SECS"
	vu_stop "$tp" INT
	vu_stop "$be" TERM
	rm -rf "${XDG_RUNTIME_DIR:-/var/run}/dpdk/vu$$$name"	# EAL's runtime directory
	local tx rx btx brx bdrop berr
	tx=$(stat_of "$VU_TMP/$name.tp" TX-packets)
	rx=$(stat_of "$VU_TMP/$name.tp" RX-packets)
	read -r _ _ btx _ brx _ bdrop _ _ _ berr <"$VU_TMP/$name.stats" ||
		{ vu_show "$VU_TMP/$name.be"; vu_fail "$name: no backend counters"; }
	echo "$name: testpmd TX $tx RX $rx; backend tx $btx rx $brx dropped $bdrop errors $berr"
	# testpmd counts a packet sent when it is on the ring; the ring is
	# stopped (GET_VRING_BASE) without draining what was never popped, so
	# up to a ring (256) of testpmd's last packets per queue may not have
	# been taken.
	if [ -z "$tx" ] || [ -z "$rx" ] || [ "$tx" -lt 1000 ] || [ "$btx" -gt "$tx" ] ||
	   [ $((tx - btx)) -gt $((256 * pairs)) ] || [ "$brx" != "$btx" ] || [ "$bdrop" != 0 ] ||
	   [ "$berr" != 0 ] || [ "$rx" -gt "$brx" ] || [ "$rx" -gt "$tx" ] ||
	   [ $((tx - rx)) -gt $((32 * pairs)) ]; then
		vu_show "$VU_TMP/$name.tp" "$VU_TMP/$name.be"
		vu_fail "$name: counts do not match"
	fi
	grep -q "vring 0 started: $ring ring" "$VU_TMP/$name.be" ||
		{ vu_show "$VU_TMP/$name.be"; vu_fail "$name: not a $ring ring"; }
	if [ "$pairs" -gt 1 ]; then
		local k qrx qtx srx=0 stx=0
		for k in $(seq 0 $((pairs - 1))); do
			qrx=$(stream_of "$VU_TMP/$name.tp" "$k" RX-packets)
			qtx=$(stream_of "$VU_TMP/$name.tp" "$k" TX-packets)
			echo "$name: queue $k: testpmd RX $qrx TX $qtx"
			if [ -z "$qrx" ] || [ -z "$qtx" ] || [ "$qrx" -lt 1000 ] || [ "$qrx" -gt "$qtx" ] ||
			   [ $((qtx - qrx)) -gt 32 ]; then
				vu_show "$VU_TMP/$name.tp" "$VU_TMP/$name.be"
				vu_fail "$name: queue $k did not carry its share"
			fi
			srx=$((srx + qrx))
			stx=$((stx + qtx))
		done
		[ "$srx" = "$rx" ] && [ "$stx" = "$tx" ] ||
			vu_fail "$name: per-queue sums RX $srx TX $stx, totals RX $rx TX $tx"
		local feat
		feat=$(sed -n 's/.*vring 0 started: .*features \(0x[0-9a-f]*\).*/\1/p' "$VU_TMP/$name.be")
		[ -n "$feat" ] && [ $(((feat >> 22) & 1)) = 1 ] ||
			vu_fail "$name: VIRTIO_NET_F_MQ not negotiated (features $feat)"
	fi
	local f
	f=$(sed -n 's/.*vring 0 started: .*features \(0x[0-9a-f]*\).*/\1/p' "$VU_TMP/$name.be")
	[ -n "$f" ] && [ $(((f >> 15) & 1)) = "$mrg" ] && [ $(((f >> 35) & 1)) = "$mrg" ] ||
		vu_fail "$name: MRG_RXBUF/IN_ORDER not as asked ($mrg) in features $f"
	if [ -n "$frame" ]; then
		local pk bytes	# the port's last statistics line: packets and bytes together
		read -r pk bytes < <(sed -n "s/.*RX-packets: *\([0-9]*\).*RX-bytes: *\([0-9]*\).*/\1 \2/p" \
			"$VU_TMP/$name.tp" | tail -n 1)
		[ -n "$bytes" ] && [ "${pk:-0}" -gt 1000 ] && [ "$bytes" = $((pk * frame)) ] ||
			{ vu_show "$VU_TMP/$name.tp"; vu_fail "$name: $bytes bytes in $pk frames of $frame"; }
		echo "$name: $pk frames of $frame bytes, $bytes bytes"
	fi
	grep "vring $((2 * pairs - 1)) started" "$VU_TMP/$name.be" | sed "s/^/$name: /"
	echo "$name: $((tx / SECS)) packets/s each way"
}

run split split listen 1 0
run packed packed connect 1 0
run mq split listen 2 0
run mrg-split split listen 1 1
run mrg-packed packed connect 1 1
run mrg-split-1000 split listen 1 1 1000
echo "PASS: testpmd virtio_user <-> libvhostctl net backend, split and packed, 2 queue pairs," \
	"mergeable+in_order"
