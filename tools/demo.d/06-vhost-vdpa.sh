#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: the main job.  vhostctl creates a vDPA net device on our
# software device (kmod/); it binds to vhost_vdpa; libvhostctl opens
# /dev/vhost-vdpa-N, sets its queues up (memory through the IOTLB, virtio
# status dance) and passes frames through it from userspace, acting as the
# guest (Documentation/examples/vdpa_net.c); then the frame rate and the
# device's own counters.
set -euo pipefail
dev=demo-vdpa0
mac=52:54:00:00:de:02
frames=${VHOSTCTL_DEMO_VDPA_FRAMES:-1000}
example=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}/selftests/examples/vdpa_net

run() { echo "\$ $*"; "$@"; }

modprobe vhostctl_sim
PATH=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}/bin:$PATH
run vhostctl vdpa add name $dev mgmtdev vhostctl_sim_net mac $mac max_vqp 2
node=
for _ in $(seq 50); do
	node=$(ls -d /sys/bus/vdpa/devices/$dev/vhost-vdpa-* 2>/dev/null | head -n 1)
	[ -n "$node" ] && break
	sleep 0.1
done
[ -n "$node" ] || { echo "$dev did not bind to vhost_vdpa" >&2; exit 1; }
node=/dev/$(basename "$node")
for _ in $(seq 50); do [ -c "$node" ] && break; sleep 0.1; done
run vhostctl dev show "$node"
run vhostctl -j -p dev show "$node"
echo "\$ $example $node $frames hold"
tmp=$(mktemp -d)
mkfifo "$tmp/in"
t0=$(date +%s.%N)
"$example" "$node" "$frames" hold <"$tmp/in" >"$tmp/out" &
pid=$!
exec 3>"$tmp/in"
until grep -q "frames came back" "$tmp/out"; do
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/out"; wait "$pid"; exit 1; }
	sleep 0.05
done
t1=$(date +%s.%N)
cat "$tmp/out"
awk -v n="$frames" -v a="$t0" -v b="$t1" 'BEGIN {
	printf "%d frames through vhost-vdpa and back in %.2f s (set-up included): %.0f frames/s, one in flight at a time, under emulation\n",
	       n, b - a, n / (b - a) }'
# The queues are still set up: the device's own counters.
for q in 0 1; do
	run vhostctl vdpa vstats show $dev qidx $q
done
echo >&3
exec 3>&-
wait "$pid"
rm -rf "$tmp"
run vhostctl vdpa del $dev
