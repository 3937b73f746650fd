#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl dev up: argument parsing.  Every bad command line exits 1 with
# its exact error line on stderr and nothing on stdout, and is caught before
# the device is touched: the device paths here do not exist, so a usage
# error that slipped through would show as "No such file or directory"
# instead.  "help" works wherever a keyword may stand.
. "$(dirname "$0")/lib.bash"

NET=$T/none/vhost-net
VSOCK=$T/none/vhost-vsock
VDPA=$T/none/vhost-vdpa-0
n=0

# bad "ERROR LINE" ARGS...: vhostctl dev up ARGS must fail with that line.
bad() {
	local want=$1 rc
	shift
	n=$((n + 1))
	"$VHOSTCTL" dev up "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || fail "dev up $*: exit $rc, expected 1"
	[ "$(cat "$T/err")" = "$want" ] ||
		fail "dev up $*: stderr \"$(cat "$T/err")\", expected \"$want\""
	[ ! -s "$T/out" ] || fail "dev up $*: printed on stdout: $(cat "$T/out")"
}

# reaches ARGS...: good arguments get as far as opening the device, which
# does not exist.
reaches() {
	local rc
	n=$((n + 1))
	"$VHOSTCTL" dev up "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || fail "dev up $*: exit $rc, expected 1"
	case $(cat "$T/err") in
	"Error: $1: No such file or directory" | "Error: $1: set-up failed at open: No such file or directory") ;;
	*) fail "dev up $*: stderr \"$(cat "$T/err")\", expected the device not to open" ;;
	esac
}

USAGE="Usage: vhostctl dev up PATH [ queues N ] [ size N ] [ packed ] [ event_idx ]"
for args in "help" "$NET help" "$NET queues 2 help" "$NET bogus help" "$VSOCK cid 3 help"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	"$VHOSTCTL" dev up $args >"$T/out" 2>"$T/err" || fail "dev up $args: exit $?"
	[ "$(head -n 1 "$T/out")" = "$USAGE" ] || fail "dev up $args: $(head -n 1 "$T/out")"
	[ ! -s "$T/err" ] || fail "dev up $args: stderr: $(cat "$T/err")"
done
# "help" as a value is a value.
bad 'Invalid value "help" for "queues": a number from 1 to 16 is expected' "$NET" queues help

# The device.
bad 'Device path is expected, try "vhostctl dev up help".'
bad 'Device "/dev/null" is not a vhost-net, vhost-vsock or vhost-vdpa node' /dev/null
bad 'Device "unix:/tmp/s" is not a vhost-net, vhost-vsock or vhost-vdpa node' unix:/tmp/s
reaches "$NET"
reaches "$VSOCK"
reaches "$VDPA"

# Each keyword without its value.
for kw in queues size mem tap cid traffic count duration; do
	dev=$NET
	[ "$kw" = cid ] && dev=$VSOCK
	bad "Option \"$kw\" needs a value" "$dev" $kw
done

# Each keyword twice.
bad 'Option "queues" is repeated' "$NET" queues 1 queues 1
bad 'Option "size" is repeated' "$NET" size 64 size 64
bad 'Option "packed" is repeated' "$VDPA" packed packed
bad 'Option "event_idx" is repeated' "$NET" event_idx event_idx
bad 'Option "mem" is repeated' "$NET" mem 1M mem 2M
bad 'Option "tap" is repeated' "$NET" tap t0 tap t0
bad 'Option "cid" is repeated' "$VSOCK" cid 3 cid 4
bad 'Option "traffic" is repeated' "$NET" traffic loop traffic none
bad 'Option "count" is repeated' "$NET" count 1 count 2
bad 'Option "duration" is repeated' "$NET" duration 1 duration 1

