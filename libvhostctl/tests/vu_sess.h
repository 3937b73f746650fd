/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * vhost-user sessions for the protocol tests: our frontend against one of
 * our backends over a real Unix socket, in either role (the backend
 * listening, or the frontend listening and the backend connecting), one
 * session after another on the same backend; and tagged loopback traffic
 * on several queue pairs at once, each packet checked to come back on the
 * RX queue of its own pair, in order, exactly once, byte for byte.
 */
#ifndef VU_SESS_H
#define VU_SESS_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vhostctl/vhostctl.h>

#include "vu_drv.h"
#include "vu.h"

#define SESS_HDR 12u		/* virtio_net_hdr_mrg_rxbuf */
#define SESS_MAX_PAIRS 32u	/* the net device's maximum */
/* No progress for this long fails a run: a lost wakeup stalls for ever, a loaded machine not. */
#define SESS_IDLE_MS 10000

struct sess {
	struct vhostctl_vu_backend *be;
	const char *path;
	bool server;		/* the frontend listens, the backend connects */
	bool listening;		/* client role: the backend listens already */
	bool running;		/* the backend's dispatch thread runs */
	int conn_r;
};

static void sess_log(void *ctx, int level, const char *msg)
{
	fprintf(stderr, "[%s %d] %s\n", ctx ? (const char *)ctx : "lib", level, msg);
}

static inline void sess_stop(struct sess *s)
{
	if (s->running)
		vhostctl_vu_backend_stop(s->be);
	s->running = false;
}

static inline int sess_start(struct sess *s)
{
	int r = s->running ? 0 : vhostctl_vu_backend_start(s->be);

	s->running = !r;
	return r;
}

/*
 * Open a frontend session to s->be with the options given (server is set
 * from s); the backend's thread runs afterwards.  NULL with errno set.
 */
static inline struct vhostctl_dev *sess_open(struct sess *s, struct vhostctl_vu_opts *o)
{
	struct drv_connector c;
	struct vhostctl_dev *dev;
	pthread_t th;
	int e;

	o->server = s->server;
	if (!o->timeout_ms)
		o->timeout_ms = 5000;
	if (getenv("VU_DEBUG") && !o->log) {
		o->log = sess_log;
		o->log_ctx = (void *)"fe";
		o->log_level = 7;
	}
	if (!s->server) {
		if (!s->listening && vhostctl_vu_backend_listen(s->be, s->path))
			return NULL;
		s->listening = true;
		if (sess_start(s))
			return NULL;
		return vhostctl_vu_open(s->path, o);
	}
	/* The backend connects from a thread of ours while we accept. */
	sess_stop(s);
	c = (struct drv_connector){ .be = s->be, .path = s->path, .r = -EINVAL };
	pthread_create(&th, NULL, drv_connect_later, &c);
	dev = vhostctl_vu_open(s->path, o);
	e = errno;
	pthread_join(th, NULL);
	s->conn_r = c.r;
	s->running = !s->conn_r;
	if (dev && s->conn_r) {
		vhostctl_dev_close(dev);
		dev = NULL;
		e = -s->conn_r;
	}
	errno = e;
	return dev;
}

/* Wait (up to 2 s) until the backend has seen the frontend go away. */
static inline int sess_wait_gone(struct sess *s)
{
	struct vhostctl_vu_backend_stats st;

	for (int i = 0; i < 200; i++) {
		if (vhostctl_vu_backend_stats(s->be, &st))
			return -1;
		if (!st.connected)
			return 0;
		usleep(10000);
	}
	return -1;
}

static inline uint64_t sess_messages(struct sess *s)
{
	struct vhostctl_vu_backend_stats st;

	vhostctl_vu_backend_stats(s->be, &st);
	return st.messages;
}

/* ---- tagged loopback traffic ------------------------------------------- */

struct pair {
	struct drv_q rx, tx;
	unsigned long sent, done_tx, received;
	unsigned long to_send;	/* send until sent reaches this */
	unsigned long expect;	/* the run ends when received reaches this */
};

/* Packet seq of pair p: a clean header, then p, seq, and a pattern of both. */
static inline void pkt_fill(uint8_t *b, unsigned int p, unsigned long seq, unsigned int size)
{
	memset(b, 0, SESS_HDR);
	b[SESS_HDR] = (uint8_t)p;
	memcpy(b + SESS_HDR + 1, &seq, sizeof(seq));
	for (unsigned int i = 1 + sizeof(seq); i < size; i++)
		b[SESS_HDR + i] = (uint8_t)(seq * 7 + p * 31 + i);
}

