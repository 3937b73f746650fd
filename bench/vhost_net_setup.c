// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_net_setup: the kernel vhost-net control path, alone.  Opens a
 * multiqueue tap with PAIRS queues and one /dev/vhost-net per queue pair
 * (the kernel device has one RX and one TX ring), then brings each device up
 * with vhostctl_dev_setup() and tears it down again.  The set-up calls are
 * bracketed by two marker system calls, close(-100) and close(-101), which
 * fail at once and which bench/vhost_setup_syscalls.sh looks for in an
 * strace of this program: every system call between them belongs to
 * vhostctl_dev_setup().
 *
 *   vhost_net_setup [-q PAIRS] [-n RING]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#define MAX_PAIRS 16
#define GPA 0x100000ull

static int die(const char *what, int r)
{
	fprintf(stderr, "vhost_net_setup: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

/* One queue of a multiqueue tap: every call with the same name adds one. */
static int tap_queue(char name[IFNAMSIZ])
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), hs = 12;

	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETVNETHDRSZ, &hs)) {
		int e = errno;

		close(fd);
		return -e;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = 256,
			   .flags = VHOSTCTL_SETUP_NET_BACKEND,
			   .required = 1ULL << VHOSTCTL_F_VERSION_1);
	struct vhostctl_dev *dev[MAX_PAIRS];
	struct vhostctl_vq *vq[MAX_PAIRS][2];
	char name[IFNAMSIZ] = "vhsetup%d";
	unsigned long pairs = 1, ring = 256;
	struct vhostctl_mem *mem;
	int tap[MAX_PAIRS], c, r;

	while ((c = getopt(argc, argv, "q:n:")) != -1) {
		switch (c) {
		case 'q': pairs = strtoul(optarg, NULL, 0); break;
		case 'n': ring = strtoul(optarg, NULL, 0); break;
		default:
usage:
			fprintf(stderr, "usage: vhost_net_setup [-q 1..%d] [-n RING]\n", MAX_PAIRS);
			return 2;
		}
	}
	if (!pairs || pairs > MAX_PAIRS || ring < 2 || ring > 32768 || (ring & (ring - 1)))
		goto usage;
	o.queue_size = (unsigned int)ring;
	mem = vhostctl_mem_new();
	if (!mem || vhostctl_mem_add_region(mem, GPA, 16u << 20, 0) < 0)
		die("guest memory", errno);
	for (unsigned long i = 0; i < pairs; i++) {
		tap[i] = tap_queue(name);
		if (tap[i] < 0)
			die("tap", tap[i]);
		dev[i] = vhostctl_dev_open("/dev/vhost-net", NULL);
		if (!dev[i])
			die("/dev/vhost-net", errno);
	}
	close(-100);	/* marker: set-up begins */
	for (unsigned long i = 0; i < pairs; i++) {
		o.net_backend_fd = tap[i];
		r = vhostctl_dev_setup(dev[i], mem, vq[i], &o, NULL);
		if (r)
			die(vhostctl_dev_setup_step(dev[i]), r);
	}
	close(-101);	/* marker: set-up ends */
	for (unsigned long i = 0; i < pairs; i++) {
		r = vhostctl_dev_teardown(dev[i], vq[i], 2);
		if (r)
			die("teardown", r);
		vhostctl_dev_close(dev[i]);
		close(tap[i]);
	}
	vhostctl_mem_free(mem);
	printf("vhost_net_setup: %lu queue pair(s), rings of %lu: set up and torn down\n", pairs,
	       ring);
	return 0;
}
