#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The symbol-version rules of libvhostctl/scripts/check-symbols.sh on copies
# of the real version script: an export added to a released node fails, one
# added to the open node passes, a new node needs a VERSION bump and the
# bump needs the released nodes frozen.  Then the Debian symbols file made
# from the real map covers every export, each with its node's version.
# Ends with "tools: N passed, N failed, 0 skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
lib=$top/libvhostctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { "$lib"/scripts/check-symbols.sh "$@" >"$tmp/out" 2>&1; }
version=$(cat "$top/VERSION")
open=VHOSTCTL_$(echo "$version" | cut -d. -f1,2)
oldest=$(sed -n 's/^\(VHOSTCTL_[0-9.]*\) *{.*/\1/p' "$lib/libvhostctl.map" | sort -V | head -n 1)

# Adds vhostctl_test_export to NODE of a copy of the map, written to OUT.
add_export() {
	awk -v node="$1" '
		$1 == node { in_node = 1 }
		in_node && /global:/ { print; print "\t\tvhostctl_test_export;"; in_node = 0; next }
		{ print }' "$lib/libvhostctl.map" >"$2"
}

if check "$lib/libvhostctl.map" "$version" "$lib/symbols.released"; then
	ok "the real map keeps its released nodes ($(cat "$tmp/out" | sed 's/^ *//'))"
else
	bad "the real map: $(cat "$tmp/out")"
fi

if [ "$oldest" != "$open" ]; then
	add_export "$oldest" "$tmp/old.map"
	grep -q vhostctl_test_export "$tmp/old.map" || bad "could not edit the copy of the map"
	if check "$tmp/old.map" "$version" "$lib/symbols.released"; then
		bad "an export added to released $oldest passed"
	elif grep -q 'added:.*vhostctl_test_export@'"$oldest" "$tmp/out"; then
		ok "an export added to released $oldest fails, naming it"
	else
		bad "an export added to $oldest failed without naming it: $(cat "$tmp/out")"
	fi
fi

add_export "$open" "$tmp/open.map"
if check "$tmp/open.map" "$version" "$lib/symbols.released"; then
	ok "an export added to the open node $open passes"
else
	bad "an export added to $open failed: $(cat "$tmp/out")"
fi

# A new node after the open one, without and with a VERSION bump.
next=$(echo "$version" | awk -F. '{ printf "%d.%d.0", $1, $2 + 1 }')
nnode=VHOSTCTL_${next%.0}
{ cat "$lib/libvhostctl.map"; printf '\n%s {\n\tglobal:\n\t\tvhostctl_test_export;\n} %s;\n' \
	"$nnode" "$open"; } >"$tmp/new.map"
if check "$tmp/new.map" "$version" "$lib/symbols.released"; then
	bad "a new node $nnode passed with VERSION still $version"
else
	ok "a new node $nnode without a VERSION bump fails"
fi
cp "$lib/symbols.released" "$tmp/record"
if check "$tmp/new.map" "$next" "$tmp/record"; then
	bad "VERSION $next passed with $open not frozen in the record"
else
	ok "VERSION $next fails until $open is frozen"
fi
"$lib"/scripts/check-symbols.sh --freeze "$tmp/new.map" "$next" "$tmp/record"
if check "$tmp/new.map" "$next" "$tmp/record"; then
	ok "after --freeze, VERSION $next with $nnode passes"
else
	bad "after --freeze: $(cat "$tmp/out")"
fi

# The symbols file: one line per export and per node, versions by node.
"$lib"/scripts/gen-symbols.sh "$lib/libvhostctl.map" >"$tmp/symbols"
nexp=$(sed -n 's/^[[:space:]]*\(vhostctl_[a-z0-9_]*\);.*/\1/p' "$lib/libvhostctl.map" | sort -u | wc -l)
nsym=$(grep -c '^ vhostctl_' "$tmp/symbols")
nnodes=$(grep -c '^VHOSTCTL_[0-9.]* *{' "$lib/libvhostctl.map")
nnl=$(grep -c '^ VHOSTCTL_' "$tmp/symbols")
badver=$(awk 'NR > 2 { split($1, a, "@"); v = a[2]; sub(/^VHOSTCTL_/, "", v); if ($2 != v ".0") print }' \
	"$tmp/symbols")
if [ "$nsym" = "$nexp" ] && [ "$nnl" = "$nnodes" ] && [ -z "$badver" ] &&
	[ "$(head -n 1 "$tmp/symbols")" = "libvhostctl.so.0 libvhostctl0 #MINVER#" ]; then
	ok "symbols file: $nsym exports and $nnl nodes, each at its node's version"
else
	bad "symbols file: $nsym of $nexp exports, $nnl of $nnodes nodes; wrong versions: $badver"
fi

echo "tools: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
