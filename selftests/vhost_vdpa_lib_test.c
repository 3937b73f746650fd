// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-vdpa through libvhostctl only, as a hypervisor control plane uses
 * it: create a net device on vhostctl_sim with the library's netlink calls,
 * open its /dev/vhost-vdpa-N with vhostctl_dev_open(), read what only vDPA
 * has, set it up with vhostctl_dev_setup() on memfd guest memory (mapped
 * through the IOTLB) and pass frames through the device's TX->RX loopback
 * with the library's driver-side virtqueues, byte for byte, on split and on
 * packed rings (chains of one and of two buffers, the ring wrapping).  Then the ways
 * it must fail: bad vring index, calls before the owner, a ring outside the
 * IOVA range, vDPA-only calls on a vhost-net handle.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

/* the harness compares int literals with unsigned values */
#pragma GCC diagnostic ignored "-Wsign-compare"
/* and its fixture wrapper keeps a pid across setjmp */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define MEM_GPA		0x100000ull
#define MEM_SIZE	(4ull << 20)
#define QSIZE		64
#define NFRAMES		16
#define HDR		12	/* virtio-net header with VERSION_1 */
#define RXLEN		(HDR + 1514)

#define F_VERSION_1	(1ULL << 32)
#define F_ACCESS_PLATFORM (1ULL << 33)
#define F_RING_PACKED	(1ULL << 34)
#define NET_F_MAC	(1ULL << 5)

#define BF_MSG_V2	(1ULL << 1)
#define BF_BATCH	(1ULL << 2)
#define BF_PERSIST	(1ULL << 8)

#define ST_ACK		1
#define ST_DRIVER	2
#define ST_DRIVER_OK	4
#define ST_FEATURES_OK	8

/* Where vhost_vdpa put the device's node: /sys/bus/vdpa/devices/NAME/vhost-vdpa-N. */
static int find_node(const char *name, char *path, size_t len)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", name);
	for (int ms = 0; ms < 3000; ms += 10) {
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			if (!strncmp(e->d_name, "vhost-vdpa-", 11)) {
				snprintf(path, len, "/dev/%s", e->d_name);
				closedir(d);
				return 0;
			}
		}
		if (d)
			closedir(d);
		usleep(10000);
	}
	return -ENOENT;
}

FIXTURE(vdpa)
{
	struct vhostctl_vdpa *nl;
	char name[32];
	char node[300];	/* /dev/ and a directory entry */
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq[2];
	bool running;
	uint64_t features;
	uint8_t mac[6];
};

FIXTURE_SETUP(vdpa)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o,
			   .set = VHOSTCTL_VDPA_ADD_MAC,
			   .mac = { 0x02, 0x00, 0x00, 0x5e, 0x00, 0x01 });
	static unsigned int seq;

	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	snprintf(self->name, sizeof(self->name), "vl%d_%u", (int)getpid() % 100000, seq++);
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, "vhostctl_sim_net", &o))
		TH_LOG("dev add: %s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, find_node(self->name, self->node, sizeof(self->node)))
		TH_LOG("%s is not bound to vhost_vdpa", self->name);
	self->dev = vhostctl_dev_open(self->node, NULL);
	ASSERT_NE(NULL, self->dev) TH_LOG("open %s: %s", self->node, strerror(errno));
	ASSERT_EQ(VHOSTCTL_TRANSPORT_VDPA, vhostctl_dev_transport(self->dev));
	self->mem = vhostctl_mem_new();
	ASSERT_NE(NULL, self->mem);
	ASSERT_LE(0, vhostctl_mem_add_region(self->mem, MEM_GPA, MEM_SIZE, 0));
}

FIXTURE_TEARDOWN(vdpa)
{
	if (self->running)
		EXPECT_EQ(0, vhostctl_dev_teardown(self->dev, self->vq, 2))
			TH_LOG("teardown failed at %s", vhostctl_dev_setup_step(self->dev));
	vhostctl_dev_close(self->dev);
	vhostctl_mem_free(self->mem);
	if (self->nl) {
		vhostctl_vdpa_dev_del(self->nl, self->name);
		vhostctl_vdpa_close(self->nl);
	}
}

