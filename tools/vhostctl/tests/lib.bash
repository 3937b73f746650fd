# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by the vhostctl CLI tests: the binary, a private temporary
# directory, background processes ended by their pid on exit, and the exit
# codes of libvhostctl/tests/run.sh (0 pass, 1 fail, 77 skip).

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BUILD=${BUILD:-$TOP/build}
VHOSTCTL=$BUILD/bin/vhostctl
T=$(mktemp -d /tmp/vhostctl_cli.XXXXXX)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed${2:+ ($2)}"
}

# bg OUTFILE CMD...: start CMD in the background (stdout to OUTFILE, stderr
# to OUTFILE.err); its pid is in LAST and is ended on exit.
bg() {
	local out=$1
	shift
	"$@" >"$out" 2>"$out.err" &
	LAST=$!
	PIDS+=("$LAST")
}

# stop PID [SIGNAL]: signal one process we started, wait (10 s) for it and
# return its exit status (137 when it had to be killed).
stop() {
	local p=$1 sig=${2:-TERM} rc q keep=()
	kill -"$sig" "$p" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rc=$?
	for q in "${PIDS[@]}"; do
		[ "$q" = "$p" ] || keep+=("$q")
	done
	PIDS=("${keep[@]}")
	return $rc
}

. "$TOP/mk/poll.bash"	# wait_for

# show FILE...: the logs, indented, for a failure report.
show() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "--- $(basename "$f")" >&2
		tail -n 40 "$f" | sed 's/^/  /' >&2
	done
}

# serve OUT ARGS...: start "vhostctl user serve ARGS" and wait until it listens
# (its "serving" line).
serve() {
	local out=$1
	shift
	bg "$out" "$VHOSTCTL" "$@"
	wait_for 10 grep -q "^vhostctl: serving " "$out.err" ||
		{ show "$out" "$out.err"; fail "vhostctl $* did not start"; }
}

# jq_check JSONFILE PYTHON-EXPR...: each expression, with the parsed document
# as "d", must be true; the failing one is printed.
jq_check() {
	local f=$1
	shift
	python3 - "$f" "$@" <<'EOF' || { show "$f"; fail "JSON check failed on $f"; }
import json, sys
with open(sys.argv[1]) as fh:
    d = json.load(fh)
for e in sys.argv[2:]:
    if not eval(e, {"d": d}):
        print("false: " + e, file=sys.stderr)
        sys.exit(1)
EOF
}

[ -x "$VHOSTCTL" ] || fail "$VHOSTCTL is missing (make cli)"
