#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The EXAMPLES of vhostctl-user.8, run as written: every "$ " line of the
# section (with its "\e" continuations) is a command, in order, in one shell,
# so that "&" and "%N" mean what they mean at a prompt.  Paths under /tmp/
# move to a private directory and DPDK's --file-prefix gets a unique suffix;
# nothing else changes.  Checked: each command exits 0; each background job
# ends with status 0 when it is killed (a clean exit: "exit" statistics,
# socket file removed); the output shown under a command is what it (or the
# background jobs it signalled) printed: every word of the shown output,
# "..." aside, is in the real output.
. "$(dirname "$0")/lib.bash"
need python3
need dpdk-testpmd "Debian package dpdk"

MAN=$TOP/Documentation/man/man8/vhostctl-user.8
[ -f "$MAN" ] || fail "$MAN is missing"

python3 - "$MAN" "$T" "$BUILD/bin" "$$" <<'EOF' >"$T/script.sh" || fail "cannot read the examples"
import re, shlex, sys

man, tmp, bindir, pid = sys.argv[1:]
text = open(man).read().split("\n.SH EXAMPLES\n", 1)[1].split("\n.SH ", 1)[0]
steps = []	# [command, [shown output lines]]
cont = nf = False
for line in text.split("\n"):
    if line.startswith("."):
        nf = line.startswith(".nf") or (nf and not line.startswith(".fi"))
        cont = False
        continue
    if not nf:
        continue
    line = line.replace("\\-", "-").replace("\\e", "\\")
    if cont:
        steps[-1][0] += "\n" + line
    elif line.startswith("$ "):
        steps.append([line[2:], []])
    elif steps:
        steps[-1][1].append(line)
    cont = line.endswith("\\")

out = ["set -u", "cd %s" % shlex.quote(tmp), "export PATH=%s:$PATH" % shlex.quote(bindir),
       "sock_wait() { for _ in $(seq 200); do [ -S \"$1\" ] && return 0; sleep 0.1; done; return 1; }",
       "log_wait() { for _ in $(seq 200); do grep -q \"$2\" \"$1\" 2>/dev/null && return 0; sleep 0.1; done; return 1; }"]
jobs = []
for i, (cmd, shown) in enumerate(steps):
    cmd = cmd.replace("/tmp/", tmp + "/").replace("--file-prefix=vu", "--file-prefix=vu" + pid)
    with open("%s/step%d.shown" % (tmp, i), "w") as f:
        f.write("\n".join(s.replace("/tmp/", tmp + "/") for s in shown))
    out.append("echo %s >step%d.cmd" % (shlex.quote(cmd), i))
    if cmd.endswith("&"):
        jobs.append(i)
        out.append("%s >job%d.out 2>&1 &" % (cmd[:-1].rstrip(), i))
        socks = re.findall(r"(?:unix:|path=)(\S+?\.sock)", cmd)
        if "connect" in cmd.split():
            out.append("log_wait job%d.out 'connected to' || echo 'did not connect' >>fail" % i)
        elif socks:
            out.append("sock_wait %s || echo 'no socket %s' >>fail" % (socks[0], socks[0]))
    else:
        out.append("%s >step%d.out 2>&1; echo $? >step%d.rc" % (cmd, i, i))
        m = re.match(r"kill\s+(?:-\S+\s+)?%(\d+)$", cmd)
        if m and cmd.split()[1] in ("%" + m.group(1), "-INT", "-TERM"):
            # The job ends: reap it, as a prompt would, so numbers are reused.
            out.append("wait %%%s; echo $? >step%d.wait" % (m.group(1), i))
        elif m:
            out.append("sleep 1")	# the job's answer to the signal
print("\n".join(out))
print("echo %d >steps" % len(steps))
EOF
bash "$T/script.sh" >"$T/script.out" 2>&1 || { show "$T/script.out"; fail "the examples' script failed"; }
[ ! -s "$T/fail" ] || { show "$T/fail" "$T"/job*.out; fail "examples: $(cat "$T/fail")"; }

python3 - "$T" <<'EOF' || fail "the examples do not do what the page says"
import glob, os, re, sys
tmp = sys.argv[1]
n = int(open(tmp + "/steps").read())
bad = 0
for i in range(n):
    cmd = open("%s/step%d.cmd" % (tmp, i)).read().strip()
    print("$ " + cmd.replace(tmp, "/tmp"))
    if os.path.exists("%s/step%d.rc" % (tmp, i)):
        rc = open("%s/step%d.rc" % (tmp, i)).read().strip()
        if rc != "0":
            print("  FAIL: exit %s: %s" % (rc, open("%s/step%d.out" % (tmp, i)).read()))
            bad += 1
    if os.path.exists("%s/step%d.wait" % (tmp, i)):
        rc = open("%s/step%d.wait" % (tmp, i)).read().strip()
        if rc != "0":
            print("  FAIL: the job ended with status %s" % rc)
            bad += 1
    shown = open("%s/step%d.shown" % (tmp, i)).read()
    real = ""
    for f in ["%s/step%d.out" % (tmp, i)] + sorted(glob.glob(tmp + "/job*.out")):
        if os.path.exists(f):
            real += open(f).read()
    for w in re.findall(r"[A-Za-z0-9_:./-]+", shown):
        if w in ("...",) or w.strip(".") == "":
            continue
        if w not in real:
            print("  FAIL: shown \"%s\" is not in the output" % w.replace(tmp, "/tmp"))
            bad += 1
for f in sorted(glob.glob(tmp + "/job*.out")):
    txt = open(f).read()
    if "vhostctl: serving" in txt or "vhostctl: connected" in txt:
        if not re.search(r"^exit: ", txt, re.M):
            print("  FAIL: %s: no exit statistics" % os.path.basename(f))
            bad += 1
left = glob.glob(tmp + "/vu-net.sock") + glob.glob(tmp + "/vu-blk.sock")
if left:
    print("  FAIL: left behind: %s" % left)
    bad += 1
sys.exit(1 if bad else 0)
EOF
rm -rf "${XDG_RUNTIME_DIR:-/var/run}/dpdk/vu$$"
echo "PASS: the examples of vhostctl-user.8"