static int net_setup_f(FIXTURE_DATA(vdpa) *self, uint64_t required)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = QSIZE,
			   .features = F_VERSION_1 | NET_F_MAC | required,
			   .required = F_VERSION_1 | required);
	int r = vhostctl_dev_setup(self->dev, self->mem, self->vq, &o, &self->features);

	if (r)
		return r;
	self->running = true;
	return vhostctl_dev_get_config(self->dev, 0, self->mac, 6);
}

static int net_setup(FIXTURE_DATA(vdpa) *self)
{
	return net_setup_f(self, 0);
}

/*
 * One frame to our own MAC on TX comes back on RX; checks every byte.
 * @split: the header and the frame in two descriptors, on both queues.
 */
static void loop_frame2(struct __test_metadata *_metadata, FIXTURE_DATA(vdpa) *self,
			unsigned int payload, uint8_t fill, bool split)
{
	struct vhostctl_vq_buf rx[2], tx[2];
	uint8_t *rxp, *txp;
	unsigned int flen = 14 + payload;
	uint32_t len = 0;
	void *tok = NULL;

	rxp = vhostctl_mem_alloc(self->mem, RXLEN, 64, &rx[0].gpa);
	txp = vhostctl_mem_alloc(self->mem, HDR + flen, 64, &tx[0].gpa);
	ASSERT_NE(NULL, rxp);
	ASSERT_NE(NULL, txp);
	rx[0].len = RXLEN;
	tx[0].len = HDR + flen;
	if (split) {
		rx[1] = (struct vhostctl_vq_buf){ rx[0].gpa + HDR, RXLEN - HDR };
		rx[0].len = HDR;
		tx[1] = (struct vhostctl_vq_buf){ tx[0].gpa + HDR, flen };
		tx[0].len = HDR;
	}
	memset(rxp, 0, RXLEN);
	memset(txp, 0, HDR);
	memcpy(txp + HDR, self->mac, 6);
	memcpy(txp + HDR + 6, self->mac, 6);
	txp[HDR + 12] = 0x88;
	txp[HDR + 13] = 0xb5;
	for (unsigned int i = 0; i < payload; i++)
		txp[HDR + 14 + i] = (uint8_t)(fill + i * 3);

	ASSERT_EQ(0, vhostctl_vq_add(self->vq[VHOSTCTL_NET_RX], rx, 0, split ? 2 : 1, rxp, 0));
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_RX]));
	ASSERT_EQ(0, vhostctl_vq_add(self->vq[VHOSTCTL_NET_TX], tx, split ? 2 : 1, 0, txp, 0));
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_TX]));

	ASSERT_EQ(0, vhostctl_vq_wait(self->vq[VHOSTCTL_NET_RX], 5000));
	ASSERT_EQ(1, vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_RX], &len, &tok));
	EXPECT_EQ(rxp, tok);
	ASSERT_EQ(HDR + flen, len);
	ASSERT_EQ(0, memcmp(rxp + HDR, txp + HDR, flen));
	ASSERT_EQ(0, vhostctl_vq_wait(self->vq[VHOSTCTL_NET_TX], 5000));
	ASSERT_EQ(1, vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_TX], &len, &tok));
	EXPECT_EQ(txp, tok);
	EXPECT_EQ(0, len);
}

/* One frame to our own MAC on TX comes back on RX; checks every byte. */
static void loop_frame(struct __test_metadata *_metadata, FIXTURE_DATA(vdpa) *self,
		       unsigned int payload, uint8_t fill)
{
	struct vhostctl_vq_buf rx, tx;
	uint8_t *rxp, *txp;
	unsigned int flen = 14 + payload;
	uint32_t len = 0;
	void *tok = NULL;

	rxp = vhostctl_mem_alloc(self->mem, RXLEN, 64, &rx.gpa);
	txp = vhostctl_mem_alloc(self->mem, HDR + flen, 64, &tx.gpa);
	ASSERT_NE(NULL, rxp);
	ASSERT_NE(NULL, txp);
	rx.len = RXLEN;
	tx.len = HDR + flen;
	memset(txp, 0, HDR);
	memcpy(txp + HDR, self->mac, 6);
	memcpy(txp + HDR + 6, self->mac, 6);
	txp[HDR + 12] = 0x88;
	txp[HDR + 13] = 0xb5;
	memset(txp + HDR + 14, fill, payload);

	ASSERT_EQ(0, vhostctl_vq_add(self->vq[VHOSTCTL_NET_RX], &rx, 0, 1, rxp, 0));
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_RX]));
	ASSERT_EQ(0, vhostctl_vq_add(self->vq[VHOSTCTL_NET_TX], &tx, 1, 0, txp, 0));
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_TX]));

	ASSERT_EQ(0, vhostctl_vq_wait(self->vq[VHOSTCTL_NET_RX], 5000));
	ASSERT_EQ(1, vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_RX], &len, &tok));
	EXPECT_EQ(rxp, tok);
	ASSERT_EQ(HDR + flen, len);
	EXPECT_EQ(0, memcmp(rxp + HDR, txp + HDR, flen));
	ASSERT_EQ(0, vhostctl_vq_wait(self->vq[VHOSTCTL_NET_TX], 5000));
	ASSERT_EQ(1, vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_TX], NULL, &tok));
	EXPECT_EQ(txp, tok);
}

