// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a hypervisor does with a vhostctl_sim device through libvhostctl
 * alone, on split rings (the library's driver-side queue is split only):
 *
 * - net, 4 queue pairs: the control virtqueue driven from userspace with its
 *   group moved to address space 1, where only its ring and buffers are
 *   mapped (the data queues stay in space 0); MAC_ADDR_SET and
 *   MQ_VQ_PAIRS_SET through it, checked by the ack byte, the config space,
 *   the vdpa netlink config and frames to the new MAC;
 * - the per-queue vendor counters (vhostctl_vdpa_dev_vstats) equal to the
 *   frames sent and received;
 * - traffic on every one of 4 pairs, each frame back on its own pair;
 * - block: a pattern written to sectors reads back, a read past the
 *   capacity ends in VIRTIO_BLK_S_IOERR;
 * - a device deleted while a handle holds it: vhost_vdpa's remove waits
 *   for the file's release, so the delete blocks until the handle closes.
 */
#include <endian.h>
#include <pthread.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_net.h>

/* the harness compares int literals with unsigned values */
#pragma GCC diagnostic ignored "-Wsign-compare"
/* and its fixture wrapper keeps a pid across setjmp */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "vdpa_sim_helpers.h"

#define PAIRS		4
#define NQ		(2 * PAIRS)	/* data queues; the CVQ is index NQ */
#define QSIZE		64
#define HDR		12		/* virtio_net_hdr_v1 */
#define RXLEN		(HDR + 1514)
#define MEM_GPA		0x100000ull
#define MEM_SIZE	(4ull << 20)
/* The CVQ's memory: an IOVA range address space 0 does not map. */
#define CVQ_GPA		0x40000000ull
#define CVQ_SIZE	(256ull << 10)
#define CVQ_ASID	1

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40

#define F(bit)		(1ULL << (bit))
#define NET_FEATURES	(F(VS_F_VERSION_1) | F(VS_F_ACCESS_PLATFORM) | F(VS_NET_F_MAC) | \
			 F(VS_NET_F_STATUS) | F(VS_NET_F_CTRL_VQ) | F(VS_NET_F_MQ) |	  \
			 F(VS_NET_F_CTRL_MAC_ADDR))

static const uint8_t mac0[6] = { 0x02, 0x00, 0x00, 0x5e, 0x10, 0x01 };

FIXTURE(lnet)
{
	struct vhostctl_vdpa *nl;
	char name[32];
	char node[96];
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;	/* data queues, address space 0 */
	struct vhostctl_mem *cmem;	/* the CVQ, address space CVQ_ASID */
	struct vhostctl_vq *vq[NQ + 1];
	uint64_t features;
	uint8_t *rx[PAIRS], *tx[PAIRS];	/* one buffer of each per pair */
	uint64_t rx_gpa[PAIRS], tx_gpa[PAIRS];
	uint8_t *cbuf;			/* CVQ command: class, cmd, data, ack */
	uint64_t cbuf_gpa;
};

FIXTURE_SETUP(lnet)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o,
			   .set = VHOSTCTL_VDPA_ADD_MAC | VHOSTCTL_VDPA_ADD_MAX_VQP,
			   .max_vq_pairs = PAIRS);
	char dir[256], node[64];

	memcpy(o.mac, mac0, 6);
	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	vs_unique_name(self->name, sizeof(self->name), "ln");
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, "vhostctl_sim_net", &o))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, vs_bind(self->name, "vhost_vdpa"));
	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", self->name);
	ASSERT_EQ(0, vs_wait_find(dir, "vhost-vdpa-", node, sizeof(node), 2000));
	snprintf(self->node, sizeof(self->node), "/dev/%s", node);
	self->dev = vhostctl_dev_open(self->node, NULL);
	ASSERT_NE(NULL, self->dev) TH_LOG("open %s: %s", self->node, strerror(errno));
	self->mem = vhostctl_mem_new();
	self->cmem = vhostctl_mem_new();
	ASSERT_NE(NULL, self->mem);
	ASSERT_NE(NULL, self->cmem);
	ASSERT_LE(0, vhostctl_mem_add_region(self->mem, MEM_GPA, MEM_SIZE, 0));
	ASSERT_LE(0, vhostctl_mem_add_region(self->cmem, CVQ_GPA, CVQ_SIZE, 0));
}

