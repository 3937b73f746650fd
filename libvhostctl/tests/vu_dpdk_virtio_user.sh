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
# flight (testpmd TX = RX + 32); and the ring kind is the one asked for.  Two runs: split ring with the
# backend listening, packed ring with testpmd listening (server=1).
. "$(dirname "$0")/vu_lib.bash"
vu_need dpdk-testpmd "Debian package dpdk-dev"

SECS=${VU_DPDK_SECS:-4}

stat_of() { # FILE FIELD: from testpmd's accumulated statistics
	sed -n '/Accumulated forward statistics/,/+++++*$/p' "$1" |
		sed -n "s/.*$2: *\([0-9]*\).*/\1/p" | head -n 1
}

run() { # NAME RING(split|packed) ROLE(listen|connect)
	local name=$1 ring=$2 role=$3
	local sock=$VU_TMP/$name.sock tp be vdev
	vdev="net_virtio_user0,mac=00:01:02:03:04:05,path=$sock,queues=1"
	[ "$ring" = packed ] && vdev+=",packed_vq=1"
	if [ "$role" = listen ]; then
		vu_bg "$VU_TMP/$name.be" "$VU_BE" net -l "$sock" -o "$VU_TMP/$name.stats"
		be=$VU_LAST
		vu_wait_for 5 grep -q ready "$VU_TMP/$name.be" || { vu_show "$VU_TMP/$name.be"; vu_fail "$name: backend did not start"; }
	else
		vdev+=",server=1"
	fi
	vu_bg "$VU_TMP/$name.tp" timeout -s INT -k 5 $((SECS + 20)) dpdk-testpmd -l 0-1 --no-pci --no-huge -m 512 \
		--file-prefix="vu$$$name" --vdev "$vdev" -- --no-mlockall --total-num-mbufs=4096 \
		--forward-mode=io --tx-first --stats-period 1
	tp=$VU_LAST
	if [ "$role" = connect ]; then
		vu_wait_for 15 test -S "$sock" || { vu_show "$VU_TMP/$name.tp"; vu_fail "$name: testpmd did not listen"; }
		vu_bg "$VU_TMP/$name.be" "$VU_BE" net -c "$sock" -o "$VU_TMP/$name.stats"
		be=$VU_LAST
	fi
	vu_wait_for 15 grep -q "vring 1 started" "$VU_TMP/$name.be" ||
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
	# up to a ring (256) of testpmd's last packets may not have been taken.
	if [ -z "$tx" ] || [ -z "$rx" ] || [ "$tx" -lt 1000 ] || [ "$btx" -gt "$tx" ] ||
	   [ $((tx - btx)) -gt 256 ] || [ "$brx" != "$btx" ] || [ "$bdrop" != 0 ] || [ "$berr" != 0 ] ||
	   [ "$rx" -gt "$brx" ] || [ "$rx" -gt "$tx" ] || [ $((tx - rx)) -gt 32 ]; then
		vu_show "$VU_TMP/$name.tp" "$VU_TMP/$name.be"
		vu_fail "$name: counts do not match"
	fi
	grep -q "vring 0 started: $ring ring" "$VU_TMP/$name.be" ||
		{ vu_show "$VU_TMP/$name.be"; vu_fail "$name: not a $ring ring"; }
	grep "vring 1 started" "$VU_TMP/$name.be" | sed "s/^/$name: /"
	echo "$name: $((tx / SECS)) packets/s each way"
}

run split split listen
run packed packed connect
echo "PASS: testpmd virtio_user <-> libvhostctl net backend, split and packed"