TEST_F(vdpa, traffic)
{
	uint8_t status = 0;
	unsigned int base;

	ASSERT_EQ(0, net_setup(self)) TH_LOG("setup failed at %s",
					     vhostctl_dev_setup_step(self->dev));
	EXPECT_TRUE(self->features & F_ACCESS_PLATFORM);
	EXPECT_FALSE(self->features & F_RING_PACKED);
	ASSERT_EQ(0, vhostctl_dev_get_status(self->dev, &status));
	EXPECT_EQ(ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK, status);
	EXPECT_EQ(0x02, self->mac[0]);
	EXPECT_EQ(0x01, self->mac[5]);
	for (unsigned int i = 0; i < NFRAMES; i++)
		loop_frame(_metadata, self, 46 + i * 90, (uint8_t)(0xa0 + i));
	/* The device moved on by as many chains as we gave it. */
	ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev, VHOSTCTL_NET_TX, &base));
	EXPECT_EQ(NFRAMES, base);
	ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev, VHOSTCTL_NET_RX, &base));
	EXPECT_EQ(NFRAMES, base);
}

/*
 * The same loopback on packed rings: 100 frames of one buffer each way,
 * then 100 of two (header, frame), so each ring of 64 takes 300 slots and
 * wraps four times.  The device reports where it is: slot 300 mod 64 = 44
 * with the wrap counter back at 1.
 */
TEST_F(vdpa, packed_traffic)
{
	struct vhostctl_vq_stats st;
	unsigned int base, want;
	uint8_t status = 0;

	ASSERT_EQ(0, net_setup_f(self, F_RING_PACKED)) TH_LOG("setup failed at %s",
							      vhostctl_dev_setup_step(self->dev));
	ASSERT_TRUE(self->features & F_RING_PACKED);
	ASSERT_EQ(0, vhostctl_dev_get_status(self->dev, &status));
	EXPECT_EQ(ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK, status);
	for (unsigned int i = 0; i < 100; i++)
		loop_frame2(_metadata, self, 46 + (i * 97) % 1400, (uint8_t)i, false);
	for (unsigned int i = 0; i < 100; i++)
		loop_frame2(_metadata, self, 46 + (i * 89) % 1400, (uint8_t)(i + 7), true);
	want = (44 | 0x8000u) | (44 | 0x8000u) << 16;
	ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev, VHOSTCTL_NET_TX, &base));
	EXPECT_EQ(want, base) TH_LOG("TX base 0x%x", base);
	ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev, VHOSTCTL_NET_RX, &base));
	EXPECT_EQ(want, base) TH_LOG("RX base 0x%x", base);
	ASSERT_EQ(0, vhostctl_vq_get_stats(self->vq[VHOSTCTL_NET_TX], &st));
	EXPECT_EQ(200, st.added);
	EXPECT_EQ(200, st.used);
	EXPECT_EQ(QSIZE, vhostctl_vq_num_free(self->vq[VHOSTCTL_NET_TX]));
	EXPECT_EQ(QSIZE, vhostctl_vq_num_free(self->vq[VHOSTCTL_NET_RX]));
}

