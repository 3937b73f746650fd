#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl -batch: Documentation/examples/vhost-net-by-hand.batch run as
# written, its frame counted by the tap it went out through; a failed step
# names its line and errno and ends the batch, or not with -force; "-" reads
# stdin; the vhost-vsock steps (cid, running) and the vhost-vdpa steps
# (status, config, group and ASID, suspend, resume) against the kernel, on
# our software vDPA device.  KTAP output with a Totals line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
V=${BUILD:-$top/build}/bin/vhostctl
EX=$top/Documentation/examples/vhost-net-by-hand.batch
NET=vhostctl_sim_net
TAP=vhostctl-ex0
pass=0 fail=0 skip=0 n=0
total=13

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
		pass=$((pass + 1))
	else
		echo "not ok $n $2"
		fail=$((fail + 1))
		# The steps' own output, when given, as diagnostics.
		[ -z "${3:-}" ] || sed 's/^/# /' "$3"
	fi
}

# json FILE EXPR: evaluate a Python expression over the parsed document j.
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

cleanup() {
	$V vdpa del tb0 >/dev/null 2>&1
	ip link del $TAP >/dev/null 2>&1
}

echo "TAP version 13"
echo "1..$total"
lsmod | grep -q '^vhostctl_sim' || modprobe vhostctl_sim || echo "# vhostctl_sim is not built"
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
cleanup

# 1: the example as written, on a persistent tap made first (as its header
# says), so that the tap's counters outlive the batch: one frame of 128
# bytes came in from vhost-net, and the transmit vring stopped at 1.
ip tuntap add dev $TAP mode tap vnet_hdr && sysctl -qw net.ipv6.conf.$TAP.disable_ipv6=1
$V -batch "$EX" >"$tmp/ex" 2>"$tmp/e"
r=$?
ip -j -s link show $TAP >"$tmp/l.json"
[ $r = 0 ] && [ "$(json "$tmp/l.json" "j[0]['stats64']['rx']['packets']")" = 1 ] &&
	[ "$(json "$tmp/l.json" "j[0]['stats64']['rx']['bytes']")" = 128 ] &&
	[ "$(json "$tmp/l.json" "j[0]['stats64']['tx']['packets']")" = 0 ] &&
	grep -qx '41: net0 vring 1 used wait 2000: used len 0 dir out entries 1 ok' "$tmp/ex" &&
	grep -qx '45: net0 vring 1 base get: base 0x1 ok' "$tmp/ex" && [ ! -s "$tmp/e" ]
ok $? "$(basename "$EX") as written: the tap counted 1 frame of 128 bytes $(cat "$tmp/e")"
ip link del $TAP

# 2: without a tap of its own, the batch makes one and takes it away.
$V -j -batch "$EX" >"$tmp/ex.json" 2>"$tmp/e"
r=$?
[ $r = 0 ] && ! ip link show $TAP >/dev/null 2>&1 &&
	python3 - "$tmp/ex.json" <<'PY'
import json, sys
steps = [json.loads(l) for l in open(sys.argv[1])]
assert [s['line'] for s in steps][:3] == [12, 13, 14], steps[:3]
assert not any('error' in s for s in steps)
used = [s for s in steps if s['step'] == 'net0 vring 1 used wait 2000'][0]
assert used['entries'] == 1, used
base = [s for s in steps if s['step'] == 'net0 vring 1 base get'][0]
assert base['base'] == '0x1', base
PY
ok $? "-j -batch the example: one JSON document a step, the tap it made is gone $(cat "$tmp/e")"

# 3: a failed step names its file, line and errno, and ends the batch.
printf 'open d /dev/vhost-net\nd owner\n# taken twice\nd owner\nd features get\n' >"$tmp/owner.batch"
$V -batch "$tmp/owner.batch" >"$tmp/o" 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && [ "$(cat "$tmp/e")" = "Error: $tmp/owner.batch:4: d owner: Device or resource busy (EBUSY)" ] &&
	grep -qx '4: d owner: error EBUSY errno 16 ' "$tmp/o" && ! grep -q '^5:' "$tmp/o"
ok $? "a failed step stops the batch: $(cat "$tmp/e")"

# 4: -force goes on past it, and still exits 1.
$V -force -batch "$tmp/owner.batch" >"$tmp/o" 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && [ "$(cat "$tmp/e")" = "Error: $tmp/owner.batch:4: d owner: Device or resource busy (EBUSY)" ] &&
	grep -q '^5: d features get: features 0x[0-9a-f]* feature_names .*VERSION_1.* ok$' "$tmp/o"
ok $? "-force runs the steps after a failed one, exit 1"

