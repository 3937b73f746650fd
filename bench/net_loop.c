// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frames per second through a loopback network device seen as a kernel
 * interface (a vDPA device under virtio_net): every frame sent out of
 * IFNAME must come back in on it.  At most WINDOW frames are in flight;
 * each one that comes back is checked (sequence and payload) before the
 * next is sent.
 *
 *   net_loop IFNAME COUNT SIZE [WINDOW]
 *
 * Prints one line: "frames N size S window W: F frames/s, lost L, bad B".
 * Exit status 0 when every frame came back intact, 1 otherwise.
 */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "netdev.h"

#define MAX_FRAME 1514

static int usage(void)
{
	fprintf(stderr, "usage: net_loop IFNAME COUNT SIZE [WINDOW]\n"
		"  SIZE: 60 to %d bytes (Ethernet header included); WINDOW: 1 to 1024\n",
		MAX_FRAME);
	return 2;
}

int main(int argc, char **argv)
{
	uint8_t tx[MAX_FRAME], rx[2048], want[MAX_FRAME];
	unsigned long count, size, window, sent = 0, back = 0, bad = 0;
	double t0, t1;
	int ifindex, fd, r;
	char *end;

	if (argc < 4 || argc > 5)
		return usage();
	ifindex = (int)if_nametoindex(argv[1]);
	count = strtoul(argv[2], &end, 10);
	if (*end || !count)
		return usage();
	size = strtoul(argv[3], &end, 10);
	if (*end || size < 60 || size > MAX_FRAME)
		return usage();
	window = argc == 5 ? strtoul(argv[4], &end, 10) : 32;
	if ((argc == 5 && *end) || !window || window > 1024)
		return usage();
	if (!ifindex) {
		fprintf(stderr, "net_loop: no interface %s\n", argv[1]);
		return 2;
	}
	fd = pkt_open(ifindex, 1000);
	if (fd < 0) {
		fprintf(stderr, "net_loop: packet socket on %s: %s\n", argv[1], strerror(-fd));
		return 2;
	}

	t0 = bench_now();
	while (back + bad < count) {
		ssize_t len;
		long seq;

		while (sent < count && sent - back - bad < window) {
			frame_fill(tx, size, (uint32_t)sent);
			r = pkt_send(fd, ifindex, tx, size);
			if (r == -ENOBUFS || r == -EAGAIN)
				break;
			if (r) {
				fprintf(stderr, "net_loop: send: %s\n", strerror(-r));
				return 1;
			}
			sent++;
		}
		len = recv(fd, rx, sizeof(rx), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			break;	/* a second without a frame: the rest is lost */
		}
		seq = frame_seq(rx, (size_t)len);
		if (seq < 0)
			continue;	/* not ours */
		frame_fill(want, size, (uint32_t)seq);
		if ((size_t)len != size || (unsigned long)seq >= sent || memcmp(rx, want, size))
			bad++;
		else
			back++;
	}
	t1 = bench_now();
	close(fd);
	printf("frames %lu size %lu window %lu: %.0f frames/s, lost %lu, bad %lu\n", count, size,
	       window, back / (t1 - t0), count - back - bad, bad);
	return back == count ? 0 : 1;
}
