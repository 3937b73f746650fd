#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# libvhostctl's vhost-user frontend (tests/helpers/vu_fe_blk, a virtio-blk
# driver on vhostctl_vq_*) against qemu-storage-daemon's vhost-user-blk
# export (QEMU's libvhost-user, a backend nobody here wrote) serving a
# 64 MiB raw image.  Each session writes blocks spread over the whole disk
# (the last one ends at its last sector) with several requests in flight,
# FLUSHes, reads them back identical, asks GET_ID and checks that reads past
# the end fail with IOERR; afterwards the image file must hold the blocks.
# Two sessions on the same daemon (it must take the second frontend):
# 200 x 4 KiB with 16 in flight, 100 x 16 KiB with 32 in flight.
. "$(dirname "$0")/vu_lib.bash"
vu_need qemu-storage-daemon "Debian package qemu-system-common"

FE=$BUILD/tests/helpers/vu_fe_blk
[ -x "$FE" ] || vu_fail "$FE is missing"
img=$VU_TMP/disk.img
sock=$VU_TMP/blk.sock
truncate -s 64M "$img"
vu_bg "$VU_TMP/qsd.out" qemu-storage-daemon \
	--blockdev "driver=file,node-name=file0,filename=$img" \
	--blockdev driver=raw,node-name=disk0,file=file0 \
	--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=on,num-queues=1"
qsd=$VU_LAST
vu_wait_for 10 test -S "$sock" || { vu_show "$VU_TMP/qsd.out"; vu_fail "qemu-storage-daemon did not listen"; }

session() {
	timeout 40 "$FE" "$sock" -i "$img" "$@" >"$VU_TMP/fe.out" 2>&1
	local rc=$?
	sed 's/^/  /' "$VU_TMP/fe.out"
	[ $rc = 0 ] || { vu_show "$VU_TMP/qsd.out"; vu_fail "session $* failed (rc $rc)"; }
}

echo "session 1: 200 x 4 KiB, 16 in flight"
session -n 200 -b 4096 -q 16
echo "session 2: 100 x 16 KiB, 32 in flight"
session -n 100 -b 16384 -q 32
kill -0 "$qsd" 2>/dev/null || { vu_show "$VU_TMP/qsd.out"; vu_fail "qemu-storage-daemon died"; }
vu_stop "$qsd"
echo "PASS: libvhostctl frontend <-> qemu-storage-daemon vhost-user-blk"
