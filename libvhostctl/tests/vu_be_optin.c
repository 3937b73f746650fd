// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The backend side of the two opt-in protocol features, against our net
 * loopback backend over real sockets.
 *
 * In-band notifications: our frontend negotiates INBAND_NOTIFICATIONS
 * (with BACKEND_REQ and REPLY_ACK) and gives both rings no kick and no call
 * fd.  Frames go out on TX and come back on RX with their bytes; the only
 * kicks are VRING_KICK messages (the backend counts exactly those) and the
 * only calls VRING_CALL requests on the backend channel, served here and
 * counted per ring by the frontend.  Named without REPLY_ACK, the frontend
 * leaves INBAND_NOTIFICATIONS out.
 *
 * Cross-endian: a legacy device (no VERSION_1) whose rings are set
 * big-endian with SET_VRING_ENDIAN, driven by the big-endian split driver
 * below (TX frames as two-descriptor chains or indirect tables, event-idx
 * on and off): every frame comes back byte-exact with its length.  The same
 * driver without SET_VRING_ENDIAN breaks the ring, which shows the byte
 * order is used; so does a big-endian chain that loops.
 *
 * Refusals over a raw socket: VRING_KICK and SET_VRING_ENDIAN without their
 * feature, for a ring past the queue count or with a short payload end the
 * connection; INBAND_NOTIFICATIONS without REPLY_ACK ends it.  VRING_KICK
 * on a stopped ring or one with a kick fd, and SET_VRING_ENDIAN with a bad
 * value, on a running ring or on a VERSION_1 device, are refused (failure
 * reply), the connection kept.
 */
#include <endian.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "test.h"
#include "vu_drv.h"
#include "vu_raw.h"

#define PF(x) (1ull << VHOSTCTL_VU_PF_##x)
#define F_MAC (1ull << 5)
#define HDR 12
#define PAYLOAD 100
#define NUM 64

static char path[64];

static void be_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "[be %d] %s\n", level, msg);
}

static struct vhostctl_vu_backend *net_backend(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 1 },
			   .log = getenv("VU_DEBUG") ? be_log : NULL, .log_level = 7);
	struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);

	t_true(be);
	t_eq(0, vhostctl_vu_backend_listen(be, path));
	t_eq(0, vhostctl_vu_backend_start(be));
	return be;
}

static struct vhostctl_vu_backend_stats stats(struct vhostctl_vu_backend *be)
{
	struct vhostctl_vu_backend_stats st;

	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	return st;
}

/* Size, base, addresses, call, kick (an fd each, or none) and enable. */
static void ring_up(struct vhostctl_dev *dev, unsigned int i, struct drv_q *q, bool nofd)
{
	struct vhostctl_vring_addr a = {
		.index = i, .desc = q->desc_gpa, .avail = q->avail_gpa, .used = q->used_gpa,
	};

	t_eq(0, vhostctl_dev_set_vring_num(dev, i, q->num));
	t_eq(0, vhostctl_dev_set_vring_base(dev, i, 0));
	t_eq(0, vhostctl_dev_set_vring_addr(dev, &a));
	t_eq(0, vhostctl_dev_set_vring_call(dev, i, nofd ? -1 : q->call));
	t_eq(0, vhostctl_dev_set_vring_kick(dev, i, nofd ? -1 : q->kick));
	t_eq(0, vhostctl_dev_set_vring_enable(dev, i, 1));
}

/* Frame @seq: its payload bytes, after the 12-byte header. */
static void frame(uint8_t *p, unsigned long seq)
{
	for (unsigned int k = 0; k < PAYLOAD; k++)
		p[k] = (uint8_t)(seq * 7 + k * 13);
}

static void check_frame(const uint8_t *b, uint32_t len, unsigned long seq)
{
	uint8_t want[PAYLOAD];

	frame(want, seq);
	if (len != HDR + PAYLOAD || memcmp(b + HDR, want, PAYLOAD))
		t_fail("frame %lu came back as %u bytes, payload %s", seq, len,
		       len == HDR + PAYLOAD ? "different" : "-");
}

/* ---- in-band notifications --------------------------------------------- */

