#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl user serve and user probe against each other, output parsed as
# JSON: the acceptance check ("user serve net unix:S &" then "-j user probe
# unix:S" lists the protocol features and the queue count), the net and blk
# devices' config as probe decodes it, dev show unix:PATH next to probe,
# statistics on SIGUSR1 and every SECS, a clean exit on SIGTERM and SIGINT
# with the socket file removed, and connect mode against a frontend that
# listens, goes away and listens again (a Python one speaking the wire
# protocol: GET_FEATURES and its reply).
. "$(dirname "$0")/lib.bash"
need python3

# ---- net, listen: probe, dev show, stats, SIGTERM ----------------------
S=$T/net.sock
serve "$T/net" user serve net "unix:$S" queues 3 mac 52:54:00:12:34:56 stats 1
srv=$LAST
"$VHOSTCTL" -j user probe "unix:$S" >"$T/probe.json" || fail "probe failed"
jq_check "$T/probe.json" \
	"list(d) == ['user'] and list(d['user']) == ['unix:$S']" \
	"d['user']['unix:$S']['transport'] == 'vhost-user'" \
	"d['user']['unix:$S']['class'] == 'net'" \
	"d['user']['unix:$S']['queues'] == 6" \
	"d['user']['unix:$S']['max_mem_slots'] == 509" \
	"int(d['user']['unix:$S']['protocol_features'], 16) & 1" \
	"{'MQ', 'REPLY_ACK', 'CONFIG', 'BACKEND_REQ', 'CONFIGURE_MEM_SLOTS'} <= set(d['user']['unix:$S']['protocol_feature_names'])" \
	"len(d['user']['unix:$S']['protocol_feature_names']) == bin(int(d['user']['unix:$S']['protocol_features'], 16)).count('1')" \
	"{'MAC', 'MQ', 'VERSION_1', 'PROTOCOL_FEATURES'} <= set(d['user']['unix:$S']['feature_names'])" \
	"d['user']['unix:$S']['config'] == {'config_size': 12, 'mac': '52:54:00:12:34:56', 'link': 'up', 'max_vq_pairs': 3, 'mtu': 1500}"
# -p gives the same document.
"$VHOSTCTL" -j -p user probe "unix:$S" >"$T/probe-p.json" || fail "probe -p failed"
python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a != b)' \
	"$T/probe.json" "$T/probe-p.json" || fail "-j -p differs from -j"
[ "$(wc -l <"$T/probe-p.json")" -gt 20 ] || fail "-p is not pretty"
# dev show unix:PATH says the same under "dev", beside a failing device.
"$VHOSTCTL" -j dev show "unix:$S" "unix:$T/none" >"$T/show.json" 2>"$T/show.err" &&
	fail "dev show with a missing socket exited 0"
grep -qx "Error: unix:$T/none: No such file or directory" "$T/show.err" || fail "dev show: $(cat "$T/show.err")"
python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a["user"] != b["dev"])' \
	"$T/probe.json" "$T/show.json" || fail "dev show unix: differs from user probe"
# Text: one line per device, the same fields.
"$VHOSTCTL" user probe "unix:$S" >"$T/probe.txt" || fail "text probe failed"
grep -q "^unix:$S: transport vhost-user class net features 0x[0-9a-f]* feature_names .* queues 6 max_mem_slots 509 config_size 12 mac 52:54:00:12:34:56 link up max_vq_pairs 3 mtu 1500 $" \
	"$T/probe.txt" || fail "text probe: $(cat "$T/probe.txt")"
# Three probes so far, each a connection that left nothing set up.
kill -USR1 "$srv"
wait_for 5 grep -q "^signal: " "$T/net" || { show "$T/net" "$T/net.err"; fail "no statistics on SIGUSR1"; }
grep -q "^signal: tx_packets 0 rx_packets 0 tx_bytes 0 dropped 0 connections 4 connected false messages [0-9]* kicks 0 protocol_errors 0 $" \
	"$T/net" || { show "$T/net"; fail "SIGUSR1 statistics"; }
wait_for 5 grep -q "^periodic: " "$T/net" || { show "$T/net"; fail "no periodic statistics"; }
stop "$srv" TERM || { show "$T/net.err"; fail "serve exited $? on SIGTERM"; }
[ ! -e "$S" ] || fail "socket file left behind after SIGTERM"
tail -n 1 "$T/net" | grep -q "^exit: .* connections 4 connected false" || { show "$T/net"; fail "no exit statistics"; }
grep -qx "vhostctl: serving net on unix:$S" "$T/net.err" || { show "$T/net.err"; fail "no serving line"; }

