#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# System calls of vhostctl_dev_setup() for kernel vhost-net, 1 and 4 queue
# pairs (one /dev/vhost-net per pair), counted by strace, next to the
# minimum the vhost ioctl interface needs (bench/README.md derives it).
# bench/vhost_net_setup brackets its set-up calls with close(-100) and
# close(-101); every call between them is counted.  Needs /dev/vhost-net:
# on a host without it the script runs itself in the test VM (tools/vm/run).
#
#   bench/vhost_setup_syscalls.sh [PAIRS...]      (default: 1 4)
#
# Exit 0 with the table, 77 if strace is missing, 1 on a failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
bin=$build/bench/vhost_net_setup
pairs=${*:-1 4}

command -v strace >/dev/null || { echo "SKIP: strace is not installed (tools/deps.sh)"; exit 77; }
[ -x "$bin" ] || { echo "vhost_setup_syscalls: $bin is missing (make -C bench)" >&2; exit 1; }
if [ ! -c /dev/vhost-net ]; then
	[ -z "${VHOSTCTL_IN_VM:-}" ] || { echo "vhost_setup_syscalls: no /dev/vhost-net" >&2; exit 1; }
	cd "$top" && exec env VHOSTCTL_IN_VM=1 tools/vm/run --quiet -- "$0" $pairs
fi

tmp=$(mktemp -d /tmp/vhsc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The minimum (bench/README.md): per device SET_OWNER, GET_FEATURES,
# SET_FEATURES, SET_MEM_TABLE; per ring SET_VRING_NUM, SET_VRING_ADDR,
# SET_VRING_KICK, SET_VRING_CALL, NET_SET_BACKEND (SET_VRING_BASE to 0 is
# what a new device already has).  Two rings per device.
minimum() { echo $(($1 * (4 + 2 * 5))); }

rc=0
for q in $pairs; do
	if ! strace -f -qq -o "$tmp/trace.$q" "$bin" -q "$q" >"$tmp/out.$q" 2>&1; then
		cat "$tmp/out.$q" >&2
		echo "vhost_setup_syscalls: vhost_net_setup -q $q failed" >&2
		rc=1
		continue
	fi
	echo "== vhostctl_dev_setup(), vhost-net, $q queue pair(s): system calls between the markers"
	awk '
	/close\(-100\)/ { on = 1; next }
	/close\(-101\)/ { on = 0; next }
	on && match($0, /[a-z_0-9]+\(/) {
		name = substr($0, RSTART, RLENGTH - 1)
		if (name == "ioctl") {
			split(substr($0, RSTART + RLENGTH), a, ", ")
			name = "ioctl " a[2]
			ioctls++
		}
		n[name]++
		total++
	}
	END {
		for (k in n)
			printf "  %5d  %s\n", n[k], k | "sort -k2"
		close("sort -k2")
		printf "  %5d  total (%d ioctls)\n", total, ioctls
	}' "$tmp/trace.$q" | tee "$tmp/count.$q"
	got=$(awk '/total \(/ { gsub(/[()]/, ""); print $3 }' "$tmp/count.$q")
	min=$(minimum "$q")
	echo "  ioctls: $got, minimum $min"
	echo "== strace -c -f, the whole program (opens, set-up, tear-down):"
	strace -c -f -qq "$bin" -q "$q" 2>&1 >/dev/null | sed 's/^/  /'
done
exit $rc
