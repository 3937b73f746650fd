#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Wall-clock packet rate of the vhost-user data path, ours against DPDK
# 22.11's, in the same run, interleaved and tagged by vCPU placement.
#
# One generator for both sides: a native dpdk-testpmd net_virtio_user on
# cpu0 (ring of 1024).  The backend runs on cpu1:
#   guest TX: the generator in txonly mode; DPDK: testpmd net_vhost in
#     rxonly mode; ours: bench/vu_sink (pop, copy every frame out, push,
#     one flush per burst);
#   guest RX: the generator in rxonly mode (it posts receive buffers);
#     DPDK: net_vhost in txonly mode; ours: bench/vu_sink -r.
# The figure is the generator's own rate (testpmd's Tx-pps or Rx-pps,
# printed every second): the same meter for both sides.  The first
# WARMUP seconds are dropped, the median of the next SECONDS is the sample.
#
# Samples run DPDK, ours, ours, DPDK, REPS times per row, so that drift
# touches both sides alike.  This machine's hypervisor moves its two vCPUs
# between a "near" placement (a cache line passes in about 30 ns) and a
# "far" one (about 160 ns), on a scale of seconds to minutes, and the rate
# moves with it: bench/c2c probes it before and after every sample, and a
# sample is tagged near or far only when both probes agree ("mixed"
# otherwise; "busy" when another process held a CPU, such a sample says
# nothing and is left out of the ratios).  The summary gives, per row and
# placement, the median Mpps of each side, the spread (min-max) and the
# ratio ours/DPDK.
#
#   bench/vu_mpps.sh [SECONDS [REPS]]     (or: make -C bench mpps)
#
# Defaults 5 s and 2 repetitions; VU_MPPS_SIZES="64 1500",
# VU_MPPS_DIRS="tx rx", VU_MPPS_WARMUP=2.  Run it on an otherwise idle
# machine.  Exit 0 with the table, 77 if dpdk-testpmd is missing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
sink=$build/bench/vu_sink
c2c=$build/bench/c2c
secs=${1:-5}
reps=${2:-2}
warm=${VU_MPPS_WARMUP:-2}
qsize=1024
. "$top/bench/lib.sh"

command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd is not installed"; exit 77; }
for f in "$sink" "$c2c"; do
	[ -x "$f" ] || { echo "vu_mpps: $f is missing (make -C bench)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "vu_mpps: needs two CPUs" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vu_mpps.XXXXXX)
trap 'bench_cleanup; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# backend SIDE DIR SIZE SOCK LOG: start the backend on cpu1 (BE is its pid).
backend() {
	local side=$1 dir=$2 size=$3 sock=$4 log=$5 pfx=vumppsb$$ mode=rxonly
	if [ "$side" = ours ]; then
		local opts=()
		[ "$dir" = rx ] && opts=(-r -s "$size")
		taskset -c 1 "$sink" "$sock" "${opts[@]}" </dev/null >"$log" 2>&1 &
	else
		[ "$dir" = rx ] && mode=txonly
		PREFIXES+=("$pfx")
		dpdk-testpmd --lcores=0@1,1@1 --main-lcore 0 --no-pci --no-huge -m 512 \
			--file-prefix="$pfx" --log-level=lib.vhost.config:warning \
			--vdev "net_vhost0,iface=$sock,queues=1" -- --nb-cores=1 \
			--forward-mode=$mode --txpkts="$size" --total-num-mbufs=8192 \
			--stats-period 60 --no-mlockall </dev/null >"$log" 2>&1 &
	fi
	BE=$!
	PIDS+=("$BE")
}

# sample SIDE DIR SIZE: one run; sets MPPS (median, or "-") and TAG.
sample() {
	local side=$1 dir=$2 size=$3 sock=$tmp/s.sock gen=$tmp/gen.log pfx=vumppsg$$
	local mode=txonly field=Tx-pps before after
	[ "$dir" = rx ] && mode=rxonly field=Rx-pps
	rm -f "$sock"
	before=$("$c2c")
	backend "$side" "$dir" "$size" "$sock" "$tmp/be.log"
	if ! wait_for 60 test -S "$sock"; then
		tail -n 5 "$tmp/be.log" >&2
		echo "vu_mpps: $side backend did not start" >&2
		MPPS=- TAG=failed
		stop "$BE"
		return
	fi
	PREFIXES+=("$pfx")
	dpdk-testpmd --lcores=0@0,1@0 --main-lcore 1 --no-pci --no-huge -m 512 \
		--file-prefix="$pfx" \
		--vdev "net_virtio_user0,path=$sock,queues=1,queue_size=$qsize" -- \
		--nb-cores=1 --forward-mode=$mode --txpkts="$size" --stats-period 1 \
		--txd=$qsize --rxd=$qsize --total-num-mbufs=8192 --no-mlockall \
		</dev/null >"$gen" 2>&1 &
	local g=$!
	PIDS+=("$g")
	# testpmd prints a rate every second once it forwards
	wait_for $((secs + warm + 60)) eval \
		"[ \$(grep -c '$field:' '$gen') -gt $((secs + warm)) ]"
	stop "$g"
	stop "$BE"
	rm -rf "${DPDK_RUNDIR:?}/$pfx" "${DPDK_RUNDIR:?}/vumppsb$$"
	after=$("$c2c")
	MPPS=$(sed -n "s/.*$field: *\([0-9]*\).*/\1/p" "$gen" | tail -n +$((warm + 1)) |
		head -n "$secs" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR + 1) / 2)] / 1e6; else print "-" }')
	set -- $before
	local nb=$2 tb=$4
	set -- $after
	TAG=$tb
	[ "$tb" = "$4" ] || TAG=mixed
	[ "$tb" = busy ] || [ "$4" = busy ] && TAG=busy
	C2C="${nb%.*}/${2%.*}"
}

