// SPDX-License-Identifier: GPL-2.0-only
/*
 * vu_sink: a vhost-user net device that receives what the driver transmits
 * and drops it, like DPDK testpmd's net_vhost in rxonly mode, or (-r) that
 * fills every receive buffer the driver gives with a frame, like net_vhost
 * in txonly mode.  The queue handlers are the units bench/vu_ipp.sh counts
 * under callgrind:
 *   sink_burst (guest TX, the device dequeues): per burst of up to 32 TX
 *   buffers it pops them (vhostctl_devq_pop_burst), copies each frame
 *   (virtio-net header and packet) into a buffer of its own as a receiver
 *   would (every byte is read), gives the buffers back
 *   (vhostctl_devq_push_burst) and publishes the burst with one flush;
 *   source_burst (guest RX, the device enqueues): per burst of up to 32 RX
 *   buffers it pops them, writes a virtio-net header (num_buffers 1) and a
 *   frame of its own into each (one vhostctl_devq_copy_to_iov() of both, as
 *   DPDK writes the header and copies the mbuf's data), pushes them back
 *   with their lengths and flushes once.
 *
 *   vu_sink SOCK [-P] [-1] [-r] [-s BYTES] [-g] [-m]
 *
 * Serves SOCK until SIGINT or SIGTERM, then prints "packets N bytes B
 * handler_calls C".  -P refuses RING_PACKED (split rings only).  -1 uses the
 * one-buffer calls (vhostctl_devq_pop and vhostctl_devq_push per packet;
 * sink only).  -r sends instead of receiving; -s is the frame length it
 * sends (64 to 2000, default 64; the header comes on top).  -g leaves the
 * rings alone until SIGUSR1, so that the driver fills them first and no
 * counted call finds an empty ring at the start.  -m offers mergeable
 * receive buffers and in-order use (VIRTIO_NET_F_MRG_RXBUF,
 * VIRTIO_F_IN_ORDER), DPDK's virtio_user default: a packed TX burst then
 * goes back as one used descriptor; -r still writes num_buffers 1, as each
 * frame fits one of the driver's receive buffers (2 KiB mbufs in DPDK).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "bench.h"

#define BURST 32
#define MAX_IOV 8
#define FRAME_MAX 2048
#define F_RING_PACKED (1ull << 34)
#define F_MRG_RXBUF (1ull << 15)
#define F_IN_ORDER (1ull << 35)
#define NET_HDR_LEN 12		/* struct virtio_net_hdr_mrg_rxbuf (VERSION_1) */

struct sink {
	bool single;				/* -1: one buffer per call */
	bool source;				/* -r: fill RX buffers */
	uint32_t frame_len;			/* -s */
	uint8_t frame[FRAME_MAX];		/* what -r sends */
	uint64_t packets, bytes, calls, sum;
	uint8_t frames[BURST][FRAME_MAX];	/* the receiver's buffers (mbufs, in DPDK) */
};

static volatile sig_atomic_t stop, go = 1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		go = 1;
	else
		stop = 1;
}

/*
 * One burst from a TX queue: the function vu_ipp.sh counts.  Not inlined,
 * so that its inclusive cost is the per-burst dequeue work alone.
 */
static __attribute__((noinline)) int sink_burst(struct sink *s, struct vhostctl_devq *q)
{
	struct iovec iov[BURST][MAX_IOV];
	struct vhostctl_devq_elem e, el[BURST];
	unsigned int done;
	int r;

	s->calls++;
	if (s->single)
		goto single;
	r = vhostctl_devq_pop_burst(q, el, iov[0], MAX_IOV, BURST);
	if (r <= 0)
		return r;
	done = (unsigned int)r;
	for (unsigned int i = 0; i < done; i++) {
		size_t len = vhostctl_devq_copy_from(&el[i], 0, s->frames[i], FRAME_MAX);

		s->bytes += len;
		/* Use the frame: its last byte, as a parser reaching the end would. */
		s->sum += len ? s->frames[i][len - 1] : 0;
	}
	r = vhostctl_devq_push_burst(q, el, NULL, done);
	if (r < 0)
		return r;
	goto flush;
single:
	for (done = 0; done < BURST; done++) {
		size_t len;

		r = vhostctl_devq_pop(q, &e, iov[0], MAX_IOV);
		if (r < 0)
			return r;
		if (!r)
			break;
		len = vhostctl_devq_copy_from(&e, 0, s->frames[done], FRAME_MAX);
		s->bytes += len;
		/* Use the frame: its last byte, as a parser reaching the end would. */
		s->sum += len ? s->frames[done][len - 1] : 0;
		r = vhostctl_devq_push(q, &e, 0);
		if (r)
			return r;
	}
	if (!done)
		return 0;
flush:
	s->packets += done;
	r = vhostctl_devq_flush(q);
	if (r < 0)
		return r;
	return done == BURST;
}

