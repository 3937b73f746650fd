#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl_sim with physical-address mappings and dma_map/dma_unmap instead
# of set_map: reload the module with use_va=0 batch_mapping=0 and run the
# vhost-vdpa selftest again, then restore the defaults.
set -u
here=$(cd "$(dirname "$0")" && pwd)
prog=${BUILD:-$here/../build}/selftests/vdpa_sim_vhost_test

if [ ! -x "$prog" ]; then
	echo "vdpa_sim_pa_test: $prog is not built" >&2
	exit 1
fi
modprobe -a vdpa vhost_vdpa || exit 1
modprobe -r vhostctl_sim 2>/dev/null
modprobe vhostctl_sim use_va=0 batch_mapping=0 || exit 1
if [ "$(cat /sys/module/vhostctl_sim/parameters/use_va)" != N ]; then
	echo "vdpa_sim_pa_test: use_va is not N after reload" >&2
	exit 1
fi
"$prog"
rc=$?
modprobe -r vhostctl_sim && modprobe vhostctl_sim || rc=1
exit $rc
