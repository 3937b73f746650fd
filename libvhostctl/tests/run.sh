#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#
# Run host test programs, each under a time limit; TAP output and a closing
# "host: N passed, N failed, N skipped" line.  Exit 1 if any failed.
set -u
limit=${VHOSTCTL_TEST_TIMEOUT:-120}
pass=0 fail=0 skip=0 n=0
times=()
echo "TAP version 13"
echo "1..$#"
for t in "$@"; do
	n=$((n + 1))
	name=$(basename "$t")
	t0=$(date +%s.%N)
	out=$(timeout -k 5 "$limit" "$t" 2>&1)
	rc=$?
	times+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') $name")
	if [ -n "$out" ]; then
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
	case $rc in
	0) echo "ok $n $name"; pass=$((pass + 1)) ;;
	77) echo "ok $n $name # SKIP $(printf '%s\n' "$out" | sed -n 's/^SKIP: //p' | head -n 1)"; skip=$((skip + 1)) ;;
	124|137) echo "not ok $n $name # TIMEOUT ${limit}s"; fail=$((fail + 1)) ;;
	*) echo "not ok $n $name # exit=$rc"; fail=$((fail + 1)) ;;
	esac
done
for t in "${times[@]}"; do
	echo "# host-time: ${t#* } ${t%% *} s"
done
echo "host: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
