#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make install into a DESTDIR with Debian's directories, then: every file is
# where the directory variables say; the library, the .pc, vhostctl -V,
# vhostctl_version(), the headers, dkms.conf, NEWS and the module agree on
# VERSION; each example in Documentation/examples builds against the
# installed tree alone (pkg-config with PKG_CONFIG_SYSROOT_DIR, shared and
# static), and the ones that need no kernel run; make uninstall leaves the
# DESTDIR empty.  Ends with "tools: N passed, N failed, 0 skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
mkdir -p "$dest"
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
version=$(cat "$top/VERSION")
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
dirs=(PREFIX=/usr LIBDIR=/usr/lib/$multiarch BINDIR=/usr/sbin MANDIR=/usr/share/man
	BASHCOMPDIR=/usr/share/bash-completion/completions)

if make -s -C "$top" install DESTDIR="$dest" "${dirs[@]}" >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR=... ${dirs[*]}"
else
	bad "make install failed: $(tail -n 5 "$tmp/install.log")"
fi
# Files that install must have put there, under each directory variable.
lib=$dest/usr/lib/$multiarch
missing=
for f in "$lib/libvhostctl.so.$version" "$lib/libvhostctl.a" "$lib/pkgconfig/libvhostctl.pc" \
	"$dest/usr/include/vhostctl/vhostctl.h" "$dest/usr/sbin/vhostctl" \
	"$dest/usr/share/man/man3/vhostctl_version.3" "$dest/usr/share/man/man8/vhostctl-vdpa.8" \
	"$dest/usr/share/man/man8/vhostctl-batch.8" "$dest/usr/share/bash-completion/completions/vhostctl" \
	"$dest/usr/src/vhostctl-$version/dkms.conf" "$dest/usr/src/vhostctl-$version/Kbuild" \
	"$dest/usr/src/vhostctl-$version/VERSION" "$dest/usr/src/vhostctl-$version/vsim_core.c"; do
	[ -f "$f" ] || missing="$missing ${f#"$dest"}"
done
[ "$(readlink "$lib/libvhostctl.so")" = libvhostctl.so.0 ] &&
	[ "$(readlink "$lib/libvhostctl.so.0")" = "libvhostctl.so.$version" ] ||
	missing="$missing libvhostctl.so->.so.0->.so.$version"
