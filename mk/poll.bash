# SPDX-License-Identifier: GPL-2.0-only
#
# Polling for the project's shell scripts (sourced): tests, selftests and
# benchmarks wait on a condition, never on a fixed time.

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds (0), or
# give up after SECONDS (1).
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
