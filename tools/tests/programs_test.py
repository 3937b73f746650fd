#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Every program that the project's shell scripts call must come from a
# package that tools/deps.sh installs (or from an essential package, which
# every Debian system has).  A machine that happens to have a package
# installed by hand hides a missing install step; this catches it.  The
# commands are found at command positions (line starts, after | && || ; (
# $( and the like, after timeout/taskset/env/exec/chroot/nice wrappers),
# skipping functions the scripts define, builtins and here-documents.
import os
import re
import shutil
import subprocess
import sys

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
files = subprocess.run(["git", "-C", top, "ls-files"], capture_output=True, text=True,
                       check=True).stdout.split()
scripts = []
for f in files:
    p = os.path.join(top, f)
    if not os.path.isfile(p) or f == "tools/vm/init":  # init runs busybox applets
        continue
    with open(p, "rb") as fh:
        head = fh.readline()
    if f.endswith(".sh") or head.startswith(b"#!/bin/bash") or head.startswith(b"#!/bin/sh"):
        scripts.append(f)

pkgs = set(subprocess.run([os.path.join(top, "tools/deps.sh"), "--list"], capture_output=True,
                          text=True, check=True).stdout.split())

SHELL_WORDS = set("""if then else elif fi for while until do done case esac in function select
time return exit break continue local declare typeset readonly export unset shift set eval
exec source . : true false test [ [[ ]] echo printf read cd pwd pushd popd trap wait kill
command type hash builtin let mapfile readarray getopts ulimit umask alias jobs fg bg
disown shopt enable caller compgen complete help history logout suspend times""".split())
WRAPPERS = {"timeout", "taskset", "env", "exec", "nice", "chroot", "command", "xargs",
            "setsid", "stdbuf", "ionice", "sudo", "then", "do", "else", "!", "time"}

functions = set()
for f in scripts:
    for line in open(os.path.join(top, f), errors="replace"):
        m = re.match(r"\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)", line)
        if m:
            functions.add(m.group(1))

def commands(path):
    heredoc = None
    for n, line in enumerate(open(path, errors="replace"), 1):
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        code = re.sub(r"(^|\s)#.*", "", line)
        code = re.sub(r"'[^']*'", "''", code)         # quoted text is no command
        code = re.sub(r'"[^"]*"', '""', code)
        code = re.sub(r"\$\(\([^)]*\)\)", "0", code)   # arithmetic
        for seg in re.split(r"\|\||&&|[|;(`{]|\$\(|\bthen\b|\bdo\b|\belse\b", code):
            words = seg.split()
            while words and (re.match(r"^\w+=", words[0]) or words[0] in WRAPPERS or
                             words[0].startswith("-") or re.match(r"^[\d.]+[smhd]?$", words[0])
                             or words[0].startswith("$")):
                if words[0] == "taskset" and len(words) > 2:
                    words = words[1:]
                words = words[1:]
            if words:
                yield n, words[0]

def owners(paths):
    """Map each path to the package that owns it (one dpkg -S for all)."""
    r = subprocess.run(["dpkg", "-S"] + sorted(paths), capture_output=True, text=True)
    own = {}
    for line in r.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        own[path.strip()] = pkg.split(",")[0].split(":")[0].strip()
    return own

def essential(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Essential} ${Priority}", pkg],
                       capture_output=True, text=True)
    return r.stdout.startswith("yes") or r.stdout.endswith("required")

bad = []
uses = {}
for f in scripts:
    for n, w in commands(os.path.join(top, f)):
        if (w in SHELL_WORDS or w in functions or not re.match(r"^[a-z][\w.+-]*$", w)
                or w in ("vhostctl",)):          # ours: built, not installed
            continue
        uses.setdefault(w, []).append(f"{f}:{n}")
# A word that is no program here is a false find (a case label, a word in a
# message), or a program nothing installs: both are left.
where = {w: shutil.which(w) for w in uses}
cands = {}
for w, p in where.items():
    if p:
        # /usr/bin/x may be owned as /bin/x (merged /usr), or be a link.
        cands[w] = {p, os.path.realpath(p), p.replace("/usr/bin/", "/bin/").replace("/usr/sbin/", "/sbin/")}
own = owners(set().union(*cands.values()) if cands else set())
seen = {}
for w, paths in cands.items():
    pkg = next((own[q] for q in sorted(paths) if q in own), "")
    seen[w] = (where[w], pkg)
    if pkg and pkg not in pkgs and not essential(pkg):
        bad.append(f"{uses[w][0]}: {w} ({where[w]}) comes from {pkg}, which tools/deps.sh does not install")
for b in sorted(set(bad)):
    print("not ok - " + b)
checked = sorted(seen)
print(f"# {len(scripts)} scripts, {len(checked)} programs checked: {' '.join(checked)}")
print(f"tools: {0 if bad else 1} passed, {1 if bad else 0} failed, 0 skipped")
sys.exit(1 if bad else 0)
