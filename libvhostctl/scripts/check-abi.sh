#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#
# The shared library exports exactly the symbols its version script lists,
# and every public header declaration is exported.
set -euo pipefail
so=$1
map=$2
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRW]$/ && $3 !~ /^VHOSTCTL_/ { print $3 }' | sed 's/@.*//' | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(vhostctl_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u)
if [ "$exported" != "$listed" ]; then
	echo "check-abi: exported symbols differ from $map:" >&2
	diff <(echo "$listed") <(echo "$exported") | sed 's/^</  only in the map:/; s/^>/  only exported:/' | grep only >&2
	exit 1
fi
declared=$(grep -ho 'VHOSTCTL_API [^(]*[ *]\(vhostctl_[a-z0-9_]*\)(' "$(dirname "$map")"/include/vhostctl/*.h |
	sed 's/.*[ *]\(vhostctl_[a-z0-9_]*\)(/\1/' | sort -u)
if [ "$declared" != "$listed" ]; then
	echo "check-abi: public headers and $map disagree:" >&2
	diff <(echo "$listed") <(echo "$declared") | sed 's/^</  only in the map:/; s/^>/  only declared:/' | grep only >&2
	exit 1
fi
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libvhostctl.so.0 ] || { echo "check-abi: SONAME is '$soname'" >&2; exit 1; }
echo "  ABI      $(echo "$listed" | wc -l) symbols exported, as listed; SONAME $soname"
