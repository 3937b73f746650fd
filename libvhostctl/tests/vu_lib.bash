# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by the vhost-user interop scripts (tests/vu_*.sh): a private
# temporary directory, processes started with vu_bg are ended by their pid
# on exit, and the exit codes of tests/run.sh (0 pass, 1 fail, 77 skip).

set -u
BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
VU_BE=$BUILD/tests/helpers/vu_be
VU_TMP=$(mktemp -d /tmp/vu_interop.XXXXXX)
VU_PIDS=()

vu_cleanup() {
	local p
	for p in "${VU_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${VU_PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	VU_PIDS=()
	rm -rf "$VU_TMP"
}
trap vu_cleanup EXIT

vu_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

vu_skip() {
	echo "SKIP: $*"
	exit 77
}

vu_need() {
	command -v "$1" >/dev/null 2>&1 || vu_skip "$1 is not installed${2:+ ($2)}"
}

# vu_bg OUTFILE CMD...: start CMD in the background (stdout+stderr to
# OUTFILE); its pid is in VU_LAST and is ended on exit.
vu_bg() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	VU_LAST=$!
	VU_PIDS+=("$VU_LAST")
}

# vu_stop PID [SIGNAL]: signal one process we started and wait (10 s) for it.
vu_stop() {
	local p=$1 sig=${2:-TERM}
	kill -"$sig" "$p" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	local rc=$?
	local keep=()
	for q in "${VU_PIDS[@]}"; do
		[ "$q" = "$p" ] || keep+=("$q")
	done
	VU_PIDS=("${keep[@]}")
	return $rc
}

. "$(dirname "${BASH_SOURCE[0]}")/../../mk/poll.bash"
# vu_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
vu_wait_for() { wait_for "$@"; }

# vu_show FILE...: the logs, indented, for a failure report.
vu_show() {
	local f
	for f in "$@"; do
		echo "--- $(basename "$f")" >&2
		tail -n 40 "$f" | sed 's/^/  /' >&2
	done
}

[ -x "$VU_BE" ] || vu_fail "$VU_BE is missing (make -C libvhostctl tests)"
