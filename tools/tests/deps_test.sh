#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/deps.sh against stand-ins for dpkg-query, apt-get and id on PATH:
# nothing missing, one missing, all missing (dpkg-query exits 1 then, as on
# a fresh machine), a package dpkg has never heard of, not root, empty
# package lists, an install that fails once and one that fails for good.
# Each case checks what would have been installed and what was said.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
deps=$top/tools/deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t all < <("$deps" --list)
pass=0 fail=0

# The stand-ins read their behaviour from files in $work.
mkdir -p "$work/bin" "$work/lists"
touch "$work/lists/x_Packages"
cat >"$work/bin/dpkg-query" <<'STUB'
#!/bin/bash
# Print "pkg ii " for every named package not in $W/missing; exit 1 if any was.
miss=0
for a in "$@"; do
	case $a in -*|'${'*) continue ;; esac
	if grep -qx "$a" "$W/missing" 2>/dev/null; then
		miss=1
		grep -qx "$a" "$W/unknown" 2>/dev/null || echo "$a un "
	else
		echo "$a ii "
	fi
done
exit $miss
STUB
cat >"$work/bin/apt-get" <<'STUB'
#!/bin/bash
echo "$*" >>"$W/apt.log"
if [ "$1" != update ] && [ -s "$W/install-fails" ]; then
	n=$(cat "$W/install-fails")
	echo $((n - 1)) >"$W/install-fails"
	[ "$n" -gt 0 ] && exit 100
fi
exit 0
STUB
cat >"$work/bin/id" <<'STUB'
#!/bin/bash
if [ "$1" = -u ]; then cat "$W/uid"; else /usr/bin/id "$@"; fi
STUB
chmod +x "$work/bin/"*

# case NAME: reset the stand-ins' state.
reset() {
	: >"$work/missing"; : >"$work/unknown"; : >"$work/apt.log"; : >"$work/install-fails"
	echo 0 >"$work/uid"
	lists=$work/lists
}
run() {
	W=$work PATH="$work/bin:$PATH" VHOSTCTL_APT_LISTS=$lists "$deps" >"$work/out" 2>&1
	rc=$?
}
check() {
	local what=$1; shift
	if "$@"; then
		echo "ok - $what"
		pass=$((pass + 1))
	else
		echo "not ok - $what"
		sed 's/^/#   /' "$work/out"
		sed 's/^/#   apt-get /' "$work/apt.log"
		fail=$((fail + 1))
	fi
}
installs() { grep -qx "install -y -q --no-install-recommends $*" "$work/apt.log"; }

reset; run
check "nothing missing: exit 0, silent, no apt-get" \
	test "$rc" = 0 -a ! -s "$work/out" -a ! -s "$work/apt.log"

reset; echo libmnl-dev >"$work/missing"; run
check "one missing (dpkg-query exits 1): installs exactly it and names it" \
	eval '[ "$rc" = 0 ] && installs libmnl-dev && grep -q "installing libmnl-dev" "$work/out"'

reset; printf '%s\n' "${all[@]}" >"$work/missing"; cp "$work/missing" "$work/unknown"; run
check "all missing, unknown to dpkg: installs all ${#all[@]}" \
	eval '[ "$rc" = 0 ] && installs "${all[*]}"'

reset; printf 'qemu-system-x86\nmandoc\n' >"$work/missing"; echo mandoc >"$work/unknown"; run
check "two missing, one never installed: installs both" \
	eval '[ "$rc" = 0 ] && installs qemu-system-x86 mandoc'

reset; echo dwarves >"$work/missing"; echo 1000 >"$work/uid"; run
check "not root: prints the exact command, exit 1, installs nothing" \
	eval '[ "$rc" = 1 ] && ! [ -s "$work/apt.log" ] &&
		grep -q "as root, run: apt-get update && apt-get install -y --no-install-recommends dwarves" "$work/out"'

reset; echo cpio >"$work/missing"; lists=$work/nolists; run
check "empty package lists: update first, then install" \
	eval '[ "$rc" = 0 ] && [ "$(head -n 1 "$work/apt.log")" = "update -q" ] && installs cpio'

reset; echo kmod >"$work/missing"; echo 1 >"$work/install-fails"; run
check "install fails on stale lists: update, install again" \
	eval '[ "$rc" = 0 ] && [ "$(grep -c "^install" "$work/apt.log")" = 2 ] && grep -qx "update -q" "$work/apt.log"'

reset; echo kmod >"$work/missing"; echo 5 >"$work/install-fails"; run
check "install fails for good: exit 1 with the reason" \
	eval '[ "$rc" = 1 ] && grep -q "could not install: kmod" "$work/out"'

echo "tools: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