FIXTURE_TEARDOWN(lnet)
{
	for (unsigned int i = 0; i <= NQ; i++)
		vhostctl_vq_free(self->vq[i]);
	/* vhost_vdpa's remove waits for the file's release: close it first */
	vhostctl_dev_close(self->dev);
	vhostctl_mem_free(self->mem);
	vhostctl_mem_free(self->cmem);
	if (self->name[0])
		vhostctl_vdpa_dev_del(self->nl, self->name);
	vhostctl_vdpa_close(self->nl);
}

/* One queue: allocated in mem, attached, enabled. */
static int add_queue(FIXTURE_DATA(lnet) *self, struct vhostctl_mem *mem, unsigned int i)
{
	self->vq[i] = vhostctl_vq_new(mem, i, QSIZE, self->features, NULL);
	if (!self->vq[i])
		return -errno;
	if (vhostctl_vq_attach(self->vq[i], self->dev, 0))
		return -errno;
	return vhostctl_dev_set_vring_enable(self->dev, i, 1);
}

/*
 * The virtio status walk by hand, as vhostctl_dev_setup() cannot do it: the
 * CVQ's group goes to its own address space between FEATURES_OK (the CVQ
 * index depends on MQ) and DRIVER_OK, with only the CVQ's memory mapped
 * there.  Returns 0 or a negative step number.
 */
