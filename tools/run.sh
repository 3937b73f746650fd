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
exec tools/vm/run -- tools/demo.sh
