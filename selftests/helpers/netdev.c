// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network plumbing for the selftests, see netdev.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "netdev.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

int tap_open(char name[16], int *ifindex, int vnet_hdr_sz)
{
	struct ifreq ifr = { 0 };
	int fd, e;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr_sz > 0 ? IFF_VNET_HDR : 0);
	strcpy(ifr.ifr_name, "vhctap%d");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto err;
	if (vnet_hdr_sz > 0 && ioctl(fd, TUNSETVNETHDRSZ, &vnet_hdr_sz) < 0)
		goto err;
	memcpy(name, ifr.ifr_name, 16);
	name[15] = 0;
	*ifindex = (int)if_nametoindex(name);
	if (!*ifindex)
		goto err;
	return fd;
err:
	e = errno;
	close(fd);
	return -e;
}

static int sysctl_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int nl_err(int e)
{
	/* libnl's own error codes: report them as the nearest errno. */
	return e == -NLE_NOMEM ? -ENOMEM : e == -NLE_EXIST ? -EEXIST : -EIO;
}

int nl_link_setup(int ifindex, const char *name, const char *cidr)
{
	struct rtnl_link *link = NULL, *change = NULL;
	struct nl_addr *local = NULL;
	struct rtnl_addr *addr = NULL;
	struct nl_sock *sk;
	char path[128];
	int r;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	sysctl_write(path, "1");	/* absent when IPv6 is off: fine */
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		goto out;
	r = rtnl_link_get_kernel(sk, ifindex, NULL, &link);
	if (r < 0)
		goto out;
	change = rtnl_link_alloc();
	if (!change) {
		r = -NLE_NOMEM;
		goto out;
	}
	rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_change(sk, link, change, 0);
	if (r < 0 || !cidr)
		goto out;
	addr = rtnl_addr_alloc();
	r = nl_addr_parse(cidr, AF_INET, &local);
	if (r < 0 || !addr)
		goto out;
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_local(addr, local);
	r = rtnl_addr_add(sk, addr, 0);
out:
	if (local)
		nl_addr_put(local);
	if (addr)
		rtnl_addr_put(addr);
	if (change)
		rtnl_link_put(change);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return r < 0 ? nl_err(r) : 0;
}

int nl_link_flags(int ifindex, unsigned int *flags)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (!r)
		r = rtnl_link_get_kernel(sk, ifindex, NULL, &link);
	if (!r) {
		*flags = rtnl_link_get_flags(link);
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return r < 0 ? nl_err(r) : 0;
}

int pkt_open(int ifindex, int timeout_ms)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = ifindex };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int one = 1, fd, rcvbuf = 4 << 20, e;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int pkt_send(int fd, int ifindex, const void *frame, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				   .sll_halen = ETH_ALEN };
	ssize_t n;

	memset(sll.sll_addr, 0xff, ETH_ALEN);
	n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

void frame_fill(uint8_t *f, size_t len, uint32_t seq)
{
	static const uint8_t src[6] = { 0x02, 0x00, 0x00, 0x76, 0x68, 0x63 };

	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = TEST_ETHERTYPE >> 8;
	f[13] = TEST_ETHERTYPE & 0xff;
	memcpy(f + 14, &seq, 4);
	for (size_t i = 18; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i * 13 + (i >> 8));
}

long frame_seq(const uint8_t *f, size_t len)
{
	uint32_t seq;

	if (len < 18 || f[12] != (TEST_ETHERTYPE >> 8) || f[13] != (TEST_ETHERTYPE & 0xff))
		return -1;
	memcpy(&seq, f + 14, 4);
	return seq;
}