nhdr=$(ls "$top"/libvhostctl/include/vhostctl/*.h | wc -l)
[ "$(ls "$dest"/usr/include/vhostctl/*.h | wc -l)" = "$nhdr" ] || missing="$missing (headers)"
nman3=$(ls "$top"/Documentation/man/man3/*.3 | wc -l)
[ "$(ls "$dest"/usr/share/man/man3/*.3 | wc -l)" = "$nman3" ] || missing="$missing (man3)"
[ ! -e "$top/tools/vhostctl/vhostctl.bash-completion" ] ||
	[ -f "$dest/usr/share/bash-completion/completions/vhostctl" ] || missing="$missing (completion)"
# Nothing installed outside the named directories.
stray=$(cd "$dest" && find . -type f -o -type l | grep -v -e "^./usr/lib/$multiarch/" \
	-e '^./usr/include/vhostctl/' -e '^./usr/sbin/vhostctl$' -e '^./usr/share/man/man[38]/' \
	-e '^./usr/share/bash-completion/completions/vhostctl$' -e "^./usr/src/vhostctl-$version/")
if [ -z "$missing" ] && [ -z "$stray" ]; then
	ok "$(cd "$dest" && find . -type f -o -type l | wc -l) files, each where its variable says"
else
	bad "missing:${missing:- none}; outside the directories: ${stray:-none}"
fi

# One version everywhere.
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_LIBDIR=$lib/pkgconfig
cat >"$tmp/version.c" <<'C'
#include <stdio.h>
#include <vhostctl/vhostctl.h>

int main(void)
{
	printf("%s %d.%d\n", vhostctl_version(), VHOSTCTL_VERSION_MAJOR, VHOSTCTL_VERSION_MINOR);
	return 0;
}
C
# shellcheck disable=SC2046
gcc -Wall -Werror -o "$tmp/version" "$tmp/version.c" $(pkg-config --cflags --libs libvhostctl) &&
	read -r libv hdrv < <(LD_LIBRARY_PATH=$lib "$tmp/version")
pcv=$(pkg-config --modversion libvhostctl)
cliv=$("$dest/usr/sbin/vhostctl" -V | awk '{ print $2 }')
dkmsv=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$dest/usr/src/vhostctl-$version/dkms.conf")
newsv=$(grep -m 1 -o '^[0-9][0-9.]* ' "$top/NEWS" | tr -d ' ')
modv="not built (make kmod)"
if [ -f "$top/kmod/vhostctl_sim.ko" ]; then
	modv=$(/sbin/modinfo -F version "$top/kmod/vhostctl_sim.ko" 2>/dev/null)
fi
debv=$(sed -n '1s/^[^(]*(\([^)-]*\).*/\1/p' "$top/debian/changelog" 2>/dev/null)
all="library ${libv:-?}, headers ${hdrv:-?}, .pc $pcv, vhostctl -V $cliv, dkms.conf $dkmsv"
all="$all, NEWS $newsv, module $modv, debian/changelog $debv"
if [ "${libv:-}" = "$version" ] && [ "${hdrv:-}" = "${version%.*}" ] && [ "$pcv" = "$version" ] &&
	[ "$cliv" = "$version" ] && [ "$dkmsv" = "$version" ] && [ "$newsv" = "$version" ] &&
	[ "$modv" = "$version" ] && [ "$debv" = "$version" ]; then
	ok "VERSION $version everywhere: $all"
else
	bad "VERSION is $version: $all"
fi

# The examples, against the installed tree only.  An example whose header
# comment says "Needs no kernel" is run too.
cflags=$(pkg-config --cflags libvhostctl)
case " $cflags " in
*"$top"*) bad "pkg-config --cflags names the source tree: $cflags" ;;
esac
for src in "$top"/Documentation/examples/*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	# shellcheck disable=SC2046
	if ! gcc -std=gnu11 -Wall -Wextra -Werror -o "$tmp/$name" "$src" \
		$(pkg-config --cflags --libs libvhostctl) 2>"$tmp/cc.log"; then
		bad "example $name does not build against the installed tree: $(head -n 5 "$tmp/cc.log")"
		continue
	fi
	# shellcheck disable=SC2046
	if ! gcc -std=gnu11 -Wall -Wextra -Werror -o "$tmp/$name.static" "$src" \
		$(pkg-config --cflags libvhostctl) $(pkg-config --static --libs libvhostctl |
		sed 's/-lvhostctl/-Wl,-Bstatic -lvhostctl -Wl,-Bdynamic/') 2>"$tmp/cc.log" ||
		! readelf -d "$tmp/$name.static" >"$tmp/readelf.log" ||
		grep -q 'NEEDED.*libvhostctl' "$tmp/readelf.log"; then
		bad "example $name does not link statically: $(head -n 5 "$tmp/cc.log")"
		continue
	fi
	# The include path: only the installed headers were read.
	# shellcheck disable=SC2046
	if ! gcc -std=gnu11 -M "$src" $(pkg-config --cflags libvhostctl) >"$tmp/deps.log" ||
		grep -q "$top/libvhostctl" "$tmp/deps.log"; then
		bad "example $name read a header from the source tree"
		continue
	fi
	if ! grep -q 'Needs no kernel' "$src"; then
		ok "example $name builds against the installed tree (shared and static; needs a kernel to run)"
		continue
	fi
	if (cd "$tmp" && LD_LIBRARY_PATH=$lib timeout -k 5 60 "$tmp/$name") >"$tmp/run.log" 2>&1 &&
		(cd "$tmp" && timeout -k 5 60 "$tmp/$name.static") >>"$tmp/run.log" 2>&1; then
		ok "example $name builds against the installed tree and runs: $(tail -n 1 "$tmp/run.log")"
	else
		bad "example $name failed: $(tail -n 5 "$tmp/run.log")"
	fi
done

# wait_line FILE TEXT: up to 10 s for a peer to say it is ready.
wait_line() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The net backend in its own event loop, driven by a second instance.
if [ -x "$tmp/vu_net_backend" ]; then
	sock=$tmp/net.sock
	LD_LIBRARY_PATH=$lib "$tmp/vu_net_backend" "$sock" >"$tmp/be.log" 2>&1 &
	be=$!
	if wait_line "$tmp/be.log" '^serving' &&
		LD_LIBRARY_PATH=$lib timeout -k 5 60 "$tmp/vu_net_backend" -c "$sock" >"$tmp/fe.log" 2>&1 &&
		kill -TERM "$be" && wait "$be" && grep -q '^tx 16 packets' "$tmp/be.log"; then
		ok "vu_net_backend SOCKET served vu_net_backend -c SOCKET: $(tail -n 1 "$tmp/be.log")"
	else
		kill "$be" 2>/dev/null
		wait "$be" 2>/dev/null
		bad "vu_net_backend SOCKET and -c SOCKET: $(cat "$tmp/be.log" "$tmp/fe.log" 2>/dev/null | tail -n 5)"
	fi
fi

# The block frontend against a backend nobody here wrote: qemu-storage-daemon.
if [ -x "$tmp/vu_blk_frontend" ]; then
	sock=$tmp/blk.sock
	truncate -s 16M "$tmp/disk.img"
	qemu-storage-daemon --blockdev driver=file,node-name=disk,filename="$tmp/disk.img" \
		--export type=vhost-user-blk,id=exp,node-name=disk,addr.type=unix,addr.path="$sock",writable=on \
		>"$tmp/qsd.log" 2>&1 &
	qsd=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	if LD_LIBRARY_PATH=$lib timeout -k 5 60 "$tmp/vu_blk_frontend" "$sock" >"$tmp/fe.log" 2>&1; then
		ok "vu_blk_frontend against qemu-storage-daemon: $(tail -n 1 "$tmp/fe.log")"
	else
		bad "vu_blk_frontend against qemu-storage-daemon: $(cat "$tmp/fe.log" "$tmp/qsd.log" | tail -n 5)"
	fi
	kill -TERM "$qsd" 2>/dev/null
	wait "$qsd" 2>/dev/null
fi

if make -s -C "$top" uninstall DESTDIR="$dest" "${dirs[@]}" >"$tmp/uninstall.log" 2>&1 &&
	[ -d "$dest" ] && [ -z "$(ls -A "$dest")" ]; then
	ok "make uninstall leaves the DESTDIR empty"
else
	bad "make uninstall left: $(cd "$dest" && find . | head -n 10 | tr '\n' ' ') $(tail -n 3 "$tmp/uninstall.log")"
fi

echo "tools: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
