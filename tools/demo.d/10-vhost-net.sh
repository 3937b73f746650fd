#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: a vhost-net round trip.  libvhostctl plays the guest: frames
# leave its TX virtqueue, vhost-net hands them to a tap, they come back in
# through the tap and land on its RX virtqueue, each checked byte for byte.
set -euo pipefail
export PATH=${BUILD:?}/bench:$PATH
echo "vhost_net_rt: 20000 frames of 1000 bytes, bursts of 32"
vhost_net_rt -n 20000 -s 1000 -b 32
echo "vhost_net_rt: 20000 minimum-size frames with EVENT_IDX"
vhost_net_rt -n 20000 -s 60 -b 32 -e
