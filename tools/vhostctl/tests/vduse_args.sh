#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl vduse serve: argument parsing, on any host (no /dev/vduse
# needed).  Every bad command line exits 1 with its exact error line naming
# the bad keyword or value, prints nothing on stdout, and is caught before
# /dev/vduse is touched; help works at every level.
. "$(dirname "$0")/lib.bash"

n=0
IMG=$T/disk.img
truncate -s 1M "$IMG"

# bad "ERROR LINE" ARGS...: vhostctl ARGS must fail with exactly that line.
bad() {
	local want=$1 rc
	shift
	n=$((n + 1))
	"$VHOSTCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || fail "vhostctl $*: exit $rc, expected 1"
	[ "$(cat "$T/err")" = "$want" ] ||
		fail "vhostctl $*: stderr \"$(cat "$T/err")\", expected \"$want\""
	[ ! -s "$T/out" ] || fail "vhostctl $*: printed on stdout: $(cat "$T/out")"
}

# help ARGS...: vhostctl ARGS prints the vduse usage on stdout and exits 0.
help() {
	local rc
	n=$((n + 1))
	"$VHOSTCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 0 ] || fail "vhostctl $*: exit $rc, expected 0"
	grep -q '^Usage: vhostctl vduse serve blk name NAME' "$T/out" ||
		fail "vhostctl $*: no usage on stdout: $(cat "$T/out")"
	[ ! -s "$T/err" ] || fail "vhostctl $*: stderr: $(cat "$T/err")"
}

help vduse help
help vduse serve help
help vduse serve blk name vb0 help
"$VHOSTCTL" help | grep -q 'vhostctl vduse serve blk name NAME' || fail "vhostctl help: no vduse line"
n=$((n + 1))

bad 'Command is expected, try "vhostctl vduse help".' vduse
bad 'Command "bogus" not found' vduse bogus
bad 'Device type is expected: blk, net' vduse serve
bad 'Device type "scsi" is unknown: blk, net' vduse serve scsi name x
bad 'Option "name" is required' vduse serve blk file "$IMG"
bad 'Option "name" needs a value' vduse serve blk name
bad 'Invalid name "a/b" (1 to 63 bytes, no "/", not "control")' vduse serve blk name a/b file "$IMG"
bad 'Invalid name "" (1 to 63 bytes, no "/", not "control")' vduse serve blk name "" file "$IMG"
bad 'Invalid name "control" (1 to 63 bytes, no "/", not "control")' vduse serve blk name control size 1M
long=$(printf 'x%.0s' $(seq 64))
bad "Invalid name \"$long\" (1 to 63 bytes, no \"/\", not \"control\")" vduse serve blk name "$long" size 1M
bad 'Error: duplicate "name": "b" is the second value.' vduse serve blk name a name b size 1M
bad 'Option "file" or "size" is required' vduse serve blk name vb0
bad 'Options "file" and "size" are exclusive' vduse serve blk name vb0 file "$IMG" size 1M
bad 'Invalid size "1000" (bytes, a multiple of 512)' vduse serve blk name vb0 size 1000
bad 'Invalid size "0" (bytes, a multiple of 512)' vduse serve blk name vb0 size 0
bad 'Invalid queues "17" (1 to 16)' vduse serve blk name vb0 size 1M queues 17
bad 'Invalid queues "0" (1 to 16)' vduse serve blk name vb0 size 1M queues 0
bad 'Invalid queue_size "100" (a power of two, 4 to 32768)' vduse serve blk name vb0 size 1M queue_size 100
bad 'Error: duplicate "readonly".' vduse serve blk name vb0 size 1M readonly readonly
bad 'Unknown option "bogus"' vduse serve blk name vb0 size 1M bogus
bad 'Invalid file ""' vduse serve blk name vb0 file ""
# net: the loopback's keywords, and none of the disk's
bad 'Option "name" is required' vduse serve net mac 02:00:00:00:00:09
bad 'Invalid mac "02:00:00:00:00" (xx:xx:xx:xx:xx:xx)' vduse serve net name vn0 mac 02:00:00:00:00
bad 'Invalid mac "02:00:00:00:00:0g" (xx:xx:xx:xx:xx:xx)' vduse serve net name vn0 mac 02:00:00:00:00:0g
bad 'Error: duplicate "mac": "02:00:00:00:00:02" is the second value.' vduse serve net name vn0 mac 02:00:00:00:00:01 mac 02:00:00:00:00:02
bad 'Invalid queues "33" (1 to 32)' vduse serve net name vn0 queues 33
bad 'Invalid queue_size "3" (a power of two, 4 to 32768)' vduse serve net name vn0 queue_size 3
bad 'Option "file" is not for a net device' vduse serve net name vn0 file "$IMG"
bad 'Option "readonly" is not for a net device' vduse serve net name vn0 readonly
bad 'Option "mac" is not for a blk device' vduse serve blk name vb0 size 1M mac 02:00:00:00:00:01
help vduse serve net name vn0 help
# The file is opened before /dev/vduse: a missing file is named, on any host.
bad "Error: file \"$T/missing.img\": No such file or directory" vduse serve blk name vb0 file "$T/missing.img"

echo "PASS: $n command lines checked"