static int net_start(FIXTURE_DATA(lnet) *self)
{
	uint64_t offered = 0;
	uint32_t group = ~0u;
	uint8_t status = 0;
	void *hva;

	if (vhostctl_dev_set_owner(self->dev) ||
	    vhostctl_dev_get_features(self->dev, &offered) ||
	    (offered & NET_FEATURES) != NET_FEATURES)
		return -1;
	self->features = NET_FEATURES;
	if (vhostctl_dev_reset(self->dev) ||
	    vhostctl_dev_set_status(self->dev, S_ACK | S_DRIVER) ||
	    vhostctl_dev_set_features(self->dev, self->features) ||
	    vhostctl_dev_set_status(self->dev, S_ACK | S_DRIVER | S_FEATURES_OK) ||
	    vhostctl_dev_get_status(self->dev, &status) || !(status & S_FEATURES_OK))
		return -2;
	/* data queues and their rings in address space 0, IOVA = GPA */
	if (vhostctl_dev_set_mem_table(self->dev, self->mem))
		return -3;
	/* the CVQ (index 2 * max pairs with MQ) is alone in group 1 */
	if (vhostctl_dev_vdpa_vring_group(self->dev, NQ, &group) || group != 1 ||
	    vhostctl_dev_vdpa_set_group_asid(self->dev, group, CVQ_ASID))
		return -4;
	hva = vhostctl_mem_gpa_to_hva(self->cmem, CVQ_GPA, CVQ_SIZE);
	if (!hva || vhostctl_dev_vdpa_iotlb_update(self->dev, CVQ_ASID, CVQ_GPA, CVQ_SIZE, hva,
						   VHOSTCTL_VDPA_ACCESS_RW))
		return -5;
	for (unsigned int i = 0; i < NQ; i++)
		if (add_queue(self, self->mem, i))
			return -6;
	if (add_queue(self, self->cmem, NQ))
		return -7;
	if (vhostctl_dev_set_status(self->dev, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		return -8;
	for (unsigned int p = 0; p < PAIRS; p++) {
		self->rx[p] = vhostctl_mem_alloc(self->mem, RXLEN, 64, &self->rx_gpa[p]);
		self->tx[p] = vhostctl_mem_alloc(self->mem, RXLEN, 64, &self->tx_gpa[p]);
		if (!self->rx[p] || !self->tx[p])
			return -9;
	}
	self->cbuf = vhostctl_mem_alloc(self->cmem, 64, 64, &self->cbuf_gpa);
	return self->cbuf ? 0 : -10;
}

/* One CVQ command; returns the device's ack byte, or -1 when none came. */
static int cvq_cmd(FIXTURE_DATA(lnet) *self, uint8_t class, uint8_t cmd, const void *data,
		   uint32_t len)
{
	struct vhostctl_vq *cvq = self->vq[NQ];
	struct vhostctl_vq_buf b[3] = {
		{ self->cbuf_gpa, 2 },
		{ self->cbuf_gpa + 16, len },
		{ self->cbuf_gpa + 32, 1 },
	};
	uint32_t used = 0;
	void *tok = NULL;

	self->cbuf[0] = class;
	self->cbuf[1] = cmd;
	memcpy(self->cbuf + 16, data, len);
	self->cbuf[32] = 0xee;
	if (vhostctl_vq_add(cvq, b, 2, 1, self->cbuf, 0) || vhostctl_vq_kick(cvq) < 0 ||
	    vhostctl_vq_wait(cvq, 5000) || vhostctl_vq_get_used(cvq, &used, &tok) != 1 ||
	    tok != self->cbuf || used != 1)
		return -1;
	return self->cbuf[32];
}

static int set_pairs(FIXTURE_DATA(lnet) *self, uint16_t n)
{
	uint16_t le = htole16(n);

	return cvq_cmd(self, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &le, 2);
}

/* Fills pair p's TX buffer with a frame to dst; returns its length with the header. */
static uint32_t frame(FIXTURE_DATA(lnet) *self, unsigned int p, const uint8_t *dst,
		      unsigned int payload, uint8_t fill)
{
	uint8_t *f = self->tx[p];

	memset(f, 0, HDR);
	memcpy(f + HDR, dst, 6);
	memcpy(f + HDR + 6, mac0, 6);
	f[HDR + 12] = 0x88;
	f[HDR + 13] = 0xb5;
	memset(f + HDR + 14, fill, payload);
	return HDR + 14 + payload;
}

/* Posts an RX buffer on pair p and sends its TX frame of len bytes. */
static int post(FIXTURE_DATA(lnet) *self, unsigned int p, uint32_t len)
{
	struct vhostctl_vq_buf rx = { self->rx_gpa[p], RXLEN }, tx = { self->tx_gpa[p], len };
	struct vhostctl_vq *rq = self->vq[2 * p], *tq = self->vq[2 * p + 1];

	memset(self->rx[p], 0, RXLEN);
	if (vhostctl_vq_add(rq, &rx, 0, 1, self->rx[p], 0) || vhostctl_vq_kick(rq) < 0 ||
	    vhostctl_vq_add(tq, &tx, 1, 0, self->tx[p], 0) || vhostctl_vq_kick(tq) < 0)
		return -1;
	return 0;
}

/* The TX chain of pair p completes; returns 0 or -1. */
static int tx_done(FIXTURE_DATA(lnet) *self, unsigned int p)
{
	void *tok = NULL;

	if (vhostctl_vq_wait(self->vq[2 * p + 1], 5000) ||
	    vhostctl_vq_get_used(self->vq[2 * p + 1], NULL, &tok) != 1)
		return -1;
	return tok == self->tx[p] ? 0 : -1;
}

/* What RX of pair p got within ms: its length, or -1 when nothing came. */
static int64_t rx_len(FIXTURE_DATA(lnet) *self, unsigned int p, int ms)
{
	uint32_t len = 0;
	void *tok = NULL;

	if (vhostctl_vq_wait(self->vq[2 * p], ms) ||
	    vhostctl_vq_get_used(self->vq[2 * p], &len, &tok) != 1 || tok != self->rx[p])
		return -1;
	return len;
}

/* One frame on pair p to dst comes back on pair p, byte for byte. */
static void loop_frame(struct __test_metadata *_metadata, FIXTURE_DATA(lnet) *self,
		       unsigned int p, const uint8_t *dst, unsigned int payload, uint8_t fill)
{
	uint32_t len = frame(self, p, dst, payload, fill);

	ASSERT_EQ(0, post(self, p, len));
	ASSERT_EQ(0, tx_done(self, p));
	ASSERT_EQ(len, rx_len(self, p, 5000)) TH_LOG("pair %u: frame of %u not back", p, len);
	EXPECT_EQ(0, memcmp(self->rx[p] + HDR, self->tx[p] + HDR, len - HDR));
}

/* The frame is filtered out: TX completes, RX stays empty. */
static void dropped_frame(struct __test_metadata *_metadata, FIXTURE_DATA(lnet) *self,
			  unsigned int p, const uint8_t *dst)
{
	ASSERT_EQ(0, post(self, p, frame(self, p, dst, 60, 0x77)));
	ASSERT_EQ(0, tx_done(self, p));
	EXPECT_EQ(-1, rx_len(self, p, 300));
}

static uint64_t qstat(struct __test_metadata *_metadata, FIXTURE_DATA(lnet) *self,
		     uint32_t q, const char *name)
{
	uint64_t v = ~0ULL;

	EXPECT_EQ(0, vs_vstat(self->nl, self->name, q, name, &v))
		TH_LOG("vstats q%u %s: %s", q, name, vhostctl_vdpa_error(self->nl));
	return v;
}

TEST_F(lnet, cvq_asid_mac_and_pairs)
{
	const uint8_t newmac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);
	uint32_t group = ~0u;
	uint8_t cfg[10];

	ASSERT_EQ(0, net_start(self)) TH_LOG("net_start failed");
	/* data queues and their rings stayed in groups 0 and 2, address space 0 */
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_group(self->dev, 0, &group));
	EXPECT_EQ(0, group);
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_desc_group(self->dev, NQ - 1, &group));
	EXPECT_EQ(2, group);
	ASSERT_EQ(0, vhostctl_dev_get_config(self->dev, 0, cfg, sizeof(cfg)));
	EXPECT_EQ(0, memcmp(cfg, mac0, 6));
	EXPECT_EQ(PAIRS, cfg[8] | cfg[9] << 8);
	loop_frame(_metadata, self, 0, mac0, 100, 0x10);

	EXPECT_EQ(VIRTIO_NET_OK, cvq_cmd(self, VIRTIO_NET_CTRL_MAC,
					 VIRTIO_NET_CTRL_MAC_ADDR_SET, newmac, 6));
	ASSERT_EQ(0, vhostctl_dev_get_config(self->dev, 0, cfg, 6));
	EXPECT_EQ(0, memcmp(cfg, newmac, 6));
	ASSERT_EQ(0, vhostctl_vdpa_dev_config(self->nl, self->name, &c));
	ASSERT_TRUE(c.present & VHOSTCTL_VDPA_CFG_MAC);
	EXPECT_EQ(0, memcmp(c.mac, newmac, 6));
	ASSERT_TRUE(c.present & VHOSTCTL_VDPA_CFG_NEGOTIATED);
	EXPECT_EQ(NET_FEATURES, c.negotiated_features);

	EXPECT_EQ(VIRTIO_NET_OK, set_pairs(self, PAIRS));
	/* refused: one pair too many, zero pairs, a multicast MAC, an unknown class */
	EXPECT_EQ(VIRTIO_NET_ERR, set_pairs(self, PAIRS + 1));
	EXPECT_EQ(VIRTIO_NET_ERR, set_pairs(self, 0));
	EXPECT_EQ(VIRTIO_NET_ERR, cvq_cmd(self, VIRTIO_NET_CTRL_MAC,
					  VIRTIO_NET_CTRL_MAC_ADDR_SET, mcast, 6));
	EXPECT_EQ(VIRTIO_NET_ERR, cvq_cmd(self, 0x7f, 0, "", 1));
	ASSERT_EQ(0, vhostctl_dev_get_config(self->dev, 0, cfg, 6));
	EXPECT_EQ(0, memcmp(cfg, newmac, 6));

	/* the filter follows: the new MAC loops back on the last pair, the old one not */
	loop_frame(_metadata, self, PAIRS - 1, newmac, 200, 0x20);
	loop_frame(_metadata, self, 0, newmac, 300, 0x30);
	dropped_frame(_metadata, self, 0, mac0);
	EXPECT_EQ(0, vhostctl_dev_get_status(self->dev, cfg));
	EXPECT_EQ(0, cfg[0] & S_NEEDS_RESET);

	EXPECT_EQ(6, qstat(_metadata, self, NQ, "cvq requests"));
	EXPECT_EQ(2, qstat(_metadata, self, NQ, "cvq successes"));
	EXPECT_EQ(4, qstat(_metadata, self, NQ, "cvq errors"));
}

