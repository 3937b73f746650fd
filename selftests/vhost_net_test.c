// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-net end to end through libvhostctl: our process is the guest (the
 * driver side of the RX and TX virtqueues), the kernel moves the frames
 * between the rings and a tap.  Frames sent on our TX queue are read back
 * from the tap's link with a packet socket, byte for byte; frames sent out
 * of the tap arrive on our RX queue, byte for byte.  With and without
 * EVENT_IDX, mergeable RX buffers, indirect descriptors and VERSION_1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "kselftest_harness.h"
#include "netdev.h"

#define NUM 256			/* ring size */
#define SLOT 2048		/* bytes per TX slot */
#define MAX_FRAME 1514
#define MEM_GPA 0x100000ull
#define MEM_SIZE (8ull << 20)

struct vnet {
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq[2];
	uint64_t features;
	unsigned int hs;	/* virtio-net header size */
	unsigned int rxlen;	/* bytes per RX buffer */
	bool indirect;
	bool pkt_backend;	/* vhost-net on a packet socket; we use the tap fd */
	int tap, ifindex, pkt;
	char name[16];
	uint8_t *tx, *rx;
	uint64_t tx_gpa, rx_gpa;
	unsigned int tx_free[NUM], ntx_free;
	unsigned long skipped;	/* frames on the link that were not ours */
};

static void vnet_close(struct vnet *v)
{
	if (v->dev && v->vq[0])
		vhostctl_dev_teardown(v->dev, v->vq, 2);
	vhostctl_dev_close(v->dev);
	vhostctl_mem_free(v->mem);
	if (v->tap >= 0)
		close(v->tap);
	if (v->pkt >= 0)
		close(v->pkt);
	v->dev = NULL;
	v->mem = NULL;
	v->tap = v->pkt = -1;
}

/* Post RX buffer slot i (token i + 1). */
static int vnet_post_rx(struct vnet *v, unsigned int i)
{
	struct vhostctl_vq_buf b = { v->rx_gpa + (uint64_t)i * v->rxlen, v->rxlen };

	return vhostctl_vq_add(v->vq[VHOSTCTL_NET_RX], &b, 0, 1, (void *)(uintptr_t)(i + 1),
			       v->indirect ? VHOSTCTL_VQ_ADD_INDIRECT : 0);
}

