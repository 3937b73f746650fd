// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frames per second through our vhost-user net loopback device, driven by
 * our own frontend: the same device that bench/vduse_net.sh serves over
 * VDUSE to the kernel's virtio_net, here served over vhost-user to a
 * userspace driver (libvhostctl/tests/vu_traffic.h).  At most WINDOW
 * frames are in flight (the ring size); each frame that comes back is
 * checked (sequence, length, payload) before it is counted.
 *
 *   vu_loop COUNT SIZE [WINDOW]
 *
 * Prints one line: "frames N size S window W: F frames/s".  Exit status 0
 * when every frame came back intact, 1 otherwise.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "vu_traffic.h"

static int usage(void)
{
	fprintf(stderr, "usage: vu_loop COUNT SIZE [WINDOW]\n"
		"  SIZE: 60 to 1514 bytes; WINDOW: a power of two, 2 to 1024\n");
	return 2;
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 9 });
	struct vhostctl_vu_backend *be;
	unsigned long count, size, window;
	char path[64], *end;
	struct traffic t;
	int r;

	if (argc < 3 || argc > 4)
		return usage();
	count = strtoul(argv[1], &end, 10);
	if (*end || !count)
		return usage();
	size = strtoul(argv[2], &end, 10);
	if (*end || size < 60 || size > 1514)
		return usage();
	window = argc == 4 ? strtoul(argv[3], &end, 10) : 32;
	if ((argc == 4 && *end) || window < 2 || window > 1024 || (window & (window - 1)))
		return usage();
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "/tmp/vu_loop.%d.sock", getpid());
	be = vhostctl_vu_net_new(&no);
	if (!be) {
		perror("vu_loop: vhostctl_vu_net_new");
		return 1;
	}
	t = (struct traffic){ .num = (unsigned int)window, .packets = count,
			      .size = (unsigned int)size, .path = path };
	r = traffic_run(&t, be);
	vhostctl_vu_backend_free(be);
	unlink(path);
	if (r) {
		fprintf(stderr, "vu_loop: %s\n", t.err);
		return 1;
	}
	printf("frames %lu size %lu window %lu: %.0f frames/s\n", count, size, window,
	       t.received / t.seconds);
	return 0;
}
