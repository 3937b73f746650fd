#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages vhostctl needs, when some are missing.  As root
# it runs apt-get (updating the lists first when they are empty or stale);
# otherwise it prints the exact command to run.  Quiet when all is present.
set -euo pipefail

PKGS="gcc g++ make pkg-config libc6-dev libmnl-dev libnl-3-dev libnl-route-3-dev
qemu-system-x86 qemu-system-common busybox-static cpio gzip xz-utils dwarves kmod
iproute2 dpkg-dev dpdk dpdk-dev python3 groff-base mandoc valgrind"

missing=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null |
	awk '$2 == "ii" { ok[$1] = 1 } END { n = split(pkgs, p, " "); for (i = 1; i <= n; i++) if (!(p[i] in ok)) printf "%s ", p[i] }' pkgs="$(echo $PKGS)")
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: $missing" >&2
	echo "deps: as root, run: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
	echo "deps: install failed, updating the package lists and retrying" >&2
	apt-get update -q >&2
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >&2
fi