/* Eight frames in flight at once on packed rings, one kick each way. */
TEST_F(vdpa, packed_burst)
{
	struct vhostctl_vq_buf b;
	uint8_t *rxp[8], *txp[8];
	unsigned int got = 0, done = 0;
	uint32_t len;
	void *tok;

	ASSERT_EQ(0, net_setup_f(self, F_RING_PACKED));
	for (unsigned int i = 0; i < 8; i++) {
		rxp[i] = vhostctl_mem_alloc(self->mem, RXLEN, 64, &b.gpa);
		ASSERT_NE(NULL, rxp[i]);
		b.len = RXLEN;
		ASSERT_EQ(0, vhostctl_vq_add(self->vq[VHOSTCTL_NET_RX], &b, 0, 1, rxp[i], 0));
	}
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_RX]));
	for (unsigned int i = 0; i < 8; i++) {
		unsigned int flen = 60 + i * 150;

		txp[i] = vhostctl_mem_alloc(self->mem, HDR + flen, 64, &b.gpa);
		ASSERT_NE(NULL, txp[i]);
		b.len = HDR + flen;
		memset(txp[i], 0, HDR);
		memcpy(txp[i] + HDR, self->mac, 6);
		memcpy(txp[i] + HDR + 6, self->mac, 6);
		txp[i][HDR + 12] = 0x88;
		txp[i][HDR + 13] = 0xb5;
		memset(txp[i] + HDR + 14, 0x50 + i, flen - 14);
		ASSERT_EQ(0, vhostctl_vq_add(self->vq[VHOSTCTL_NET_TX], &b, 1, 0, txp[i], 0));
	}
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_TX]));
	for (int ms = 0; (got < 8 || done < 8) && ms < 5000; ms += 10) {
		while (vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_RX], &len, &tok) == 1) {
			/* In order of sending: the loopback keeps order. */
			ASSERT_EQ(rxp[got], tok);
			ASSERT_EQ(HDR + 60 + got * 150, len);
			ASSERT_EQ(0, memcmp(rxp[got] + HDR, txp[got] + HDR, len - HDR));
			got++;
		}
		while (vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_TX], NULL, &tok) == 1)
			ASSERT_EQ(txp[done++], tok);
		if (got < 8 || done < 8)
			vhostctl_vq_wait(self->vq[VHOSTCTL_NET_RX], 10);
	}
	EXPECT_EQ(8, got);
	EXPECT_EQ(8, done);
}

/* Suspend stops the loop, resume replays the kick; a reset and a new set-up work. */
TEST_F(vdpa, suspend_resume_reset)
{
	ASSERT_EQ(0, net_setup(self));
	loop_frame(_metadata, self, 100, 0x11);
	ASSERT_EQ(0, vhostctl_dev_vdpa_suspend(self->dev));
	ASSERT_EQ(0, vhostctl_dev_vdpa_resume(self->dev));
	loop_frame(_metadata, self, 200, 0x22);
	ASSERT_EQ(0, vhostctl_dev_teardown(self->dev, self->vq, 2));
	self->running = false;
	vhostctl_dev_close(self->dev);
	self->dev = vhostctl_dev_open(self->node, NULL);
	ASSERT_NE(NULL, self->dev);
	ASSERT_EQ(0, net_setup(self)) TH_LOG("second setup failed at %s",
					     vhostctl_dev_setup_step(self->dev));
	loop_frame(_metadata, self, 300, 0x33);
}