/* Everything but the tap attach: open, set up, post RX buffers. */
static int vnet_open_flags(struct vnet *v, uint64_t want, bool indirect, unsigned int flags,
			   bool pkt_backend)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = NUM,
			   .flags = VHOSTCTL_SETUP_NET_BACKEND | flags);
	unsigned int i;
	int r;

	memset(v, 0, sizeof(*v));
	v->tap = v->pkt = -1;
	v->indirect = indirect;
	v->pkt_backend = pkt_backend;
	/*
	 * The tap's vnet header must be as long as the guest's, unless vhost
	 * handles the header itself (then the tap has none).
	 */
	v->hs = vhostctl_net_hdr_size(want);
	v->tap = tap_open(v->name, &v->ifindex,
			  want & (1ULL << VHOSTCTL_NET_F_VIRTIO_NET_HDR) ? 0 : (int)v->hs);
	if (v->tap >= 0 && pkt_backend && fcntl(v->tap, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	if (v->tap < 0)
		return v->tap;
	r = nl_link_setup(v->ifindex, v->name, "10.77.0.1/24");
	if (r)
		return r;
	v->pkt = pkt_open(v->ifindex, 3000);
	if (v->pkt < 0)
		return v->pkt;
	v->mem = vhostctl_mem_new();
	if (!v->mem || vhostctl_mem_add_region(v->mem, MEM_GPA, MEM_SIZE, 0) < 0)
		return -errno;
	v->dev = vhostctl_dev_open("/dev/vhost-net", NULL);
	if (!v->dev)
		return -errno;
	o.features = want;
	o.required = want;
	o.net_backend_fd = pkt_backend ? v->pkt : v->tap;
	r = vhostctl_dev_setup(v->dev, v->mem, v->vq, &o, &v->features);
	if (r)
		return r;
	v->hs = vhostctl_net_hdr_size(v->features);
	v->rxlen = v->features & (1ULL << VHOSTCTL_NET_F_MRG_RXBUF) ? 512 : v->hs + 1536;
	v->tx = vhostctl_mem_alloc(v->mem, (uint64_t)NUM * SLOT, 4096, &v->tx_gpa);
	v->rx = vhostctl_mem_alloc(v->mem, (uint64_t)NUM * v->rxlen, 4096, &v->rx_gpa);
	if (!v->tx || !v->rx)
		return -ENOMEM;
	for (i = 0; i < NUM; i++)
		v->tx_free[i] = i;
	v->ntx_free = NUM;
	/* Indirect: one ring slot per buffer, so all NUM fit either way. */
	for (i = 0; i < NUM; i++) {
		r = vnet_post_rx(v, i);
		if (r)
			return r;
	}
	r = vhostctl_vq_kick(v->vq[VHOSTCTL_NET_RX]);
	return r < 0 ? r : 0;
}

static int vnet_open(struct vnet *v, uint64_t want, bool indirect, bool pkt_backend)
{
	return vnet_open_flags(v, want, indirect, 0, pkt_backend);
}

/* Reap used TX chains; wait for at least one when block. */
static int vnet_reap_tx(struct vnet *v, bool block)
{
	struct vhostctl_vq *q = v->vq[VHOSTCTL_NET_TX];
	void *tok;
	int r, n = 0;

	for (;;) {
		r = vhostctl_vq_get_used(q, NULL, &tok);
		if (r < 0)
			return r;
		if (r == 1) {
			v->tx_free[v->ntx_free++] = (unsigned int)(uintptr_t)tok - 1;
			n++;
			continue;
		}
		if (!block || n)
			return n;
		r = vhostctl_vq_wait(q, 5000);
		if (r)
			return r;
	}
}

/* Queue one frame on TX: virtio-net header (zero: no offloads), then the frame. */
static int vnet_send(struct vnet *v, const uint8_t *frame, size_t len, bool kick)
{
	struct vhostctl_vq_buf b[2];
	unsigned int slot;
	uint8_t *p;
	int r;

	if (!v->ntx_free || vhostctl_vq_num_free(v->vq[VHOSTCTL_NET_TX]) < 2) {
		vhostctl_vq_kick(v->vq[VHOSTCTL_NET_TX]);
		r = vnet_reap_tx(v, true);
		if (r < 0)
			return r;
	}
	slot = v->tx_free[--v->ntx_free];
	p = v->tx + (size_t)slot * SLOT;
	memset(p, 0, v->hs);
	memcpy(p + 64, frame, len);
	b[0] = (struct vhostctl_vq_buf){ v->tx_gpa + (uint64_t)slot * SLOT, v->hs };
	b[1] = (struct vhostctl_vq_buf){ v->tx_gpa + (uint64_t)slot * SLOT + 64, (uint32_t)len };
	r = vhostctl_vq_add(v->vq[VHOSTCTL_NET_TX], b, 2, 0, (void *)(uintptr_t)(slot + 1),
			    v->indirect ? VHOSTCTL_VQ_ADD_INDIRECT : 0);
	if (r)
		return r;
	if (kick)
		r = vhostctl_vq_kick(v->vq[VHOSTCTL_NET_TX]);
	return r < 0 ? r : 0;
}

/*
 * The other end of the link: with a tap backend, a packet socket on the
 * tap's link; with a packet-socket backend, the tap fd itself.
 */
static int link_send(struct vnet *v, const uint8_t *frame, size_t len)
{
	ssize_t n;

	if (!v->pkt_backend)
		return pkt_send(v->pkt, v->ifindex, frame, len);
	n = write(v->tap, frame, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* Read the next test frame off the link; returns its length or -errno. */
static ssize_t link_recv_tmo(struct vnet *v, uint8_t *buf, size_t max, int timeout_ms)
{
	int fd = v->pkt_backend ? v->tap : v->pkt;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) == 0)
			return -EAGAIN;
		n = read(fd, buf, max);
		if (n < 0)
			return -errno;
		if (frame_seq(buf, (size_t)n) >= 0)
			return n;
		v->skipped++;
	}
}

