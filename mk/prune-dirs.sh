#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# prune-dirs.sh ROOT DIR...: remove each DIR when it is empty, then its
# parents while they are empty, never ROOT itself nor anything outside it.
# make uninstall uses it in a DESTDIR staging tree.
set -eu
root=${1%/}
shift
[ -n "$root" ] && [ -d "$root" ] || exit 0
for d in "$@"; do
	while :; do
		d=${d%/}
		case $d in "$root"/?*) ;; *) break ;; esac
		[ -d "$d" ] && [ -z "$(ls -A "$d")" ] || break
		rmdir "$d"
		d=${d%/*}
	done
done