/* Every vDPA-only query, against what vhostctl_sim's net class gives. */
TEST_F(vdpa, vdpa_calls)
{
	struct vhostctl_vdpa_iova_range rg;
	uint64_t bf = 0, acked = 0;
	uint32_t v = 0;
	uint16_t n = 0;
	uint8_t buf[4096];
	int efd;
	void *db;

	ASSERT_EQ(0, vhostctl_dev_vdpa_device_id(self->dev, &v));
	EXPECT_EQ(1, v);
	ASSERT_EQ(0, vhostctl_dev_vdpa_vq_count(self->dev, &v));
	EXPECT_EQ(3, v);		/* one pair and the control queue */
	ASSERT_EQ(0, vhostctl_dev_vdpa_group_count(self->dev, &v));
	EXPECT_EQ(3, v);		/* data, control queue, data rings */
	ASSERT_EQ(0, vhostctl_dev_vdpa_asid_count(self->dev, &v));
	EXPECT_EQ(3, v);
	ASSERT_EQ(0, vhostctl_dev_vdpa_config_size(self->dev, &v));
	EXPECT_EQ(24, v);		/* struct virtio_net_config of 6.12 */
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_num_max(self->dev, &n));
	EXPECT_EQ(256, n);
	ASSERT_EQ(0, vhostctl_dev_vdpa_iova_range(self->dev, &rg));
	EXPECT_EQ(0, rg.first);
	EXPECT_EQ(~0ULL, rg.last);
	ASSERT_EQ(0, vhostctl_dev_get_backend_features(self->dev, &bf));
	EXPECT_EQ(BF_MSG_V2 | BF_BATCH | BF_PERSIST, bf & (BF_MSG_V2 | BF_BATCH | BF_PERSIST));

	/* The owner first: the per-vring queries need it. */
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_size(self->dev, 0, &n));
	EXPECT_EQ(256, n);
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_group(self->dev, 0, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_group(self->dev, 2, &v));
	EXPECT_EQ(1, v);
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_desc_group(self->dev, 0, &v));
	EXPECT_EQ(2, v);

	/* The control queue's group in address space 1, with a mapping of its own. */
	ASSERT_EQ(0, vhostctl_dev_vdpa_set_group_asid(self->dev, 1, 1));
	ASSERT_EQ(0, vhostctl_dev_vdpa_iotlb_update(self->dev, 1, 0x40000000, sizeof(buf),
			vhostctl_mem_alloc(self->mem, sizeof(buf), 4096, NULL),
			VHOSTCTL_VDPA_ACCESS_RW));
	/* The same range again overlaps: the kernel says EFAULT. */
	EXPECT_EQ(-EFAULT, vhostctl_dev_vdpa_iotlb_update(self->dev, 1, 0x40000000, sizeof(buf),
			vhostctl_mem_alloc(self->mem, sizeof(buf), 4096, NULL),
			VHOSTCTL_VDPA_ACCESS_RO));
	EXPECT_EQ(0, vhostctl_dev_vdpa_iotlb_invalidate(self->dev, 1, 0x40000000, sizeof(buf)));
	EXPECT_EQ(-EINVAL, vhostctl_dev_vdpa_set_group_asid(self->dev, 1, 3));
	ASSERT_EQ(0, vhostctl_dev_vdpa_set_group_asid(self->dev, 1, 0));

	/* The memory table twice, grown: only the new region is mapped. */
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->mem));
	ASSERT_LE(0, vhostctl_mem_add_region(self->mem, 0x10000000, 1 << 20, 0));
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->mem));
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->mem));

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	EXPECT_EQ(0, vhostctl_dev_vdpa_set_config_call(self->dev, efd));
	EXPECT_EQ(0, vhostctl_dev_vdpa_set_config_call(self->dev, -1));
	close(efd);
	EXPECT_EQ(0, vhostctl_dev_vdpa_suspend(self->dev));
	EXPECT_EQ(0, vhostctl_dev_vdpa_resume(self->dev));

	/* A doorbell page where the device gives one, a clear error where not. */
	db = vhostctl_dev_vdpa_map_doorbell(self->dev, 0);
	if (db) {
		EXPECT_EQ(0, vhostctl_dev_vdpa_unmap_doorbell(self->dev, db));
	} else {
		EXPECT_EQ(EOPNOTSUPP, errno);
	}
	(void)acked;
}

TEST_F(vdpa, packed_vring_base)
{
	/* avail index 5 and used index 3, both wrap counters set */
	unsigned int base = (5u | 0x8000u) | (3u | 0x8000u) << 16, got = 0;
	uint64_t f = 0;

	ASSERT_EQ(0, vhostctl_dev_get_features(self->dev, &f));
	ASSERT_TRUE(f & F_RING_PACKED);
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_set_status(self->dev, ST_ACK | ST_DRIVER));
	ASSERT_EQ(0, vhostctl_dev_set_features(self->dev,
					       F_VERSION_1 | F_ACCESS_PLATFORM | F_RING_PACKED));
	ASSERT_EQ(0, vhostctl_dev_set_status(self->dev, ST_ACK | ST_DRIVER | ST_FEATURES_OK));
	ASSERT_EQ(0, vhostctl_dev_set_vring_num(self->dev, 0, QSIZE));
	ASSERT_EQ(0, vhostctl_dev_set_vring_base(self->dev, 0, base));
	ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev, 0, &got));
	EXPECT_EQ(base, got);
	ASSERT_EQ(0, vhostctl_dev_reset(self->dev));
}

