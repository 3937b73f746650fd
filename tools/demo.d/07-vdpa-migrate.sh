#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: the migration helper.  Two vDPA net devices on our software
# device; libvhostctl drives frames through the first, suspends it in the
# middle of a burst and saves its state (vhostctl_vdpa_state_save), restores
# that onto the second (vhostctl_vdpa_state_restore) and carries on there
# (Documentation/examples/vdpa_migrate.c).  Every frame must come back
# exactly once; each device's own counters are shown.
set -euo pipefail
mac=52:54:00:00:de:03
frames=${VHOSTCTL_DEMO_MIGRATE_FRAMES:-200}
build=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
PATH=$build/bin:$PATH

run() { echo "\$ $*"; "$@"; }

modprobe vhostctl_sim
for d in demo-src demo-dst; do
	run vhostctl vdpa add name $d mgmtdev vhostctl_sim_net mac $mac max_vqp 1
done
for d in demo-src demo-dst; do
	for _ in $(seq 50); do
		node=$(ls -d /sys/bus/vdpa/devices/$d/vhost-vdpa-* 2>/dev/null | head -n 1)
		[ -n "$node" ] && [ -c "/dev/$(basename "$node")" ] && break
		sleep 0.1
	done
done
rc=0
run "$build/selftests/examples/vdpa_migrate" demo-src demo-dst "$frames" || rc=$?
for d in demo-src demo-dst; do
	run vhostctl vdpa del $d
done
exit $rc