# 5: "-" reads the steps from stdin (not a terminal: no prompt).
$V -j -batch - <"$tmp/owner.batch" >"$tmp/o" 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && [ "$(cat "$tmp/e")" = "Error: -:4: d owner: Device or resource busy (EBUSY)" ] &&
	[ "$(sed -n 3p "$tmp/o")" = '{"line":4,"step":"d owner","error":"EBUSY","errno":16}' ] &&
	[ "$(wc -l <"$tmp/o")" = 3 ]
ok $? "-batch - reads stdin: $(cat "$tmp/e")"

# 6: a syntax error anywhere stops the batch before its first step: the
# open on line 1 would succeed, the device is never opened.
printf 'open d /dev/vhost-net\nd owner\nd vring 64 num 8\n' >"$tmp/syn.batch"
$V -batch "$tmp/syn.batch" >"$tmp/o" 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && [ ! -s "$tmp/o" ] &&
	[ "$(cat "$tmp/e")" = "Error: $tmp/syn.batch:3: invalid value \"64\" after \"vring\": a vring index (0-63) is expected" ]
ok $? "a syntax error on line 3 runs nothing: $(cat "$tmp/e")"

# vhost-vsock: two vrings in a memfd, then a CID and running.
vsock_batch() {
	cat <<B
open s /dev/vhost-vsock
s owner
s features set 0x100000000
s mem add 0x100000 1M
s mem table
s vring 0 num 64
s vring 0 addr auto
s vring 0 kick new
s vring 0 call new
s vring 1 num 64
s vring 1 addr auto
s vring 1 kick new
s vring 1 call new
s vsock cid $1
s vsock running 1
B
}

# 7: the steps run; the CID is taken while the batch holds the device.
{ vsock_batch 45; echo 'sleep 5000'; echo 's vsock running 0'; echo 's close'; } >"$tmp/s.batch"
$V -batch "$tmp/s.batch" >"$tmp/s" 2>"$tmp/e" &
pid=$!
for _ in $(seq 100); do
	grep -q '^15: ' "$tmp/s" && break
	sleep 0.05
done
printf 'open t /dev/vhost-vsock\nt owner\nt vsock cid 45\n' | $V -batch - >"$tmp/t" 2>"$tmp/te"
tr=$?
wait $pid
r=$?
[ $r = 0 ] && [ ! -s "$tmp/e" ] && grep -qx '15: s vsock running 1: ok' "$tmp/s" &&
	grep -qx '17: s vsock running 0: ok' "$tmp/s" && [ $tr = 1 ] &&
	[ "$(cat "$tmp/te")" = "Error: -:3: t vsock cid 45: Address already in use (EADDRINUSE)" ]
ok $? "vsock cid 45 and running 1; a second device is refused CID 45: $(cat "$tmp/e" "$tmp/te")" "$tmp/t"

# 8: running without rings is refused by the kernel, with its errno.
printf 'open s /dev/vhost-vsock\ns owner\ns vsock cid 46\ns vsock running 1\n' >"$tmp/s2.batch"
$V -batch "$tmp/s2.batch" >"$tmp/s" 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && grep -q "^Error: $tmp/s2.batch:4: s vsock running 1: .* (E[A-Z]*)$" "$tmp/e"
ok $? "vsock running 1 without rings fails on line 4: $(cat "$tmp/e")"

# vhost-vdpa on our software device.
$V vdpa add name tb0 mgmtdev $NET
nd=
for _ in $(seq 50); do
	nd=$(ls /sys/bus/vdpa/devices/tb0/ 2>/dev/null | grep '^vhost-vdpa-' | head -n 1)
	[ -n "$nd" ] && [ -c "/dev/$nd" ] && break
	sleep 0.1
done
nd=/dev/$nd
mac=$(vdpa -j dev config show tb0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["tb0"]["mac"].replace(":", ""))')

# 9: status, features and config: the MAC read by "config get" is the one
# iproute2 shows.
cat >"$tmp/v.batch" <<B
open v $nd
v owner
v status get
v config get 0 6
v status set 0x3
v features set 0x300000000
v status set 0xb
v status get
B
$V -batch "$tmp/v.batch" >"$tmp/v" 2>"$tmp/e"
r=$?
[ $r = 0 ] && [ -n "$mac" ] && grep -qx "4: v config get 0 6: config $mac ok" "$tmp/v" &&
	grep -qx '3: v status get: status 0x0 status_names ok' "$tmp/v" &&
	grep -qx '8: v status get: status 0xb status_names ACKNOWLEDGE DRIVER FEATURES_OK ok' "$tmp/v"
ok $? "vdpa status and config: MAC $mac as iproute2 reads it $(cat "$tmp/e")"

# The rest of a vhost-vdpa queue pair by hand, up to DRIVER_OK.
vdpa_batch() {
	cat "$tmp/v.batch"
	cat <<B
v mem add 0x100000 1M
v mem table
v vring 0 num 64
v vring 0 addr auto
v vring 0 kick new
v vring 0 call new
v vring 1 num 64
v vring 1 addr auto
v vring 1 kick new
v vring 1 call new
v vring 0 enable 1
v vring 1 enable 1
v vring 0 group
v group 0 asid 0
v status set 0xf
B
}