static void inband(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .queues = 2,
			   .protocol_features = PF(INBAND_NOTIFICATIONS) | PF(BACKEND_REQ) |
						PF(REPLY_ACK));
	struct vhostctl_vu_backend *be = net_backend();
	struct vhostctl_mem *mem = vhostctl_mem_new();
	unsigned long sent = 0, received = 0, kicks = 0, packets = 300;
	struct drv_q rx, tx;
	struct vhostctl_dev *dev;
	unsigned int base;
	uint64_t pf, f;
	int chan;

	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	t_eq(0, drv_q_init(&rx, mem, NUM, false, 2048));
	t_eq(0, drv_q_init(&tx, mem, NUM, false, 2048));
	dev = vhostctl_vu_open(path, &o);
	t_true(dev);
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_eq(PF(INBAND_NOTIFICATIONS) | PF(BACKEND_REQ) | PF(REPLY_ACK), pf);
	chan = vhostctl_vu_backend_channel_fd(dev);
	t_true(chan >= 0);
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_get_features(dev, &f));
	t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1 | F_MAC));
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
	ring_up(dev, 0, &rx, true);
	ring_up(dev, 1, &tx, true);
	for (uint16_t i = 0; i < NUM; i++)
		drv_add(&rx, i, 2048, true);
	t_eq(0, vhostctl_vu_kick(dev, 0));
	kicks++;
	while (received < packets) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		uint16_t id;
		uint32_t len;
		bool rx_back = false;

		if (sent < packets && sent - received < NUM / 2) {
			while (sent < packets && sent - received < NUM / 2) {
				uint8_t *b = drv_buf(&tx, (uint16_t)(sent % NUM));

				memset(b, 0, HDR);
				frame(b + HDR, sent);
				drv_add(&tx, (uint16_t)(sent % NUM), HDR + PAYLOAD, false);
				sent++;
			}
			t_eq(0, vhostctl_vu_kick(dev, 1));
			kicks++;
		}
		/* Nothing comes back without a VRING_CALL: wait on the channel alone. */
		if (poll(&p, 1, 10000) != 1)
			t_fail("no VRING_CALL for 10 s after %lu frames", received);
		t_true(vhostctl_vu_serve_backend(dev) >= 1);
		while (drv_used(&tx, &id, &len))
			;
		while (drv_used(&rx, &id, &len)) {
			check_frame(drv_buf(&rx, id), len, received);
			received++;
			drv_add(&rx, id, 2048, true);
			rx_back = true;
		}
		if (rx_back) {
			t_eq(0, vhostctl_vu_kick(dev, 0));
			kicks++;
		}
	}
	/* Replies come in order: the backend has handled every kick. */
	t_eq(0, vhostctl_dev_get_vring_base(dev, 1, &base));
	t_eq((uint16_t)sent, base);
	t_eq(0, vhostctl_dev_get_vring_base(dev, 0, &base));
	t_eq(kicks, stats(be).kicks);
	t_eq(0, stats(be).protocol_errors);
	t_true(vhostctl_vu_inband_calls(dev, 0) >= 1);
	t_true(vhostctl_vu_inband_calls(dev, 1) >= 1);
	t_true(vhostctl_vu_inband_calls(dev, 0) <= (int)packets);
	printf("in-band: %lu frames back byte-exact, %lu VRING_KICK, VRING_CALL rx %d tx %d\n",
	       received, kicks, vhostctl_vu_inband_calls(dev, 0), vhostctl_vu_inband_calls(dev, 1));
	vhostctl_dev_close(dev);
	vhostctl_vu_backend_free(be);
	drv_q_fini(&rx);
	drv_q_fini(&tx);
	vhostctl_mem_free(mem);
}

/* Named without REPLY_ACK, INBAND_NOTIFICATIONS is not negotiated (the spec forbids it). */
static void inband_needs_ack(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .queues = 2,
			   .protocol_features = PF(INBAND_NOTIFICATIONS) | PF(BACKEND_REQ));
	struct vhostctl_vu_backend *be = net_backend();
	struct vhostctl_dev *dev = vhostctl_vu_open(path, &o);
	uint64_t pf;

	t_true(dev);
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_eq(PF(BACKEND_REQ), pf);
	t_eq(-EOPNOTSUPP, vhostctl_vu_kick(dev, 0));
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, stats(be).protocol_errors);
	vhostctl_dev_close(dev);
	vhostctl_vu_backend_free(be);
}

/* ---- big-endian legacy rings ------------------------------------------- */

/* The big-endian driver: a descriptor, of flags (1 next, 2 write, 4 indirect). */
static void be_put(struct drv_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = htobe64(addr);
	d->len = htobe32(len);
	d->flags = htobe16(flags);
	d->next = htobe16(next);
}

