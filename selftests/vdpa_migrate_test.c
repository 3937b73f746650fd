// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live migration of a vDPA net device with libvhostctl's state helper: two
 * net devices of vhostctl_sim with the same MAC; frames loop TX->RX on the
 * first, driven from userspace with the library's driver-side queues; in
 * the middle of traffic (frames in flight, TX buffers posted after the
 * suspend) the first is saved, the second restored from the blob with the
 * same guest memory and the same driver-side rings, and traffic goes on.
 * Every frame carries a sequence number: none lost, none twice, every byte
 * intact.  Every test runs on split and on packed rings (the variant): the
 * packed one moves a running loopback with both wrap counters in play, and
 * ring state set by hand (indexes and wrap counters) is checked on the
 * second device.  Then the refusals: damaged blobs, a block device.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

/* the harness compares int literals with unsigned values */
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define MEM_GPA		0x100000ull
#define MEM_SIZE	(8ull << 20)
#define QSIZE		64
#define NRX		48	/* receive buffers kept posted: the device drops without one */
#define NTX		24
#define HDR		12
#define RXLEN		(HDR + 1514)
#define NFRAMES		400

#define F_VERSION_1	(1ULL << 32)
#define F_ACCESS_PLATFORM (1ULL << 33)
#define F_RING_PACKED	(1ULL << 34)
#define NET_F_MAC	(1ULL << 5)

#define ST_ACK		1
#define ST_DRIVER	2
#define ST_DRIVER_OK	4
#define ST_FEATURES_OK	8

static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x5e, 0x00, 0x42 };

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

FIXTURE(mig)
{
	struct vhostctl_vdpa *nl;
	char name[3][32];
	char node[3][300];
	struct vhostctl_dev *dev[3];	/* source, destination, block */
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq[2];
	int on;				/* the device the queues run on, or -1 */
	bool packed;			/* the variant: VIRTIO_F_RING_PACKED */
	uint8_t *rx[NRX], *tx[NTX];
	uint64_t rxgpa[NRX], txgpa[NTX];
	bool tx_busy[NTX];
	unsigned int sent, received, tx_done;
	uint8_t seen[NFRAMES];
};

FIXTURE_VARIANT(mig)
{
	bool packed;
};

FIXTURE_VARIANT_ADD(mig, split)
{
	.packed = false,
};

FIXTURE_VARIANT_ADD(mig, packed)
{
	.packed = true,
};

/* The library's reasons, in the TAP output. */
static void lib_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "# libvhostctl[%d]: %s\n", level, msg);
}

static int add_dev(FIXTURE_DATA(mig) *self, int i, const char *mgmt)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_dev_opts, dopts, .log = lib_log,
			   .log_level = VHOSTCTL_LOG_WARNING);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o, .set = VHOSTCTL_VDPA_ADD_MAC);
	static unsigned int seq;
	int r;

	memcpy(o.mac, mac, 6);
	snprintf(self->name[i], sizeof(self->name[i]), "mg%d_%u", (int)getpid() % 100000, seq++);
	r = vhostctl_vdpa_dev_add(self->nl, self->name[i], mgmt, strstr(mgmt, "net") ? &o : NULL);
	if (r)
		return r;
	r = find_node(self->name[i], self->node[i], sizeof(self->node[i]));
	if (r)
		return r;
	self->dev[i] = vhostctl_dev_open(self->node[i], &dopts);
	return self->dev[i] ? 0 : -errno;
}