/* Without a mapping in the CVQ's address space the device cannot reach it. */
TEST_F(lnet, cvq_asid_unmapped)
{
	uint8_t status = 0;

	ASSERT_EQ(0, net_start(self));
	ASSERT_EQ(VIRTIO_NET_OK, set_pairs(self, 2));
	ASSERT_EQ(0, vhostctl_dev_vdpa_iotlb_invalidate(self->dev, CVQ_ASID, CVQ_GPA, CVQ_SIZE));
	EXPECT_EQ(-1, set_pairs(self, 3));
	ASSERT_EQ(0, vhostctl_dev_get_status(self->dev, &status));
	EXPECT_EQ(S_NEEDS_RESET, status & S_NEEDS_RESET);
}

struct count_ctx {
	unsigned int n;
};

static int count_cb(void *ctx, const char *name, uint64_t value)
{
	(void)name;
	(void)value;
	((struct count_ctx *)ctx)->n++;
	return 0;
}

TEST_F(lnet, vstats)
{
	static const unsigned int sent[PAIRS] = { 5, 3, 0, 1 };
	uint64_t bytes[PAIRS] = { 0 };
	struct count_ctx cc = { 0 };

	/* nothing to report before the driver negotiated features */
	EXPECT_EQ(-EAGAIN, vhostctl_vdpa_dev_vstats(self->nl, self->name, 0, count_cb, &cc));
	ASSERT_EQ(0, net_start(self));
	ASSERT_EQ(VIRTIO_NET_OK, set_pairs(self, PAIRS));
	for (unsigned int p = 0; p < PAIRS; p++) {
		for (unsigned int i = 0; i < sent[p]; i++) {
			unsigned int payload = 46 + 100 * i + p;

			loop_frame(_metadata, self, p, mac0, payload, (uint8_t)(p << 4 | i));
			bytes[p] += 14 + payload;
		}
	}
	/* frames to another address: counted sent, dropped on receive */
	dropped_frame(_metadata, self, 1, (const uint8_t[6]){ 2, 9, 9, 9, 9, 9 });
	dropped_frame(_metadata, self, 1, (const uint8_t[6]){ 2, 9, 9, 9, 9, 8 });

	for (unsigned int p = 0; p < PAIRS; p++) {
		unsigned int drops = p == 1 ? 2 : 0;

		EXPECT_EQ(sent[p], qstat(_metadata, self, 2 * p, "rx packets")) TH_LOG("pair %u", p);
		EXPECT_EQ(bytes[p], qstat(_metadata, self, 2 * p, "rx bytes"));
		EXPECT_EQ(drops, qstat(_metadata, self, 2 * p, "rx drops"));
		EXPECT_EQ(0, qstat(_metadata, self, 2 * p, "rx errors"));
		EXPECT_EQ(sent[p] + drops, qstat(_metadata, self, 2 * p + 1, "tx packets"));
		EXPECT_EQ(bytes[p] + drops * 74, qstat(_metadata, self, 2 * p + 1, "tx bytes"));
		EXPECT_EQ(0, qstat(_metadata, self, 2 * p + 1, "tx drops"));
		EXPECT_EQ(0, qstat(_metadata, self, 2 * p + 1, "tx errors"));
	}
	/* four counters a data queue, three for the CVQ */
	cc.n = 0;
	EXPECT_EQ(4, vhostctl_vdpa_dev_vstats(self->nl, self->name, 1, count_cb, &cc));
	EXPECT_EQ(4, cc.n);
	cc.n = 0;
	EXPECT_EQ(3, vhostctl_vdpa_dev_vstats(self->nl, self->name, NQ, count_cb, &cc));
	EXPECT_EQ(1, qstat(_metadata, self, NQ, "cvq successes"));
}

