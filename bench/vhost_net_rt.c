// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-net round trip: frames leave our TX virtqueue, vhost-net hands them
 * to a tap, a packet socket on the tap's link sends each one straight back
 * out of the tap, and vhost-net delivers it to our RX virtqueue.  Every
 * frame is checked byte for byte; prints counts and rates.
 *
 *   vhost_net_rt [-n FRAMES] [-s SIZE] [-b BURST] [-e]   (-e: EVENT_IDX)
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "bench.h"
#include "netdev.h"

#define NUM 256
#define SLOT 2048
#define GPA 0x100000ull

static int die(const char *what, int r)
{
	fprintf(stderr, "vhost_net_rt: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = NUM,
			   .flags = VHOSTCTL_SETUP_NET_BACKEND,
			   .required = 1ULL << VHOSTCTL_F_VERSION_1);
	unsigned long frames = 10000, size = 1000, burst = 32, done = 0, bytes = 0;
	struct vhostctl_vq_stats txs, rxs;
	struct vhostctl_vq *vq[2];
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	uint8_t *tx, *rx, f[1514], got[1600];
	uint64_t tx_gpa, rx_gpa, feat;
	unsigned int hs = 12, txslot = 0;
	char name[16];
	int c, r, tap, ifindex, pkt;
	double t0, t;

	while ((c = getopt(argc, argv, "n:s:b:e")) != -1) {
		switch (c) {
		case 'n': frames = strtoul(optarg, NULL, 0); break;
		case 's': size = strtoul(optarg, NULL, 0); break;
		case 'b': burst = strtoul(optarg, NULL, 0); break;
		case 'e': o.features |= 1ULL << VHOSTCTL_F_EVENT_IDX; break;
		default:
			fprintf(stderr, "usage: vhost_net_rt [-n FRAMES] [-s SIZE] [-b BURST] [-e]\n");
			return 2;
		}
	}
	if (size < 60 || size > 1514 || !burst || burst > 64)
		die("frame size 60..1514, burst 1..64", EINVAL);

	tap = tap_open(name, &ifindex, (int)hs);
	if (tap < 0)
		die("tap", tap);
	r = nl_link_setup(ifindex, name, "10.78.0.1/24");
	if (r)
		die("link up", r);
	pkt = pkt_open(ifindex, 3000);
	if (pkt < 0)
		die("packet socket", pkt);
	mem = vhostctl_mem_new();
	if (!mem || vhostctl_mem_add_region(mem, GPA, 4u << 20, 0) < 0)
		die("guest memory", errno);
	dev = vhostctl_dev_open("/dev/vhost-net", NULL);
	if (!dev)
		die("/dev/vhost-net", errno);
	o.net_backend_fd = tap;
	r = vhostctl_dev_setup(dev, mem, vq, &o, &feat);
	if (r)
		die(vhostctl_dev_setup_step(dev), r);
	tx = vhostctl_mem_alloc(mem, (uint64_t)NUM * SLOT, 4096, &tx_gpa);
	rx = vhostctl_mem_alloc(mem, (uint64_t)NUM * SLOT, 4096, &rx_gpa);
	if (!tx || !rx)
		die("guest memory", ENOMEM);
	for (unsigned int i = 0; i < NUM; i++) {
		struct vhostctl_vq_buf b = { rx_gpa + (uint64_t)i * SLOT, SLOT };

		if ((r = vhostctl_vq_add(vq[VHOSTCTL_NET_RX], &b, 0, 1, (void *)(uintptr_t)(i + 1), 0)))
			die("post rx", r);
	}
	vhostctl_vq_kick(vq[VHOSTCTL_NET_RX]);

	t0 = bench_now();
	while (done < frames) {
		unsigned long n = frames - done < burst ? frames - done : burst;

		/* Out: a burst on TX (header + frame in one buffer: ANY_LAYOUT is VERSION_1's). */
		for (unsigned long i = 0; i < n; i++) {
			struct vhostctl_vq_buf b = { tx_gpa + (uint64_t)txslot * SLOT, (uint32_t)(hs + size) };
			uint8_t *p = tx + (size_t)txslot * SLOT;
			void *tok;

			while (vhostctl_vq_get_used(vq[VHOSTCTL_NET_TX], NULL, &tok) == 1)
				;
			if (vhostctl_vq_num_free(vq[VHOSTCTL_NET_TX]) < 1 &&
			    (r = vhostctl_vq_wait(vq[VHOSTCTL_NET_TX], 3000)))
				die("tx ring", r);
			memset(p, 0, hs);
			frame_fill(p + hs, size, (uint32_t)(done + i));
			if ((r = vhostctl_vq_add(vq[VHOSTCTL_NET_TX], &b, 1, 0, (void *)1, 0)))
				die("tx add", r);
			txslot = (txslot + 1) % NUM;
		}
		vhostctl_vq_kick(vq[VHOSTCTL_NET_TX]);
		/* Back: the link side returns each frame into the tap. */
		for (unsigned long i = 0; i < n; i++) {
			ssize_t m = recv(pkt, got, sizeof(got), 0);

			if (m < 0)
				die("link recv", -errno);
			if (frame_seq(got, (size_t)m) < 0) {
				i--;
				continue;
			}
			if ((r = pkt_send(pkt, ifindex, got, (size_t)m)))
				die("link send", r);
		}
		/* In: the same frames on RX, checked. */
		for (unsigned long i = 0; i < n; i++) {
			struct vhostctl_vq_buf b;
			uint32_t len;
			void *tok;

			while ((r = vhostctl_vq_get_used(vq[VHOSTCTL_NET_RX], &len, &tok)) == 0)
				if ((r = vhostctl_vq_wait(vq[VHOSTCTL_NET_RX], 3000)))
					die("rx wait (frame lost)", r);
			if (r < 0)
				die("rx", r);
			unsigned int slot = (unsigned int)(uintptr_t)tok - 1;

			frame_fill(f, size, (uint32_t)(done + i));
			if (len != hs + size || memcmp(rx + (size_t)slot * SLOT + hs, f, size))
				die("rx frame differs", EBADMSG);
			b = (struct vhostctl_vq_buf){ rx_gpa + (uint64_t)slot * SLOT, SLOT };
			vhostctl_vq_add(vq[VHOSTCTL_NET_RX], &b, 0, 1, tok, 0);
		}
		vhostctl_vq_kick(vq[VHOSTCTL_NET_RX]);
		done += n;
		bytes += n * size;
	}
	t = bench_now() - t0;
	vhostctl_vq_get_stats(vq[VHOSTCTL_NET_TX], &txs);
	vhostctl_vq_get_stats(vq[VHOSTCTL_NET_RX], &rxs);
	printf("vhost-net round trip through %s: %lu frames of %lu bytes out and back, 0 lost, "
	       "all checked\n", name, done, size);
	printf("  %.3f s: %.0f frames/s, %.1f Mbit/s each way; TX kicks %llu (+%llu suppressed), "
	       "RX calls %llu; features 0x%llx\n",
	       t, (double)done / t, (double)bytes * 8 / t / 1e6,
	       (unsigned long long)txs.kicks, (unsigned long long)txs.kicks_suppressed,
	       (unsigned long long)rxs.calls, (unsigned long long)feat);
	vhostctl_dev_teardown(dev, vq, 2);
	vhostctl_dev_close(dev);
	vhostctl_mem_free(mem);
	close(pkt);
	close(tap);
	return 0;
}
