#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run: install what is missing, build, boot the test VM and show what
# vhostctl does there (tools/demo.sh, run inside the VM).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh
make -j2 all
tools/vm/run -- tools/demo.sh
# Sections that need no kernel run here, not under emulation.
export BUILD=${BUILD:-$top/build}
for s in tools/demo.d/*.host.sh; do
	[ -x "$s" ] || continue
	printf '\n== %s (on the host)\n' "$(basename "$s" .host.sh)"
	"$s"
done