/* Descriptor @d of q over buffer @buf, chained to @next when @chain. */
static void be_desc(struct drv_q *q, uint16_t d, uint16_t buf, uint32_t len, bool write,
		    bool chain, uint16_t next)
{
	be_put(&q->desc[d], q->bufs_gpa + (uint64_t)buf * q->bsz, len,
	       (write ? 2 : 0) | (chain ? 1 : 0), next);
}

static void be_avail(struct drv_q *q, uint16_t head)
{
	q->avail[2 + (q->next_avail & (q->num - 1))] = htobe16(head);
	q->next_avail++;
	__atomic_store_n(&q->avail[1], htobe16(q->next_avail), __ATOMIC_RELEASE);
}

static int be_used(struct drv_q *q, uint16_t *id, uint32_t *len)
{
	uint16_t idx = be16toh(__atomic_load_n(&q->used[1], __ATOMIC_ACQUIRE));
	uint32_t *e;

	if (idx == q->last_used)
		return 0;
	e = (uint32_t *)(q->used + 2) + 2 * (q->last_used & (q->num - 1));
	*id = (uint16_t)be32toh(e[0]);
	*len = be32toh(e[1]);
	q->last_used++;
	return 1;
}

/* Wait for a call; with event-idx, ask for one at the next used entry (big-endian). */
static void be_wait(struct drv_q *q, bool event_idx, unsigned long got)
{
	struct pollfd p = { .fd = q->call, .events = POLLIN };
	uint64_t v;

	if (event_idx) {
		__atomic_store_n(&q->avail[2 + q->num], htobe16(q->last_used), __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (be16toh(__atomic_load_n(&q->used[1], __ATOMIC_ACQUIRE)) != q->last_used)
			return;
	}
	if (poll(&p, 1, 10000) != 1)
		t_fail("big-endian: no call for 10 s after %lu frames", got);
	t_eq(8, read(q->call, &v, 8));
}

/*
 * How TX frames go out: chains of two descriptors, or an indirect table of
 * two; or the driver breaks a rule: no SET_VRING_ENDIAN, or a chain that
 * loops on itself.
 */
enum be_mode { BE_CHAIN, BE_INDIRECT, BE_NO_ENDIAN, BE_LOOP };

static void big_endian(bool event_idx, enum be_mode mode)
{
	bool set_endian = mode != BE_NO_ENDIAN;
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .queues = 2,
			   .protocol_features = PF(CROSS_ENDIAN) | PF(REPLY_ACK));
	struct vhostctl_vu_backend *be = net_backend();
	struct vhostctl_mem *mem = vhostctl_mem_new();
	unsigned long sent = 0, received = 0, packets = 500;
	uint64_t feat = F_MAC | (event_idx ? VU_F_EVENT_IDX : 0) |
			(mode == BE_INDIRECT ? VU_F_INDIRECT : 0);
	struct drv_desc *itab;
	uint64_t itab_gpa;
	struct drv_q rx, tx;
	struct vhostctl_dev *dev;
	unsigned int base;

	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	t_eq(0, drv_q_init(&rx, mem, NUM, false, 2048));
	t_eq(0, drv_q_init(&tx, mem, NUM, false, 2048));
	itab = vhostctl_mem_alloc(mem, 2 * sizeof(*itab) * NUM, 16, &itab_gpa);
	t_true(itab);
	dev = vhostctl_vu_open(path, &o);
	t_true(dev);
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_features(dev, feat));
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
	if (set_endian) {
		t_eq(0, vhostctl_vu_set_vring_endian(dev, 0, 1));
		t_eq(0, vhostctl_vu_set_vring_endian(dev, 1, 1));
	}
	ring_up(dev, 0, &rx, false);
	ring_up(dev, 1, &tx, false);
	for (uint16_t i = 0; i < NUM; i++) {
		be_desc(&rx, i, i, 2048, true, false, 0);
		be_avail(&rx, i);
	}
	drv_kick(&rx);
	if (mode == BE_NO_ENDIAN || mode == BE_LOOP) {
		/*
		 * Read as little-endian, TX avail index 0x0100 is past the ring;
		 * a descriptor chained to itself is a loop: broken, cut off.
		 */
		memset(drv_buf(&tx, 0), 0, HDR + PAYLOAD);
		be_desc(&tx, 0, 0, HDR + PAYLOAD, false, mode == BE_LOOP, 0);
		be_avail(&tx, 0);
		drv_kick(&tx);
		for (int i = 0; i < 300 && !stats(be).protocol_errors; i++)
			usleep(10000);
		t_eq(1, stats(be).protocol_errors);
		if (!strstr(stats(be).last_error, "vring 1: broken ring"))
			t_fail("%s", stats(be).last_error);
		printf("big-endian driver, %s: %s\n",
		       mode == BE_LOOP ? "a looping chain" : "no SET_VRING_ENDIAN",
		       stats(be).last_error);
		goto out;
	}
	while (received < packets) {
		uint16_t id;
		uint32_t len;
		bool rx_back = false;

		/* TX: each frame header then payload, chained or in an indirect table. */
		if (sent - received < NUM / 4 && sent < packets) {
			while (sent - received < NUM / 4 && sent < packets) {
				uint16_t d = (uint16_t)(2 * (sent % (NUM / 2)));

				memset(drv_buf(&tx, d), 0, HDR);
				frame(drv_buf(&tx, d + 1), sent);
				if (mode == BE_INDIRECT) {
					uint64_t g = tx.bufs_gpa + (uint64_t)d * tx.bsz;

					be_put(&itab[d], g, HDR, 1, 1);
					be_put(&itab[d + 1], g + tx.bsz, PAYLOAD, 0, 0);
					be_put(&tx.desc[d], itab_gpa + d * sizeof(*itab),
					       2 * sizeof(*itab), 4, 0);
				} else {
					be_desc(&tx, d, d, HDR, false, true, d + 1);
					be_desc(&tx, d + 1, d + 1, PAYLOAD, false, false, 0);
				}
				be_avail(&tx, d);
				sent++;
			}
			drv_kick(&tx);
		}
		while (be_used(&tx, &id, &len))
			t_true(id % 2 == 0 && len == 0);
		while (be_used(&rx, &id, &len)) {
			t_true(id < NUM);
			check_frame(drv_buf(&rx, id), len, received);
			received++;
			be_avail(&rx, id);
			rx_back = true;
		}
		if (rx_back)
			drv_kick(&rx);
		else
			be_wait(&rx, event_idx, received);
	}
	t_eq(0, vhostctl_dev_get_vring_base(dev, 1, &base));
	t_eq((uint16_t)sent, base);
	t_eq(0, vhostctl_dev_get_vring_base(dev, 0, &base));
	t_eq((uint16_t)received, base);
	/* The used index is the device's, in the ring's order. */
	t_eq(received, be16toh(rx.used[1]));
	t_eq(0, stats(be).protocol_errors);
	printf("big-endian legacy rings, TX %s, event-idx %s: %lu frames back byte-exact\n",
	       mode == BE_INDIRECT ? "indirect" : "chains", event_idx ? "on" : "off", received);
