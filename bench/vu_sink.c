// SPDX-License-Identifier: GPL-2.0-only
/*
 * vu_sink: a vhost-user net device that receives what the driver transmits
 * and drops it, like DPDK testpmd's net_vhost in rxonly mode.  The queue
 * handler (sink_burst) is the unit bench/vu_ipp.sh counts under callgrind:
 * per burst of up to 32 TX buffers it pops them (vhostctl_devq_pop_burst),
 * copies each frame (virtio-net header and packet) into a buffer of its own
 * as a receiver would (every byte is read), gives the buffers back
 * (vhostctl_devq_push_burst) and publishes the burst with one flush.
 *
 *   vu_sink SOCK [-P] [-1]
 *
 * Serves SOCK until SIGINT or SIGTERM, then prints "packets N bytes B
 * handler_calls C".  -P refuses RING_PACKED (split rings only).  -1 uses the
 * one-buffer calls (vhostctl_devq_pop and vhostctl_devq_push per packet).
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

struct sink {
	bool single;				/* -1: one buffer per call */
	uint64_t packets, bytes, calls, sum;
	uint8_t frames[BURST][FRAME_MAX];	/* the receiver's buffers (mbufs, in DPDK) */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
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

/* TX queues (odd) carry the driver's packets; RX queues are left alone. */
static int sink_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		      void *ctx)
{
	(void)be;
	return index & 1 ? sink_burst(ctx, q) : 0;
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, o, .num_queues = 2, .queue = sink_queue);
	struct sigaction sa = { .sa_handler = on_signal };
	struct vhostctl_vu_backend *be;
	bool single = false;
	struct sink *s;
	int c, r;

	while ((c = getopt(argc, argv, "P1")) != -1) {
		switch (c) {
		case 'P': o.no_features |= F_RING_PACKED; break;
		case '1': single = true; break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc) {
usage:
		fprintf(stderr, "usage: vu_sink SOCK [-P] [-1]\n");
		return 2;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->single = single;
	o.ctx = s;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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
