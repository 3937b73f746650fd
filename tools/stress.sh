#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make stress: what proves a flaky test fixed.  Runs each host test N times
# pinned to one CPU with a CPU hog pinned beside it (the interleavings a
# quiet, unpinned run never shows), then M boots of the test VM with every
# host CPU loaded.  Prints the failures of each test and of the boots; the
# output of every failed run is kept.  Not part of make check.
#
#   tools/stress.sh [-n RUNS] [-m BOOTS] [-c CPU] [TEST...]
#     -n RUNS   runs of each host test (default 200; STRESS_RUNS)
#     -m BOOTS  VM boots, tools/vm/run -- true (default 0; STRESS_BOOTS)
#     -c CPU    the CPU the tests and the hog share (default 1)
#     TEST      host test names (default: every program in build/tests)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
runs=${STRESS_RUNS:-200} boots=${STRESS_BOOTS:-0} cpu=1
while getopts n:m:c: o; do
	case $o in
	n) runs=$OPTARG ;;
	m) boots=$OPTARG ;;
	c) cpu=$OPTARG ;;
	*) sed -n 's/^#   \{0,1\}//p' "$0" | sed -n '/^tools/,$p' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
out=$build/stress
rm -rf "$out"
mkdir -p "$out"
tests=("$@")
if [ ${#tests[@]} = 0 ]; then
	for t in "$build"/tests/*; do
		[ -f "$t" ] && [ -x "$t" ] && tests+=("$(basename "$t")")
	done
fi
[ ${#tests[@]} -gt 0 ] || [ "$boots" -gt 0 ] || { echo "stress: nothing to run (make all first)" >&2; exit 2; }

hogs=()
hog() { taskset -c "$1" sh -c 'while :; do :; done' & hogs+=($!); }
stop_hogs() { [ ${#hogs[@]} = 0 ] || kill "${hogs[@]}" 2>/dev/null; wait "${hogs[@]}" 2>/dev/null; hogs=(); }
trap stop_hogs EXIT

total_fail=0
if [ ${#tests[@]} -gt 0 ] && [ "$runs" -gt 0 ]; then
	echo "== ${#tests[@]} host tests, $runs runs each, pinned to CPU $cpu beside a CPU hog"
	hog "$cpu"
	for name in "${tests[@]}"; do
		t=$build/tests/$name
		[ -x "$t" ] || { echo "stress: no test $t" >&2; total_fail=$((total_fail + 1)); continue; }
		fails=0 skips=0 t0=$SECONDS
		for ((i = 1; i <= runs; i++)); do
			taskset -c "$cpu" timeout -k 5 300 "$t" >"$out/$name.run" 2>&1
			case $? in
			0) ;;
			77) skips=$((skips + 1)) ;;
			*) fails=$((fails + 1)); mv "$out/$name.run" "$out/$name.fail.$i" ;;
			esac
		done
		rm -f "$out/$name.run"
		printf '%-16s %4d runs  %3d failed  %3d skipped  %4d s\n' "$name" "$runs" "$fails" "$skips" \
			"$((SECONDS - t0))"
		[ "$fails" = 0 ] || grep -h -m 1 -E 'FAIL|not ok|Assertion' "$out/$name".fail.* | sort | uniq -c | sed 's/^/    /'
		total_fail=$((total_fail + fails))
	done
	stop_hogs
fi

if [ "$boots" -gt 0 ]; then
	echo "== $boots VM boots (tools/vm/run -- true), every host CPU loaded"
	for ((c = 0; c < $(nproc); c++)); do hog "$c"; done
	ok=0 infra=0 panic=0 other=0 t0=$SECONDS
	for ((i = 1; i <= boots; i++)); do
		"$top/tools/vm/run" --quiet --timeout 300 -- true >"$out/boot.run" 2>&1
		rc=$?
		log=$build/vm/console.log
		if grep -qE 'Kernel panic|Oops|BUG:|WARNING:' "$log"; then
			# A panicked boot also fails: count it once, as a panic.
			panic=$((panic + 1)); cp "$log" "$out/boot.panic.$i"
			continue
		fi
		case $rc in
		0) ok=$((ok + 1)) ;;
		123) infra=$((infra + 1)); cp "$log" "$out/boot.infra.$i" ;;
		*) other=$((other + 1)); cp "$log" "$out/boot.fail.$i" ;;
		esac
	done
	stop_hogs
	printf 'boots: %d, ok %d, infrastructure failures %d, other failures %d, kernel oops/panic %d, %d s\n' \
		"$boots" "$ok" "$infra" "$other" "$panic" "$((SECONDS - t0))"
	total_fail=$((total_fail + boots - ok))
fi
echo "stress: $total_fail failures (outputs of failed runs in $out)"
[ "$total_fail" = 0 ]
