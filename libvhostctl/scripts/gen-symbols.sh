#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#
# Write a Debian symbols file (deb-symbols(5)) from the version script: each
# export is tagged with its node, VHOSTCTL_X.Y, and the package version that
# first shipped it, X.Y.0.  debian/rules writes libvhostctl0's file with it.
#
#   gen-symbols.sh MAP [MAX_NODE]   only nodes up to MAX_NODE (X.Y) when given
set -euo pipefail
map=$1
max=${2:-}

awk -v max="$max" '
	function older(a, b,   x, y) {
		split(a, x, "."); split(b, y, ".")
		return x[1] + 0 < y[1] + 0 || (x[1] + 0 == y[1] + 0 && x[2] + 0 <= y[2] + 0)
	}
	/^VHOSTCTL_[0-9]+\.[0-9]+ *\{/ {
		node = $1; sub(/ *\{.*/, "", node)
		ver = node; sub(/^VHOSTCTL_/, "", ver)
		keep = max == "" || older(ver, max)
		if (keep)
			printf " %s@%s %s.0\n", node, node, ver
		next
	}
	/^}/ { node = ""; next }
	node != "" && keep && /^[ \t]*vhostctl_[a-z0-9_]*;/ {
		sym = $1; sub(/;.*/, "", sym)
		printf " %s@%s %s.0\n", sym, node, ver
	}
' "$map" | LC_ALL=C sort -u | {
	echo "libvhostctl.so.0 libvhostctl0 #MINVER#"
	echo "* Build-Depends-Package: libvhostctl-dev"
	cat
}