static ssize_t link_recv(struct vnet *v, uint8_t *buf, size_t max)
{
	return link_recv_tmo(v, buf, max, 3000);
}

/*
 * Receive one frame from our RX queue into frame: with mergeable buffers it
 * may span several used buffers (num_buffers in the header).  Re-posts the
 * buffers.  Returns the frame length or -errno.
 */
static ssize_t vnet_recv(struct vnet *v, uint8_t *frame, size_t max, int timeout_ms)
{
	struct vhostctl_vq *q = v->vq[VHOSTCTL_NET_RX];
	bool mrg = v->features & (1ULL << VHOSTCTL_NET_F_MRG_RXBUF);
	unsigned int nbuf = 1, got = 0;
	size_t flen = 0;
	int r;

	while (got < nbuf) {
		uint32_t len;
		void *tok;
		unsigned int slot;
		uint8_t *p;
		size_t off = 0;

		r = vhostctl_vq_get_used(q, &len, &tok);
		if (r < 0)
			return r;
		if (!r) {
			r = vhostctl_vq_wait(q, timeout_ms);
			if (r)
				return r;
			continue;
		}
		slot = (unsigned int)(uintptr_t)tok - 1;
		p = v->rx + (size_t)slot * v->rxlen;
		if (len > v->rxlen)
			return -EOVERFLOW;
		if (!got) {
			struct vhostctl_net_hdr h;

			if (len < v->hs)
				return -EPROTO;
			memcpy(&h, p, v->hs);
			if (mrg)
				nbuf = le16toh(h.num_buffers);
			if (!nbuf || nbuf > NUM)
				return -EPROTO;
			off = v->hs;
		}
		if (flen + (len - off) > max)
			return -EMSGSIZE;
		memcpy(frame + flen, p + off, len - off);
		flen += len - off;
		got++;
		r = vnet_post_rx(v, slot);
		if (r)
			return r;
	}
	r = vhostctl_vq_kick(q);
	if (r < 0)
		return r;
	/* Frames the kernel sent on its own are not ours: skip them. */
	if (frame_seq(frame, flen) < 0) {
		v->skipped++;
		return vnet_recv(v, frame, max, timeout_ms);
	}
	return (ssize_t)flen;
}

static size_t frame_len(uint32_t i)
{
	/* Mixed sizes: minimum, maximum and odd ones in between. */
	static const size_t sizes[] = { 60, 1514, 61, 128, 1000, 255, 1513, 700, 64, 1500 };

	return sizes[i % 10] - (i / 10) % 3;
}

FIXTURE(vnet)
{
	struct vnet v;
};

FIXTURE_VARIANT(vnet)
{
	uint64_t features;
	bool indirect;
	bool pkt_backend;
};

#define F(b) (1ULL << (b))

FIXTURE_VARIANT_ADD(vnet, v1)
{
	.features = F(VHOSTCTL_F_VERSION_1),
};

FIXTURE_VARIANT_ADD(vnet, v1_event_idx)
{
	.features = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_F_EVENT_IDX),
};

FIXTURE_VARIANT_ADD(vnet, v1_mrg)
{
	.features = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_NET_F_MRG_RXBUF),
};

FIXTURE_VARIANT_ADD(vnet, v1_mrg_event_idx)
{
	.features = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_NET_F_MRG_RXBUF) |
		    F(VHOSTCTL_F_EVENT_IDX),
};

