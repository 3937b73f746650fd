#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: a vsock echo.  libvhostctl plays the guest of a vhost-vsock
# device (CID 4242), connects to an echo server on the host side (CID 2) of
# this kernel, and checks that every byte comes back.
set -euo pipefail
export PATH=${BUILD:?}/bench:$PATH
echo "vsock_echo: 32 MiB through vhost-vsock and back"
vsock_echo -s $((32 << 20)) -c 4242 -p 9000
