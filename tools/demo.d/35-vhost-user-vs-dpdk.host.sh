#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: libvhostctl's vhost-user control plane next to DPDK 22.11's, in
# one run (bench/vu_setup, short settings): SET_MEM_TABLE, full set-up of 1,
# 2 and 4 queue pairs, and the GET_FEATURES round trip over a raw AF_UNIX
# floor, one frontend driving both backends, as ratios ours/DPDK.  The
# deterministic data-path comparison (instructions per packet under
# callgrind) takes minutes: make -C bench ipp.
set -uo pipefail
top=$(pwd)
build=${BUILD:-$top/build}
bin=$build/bench/vu_setup
[ -x "$bin" ] || { echo "35-vhost-user-vs-dpdk: $bin is missing (make bench)" >&2; exit 1; }
echo "\$ vu_setup -s"
timeout 180 "$bin" -s
rc=$?
case $rc in
0) echo "(full run: build/bench/vu_setup; data path: make -C bench ipp; see bench/README.md)" ;;
77) echo "skipped: DPDK testpmd is not installed (tools/deps.sh installs dpdk-dev)" ;;
*) exit "$rc" ;;
esac