/* Set a ring up: size, base, addresses, call, kick, enable. */
static inline int ring_setup(struct vhostctl_dev *dev, unsigned int index, struct drv_q *q,
			     unsigned int base)
{
	struct vhostctl_vring_addr a = {
		.index = index, .desc = q->desc_gpa, .avail = q->avail_gpa, .used = q->used_gpa,
	};

	return vhostctl_dev_set_vring_num(dev, index, q->num) ?:
	       vhostctl_dev_set_vring_base(dev, index, base) ?:
	       vhostctl_dev_set_vring_addr(dev, &a) ?:
	       vhostctl_dev_set_vring_call(dev, index, q->call) ?:
	       vhostctl_dev_set_vring_kick(dev, index, q->kick) ?:
	       vhostctl_dev_set_vring_enable(dev, index, 1);
}

static inline unsigned int ring_base0(const struct drv_q *q)
{
	return q->packed ? 0x8000 : 0;
}

/* Post every RX buffer of a fresh pair. */
static inline void pair_fill_rx(struct pair *p)
{
	for (uint16_t i = 0; i < p->rx.num; i++)
		drv_add(&p->rx, i, p->rx.bsz, true);
	drv_kick(&p->rx);
}

/* Take what came back on every pair; -1 with err on a wrong packet. */
static inline int pairs_reap(struct pair *pp, unsigned int n, unsigned int size, char *err,
			     size_t el, int *progress)
{
	for (unsigned int p = 0; p < n; p++) {
		struct pair *q = &pp[p];
		bool reposted = false;
		uint16_t id;
		uint32_t l;

		while (drv_used(&q->tx, &id, &l))
			q->done_tx++;
		while (drv_used(&q->rx, &id, &l)) {
			uint8_t want[SESS_HDR + 2048];
			uint8_t *b;
			unsigned long seq;

			if (id >= q->rx.num) {
				snprintf(err, el, "pair %u: RX id %u out of range", p, id);
				return -1;
			}
			b = drv_buf(&q->rx, id);
			memcpy(&seq, b + SESS_HDR + 1, sizeof(seq));
			if (b[SESS_HDR] != p) {
				snprintf(err, el, "pair %u: RX got a packet of pair %u (seq %lu)",
					 p, b[SESS_HDR], seq);
				return -1;
			}
			pkt_fill(want, p, q->received, size);
			want[10] = 1;	/* num_buffers, written by the device */
			if (l != SESS_HDR + size || seq != q->received || q->received >= q->sent ||
			    memcmp(b, want, SESS_HDR + size)) {
				snprintf(err, el, "pair %u: packet %lu came back as seq %lu, "
					 "%u bytes", p, q->received, seq, l);
				return -1;
			}
			q->received++;
			drv_add(&q->rx, id, q->rx.bsz, true);
			reposted = true;
			(*progress)++;
		}
		if (reposted)
			drv_kick(&q->rx);
	}
	return 0;
}

/*
 * Drive every pair: send until sent == to_send, run until received ==
 * expect on all of them.  Fails after idle_ms without progress.
 */
static inline int pairs_run(struct pair *pp, unsigned int n, unsigned int size, int idle_ms,
			    char *err, size_t el)
{
	struct timespec last, now;

	clock_gettime(CLOCK_MONOTONIC, &last);
	for (;;) {
		struct pollfd pfd[SESS_MAX_PAIRS];
		bool done = true;
		int progress = 0;

		for (unsigned int p = 0; p < n; p++) {
			struct pair *q = &pp[p];
			int added = 0;

			while (q->sent < q->to_send && q->sent - q->done_tx < q->tx.num &&
			       q->sent - q->received < q->rx.num) {
				uint16_t slot = (uint16_t)(q->sent % q->tx.num);

				pkt_fill(drv_buf(&q->tx, slot), p, q->sent, size);
				drv_add(&q->tx, slot, SESS_HDR + size, false);
				q->sent++;
				added++;
			}
			if (added)
				drv_kick(&q->tx);
			progress += added;
		}
		if (pairs_reap(pp, n, size, err, el, &progress))
			return -1;
		for (unsigned int p = 0; p < n; p++) {
			if (pp[p].received > pp[p].expect) {
				snprintf(err, el, "pair %u: %lu packets came back, %lu expected", p,
					 pp[p].received, pp[p].expect);
				return -1;
			}
			done &= pp[p].received == pp[p].expect;
		}
		if (done)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (progress) {
			last = now;
			continue;
		}
		if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >
		    idle_ms) {
			snprintf(err, el, "no progress for %d ms", idle_ms);
			for (unsigned int p = 0; p < n; p++)
				snprintf(err + strlen(err), el - strlen(err),
					 "; pair %u sent %lu back %lu", p, pp[p].sent,
					 pp[p].received);
			return -1;
		}
		for (unsigned int p = 0; p < n; p++)
			pfd[p] = (struct pollfd){ .fd = pp[p].rx.call, .events = POLLIN };
		if (poll(pfd, n, 10) > 0) {
			for (unsigned int p = 0; p < n; p++) {
				uint64_t v;

				if ((pfd[p].revents & POLLIN) && read(pp[p].rx.call, &v, 8) != 8)
					break;
			}
		}
	}
}

