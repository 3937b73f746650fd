#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Instructions per packet of the vhost-user data path, ours against DPDK
# 22.11's, both directions, counted by callgrind (deterministic: no PMU is
# needed and vCPU placement does not matter).
#
# One driver for both sides of a row: a native dpdk-testpmd net_virtio_user,
# ring of 16384 (--txd/--rxd too), on cpu0 at the caller's niceness.  The
# backend runs on cpu1 under callgrind, far slower, so the driver keeps its
# ring full with a small share of cpu0.
# Callgrind starts with instrumentation off (--instr-atstart=no): the
# start-up of testpmd or vu_sink runs uninstrumented, and callgrind_control
# switches it on just before the backend is told to start; it collects only
# inside the counted function (--toggle-collect), so the file holds that
# function's cost alone, nothing of start-up or shutdown.
#   guest TX (the backend dequeues): the driver in txonly mode;
#     DPDK: testpmd net_vhost, rxonly: Ir(rte_vhost_dequeue_burst) / RX-packets;
#     ours: bench/vu_sink: Ir(sink_burst) / packets (pop, copy each frame
#           out as DPDK copies into an mbuf, push, one flush per burst).
#   guest RX (the backend enqueues): the driver in rxonly mode (it posts
#   receive buffers and takes what comes);
#     DPDK: testpmd net_vhost, txonly: Ir(rte_vhost_enqueue_burst) / TX-packets;
#     ours: bench/vu_sink -r: Ir(source_burst) / packets (pop, write header
#           and frame, push with lengths, one flush per burst).
# Neither backend serves a ring before the driver has filled it (testpmd
# runs interactively and gets "start"; vu_sink -g gets SIGUSR1), and each
# stops ("stop", SIGINT) before the driver does, so no counted call meets a
# ring emptied by the driver starting late or going first.  The burst
# columns are packets per call of the counted function; testpmd's own burst
# record (--record-burst-stats) is printed under each row.
# Rows: frames of 64 and 1500 bytes; packed and split rings without
# mergeable buffers or in_order, and the driver's default (split; DPDK
# negotiates mergeable+in_order, our backend offers neither, so there the
# driver runs the plain split path against ours).
#
#   bench/vu_ipp.sh [SECONDS]      (or: make -C bench ipp [IPP_SECONDS=N])
#
# SECONDS: traffic per side and row (default 10; each side also takes the
# start of testpmd or vu_sink under valgrind).  VU_IPP_KEEP=DIR keeps the
# callgrind files and logs there; VU_IPP_ONLY=ours|dpdk runs one side;
# VU_IPP_DIRS="tx rx", VU_IPP_SIZES="64 1500" and VU_IPP_PATHS="packed split
# split-default" pick rows; VU_IPP_SINK_OPTS=-1 makes vu_sink use the
# one-buffer calls (guest TX only); VU_IPP_QUEUE_SIZE the ring size.  Exit 0
# with the table, 77 if a tool is missing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
sink=$build/bench/vu_sink
secs=${1:-${VU_IPP_SECONDS:-10}}
keep=${VU_IPP_KEEP:-}
only=${VU_IPP_ONLY:-}	# "ours" or "dpdk": one side only (when working on one of them)
qsize=${VU_IPP_QUEUE_SIZE:-16384}	# a deep ring rides out the generator being descheduled
sink_opts=${VU_IPP_SINK_OPTS:-}	# "-1": vu_sink with the one-buffer calls instead of bursts