echo "vhost-user data path, wall-clock Mpps ($(date -u '+%F %H:%M UTC'))"
echo "generator: testpmd net_virtio_user on cpu0, ring $qsize; backend on cpu1;"
echo "median of ${secs} per-second rates after ${warm} s; c2c: one-way cache-line ns before/after"
printf '%-5s %-4s %-5s %3s %8s %9s %s\n' size dir side rep Mpps c2c placement
res=$tmp/results
: >"$res"
for size in ${VU_MPPS_SIZES:-64 1500}; do
	for dir in ${VU_MPPS_DIRS:-tx rx}; do
		for rep in $(seq "$reps"); do
			for side in dpdk ours ours dpdk; do
				sample "$side" "$dir" "$size"
				printf '%-5s %-4s %-5s %3s %8s %9s %s\n' "$size" "$dir" "$side" "$rep" \
					"$MPPS" "$C2C" "$TAG"
				echo "$size $dir $side $MPPS $TAG" >>"$res"
			done
		done
	done
done

echo
echo "summary: median Mpps (min-max, samples) per placement; busy and failed samples left out"
printf '%-5s %-4s %-9s %-22s %-22s %s\n' size dir placement DPDK ours ours/DPDK
awk '
function med(k,   n, i, j, t, a) {
	n = split(vals[k], a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	lo[k] = a[1]; hi[k] = a[n]; cnt[k] = n
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$4 != "-" && $5 != "busy" && $5 != "failed" {
	for (p = 0; p < 2; p++) {
		tag = p ? "all" : $5
		k = $1 " " $2 " " tag " " $3
		vals[k] = vals[k] " " $4
		row[$1 " " $2 " " tag] = 1
	}
}
END {
	for (r in row) {
		d = r " dpdk"; o = r " ours"
		if (!(d in vals) || !(o in vals))
			continue
		md = med(d); mo = med(o)
		split(r, f, " ")
		printf "%-5s %-4s %-9s %-22s %-22s %.2f\n", f[1], f[2], f[3],
			sprintf("%.2f (%s-%s, %d)", md, lo[d], hi[d], cnt[d]),
			sprintf("%.2f (%s-%s, %d)", mo, lo[o], hi[o], cnt[o]), (md > 0 ? mo / md : 0)
		shown++
	}
	if (!shown)
		print "(no row has samples of both sides on free CPUs: was the machine idle?)"
}' "$res" | sort -k1,1n -k2,2r -k3,3
