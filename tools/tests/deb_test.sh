#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian packages, as a user gets them: dpkg-buildpackage -b -uc -us on
# a clean copy of the tree (the files git knows); lintian with no error;
# libvhostctl0, libvhostctl-dev and vhostctl installed with dpkg --root
# into a throwaway root and vhostctl-dkms unpacked there (its postinst runs
# DKMS, done here by hand); an example built in that root with pkg-config
# and run; man vhostctl-vdpa formatted from it; vhostctl -V from it; DKMS
# building the packaged module for the test kernel, dkms status saying so.
# Ends with "tools: N passed, N failed, 0 skipped".
#
#   deb_test.sh [--keep DIR]   keep the packages, the root and logs in DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
finish() {
	echo "tools: $pass passed, $fail failed, 0 skipped"
	[ "$fail" = 0 ]
	exit
}
if [ "${1:-}" = --keep ]; then
	work=$2
	rm -rf "$work"
	mkdir -p "$work"
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
version=$(cat "$top/VERSION")
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

mkdir -p "$work/src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	tar --null -cf - -T -) | tar -xf - -C "$work/src" || { bad "cannot copy the tree"; finish; }
if (cd "$work/src" && dpkg-buildpackage -b -uc -us) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -b -uc -us"
else
	bad "dpkg-buildpackage: $(tail -n 20 "$work/build.log")"
	finish
fi
debs=()
for p in libvhostctl0 libvhostctl-dev vhostctl; do
	debs+=("$work/${p}_${version}_$arch.deb")
done
dkmsdeb=$work/vhostctl-dkms_${version}_all.deb
for d in "${debs[@]}" "$dkmsdeb"; do
	[ -f "$d" ] || bad "no $(basename "$d")"
done
[ "$fail" = 0 ] || finish
ok "built: $(cd "$work" && ls ./*.deb | sed 's|^\./||' | tr '\n' ' ')"

# lintian: no error; the warnings left are listed (Documentation/packaging.rst).
lintian --tag-display-limit 0 "${debs[@]}" "$dkmsdeb" >"$work/lintian.log" 2>&1
errors=$(grep -c '^E: ' "$work/lintian.log")
warnings=$(grep -c '^W: ' "$work/lintian.log")
if [ "$errors" = 0 ]; then
	ok "lintian: no error, $warnings warnings$(sed -n 's/^W: [^:]*: \([^ ]*\).*/ \1/p' \
		"$work/lintian.log" | sort -u | tr -d '\n')"
else
	bad "lintian: $(grep '^E: ' "$work/lintian.log")"
fi

# The symbols file is the one made from the version script.
dpkg-deb --ctrl-tarfile "${debs[0]}" | tar -xO ./symbols >"$work/symbols" 2>/dev/null
if "$top/libvhostctl/scripts/gen-symbols.sh" "$top/libvhostctl/libvhostctl.map" |
	cmp -s - "$work/symbols"; then
	ok "libvhostctl0's symbols file: $(grep -c '@' "$work/symbols") lines, from the version script"
else
	bad "libvhostctl0's symbols file differs from gen-symbols.sh's"
fi

# A throwaway root: an empty dpkg database, dependencies outside it.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
if dpkg --root="$root" --force-depends --force-not-root -i "${debs[@]}" >"$work/dpkg.log" 2>&1 &&
	dpkg --root="$root" --force-depends --force-not-root --unpack "$dkmsdeb" \
		>>"$work/dpkg.log" 2>&1; then
	ok "dpkg --root: $(dpkg --root="$root" -l | awk '/^[hi][iU] / { printf "%s(%s) ", $2, $1 }')"
else
	bad "dpkg --root: $(tail -n 10 "$work/dpkg.log")"
	finish
fi

lib=$root/usr/lib/$multiarch
export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$lib/pkgconfig
ex=$top/Documentation/examples/vu_net_backend.c
# shellcheck disable=SC2046
if gcc -std=gnu11 -Wall -Wextra -Werror -o "$work/example" "$ex" \
	$(pkg-config --cflags --libs libvhostctl) 2>"$work/cc.log" &&
	out=$(LD_LIBRARY_PATH=$lib timeout -k 5 60 "$work/example" 2>&1) &&
	LD_LIBRARY_PATH=$lib ldd "$work/example" >"$work/ldd.log" &&
	grep -q "=> $lib/libvhostctl.so.0 " "$work/ldd.log"; then
	ok "$(basename "$ex") built with pkg-config in the root, runs on its library: $(echo "$out" | head -n 1)"
else
	bad "example: $(cat "$work/cc.log") ${out:-}"
fi

manout=$(MANPATH=$root/usr/share/man MANWIDTH=80 man -P cat vhostctl-vdpa 2>&1)
if echo "$manout" | grep -q '^NAME' && echo "$manout" | grep -q 'vhostctl-vdpa'; then
	ok "man vhostctl-vdpa from the root: $(echo "$manout" | sed -n '/^NAME/{n;p;q}' | sed 's/^ *//')"
else
	bad "man vhostctl-vdpa: $(echo "$manout" | head -n 3)"
fi
manout=$(MANPATH=$root/usr/share/man MANWIDTH=80 man -P cat 3 vhostctl_version 2>&1)
echo "$manout" | grep -q 'vhostctl_version' && ok "man 3 vhostctl_version from the root" ||
	bad "man 3 vhostctl_version: $(echo "$manout" | head -n 3)"
cliv=$(LD_LIBRARY_PATH=$lib "$root/usr/sbin/vhostctl" -V 2>&1)
[ "$cliv" = "vhostctl $version" ] && ok "vhostctl -V from the root: $cliv" || bad "vhostctl -V: $cliv"

# What vhostctl-dkms's postinst does, for the test kernel, in a DKMS tree of
# our own: dkms add and build from the packaged sources.
if eval "$("$top/tools/vm/kernel.sh")"; then
	mkdir -p "$work/dkms" "$work/dkms-inst"
	dopts=(--dkmstree "$work/dkms" --sourcetree "$root/usr/src" --installtree "$work/dkms-inst")
	dkms add -m vhostctl -v "$version" -k "$KVER" "${dopts[@]}" >"$work/dkms.log" 2>&1 &&
		dkms build -m vhostctl -v "$version" -k "$KVER" --kernelsourcedir "$KDIR" \
			"${dopts[@]}" >>"$work/dkms.log" 2>&1
	status=$(dkms status -m vhostctl -k "$KVER" "${dopts[@]}" 2>&1)
	if [ "$status" = "vhostctl/$version, $KVER, $(uname -m): built" ]; then
		ok "dkms status, packaged sources: $status"
	else
		bad "dkms status '$status': $(tail -n 10 "$work/dkms.log")"
	fi
else
	bad "no test kernel headers for DKMS"
fi
finish
