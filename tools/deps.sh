#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages vhostctl needs, when some are missing.  As root
# it runs apt-get (updating the lists first when they are empty, and again
# when an install fails on stale lists); otherwise it prints the exact command
# to run and exits 1.  Quiet when all is present; never exits silently.
#
#   deps.sh            install what is missing
#   deps.sh --list     print the package list, one a line (for the tests)
set -uo pipefail

PKGS="gcc g++ make pkg-config pkgconf libc6-dev libmnl-dev libnl-3-dev libnl-route-3-dev
qemu-system-x86 qemu-system-common busybox-static cpio gzip xz-utils dwarves kmod
iproute2 dpkg-dev dpdk dpdk-dev python3 groff-base mandoc valgrind util-linux
procps strace coreutils findutils sed mawk grep diffutils binutils apt
dkms debhelper dh-dkms fakeroot lintian man-db python3-sphinx git clang llvm libclang-rt-dev"

if [ "${1:-}" = --list ]; then
	printf '%s\n' $PKGS
	exit 0
fi

# dpkg-query exits 1 when any named package is unknown or not installed: that
# is the normal case on a fresh machine, and its output is still complete for
# the packages it knows.  Only the lines it printed decide what is missing.
status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null)
missing=$(awk -v pkgs="$(echo $PKGS)" '
	$2 == "ii" { ok[$1] = 1 }
	END {
		n = split(pkgs, p, " ")
		for (i = 1; i <= n; i++)
			if (!(p[i] in ok))
				printf "%s ", p[i]
	}' <<<"$status")
missing=$(echo $missing)
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: $missing" >&2
	echo "deps: as root, run: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A new machine's lists may be empty: nothing can be installed before an update.
lists=${VHOSTCTL_APT_LISTS:-/var/lib/apt/lists}
if ! ls "$lists"/*_Packages* >/dev/null 2>&1; then
	echo "deps: the package lists are empty, updating them" >&2
	apt-get update -q >&2 || { echo "deps: error: apt-get update failed" >&2; exit 1; }
fi
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
	echo "deps: install failed, updating the package lists and retrying" >&2
	apt-get update -q >&2 || { echo "deps: error: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	if ! apt-get install -y -q --no-install-recommends $missing >&2; then
		echo "deps: error: could not install: $missing" >&2
		exit 1
	fi
fi
echo "deps: installed $missing" >&2