FIXTURE_VARIANT_ADD(vnet, v1_indirect_event_idx)
{
	.features = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_F_INDIRECT_DESC) |
		    F(VHOSTCTL_F_EVENT_IDX),
	.indirect = true,
};

/*
 * Legacy: no VERSION_1, a 10-byte header, page-aligned used ring.  Not
 * ANY_LAYOUT: on vhost-net its bit (27) is VHOST_NET_F_VIRTIO_NET_HDR.
 */
FIXTURE_VARIANT_ADD(vnet, legacy)
{
	.features = 0,
};

/*
 * vhost-net's backend is a packet socket on the tap's link, and we are at
 * the tap fd: frames from our TX queue are read from the tap fd, frames
 * written into the tap fd arrive on our RX queue.  A packet socket has no
 * vnet header: vhost adds and strips it (VHOST_NET_F_VIRTIO_NET_HDR).
 */
FIXTURE_VARIANT_ADD(vnet, tapfd_v1)
{
	.features = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_NET_F_VIRTIO_NET_HDR),
	.pkt_backend = true,
};

FIXTURE_VARIANT_ADD(vnet, tapfd_mrg_event_idx)
{
	.features = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_NET_F_VIRTIO_NET_HDR) |
		    F(VHOSTCTL_NET_F_MRG_RXBUF) | F(VHOSTCTL_F_EVENT_IDX),
	.pkt_backend = true,
};

/* vhost adds and strips the virtio-net header; the tap has none. */
FIXTURE_VARIANT_ADD(vnet, v1_vhost_hdr)
{
	.features = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_NET_F_VIRTIO_NET_HDR),
};

FIXTURE_SETUP(vnet)
{
	int r = vnet_open(&self->v, variant->features, variant->indirect, variant->pkt_backend);

	ASSERT_EQ(0, r) TH_LOG("set-up failed at %s: %s",
			       self->v.dev ? vhostctl_dev_setup_step(self->v.dev) : "open",
			       strerror(-r));
}

FIXTURE_TEARDOWN(vnet)
{
	vnet_close(&self->v);
}

TEST_F(vnet, link_state)
{
	unsigned int flags = 0;

	ASSERT_EQ(0, nl_link_flags(self->v.ifindex, &flags));
	EXPECT_NE(0u, flags & IFF_UP);
	/* The tap has carrier while its fd is open. */
	EXPECT_NE(0u, flags & IFF_LOWER_UP);
	EXPECT_EQ(variant->features, self->v.features);
}

TEST_F(vnet, tx)
{
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 64];

	for (uint32_t i = 0; i < 64; i++) {
		size_t len = frame_len(i);
		ssize_t n;

		frame_fill(f, len, i);
		ASSERT_EQ(0, vnet_send(&self->v, f, len, true));
		n = link_recv(&self->v, got, sizeof(got));
		ASSERT_EQ((ssize_t)len, n) TH_LOG("frame %u: %s", i, n < 0 ? strerror((int)-n) : "length");
		ASSERT_EQ(0, memcmp(f, got, len)) TH_LOG("frame %u differs", i);
	}
	/* Every chain comes back used, none twice. */
	while (self->v.ntx_free < NUM)
		ASSERT_LT(0, vnet_reap_tx(&self->v, true));
	EXPECT_EQ(NUM, vhostctl_vq_num_free(self->v.vq[VHOSTCTL_NET_TX]));
}

TEST_F(vnet, rx)
{
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 64];

	for (uint32_t i = 0; i < 64; i++) {
		size_t len = frame_len(i);
		ssize_t n;

		frame_fill(f, len, i);
		ASSERT_EQ(0, link_send(&self->v, f, len));
		n = vnet_recv(&self->v, got, sizeof(got), 3000);
		ASSERT_EQ((ssize_t)len, n) TH_LOG("frame %u: %s", i, n < 0 ? strerror((int)-n) : "length");
		ASSERT_EQ(0, memcmp(f, got, len)) TH_LOG("frame %u differs", i);
	}
}

