#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch Debian's 6.12 test kernel (image, modules, headers, kbuild) into a
# cache outside the repository and print where everything is, as shell
# assignments for eval:
#
#   eval "$(tools/vm/kernel.sh)"   ->  KVER KCACHE VMLINUZ MODDIR KDIR
#
# The newest linux-image-6.12.*+deb12-amd64-unsigned that the configured apt
# sources offer is used, unless VHOSTCTL_KVER pins one (6.12.117+deb12).
# A cache entry is used only when it is complete: every file recorded in its
# manifest is present.  Otherwise it is rebuilt from the kept .deb files, and
# those are downloaded again if they are missing or damaged.
set -euo pipefail

CACHE=${VHOSTCTL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhostctl}
log() { echo "kernel: $*" >&2; }
die() { echo "kernel: error: $*" >&2; exit 1; }

list_versions() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12\)-amd64-unsigned .*/\1/p' | sort -V
}

# Manifest of an extracted tree: every file and link, sorted.
manifest() {
	(cd "$1" && find . \( -type f -o -type l \) ! -name .manifest | LC_ALL=C sort)
}

complete() {
	[ -f "$1/.manifest" ] && manifest "$1" | cmp -s - "$1/.manifest"
}

pick_version() {
	local v
	if [ -n "${VHOSTCTL_KVER:-}" ]; then
		v=${VHOSTCTL_KVER%-amd64}
		case $v in 6.12.*+deb12) ;; *) die "VHOSTCTL_KVER=$VHOSTCTL_KVER: expected 6.12.N+deb12";; esac
		echo "$v"
		return
	fi
	v=$(list_versions | tail -n 1)
	if [ -z "$v" ] && [ "$(id -u)" = 0 ]; then
		log "apt lists have no 6.12 kernel, running apt-get update"
		apt-get update -qq >&2 || true
		v=$(list_versions | tail -n 1)
	fi
	if [ -z "$v" ]; then
		# No archive at hand: fall back to the newest complete cache entry.
		local d
		for d in $(ls -d "$CACHE"/6.12.*+deb12-amd64 2>/dev/null | sort -V -r); do
			if complete "$d"; then
				v=$(basename "$d")
				echo "${v%-amd64}"
				return
			fi
		done
		die "no linux-image-6.12.*+deb12-amd64-unsigned in the apt sources (run apt-get update as root) and no cached kernel"
	fi
	echo "$v"
}

V=$(pick_version)
KVER=$V-amd64
KCACHE=$CACHE/$KVER
DEBS=$CACHE/debs/$V
PKGS="linux-image-$KVER-unsigned linux-headers-$KVER linux-headers-$V-common linux-kbuild-$V"

deb_ok() {
	local f
	f=$(ls "$DEBS/$1"_*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] && dpkg-deb --info "$f" >/dev/null 2>&1
}

fetch_debs() {
	local p missing=
	mkdir -p "$DEBS"
	for p in $PKGS; do
		deb_ok "$p" || missing="$missing $p"
	done
	[ -z "$missing" ] && return
	log "fetching$missing"
	for p in $missing; do
		rm -f "$DEBS/$p"_*.deb
	done
	# shellcheck disable=SC2086
	(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User="$(id -un)" $missing >&2) ||
		die "apt-get download$missing failed (apt-get update as root may help; VHOSTCTL_KVER pins a version)"
	for p in $missing; do
		deb_ok "$p" || die "$p: downloaded package is unreadable"
	done
}

extract() {
	local tmp=$KCACHE.tmp.$$ f
	log "extracting $KVER into $KCACHE"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for f in "$DEBS"/*.deb; do
		dpkg-deb -x "$f" "$tmp"
	done
	# The headers point at /usr/src with absolute paths: point them here.
	sed -i "s|^include /usr/src/|include $KCACHE/usr/src/|" "$tmp/usr/src/linux-headers-$KVER/Makefile"
	ln -sfn "$KCACHE/usr/src/linux-headers-$KVER" "$tmp/lib/modules/$KVER/build"
	ln -sfn "$KCACHE/usr/src/linux-headers-$V-common" "$tmp/lib/modules/$KVER/source"
	[ -f "$tmp/boot/vmlinuz-$KVER" ] || die "linux-image-$KVER-unsigned has no /boot/vmlinuz-$KVER"
	depmod -b "$tmp" "$KVER" || die "depmod failed on $KVER"
	manifest "$tmp" >"$tmp/.manifest"
	rm -rf "$KCACHE"
	mv "$tmp" "$KCACHE"
}

if ! complete "$KCACHE"; then
	[ -d "$KCACHE" ] && log "cache $KCACHE is incomplete, repairing"
	fetch_debs
	extract
	complete "$KCACHE" || die "cache $KCACHE is still incomplete after extraction"
fi

cat <<EOF
KVER=$KVER
KCACHE=$KCACHE
VMLINUZ=$KCACHE/boot/vmlinuz-$KVER
MODDIR=$KCACHE/lib/modules/$KVER
KDIR=$KCACHE/usr/src/linux-headers-$KVER
EOF
