#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Instructions per packet of the vhost-user dequeue path, ours against
# DPDK 22.11's, counted by callgrind (deterministic: no PMU is needed and
# vCPU placement does not matter).
#
# One generator for both: a native dpdk-testpmd net_virtio_user in txonly
# mode, 64-byte frames, a 4096-entry ring, on cpu0 at nice -19 so that other
# load does not starve it.  The backend, on cpu1 under callgrind, runs about
# 50 times slower, so the ring stays full and every burst should be 32; the
# table gives packets per call and marks a side whose bursts were short.
#   DPDK: testpmd net_vhost in rxonly mode under callgrind;
#         Ir(rte_vhost_dequeue_burst, inclusive) / testpmd's RX-packets.
#   ours: bench/vu_sink (libvhostctl backend) under callgrind;
#         Ir(sink_burst, inclusive) / the packets it counted.  sink_burst
#         pops, copies each frame out (as DPDK copies into an mbuf), pushes
#         back and flushes once per burst.
# Paths: packed and split rings without mergeable buffers or in_order, and
# virtio_user's default split mergeable+in_order (DPDK only: our backend
# offers neither MRG_RXBUF nor IN_ORDER, so that driver falls back to the
# plain split path, the second row).
#
#   bench/vu_ipp.sh [SECONDS]      (or: make -C bench ipp)
#
# SECONDS: how long the generator runs per path (default 30; the whole
# script takes about 5 runs x (SECONDS + 15 s)).  VU_IPP_KEEP=DIR keeps the
# callgrind files there; VU_IPP_ONLY=ours|dpdk runs one side; VU_IPP_PATHS
# (e.g. "packed split") picks rows; VU_IPP_SINK_OPTS=-1 makes vu_sink use the
# one-buffer calls (pop, push) instead of the burst calls.  Exit 0 with the table, 77 if a tool is
# missing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
sink=$build/bench/vu_sink
secs=${1:-${VU_IPP_SECONDS:-30}}
keep=${VU_IPP_KEEP:-}
only=${VU_IPP_ONLY:-}	# "ours" or "dpdk": one side only (when working on one of them)
qsize=${VU_IPP_QUEUE_SIZE:-4096}	# a deep ring rides out the generator being descheduled
sink_opts=${VU_IPP_SINK_OPTS:-}	# "-1": vu_sink with the one-buffer calls instead of bursts

