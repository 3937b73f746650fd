#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS builds the module from what make install put under /usr/src, in a
# DKMS tree of its own (--dkmstree, --sourcetree, --installtree: nothing of
# the system's /var/lib/dkms is touched), against the test kernel's headers;
# then the test VM loads that module in place of the tree's, checks its
# version, and adds, uses and deletes a vDPA device with iproute2.
# Ends with "tools: N passed, N failed, 0 skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
finish() {
	echo "tools: $pass passed, $fail failed, 0 skipped"
	[ "$fail" = 0 ]
	exit
}
version=$(cat "$top/VERSION")
command -v dkms >/dev/null || { bad "dkms is not installed (tools/deps.sh)"; finish; }
eval "$("$top/tools/vm/kernel.sh")" || { bad "no test kernel headers"; finish; }

# Under the build tree: the VM sees it at the same path, /tmp it does not.
work=$build/dkms-test
rm -rf "$work"
mkdir -p "$work/tree" "$work/inst"
trap 'rm -rf "$work"' EXIT
dopts=(--dkmstree "$work/tree" --sourcetree "$work/root/usr/src" --installtree "$work/inst")

if make -s -C "$top" install DESTDIR="$work/root" PREFIX=/usr >"$work/install.log" 2>&1; then
	ok "make install put the module's sources under /usr/src/vhostctl-$version"
else
	bad "make install: $(tail -n 5 "$work/install.log")"
	finish
fi
if dkms add -m vhostctl -v "$version" -k "$KVER" "${dopts[@]}" >"$work/dkms.log" 2>&1 &&
	dkms build -m vhostctl -v "$version" -k "$KVER" --kernelsourcedir "$KDIR" "${dopts[@]}" \
		>>"$work/dkms.log" 2>&1; then
	ok "dkms add and build for $KVER"
else
	bad "dkms add/build: $(tail -n 15 "$work/dkms.log"; cat "$work"/tree/vhostctl/*/*/*/log/make.log 2>/dev/null | tail -n 20)"
	finish
fi
status=$(dkms status -m vhostctl -k "$KVER" "${dopts[@]}" 2>&1)
ko=$work/tree/vhostctl/$version/$KVER/$(uname -m)/module/vhostctl_sim.ko
if [ "$status" = "vhostctl/$version, $KVER, $(uname -m): built" ] && [ -f "$ko" ] &&
	[ "$(/sbin/modinfo -F version "$ko")" = "$version" ] &&
	[ "$(/sbin/modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$KVER" ]; then
	ok "dkms status: $status; the module says version $version, vermagic $KVER"
else
	bad "dkms status '$status'; $ko: version $(/sbin/modinfo -F version "$ko" 2>&1)"
	finish
fi

# The examples that need a kernel, built against the installed tree only:
# the VM runs them on DKMS's module (vdpa_net) and on vhost-net.
lib=$work/root/usr/lib
kex=
for ex in vdpa_net vhost_net; do
	src=$top/Documentation/examples/$ex.c
	[ -f "$src" ] || continue
	# shellcheck disable=SC2046
	if PKG_CONFIG_SYSROOT_DIR=$work/root PKG_CONFIG_LIBDIR=$lib/pkgconfig \
		gcc -std=gnu11 -Wall -Wextra -Werror -o "$work/$ex" "$src" \
		$(PKG_CONFIG_SYSROOT_DIR=$work/root PKG_CONFIG_LIBDIR=$lib/pkgconfig \
			pkg-config --cflags --libs libvhostctl) 2>"$work/cc.log"; then
		kex="$kex $ex"
	else
		bad "example $ex does not build against the installed tree: $(head -n 5 "$work/cc.log")"
	fi
done

# In the VM: the tree's module (loaded at boot when built) out, DKMS's in.
cat >"$work/vm.sh" <<VM
#!/bin/bash
set -u
say() { echo "dkms-vm: \$*"; }
if [ -d /sys/module/vhostctl_sim ]; then
	rmmod vhostctl_sim || { say "FAIL: cannot unload the tree's module"; exit 1; }
fi
modprobe vdpa && insmod "$ko" || { say "FAIL: insmod $ko"; exit 1; }
v=\$(cat /sys/module/vhostctl_sim/version)
[ "\$v" = "$version" ] || { say "FAIL: loaded module says version \$v"; exit 1; }
[ "\$(cat /sys/module/vhostctl_sim/srcversion)" = "$(/sbin/modinfo -F srcversion "$ko")" ] ||
	{ say "FAIL: the loaded module is not the one DKMS built"; exit 1; }
vdpa dev add name dkms0 mgmtdev vhostctl_sim_net mac 02:00:00:00:00:42 ||
	{ say "FAIL: vdpa dev add"; exit 1; }
vdpa -j dev config show dkms0 | grep -q '"mac":"02:00:00:00:00:42"' ||
	{ say "FAIL: dkms0 config: \$(vdpa dev config show dkms0)"; exit 1; }
for ex in $kex; do
	case \$ex in
	vdpa_net) node=/dev/\$(ls /sys/bus/vdpa/devices/dkms0/ | grep '^vhost-vdpa-' | head -n 1)
		args="\$node 8" ;;
	*) args=8 ;;
	esac
	out=\$(LD_LIBRARY_PATH=$lib timeout 60 "$work/\$ex" \$args 2>&1) ||
		{ say "FAIL: example \$ex \$args: \$out"; exit 1; }
	say "example: \$ex \$args: \$out"
done
vdpa dev del dkms0 || { say "FAIL: vdpa dev del"; exit 1; }
rmmod vhostctl_sim || { say "FAIL: rmmod"; exit 1; }
say "loaded version \$v, added, read and deleted a net device, unloaded"
VM
chmod +x "$work/vm.sh"
if "$top/tools/vm/run" --quiet -- "$work/vm.sh" >"$work/vm.log" 2>&1; then
	while read -r line; do
		ok "in the VM, against the installed library: $line"
	done < <(sed -n 's/^dkms-vm: example: //p' "$work/vm.log")
	ok "in the VM: $(grep '^dkms-vm:' "$work/vm.log" | tail -n 1 | sed 's/^dkms-vm: //')"
else
	bad "in the VM: $(tail -n 10 "$work/vm.log")"
fi
finish