TEST_F(vdpa, bad_vring_index)
{
	uint32_t v;

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_num(self->dev, 99, QSIZE));
	EXPECT_EQ(ENOBUFS, errno);
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_enable(self->dev, 3, 1));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_vdpa_vring_group(self->dev, 99, &v));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_vdpa_set_group_asid(self->dev, 99, 0));
	EXPECT_EQ(NULL, vhostctl_dev_vdpa_map_doorbell(self->dev, 99));
	EXPECT_EQ(ENOBUFS, errno);
}

TEST_F(vdpa, before_owner)
{
	uint32_t v;
	uint16_t n;

	EXPECT_EQ(-EPERM, vhostctl_dev_set_vring_num(self->dev, 0, QSIZE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-EPERM, vhostctl_dev_vdpa_vring_group(self->dev, 0, &v));
	EXPECT_EQ(-EPERM, vhostctl_dev_vdpa_vring_size(self->dev, 0, &n));
	/* Device facts need no owner. */
	EXPECT_EQ(0, vhostctl_dev_vdpa_device_id(self->dev, &v));
}

TEST_F(vdpa, ring_outside_iova_range)
{
	struct vhostctl_vring_addr a = { .index = 0 };

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->mem));
	ASSERT_EQ(0, vhostctl_dev_set_vring_num(self->dev, 0, QSIZE));
	/* The window ends at 2^64 - 1: a ring that would run past it. */
	a.desc = ~0ULL - 15;
	a.avail = MEM_GPA;
	a.used = MEM_GPA + 4096;
	EXPECT_EQ(-ERANGE, vhostctl_dev_set_vring_addr(self->dev, &a));
	EXPECT_EQ(ERANGE, errno);
	a.desc = MEM_GPA + 8192;
	a.used = ~0ULL;
	EXPECT_EQ(-ERANGE, vhostctl_dev_set_vring_addr(self->dev, &a));
	a.used = MEM_GPA + 4096;
	EXPECT_EQ(0, vhostctl_dev_set_vring_addr(self->dev, &a));
	/* vhost-vdpa keeps no dirty log. */
	a.flags = VHOSTCTL_VRING_F_LOG;
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_vring_addr(self->dev, &a));
}

/* Private memory would be skipped by the kernel without a word: refused here. */
TEST_F(vdpa, private_memory)
{
	struct vhostctl_mem *priv = vhostctl_mem_new();

	ASSERT_NE(NULL, priv);
	ASSERT_LE(0, vhostctl_mem_add_region(priv, 0, 1 << 20, VHOSTCTL_MEM_F_PRIVATE));
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_mem_table(self->dev, priv));
	vhostctl_mem_free(priv);
}

/* The documentation's example, built beside this program, on our device. */
TEST_F(vdpa, example_vdpa_net)
{
	char self_path[512], cmd[1200];
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	int status;

	ASSERT_LT(0, n);
	self_path[n] = 0;
	*strrchr(self_path, '/') = 0;
	/* The example opens the node itself: vhost-vdpa has one opener. */
	vhostctl_dev_close(self->dev);
	self->dev = NULL;
	snprintf(cmd, sizeof(cmd), "%s/examples/vdpa_net %s 16", self_path, self->node);
	status = system(cmd);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("%s failed", cmd);
}

TEST(vhost_net_handle)
{
	struct vhostctl_vdpa_iova_range rg;
	struct vhostctl_dev *dev = vhostctl_dev_open("/dev/vhost-net", NULL);
	uint32_t v;

	ASSERT_NE(NULL, dev) TH_LOG("open /dev/vhost-net: %s", strerror(errno));
	EXPECT_EQ(VHOSTCTL_TRANSPORT_KERNEL, vhostctl_dev_transport(dev));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_vdpa_device_id(dev, &v));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_vdpa_iova_range(dev, &rg));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_vdpa_suspend(dev));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_vdpa_set_group_asid(dev, 0, 0));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_vdpa_iotlb_invalidate(dev, 0, 0, 4096));
	EXPECT_EQ(NULL, vhostctl_dev_vdpa_map_doorbell(dev, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	vhostctl_dev_close(dev);
}

TEST_HARNESS_MAIN