TEST_F(lnet, multiqueue)
{
	uint32_t len[PAIRS];

	ASSERT_EQ(0, net_start(self));
	/* before MQ_VQ_PAIRS_SET only pair 0 carries traffic */
	loop_frame(_metadata, self, 0, mac0, 64, 0x01);
	dropped_frame(_metadata, self, PAIRS - 1, mac0);
	ASSERT_EQ(VIRTIO_NET_OK, set_pairs(self, PAIRS));
	/* the buffer posted above on the last pair is still there: reap it */
	loop_frame(_metadata, self, PAIRS - 1, mac0, 64, 0x02);
	for (unsigned int round = 0; round < 8; round++) {
		/* a frame in flight on every pair at once, each with its own bytes */
		for (unsigned int p = 0; p < PAIRS; p++) {
			len[p] = frame(self, p, mac0, 60 + 37 * p + round, (uint8_t)(round << 4 | p));
			ASSERT_EQ(0, post(self, p, len[p]));
		}
		for (unsigned int p = 0; p < PAIRS; p++) {
			ASSERT_EQ(0, tx_done(self, p));
			ASSERT_EQ(len[p], rx_len(self, p, 5000)) TH_LOG("round %u pair %u", round, p);
			EXPECT_EQ(0, memcmp(self->rx[p] + HDR, self->tx[p] + HDR, len[p] - HDR));
		}
	}
	/* pairs 0 and 3 carried one frame more than the rounds */
	for (unsigned int p = 0; p < PAIRS; p++) {
		unsigned int want = p == 0 || p == PAIRS - 1 ? 9 : 8;

		EXPECT_EQ(want, qstat(_metadata, self, 2 * p, "rx packets")) TH_LOG("pair %u", p);
	}
	/* back to one pair: the others drop again */
	ASSERT_EQ(VIRTIO_NET_OK, set_pairs(self, 1));
	dropped_frame(_metadata, self, 2, mac0);
	loop_frame(_metadata, self, 0, mac0, 64, 0x03);
}