FIXTURE_SETUP(mig)
{
	self->on = -1;
	self->packed = variant->packed;
	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	ASSERT_EQ(0, add_dev(self, 0, "vhostctl_sim_net"))
		TH_LOG("source: %s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, add_dev(self, 1, "vhostctl_sim_net"))
		TH_LOG("destination: %s", vhostctl_vdpa_error(self->nl));
	self->mem = vhostctl_mem_new();
	ASSERT_NE(NULL, self->mem);
	ASSERT_LE(0, vhostctl_mem_add_region(self->mem, MEM_GPA, MEM_SIZE, 0));
}

FIXTURE_TEARDOWN(mig)
{
	if (self->on >= 0)
		EXPECT_EQ(0, vhostctl_dev_teardown(self->dev[self->on], self->vq, 2));
	for (int i = 0; i < 3; i++)
		vhostctl_dev_close(self->dev[i]);
	vhostctl_mem_free(self->mem);
	for (int i = 0; i < 3; i++)
		if (self->name[i][0])
			vhostctl_vdpa_dev_del(self->nl, self->name[i]);
	vhostctl_vdpa_close(self->nl);
}

static unsigned int frame_len(unsigned int seq)
{
	return 60 + (seq * 37) % 1400;
}

static uint8_t frame_byte(unsigned int seq, unsigned int i)
{
	return (uint8_t)(seq * 7 + i * 13 + (i >> 8));
}

static int post_rx(FIXTURE_DATA(mig) *self, unsigned int i)
{
	struct vhostctl_vq_buf b = { .gpa = self->rxgpa[i], .len = RXLEN };

	return vhostctl_vq_add(self->vq[VHOSTCTL_NET_RX], &b, 0, 1, (void *)(uintptr_t)(i + 1), 0);
}

/* Queue frame self->sent on a free TX buffer; no kick. */
static int send_frame(FIXTURE_DATA(mig) *self)
{
	unsigned int seq = self->sent, flen = frame_len(seq), t;
	struct vhostctl_vq_buf b;
	uint8_t *p;
	int r;

	for (t = 0; t < NTX && self->tx_busy[t]; t++)
		;
	if (t == NTX)
		return -ENOSPC;
	p = self->tx[t];
	memset(p, 0, HDR);
	memcpy(p + HDR, mac, 6);
	memcpy(p + HDR + 6, mac, 6);
	p[HDR + 12] = 0x88;
	p[HDR + 13] = 0xb5;
	memcpy(p + HDR + 14, &seq, 4);
	for (unsigned int i = 18; i < flen; i++)
		p[HDR + i] = frame_byte(seq, i);
	b.gpa = self->txgpa[t];
	b.len = HDR + flen;
	r = vhostctl_vq_add(self->vq[VHOSTCTL_NET_TX], &b, 1, 0, (void *)(uintptr_t)(t + 1), 0);
	if (!r) {
		self->tx_busy[t] = true;
		self->sent++;
	}
	return r;
}

/* Reap what is used on both queues, check every frame, repost receive buffers. */
static void reap(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self)
{
	uint32_t len;
	void *tok;

	while (vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_RX], &len, &tok) == 1) {
		unsigned int i = (unsigned int)(uintptr_t)tok - 1, seq;
		const uint8_t *p = self->rx[i];

		ASSERT_LT(i, NRX);
		ASSERT_LE(HDR + 18, len);
		memcpy(&seq, p + HDR + 14, 4);
		ASSERT_LT(seq, self->sent) TH_LOG("frame with sequence %u never sent", seq);
		ASSERT_EQ(0, self->seen[seq]) TH_LOG("frame %u delivered twice", seq);
		self->seen[seq] = 1;
		ASSERT_EQ(HDR + frame_len(seq), len) TH_LOG("frame %u", seq);
		ASSERT_EQ(0, memcmp(p + HDR, mac, 6));
		for (unsigned int k = 18; k < frame_len(seq); k++) {
			ASSERT_EQ(frame_byte(seq, k), p[HDR + k]) TH_LOG("frame %u byte %u", seq, k);
		}
		self->received++;
		ASSERT_EQ(0, post_rx(self, i));
	}
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_RX]));
	while (vhostctl_vq_get_used(self->vq[VHOSTCTL_NET_TX], NULL, &tok) == 1) {
		unsigned int t = (unsigned int)(uintptr_t)tok - 1;

		ASSERT_LT(t, NTX);
		ASSERT_TRUE(self->tx_busy[t]) TH_LOG("TX buffer %u used twice", t);
		self->tx_busy[t] = false;
		self->tx_done++;
	}
}

/* Until every frame sent came back (or 10 s). */
static void drain(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self)
{
	for (int ms = 0; self->received < self->sent && ms < 10000; ms += 20) {
		reap(_metadata, self);
		if (self->received < self->sent)
			vhostctl_vq_wait(self->vq[VHOSTCTL_NET_RX], 20);
	}
	reap(_metadata, self);
	ASSERT_EQ(self->sent, self->received) TH_LOG("%u frames lost", self->sent - self->received);
	ASSERT_EQ(self->sent, self->tx_done);
}

/* Send n frames in bursts of burst, reaping as we go. */
static void traffic(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self, unsigned int n,
		    unsigned int burst)
{
	for (unsigned int k = 0; k < n;) {
		for (unsigned int j = 0; j < burst && k < n; j++, k++) {
			while (send_frame(self) == -ENOSPC) {
				vhostctl_vq_kick(self->vq[VHOSTCTL_NET_TX]);
				vhostctl_vq_wait(self->vq[VHOSTCTL_NET_TX], 20);
				reap(_metadata, self);
			}
		}
		ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_TX]));
		reap(_metadata, self);
	}
}