# ---- blk on a file, read-only, JSON statistics, SIGINT ------------------
S=$T/blk.sock
truncate -s 10M "$T/disk.img"
serve "$T/blk" -j user serve blk "unix:$S" file "$T/disk.img" readonly queues 2
srv=$LAST
"$VHOSTCTL" -j user probe "unix:$S" >"$T/probe.json" || fail "blk probe failed"
jq_check "$T/probe.json" \
	"d['user']['unix:$S']['class'] == 'block'" \
	"d['user']['unix:$S']['queues'] == 2" \
	"{'RO', 'BLK_SIZE', 'FLUSH', 'MQ'} <= set(d['user']['unix:$S']['feature_names'])" \
	"d['user']['unix:$S']['config'] == {'config_size': 60, 'capacity': 20480, 'blk_size': 512, 'num_queues': 2, 'read_only': True}"
kill -USR1 "$srv"
sleep 0.5
stop "$srv" INT || fail "serve exited $? on SIGINT"
[ ! -e "$S" ] || fail "socket file left behind after SIGINT"
jq_check "$T/blk" \
	"list(d) == ['stats'] and [s['reason'] for s in d['stats']] == ['signal', 'exit']" \
	"d['stats'][1]['connections'] == 1 and d['stats'][1]['protocol_errors'] == 0" \
	"'tx_packets' not in d['stats'][0]"

# A RAM disk of a given size.
serve "$T/ram" user serve blk "unix:$S" size 2M
srv=$LAST
"$VHOSTCTL" -j user probe "unix:$S" >"$T/probe.json" || fail "RAM disk probe failed"
jq_check "$T/probe.json" "d['user']['unix:$S']['config']['capacity'] == 4096" \
	"d['user']['unix:$S']['config']['read_only'] is False" \
	"'RO' not in d['user']['unix:$S']['feature_names']"
stop "$srv" || fail "RAM disk serve exit $?"

# ---- connect mode: a frontend that listens, leaves, and listens again ----
S=$T/fe.sock
cat >"$T/fe.py" <<'EOF'
import socket, struct, sys
path, rounds = sys.argv[1], int(sys.argv[2])
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(path)
ls.listen(1)
ls.settimeout(20)
for i in range(rounds):
    c, _ = ls.accept()
    c.settimeout(10)
    c.sendall(struct.pack("<III", 1, 1, 0))        # GET_FEATURES, version 1
    r = b""
    while len(r) < 20:
        chunk = c.recv(20 - len(r))
        if not chunk:
            sys.exit("connection closed before the reply")
        r += chunk
    req, flags, size, features = struct.unpack("<IIIQ", r)
    assert (req, flags & 0x7, size) == (1, 0x5, 8), (req, flags, size)
    assert features >> 30 & 1 and features >> 32 & 1, hex(features)
    print("round %d features 0x%x" % (i, features), flush=True)
    c.close()
EOF
bg "$T/conn" "$VHOSTCTL" user serve net "unix:$S" connect
srv=$LAST
# Nothing listens yet: it waits.
wait_for 10 grep -qx "vhostctl: waiting for a frontend on unix:$S" "$T/conn.err" ||
	{ show "$T/conn.err"; fail "connect mode did not wait for the frontend"; }
timeout 30 python3 "$T/fe.py" "$S" 2 >"$T/fe.out" 2>&1 || { show "$T/fe.out" "$T/conn.err"; fail "frontend rounds"; }
[ "$(grep -c '^round [01] features 0x' "$T/fe.out")" = 2 ] || { show "$T/fe.out"; fail "frontend rounds"; }
# The frontend's listening socket may take a third connection into its
# backlog before it is closed; then the daemon waits again.
wait_for 10 sh -c 'tail -n 1 "$1" | grep -qx "vhostctl: waiting for a frontend on unix:$2"' - \
	"$T/conn.err" "$S" || { show "$T/conn.err"; fail "did not wait again for the frontend"; }
c=$(grep -c "^vhostctl: connected to unix:$S$" "$T/conn.err")
[ "$c" = 2 ] || [ "$c" = 3 ] || { show "$T/conn.err"; fail "connected $c times, expected 2 (or 3)"; }
rm -f "$S"
stop "$srv" TERM || fail "connect-mode serve exit $?"
tail -n 1 "$T/conn" | grep -q "^exit: .* connections $c connected false" ||
	{ show "$T/conn"; fail "connect-mode counters"; }

echo "PASS: serve net/blk, probe, dev show unix:, statistics, signals, connect mode"
