// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Multiqueue: our frontend against our net loopback backend with 4 queue
 * pairs, over a real Unix socket, split and packed rings, the backend
 * listening or connecting.  Checked:
 *  - MQ is negotiated, GET_QUEUE_NUM says 8, VIRTIO_NET_F_MQ is offered and
 *    the config space says 4 pairs; queue 8 is refused by the frontend;
 *  - all 8 rings set up and enabled, traffic on every pair at once: each
 *    packet (tagged with its pair) comes back on the RX queue of its own
 *    pair, in order, exactly once, byte for byte;
 *  - SET_VRING_ENABLE 0 on both rings of one pair: its packets stay on its
 *    TX ring (not taken, not returned) while the other pairs flow; enabled
 *    again, they all come back, once;
 *  - GET_VRING_BASE on each of the 8 rings reports where it stopped;
 *  - a device without MQ (its protocol features mask MQ) with the frontend
 *    told opts.queues = 2: no GET_QUEUE_NUM, 2 queues driven with traffic,
 *    queue 2 refused without a message sent;
 *  - the largest device, 32 pairs: all 64 queues carry traffic.
 */
#include <stdio.h>

#include "test.h"
#include "vu_sess.h"

#define PAIRS 4u
#define NUM 128u
#define SIZE 200u
#define F_MAC (1ull << 5)
#define F_MQ (1ull << 22)

static char err[512];

