#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check: install what is missing, build everything with warnings as
# errors, run the host tests, then the selftests in the test VM.  Ends with
# one line "N passed, N failed, N skipped" over both stages.  Fails when a
# stage fails or did not run; under CI a skipped selftest is a failure too.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-$top/build}
mkdir -p "$build/check"
stage() { printf '\n== %s\n' "$*"; }
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

stage "host tests"
make --no-print-directory -C libvhostctl check WERROR=1 2>&1 | tee "$build/check/host.log"
host_rc=${PIPESTATUS[0]}

stage "selftests in the VM"
tools/vm/run -- selftests/run_tests.sh 2>&1 | tee "$build/check/vm.log"
vm_rc=${PIPESTATUS[0]}

counts() { sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p" "$2" | tail -n 1; }
read -r hp hf hs <<<"$(counts host "$build/check/host.log")"
read -r vp vf vs <<<"$(counts selftests "$build/check/vm.log")"
ok=1
if [ -z "${hp:-}" ]; then
	echo "check: error: the host tests did not run to the end" >&2
	hp=0 hf=1 hs=0 ok=
fi
if [ -z "${vp:-}" ]; then
	echo "check: error: the VM stage did not run (exit $vm_rc): see $build/vm/console.log" >&2
	vp=0 vf=1 vs=0 ok=
fi
[ "$host_rc" = 0 ] && [ "$hf" = 0 ] || ok=
[ "$vm_rc" = 0 ] && [ "$vf" = 0 ] || ok=
if [ "${CI:-}" = true ] && [ "$vs" != 0 ]; then
	echo "check: error: $vs selftests skipped in CI, where every one must run" >&2
	ok=
fi
echo
echo "host: $hp passed, $hf failed, $hs skipped; VM selftests: $vp passed, $vf failed, $vs skipped"
echo "$((hp + vp)) passed, $((hf + vf)) failed, $((hs + vs)) skipped"
[ -n "$ok" ]
