#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#
# Released symbol versions never change.  Every node of the version script
# older than the VERSION being made (X.Y) was released: its exports must be
# exactly those recorded in RECORD.  The newest node must be VHOSTCTL_X.Y,
# the open one, where new exports go.  An export added to a released node,
# or a node with no VERSION for it, fails here.
#
#   check-symbols.sh MAP VERSION RECORD
#   check-symbols.sh --freeze MAP VERSION RECORD   rewrite RECORD after a
#                                                  VERSION bump
set -euo pipefail
freeze=
[ "${1:-}" = --freeze ] && { freeze=1; shift; }
map=$1
version=$2
record=$3
here=$(dirname "$0")
open=$(echo "$version" | sed -n 's/^\([0-9]*\)\.\([0-9]*\)\.[0-9]*$/\1.\2/p')
[ -n "$open" ] || { echo "check-symbols: VERSION '$version' is not X.Y.Z" >&2; exit 1; }
prev=$(echo "$open" | awk -F. '{ printf "%d.%d", $1, $2 - 1 }')

# Released nodes: those before the open one (X.Y-1 and older).
released=$("$here"/gen-symbols.sh "$map" "$prev" | sed 1,2d)
if [ -n "$freeze" ]; then
	{
		echo "# Exports of the released nodes of libvhostctl.map, written by"
		echo "# scripts/check-symbols.sh --freeze; never edit a line."
		echo "$released"
	} >"$record"
	exit 0
fi

fail=0
newest=$(sed -n 's/^\(VHOSTCTL_[0-9]*\.[0-9]*\) *{.*/\1/p' "$map" | sort -V | tail -n 1)
if [ "$newest" != "VHOSTCTL_$open" ]; then
	echo "check-symbols: the newest node of $map is $newest, but VERSION $version" \
		"opens VHOSTCTL_$open: bump VERSION (and NEWS) with a new node" >&2
	fail=1
fi
recorded=$(grep -v '^#' "$record" || true)
while read -r line; do
	[ -n "$line" ] || continue
	echo "check-symbols: released node changed: $line" >&2
	fail=1
done < <(diff <(echo "$recorded") <(echo "$released") | sed -n 's/^> /added:   /p; s/^< /removed: /p')
if [ "$fail" = 1 ]; then
	echo "check-symbols: exports of a released node never change; new ones go in" \
		"VHOSTCTL_$open" >&2
	exit 1
fi
n=$(echo "$released" | grep -c . || true)
echo "  SYMBOLS  $n released symbol versions unchanged; new exports go in VHOSTCTL_$open"
