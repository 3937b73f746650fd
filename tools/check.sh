#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check: install what is missing, build everything with warnings as
# errors, run the host tests, then the selftests in the test VM.  Ends with
# the time of each stage (the slowest visible) and one line "N passed, N
# failed, N skipped" over both stages.  Fails when a stage fails or did not
# run; under CI a skipped selftest is a failure too.  A VM that fails before
# the tests start is an infrastructure failure, said as such, never a pass.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-$top/build}
mkdir -p "$build/check"
stage_names=() stage_secs=()
stage_t0=
stage_end() {
	[ -n "$stage_t0" ] || return 0
	stage_secs+=("$((SECONDS - stage_t0))")
	stage_t0=
}
stage() {
	stage_end
	printf '\n== %s\n' "$*"
	stage_names+=("$*")
	stage_t0=$SECONDS
}
die() { echo "check: error: $*" >&2; exit 1; }

stage "dependencies"
tools/deps.sh || die "missing packages (see above)"

stage "build (warnings are errors)"
make -j2 all WERROR=1 || die "the build failed"

if [ -f kmod/Makefile ]; then
	stage "kernel coding style (checkpatch --strict)"
	eval "$(tools/vm/ksft.sh)" || die "cannot get checkpatch"
	make --no-print-directory -s -C kmod checkpatch CHECKPATCH="$CHECKPATCH" ||
		die "kmod/ is not checkpatch clean"
	echo "  kmod/ is checkpatch clean"
fi

stage "documentation (Sphinx, warnings are errors)"
make --no-print-directory htmldocs || die "make htmldocs failed"

stage "tool tests (deps.sh, programs the scripts call, install, symbols, DKMS, .debs)"
{
	tools/tests/deps_test.sh
	tools/tests/programs_test.py
	tools/tests/symbols_test.sh
	tools/tests/install_test.sh
	tools/tests/dkms_test.sh
	tools/tests/deb_test.sh
} 2>&1 | tee "$build/check/tools.log"

# The VM runs its vCPUs in one host thread: the host tests run beside it,
# on the other CPU, and the VM's output is shown when both are done.
stage_end
vm_t0=$SECONDS
(
	tools/vm/run -- selftests/run_tests.sh >"$build/check/vm.log" 2>&1
	echo $? >"$build/check/vm.rc"
) &
vm_pid=$!
stage "host tests (the VM boots and runs the selftests meanwhile)"
make --no-print-directory -C libvhostctl check WERROR=1 2>&1 | tee "$build/check/host.log"
host_rc=${PIPESTATUS[0]}
# The CLI's tests (tools/vhostctl/tests) add their own "host:" line.
make --no-print-directory -C tools/vhostctl check WERROR=1 2>&1 | tee -a "$build/check/host.log"
[ "${PIPESTATUS[0]}" = 0 ] || host_rc=1
stage "fuzz targets on their corpora (a regression test, ${FUZZ_CHECK_TIME:-5} s each)"
make --no-print-directory -C fuzz check WERROR=1 2>&1 | tee "$build/check/fuzz.log"
fuzz_rc=${PIPESTATUS[0]}
stage_end

printf '\n== selftests in the VM\n'
wait "$vm_pid"
cat "$build/check/vm.log"
vm_rc=$(cat "$build/check/vm.rc" 2>/dev/null || echo 1)
stage_names+=("selftests in the VM (beside the host tests)")
stage_secs+=("$((SECONDS - vm_t0))")

counts() { sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p" "$2" | tail -n 1; }
# One "host:" line from the library's tests, one from the CLI's: both must be there.
read -r hp hf hs <<<"$(sed -n 's/^host: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
	"$build/check/host.log" | awk '{ p += $1; f += $2; s += $3 } END { if (NR == 2) print p, f, s }')"
read -r vp vf vs <<<"$(counts selftests "$build/check/vm.log")"
ok=1
# The tool tests print a "tools:" line each; a missing line is a failure.
tp=0 tf=0
while read -r p f; do
	tp=$((tp + p)) tf=$((tf + f))
done < <(sed -n 's/^tools: \([0-9]*\) passed, \([0-9]*\) failed, 0 skipped$/\1 \2/p' "$build/check/tools.log")
[ "$(grep -c '^tools: ' "$build/check/tools.log")" = 6 ] || { echo "check: error: a tool test did not finish" >&2; tf=$((tf + 1)); }
[ "$tf" = 0 ] || ok=
if [ -z "${hp:-}" ]; then
	echo "check: error: the host tests did not run to the end" >&2
	hp=0 hf=1 hs=0 ok=
fi
if [ -z "${vp:-}" ]; then
	if [ "$vm_rc" = 123 ]; then
		echo "check: error: infrastructure failure: the test VM did not boot to the tests" \
			"(console log: $build/vm/console.log); no selftest ran" >&2
	else
		echo "check: error: the VM stage did not run to the end (exit $vm_rc):" \
			"see $build/vm/console.log" >&2
	fi
	vp=0 vf=1 vs=0 ok=
fi
read -r fp ff fs <<<"$(counts fuzz "$build/check/fuzz.log")"
if [ -z "${fp:-}" ]; then
	echo "check: error: the fuzz targets did not run to the end" >&2
	fp=0 ff=1 fs=0
fi
[ "$fuzz_rc" = 0 ] && [ "$ff" = 0 ] || ok=
[ "$host_rc" = 0 ] && [ "$hf" = 0 ] || ok=
[ "$vm_rc" = 0 ] && [ "$vf" = 0 ] || ok=
if [ "${CI:-}" = true ] && [ "$vs" != 0 ]; then
	echo "check: error: $vs selftests skipped in CI, where every one must run" >&2
	ok=
fi

echo
echo "Stage times (seconds):"
for i in "${!stage_names[@]}"; do
	printf '  %5s  %s\n' "${stage_secs[$i]:-?}" "${stage_names[$i]}"
done
sed -n 's/^# boot: \([0-9.]*\) s.*/  \1 s VM boot, kernel start to the first selftest/p' "$build/check/vm.log"
sed -n 's/^# time: \(.*\) \([0-9.]*\) s$/\2 \1/p' "$build/check/vm.log" | sort -rn |
	awk '{ printf "  %7s  selftest %s\n", $1, $2 }'
sed -n 's/^# host-time: \(.*\) \([0-9.]*\) s$/\2 \1/p' "$build/check/host.log" | sort -rn | head -n 5 |
	awk '{ printf "  %7s  host test %s\n", $1, $2 }'
echo "  $SECONDS  in all"
echo
echo "tools: $tp passed, $tf failed; host: $hp passed, $hf failed, $hs skipped;" \
	"fuzz: $fp passed, $ff failed; VM selftests: $vp passed, $vf failed, $vs skipped"
echo "$((tp + hp + fp + vp)) passed, $((tf + hf + ff + vf)) failed, $((hs + fs + vs)) skipped"
[ -n "$ok" ]