struct del_arg {
	struct vhostctl_vdpa *nl;
	const char *name;
	int ret;
	volatile bool done;
};

static void *del_thread(void *p)
{
	struct del_arg *a = p;

	a->ret = vhostctl_vdpa_dev_del(a->nl, a->name);
	a->done = true;
	return NULL;
}

/*
 * vhost_vdpa's remove takes the node away, then waits until the last file
 * on it is released: the delete blocks while our handle is open, the
 * device keeps working for us meanwhile, and the delete completes when
 * the handle closes.
 */
TEST_F(lnet, delete_while_open)
{
	struct del_arg a = { .name = self->name };
	struct vhostctl_dev *again;
	pthread_t t;
	int i;

	ASSERT_EQ(0, net_start(self));
	loop_frame(_metadata, self, 0, mac0, 100, 0x41);
	/* a session of its own: the pending delete holds the vdpa lock */
	a.nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, a.nl);
	ASSERT_EQ(0, pthread_create(&t, NULL, del_thread, &a));
	usleep(300000);
	EXPECT_FALSE(a.done) TH_LOG("delete did not wait for the open handle");
	loop_frame(_metadata, self, 0, mac0, 200, 0x42);

	for (i = 0; i <= NQ; i++) {
		vhostctl_vq_free(self->vq[i]);
		self->vq[i] = NULL;
	}
	vhostctl_dev_close(self->dev);
	self->dev = NULL;
	for (i = 0; i < 5000 && !a.done; i++)
		usleep(1000);
	ASSERT_TRUE(a.done) TH_LOG("delete still blocked after the handle closed");
	pthread_join(t, NULL);
	vhostctl_vdpa_close(a.nl);
	EXPECT_EQ(0, a.ret) TH_LOG("dev del: %s", strerror(-a.ret));

	/* gone: from the management side and from the node */
	EXPECT_EQ(-ENODEV, vhostctl_vdpa_dev_del(self->nl, self->name));
	EXPECT_EQ(-ENODEV, vhostctl_vdpa_dev_list(self->nl, self->name, NULL, NULL));
	again = vhostctl_dev_open(self->node, NULL);
	EXPECT_EQ(NULL, again);
	EXPECT_TRUE(errno == ENOENT || errno == ENODEV) TH_LOG("open: %s", strerror(errno));
	vhostctl_dev_close(again);
	self->name[0] = 0;
}

