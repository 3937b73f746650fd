# SPDX-License-Identifier: GPL-2.0-only
#
# What the benchmark scripts share (sourced, not run): process stopping,
# polling and DPDK run-directory clean-up.  A script sets PIDS and PREFIXES
# (arrays) as it starts processes and testpmd file prefixes; bench_cleanup
# ends the first and removes the second.

PIDS=()
PREFIXES=()
DPDK_RUNDIR=${XDG_RUNTIME_DIR:-/var/run}/dpdk
[ "$(id -u)" = 0 ] && DPDK_RUNDIR=/var/run/dpdk

# stop PID: SIGINT (timeout passes it on), then wait up to 60 s, then SIGKILL.
stop() {
	local p=$1
	kill -INT "$p" 2>/dev/null
	for _ in $(seq 600); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

. "$(dirname "${BASH_SOURCE[0]}")/../mk/poll.bash"

bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && stop "$p"
	done
	for p in "${PREFIXES[@]}"; do
		rm -rf "${DPDK_RUNDIR:?}/$p"
	done
}
