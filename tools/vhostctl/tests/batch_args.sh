#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl -batch: syntax errors at known lines.  Each error names the file,
# the line and the bad word, exactly; every line of a file is checked before
# the first step runs, so the "open" on line 1 of each file below (of a path
# that does not exist) never runs: its error would show if it did.  Nothing
# is printed on stdout, and the exit status is 1.
. "$(dirname "$0")/lib.bash"

B=$T/b.batch
n=0

# bad LINE "ERROR" STEP: a file of "open d PATH", a comment, then STEP, must
# fail with "Error: FILE:LINE: ERROR" alone.
bad() {
	local line=$1 want=$2 rc
	shift 2
	n=$((n + 1))
	{ echo "open d $T/none/vhost-net"; echo "# a comment, then a blank line"; echo
	  printf '%s\n' "$@"; } >"$B"
	"$VHOSTCTL" -batch "$B" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || fail "$*: exit $rc, expected 1"
	[ "$(cat "$T/err")" = "Error: $B:$line: $want" ] ||
		fail "$*: stderr \"$(cat "$T/err")\", expected \"Error: $B:$line: $want\""
	[ ! -s "$T/out" ] || fail "$*: printed on stdout: $(cat "$T/out")"
}

# Words that are not a step, and steps cut short or too long.
bad 4 'unknown step "bogus"' "d bogus"
bad 4 'unknown step "Owner"' "d Owner"
bad 4 'unknown step "send"' "d send"
# "close" could be a device name: the word after it is the step.
bad 4 'unknown step "d"' "close d"
bad 4 'incomplete step: "get" is expected after "features"' "d features"
bad 4 'incomplete step: "num" is expected after "0"' "d vring 0"
bad 4 'incomplete step: a number below 2^32 is expected after "num"' "d vring 0 num"
bad 4 'incomplete step: a device name is expected after "open"' "open"
bad 4 'incomplete step: milliseconds, 0 to 60000 is expected after "sleep"' "sleep"
bad 4 'invalid value "60001" after "sleep": milliseconds, 0 to 60000 is expected' "sleep 60001"
bad 4 'incomplete step: a size is expected after "0x100000"' "d mem add 0x100000"
bad 4 'unexpected "extra"' "d owner extra"
bad 4 'unexpected "count"' "d vring 1 post 2 count 3"
bad 4 'too many words' "d a b c d e f g h i j k l m n o p"
bad 5 'unexpected "x"' "d owner" "d features get x"

# Values out of range, or not numbers.
bad 4 'invalid value "64" after "vring": a vring index (0-63) is expected' "d vring 64 num 8"
bad 4 'invalid value "-1" after "vring": a vring index (0-63) is expected' "d vring -1 num 8"
bad 4 'invalid value "0x100000000" after "num": a number below 2^32 is expected' \
	"d vring 0 num 0x100000000"
bad 4 'invalid value "-1" after "set": a number is expected' "d features set -1"
bad 4 'invalid value "0x1g" after "set": a number is expected' "d features set 0x1g"
bad 4 'invalid value "18446744073709551616" after "set": a number is expected' \
	"d features set 18446744073709551616"
bad 4 'invalid value "1X" after "0x100000": a size is expected' "d mem add 0x100000 1X"
bad 4 'invalid value "2" after "enable": 0 or 1 is expected' "d vring 0 enable 2"
bad 4 'invalid value "2" after "running": 0 or 1 is expected' "d vsock running 2"
bad 4 'invalid value "maybe" after "kick": "new" or "none" is expected' "d vring 0 kick maybe"
bad 4 'invalid value "0x100" after "set": a number from 0 to 0xff is expected' "d status set 0x100"
bad 4 'invalid value "0" after "0": a length from 1 to 256 is expected' "d config get 0 0"
bad 4 'invalid value "257" after "0": a length from 1 to 256 is expected' "d config get 0 257"
bad 4 'invalid value "abc" after "0": a hexadecimal string of 1 to 256 bytes is expected' \
	"d config set 0 abc"
bad 4 'invalid value "zz" after "0": a hexadecimal string of 1 to 256 bytes is expected' \
	"d config set 0 zz"
bad 4 "invalid value \"$(printf '00%.0s' $(seq 12))...\" after \"0\": a hexadecimal string of 1 to 256 bytes is expected" \
	"d config set 0 $(printf '00%.0s' $(seq 257))"

