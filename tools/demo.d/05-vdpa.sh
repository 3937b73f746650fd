#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: vhostctl creates a vDPA net device on our software device
# (kmod/), the kernel's virtio-net driver takes it through virtio_vdpa, and
# frames sent to its own MAC come back through the device's loopback; the
# device's own counters (vstats) show them.
set -euo pipefail
dev=demo-net0
mac=52:54:00:00:de:01
frames=${VHOSTCTL_DEMO_FRAMES:-2000}

run() { echo "\$ $*"; "$@"; }

modprobe vhostctl_sim
modprobe virtio_net
run vhostctl mgmtdev show
run vhostctl vdpa add name $dev mgmtdev vhostctl_sim_net mac $mac mtu 1500 max_vqp 2
run vhostctl vdpa show $dev
run vhostctl vdpa config show $dev

# New devices bind to vhost_vdpa (loaded first); move this one to virtio_vdpa.
echo "\$ rebind $dev: vhost_vdpa -> virtio_vdpa"
echo $dev >/sys/bus/vdpa/drivers/vhost_vdpa/unbind
echo virtio_vdpa >/sys/bus/vdpa/devices/$dev/driver_override
echo $dev >/sys/bus/vdpa/drivers_probe
for _ in $(seq 50); do
	ifc=$(ls /sys/bus/vdpa/devices/$dev/virtio*/net 2>/dev/null | head -n 1)
	[ -n "$ifc" ] && break
	sleep 0.1
done
[ -n "$ifc" ] || { echo "no virtio-net interface appeared for $dev" >&2; exit 1; }
run ip link set "$ifc" up
echo "\$ send $frames frames to $mac on $ifc and receive them back"
python3 - "$ifc" "$mac" "$frames" <<'PY'
import socket, struct, sys, time
ifc, mac, n = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind((ifc, 0))
s.settimeout(2)
got = 0
t0 = time.monotonic()
for i in range(n):
    payload = struct.pack('!I', i) + bytes(range(60))
    s.send(mac + mac + struct.pack('!H', 0x88b5) + payload)
    while True:
        f = s.recv(2048)
        if f[14:18] == struct.pack('!I', i):
            if f[14:] != payload:
                sys.exit('frame %d came back changed' % i)
            got += 1
            break
dt = time.monotonic() - t0
print('%d of %d frames back intact, %.0f frames/s round trip' % (got, n, got / dt))
sys.exit(0 if got == n else 1)
PY
# Two queue pairs: the driver spreads the frames over both.
for q in 0 1 2 3; do
	run vhostctl vdpa vstats show $dev qidx $q
done
run ip -s link show "$ifc"
run vhostctl vdpa del $dev