/*
 * 10,000 frames of mixed sizes each way, in bursts, without loss and in
 * order.  Bursts stay below the tap's queue length (1000) and the socket
 * buffer, so nothing may be dropped legitimately.
 */
TEST_F_TIMEOUT(vnet, mixed_10k, 240)
{
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 64];
	const uint32_t total = 10000, burst = 50;
	struct vhostctl_vq_stats st;

	for (uint32_t i = 0; i < total; i += burst) {
		for (uint32_t j = i; j < i + burst; j++) {
			frame_fill(f, frame_len(j), j);
			ASSERT_EQ(0, vnet_send(&self->v, f, frame_len(j), j + 1 == i + burst));
		}
		for (uint32_t j = i; j < i + burst; j++) {
			ssize_t n = link_recv(&self->v, got, sizeof(got));

			ASSERT_EQ((ssize_t)frame_len(j), n) TH_LOG("tx frame %u", j);
			ASSERT_EQ((long)j, frame_seq(got, (size_t)n));
			frame_fill(f, frame_len(j), j);
			ASSERT_EQ(0, memcmp(f, got, (size_t)n));
		}
		vnet_reap_tx(&self->v, false);
	}
	for (uint32_t i = 0; i < total; i += burst) {
		for (uint32_t j = i; j < i + burst; j++) {
			frame_fill(f, frame_len(j), j);
			ASSERT_EQ(0, link_send(&self->v, f, frame_len(j)));
		}
		for (uint32_t j = i; j < i + burst; j++) {
			ssize_t n = vnet_recv(&self->v, got, sizeof(got), 3000);

			ASSERT_EQ((ssize_t)frame_len(j), n) TH_LOG("rx frame %u", j);
			ASSERT_EQ((long)j, frame_seq(got, (size_t)n));
			frame_fill(f, frame_len(j), j);
			ASSERT_EQ(0, memcmp(f, got, (size_t)n));
		}
	}
	ASSERT_EQ(0, vhostctl_vq_get_stats(self->v.vq[VHOSTCTL_NET_TX], &st));
	EXPECT_EQ(total, st.added);
	TH_LOG("tx: %llu kicks, %llu suppressed; %lu foreign frames skipped",
	       (unsigned long long)st.kicks, (unsigned long long)st.kicks_suppressed,
	       self->v.skipped);
}

/*
 * Detach the backend mid-stream: frames queued meanwhile stay in the ring
 * (TX) or in the tap (RX) and flow, in order, once it is back.
 */
