#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl user serve / probe and dev show unix:PATH: argument parsing.
# Every bad command line exits 1 with its exact error line on stderr, prints
# nothing on stdout and creates no socket file (usage errors are caught
# before anything is touched); help works at every level.
. "$(dirname "$0")/lib.bash"

S=$T/s.sock
n=0

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
	[ ! -e "$S" ] || fail "vhostctl $*: created $S"
}

# help "FIRST LINE" ARGS...: vhostctl ARGS prints usage on stdout and exits 0.
help() {
	local want=$1 rc
	shift
	n=$((n + 1))
	"$VHOSTCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 0 ] || fail "vhostctl $*: exit $rc, expected 0"
	[ "$(head -n 1 "$T/out")" = "$want" ] ||
		fail "vhostctl $*: first line \"$(head -n 1 "$T/out")\", expected \"$want\""
	[ ! -s "$T/err" ] || fail "vhostctl $*: stderr: $(cat "$T/err")"
}

# Help at every level.
help "Usage: vhostctl [ OPTIONS ] OBJECT { COMMAND | help }" help
help "Usage: vhostctl user serve { net | blk } unix:PATH [ queues N ] [ listen | connect ]" user help
help "Usage: vhostctl user serve { net | blk } unix:PATH [ queues N ] [ listen | connect ]" \
	user serve help
help "Usage: vhostctl user probe unix:PATH" user probe help
help "Usage: vhostctl user probe unix:PATH" user probe "unix:$S" help
for args in "net help" "blk unix:$S help" "net unix:$S queues 2 help" "nett help"; do
	# shellcheck disable=SC2086
	help "Usage: vhostctl user serve { net | blk } unix:PATH [ queues N ] [ listen | connect ]" \
		user serve $args
done
"$VHOSTCTL" help | grep -q "OBJECT := { dev | mgmtdev | vdpa | user" ||
	fail "vhostctl help does not list the user object"

# Objects and commands.
bad 'Command is expected, try "vhostctl user help".' user
bad 'Command "serv" not found' user serv
bad 'Command "Probe" not found' user Probe

# serve: type and socket.
bad 'Device type is expected: net or blk' user serve
bad 'Device type "nett" is unknown: net or blk' user serve nett "unix:$S"
bad 'Socket is expected, try "vhostctl user serve help".' user serve net
bad "Socket \"$S\" must be given as unix:PATH" user serve net "$S"
bad 'Socket "unix:" has an empty path' user serve blk unix:
long=$T/$(printf 'x%.0s' $(seq 120))
bad "Socket path \"$long\" is too long (at most 107 bytes)" user serve net "unix:$long"

# serve: keywords unknown, without a value, repeated, out of range.
bad 'Unknown option "queue"' user serve net "unix:$S" queue 2
bad 'Unknown option "2"' user serve net "unix:$S" 2
bad 'Unknown option "LISTEN"' user serve net "unix:$S" LISTEN
bad 'Option "queues" needs a value' user serve net "unix:$S" queues
bad 'Option "stats" needs a value' user serve blk "unix:$S" stats
bad 'Option "mac" needs a value' user serve net "unix:$S" mac
bad 'Option "file" needs a value' user serve blk "unix:$S" file
bad 'Option "size" needs a value' user serve blk "unix:$S" size
bad 'Error: duplicate "queues": "3" is the second value.' user serve net "unix:$S" queues 2 queues 3
bad 'Error: duplicate "stats": "1" is the second value.' user serve net "unix:$S" stats 1 stats 1
bad 'Error: duplicate "mac": "02:00:00:00:00:02" is the second value.' \
	user serve net "unix:$S" mac 02:00:00:00:00:01 mac 02:00:00:00:00:02
bad 'Error: duplicate "file": "b.img" is the second value.' user serve blk "unix:$S" file a.img file b.img
bad 'Error: duplicate "size": "1M" is the second value.' user serve blk "unix:$S" size 1M size 1M
bad 'Error: duplicate "readonly".' user serve blk "unix:$S" readonly readonly
bad 'Options "listen" and "connect" are exclusive, given once each' user serve net "unix:$S" listen connect
bad 'Options "listen" and "connect" are exclusive, given once each' user serve net "unix:$S" listen listen
bad 'Options "file" and "size" are exclusive' user serve blk "unix:$S" file a.img size 1M
for q in 0 33 -1 +2 1x "" 99999999999999999999; do
	bad "Invalid queues \"$q\" (net: 1 to 32)" user serve net "unix:$S" queues "$q"
done
for q in 0 17; do
	bad "Invalid queues \"$q\" (blk: 1 to 16)" user serve blk "unix:$S" queues "$q"
done
for s in 0 86401 -5 x; do
	bad "Invalid stats \"$s\" (seconds, 1 to 86400)" user serve net "unix:$S" stats "$s"
done
for m in 02:00:00:00:00 02:00:00:00:00:0g 02:00:00:00:00:01:02 0200.0000.0001 "02:00:00:00:00:1 "; do
	bad "Invalid MAC address \"$m\"" user serve net "unix:$S" mac "$m"
done
for sz in 0 511 1000 1T -512 512KK 99999999999999999999 20000000000G " -512" " 512"; do
	bad "Invalid size \"$sz\" (bytes, a multiple of 512)" user serve blk "unix:$S" size "$sz"
done
bad 'Invalid file ""' user serve blk "unix:$S" file ""
bad 'Option "file" is valid only for blk' user serve net "unix:$S" file a.img
bad 'Option "size" is valid only for blk' user serve net "unix:$S" size 1M
bad 'Option "readonly" is valid only for blk' user serve net "unix:$S" readonly
bad 'Option "mac" is valid only for net' user serve blk "unix:$S" mac 02:00:00:00:00:01

# serve: errors after parsing still leave nothing behind.
bad "Error: cannot serve $T/none.img: No such file or directory" \
	user serve blk "unix:$S" file "$T/none.img"
bad "Error: unix:$T/nodir/s.sock: cannot listen: No such file or directory" \
	user serve net "unix:$T/nodir/s.sock"

# probe and dev show unix:PATH.
bad 'Socket is expected, try "vhostctl user probe help".' user probe
bad 'Unknown option "now"' user probe "unix:$S" now
# "help" as a value is the value.
bad 'Options "file" and "size" are exclusive' user serve blk "unix:$S" file help size 1M
bad "Socket \"$S\" must be given as unix:PATH" user probe "$S"
bad "Error: unix:$S: No such file or directory" user probe "unix:$S"
bad "Error: unix:$S: No such file or directory" dev show "unix:$S"
touch "$T/file"
bad "Error: unix:$T/file: not a socket" user probe "unix:$T/file"
bad 'Socket "unix:" has an empty path' dev show unix:
# A socket nobody listens on: refused, reported, no output.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/dead.sock"
timeout 30 "$VHOSTCTL" user probe "unix:$T/dead.sock" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && grep -qx "Error: unix:$T/dead.sock: cannot connect as a vhost-user frontend: Connection refused" "$T/err" ||
	fail "probe of a dead socket: exit $rc, $(cat "$T/err")"
n=$((n + 1))

echo "PASS: $n command lines checked"
