#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: the vhost-user data path against DPDK 22.11's, one line per
# direction: instructions per 64-byte packet on a packed ring under
# callgrind, ours and DPDK's, measured now (bench/vu_ipp.sh, 3 s of traffic
# per side; about a minute).  The full
# table (split rings, 1500-byte frames, where the instructions go):
# make -C bench ipp; figures and method in bench/README.md.
set -uo pipefail
top=$(pwd)
export BUILD=${BUILD:-$top/build}
out=$(VU_IPP_TOP= VU_IPP_PATHS=packed VU_IPP_SIZES=64 nice -n 10 "$top/bench/vu_ipp.sh" 3)
rc=$?
[ "$rc" = 77 ] && { echo "skipped: $out"; exit 0; }
echo "$out" | awk '
	/^guest (TX|RX) / {
		what = $2 == "TX" ? "guest TX (backend dequeue)" : "guest RX (backend enqueue)"
		printf "%s, packed, 64 B: ours %s Ir/pkt, DPDK %s, ours/DPDK %s (mean burst: DPDK %s, ours %s)\n",
			what, $(NF - 5), $(NF - 6), $NF, $(NF - 2), $(NF - 1)
	}
	/^short bursts/ { print }'
exit "$rc"