for t in valgrind callgrind_annotate dpdk-testpmd; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
[ -x "$sink" ] || { echo "vu_ipp: $sink is missing (make -C bench)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vu_ipp.XXXXXX)
. "$top/bench/lib.sh"

cleanup() {
	bench_cleanup
	[ -n "$keep" ] && mkdir -p "$keep" && cp "$tmp"/*.cg "$tmp"/*.log "$keep"/ 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# generate NAME SOCK DEVARGS DIR SIZE: the native virtio_user driver, in the
# background (GEN is its pid): txonly for guest TX, rxonly (it posts receive
# buffers and takes what comes) for guest RX.  It runs on cpu0, the backend
# on cpu1.  It runs until stopped, after the backend: the backend is never
# left polling a ring the driver has stopped filling.
generate() {
	local name=$1 sock=$2 devargs=$3 dir=$4 size=$5 pfx=vuippg$$$1 mode=txonly
	local vdev="net_virtio_user0,path=$sock,queues=1,queue_size=$qsize$devargs"
	[ "$dir" = rx ] && mode=rxonly
	PREFIXES+=("$pfx")
	timeout -s INT -k 5 $((secs + 600)) dpdk-testpmd --lcores=0@0,1@0 \
		--main-lcore 1 --no-pci --no-huge -m 512 --file-prefix="$pfx" --vdev "$vdev" -- \
		--nb-cores=1 --forward-mode=$mode --txpkts="$size" --stats-period 5 \
		--txd="$qsize" --rxd="$qsize" --total-num-mbufs=$((2 * qsize + 8192)) --no-mlockall </dev/null \
		>"$tmp/$name.gen.log" 2>&1 &
	GEN=$!
	PIDS+=("$GEN")
}

# drive NAME SOCK DEVARGS DIR SIZE START STOP: start the driver, let it fill
# the ring, run START (the backend begins to serve the ring), wait $secs
# seconds, run STOP (the backend stops serving, the ring still fed), then
# stop the driver.  So no counted call of the backend meets a ring that is
# empty because the driver has not started yet or has already gone.
drive() {
	local name=$1 sock=$2 devargs=$3 dir=$4 size=$5 start=$6 finish=$7
	generate "$name" "$sock" "$devargs" "$dir" "$size"
	if ! wait_for 60 grep -q "start packet forwarding" "$tmp/$name.gen.log"; then
		tail -n 20 "$tmp/$name.gen.log" >&2
		echo "vu_ipp: $name: the driver did not start" >&2
	fi
	sleep 2
	$start
	sleep "$secs"
	$finish
	stop "$GEN"
	rm -rf "${DPDK_RUNDIR:?}/vuippg$$$name"
}

# instrument PID on|off: callgrind's instrumentation in the valgrind that
# PID (timeout) runs, switched through its gdbserver (callgrind_control).
instrument() {
	local vg

	vg=$(pgrep -P "$1") && callgrind_control -i "$2" "$vg" >/dev/null 2>&1 && return 0
	echo "vu_ipp: callgrind_control -i $2 failed" >&2
	return 1
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

prompts() { # LOG N: testpmd has prompted N times
	[ "$(grep -o "testpmd>" "$1" | wc -l)" -ge "$2" ]
}

# run_dpdk KEY DEVARGS DIR SIZE: sets IR, PK, CALLS and FN.  testpmd runs
# interactively, its commands from a fifo: "start" once the driver has
# filled the ring, "stop" (which prints the accumulated counts) before the
# driver goes.
run_dpdk() {
	local name=dpdk-$1 devargs=$2 dir=$3 size=$4 sock=$tmp/$1.dpdk.sock pfx=vuippd$$$1 p
	local mode=rxonly what=RX
	FN=rte_vhost_dequeue_burst
	[ "$dir" = rx ] && mode=txonly what=TX FN=rte_vhost_enqueue_burst
	PREFIXES+=("$pfx")
	mkfifo "$tmp/$name.in"
	timeout -s INT -k 30 $((secs + 600)) taskset -c 1 valgrind --tool=callgrind --fair-sched=yes \
		--instr-atstart=no --toggle-collect="$FN" --callgrind-out-file="$tmp/$name.cg" dpdk-testpmd --lcores=0@1,1@1 --main-lcore 0 --no-pci \
		--no-huge -m 512 --file-prefix="$pfx" --log-level=lib.vhost.config:warning \
		--vdev "net_vhost0,iface=$sock,queues=1" -- -i --nb-cores=1 --forward-mode=$mode \
		--total-num-mbufs=8192 --txpkts="$size" --record-burst-stats --no-mlockall \
		<"$tmp/$name.in" >"$tmp/$name.log" 2>&1 &
	p=$!
	PIDS+=("$p")
	exec 3>"$tmp/$name.in"
	if ! wait_for 240 grep -q "testpmd>" "$tmp/$name.log" || ! wait_for 20 test -S "$sock"; then
		exec 3>&-
		tail -n 20 "$tmp/$name.log" >&2
		echo "vu_ipp: $name: testpmd did not start" >&2
		return 1
	fi
	dpdk_start() { instrument "$p" on && echo start >&3; }
	# stop returns when the forwarding lcore has stopped, then testpmd
	# prompts again: its third prompt (the statistics stop prints are
	# buffered until it exits, its prompt is not).
	dpdk_stop() {
		echo stop >&3
		wait_for 120 prompts "$tmp/$name.log" 3
		instrument "$p" off
	}
	drive "$name" "$sock" "$devargs" "$dir" "$size" dpdk_start dpdk_stop
	echo quit >&3
	exec 3>&-
	stop "$p"
	rm -rf "${DPDK_RUNDIR:?}/$pfx"
	PK=$(sed -n '/Accumulated forward statistics/,/+++++*$/p' "$tmp/$name.log" |
		sed -n "s/.*$what-packets: *\([0-9]*\).*/\1/p" | head -n 1)
	PK=${PK:-0}
	IR=$(ir "$tmp/$name.cg" "$FN")
	CALLS=$(calls "$tmp/$name.cg" "$FN")
}

# run_ours KEY DEVARGS DIR SIZE: sets IR, PK, CALLS and FN.  vu_sink -g
# serves the rings from SIGUSR1 on and stops at SIGINT.
run_ours() {
	local name=ours-$1 devargs=$2 dir=$3 size=$4 sock=$tmp/$1.ours.sock p opts=$sink_opts
	FN=sink_burst
	[ "$dir" = rx ] && FN=source_burst opts="-r -s $size"
	case $devargs in *mrg_rxbuf=1*) opts+=" -m" ;; esac	# vu_sink offers mrg+in_order
	timeout -s INT -k 30 $((secs + 600)) taskset -c 1 valgrind --tool=callgrind \
		--fair-sched=yes --instr-atstart=no --toggle-collect="$FN" \
		--callgrind-out-file="$tmp/$name.cg" "$sink" "$sock" -g $opts \
		</dev/null >"$tmp/$name.log" 2>&1 &
	p=$!
	PIDS+=("$p")
	if ! wait_for 60 test -S "$sock"; then
		tail -n 20 "$tmp/$name.log" >&2
		echo "vu_ipp: $name: vu_sink did not start" >&2
		return 1
	fi
	# timeout passes SIGINT on, not SIGUSR1: that one goes to its child.
	ours_start() { instrument "$p" on && pkill -USR1 -P "$p"; }
	ours_stop() { stop "$p"; }
	drive "$name" "$sock" "$devargs" "$dir" "$size" ours_start ours_stop
	PK=$(sed -n 's/^packets \([0-9]*\) .*/\1/p' "$tmp/$name.log")
	PK=${PK:-0}
	IR=$(ir "$tmp/$name.cg" "$FN")
	CALLS=$(calls "$tmp/$name.cg" "$FN")
}

