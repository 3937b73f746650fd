#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl user probe and dev show unix:PATH against qemu-storage-daemon's
# vhost-user-blk export (QEMU's libvhost-user, a backend nobody here wrote)
# on a 24 MiB raw image with 3 queues: class block, GET_QUEUE_NUM's 3, the
# config space decoded (capacity in sectors, num_queues, read-only or not),
# CONFIG and CONFIGURE_MEM_SLOTS among the protocol features.  The daemon
# must take a second probe after the first (nothing was left set up), and a
# read-only export must show as such.
. "$(dirname "$0")/lib.bash"
need qemu-storage-daemon "Debian package qemu-system-common"
need python3

img=$T/disk.img
truncate -s 24M "$img"

qsd() { # SOCKET WRITABLE(on|off)
	bg "$T/qsd.$2" qemu-storage-daemon \
		--blockdev "driver=file,node-name=file0,filename=$img,read-only=$([ "$2" = on ] && echo off || echo on)" \
		--blockdev "driver=raw,node-name=disk0,file=file0,read-only=$([ "$2" = on ] && echo off || echo on)" \
		--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$1,writable=$2,num-queues=3"
	wait_for 10 test -S "$1" || { show "$T/qsd.$2" "$T/qsd.$2.err"; fail "qemu-storage-daemon did not listen"; }
}

sock=$T/rw.sock
qsd "$sock" on
q=$LAST
for i in 1 2; do
	"$VHOSTCTL" -j user probe "unix:$sock" >"$T/probe$i.json" 2>"$T/probe.err" ||
		{ show "$T/probe.err" "$T/qsd.on.err"; fail "probe $i of qemu-storage-daemon failed"; }
done
cmp -s "$T/probe1.json" "$T/probe2.json" || fail "two probes differ"
jq_check "$T/probe1.json" \
	"d['user']['unix:$sock']['class'] == 'block'" \
	"d['user']['unix:$sock']['queues'] == 3" \
	"d['user']['unix:$sock']['max_mem_slots'] >= 8" \
	"{'MQ', 'CONFIG', 'CONFIGURE_MEM_SLOTS', 'REPLY_ACK'} <= set(d['user']['unix:$sock']['protocol_feature_names'])" \
	"{'BLK_SIZE', 'FLUSH', 'MQ', 'VERSION_1', 'PROTOCOL_FEATURES'} <= set(d['user']['unix:$sock']['feature_names'])" \
	"'RO' not in d['user']['unix:$sock']['feature_names']" \
	"d['user']['unix:$sock']['config']['config_size'] == 60" \
	"d['user']['unix:$sock']['config']['capacity'] == 24 * 2048" \
	"d['user']['unix:$sock']['config']['num_queues'] == 3" \
	"d['user']['unix:$sock']['config']['blk_size'] == 512" \
	"d['user']['unix:$sock']['config']['read_only'] is False"
"$VHOSTCTL" dev show "unix:$sock" >"$T/show.txt" || fail "dev show of qemu-storage-daemon failed"
grep -q "^unix:$sock: transport vhost-user class block .* queues 3 .* capacity 49152 .* num_queues 3 read_only false $" \
	"$T/show.txt" || fail "dev show: $(cat "$T/show.txt")"
kill -0 "$q" 2>/dev/null || { show "$T/qsd.on.err"; fail "qemu-storage-daemon died"; }
stop "$q"

sock=$T/ro.sock
qsd "$sock" off
q=$LAST
"$VHOSTCTL" -j user probe "unix:$sock" >"$T/ro.json" || fail "probe of the read-only export failed"
jq_check "$T/ro.json" "'RO' in d['user']['unix:$sock']['feature_names']" \
	"d['user']['unix:$sock']['config']['read_only'] is True"
stop "$q"
echo "PASS: user probe and dev show unix: of qemu-storage-daemon's vhost-user-blk export"