static void mq_run(const char *path, bool packed, bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 4 },
			   .queue_pairs = PAIRS, .log = getenv("VU_DEBUG") ? sess_log : NULL,
			   .log_ctx = (void *)"be", .log_level = 7);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct sess s = { .path = path, .server = server };
	struct vhostctl_vu_net_stats st;
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct pair pp[PAIRS];
	struct vhostctl_dev *dev;
	uint64_t f, pf, want, msgs;
	uint16_t qp;
	uint8_t cfg[10];
	unsigned int base;
	const unsigned int off = 2;	/* the pair switched off and on */
	const char *name = packed ? "packed" : "split";

	s.be = vhostctl_vu_net_new(&no);
	t_true(s.be && mem);
	t_true(vhostctl_mem_add_region(mem, 0x100000, 16 << 20, 0) >= 0);
	memset(pp, 0, sizeof(pp));
	for (unsigned int p = 0; p < PAIRS; p++)
		t_eq(0, drv_q_init(&pp[p].rx, mem, NUM, packed, 2048) ?:
			drv_q_init(&pp[p].tx, mem, NUM, packed, 2048));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("%s: open: %s", name, strerror(errno));
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_true(pf & (1ull << VHOSTCTL_VU_PF_MQ));
	t_eq(2 * PAIRS, vhostctl_vu_queue_count(dev));
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_get_features(dev, &f));
	t_true(f & F_MQ);
	want = VU_F_VERSION_1 | F_MAC | F_MQ | (packed ? VU_F_RING_PACKED : 0);
	t_eq(0, vhostctl_dev_set_features(dev, want));
	t_eq(0, vhostctl_dev_get_config(dev, 0, cfg, sizeof(cfg)));
	memcpy(&qp, cfg + 8, 2);
	t_eq(PAIRS, qp);	/* max_virtqueue_pairs */
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));	/* acknowledged: a barrier */
	/* A queue the backend does not have: refused here, nothing sent. */
	msgs = sess_messages(&s);
	t_eq(-ENOBUFS, vhostctl_dev_set_vring_num(dev, 2 * PAIRS, NUM));
	t_eq(-ENOBUFS, vhostctl_dev_set_vring_enable(dev, 2 * PAIRS, 1));
	t_eq(0, vhostctl_dev_get_features(dev, &f));
	t_eq(msgs + 1, sess_messages(&s));
	for (unsigned int p = 0; p < PAIRS; p++) {
		t_eq(0, ring_setup(dev, 2 * p, &pp[p].rx, ring_base0(&pp[p].rx)));
		t_eq(0, ring_setup(dev, 2 * p + 1, &pp[p].tx, ring_base0(&pp[p].tx)));
		pair_fill_rx(&pp[p]);
	}

	/* Every pair at once. */
	if (pairs_more(pp, PAIRS, 5000, SIZE, err, sizeof(err)))
		t_fail("%s %s: all pairs: %s", name, server ? "server" : "client", err);

	/* One pair off: its packets stay queued while the others flow. */
	if (pairs_settle(pp, PAIRS, SIZE, err, sizeof(err)))
		t_fail("%s: %s", name, err);
	t_eq(0, vhostctl_dev_set_vring_enable(dev, 2 * off, 0));
	t_eq(0, vhostctl_dev_set_vring_enable(dev, 2 * off + 1, 0));
	{
		unsigned long tx_before = pp[off].done_tx, rx_before = pp[off].received;
		uint64_t taken;

		/* A barrier: the backend has handled the disables when this answers. */
		t_eq(0, vhostctl_dev_get_features(dev, &f));
		t_eq(0, vhostctl_vu_net_stats(s.be, &st));
		taken = st.tx_packets;
		for (unsigned int p = 0; p < PAIRS; p++) {
			pp[p].to_send += 64;
			if (p != off)
				pp[p].expect += 64;
		}
		if (pairs_run(pp, PAIRS, SIZE, SESS_IDLE_MS, err, sizeof(err)))
			t_fail("%s: with pair %u off: %s", name, off, err);
		usleep(300000);
		{
			int progress = 0;

			if (pairs_reap(pp, PAIRS, SIZE, err, sizeof(err), &progress))
				t_fail("%s: %s", name, err);
		}
		t_eq(rx_before, pp[off].received);
		t_eq(tx_before, pp[off].done_tx);
		t_eq(0, vhostctl_vu_net_stats(s.be, &st));
		t_eq(taken + 64 * (PAIRS - 1), st.tx_packets);
		printf("%s: pair %u disabled: 64 of its packets queued, none taken; "
		       "other pairs 64 each\n", name, off);
		/* On again: the queued ones come back, once, and traffic goes on. */
		t_eq(0, vhostctl_dev_set_vring_enable(dev, 2 * off, 1));
		t_eq(0, vhostctl_dev_set_vring_enable(dev, 2 * off + 1, 1));
		pp[off].expect += 64;
		if (pairs_run(pp, PAIRS, SIZE, SESS_IDLE_MS, err, sizeof(err)))
			t_fail("%s: pair %u on again: %s", name, off, err);
		if (pairs_more(pp, PAIRS, 1000, SIZE, err, sizeof(err)))
			t_fail("%s: after re-enable: %s", name, err);
	}
	t_eq(0, vhostctl_vu_net_stats(s.be, &st));
	for (unsigned int p = 0; p < PAIRS; p++) {
		t_eq(pp[p].sent, pp[p].received);
		t_eq(6064, pp[p].received);
	}
	t_eq(6064 * PAIRS, st.tx_packets);
	t_eq(6064 * PAIRS, st.rx_packets);
	t_eq(0, st.dropped);
	/* Where each ring stopped. */
	for (unsigned int p = 0; p < PAIRS; p++) {
		unsigned long n = pp[p].sent;
		unsigned int want_base = (unsigned int)(n & 0xffff);

		if (packed)
			want_base = (unsigned int)(n % NUM) | ((n / NUM) & 1 ? 0 : 0x8000);

		t_eq(0, vhostctl_dev_get_vring_base(dev, 2 * p + 1, &base));
		t_eq(want_base, packed ? base & 0xffff : base);
		t_eq(0, vhostctl_dev_get_vring_base(dev, 2 * p, &base));
		t_eq(want_base, packed ? base & 0xffff : base);
	}
	printf("%s ring, frontend %s: %u pairs, %lu packets each, every one back on its own pair\n",
	       name, server ? "listens" : "connects", PAIRS, pp[0].received);
	vhostctl_dev_close(dev);
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
	for (unsigned int p = 0; p < PAIRS; p++) {
		drv_q_fini(&pp[p].rx);
		drv_q_fini(&pp[p].tx);
	}
	vhostctl_mem_free(mem);
}

/* ---- a device without MQ: the frontend is told the queue count ---------- */

