#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: libvhostctl's vhost-user frontend and its net loopback backend
# exchange packets over a Unix socket, split and packed rings, and the rate
# is measured.  An optimised (non-sanitizer) build of the traffic program is
# made when a compiler is at hand; otherwise the test helper (ASan) runs.
set -euo pipefail
top=$(pwd)
build=${BUILD:-$top/build}
packets=${VHOSTCTL_DEMO_PACKETS:-1000000}
src=$top/libvhostctl/tests/helpers/vu_traffic.c
bin=$build/tests/helpers/vu_traffic
kind="test helper, ASan/UBSan build"

if command -v cc >/dev/null && [ -f "$build/lib/libvhostctl.a" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	if cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$top/libvhostctl/include" -I"$top/libvhostctl/tests" \
		-o "$tmp/vu_traffic" "$src" "$build/lib/libvhostctl.a" $(pkg-config --libs libmnl 2>/dev/null) -lpthread 2>/dev/null; then
		bin=$tmp/vu_traffic
		kind="-O2 build"
	fi
fi
[ -x "$bin" ] || { echo "30-vhost-user: $bin is missing (make -C libvhostctl tests)" >&2; exit 1; }
echo "vhost-user: frontend and net loopback backend in one process, over a Unix socket ($kind)"
for ring in split packed; do
	echo "\$ vu_traffic $ring $packets 64"
	"$bin" "$ring" "$packets" 64
done
