#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Peers that break the vhost-user protocol, written here in Python on the
# wire format.  user probe against a fake backend: a reply for another
# request, a short reply, a closed connection, no reply at all, zero queues,
# a config reply larger than any config: each fails that probe with exit 1
# and an error naming the socket, never a crash; a queue count beyond what
# libvhostctl drives is clamped, a refused config read is no error.  user
# serve against frontends that send an oversized message, an unknown
# request or half a header: each is cut off and counted, the daemon goes on
# serving (a probe afterwards works) and exits cleanly.
. "$(dirname "$0")/lib.bash"
need python3

cat >"$T/fake.py" <<'EOF'
import socket, struct, sys
path, mode = sys.argv[1], sys.argv[2]
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(path)
ls.listen(1)
ls.settimeout(30)
c, _ = ls.accept()
c.settimeout(30)

def recv(n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            sys.exit(0)
        b += x
    return b

def reply(req, payload, size=None):
    c.sendall(struct.pack("<III", req, 0x5, len(payload) if size is None else size) + payload)

if mode == "close":
    c.close()
    sys.exit(0)
# MAC, PROTOCOL_FEATURES, VERSION_1; protocol features MQ and CONFIG.
features = 1 << 5 | 1 << 30 | 1 << 32
while True:
    req, flags, size = struct.unpack("<III", recv(12))
    body = recv(size) if size else b""
    if mode == "silent":
        continue
    if req == 1:                                # GET_FEATURES
        if mode == "otherid":
            reply(2, struct.pack("<Q", features))
        elif mode == "short":
            reply(1, b"\0\0\0\0")
        else:
            reply(1, struct.pack("<Q", features))
    elif req == 15:                             # GET_PROTOCOL_FEATURES
        reply(15, struct.pack("<Q", 1 << 0 | 1 << 9))
    elif req == 17:                             # GET_QUEUE_NUM
        reply(17, struct.pack("<Q", {"queues0": 0, "queues2^40": 1 << 40}.get(mode, 2)))
    elif req == 24:                             # GET_CONFIG
        offset, sz, fl = struct.unpack("<III", body[:12])
        if mode == "bigconfig":
            reply(24, struct.pack("<III", 0, 4096, 0) + b"\xff" * 4096)
        elif sz == 12:
            reply(24, struct.pack("<III", 0, 12, 0) + bytes([2, 1, 2, 3, 4, 5, 1, 0, 9, 9, 0xdc, 5]))
        else:
            reply(24, b"", size=0)              # a refusal
EOF

n=0
# probe MODE RC "LAST STDERR LINE (extended regex)" [STDOUT PATTERN]
probe() {
	local mode=$1 want_rc=$2 want_err=$3 want_out=${4:-} sock=$T/$1.sock rc f
	bg "$T/fake.$mode" python3 "$T/fake.py" "$sock" "$mode"
	f=$LAST
	wait_for 10 test -S "$sock" || fail "$mode: the fake backend did not listen"
	timeout 30 "$VHOSTCTL" user probe "unix:$sock" >"$T/out" 2>"$T/err"
	rc=$?
	n=$((n + 1))
	[ "$rc" = "$want_rc" ] || { show "$T/err"; fail "$mode: exit $rc, expected $want_rc"; }
	tail -n 1 "$T/err" | grep -Eqx -- "$want_err" || [ -z "$want_err$(cat "$T/err")" ] ||
		fail "$mode: stderr ends \"$(tail -n 1 "$T/err")\", expected \"$want_err\""
	if [ -n "$want_out" ]; then
		grep -q "$want_out" "$T/out" || fail "$mode: output $(cat "$T/out")"
	else
		[ ! -s "$T/out" ] || fail "$mode: printed $(cat "$T/out")"
	fi
	stop "$f"
}

probe good 0 "" "class net .* protocol_feature_names MQ CONFIG queues 2 max_mem_slots 8 config_size 12 mac 02:01:02:03:04:05 $"
probe "queues2^40" 0 "" " queues 64 max_mem_slots 8 "
# Whether the send or the read sees the close first is a race: either error is right.
probe close 1 "Error: unix:$T/close.sock: cannot connect as a vhost-user frontend: (Broken pipe|Connection reset by peer)"
probe otherid 1 "Error: unix:$T/otherid.sock: cannot connect as a vhost-user frontend: Protocol error"
probe short 1 "Error: unix:$T/short.sock: cannot connect as a vhost-user frontend: Protocol error"
probe queues0 1 "Error: unix:$T/queues0.sock: cannot connect as a vhost-user frontend: Protocol error"
probe bigconfig 1 "Error: unix:$T/bigconfig.sock: GET_CONFIG: Message too long"
probe silent 1 "Error: unix:$T/silent.sock: cannot connect as a vhost-user frontend: Connection timed out"

# ---- hostile frontends against user serve -------------------------------
S=$T/srv.sock
serve "$T/srv" -j user serve net "unix:$S"
srv=$LAST
python3 - "$S" <<'EOF' || fail "hostile frontends"
import socket, struct, sys

def conn():
    c = socket.socket(socket.AF_UNIX)
    c.connect(sys.argv[1])
    c.settimeout(10)
    return c

# Each is cut off: the daemon closes the connection without a reply.
for name, msg in (("oversized", struct.pack("<III", 1, 1, 1 << 20)),
                  ("unknown request", struct.pack("<III", 999, 1, 0))):
    c = conn()
    c.sendall(msg)
    if c.recv(100) != b"":
        sys.exit(name + ": answered")
    c.close()
c = conn()
c.sendall(b"\x01\x00")                          # half a header, then gone
c.close()
EOF
"$VHOSTCTL" -j user probe "unix:$S" >"$T/probe.json" || { show "$T/srv.err"; fail "probe after hostile frontends"; }
jq_check "$T/probe.json" "d['user']['unix:$S']['queues'] == 2"
stop "$srv" TERM || fail "serve exited $? after hostile frontends"
[ ! -e "$S" ] || fail "socket file left behind"
jq_check "$T/srv" "d['stats'][-1]['reason'] == 'exit'" "d['stats'][-1]['connections'] == 4" \
	"d['stats'][-1]['protocol_errors'] == 2" \
	"d['stats'][-1]['last_error'] == 'unsupported request 999 (UNKNOWN)'"
grep -q "^vhostctl: vhost-user frontend cut off: GET_FEATURES: payload of 1048576 bytes is too large$" \
	"$T/srv.err" || { show "$T/srv.err"; fail "the oversized message was not reported"; }
echo "PASS: $n hostile backends probed, 3 hostile frontends served"
