#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/vhostctl/vhostctl.bash-completion: what it offers for lines typed up
# to the cursor (options, objects, commands, keywords not yet given,
# exclusive keywords, values, files and unix:PATH sockets), checked exactly;
# and that every object, command and keyword it offers for the user object
# is one vhostctl accepts (no "not found" or "Unknown option" from the real
# parser).
. "$(dirname "$0")/lib.bash"

# shellcheck source=../vhostctl.bash-completion
. "$TOP/tools/vhostctl/vhostctl.bash-completion"
complete -p vhostctl >/dev/null || fail "no completion registered for vhostctl"
n=0

# is "LINE" "REPLIES": completing LINE (cursor at its end) offers exactly REPLIES.
is() {
	local got
	COMP_LINE=$1
	COMP_POINT=${#1}
	COMPREPLY=()
	_vhostctl 2>/dev/null
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
	n=$((n + 1))
	[ "$got" = "$2" ] || fail "completing \"$1\": got \"$got\", expected \"$2\""
}

is "vhostctl " "dev help mgmtdev user vdpa vduse"
is "vhostctl u" "user"
is "vhostctl vd" "vdpa vduse"
is "vhostctl vduse " "help serve"
is "vhostctl vduse serve " "blk help net"
is "vhostctl vduse serve net " "mac name queue_size queues"
is "vhostctl vduse serve net name vn0 " "mac queue_size queues"
is "vhostctl vduse serve blk name vb0 " "file queue_size queues readonly size"
is "vhostctl vduse serve blk name vb0 size 1M " "queue_size queues readonly"
is "vhostctl vduse serve blk name vb0 queues " ""
is "vhostctl -" "--Version --help --json --pretty -V -batch -force -h -j -p"
is "vhostctl -j -p " "dev help mgmtdev user vdpa vduse"
is "vhostctl dev " "help show up"
is "vhostctl user " "help probe serve"
is "vhostctl user s" "serve"
is "vhostctl vdpa " "add config del help set show vstats"
is "vhostctl mgmtdev " "help show"
is "vhostctl user serve " "blk help net"
is "vhostctl user serve net " "unix:"
is "vhostctl user serve net unix:/x " "connect listen mac queues stats"
is "vhostctl user serve blk unix:/x " "connect file listen queues readonly size stats"
is "vhostctl user serve blk unix:/x queues 2 listen " "file readonly size stats"
is "vhostctl user serve blk unix:/x file a " "connect listen queues readonly stats"
is "vhostctl user serve net unix:/x queues " ""
is "vhostctl user serve net unix:/x c" "connect"
is "vhostctl dev up /dev/vhost-net " "count duration event_idx mem packed queues size tap traffic"
is "vhostctl dev up /dev/vhost-net packed queues 2 traffic " "loop none"
is "vhostctl dev up /dev/vhost-net packed queues 2 traffic loop " "count duration event_idx mem size tap"
is "vhostctl dev up /dev/vhost-vsock " "cid count duration event_idx traffic"
is "vhostctl dev up /dev/vhost-vsock cid 3 count 5 " "duration event_idx traffic"
is "vhostctl dev up /dev/vhost-vdpa-0 " "count duration event_idx mem packed queues size traffic"
is "vhostctl dev up /dev/vhost-vdpa-0 mem 4M t" "traffic"
is "vhostctl dev up /dev/vhost-vdpa-0 traffic n" "none"
is "vhostctl dev up /dev/vhost-net count " ""
is "vhostctl dev up /x/y " ""
is "vhostctl vdpa add " "device_features mac max_vqp mgmtdev mtu name"
is "vhostctl vdpa add name v0 mgmtdev vdpasim_net " "device_features mac max_vqp mtu"
is "vhostctl vdpa config " "show"

# Files and sockets.
mkdir -p "$T/d/sub"
touch "$T/d/disk.img" "$T/d/vu.sock"
is "vhostctl user serve blk unix:$T/d/vu.sock file $T/d/d" "$T/d/disk.img"
is "vhostctl user serve blk unix:$T/d/vu.sock file $T/d/s" "$T/d/sub/"
# After a colon bash keeps "unix:", so the replies are what follows it.
is "vhostctl user probe unix:$T/d/v" "$T/d/vu.sock"
is "vhostctl dev show unix:$T/d/d" "$T/d/disk.img"
is "vhostctl user probe " "help unix:"
(cd "$T/d" && is "vhostctl -batch " "disk.img sub/ vu.sock") || exit 1
(cd "$T/d" && is "vhostctl -j -batch s" "sub/") || exit 1
is "vhostctl -batch x " "--Version --help --json --pretty -V -batch -force -h -j -p"
is "vhostctl user probe un" "unix:"

# Everything offered for "user" is grammar vhostctl knows: each keyword
# reaches a value check or a later stage, never "Unknown option".
for kw in queues stats mac; do
	"$VHOSTCTL" user serve net "unix:$T/s.sock" "$kw" 2>"$T/err" >/dev/null
	grep -qx "Option \"$kw\" needs a value" "$T/err" || fail "net $kw: $(cat "$T/err")"
done
for kw in file size; do
	"$VHOSTCTL" user serve blk "unix:$T/s.sock" "$kw" 2>"$T/err" >/dev/null
	grep -qx "Option \"$kw\" needs a value" "$T/err" || fail "blk $kw: $(cat "$T/err")"
done
"$VHOSTCTL" user serve blk "unix:$T/s.sock" readonly readonly 2>"$T/err" >/dev/null
grep -qx 'Error: duplicate "readonly".' "$T/err" || fail "readonly: $(cat "$T/err")"
"$VHOSTCTL" user serve net "unix:$T/s.sock" listen connect 2>"$T/err" >/dev/null
grep -q '^Options "listen" and "connect"' "$T/err" || fail "listen connect: $(cat "$T/err")"
# and for "vduse"
for kw in name queues queue_size mac; do
	"$VHOSTCTL" vduse serve net "$kw" 2>"$T/err" >/dev/null
	grep -qx "Option \"$kw\" needs a value" "$T/err" || fail "vduse net $kw: $(cat "$T/err")"
done
for kw in file size; do
	"$VHOSTCTL" vduse serve blk "$kw" 2>"$T/err" >/dev/null
	grep -qx "Option \"$kw\" needs a value" "$T/err" || fail "vduse blk $kw: $(cat "$T/err")"
done
for c in serve probe help; do
	"$VHOSTCTL" user "$c" help >/dev/null 2>&1 || fail "vhostctl user $c help fails"
done

echo "PASS: $n completions"
