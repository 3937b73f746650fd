#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#
# One man page per exported function and no other: every function the
# version script exports has MANDIR/<name>.3, every page there is named for
# an exported function, and each page says so itself (SPDX line first, .TH
# <name> 3, NAME line "<name> \- ...").  Pages are then formatted by groff
# with every warning on and linted by mandoc, each when installed: any
# warning fails.
#
#   check-man.sh libvhostctl.map ../Documentation/man/man3
set -euo pipefail
map=$1
mandir=$2
fail=0

problem() {
	[ "$fail" = 1 ] || echo "check-man: $mandir does not match $map:" >&2
	fail=1
	echo "  $*" >&2
}

exported=$(sed -n 's/^[[:space:]]*\(vhostctl_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u)
pages=$(find "$mandir" -maxdepth 1 -name '*.3' -printf '%f\n' | sed 's/\.3$//' | sort)

while read -r name; do
	problem "no page for exported $name (want $mandir/$name.3)"
done < <(comm -23 <(echo "$exported") <(echo "$pages") | sed '/^$/d')
while read -r name; do
	problem "page $name.3 names no exported function"
done < <(comm -13 <(echo "$exported") <(echo "$pages") | sed '/^$/d')

spdx='.\" SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause'
for name in $pages; do
	page=$mandir/$name.3
	[ "$(head -n 1 "$page")" = "$spdx" ] || problem "$name.3: first line is not the SPDX line"
	th=$(awk '$1 == ".TH" { print $2, $3; exit }' "$page")
	[ "$th" = "$name 3" ] || problem "$name.3: .TH says '${th:-nothing}', want '$name 3'"
	nameline=$(sed -n '/^\.SH NAME/{n;p;q}' "$page")
	case "$nameline" in
	"$name \\- "?*) ;;
	*) problem "$name.3: NAME line is '$nameline', want '$name \\- <summary>'" ;;
	esac
done

lint=
if command -v groff >/dev/null; then
	lint=groff
	for name in $pages; do
		out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$mandir/$name.3" 2>&1) ||
			problem "$name.3: groff failed"
		[ -z "$out" ] || problem "$out"
	done
fi
if command -v mandoc >/dev/null; then
	lint="${lint:+$lint and }mandoc"
	for name in $pages; do
		out=$(mandoc -Tlint -W warning "$mandir/$name.3" 2>&1) || true
		[ -z "$out" ] || problem "$out"
	done
fi

[ "$fail" = 0 ] || exit 1
echo "  MAN      $(echo "$pages" | wc -l) pages, one per exported function;" \
	"${lint:-no formatter found, not linted}${lint:+ without a warning}"