static void start_source(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self)
{
	uint64_t ring = self->packed ? F_RING_PACKED : 0;
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = QSIZE,
			   .features = F_VERSION_1 | NET_F_MAC | ring,
			   .required = F_VERSION_1 | ring);
	uint64_t f = 0;

	ASSERT_EQ(0, vhostctl_dev_setup(self->dev[0], self->mem, self->vq, &o, &f))
		TH_LOG("setup failed at %s", vhostctl_dev_setup_step(self->dev[0]));
	self->on = 0;
	ASSERT_EQ(ring, f & F_RING_PACKED);
	for (unsigned int i = 0; i < NRX; i++) {
		self->rx[i] = vhostctl_mem_alloc(self->mem, RXLEN, 64, &self->rxgpa[i]);
		ASSERT_NE(NULL, self->rx[i]);
		ASSERT_EQ(0, post_rx(self, i));
	}
	for (unsigned int i = 0; i < NTX; i++) {
		self->tx[i] = vhostctl_mem_alloc(self->mem, HDR + 1514, 64, &self->txgpa[i]);
		ASSERT_NE(NULL, self->tx[i]);
	}
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_RX]));
}

/* Save the source into a fresh buffer; *len gets its size. */
static uint8_t *save(struct __test_metadata *_metadata, struct vhostctl_dev *dev, int *len)
{
	uint8_t *buf;
	int n = vhostctl_vdpa_state_save(dev, NULL, 0);

	EXPECT_LT(64, n);
	if (n <= 0)
		return NULL;
	buf = malloc((size_t)n);
	EXPECT_EQ(-ENOSPC, vhostctl_vdpa_state_save(dev, buf, (size_t)n - 1));
	EXPECT_EQ(n, vhostctl_vdpa_state_save(dev, buf, (size_t)n));
	*len = n;
	return buf;
}

static void restore_opts(FIXTURE_DATA(mig) *self, struct vhostctl_vdpa_restore_opts *o,
			 int *kick, int *call)
{
	for (int i = 0; i < 2; i++) {
		kick[i] = vhostctl_vq_kick_fd(self->vq[i]);
		call[i] = vhostctl_vq_call_fd(self->vq[i]);
	}
	o->mem = self->mem;
	o->nfds = 2;
	o->kick_fds = kick;
	o->call_fds = call;
}

/* Ring state by hand on the source, idle rings: what a driver would set. */
static void state_source(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
			 unsigned int *base, int *efd)
{
	uint64_t ring = self->packed ? F_RING_PACKED : 0;
	struct vhostctl_dev *d = self->dev[0];

	ASSERT_EQ(0, vhostctl_dev_set_owner(d));
	ASSERT_EQ(0, vhostctl_dev_set_status(d, ST_ACK | ST_DRIVER));
	ASSERT_EQ(0, vhostctl_dev_set_features(d, F_VERSION_1 | F_ACCESS_PLATFORM | ring |
						   NET_F_MAC));
	ASSERT_EQ(0, vhostctl_dev_set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK));
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(d, self->mem));
	for (unsigned int i = 0; i < 2; i++) {
		struct vhostctl_vring_addr a = { .index = i };

		/* Room for either layout's rings. */
		ASSERT_NE(NULL, vhostctl_mem_alloc(self->mem, 16 * QSIZE, 4096, &a.desc));
		ASSERT_NE(NULL, vhostctl_mem_alloc(self->mem, 6 + 2 * QSIZE, 4, &a.avail));
		ASSERT_NE(NULL, vhostctl_mem_alloc(self->mem, 6 + 8 * QSIZE, 4, &a.used));
		a.log = a.used;
		if (!self->packed) {
			/* The avail index where the device starts: nothing pending. */
			uint16_t *av = vhostctl_mem_gpa_to_hva(self->mem, a.avail, 4);

			ASSERT_NE(NULL, av);
			av[1] = (uint16_t)base[i];
		}
		efd[2 * i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		efd[2 * i + 1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, efd[2 * i]);
		ASSERT_LE(0, efd[2 * i + 1]);
		ASSERT_EQ(0, vhostctl_dev_set_vring_num(d, i, QSIZE));
		ASSERT_EQ(0, vhostctl_dev_set_vring_base(d, i, base[i]));
		ASSERT_EQ(0, vhostctl_dev_set_vring_addr(d, &a));
		ASSERT_EQ(0, vhostctl_dev_set_vring_kick(d, i, efd[2 * i]));
		ASSERT_EQ(0, vhostctl_dev_set_vring_call(d, i, efd[2 * i + 1]));
		ASSERT_EQ(0, vhostctl_dev_set_vring_enable(d, i, 1));
	}
	ASSERT_EQ(0, vhostctl_dev_set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK |
						 ST_DRIVER_OK));
}