/*
 * Wait (1 s at most) until every packet sent is also reaped from TX: the
 * device completes TX before RX, but we may have looked at TX first.
 */
static inline int pairs_settle(struct pair *pp, unsigned int n, unsigned int size, char *err,
			       size_t el)
{
	for (int i = 0; i < 1000; i++) {
		bool all = true;
		int progress = 0;

		if (pairs_reap(pp, n, size, err, el, &progress))
			return -1;
		for (unsigned int p = 0; p < n; p++)
			all &= pp[p].done_tx == pp[p].sent;
		if (all)
			return 0;
		usleep(1000);
	}
	snprintf(err, el, "TX buffers not completed");
	return -1;
}

/* Send count more on each pair (count[p]) and wait for all of it. */
static inline int pairs_more(struct pair *pp, unsigned int n, unsigned long count,
			     unsigned int size, char *err, size_t el)
{
	for (unsigned int p = 0; p < n; p++) {
		pp[p].to_send += count;
		pp[p].expect += count;
	}
	return pairs_run(pp, n, size, SESS_IDLE_MS, err, el);
}

/*
 * A two-queue loopback for devices written in the tests on the generic
 * backend: queue 1's packets come back on queue 0, the header rewritten as
 * a NIC does; ctx is an unsigned long counting them.  Both queues are
 * reached through the library's internal lookup, as its net device does.
 */
static inline int echo_queue(struct vhostctl_vu_backend *be, unsigned int index,
			     struct vhostctl_devq *q, void *ctx)
{
	static const uint8_t hdr[SESS_HDR] = { [10] = 1 };
	unsigned long *moved = ctx;
	struct vhostctl_devq *rxq = vhc_vu_backend_queue(be, 0), *txq = vhc_vu_backend_queue(be, 1);
	struct iovec tv[8], rv[8];
	struct vhostctl_devq_elem t, r;
	uint8_t buf[2048];
	unsigned int done = 0;
	bool rx_full = false;
	int n;

	(void)index;
	(void)q;
	if (!rxq || !txq)
		return 0;
	while ((n = vhostctl_devq_pop(txq, &t, tv, 8)) > 0) {
		size_t len = t.out_len;

		n = vhostctl_devq_pop(rxq, &r, rv, 8);
		if (n <= 0) {
			vhostctl_devq_unpop(txq, &t);
			rx_full = n == 0;
			break;
		}
		if (len > sizeof(buf) || r.in_len < len)
			return -EIO;
		vhostctl_devq_copy_from(&t, 0, buf, len);
		memcpy(buf, hdr, SESS_HDR);
		vhostctl_devq_copy_to(&r, 0, buf, len);
		if (vhostctl_devq_push(rxq, &r, (uint32_t)len) || vhostctl_devq_push(txq, &t, 0))
			return -EIO;
		done++;
	}
	if (n < 0)
		return n;
	if (done) {
		__atomic_add_fetch(moved, done, __ATOMIC_RELAXED);
		if (vhostctl_devq_flush(txq) < 0 || vhostctl_devq_flush(rxq) < 0)
			return -EIO;
	}
	if (!rx_full)
		return 0;
	/* No RX buffer: the RX kick brings us back (or there is one already). */
	n = vhostctl_devq_notify_enable(rxq, 1);
	return n < 0 ? n : n > 0;
}

#endif