TEST_F(vnet, detach_reattach)
{
	int backend = self->v.pkt_backend ? self->v.pkt : self->v.tap;
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 64];
	uint32_t seq = 0;
	ssize_t n;

	for (; seq < 20; seq++) {
		frame_fill(f, frame_len(seq), seq);
		ASSERT_EQ(0, vnet_send(&self->v, f, frame_len(seq), true));
		ASSERT_EQ((ssize_t)frame_len(seq), link_recv(&self->v, got, sizeof(got)));
	}
	ASSERT_EQ(0, vhostctl_net_set_backend(self->v.dev, VHOSTCTL_NET_TX, -1));
	ASSERT_EQ(0, vhostctl_net_set_backend(self->v.dev, VHOSTCTL_NET_RX, -1));
	/* Detached: TX frames wait in our ring, nothing reaches the link. */
	for (uint32_t j = 0; j < 10; j++) {
		frame_fill(f, frame_len(seq + j), seq + j);
		ASSERT_EQ(0, vnet_send(&self->v, f, frame_len(seq + j), true));
	}
	EXPECT_EQ(-EAGAIN, link_recv_tmo(&self->v, got, sizeof(got), 300));
	/* RX frames queue in the tap meanwhile. */
	for (uint32_t j = 0; j < 10; j++) {
		frame_fill(f, frame_len(1000 + j), 1000 + j);
		ASSERT_EQ(0, link_send(&self->v, f, frame_len(1000 + j)));
	}
	EXPECT_EQ(-ETIMEDOUT, vnet_recv(&self->v, got, sizeof(got), 300));

	ASSERT_EQ(0, vhostctl_net_set_backend(self->v.dev, VHOSTCTL_NET_RX, backend));
	ASSERT_EQ(0, vhostctl_net_set_backend(self->v.dev, VHOSTCTL_NET_TX, backend));
	for (uint32_t j = 0; j < 10; j++) {
		n = link_recv(&self->v, got, sizeof(got));
		ASSERT_EQ((ssize_t)frame_len(seq + j), n) TH_LOG("queued tx frame %u", j);
		EXPECT_EQ((long)(seq + j), frame_seq(got, (size_t)n));
	}
	/* The RX side needs a kick to look at the tap again? No: attach polls it. */
	for (uint32_t j = 0; j < 10; j++) {
		n = vnet_recv(&self->v, got, sizeof(got), 3000);
		ASSERT_EQ((ssize_t)frame_len(1000 + j), n) TH_LOG("queued rx frame %u", j);
		frame_fill(f, frame_len(1000 + j), 1000 + j);
		EXPECT_EQ(0, memcmp(f, got, (size_t)n));
	}
	/* And the stream carries on. */
	seq += 10;
	frame_fill(f, frame_len(seq), seq);
	ASSERT_EQ(0, vnet_send(&self->v, f, frame_len(seq), true));
	n = link_recv(&self->v, got, sizeof(got));
	ASSERT_EQ((ssize_t)frame_len(seq), n);
	EXPECT_EQ(0, memcmp(f, got, (size_t)n));
}

static bool page_dirty(const uint8_t *log, uint64_t gpa)
{
	uint64_t page = gpa / 4096;

	return log[page / 8] & (1u << (page % 8));
}

static int pages_dirty(const uint8_t *log, uint64_t gpa, uint64_t len)
{
	int n = 0;

	for (uint64_t p = gpa & ~4095ull; p < gpa + len; p += 4096)
		n += page_dirty(log, p);
	return n;
}

/*
 * Dirty logging: with VHOST_F_LOG_ALL acknowledged and a log base set, the
 * guest pages vhost-net writes (RX buffers it fills, used rings) are marked
 * in the bitmap, one bit per 4 KiB page, and the pages it only reads (TX
 * buffers, descriptor tables) or never touches are not.
 */
FIXTURE(dirty)
{
	struct vnet v;
	uint8_t *log;
	size_t log_size;
	int log_fd, log_efd;
};

FIXTURE_SETUP(dirty)
{
	struct vhostctl_log l;
	int r;

	self->log_fd = self->log_efd = -1;
	r = vnet_open_flags(&self->v, F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_F_LOG_ALL), false,
			    VHOSTCTL_SETUP_LOG, false);
	ASSERT_EQ(0, r) TH_LOG("set-up failed at %s: %s", vhostctl_dev_setup_step(self->v.dev),
			       strerror(-r));
	/* One bit per page of guest physical space up to the end of memory. */
	self->log_size = ((MEM_GPA + MEM_SIZE) / 4096 + 7) / 8;
	self->log_fd = memfd_create("dirty-log", MFD_CLOEXEC);
	ASSERT_LE(0, self->log_fd);
	ASSERT_EQ(0, ftruncate(self->log_fd, (off_t)self->log_size));
	self->log = mmap(NULL, self->log_size, PROT_READ | PROT_WRITE, MAP_SHARED, self->log_fd, 0);
	ASSERT_NE(MAP_FAILED, self->log);
	l = (struct vhostctl_log){ .base = self->log, .size = self->log_size,
				   .fd = self->log_fd, .offset = 0 };
	ASSERT_EQ(0, vhostctl_dev_set_log_base(self->v.dev, &l));
	self->log_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_EQ(0, vhostctl_dev_set_log_fd(self->v.dev, self->log_efd));
}