/* Block: the RAM disk through vhost-vdpa and vhostctl_dev_setup(). */
FIXTURE(lblk)
{
	struct vhostctl_vdpa *nl;
	char name[32];
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq;
	bool running;
	uint8_t *req;		/* header, then status at +16 */
	uint64_t req_gpa;
	uint8_t *data;
	uint64_t data_gpa;
};

#define BLK_DATA	(64u << 10)

FIXTURE_SETUP(lblk)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, so, .nqueues = 1, .queue_size = QSIZE,
			   .features = F(VS_F_VERSION_1), .required = F(VS_F_VERSION_1));
	char dir[256], node[64], path[96];

	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	vs_unique_name(self->name, sizeof(self->name), "lb");
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, "vhostctl_sim_blk", NULL))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, vs_bind(self->name, "vhost_vdpa"));
	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", self->name);
	ASSERT_EQ(0, vs_wait_find(dir, "vhost-vdpa-", node, sizeof(node), 2000));
	snprintf(path, sizeof(path), "/dev/%s", node);
	self->dev = vhostctl_dev_open(path, NULL);
	ASSERT_NE(NULL, self->dev) TH_LOG("open %s: %s", path, strerror(errno));
	self->mem = vhostctl_mem_new();
	ASSERT_NE(NULL, self->mem);
	ASSERT_LE(0, vhostctl_mem_add_region(self->mem, MEM_GPA, MEM_SIZE, 0));
	ASSERT_EQ(0, vhostctl_dev_setup(self->dev, self->mem, &self->vq, &so, NULL))
		TH_LOG("setup failed at %s", vhostctl_dev_setup_step(self->dev));
	self->running = true;
	self->req = vhostctl_mem_alloc(self->mem, 64, 64, &self->req_gpa);
	self->data = vhostctl_mem_alloc(self->mem, 2 * BLK_DATA, 4096, &self->data_gpa);
	ASSERT_NE(NULL, self->req);
	ASSERT_NE(NULL, self->data);
}

FIXTURE_TEARDOWN(lblk)
{
	if (self->running)
		EXPECT_EQ(0, vhostctl_dev_teardown(self->dev, &self->vq, 1));
	vhostctl_dev_close(self->dev);
	vhostctl_mem_free(self->mem);
	vhostctl_vdpa_dev_del(self->nl, self->name);
	vhostctl_vdpa_close(self->nl);
}

/*
 * One request on len bytes at data + off; returns the status byte, or -1
 * when the request did not complete.
 */
