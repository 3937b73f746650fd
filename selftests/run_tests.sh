#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the selftests (inside the test VM, as root): every built *_test program
# and every executable *_test.sh, each under the timeout of ./settings.
# KTAP output, then "selftests: N passed, N failed, N skipped", counting test
# cases (the harness's Totals line), never a skip as a pass.
#   run_tests.sh [-t NAME]...     run only the named tests (program or script)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${BUILD:-$top/build}
timeout=$(sed -n 's/^timeout=//p' "$here/settings")
only=()
while [ $# -gt 0 ]; do
	case $1 in
	-t) only+=("$2"); shift ;;
	*) echo "usage: run_tests.sh [-t NAME]..." >&2; exit 2 ;;
	esac
	shift
done

tests=()
for t in "$build"/selftests/*_test "$here"/*_test.sh; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if [ ${#only[@]} -gt 0 ]; then
		keep=
		for o in "${only[@]}"; do
			[ "$o" = "$name" ] || [ "$o" = "${name%.sh}" ] && keep=1
		done
		[ -n "$keep" ] || continue
	fi
	tests+=("$t")
done

pass=0 fail=0 skip=0 n=0
times=()
now() { cut -d' ' -f1 /proc/uptime; }
# The kernel's uptime here is how long the VM took to boot to the tests.
echo "# boot: $(now) s from kernel start to the first test"
dmesg -C 2>/dev/null
echo "TAP version 13"
echo "1..$((${#tests[@]} + 1))"
for t in "${tests[@]}"; do
	n=$((n + 1))
	name=$(basename "$t")
	echo "# selftests: $name"
	log=/tmp/selftest-$name.log
	t0=$(now)
	(cd /tmp && timeout -k 10 "$timeout" "$t") >"$log" 2>&1
	rc=$?
	times+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') $name")
	sed 's/^/# /' "$log"
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:\([0-9]*\) skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' "$log" | tail -n 1)
	if [ -n "$totals" ]; then
		read -r p f xf xp s e <<<"$totals"
		pass=$((pass + p + xf))
		fail=$((fail + f + xp + e))
		skip=$((skip + s))
		# A harness that died before its Totals line counts as a failure.
		[ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$((f + xp + e))" = 0 ] && fail=$((fail + 1))
	else
		case $rc in
		0) pass=$((pass + 1)) ;;
		4) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	fi
	case $rc in
	0) echo "ok $n selftests: $name" ;;
	4) echo "ok $n selftests: $name # SKIP" ;;
	124|137) echo "not ok $n selftests: $name # TIMEOUT $timeout seconds" ;;
	*) echo "not ok $n selftests: $name # exit=$rc" ;;
	esac
done

# The kernel must not have warned, oopsed or leaked along the way.
n=$((n + 1))
bad='WARNING:|BUG:|Oops|general protection|kmemleak|UBSAN|KASAN'
if dmesg | grep -q -E "$bad"; then
	# each report with what follows it (the call trace), to find the cause
	dmesg | grep -A 40 -E "$bad" | sed 's/^/# /'
	echo "not ok $n selftests: kernel log clean"
	fail=$((fail + 1))
else
	echo "ok $n selftests: kernel log clean"
	pass=$((pass + 1))
fi
for t in "${times[@]}"; do
	echo "# time: ${t#* } ${t%% *} s"
done
echo "selftests: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