out:
	vhostctl_dev_close(dev);
	vhostctl_vu_backend_free(be);
	drv_q_fini(&rx);
	drv_q_fini(&tx);
	vhostctl_mem_free(mem);
}

/* ---- refusals ------------------------------------------------------------ */

/* A raw session: owner, features, protocol features. */
static int session(uint64_t features, uint64_t proto)
{
	int fd = raw_connect_path(path);

	features |= 1ull << 30;
	t_true(raw_sendmsg(fd, 3, 1, NULL, 0, NULL, 0));
	t_true(raw_sendmsg(fd, 2, 1, &features, 8, NULL, 0));
	t_true(raw_sendmsg(fd, 16, 1, &proto, 8, NULL, 0));
	return fd;
}

/* Send a request with NEED_REPLY: its u64 reply (0 ok, else refused). */
static uint64_t ask(int fd, uint32_t req, uint32_t index, uint32_t num)
{
	uint32_t st[2] = { index, num }, h[3];
	uint64_t v = ~0ull;

	t_true(raw_sendmsg(fd, req, 1 | 8, st, 8, NULL, 0));
	t_eq(8, raw_recvmsg(fd, h, &v, 8, 5000, NULL));
	t_eq(req, h[0]);
	return v;
}

/* The connection ends, the backend says why. */
static void cut(struct vhostctl_vu_backend *be, int fd, uint64_t *ncut, const char *expect)
{
	uint32_t h[3];
	char p[64];
	int r;

	while ((r = raw_recvmsg(fd, h, p, sizeof(p), 5000, NULL)) >= 0)
		;
	t_eq(-1, r);
	close(fd);
	for (int i = 0; i < 200 && stats(be).protocol_errors == *ncut; i++)
		usleep(10000);
	t_eq(++*ncut, stats(be).protocol_errors);
	if (!strstr(stats(be).last_error, expect))
		t_fail("'%s' lacks '%s'", stats(be).last_error, expect);
	printf("cut off: %s\n", stats(be).last_error);
}