for t in valgrind callgrind_annotate dpdk-testpmd; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
[ -x "$sink" ] || { echo "vu_ipp: $sink is missing (make -C bench)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vu_ipp.XXXXXX)
pids=()
prefixes=()
rundir=${XDG_RUNTIME_DIR:-/var/run}/dpdk
[ "$(id -u)" = 0 ] && rundir=/var/run/dpdk

stop() { # PID: SIGINT (timeout passes it on), then wait up to 60 s
	local p=$1
	kill -INT "$p" 2>/dev/null
	for _ in $(seq 600); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null && stop "$p"
	done
	for p in "${prefixes[@]}"; do
		rm -rf "${rundir:?}/$p"
	done
	[ -n "$keep" ] && mkdir -p "$keep" && cp "$tmp"/*.cg "$tmp"/*.log "$keep"/ 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # SECONDS CMD...
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# generate NAME SOCK DEVARGS: the native virtio_user txonly run, in the foreground.
generate() {
	local name=$1 sock=$2 devargs=$3 pfx=vuippg$$$1
	local vdev="net_virtio_user0,path=$sock,queues=1,queue_size=$qsize$devargs"
	prefixes+=("$pfx")
	timeout -s INT -k 5 "$secs" nice -n -19 dpdk-testpmd --lcores=0@0,1@0 --main-lcore 1 \
		--no-pci --no-huge -m 512 --file-prefix="$pfx" --vdev "$vdev" -- \
		--nb-cores=1 --forward-mode=txonly --txpkts=64 --stats-period 5 \
		--total-num-mbufs=8192 --no-mlockall </dev/null >"$tmp/$name.gen.log" 2>&1
	rm -rf "${rundir:?}/$pfx"
}

# ir FILE FUNCTION: inclusive Ir of FUNCTION in a callgrind file.
ir() {
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
		awk -v f="$2" '$0 ~ (":" f " ") || $0 ~ (":" f "$") { gsub(",", "", $1); print $1; exit }'
}

# calls FILE FUNCTION: how many times FUNCTION was called (callgrind's
# compressed names: "cfn=(id) name" the first time, "cfn=(id)" after).
calls() {
	awk -v f="$2" '
	/^c?fn=\(/ {
		id = $1
		sub(/^c?fn=/, "", id)
		if (NF > 1) {
			name = $0
			sub(/^c?fn=\([0-9]+\) /, "", name)
			names[id] = name
		}
		cur = $1 ~ /^cfn=/ ? id : ""
		next
	}
	/^calls=/ && cur != "" && names[cur] == f { c = $1; sub(/^calls=/, "", c); n += c }
	END { print n + 0 }' "$1"
}

# run_dpdk NAME DEVARGS: sets IR, PK and CALLS
run_dpdk() {
	local name=dpdk-$1 devargs=$2 sock=$tmp/$1.dpdk.sock pfx=vuippd$$$1 p rx
	prefixes+=("$pfx")
	timeout -s INT -k 30 $((secs + 300)) taskset -c 1 valgrind --tool=callgrind --fair-sched=yes \
		--callgrind-out-file="$tmp/$name.cg" dpdk-testpmd --lcores=0@1,1@1 --main-lcore 0 --no-pci \
		--no-huge -m 512 --file-prefix="$pfx" --log-level=lib.vhost.config:warning \
		--vdev "net_vhost0,iface=$sock,queues=1" -- --nb-cores=1 --forward-mode=rxonly \
		--stats-period 5 --total-num-mbufs=8192 --txpkts=64 --no-mlockall \
		</dev/null >"$tmp/$name.log" 2>&1 &
	p=$!
	pids+=("$p")
	if ! wait_for 240 grep -q "start packet forwarding" "$tmp/$name.log" ||
	   ! wait_for 20 test -S "$sock"; then
		tail -n 20 "$tmp/$name.log" >&2
		echo "vu_ipp: $name: testpmd did not start" >&2
		return 1
	fi
	generate "$name" "$sock" "$devargs"
	sleep 1
	stop "$p"
	rm -rf "${rundir:?}/$pfx"
	rx=$(sed -n '/Accumulated forward statistics/,/+++++*$/p' "$tmp/$name.log" |
		sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | head -n 1)
	IR=$(ir "$tmp/$name.cg" rte_vhost_dequeue_burst)
	CALLS=$(calls "$tmp/$name.cg" rte_vhost_dequeue_burst)
	PK=${rx:-0}
}

# run_ours NAME DEVARGS: sets IR, PK and CALLS
run_ours() {
	local name=ours-$1 devargs=$2 sock=$tmp/$1.ours.sock p pk
	timeout -s INT -k 30 $((secs + 300)) taskset -c 1 valgrind --tool=callgrind \
		--fair-sched=yes --callgrind-out-file="$tmp/$name.cg" "$sink" "$sock" $sink_opts \
		</dev/null >"$tmp/$name.log" 2>&1 &
	p=$!
	pids+=("$p")
	if ! wait_for 60 test -S "$sock"; then
		tail -n 20 "$tmp/$name.log" >&2
		echo "vu_ipp: $name: vu_sink did not start" >&2
		return 1
	fi
	generate "$name" "$sock" "$devargs"
	sleep 1
	stop "$p"
	pk=$(sed -n 's/^packets \([0-9]*\) .*/\1/p' "$tmp/$name.log")
	IR=$(ir "$tmp/$name.cg" sink_burst)
	CALLS=$(calls "$tmp/$name.cg" sink_burst)
	PK=${pk:-0}
}

per() { # IR PACKETS [DIGITS]
	awk -v i="$1" -v p="$2" -v d="${3:-1}" \
		'BEGIN { if (i > 0 && p > 0) printf "%.*f", d, i / p; else print "-" }'
}

echo "vhost-user dequeue, instructions per 64-byte packet under callgrind"
echo "($(date -u '+%F %H:%M UTC'), generator ${secs} s per path)"
echo "DPDK: Ir(rte_vhost_dequeue_burst) / testpmd RX-packets"
echo "ours: Ir(sink_burst) / packets it counted (bench/vu_sink)"
echo "burst: packets per call of the counted function (32 = the ring was always full; lower means"
echo "       empty or short polls are in the count, which the generator being starved causes)"
printf '%-36s %11s %11s %10s %10s %6s %6s %6s\n' path "DPDK Ir/pkt" "ours Ir/pkt" "DPDK pkts" \
	"ours pkts" burst burst ratio
printf '%-36s %11s %11s %10s %10s %6s %6s %6s\n' "" "" "" "" "" DPDK ours ""
rc=0
paths=(
	"packed|packed, non-mergeable|,packed_vq=1,mrg_rxbuf=0,in_order=0"
	"split|split, non-mergeable|,mrg_rxbuf=0,in_order=0"
	"split-mrg-inorder|split, mergeable+in_order (default)|"
)
for row in "${paths[@]}"; do
	IFS='|' read -r name label devargs <<<"$row"
	case " ${VU_IPP_PATHS:-$name} " in *" $name "*) ;; *) continue ;; esac
	dir=0 dpk=0 dcl=0 oir=0 opk=0 ocl=0
	if [ "$only" != ours ]; then
		run_dpdk "$name" "$devargs" || { rc=1; continue; }
		dir=${IR:-0} dpk=$PK dcl=$CALLS
	fi
	if [ "$name" != split-mrg-inorder ] && [ "$only" != dpdk ]; then
		run_ours "$name" "$devargs" || { rc=1; continue; }
		oir=${IR:-0} opk=$PK ocl=$CALLS
	fi
	d=$(per "$dir" "$dpk")
	o=$(per "$oir" "$opk")
	ratio=$(awk -v o="$o" -v d="$d" \
		'BEGIN { if (o + 0 > 0 && d + 0 > 0) printf "%.2f", o / d; else print "n/a" }')
	[ "$name" = split-mrg-inorder ] && o="n/a"
	db=$(per "$dpk" "$dcl") ob=$(per "$opk" "$ocl")
	# A side whose bursts were short counted empty polls: say so next to the ratio.
	awk -v a="$db" -v b="$ob" -v o="$only" 'BEGIN { exit !((o != "ours" && a != "-" && a < 24) ||
		(o != "dpdk" && b != "-" && b < 24)) }' && ratio="$ratio*"
	printf '%-36s %11s %11s %10s %10s %6s %6s %6s\n' "$label" "$d" "$o" "$dpk" "$opk" "$db" \
		"$ob" "$ratio"
	if [ "$oir" -gt 0 ]; then
		echo "  ours, top functions by own Ir ($name):"
		callgrind_annotate --threshold=100 "$tmp/ours-$name.cg" 2>/dev/null |
			awk '/^ *[0-9,]+ .*:/ { print }' | head -n 8 | sed 's/^/    /'
	fi
done
echo "*: a side's mean burst was under 24, so its figure includes polls of an emptied ring; rerun"
echo "   (longer, or on a quieter machine) before reading that ratio.  Earlier full-burst runs"
echo "   here gave DPDK about 203 (packed non-mergeable) and 290 (split mergeable+in_order)."
echo "split mergeable+in_order: ours n/a (MRG_RXBUF and IN_ORDER not offered; the driver"
echo "   falls back to the split row)"
exit $rc