/*
 * Packed: avail 5 / used 3 with both wrap counters set, avail 60 / used 59
 * with none; split: avail indexes 5 and 60000.
 */
TEST_F(mig, ring_state_moves)
{
	unsigned int packed_base[2] = { (5u | 0x8000u) | (3u | 0x8000u) << 16, 60u | 59u << 16 };
	unsigned int split_base[2] = { 5, 60000 };
	unsigned int *base = self->packed ? packed_base : split_base;
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_restore_opts, o);
	struct vhostctl_vdpa_state_info info;
	int efd[4], kick[2], call[2], len = 0;
	unsigned int got;
	uint8_t st = 0;
	uint8_t *buf;

	state_source(_metadata, self, base, efd);
	buf = save(_metadata, self->dev[0], &len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, vhostctl_vdpa_state_check(buf, (size_t)len, &info)) {
		for (int i = 0; i < len; i += 8)
			TH_LOG("blob %3d: %02x %02x %02x %02x %02x %02x %02x %02x", i, buf[i],
			       buf[i + 1], buf[i + 2], buf[i + 3], buf[i + 4], buf[i + 5],
			       buf[i + 6], buf[i + 7]);
	}
	EXPECT_EQ(2, info.nrings);
	EXPECT_EQ(self->packed, !!(info.features & F_RING_PACKED));
	for (int i = 0; i < 2; i++) {
		kick[i] = efd[2 * i];
		call[i] = efd[2 * i + 1];
	}
	o.mem = self->mem;
	o.nfds = 2;
	o.kick_fds = kick;
	o.call_fds = call;
	ASSERT_EQ(0, vhostctl_vdpa_state_restore(self->dev[1], buf, (size_t)len, &o));
	ASSERT_EQ(0, vhostctl_dev_get_status(self->dev[1], &st));
	EXPECT_EQ(ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK, st);
	for (unsigned int i = 0; i < 2; i++) {
		got = 0;
		ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev[1], i, &got));
		EXPECT_EQ(base[i], got) TH_LOG("vring %u", i);
	}
	free(buf);
	vhostctl_dev_close(self->dev[1]);
	self->dev[1] = NULL;
	for (int i = 0; i < 4; i++)
		close(efd[i]);
}

TEST_F(mig, traffic_moves)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_restore_opts, o);
	struct vhostctl_vdpa_state_info info;
	int kick[2], call[2], len = 0;
	unsigned int base_tx;
	uint8_t st = 0;
	uint8_t *buf;

	start_source(_metadata, self);
	traffic(_metadata, self, 150, 6);
	drain(_metadata, self);
	/* In the middle of traffic: a burst kicked, suspended while it runs. */
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(0, send_frame(self));
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_TX]));
	buf = save(_metadata, self->dev[0], &len);
	ASSERT_NE(NULL, buf);
	/* Posted after the suspend: the source will never take these. */
	for (int i = 0; i < 6; i++)
		ASSERT_EQ(0, send_frame(self));
	ASSERT_LE(0, vhostctl_vq_kick(self->vq[VHOSTCTL_NET_TX]));
	reap(_metadata, self);
	TH_LOG("at the move: %u sent, %u received, %u TX completed", self->sent, self->received,
	       self->tx_done);
	ASSERT_EQ(0, vhostctl_vdpa_state_check(buf, (size_t)len, &info));
	EXPECT_EQ(1, info.device_id);
	EXPECT_EQ(2, info.nrings);
	EXPECT_EQ(24, info.config_len);
	EXPECT_TRUE(info.status & ST_DRIVER_OK);
	EXPECT_EQ(self->packed, !!(info.features & F_RING_PACKED));
	ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev[0], VHOSTCTL_NET_TX, &base_tx));
	if (self->packed) {
		/* One slot a frame: where the device would be had it taken them all. */
		unsigned int all = self->sent % QSIZE | ((self->sent / QSIZE) % 2 ? 0 : 0x8000u);

		EXPECT_NE(all, base_tx & 0xffff)
			TH_LOG("every TX buffer was taken before the move");
		EXPECT_EQ(base_tx & 0xffff, base_tx >> 16) TH_LOG("TX in flight in the device");
	} else {
		EXPECT_GT(self->sent, base_tx) TH_LOG("every TX buffer was taken before the move");
	}

	/* The source goes away; the destination takes the same rings. */
	vhostctl_dev_close(self->dev[0]);
	self->dev[0] = NULL;
	self->on = -1;
	restore_opts(self, &o, kick, call);
	ASSERT_EQ(0, vhostctl_vdpa_state_restore(self->dev[1], buf, (size_t)len, &o));
	self->on = 1;
	ASSERT_EQ(0, vhostctl_dev_get_status(self->dev[1], &st));
	EXPECT_EQ(ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK, st);
	drain(_metadata, self);
	traffic(_metadata, self, NFRAMES - self->sent, 6);
	drain(_metadata, self);
	/* Nothing more may come: no frame twice. */
	usleep(100000);
	reap(_metadata, self);
	ASSERT_EQ(NFRAMES, self->received);
	for (unsigned int i = 0; i < NFRAMES; i++) {
		ASSERT_EQ(1, self->seen[i]) TH_LOG("frame %u lost", i);
	}
	free(buf);
}