static void refusals(void)
{
	struct vhostctl_vu_backend *be = net_backend();
	uint64_t ncut = 0, mem[5] = { 1, 0, 1 << 20, 0x10000000, 0 }, k = 0;
	struct { uint32_t index, flags; uint64_t desc, used, avail, log; } a = {
		0, 0, 0x10000000, 0x10001000, 0x10002000, 0 };
	uint32_t num[2] = { 0, 16 };
	int fd, memfd, kfd;

	/* Gates: without the feature negotiated, each request ends the connection. */
	fd = session(0, PF(REPLY_ACK));
	t_true(raw_sendmsg(fd, 35, 1, num, 8, NULL, 0));
	cut(be, fd, &ncut, "VRING_KICK without protocol feature INBAND_NOTIFICATIONS");
	fd = session(0, PF(REPLY_ACK));
	t_true(raw_sendmsg(fd, 23, 1, num, 8, NULL, 0));
	cut(be, fd, &ncut, "SET_VRING_ENDIAN without protocol feature CROSS_ENDIAN");
	fd = session(0, PF(INBAND_NOTIFICATIONS) | PF(BACKEND_REQ));
	cut(be, fd, &ncut, "INBAND_NOTIFICATIONS without BACKEND_REQ and REPLY_ACK");

	/* A ring past the queue count, a short payload: the connection ends too. */
	for (int req = 23; req <= 35; req += 12) {
		uint32_t past[2] = { 2, 1 };
		uint64_t pf = PF(REPLY_ACK) | PF(BACKEND_REQ) |
			      (req == 23 ? PF(CROSS_ENDIAN) : PF(INBAND_NOTIFICATIONS));

		fd = session(0, pf);
		t_true(raw_sendmsg(fd, (uint32_t)req, 1, past, 8, NULL, 0));
		cut(be, fd, &ncut, "vring 2 of 2");
		fd = session(0, pf);
		t_true(raw_sendmsg(fd, (uint32_t)req, 1, past, 4, NULL, 0));
		cut(be, fd, &ncut, "payload of 4 bytes, expected 8");
	}

	/* SET_VRING_ENDIAN: a bad value, a VERSION_1 device; refused, the connection kept. */
	fd = session(VU_F_VERSION_1, PF(REPLY_ACK) | PF(CROSS_ENDIAN));
	t_eq(1, ask(fd, 23, 0, 1));
	close(fd);
	fd = session(0, PF(REPLY_ACK) | PF(CROSS_ENDIAN) | PF(INBAND_NOTIFICATIONS) |
			 PF(BACKEND_REQ));
	t_eq(1, ask(fd, 23, 0, 2));
	t_eq(0, ask(fd, 23, 0, 1));
	t_eq(0, ask(fd, 23, 0, 0));
	/* A running ring: refused; VRING_KICK on a ring with a kick fd or stopped: refused. */
	memfd = memfd_create("vu_be_optin", MFD_CLOEXEC);
	kfd = eventfd(0, EFD_CLOEXEC);
	t_true(memfd >= 0 && kfd >= 0 && !ftruncate(memfd, 1 << 20));
	t_eq(1, ask(fd, 35, 0, 0));		/* stopped */
	t_true(raw_sendmsg(fd, 5, 1, mem, sizeof(mem), &memfd, 1));
	t_true(raw_sendmsg(fd, 8, 1, num, 8, NULL, 0));
	t_true(raw_sendmsg(fd, 9, 1, &a, sizeof(a), NULL, 0));
	t_true(raw_sendmsg(fd, 12, 1, &k, 8, &kfd, 1));
	t_eq(1, ask(fd, 23, 0, 1));		/* running */
	t_eq(1, ask(fd, 35, 0, 0));		/* has a kick fd */
	t_eq(0, ask(fd, 23, 1, 1));		/* ring 1 stopped: accepted */
	close(fd);
	close(memfd);
	close(kfd);
	t_eq(ncut, stats(be).protocol_errors);
	vhostctl_vu_backend_free(be);
}

int main(void)
{
	int fds = t_count_fds();

	snprintf(path, sizeof(path), "/tmp/vu_be_optin.%d.sock", getpid());
	inband();
	inband_needs_ack();
	big_endian(true, BE_CHAIN);
	big_endian(false, BE_CHAIN);
	big_endian(true, BE_INDIRECT);
	big_endian(false, BE_NO_ENDIAN);
	big_endian(false, BE_LOOP);
	refusals();
	t_eq(fds, t_count_fds());
	return 0;
}