# Options after a step: each once, with a value in range.
bad 4 '"count" is repeated' "d vring 1 send count 2 count 3"
bad 4 '"count" needs a value' "d vring 1 send count"
bad 4 'invalid value "0" for "count": a number from 1 to 4096 is expected' "d vring 1 send count 0"
bad 4 'invalid value "4097" for "count": a number from 1 to 4096 is expected' "d vring 1 send count 4097"
bad 4 'invalid value "65537" for "len": a number from 1 to 65536 is expected' "d vring 0 post 4 len 65537"
bad 4 'invalid value "60001" for "wait": a number from 1 to 60000 is expected' "d vring 0 used wait 60001"

# Device names: valid, open, and not open twice.
bad 4 'invalid device name "1d"' "open 1d /x"
bad 4 'invalid device name "open"' "open open /x"
bad 4 'invalid device name "sleep"' "open sleep /x"
bad 4 "invalid device name \"$(printf 'a%.0s' $(seq 32))\"" "open $(printf 'a%.0s' $(seq 32)) /x"
bad 4 'no device "e" is open' "e owner"
bad 4 'device "d" is open already' "open d /y"
bad 5 'no device "d" is open' "d close" "d owner"

# Every bad line is reported, in order, and none runs.
n=$((n + 1))
printf 'open d %s\nd owner\nd bogus\nd owner\nd vring 99 num 1\n' "$T/none/vhost-net" >"$B"
"$VHOSTCTL" -batch "$B" >"$T/out" 2>"$T/err" && fail "two bad lines: exit 0"
[ "$(cat "$T/err")" = "Error: $B:3: unknown step \"bogus\"
Error: $B:5: invalid value \"99\" after \"vring\": a vring index (0-63) is expected" ] ||
	fail "two bad lines: $(cat "$T/err")"

# A line longer than 1023 characters.
n=$((n + 1))
{ echo "open d $T/none/vhost-net"; printf '#%.0s' $(seq 1100); echo; } >"$B"
"$VHOSTCTL" -batch "$B" >"$T/out" 2>"$T/err" && fail "a long line: exit 0"
[ "$(cat "$T/err")" = "Error: $B:2: line too long" ] || fail "a long line: $(cat "$T/err")"

# Stdin ("-") is named "-"; a good file runs, and fails where the device
# does not exist, on line 1.
n=$((n + 1))
printf 'open d %s\nd bogus\n' "$T/none/vhost-net" | "$VHOSTCTL" -batch - >"$T/out" 2>"$T/err" &&
	fail "stdin: exit 0"
[ "$(cat "$T/err")" = 'Error: -:2: unknown step "bogus"' ] || fail "stdin: $(cat "$T/err")"
n=$((n + 1))
printf '# nothing yet\nopen d %s\nd owner\n' "$T/none/vhost-net" | "$VHOSTCTL" -batch - >"$T/out" 2>"$T/err" &&
	fail "a missing device: exit 0"
grep -qx "Error: -:2: open d $T/none/vhost-net: No such file or directory (ENOENT)" "$T/err" ||
	fail "a missing device: $(cat "$T/err")"
grep -q '^3:' "$T/out" && fail "a missing device: line 3 ran"

# The documented example parses whole: its first step is what fails here
# (the host has no /dev/vhost-net, or no right to open it) -- or it runs.
n=$((n + 1))
EX=$TOP/Documentation/examples/vhost-net-by-hand.batch
"$VHOSTCTL" -batch "$EX" >"$T/out" 2>"$T/err"
grep -q '^Error: .*vhost-net-by-hand.batch:[0-9]*: \(invalid\|unknown\|incomplete\|unexpected\)' "$T/err" &&
	fail "the example does not parse: $(cat "$T/err")"

# The file itself, and the command line around -batch.
n=$((n + 1))
"$VHOSTCTL" -batch "$T/none.batch" >"$T/out" 2>"$T/err" && fail "a missing file: exit 0"
[ "$(cat "$T/err")" = "Cannot open file \"$T/none.batch\" for batch: No such file or directory" ] ||
	fail "a missing file: $(cat "$T/err")"
n=$((n + 1))
"$VHOSTCTL" -batch "$B" dev show >"$T/out" 2>"$T/err" && fail "-batch with an object: exit 0"
[ "$(cat "$T/err")" = '-batch takes no object: "dev"' ] || fail "-batch with an object: $(cat "$T/err")"
n=$((n + 1))
: >"$B"
"$VHOSTCTL" -batch "$B" >"$T/out" 2>"$T/err" || fail "an empty file: exit $?"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "an empty file printed something"

echo "ok: $n batch files"
