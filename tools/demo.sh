#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What make run shows, inside the test VM: the vhost devices and their
# features read through libvhostctl, then every tools/demo.d/*.sh section in
# order but the *.host.sh ones, which need no kernel and run on the host
# (tools/run.sh), at full speed rather than under emulation.  Each section prints real figures from its own run; the first
# section that fails makes the whole run fail.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$top/build}
export PATH=$BUILD/bin:$PATH

section() { printf '\n== %s\n' "$*"; }

section "kernel $(uname -r): vhost devices"
ls -l /dev/vhost-* /dev/vduse/control 2>/dev/null || true
section "vhostctl dev show /dev/vhost-net /dev/vhost-vsock"
vhostctl dev show /dev/vhost-net /dev/vhost-vsock
section "vhostctl -j -p dev show /dev/vhost-net"
vhostctl -j -p dev show /dev/vhost-net

for s in "$top"/tools/demo.d/*.sh; do
	[ -x "$s" ] || continue
	case $s in *.host.sh) continue ;; esac
	section "$(basename "$s" .sh)"
	"$s"
done
