#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A VDUSE block backend SIGKILLed in the middle of O_DIRECT writes from the
# kernel's virtio_blk.  The writers block (the kernel keeps the device and
# its requests; virtio_blk has no timeout of its own), so the way out is a
# new server: "vhostctl vduse serve" on the same name takes the device over
# and serves the requests the dead one left.  What must hold, each within a
# bounded wait: the writers make progress again, stop when told, the vDPA
# device is deleted, the new server exits 0 and leaves nothing, and the
# kernel log has no oops, BUG, WARNING or hung task.  (Deleting the vDPA
# device while the server is dead and writes are in flight blocks in the
# kernel: that is not done here.)  KTAP output with a Totals line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
V=${BUILD:-$top/build}/bin/vhostctl
. "$top/selftests/vduse_lib.bash"
pass=0 fail=0 n=0
total=6
name=vbk$$
pids=()

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
		pass=$((pass + 1))
	else
		echo "not ok $n $2"
		fail=$((fail + 1))
	fi
}

cleanup() {
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}

gone() { ! kill -0 "$1" 2>/dev/null; }

echo "TAP version 13"
echo "1..$total"
modprobe -q -a vdpa vduse vhost_vdpa virtio_vdpa virtio_blk
tmp=$(mktemp -d)
trap cleanup EXIT

# progress W: how many writes writer W has completed.
progress() { wc -l <"$tmp/done$1"; }
# past W N: writer W has completed more than N writes.
past() { [ "$(progress "$1")" -gt "$2" ]; }
# blocked: every writer's dd waits in the kernel (state D) for its write.
blocked() {
	local w d
	for w in "${writers[@]}"; do
		d=$(pgrep -P "$w" -x dd) || return 1
		[ "$(cut -d ' ' -f 3 "/proc/$d/stat" 2>/dev/null)" = D ] || return 1
	done
}

# 1: served, added, bound; two writers running, each counting its writes.
$V vduse serve blk name "$name" size 64M >"$tmp/s" 2>&1 &
srv=$!
pids+=("$srv")
dev=
until_ok 10 grep -q "serving blk $name" "$tmp/s" &&
	$V vdpa add name "$name" mgmtdev vduse && bind_virtio "$name" &&
	until_ok 10 disk "$name" >/dev/null && dev=$(disk "$name")
r=$?
writers=()
if [ $r = 0 ]; then
	for w in 1 2; do
		: >"$tmp/done$w"
		(while :; do
			dd if=/dev/zero of="$dev" bs=64k count=64 seek=$((w * 64)) oflag=direct \
				status=none 2>>"$tmp/dd$w" || exit 1
			echo >>"$tmp/done$w"
		done) &
		writers+=($!)
		pids+=($!)
	done
	until_ok 20 past 1 2 || r=1
	gone "${writers[0]}" && r=1
fi
ok $r "$name bound to virtio_vdpa as ${dev:-no disk}, two O_DIRECT writers running"

# 2: SIGKILL the server mid-I/O: the device stays, the writers stall.
kill -KILL $srv
wait $srv 2>/dev/null
# Counted once both writers sit in a write the dead server never answers: a
# writer whose last write completed just before the kill may still be
# counting it, however long the scheduler keeps it waiting.
until_ok 20 blocked
b=$?
p1=$(progress 1) p2=$(progress 2)
sleep 2
[ $b = 0 ] && [ -e "/dev/vduse/$name" ] && [ "$(progress 1)" = "$p1" ] &&
	[ "$(progress 2)" = "$p2" ] && ! gone "${writers[0]}" && ! gone "${writers[1]}"
ok $? "server SIGKILLed mid-I/O: /dev/vduse/$name stays, the writers wait ($p1, $p2 writes done)"

# 3: a new server takes the device over; the writers go on.
$V vduse serve blk name "$name" size 64M >"$tmp/s2" 2>&1 &
srv2=$!
pids+=("$srv2")
until_ok 10 grep -q "serving blk $name" "$tmp/s2" &&
	until_ok 30 past 1 $((p1 + 2)) && until_ok 30 past 2 $((p2 + 2))
ok $? "a new server on $name resumed the device: writes $p1 -> $(progress 1), $p2 -> $(progress 2); $(grep -v serving "$tmp/s2" | head -n 2 | tr '\n' ';')"

# 4: the writers stop when told, within a bounded wait.
t0=$SECONDS
kill -TERM "${writers[@]}" 2>/dev/null
alive=
for w in "${writers[@]}"; do
	until_ok 30 gone "$w" || alive="$alive $w"
done
[ -z "$alive" ] && ! [ -s "$tmp/dd1" ] && ! [ -s "$tmp/dd2" ]
ok $? "writers stopped in $((SECONDS - t0)) s${alive:+ (still alive:$alive)}, no write failed $(cat "$tmp"/dd* 2>/dev/null | head -n 2 | tr '\n' ';')"

# 5: vdpa del completes, the disk goes, the server exits 0 and leaves nothing.
t0=$SECONDS
$V vdpa del "$name" 2>"$tmp/e" &
del=$!
rc=124
until_ok 60 gone $del && { wait $del; rc=$?; }
kill -TERM $srv2
wait $srv2
rc2=$?
[ $rc = 0 ] && [ $rc2 = 0 ] && ! [ -e "/sys/bus/vdpa/devices/$name" ] &&
	{ [ -z "$dev" ] || ! [ -b "$dev" ]; } && ! [ -e "/dev/vduse/$name" ]
ok $? "vdpa del: exit $rc in $((SECONDS - t0)) s $(cat "$tmp/e"); SIGTERM: exit $rc2, nothing left"

# 6: no oops, BUG, WARNING or hung task.
dmesg >"$tmp/k"
! grep -qE 'WARNING:|BUG:|Oops|general protection|blocked for more' "$tmp/k"
ok $? "kernel log clean"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