# Unknown keywords, and keywords for another kind of device.
bad 'Unknown option "bogus"' "$NET" bogus 1
bad 'Unknown option "Queues"' "$NET" Queues 1
bad 'Unknown option "queue"' "$NET" queue 1
bad 'Unknown option "1"' "$NET" queues 1 1
bad 'Option "cid" does not apply to a vhost-net device' "$NET" cid 3
bad 'Option "cid" does not apply to a vhost-vdpa device' "$VDPA" cid 3
bad 'Option "tap" does not apply to a vhost-vdpa device' "$VDPA" tap t0
bad 'Option "tap" does not apply to a vhost-vsock device' "$VSOCK" tap t0
for kw in "queues 1" "size 64" packed "mem 1M"; do
	# shellcheck disable=SC2086
	bad "Option \"${kw%% *}\" does not apply to a vhost-vsock device" "$VSOCK" $kw
done

# Numbers out of range, and not numbers.
q='a number from 1 to 16'
for v in 0 17 -1 +1 '' x 1x 0x11 99999999999999999999; do
	bad "Invalid value \"$v\" for \"queues\": $q is expected" "$NET" queues "$v"
done
bad 'Invalid value "2" for "queues": 1 (one queue pair) is expected' "$VDPA" queues 2
reaches "$NET" queues 16
reaches "$NET" queues 0x10
for v in 0 32769 -64 64k " 64" " -64"; do
	bad "Invalid value \"$v\" for \"size\": a ring size from 1 to 32768 is expected" "$NET" size "$v"
done
bad 'Invalid value "100" for "size": a split ring'"'"'s size is a power of two' "$NET" size 100
reaches "$VDPA" size 100 packed
reaches "$VDPA" size 32768
m='a size from 1M to 4G in 4K pages'
for v in 0 1000 1023K 1048577 4097M 5G 1M5 -1M 1T 1.5M " 1M"; do
	bad "Invalid value \"$v\" for \"mem\": $m is expected" "$NET" mem "$v"
done
# What the rings and buffers need, by the defaults or the size and queues given.
bad 'Invalid value "1M" for "mem": 2097152 bytes are needed' "$NET" mem 1M
bad 'Invalid value "2M" for "mem": 5242880 bytes are needed' "$NET" queues 2 size 1024 mem 2M
bad 'Invalid value "2M" for "mem": 5242880 bytes are needed' "$NET" mem 2M size 1024 queues 2
reaches "$NET" mem 2M
reaches "$NET" mem 2052k
reaches "$NET" mem 4G
reaches "$NET" queues 2 size 1024 mem 5M
for v in '' 0123456789abcdef a/b 'a b'; do
	bad "Invalid value \"$v\" for \"tap\": an interface name is expected" "$NET" tap "$v"
done
reaches "$NET" tap 0123456789abcde
for v in 0 1 2 4294967295 -3 x; do
	bad "Invalid value \"$v\" for \"cid\": a CID from 3 to 4294967294 is expected" "$VSOCK" cid "$v"
done
reaches "$VSOCK" cid 4294967294
for v in both Loop ''; do
	bad "Invalid value \"$v\" for \"traffic\": \"loop\" or \"none\" is expected" "$NET" traffic "$v"
done
for v in 0 -1 x 18446744073709551616; do
	bad "Invalid value \"$v\" for \"count\": a positive number is expected" "$NET" count "$v"
done
reaches "$NET" count 18446744073709551615
for v in 0 -1 1s 31536001; do
	bad "Invalid value \"$v\" for \"duration\": a number of seconds is expected" "$NET" duration "$v"
done
reaches "$NET" duration 31536000

# Keywords that contradict each other, in either order.
bad 'Option "count" needs "traffic loop"' "$NET" count 5 traffic none
bad 'Option "count" needs "traffic loop"' "$NET" traffic none count 5
reaches "$NET" traffic none duration 5

# Every keyword at once is fine.
reaches "$NET" queues 2 size 512 event_idx mem 8M tap vt0 traffic loop count 10 duration 5
reaches "$VDPA" queues 1 size 128 packed event_idx mem 2M traffic none duration 1
reaches "$VSOCK" cid 9 event_idx traffic loop count 3 duration 2

echo "ok: $n command lines"