# inside FILE FUNCTION PACKETS: where FUNCTION's instructions go, per packet:
# its own, then each function it calls (inclusive), most first.  DPDK's
# internal functions have no symbols in Debian's build: they show as
# addresses in their library.
inside() {
	callgrind_annotate --tree=calling --inclusive=no --threshold=100 "$1" 2>/dev/null |
		awk -v f="$2" -v pk="$3" '
		function name(s) { sub(/ \[.*/, "", s); sub(/.*:/, "", s); return s }
		$0 ~ ("\\* ???:" f " ") || $0 ~ ("\\* .*:" f " ") { on = 1; ir = $1; gsub(",", "", ir)
			printf "%7.1f %s (itself)\n", ir / pk, f; next }
		on && /^ *$/ { exit }
		on && />/ { ir = $1; gsub(",", "", ir); line = $0; sub(/.*> +/, "", line)
			sub(/ \([0-9,]+x\)/, "", line); printf "%7.1f %s\n", ir / pk, name(line) }' |
		sort -rn | head -n 8
}

per() { # IR PACKETS [DIGITS]
	awk -v i="$1" -v p="$2" -v d="${3:-1}" \
		'BEGIN { if (i > 0 && p > 0) printf "%.*f", d, i / p; else print "-" }'
}

echo "vhost-user data path, instructions per packet under callgrind"
echo "($(date -u '+%F %H:%M UTC'), ${secs} s of traffic per side and row, ring of $qsize)"
echo "guest TX: DPDK Ir(rte_vhost_dequeue_burst) / testpmd RX-packets;"
echo "          ours Ir(sink_burst) / packets it counted (bench/vu_sink)"
echo "guest RX: DPDK Ir(rte_vhost_enqueue_burst) / testpmd TX-packets;"
echo "          ours Ir(source_burst) / packets it wrote (bench/vu_sink -r)"
echo "burst: packets per call of the counted function (32: every call found a full ring)"
printf '%-44s %9s %9s %9s %9s %5s %5s %6s\n' "path" "DPDK" "ours" "DPDK" "ours" "burst" \
	"burst" "ratio"
printf '%-44s %9s %9s %9s %9s %5s %5s %6s\n' "" "Ir/pkt" "Ir/pkt" "pkts" "pkts" DPDK ours \
	"ours/"
rc=0
paths=(
	"packed|packed, non-mergeable|,packed_vq=1,mrg_rxbuf=0,in_order=0"
	"split|split, non-mergeable|,mrg_rxbuf=0,in_order=0"
	"split-default|split, driver default (DPDK: mrg+in_order; ours: plain)|"
	"packed-mrg|packed, mergeable+in_order|,packed_vq=1,mrg_rxbuf=1,in_order=1"
	"split-mrg|split, mergeable+in_order|,mrg_rxbuf=1,in_order=1"
)
short=()
for dir in ${VU_IPP_DIRS:-tx rx}; do
for size in ${VU_IPP_SIZES:-64 1500}; do
for row in "${paths[@]}"; do
	IFS='|' read -r name label devargs <<<"$row"
	case " ${VU_IPP_PATHS:-$name} " in *" $name "*) ;; *) continue ;; esac
	key=$dir-$size-$name
	dir_label="guest TX"
	[ "$dir" = rx ] && dir_label="guest RX"
	dir_label="$dir_label $size B, $label"
	dir_ir=0 dpk=0 dcl=0 oir=0 opk=0 ocl=0
	if [ "$only" != ours ]; then
		run_dpdk "$key" "$devargs" "$dir" "$size" || { rc=1; continue; }
		dir_ir=${IR:-0} dpk=$PK dcl=$CALLS dfn=$FN
	fi
	if [ "$only" != dpdk ]; then
		run_ours "$key" "$devargs" "$dir" "$size" || { rc=1; continue; }
		oir=${IR:-0} opk=$PK ocl=$CALLS ofn=$FN
	fi
	d=$(per "$dir_ir" "$dpk")
	o=$(per "$oir" "$opk")
	ratio=$(awk -v o="$o" -v d="$d" \
		'BEGIN { if (o + 0 > 0 && d + 0 > 0) printf "%.2f", o / d; else print "n/a" }')
	db=$(per "$dpk" "$dcl") ob=$(per "$opk" "$ocl")
	awk -v a="$db" -v b="$ob" -v o="$only" 'BEGIN { exit !((o != "ours" && a != "-" && a < 24) ||
		(o != "dpdk" && b != "-" && b < 24)) }' && short+=("$dir_label: bursts $db / $ob")
	printf '%-44s %9s %9s %9s %9s %5s %5s %6s\n' "$dir_label" "$d" "$o" "$dpk" "$opk" "$db" \
		"$ob" "$ratio"
	if [ "$only" != ours ]; then
		# testpmd's own record of its bursts (--record-burst-stats)
		grep -m1 -E '(RX|TX)-bursts' "$tmp/dpdk-$key.log" | sed 's/^ */    DPDK /'
	fi
	if [ -n "${VU_IPP_TOP-1}" ] && [ "$dir_ir" -gt 0 ] && [ "$dpk" -gt 0 ]; then
		echo "    DPDK, Ir per packet inside $dfn:"
		inside "$tmp/dpdk-$key.cg" "$dfn" "$dpk" | sed 's/^/      /'
	fi
	if [ -n "${VU_IPP_TOP-1}" ] && [ "$oir" -gt 0 ] && [ "$opk" -gt 0 ]; then
		echo "    ours, Ir per packet inside $ofn:"
		inside "$tmp/ours-$key.cg" "$ofn" "$opk" | sed 's/^/      /'
	fi
done
done
done
for l in "${short[@]}"; do
	echo "short bursts (under 24 packets per call): $l"
done
exit $rc