# 10: a frame sent by hand comes back on the receive vring (our device
# loops them), and the device's own counters saw it.
{ vdpa_batch; echo 'v vring 0 post 4'; echo 'v vring 1 send count 3'
  echo 'v vring 1 used wait 2000'; echo 'v vring 0 used wait 2000'; echo 'v close'; } >"$tmp/v2.batch"
$V -j -batch "$tmp/v2.batch" >"$tmp/v2.json" 2>"$tmp/e"
r=$?
[ $r = 0 ] && python3 - "$tmp/v2.json" <<'PY'
import json, sys
steps = {s['step']: s for s in map(json.loads, open(sys.argv[1]))}
assert steps['v vring 1 send count 3']['sent'] == 3
tx = steps['v vring 1 used wait 2000']
rx = steps['v vring 0 used wait 2000']
assert tx['entries'] + rx['entries'] >= 3, (tx, rx)
PY
ok $? "vdpa: 3 frames sent by hand come back $(cat "$tmp/e")" "$tmp/v2.json"

# 11: suspend, then the vring base holds, resume, reset back to status 0.
{ vdpa_batch; echo 'v vring 0 post 2'; echo 'v vring 1 send'; echo 'v vring 1 used wait 2000'
  echo 'v suspend'; echo 'v vring 1 base get'; echo 'v resume'; echo 'v reset'
  echo 'v status get'; echo 'v close'; } >"$tmp/v3.batch"
$V -batch "$tmp/v3.batch" >"$tmp/v3" 2>"$tmp/e"
r=$?
[ $r = 0 ] && grep -qx '27: v suspend: ok' "$tmp/v3" && grep -qx '28: v vring 1 base get: base 0x1 ok' "$tmp/v3" &&
	grep -qx '29: v resume: ok' "$tmp/v3" && grep -qx '31: v status get: status 0x0 status_names ok' "$tmp/v3"
ok $? "vdpa suspend, base get, resume, reset $(cat "$tmp/e")" "$tmp/v3"

# 12: a step that does not apply to the device fails with the kernel's errno.
printf 'open v %s\nv owner\nv vsock cid 47\n' "$nd" >"$tmp/v4.batch"
$V -batch "$tmp/v4.batch" >"$tmp/v4" 2>"$tmp/e" && r=1 || r=0
[ $r = 0 ] && grep -q "^Error: $tmp/v4.batch:3: v vsock cid 47: .* (E[A-Z]*)$" "$tmp/e"
ok $? "vsock cid on a vhost-vdpa device is refused: $(cat "$tmp/e")"

# 13: the EXAMPLES of vhostctl-batch(8) that are whole commands, run as
# written from Documentation/examples/: each line shown under a command is
# in what it printed (a line with "..." by its words).
python3 - "$top/Documentation/man/man8/vhostctl-batch.8" "$top/Documentation/examples" "$V" \
	>"$tmp/man" 2>&1 <<'PY'
import os, subprocess, sys
man, exdir, vhostctl = sys.argv[1:]
text = open(man).read().split("\n.SH EXAMPLES\n", 1)[1].split("\n.SH ", 1)[0]
steps, nf, cur = [], False, None
for line in text.split("\n"):
    if line.startswith("."):
        nf = line.startswith(".nf") or (nf and not line.startswith(".fi"))
        cur = None
        continue
    if not nf:
        continue
    line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
    if line.startswith("# "):
        cur = [line[2:], []]
        steps.append(cur)
    elif cur and cur[0].endswith("|"):
        cur[0] += " " + line.strip()
    elif cur:
        cur[1].append(line.rstrip())
ran = 0
for cmd, shown in steps:
    if "'...'" in cmd or not cmd.startswith(("printf", "vhostctl")):
        continue
    cmd = cmd.replace("vhostctl ", vhostctl + " ")
    out = subprocess.run(["bash", "-c", cmd], cwd=exdir, capture_output=True, text=True)
    got = [l.rstrip() for l in (out.stdout + out.stderr).split("\n")]
    for want in shown:
        if want == "..." or not want:
            continue
        if "..." in want:
            words = set(want.replace("...", " ").split())
            ok = any(words <= set(g.split()) for g in got)
        else:
            ok = want in got
        if not ok:
            print("%s: %r not in its output:\n%s" % (cmd, want, "\n".join(got)))
            sys.exit(1)
    ran += 1
print(ran)
sys.exit(0 if ran >= 3 else 1)
PY
ok $? "the examples of vhostctl-batch(8) run as written: $(tail -n 1 "$tmp/man") commands" "$tmp/man"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]
