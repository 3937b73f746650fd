#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#
# Every public header compiles on its own, as C and as C++, warnings as errors.
set -euo pipefail
cc=$1
cxx=$2
inc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for h in "$inc"/vhostctl/*.h; do
	name=vhostctl/$(basename "$h")
	printf '#include <%s>\nint main(void) { return 0; }\n' "$name" >"$tmp/t.c"
	cp "$tmp/t.c" "$tmp/t.cc"
	$cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$inc" -c -o "$tmp/t.o" "$tmp/t.c" ||
		{ echo "check-header: $name does not compile alone as C" >&2; exit 1; }
	$cxx -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$inc" -c -o "$tmp/t.o" "$tmp/t.cc" ||
		{ echo "check-header: $name does not compile alone as C++" >&2; exit 1; }
	n=$((n + 1))
done
echo "  HEADERS  $n public headers compile alone as C11 and C++11 (-Wall -Wextra -Werror)"
