// SPDX-License-Identifier: GPL-2.0-only
/* What the VDUSE selftests share: see vduse.h. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "../vdpa_sim_helpers.h"
#include "vduse.h"

#define VDUSE_ETH_P_TEST 0x88b5

int vduse_virtio_child(const char *dev, const char *cls, char *out, size_t outlen)
{
	char dir[256], vdev[64];
	int ret;

	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", dev);
	ret = vs_wait_find(dir, "virtio", vdev, sizeof(vdev), 3000);
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s/%s/%s", dev, vdev, cls);
	return vs_wait_find(dir, "", out, outlen, 3000);
}

int vduse_if_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

int vduse_send_recv(int sock, const uint8_t *mac, int n)
{
	uint8_t f[128], r[2048];
	int i, got = 0;

	for (i = 0; i < n; i++) {
		memcpy(f, mac, 6);
		memcpy(f + 6, mac, 6);
		f[12] = VDUSE_ETH_P_TEST >> 8;
		f[13] = VDUSE_ETH_P_TEST & 0xff;
		memset(f + 14, i, sizeof(f) - 14);
		if (send(sock, f, sizeof(f), 0) != sizeof(f))
			return -errno;
	}
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(sock, r, sizeof(r), 0, (struct sockaddr *)&from, &fl);

		if (len < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (len != sizeof(f) || memcmp(r, mac, 6) || r[12] != f[12] || r[13] != f[13] ||
		    r[14] >= n)
			continue;
		/* the payload as sent: every byte the frame's number */
		memset(f + 14, r[14], sizeof(f) - 14);
		if (!memcmp(r + 14, f + 14, sizeof(f) - 14))
			got++;
	}
	return got;
}

int vduse_kernel_bugs(void)
{
	return system("dmesg | grep -E 'WARNING:|BUG:|Oops|general protection' >&2") == 0;
}