/*
 * One burst into an RX queue: the function vu_ipp.sh counts for guest RX.
 * A buffer too small for header and frame gets what fits and is not counted
 * as a packet (the driver posts buffers of at least 1518 bytes, so none is).
 */
static __attribute__((noinline)) int source_burst(struct sink *s, struct vhostctl_devq *q)
{
	static const uint8_t hdr[NET_HDR_LEN] = { [10] = 1 };	/* num_buffers = 1 */
	const struct iovec src[2] = { { (void *)hdr, NET_HDR_LEN }, { s->frame, s->frame_len } };
	struct iovec iov[BURST][MAX_IOV];
	struct vhostctl_devq_elem el[BURST];
	uint32_t written[BURST], want = NET_HDR_LEN + s->frame_len;
	unsigned int done, sent = 0;
	int r;

	s->calls++;
	r = vhostctl_devq_pop_burst(q, el, iov[0], MAX_IOV, BURST);
	if (r <= 0)
		return r;
	done = (unsigned int)r;
	for (unsigned int i = 0; i < done; i++) {
		size_t n = vhostctl_devq_copy_to_iov(&el[i], 0, src, 2);

		written[i] = (uint32_t)n;
		sent += n == want;
	}
	r = vhostctl_devq_push_burst(q, el, written, done);
	if (r < 0)
		return r;
	s->packets += sent;
	s->bytes += (uint64_t)sent * s->frame_len;
	r = vhostctl_devq_flush(q);
	if (r < 0)
		return r;
	return done == BURST;
}

/*
 * Receiving: TX queues (odd) carry the driver's packets, RX queues are left
 * alone.  Sending (-r): RX queues (even) are filled, TX queues left alone.
 */
static int sink_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		      void *ctx)
{
	struct sink *s = ctx;

	(void)be;
	if (!go)
		return 1;	/* -g: not yet; come back (the ring fills meanwhile) */
	if (s->source)
		return index & 1 ? 0 : source_burst(s, q);
	return index & 1 ? sink_burst(s, q) : 0;
}

/* A UDP/IPv4 frame of @len bytes, as testpmd's txonly mode builds. */
static void make_frame(uint8_t *f, uint32_t len)
{
	static const uint8_t head[] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,	/* ethernet */
		0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0,			/* IPv4 */
		198, 18, 0, 1, 198, 18, 0, 2,
		0x04, 0x00, 0x04, 0x00, 0, 0, 0, 0,				/* UDP */
	};
	uint16_t ip_len = (uint16_t)(len - 14), udp_len = (uint16_t)(len - 34);

	memset(f, 0, len);
	memcpy(f, head, sizeof(head));
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[38] = (uint8_t)(udp_len >> 8);
	f[39] = (uint8_t)udp_len;
	for (uint32_t i = sizeof(head); i < len; i++)
		f[i] = (uint8_t)i;
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, o, .num_queues = 2, .queue = sink_queue);
	struct sigaction sa = { .sa_handler = on_signal };
	struct vhostctl_vu_backend *be;
	bool single = false, source = false;
	unsigned long frame_len = 64;
	struct sink *s;
	char *end;
	int c, r;

	while ((c = getopt(argc, argv, "P1rs:gm")) != -1) {
		switch (c) {
		case 'P': o.no_features |= F_RING_PACKED; break;
		case 'm': o.features |= F_MRG_RXBUF | F_IN_ORDER; break;
		case '1': single = true; break;
		case 'r': source = true; break;
		case 'g': go = 0; break;
		case 's':
			errno = 0;
			frame_len = strtoul(optarg, &end, 10);
			if (errno || *end || frame_len < 64 || frame_len > 2000)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || (single && source)) {
usage:
		fprintf(stderr, "usage: vu_sink SOCK [-P] [-1] [-r] [-s 64..2000] [-g] [-m]\n");
		return 2;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->single = single;
	s->source = source;
	s->frame_len = (uint32_t)frame_len;
	make_frame(s->frame, s->frame_len);
	o.ctx = s;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	be = vhostctl_vu_backend_new(&o);
	if (!be || vhostctl_vu_backend_listen(be, argv[optind])) {
		fprintf(stderr, "vu_sink: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	while (!stop) {
		r = vhostctl_vu_backend_dispatch(be, 200);
		if (r < 0) {
			fprintf(stderr, "vu_sink: dispatch: %s\n", strerror(-r));
			break;
		}
	}
	vhostctl_vu_backend_free(be);
	printf("packets %llu bytes %llu handler_calls %llu (checksum %llu)\n",
	       (unsigned long long)s->packets, (unsigned long long)s->bytes,
	       (unsigned long long)s->calls, (unsigned long long)s->sum);
	free(s);
	return 0;
}
