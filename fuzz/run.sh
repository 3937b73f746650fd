#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the fuzz targets (fuzz/Makefile calls this; FDIR is the build directory).
#
#   run.sh fuzz SECONDS TARGET...   fuzz each target SECONDS from corpus/TARGET; what is
#                                   new goes to FDIR/work/TARGET, findings to FDIR/artifacts/
#   run.sh check SECONDS TARGET...  every corpus input once, then SECONDS of fuzzing: a
#                                   regression test; nothing is written to corpus/
#   run.sh merge 0 TARGET...        minimise corpus/TARGET with what fuzz found (the
#                                   regress-* inputs, each a fixed finding, are always kept)
#   run.sh cov 0 TARGET...          coverage build over corpus/TARGET: llvm-cov line report
#                                   of the target's sources, unreached lines in FDIR/cov/
#
# Ends with "fuzz: N passed, N failed, 0 skipped"; exits 1 when a target failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
mode=$1 secs=$2
shift 2
FDIR=${FDIR:?}
src=../libvhostctl/src
# The library sources each target is there to cover.
declare -A sources=(
	[backend]="vu_backend.c vu_backend_req.c vu_backend_drain.c vu_backend_state.c vu_wire.c
		   vu_net.c vu_blk.c blk_req.c devq.c devq_split.c devq_packed.c devq_inflight.c
		   devq_mem.c"
	[frontend]="vu_frontend.c vu_frontend_ops.c vu_frontend_mem.c vu_wire.c"
	[ring]="devq.c devq_split.c devq_packed.c devq_inflight.c devq_mem.c"
	[vdpa]="vdpa_mgmt.c vdpa_rec.c"
	[cli]="../../tools/vhostctl/args.c ../../tools/vhostctl/batch_parse.c ../../tools/vhostctl/up_args.c"
)
opts=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
pass=0 fail=0

stat() { sed -n "s/^stat::$1: *\([0-9]*\)/\1/p" "$2" | tail -n 1; }

for t in "$@"; do
	bin=$FDIR/fuzz_$t
	log=$FDIR/logs/$t.$mode.log
	art=$FDIR/artifacts/$t/
	mkdir -p "$FDIR/logs" "$art" "corpus/$t"
	case $mode in
	fuzz|check)
		if [ "$mode" = fuzz ]; then
			work=$FDIR/work/$t
			mkdir -p "$work"
		else
			work=$(mktemp -d)
		fi
		before=$(ls "$art" | wc -l)
		"$bin" "${opts[@]}" -max_total_time="$secs" -artifact_prefix="$art" \
			"$work" "corpus/$t" >"$log" 2>&1
		rc=$?
		[ "$mode" = check ] && rm -rf "$work"
		found=$(($(ls "$art" | wc -l) - before))
		execs=$(stat number_of_executed_units "$log")
		if [ "$rc" = 0 ] && [ "$found" = 0 ]; then
			pass=$((pass + 1))
			echo "fuzz: $t: ${execs:-0} executions in ${secs} s, $(ls "corpus/$t" | wc -l) corpus inputs, 0 crashes"
		else
			fail=$((fail + 1))
			echo "fuzz: $t: FAILED (exit $rc, $found new findings in $art), log: $log" >&2
			grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: )' "$log" | head -n 5 >&2
		fi
		;;
	merge)
		tmp=$(mktemp -d)
		if "$bin" -merge=1 "$tmp" "corpus/$t" "$FDIR/work/$t" >"$log" 2>&1; then
			find "corpus/$t" -type f ! -name 'regress-*' -delete
			cp "$tmp"/* "corpus/$t"/ 2>/dev/null
			pass=$((pass + 1))
			echo "fuzz: $t: corpus minimised to $(ls "corpus/$t" | wc -l) inputs"
		else
			fail=$((fail + 1))
			echo "fuzz: $t: merge failed, log: $log" >&2
		fi
		rm -rf "$tmp"
		;;
	cov)
		cov=$FDIR/cov
		rm -f "$cov/$t.profraw"
		LLVM_PROFILE_FILE=$cov/$t.profraw "$cov/fuzz_$t" -runs=0 "corpus/$t" >"$log" 2>&1
		${LLVM_PROFDATA:-llvm-profdata} merge -sparse -o "$cov/$t.profdata" "$cov/$t.profraw" || {
			fail=$((fail + 1)); continue; }
		files=()
		for f in ${sources[$t]}; do files+=("$src/$f"); done
		echo "== $t"
		${LLVM_COV:-llvm-cov} report "$cov/fuzz_$t" -instr-profile="$cov/$t.profdata" \
			"${files[@]}" | awk '$1 !~ /^(Filename|-)/ && NF >= 10 { sub(".*/", "", $1)
				printf "  %-16s lines %5s of %5s covered, %s\n", $1, $8 - $9, $8, $10 }'
		${LLVM_COV:-llvm-cov} show "$cov/fuzz_$t" -instr-profile="$cov/$t.profdata" \
			"${files[@]}" >"$cov/$t.show.txt"
		echo "  unreached lines: $cov/$t.show.txt (count 0)"
		pass=$((pass + 1))
		;;
	*)
		echo "run.sh: unknown mode $mode" >&2
		exit 2
		;;
	esac
done
echo "fuzz: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
