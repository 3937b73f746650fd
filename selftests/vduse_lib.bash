# SPDX-License-Identifier: GPL-2.0-only
#
# Shell helpers of the VDUSE selftests and bench/vduse_blk.sh, vduse_net.sh (sourced).

. "$(dirname "${BASH_SOURCE[0]}")/../mk/poll.bash"
# until_ok SECS CMD...: retry CMD every 0.1 s for SECS seconds.
until_ok() { wait_for "$@"; }

# bind_virtio NAME: move vDPA device NAME to virtio_vdpa (vhost_vdpa, when
# loaded first, takes new devices).
bind_virtio() {
	local d=/sys/bus/vdpa/devices/$1 drv
	until_ok 5 test -e "$d" || return 1
	if [ -e "$d/driver" ]; then
		drv=$(basename "$(readlink "$d/driver")")
		[ "$drv" = virtio_vdpa ] && return 0
		echo "$1" >"/sys/bus/vdpa/drivers/$drv/unbind" || return 1
	fi
	echo virtio_vdpa >"$d/driver_override" && echo "$1" >/sys/bus/vdpa/drivers_probe
}

# disk NAME: the /dev/vdX virtio_blk made of vDPA device NAME.
disk() {
	local b
	b=$(ls /sys/bus/vdpa/devices/"$1"/virtio*/block/ 2>/dev/null | head -n 1)
	[ -n "$b" ] && [ -b "/dev/$b" ] && echo "/dev/$b"
}

# median N...: the middle one of the numbers (the upper middle of an even count).
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
