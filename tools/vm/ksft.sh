#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Make the kselftest harness and checkpatch available, without committing
# them: they are taken from Debian's linux-source-6.12 package (GPL-2.0) into
# a cache, or from a kernel tree named by KSFT_DIR (its top directory, or a
# directory that holds kselftest_harness.h itself).  Prints, for eval:
#
#   KSFT_INC=<dir with kselftest_harness.h and kselftest.h>
#   CHECKPATCH=<path of checkpatch.pl, next to spelling.txt and const_structs.checkpatch>
set -euo pipefail

CACHE=${VHOSTCTL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhostctl}
log() { echo "ksft: $*" >&2; }
die() { echo "ksft: error: $*" >&2; exit 1; }

FILES="tools/testing/selftests/kselftest_harness.h tools/testing/selftests/kselftest.h
scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch"

have_all() {
	local f
	for f in $FILES; do
		[ -s "$1/$f" ] || return 1
	done
}

if [ -n "${KSFT_DIR:-}" ]; then
	if [ -f "$KSFT_DIR/kselftest_harness.h" ]; then
		echo "KSFT_INC=$KSFT_DIR"
		if [ -f "$KSFT_DIR/../../../scripts/checkpatch.pl" ]; then
			echo "CHECKPATCH=$(cd "$KSFT_DIR/../../.." && pwd)/scripts/checkpatch.pl"
		fi
		exit 0
	fi
	have_all "$KSFT_DIR" || die "KSFT_DIR=$KSFT_DIR holds neither kselftest_harness.h nor a kernel tree"
	echo "KSFT_INC=$KSFT_DIR/tools/testing/selftests"
	echo "CHECKPATCH=$KSFT_DIR/scripts/checkpatch.pl"
	exit 0
fi

candidate() {
	apt-cache policy linux-source-6.12 2>/dev/null | sed -n 's/^ *Candidate: *\([^ (]*\)$/\1/p'
}

ver=$(candidate)
if [ -z "$ver" ] && [ "$(id -u)" = 0 ]; then
	log "apt lists have no linux-source-6.12, running apt-get update"
	apt-get update -qq >&2 || true
	ver=$(candidate)
fi
if [ -z "$ver" ]; then
	# No archive at hand: use the newest complete cache entry.
	for d in $(ls -d "$CACHE"/ksft-* 2>/dev/null | sort -V -r); do
		if have_all "$d"; then
			ver=${d##*/ksft-}
			break
		fi
	done
	[ -n "$ver" ] || die "linux-source-6.12 is not in the apt sources and nothing is cached (or set KSFT_DIR=)"
fi

dir=$CACHE/ksft-$ver
if ! have_all "$dir"; then
	tmp=$CACHE/ksft-tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	log "fetching linux-source-6.12 $ver (kselftest harness, checkpatch)"
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "linux-source-6.12=$ver" >&2) ||
		die "apt-get download linux-source-6.12=$ver failed (or set KSFT_DIR= to a kernel tree)"
	deb=$(ls "$tmp"/linux-source-6.12_*.deb)
	members=
	for f in $FILES; do
		members="$members linux-source-6.12/$f"
	done
	# shellcheck disable=SC2086
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.12.tar.xz |
		tar -xJ -C "$tmp" $members || die "cannot extract the harness from $deb"
	rm -rf "$dir"
	mkdir -p "$dir"
	for f in $FILES; do
		mkdir -p "$dir/$(dirname "$f")"
		mv "$tmp/linux-source-6.12/$f" "$dir/$f"
	done
	have_all "$dir" || die "$dir is incomplete after extraction"
fi

echo "KSFT_INC=$dir/tools/testing/selftests"
echo "CHECKPATCH=$dir/scripts/checkpatch.pl"