FIXTURE_TEARDOWN(dirty)
{
	vnet_close(&self->v);
	if (self->log && self->log != MAP_FAILED)
		munmap(self->log, self->log_size);
	if (self->log_fd >= 0)
		close(self->log_fd);
	if (self->log_efd >= 0)
		close(self->log_efd);
}

TEST_F(dirty, rx_pages_logged)
{
	struct vhostctl_vring_addr rxa, txa;
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 64];
	struct vnet *v = &self->v;
	const unsigned int nframes = 8;
	eventfd_t ev = 0;

	ASSERT_EQ(0, vhostctl_vq_get_addr(v->vq[VHOSTCTL_NET_RX], &rxa));
	ASSERT_EQ(0, vhostctl_vq_get_addr(v->vq[VHOSTCTL_NET_TX], &txa));
	/*
	 * Before any traffic only the used rings may be dirty: attaching
	 * the backend writes their flags.  Start from a clean log.
	 */
	for (uint64_t page = 0; page < self->log_size * 8; page++) {
		uint64_t gpa = page * 4096;

		if (page_dirty(self->log, gpa) && gpa != (rxa.used & ~4095ull) &&
		    gpa != (txa.used & ~4095ull))
			ASSERT_TRUE(false) TH_LOG("page 0x%llx dirty before traffic",
						  (unsigned long long)gpa);
	}
	memset(self->log, 0, self->log_size);

	for (uint32_t i = 0; i < nframes; i++) {
		frame_fill(f, MAX_FRAME, i);
		ASSERT_EQ(0, link_send(v, f, MAX_FRAME));
		ASSERT_EQ(MAX_FRAME, vnet_recv(v, got, sizeof(got), 3000));
		ASSERT_EQ(0, memcmp(f, got, MAX_FRAME));
	}
	/* The RX buffers filled (slots 0..7, in order) are dirty... */
	for (unsigned int i = 0; i < nframes; i++) {
		unsigned int slot = i;

		EXPECT_TRUE(page_dirty(self->log, v->rx_gpa + (uint64_t)i * v->rxlen + 100))
			TH_LOG("rx slot %u not logged", slot);
	}
	EXPECT_TRUE(page_dirty(self->log, rxa.used));
	/* ...and the RX buffers not used yet, the rings vhost only reads, and
	 * the TX side that saw no traffic, are clean. */
	EXPECT_EQ(0, pages_dirty(self->log, v->rx_gpa + (uint64_t)(nframes + 8) * v->rxlen,
				 (uint64_t)(NUM - nframes - 8) * v->rxlen));
	EXPECT_EQ(0, pages_dirty(self->log, rxa.desc, 16ull * NUM));
	EXPECT_EQ(0, pages_dirty(self->log, v->tx_gpa, (uint64_t)NUM * SLOT));
	EXPECT_FALSE(page_dirty(self->log, txa.used));
	EXPECT_FALSE(page_dirty(self->log, MEM_GPA + MEM_SIZE - 4096));
	EXPECT_EQ(0, eventfd_read(self->log_efd, &ev));
	EXPECT_LT(0ull, (unsigned long long)ev);

	/* TX: vhost reads the buffers (not logged) and writes the used ring (logged). */
	memset(self->log, 0, self->log_size);
	for (uint32_t i = 0; i < nframes; i++) {
		frame_fill(f, 1000, 100 + i);
		ASSERT_EQ(0, vnet_send(v, f, 1000, true));
		ASSERT_EQ(1000, link_recv(v, got, sizeof(got)));
	}
	while (v->ntx_free < NUM)
		ASSERT_LT(0, vnet_reap_tx(v, true));
	EXPECT_TRUE(page_dirty(self->log, txa.used));
	EXPECT_EQ(0, pages_dirty(self->log, v->tx_gpa, (uint64_t)NUM * SLOT));
	EXPECT_EQ(0, pages_dirty(self->log, v->rx_gpa, (uint64_t)NUM * v->rxlen));
}

TEST_HARNESS_MAIN