/* A damaged blob changes nothing on the destination; the intact one works after. */
TEST_F(mig, damaged_blob)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_restore_opts, o);
	int kick[2], call[2], len = 0;
	uint8_t *buf, *bad, st = 0xff;

	start_source(_metadata, self);
	traffic(_metadata, self, 20, 4);
	drain(_metadata, self);
	buf = save(_metadata, self->dev[0], &len);
	ASSERT_NE(NULL, buf);
	bad = malloc((size_t)len);
	ASSERT_NE(NULL, bad);
	restore_opts(self, &o, kick, call);

	memcpy(bad, buf, (size_t)len);
	bad[70] ^= 1;			/* a config byte: the checksum no longer matches */
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_state_restore(self->dev[1], bad, (size_t)len, &o));
	EXPECT_EQ(EINVAL, errno);
	memcpy(bad, buf, (size_t)len);
	bad[0] = 'X';			/* magic */
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_state_restore(self->dev[1], bad, (size_t)len, &o));
	memcpy(bad, buf, (size_t)len);
	bad[4] = 9;			/* version 9 */
	EXPECT_EQ(-EPROTO, vhostctl_vdpa_state_restore(self->dev[1], bad, (size_t)len, &o));
	EXPECT_EQ(EPROTO, errno);
	for (int n = 0; n < len; n += 7) {	/* truncated */
		EXPECT_EQ(-EINVAL, vhostctl_vdpa_state_restore(self->dev[1], buf, (size_t)n, &o));
	}
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_state_restore(self->dev[1], NULL, (size_t)len, &o));
	/* No memory table for the rings. */
	o.mem = NULL;
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_state_restore(self->dev[1], buf, (size_t)len, &o));
	o.mem = self->mem;
	ASSERT_EQ(0, vhostctl_dev_get_status(self->dev[1], &st));
	EXPECT_EQ(0, st);

	/* Intact, it restores: the device loops frames again. */
	vhostctl_dev_close(self->dev[0]);
	self->dev[0] = NULL;
	self->on = -1;
	ASSERT_EQ(0, vhostctl_vdpa_state_restore(self->dev[1], buf, (size_t)len, &o));
	self->on = 1;
	traffic(_metadata, self, 20, 4);
	drain(_metadata, self);
	free(bad);
	free(buf);
}

/* A block device is not where a net device's state goes. */
TEST_F(mig, other_class)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_restore_opts, o);
	int kick[2], call[2], len = 0;
	uint8_t *buf, st = 0xff;
	struct vhostctl_dev *k;

	ASSERT_EQ(0, add_dev(self, 2, "vhostctl_sim_blk"))
		TH_LOG("blk: %s", vhostctl_vdpa_error(self->nl));
	start_source(_metadata, self);
	buf = save(_metadata, self->dev[0], &len);
	ASSERT_NE(NULL, buf);
	restore_opts(self, &o, kick, call);
	EXPECT_EQ(-ENODEV, vhostctl_vdpa_state_restore(self->dev[2], buf, (size_t)len, &o));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, vhostctl_dev_get_status(self->dev[2], &st));
	EXPECT_EQ(0, st);
	/* Not a vDPA handle at all. */
	k = vhostctl_dev_open("/dev/vhost-net", NULL);
	if (k) {
		EXPECT_EQ(-EOPNOTSUPP, vhostctl_vdpa_state_restore(k, buf, (size_t)len, &o));
		EXPECT_EQ(-EOPNOTSUPP, vhostctl_vdpa_state_save(k, NULL, 0));
		vhostctl_dev_close(k);
	}
	/* The source, resumed, carries on. */
	ASSERT_EQ(0, vhostctl_dev_vdpa_resume(self->dev[0]));
	traffic(_metadata, self, 10, 5);
	drain(_metadata, self);
	free(buf);
}

TEST_HARNESS_MAIN