static void explicit_queues(const char *path, bool server)
{
	unsigned long moved = 0;
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo, .num_queues = 2,
			   .queue = echo_queue, .ctx = &moved,
			   .protocol_features = ~(1ull << VHOSTCTL_VU_PF_MQ),
			   .log = getenv("VU_DEBUG") ? sess_log : NULL, .log_ctx = (void *)"be",
			   .log_level = 7);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .queues = 2);
	struct sess s = { .path = path, .server = server };
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_dev *dev;
	struct pair pp[1];
	uint64_t pf, msgs;

	s.be = vhostctl_vu_backend_new(&bo);
	t_true(s.be && mem);
	t_true(vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	memset(pp, 0, sizeof(pp));
	t_eq(0, drv_q_init(&pp[0].rx, mem, NUM, false, 2048) ?:
		drv_q_init(&pp[0].tx, mem, NUM, false, 2048));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("no MQ: open: %s", strerror(errno));
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_eq(0, pf & (1ull << VHOSTCTL_VU_PF_MQ));
	t_true(pf & (1ull << VHOSTCTL_VU_PF_REPLY_ACK));
	t_eq(2, vhostctl_vu_queue_count(dev));
	/* GET_FEATURES, GET/SET_PROTOCOL_FEATURES, SET_BACKEND_REQ_FD: no GET_QUEUE_NUM. */
	t_eq(4, sess_messages(&s));
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1));
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
	t_eq(0, ring_setup(dev, 0, &pp[0].rx, 0));
	t_eq(0, ring_setup(dev, 1, &pp[0].tx, 0));
	{
		uint64_t f;

		/* GET_FEATURES answered: the backend has counted all before it. */
		t_eq(0, vhostctl_dev_get_features(dev, &f));
		msgs = sess_messages(&s);
		t_eq(-ENOBUFS, vhostctl_dev_set_vring_num(dev, 2, NUM));
		t_eq(-ENOBUFS, vhostctl_dev_set_vring_kick(dev, 2, pp[0].tx.kick));
		t_eq(0, vhostctl_dev_get_features(dev, &f));
		/* The refused calls sent nothing. */
		t_eq(msgs + 1, sess_messages(&s));
	}
	pair_fill_rx(&pp[0]);
	if (pairs_more(pp, 1, 3000, SIZE, err, sizeof(err)))
		t_fail("no MQ, 2 queues: %s", err);
	t_eq(3000, __atomic_load_n(&moved, __ATOMIC_RELAXED));
	printf("no MQ, frontend %s, opts.queues 2: 2 queues driven, %lu packets\n",
	       server ? "listens" : "connects", pp[0].received);
	vhostctl_dev_close(dev);
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
	drv_q_fini(&pp[0].rx);
	drv_q_fini(&pp[0].tx);
	vhostctl_mem_free(mem);
}

/*
 * The largest device: 32 pairs, all 64 queues the library handles on either
 * side, every one carrying traffic; queue 64 refused.
 */
static void max_pairs(const char *path)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .queue_pairs = SESS_MAX_PAIRS,
			   .log = getenv("VU_DEBUG") ? sess_log : NULL, .log_ctx = (void *)"be",
			   .log_level = 7);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct sess s = { .path = path };
	struct vhostctl_vu_net_stats st;
	struct vhostctl_mem *mem = vhostctl_mem_new();
	static struct pair pp[SESS_MAX_PAIRS];
	struct vhostctl_dev *dev;

	no.mac[0] = 2;
	s.be = vhostctl_vu_net_new(&no);
	t_true(s.be && mem);
	t_true(vhostctl_mem_add_region(mem, 0x100000, 40 << 20, 0) >= 0);
	memset(pp, 0, sizeof(pp));
	for (unsigned int p = 0; p < SESS_MAX_PAIRS; p++)
		t_eq(0, drv_q_init(&pp[p].rx, mem, 64, false, 256) ?:
			drv_q_init(&pp[p].tx, mem, 64, false, 256));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("32 pairs: open: %s", strerror(errno));
	t_eq(64, vhostctl_vu_queue_count(dev));
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1 | F_MAC | F_MQ));
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
	t_eq(-ENOBUFS, vhostctl_dev_set_vring_num(dev, 64, 64));
	for (unsigned int p = 0; p < SESS_MAX_PAIRS; p++) {
		t_eq(0, ring_setup(dev, 2 * p, &pp[p].rx, 0));
		t_eq(0, ring_setup(dev, 2 * p + 1, &pp[p].tx, 0));
		pair_fill_rx(&pp[p]);
	}
	if (pairs_more(pp, SESS_MAX_PAIRS, 500, 100, err, sizeof(err)))
		t_fail("32 pairs: %s", err);
	t_eq(0, vhostctl_vu_net_stats(s.be, &st));
	t_eq(500 * SESS_MAX_PAIRS, st.rx_packets);
	for (unsigned int p = 0; p < SESS_MAX_PAIRS; p++) {
		unsigned int base;

		t_eq(0, vhostctl_dev_get_vring_base(dev, 2 * p + 1, &base));
		t_eq(500, base);
	}
	printf("32 pairs (64 queues): 500 packets each, every one back on its own pair\n");
	vhostctl_dev_close(dev);
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
	for (unsigned int p = 0; p < SESS_MAX_PAIRS; p++) {
		drv_q_fini(&pp[p].rx);
		drv_q_fini(&pp[p].tx);
	}
	vhostctl_mem_free(mem);
}

int main(void)
{
	char path[64];
	int fds = t_count_fds();

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "/tmp/vu_mq.%d.sock", getpid());
	mq_run(path, false, false);
	mq_run(path, false, true);
	mq_run(path, true, false);
	mq_run(path, true, true);
	explicit_queues(path, false);
	explicit_queues(path, true);
	max_pairs(path);
	t_eq(fds, t_count_fds());
	return 0;
}