static int blk_req(FIXTURE_DATA(lblk) *self, uint32_t type, uint64_t sector, uint32_t off,
		   uint32_t len)
{
	struct virtio_blk_outhdr *h = (void *)self->req;
	struct vhostctl_vq_buf b[3];
	bool in = type == VIRTIO_BLK_T_IN;
	uint32_t used = 0;
	void *tok = NULL;

	h->type = htole32(type);
	h->ioprio = 0;
	h->sector = htole64(sector);
	self->req[16] = 0xee;
	b[0] = (struct vhostctl_vq_buf){ self->req_gpa, sizeof(*h) };
	b[1] = (struct vhostctl_vq_buf){ self->data_gpa + off, len };
	b[2] = (struct vhostctl_vq_buf){ self->req_gpa + 16, 1 };
	if (in ? vhostctl_vq_add(self->vq, b, 1, 2, h, 0) :
		 vhostctl_vq_add(self->vq, b, 2, 1, h, 0))
		return -1;
	if (vhostctl_vq_kick(self->vq) < 0 || vhostctl_vq_wait(self->vq, 5000) ||
	    vhostctl_vq_get_used(self->vq, &used, &tok) != 1 || tok != h)
		return -1;
	return self->req[16];
}

TEST_F(lblk, write_read_beyond)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);
	uint8_t *w = self->data, *r = self->data + BLK_DATA;
	uint64_t cap = 0;
	unsigned int i;

	ASSERT_EQ(0, vhostctl_dev_get_config(self->dev, 0, &cap, 8));
	cap = le64toh(cap);
	ASSERT_EQ(0, vhostctl_vdpa_dev_config(self->nl, self->name, &c));
	ASSERT_TRUE(c.present & VHOSTCTL_VDPA_CFG_CAPACITY);
	EXPECT_EQ(cap, c.capacity);
	ASSERT_LT(BLK_DATA / 512, cap);

	for (i = 0; i < BLK_DATA; i++)
		w[i] = (uint8_t)(i * 13 + i / 512 + 5);
	/* 128 sectors from sector 40, then the last 8 sectors of the disk */
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req(self, VIRTIO_BLK_T_OUT, 40, 0, BLK_DATA));
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req(self, VIRTIO_BLK_T_OUT, cap - 8, 0, 4096));
	memset(r, 0, BLK_DATA);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req(self, VIRTIO_BLK_T_IN, 40, BLK_DATA, BLK_DATA));
	EXPECT_EQ(0, memcmp(w, r, BLK_DATA));
	/* a read across sectors written in one request: offset 3 sectors in */
	memset(r, 0, 4096);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req(self, VIRTIO_BLK_T_IN, 43, BLK_DATA, 4096));
	EXPECT_EQ(0, memcmp(w + 3 * 512, r, 4096));
	memset(r, 0, 4096);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req(self, VIRTIO_BLK_T_IN, cap - 8, BLK_DATA, 4096));
	EXPECT_EQ(0, memcmp(w, r, 4096));
	/* sectors next to them were never written */
	memset(r, 0xff, 512);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req(self, VIRTIO_BLK_T_IN, 39, BLK_DATA, 512));
	for (i = 0; i < 512 && !r[i]; i++)
		;
	EXPECT_EQ(512, i);

	/* past the end, and across it: IOERR, and the buffer untouched */
	memset(r, 0x5a, 4096);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req(self, VIRTIO_BLK_T_IN, cap, BLK_DATA, 512));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req(self, VIRTIO_BLK_T_IN, cap - 4, BLK_DATA, 4096));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req(self, VIRTIO_BLK_T_OUT, cap - 1, 0, 1024));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req(self, VIRTIO_BLK_T_IN, ~0ULL >> 9, BLK_DATA, 512));
	for (i = 0; i < 4096 && r[i] == 0x5a; i++)
		;
	EXPECT_EQ(4096, i);
	/* the refused write left the last sectors as they were */
	memset(r, 0, 4096);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req(self, VIRTIO_BLK_T_IN, cap - 8, BLK_DATA, 4096));
	EXPECT_EQ(0, memcmp(w, r, 4096));
}

TEST_HARNESS_MAIN
