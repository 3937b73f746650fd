// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-net with VIRTIO_F_ACCESS_PLATFORM: the kernel translates ring and
 * buffer addresses through its device IOTLB, which starts empty, and asks us
 * for every missing translation.  A thread serves the misses with
 * vhostctl_dev_iotlb_serve() while frames go both ways between our
 * virtqueues and a tap, byte for byte.  Each ring area sits on its own pages
 * and answers are one page long, so every first access to an area misses.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "kselftest_harness.h"
#include "netdev.h"

#define NUM 256			/* ring size */
#define SLOT 2048		/* bytes per TX slot */
#define MAX_FRAME 1514
#define PAGE 4096ull
#define MEM_GPA 0x100000ull
#define MEM_SIZE (8ull << 20)
#define BAD_IOVA 0x40000000ull	/* outside the memory table */
#define MAX_MISSES 4096
#define F(b) (1ULL << (b))

struct area {
	const char *name;
	uint64_t start, len;
};

struct inet {
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq[2];
	unsigned int hs;
	int tap, ifindex, pkt;
	int err[2];		/* vring err eventfds */
	int stop;		/* eventfd: ends the serving thread */
	pthread_t thread;
	bool running;
	char name[16];
	uint8_t *tx, *rx;
	uint64_t tx_gpa, rx_gpa;
	unsigned int rxlen;
	unsigned int tx_free[NUM], ntx_free;
	struct area areas[8];	/* 6 ring areas, then the TX and RX buffers */
	/* Misses seen by the callback (serving thread), under lock. */
	pthread_mutex_t lock;
	struct vhostctl_iotlb_miss miss[MAX_MISSES];
	unsigned int nmiss;
	int serve_err;
};

static void on_miss(void *ctx, const struct vhostctl_iotlb_miss *m)
{
	struct inet *v = ctx;

	pthread_mutex_lock(&v->lock);
	if (v->nmiss < MAX_MISSES)
		v->miss[v->nmiss++] = *m;
	pthread_mutex_unlock(&v->lock);
}

static unsigned int nmiss(struct inet *v)
{
	unsigned int n;

	pthread_mutex_lock(&v->lock);
	n = v->nmiss;
	pthread_mutex_unlock(&v->lock);
	return n;
}

/* Misses recorded from index since on in [start, start + len). */
static unsigned int misses_in(struct inet *v, unsigned int since, uint64_t start, uint64_t len)
{
	unsigned int n = 0;

	pthread_mutex_lock(&v->lock);
	for (unsigned int i = since; i < v->nmiss; i++)
		if (v->miss[i].iova >= start && v->miss[i].iova - start < len)
			n++;
	pthread_mutex_unlock(&v->lock);
	return n;
}

/* The event loop: the vhost fd is readable while a miss is queued. */
static void *serve_thread(void *arg)
{
	struct inet *v = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = vhostctl_dev_fd(v->dev), .events = POLLIN },
			{ .fd = v->stop, .events = POLLIN },
		};
		int r;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		r = vhostctl_dev_iotlb_serve(v->dev);
		if (r < 0) {
			v->serve_err = r;
			break;
		}
	}
	return NULL;
}

/* Round the next allocation up to a fresh page: every ring area on its own. */
static int pad_page(struct vhostctl_mem *mem)
{
	return vhostctl_mem_alloc(mem, PAGE, PAGE, NULL) ? 0 : -ENOMEM;
}

static int inet_post_rx(struct inet *v, unsigned int i)
{
	struct vhostctl_vq_buf b = { v->rx_gpa + (uint64_t)i * v->rxlen, v->rxlen };

	return vhostctl_vq_add(v->vq[VHOSTCTL_NET_RX], &b, 0, 1, (void *)(uintptr_t)(i + 1), 0);
}

static int inet_open(struct inet *v, unsigned int iotlb_flags)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vq_opts, qo, .used_align = PAGE);
	VHOSTCTL_OPTS_INIT(struct vhostctl_iotlb_opts, io, .flags = iotlb_flags, .max_map = PAGE,
			   .miss_cb = on_miss, .miss_ctx = v);
	uint64_t want = F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_F_ACCESS_PLATFORM), offered;
	static const char *const names[] = { "desc", "avail", "used" };
	unsigned int i;
	int r;

	v->hs = vhostctl_net_hdr_size(want);
	v->rxlen = v->hs + 1536;
	v->tap = tap_open(v->name, &v->ifindex, (int)v->hs);
	if (v->tap < 0)
		return v->tap;
	r = nl_link_setup(v->ifindex, v->name, "10.78.0.1/24");
	if (r)
		return r;
	v->pkt = pkt_open(v->ifindex, 3000);
	if (v->pkt < 0)
		return v->pkt;
	v->mem = vhostctl_mem_new();
	if (!v->mem || vhostctl_mem_add_region(v->mem, MEM_GPA, MEM_SIZE, 0) < 0)
		return -errno;
	for (i = 0; i < 2; i++) {
		struct vhostctl_vring_addr a;

		if (pad_page(v->mem))
			return -ENOMEM;
		v->vq[i] = vhostctl_vq_new(v->mem, i, NUM, want, &qo);
		if (!v->vq[i])
			return -errno;
		vhostctl_vq_get_addr(v->vq[i], &a);
		v->areas[3 * i + 0] = (struct area){ names[0], a.desc, 16ull * NUM };
		v->areas[3 * i + 1] = (struct area){ names[1], a.avail, 6 + 2ull * NUM };
		v->areas[3 * i + 2] = (struct area){ names[2], a.used, 6 + 8ull * NUM };
	}
	v->tx = vhostctl_mem_alloc(v->mem, (uint64_t)NUM * SLOT, PAGE, &v->tx_gpa);
	v->rx = vhostctl_mem_alloc(v->mem, (uint64_t)NUM * v->rxlen, PAGE, &v->rx_gpa);
	if (!v->tx || !v->rx)
		return -ENOMEM;
	v->areas[6] = (struct area){ "tx buffers", v->tx_gpa, (uint64_t)NUM * SLOT };
	v->areas[7] = (struct area){ "rx buffers", v->rx_gpa, (uint64_t)NUM * v->rxlen };

	v->dev = vhostctl_dev_open("/dev/vhost-net", NULL);
	if (!v->dev)
		return -errno;
	r = vhostctl_dev_iotlb_enable(v->dev, &io);
	if (!r)
		r = vhostctl_dev_get_features(v->dev, &offered);
	if (!r && (offered & want) != want)
		r = -EOPNOTSUPP;
	if (!r)
		r = vhostctl_dev_set_owner(v->dev);
	if (!r)
		r = vhostctl_dev_set_features(v->dev, want);
	if (!r)
		r = vhostctl_dev_set_mem_table(v->dev, v->mem);
	for (i = 0; !r && i < 2; i++) {
		r = vhostctl_vq_attach(v->vq[i], v->dev, 0);
		v->err[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (!r)
			r = v->err[i] < 0 ? -errno :
			    vhostctl_dev_set_vring_err(v->dev, i, v->err[i]);
	}
	if (r)
		return r;
	v->stop = eventfd(0, EFD_CLOEXEC);
	if (v->stop < 0)
		return -errno;
	r = -pthread_create(&v->thread, NULL, serve_thread, v);
	if (r)
		return r;
	v->running = true;
	for (i = 0; i < 2; i++) {
		r = vhostctl_net_set_backend(v->dev, i, v->tap);
		if (r)
			return r;
	}
	for (i = 0; i < NUM; i++)
		v->tx_free[i] = i;
	v->ntx_free = NUM;
	for (i = 0; i < NUM; i++) {
		r = inet_post_rx(v, i);
		if (r)
			return r;
	}
	r = vhostctl_vq_kick(v->vq[VHOSTCTL_NET_RX]);
	return r < 0 ? r : 0;
}

static void inet_close(struct inet *v)
{
	if (v->running) {
		eventfd_write(v->stop, 1);
		pthread_join(v->thread, NULL);
	}
	if (v->dev) {
		vhostctl_net_set_backend(v->dev, 0, -1);
		vhostctl_net_set_backend(v->dev, 1, -1);
	}
	vhostctl_dev_close(v->dev);
	for (int i = 0; i < 2; i++) {
		vhostctl_vq_free(v->vq[i]);
		if (v->err[i] >= 0)
			close(v->err[i]);
	}
	vhostctl_mem_free(v->mem);
	if (v->stop >= 0)
		close(v->stop);
	if (v->tap >= 0)
		close(v->tap);
	if (v->pkt >= 0)
		close(v->pkt);
}

static int reap_tx(struct inet *v)
{
	void *tok;
	int r, n = 0;

	while ((r = vhostctl_vq_get_used(v->vq[VHOSTCTL_NET_TX], NULL, &tok)) == 1) {
		v->tx_free[v->ntx_free++] = (unsigned int)(uintptr_t)tok - 1;
		n++;
	}
	return r < 0 ? r : n;
}

/* Queue one frame on TX; returns the slot or -errno. */
static int inet_send(struct inet *v, const uint8_t *frame, size_t len)
{
	struct vhostctl_vq_buf b[2];
	unsigned int slot;
	uint8_t *p;
	int r;

	for (int tries = 0; !v->ntx_free || vhostctl_vq_num_free(v->vq[VHOSTCTL_NET_TX]) < 2;
	     tries++) {
		r = reap_tx(v);
		if (r < 0)
			return r;
		if (r)
			break;
		if (tries == 50)
			return -ETIMEDOUT;
		r = vhostctl_vq_wait(v->vq[VHOSTCTL_NET_TX], 100);
		if (r && r != -ETIMEDOUT)
			return r;
	}
	slot = v->tx_free[--v->ntx_free];
	p = v->tx + (size_t)slot * SLOT;
	memset(p, 0, v->hs);
	memcpy(p + 64, frame, len);
	b[0] = (struct vhostctl_vq_buf){ v->tx_gpa + (uint64_t)slot * SLOT, v->hs };
	b[1] = (struct vhostctl_vq_buf){ v->tx_gpa + (uint64_t)slot * SLOT + 64, (uint32_t)len };
	r = vhostctl_vq_add(v->vq[VHOSTCTL_NET_TX], b, 2, 0, (void *)(uintptr_t)(slot + 1), 0);
	return r ? r : (int)slot;
}

/* The next test frame on the tap's link, or -EAGAIN after timeout_ms. */
static ssize_t link_recv(struct inet *v, uint8_t *buf, size_t max, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = v->pkt, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) == 0)
			return -EAGAIN;
		n = read(v->pkt, buf, max);
		if (n < 0)
			return -errno;
		if (frame_seq(buf, (size_t)n) >= 0)
			return n;
	}
}

/* One frame from our RX queue (one buffer each: no mergeable buffers). */
static ssize_t inet_recv(struct inet *v, uint8_t *frame, size_t max, int timeout_ms)
{
	for (;;) {
		uint32_t len;
		void *tok;
		unsigned int slot;
		int r = vhostctl_vq_get_used(v->vq[VHOSTCTL_NET_RX], &len, &tok);

		if (r < 0)
			return r;
		if (!r) {
			r = vhostctl_vq_wait(v->vq[VHOSTCTL_NET_RX], timeout_ms);
			if (r)
				return r;
			continue;
		}
		slot = (unsigned int)(uintptr_t)tok - 1;
		if (len < v->hs || len > v->rxlen || len - v->hs > max)
			return -EPROTO;
		memcpy(frame, v->rx + (size_t)slot * v->rxlen + v->hs, len - v->hs);
		r = inet_post_rx(v, slot);
		if (!r)
			r = vhostctl_vq_kick(v->vq[VHOSTCTL_NET_RX]);
		if (r < 0)
			return r;
		if (frame_seq(frame, len - v->hs) >= 0)
			return len - v->hs;
	}
}

static size_t frame_len(uint32_t i)
{
	static const size_t sizes[] = { 60, 1514, 61, 128, 1000, 255, 1513, 700 };

	return sizes[i % 8];
}

/* count frames out through TX and count in through RX, bytes compared. */
static int traffic(struct inet *v, uint32_t first, uint32_t count)
{
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 64];

	for (uint32_t i = first; i < first + count; i++) {
		size_t len = frame_len(i);
		ssize_t n;
		int r;

		frame_fill(f, len, i);
		r = inet_send(v, f, len);
		if (r < 0)
			return r;
		r = vhostctl_vq_kick(v->vq[VHOSTCTL_NET_TX]);
		if (r < 0)
			return r;
		n = link_recv(v, got, sizeof(got), 3000);
		if (n != (ssize_t)len || memcmp(f, got, len))
			return n < 0 ? (int)n : -EBADMSG;
		r = pkt_send(v->pkt, v->ifindex, f, len);
		if (r)
			return r;
		n = inet_recv(v, got, sizeof(got), 3000);
		if (n != (ssize_t)len || memcmp(f, got, len))
			return n < 0 ? (int)n : -EBADMSG;
	}
	return 0;
}

FIXTURE(iotlb)
{
	struct inet v;
};

FIXTURE_VARIANT(iotlb)
{
	unsigned int flags;	/* VHOSTCTL_IOTLB_* */
};

/* Everything mapped on demand, one page per miss. */
FIXTURE_VARIANT_ADD(iotlb, lazy)
{
	.flags = 0,
};

/* The whole memory table mapped before the rings start: no misses until invalidated. */
FIXTURE_VARIANT_ADD(iotlb, prefetch)
{
	.flags = VHOSTCTL_IOTLB_PREFETCH,
};

FIXTURE_SETUP(iotlb)
{
	int r;

	memset(&self->v, 0, sizeof(self->v));
	self->v.tap = self->v.pkt = self->v.stop = -1;
	self->v.err[0] = self->v.err[1] = -1;
	pthread_mutex_init(&self->v.lock, NULL);
	r = inet_open(&self->v, variant->flags);
	if (r == -EOPNOTSUPP)
		SKIP(return, "vhost-net offers no ACCESS_PLATFORM or IOTLB_MSG_V2");
	ASSERT_EQ(0, r) TH_LOG("set-up failed: %s", strerror(-r));
}

FIXTURE_TEARDOWN(iotlb)
{
	inet_close(&self->v);
}

/* A miss on every first access: each ring area, each buffer range. */
TEST_F(iotlb, lazy_misses)
{
	struct inet *v = &self->v;
	struct vhostctl_iotlb_stats st;
	unsigned int since;

	ASSERT_EQ(0, traffic(v, 0, 32));
	ASSERT_EQ(0, vhostctl_dev_iotlb_stats(v->dev, &st));
	TH_LOG("misses %llu answered %llu updates %llu", (unsigned long long)st.misses,
	       (unsigned long long)st.answered, (unsigned long long)st.updates);
	if (!(variant->flags & VHOSTCTL_IOTLB_PREFETCH))
		EXPECT_LT(0u, st.misses);
	EXPECT_EQ(st.misses, st.answered);
	EXPECT_EQ(0u, st.unanswered);
	EXPECT_EQ(0u, st.bad_msgs);
	EXPECT_EQ(0, v->serve_err);
	if (variant->flags & VHOSTCTL_IOTLB_PREFETCH) {
		EXPECT_EQ(0u, st.misses);
		EXPECT_EQ(1u, st.updates);	/* one region, one update */
	}
	/* Lazy: the used rings were mapped by set_backend; all the rest missed. */
	for (unsigned int i = 0; !(variant->flags & VHOSTCTL_IOTLB_PREFETCH) && i < 8; i++) {
		if (i == 2 || i == 5)
			continue;
		EXPECT_LT(0u, misses_in(v, 0, v->areas[i].start, v->areas[i].len))
			TH_LOG("%s %s: no miss", i < 6 ? (i < 3 ? "rx" : "tx") : "",
			       v->areas[i].name);
	}

	/* Drop everything: now every area, the used rings too, misses again. */
	since = nmiss(v);
	ASSERT_EQ(0, vhostctl_dev_iotlb_invalidate(v->dev, MEM_GPA, MEM_SIZE));
	ASSERT_EQ(0, traffic(v, 32, 32));
	for (unsigned int i = 0; i < 8; i++) {
		EXPECT_LT(0u, misses_in(v, since, v->areas[i].start, v->areas[i].len))
			TH_LOG("%s %s: no miss after invalidation",
			       i < 6 ? (i < 3 ? "rx" : "tx") : "", v->areas[i].name);
	}
	ASSERT_EQ(0, vhostctl_dev_iotlb_stats(v->dev, &st));
	EXPECT_EQ(1u, st.invalidates);
	EXPECT_EQ(0u, st.unanswered);
}

/* Invalidating the buffers mid-stream: fresh misses, traffic intact. */
TEST_F(iotlb, invalidate_buffers)
{
	struct inet *v = &self->v;
	struct vhostctl_iotlb_stats a, b;
	unsigned int since;

	ASSERT_EQ(0, traffic(v, 0, 16));
	ASSERT_EQ(0, vhostctl_dev_iotlb_stats(v->dev, &a));
	since = nmiss(v);
	ASSERT_EQ(0, vhostctl_dev_iotlb_invalidate(v->dev, v->areas[6].start, v->areas[6].len));
	ASSERT_EQ(0, vhostctl_dev_iotlb_invalidate(v->dev, v->areas[7].start, v->areas[7].len));
	ASSERT_EQ(0, traffic(v, 16, 48));
	ASSERT_EQ(0, vhostctl_dev_iotlb_stats(v->dev, &b));
	EXPECT_LT(a.misses, b.misses);
	EXPECT_EQ(2u, b.invalidates);
	if (variant->flags & VHOSTCTL_IOTLB_PREFETCH)
		EXPECT_EQ(0u, a.misses);
	EXPECT_EQ(0u, b.unanswered);
	EXPECT_LT(0u, misses_in(v, since, v->areas[6].start, v->areas[6].len));
	EXPECT_LT(0u, misses_in(v, since, v->areas[7].start, v->areas[7].len));
}

/* A buffer outside the memory table: the miss is not answered, TX stops. */
TEST_F(iotlb, miss_outside_table)
{
	struct inet *v = &self->v;
	struct vhostctl_iotlb_stats st;
	struct vhostctl_vring_addr a;
	uint8_t f[MAX_FRAME], got[MAX_FRAME + 64];
	struct vdesc {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
	} *d;
	uint64_t gpa, errs = 0;
	unsigned int hits = 0;
	int slot;

	ASSERT_EQ(0, traffic(v, 0, 4));
	/* Reap the frames sent so far: afterwards nothing may come back used. */
	for (int i = 0; i < 100 && v->ntx_free < NUM; i++) {
		ASSERT_LE(0, reap_tx(v));
		usleep(10000);
	}
	ASSERT_EQ((unsigned int)NUM, v->ntx_free);
	frame_fill(f, 100, 1000);
	slot = inet_send(v, f, 100);
	ASSERT_LE(0, slot);
	/* Point the frame's descriptor outside the table, as a bad guest would. */
	gpa = v->tx_gpa + (uint64_t)slot * SLOT + 64;
	ASSERT_EQ(0, vhostctl_vq_get_addr(v->vq[VHOSTCTL_NET_TX], &a));
	d = vhostctl_mem_gpa_to_hva(v->mem, a.desc, 16ull * NUM);
	ASSERT_NE(NULL, d);
	for (unsigned int i = 0; i < NUM; i++)
		if (le64toh(d[i].addr) == gpa) {
			d[i].addr = htole64(BAD_IOVA);
			hits++;
		}
	ASSERT_EQ(1u, hits);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ASSERT_LE(0, vhostctl_vq_kick(v->vq[VHOSTCTL_NET_TX]));

	/* Nothing reaches the link, nothing comes back used: the ring stalls. */
	EXPECT_EQ(-EAGAIN, link_recv(v, got, sizeof(got), 1000));
	EXPECT_EQ(0, reap_tx(v));
	ASSERT_EQ(0, vhostctl_dev_iotlb_stats(v->dev, &st));
	EXPECT_LE(1u, st.unanswered);
	EXPECT_LT(0u, misses_in(v, 0, BAD_IOVA, 1));
	EXPECT_EQ(0, v->serve_err);
	/* A translation failure in the ring itself would fire the err eventfd. */
	if (eventfd_read(v->err[VHOSTCTL_NET_TX], &errs) == 0)
		TH_LOG("tx err eventfd fired %llu times", (unsigned long long)errs);
	/* RX, on rings and buffers already mapped, still works. */
	frame_fill(f, 200, 2000);
	ASSERT_EQ(0, pkt_send(v->pkt, v->ifindex, f, 200));
	EXPECT_EQ(200, inet_recv(v, got, sizeof(got), 3000));
	EXPECT_EQ(0, memcmp(f, got, 200));
}

/* Argument checks, and the IOTLB calls before enable. */
TEST(bad_args)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_iotlb_opts, o);
	struct vhostctl_iotlb_stats st;
	struct vhostctl_dev *dev = vhostctl_dev_open("/dev/vhost-net", NULL);

	ASSERT_NE(NULL, dev);
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_serve(dev));	/* not enabled */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_invalidate(dev, 0, 4096));
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_stats(dev, &st));
	o.max_map = 100;
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_enable(dev, &o));
	o.max_map = 2048;
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_enable(dev, &o));
	o.max_map = 0;
	o.flags = 0x80;
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_enable(dev, &o));
	o.flags = 0;
	EXPECT_EQ(0, vhostctl_dev_iotlb_enable(dev, &o));
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_invalidate(dev, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_invalidate(dev, UINT64_MAX, 2));
	/* ACCESS_PLATFORM not acked: no device IOTLB to drop from. */
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_invalidate(dev, 0, 4096));
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_stats(dev, NULL));
	EXPECT_EQ(0, vhostctl_dev_iotlb_stats(dev, &st));
	EXPECT_EQ(0u, st.misses);
	/* Nothing pending: serve returns at once. */
	EXPECT_EQ(0, vhostctl_dev_iotlb_serve(dev));
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_serve(NULL));
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_invalidate(NULL, 0, 4096));
	EXPECT_EQ(-EINVAL, vhostctl_dev_iotlb_enable(NULL, NULL));
	vhostctl_dev_close(dev);
}

/* A vhost-user handle has no device IOTLB of this kind. */
TEST(not_kernel)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no);
	struct vhostctl_iotlb_stats st;
	struct vhostctl_vu_backend *be;
	struct vhostctl_dev *dev;
	char path[64];

	snprintf(path, sizeof(path), "/tmp/vhostctl-iotlb-%d.sock", getpid());
	unlink(path);
	be = vhostctl_vu_net_new(&no);
	ASSERT_NE(NULL, be);
	ASSERT_EQ(0, vhostctl_vu_backend_listen(be, path));
	ASSERT_EQ(0, vhostctl_vu_backend_start(be));
	dev = vhostctl_vu_open(path, NULL);
	ASSERT_NE(NULL, dev);
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_iotlb_enable(dev, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_iotlb_serve(dev));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_iotlb_invalidate(dev, 0, 4096));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_iotlb_stats(dev, &st));
	vhostctl_dev_close(dev);
	vhostctl_vu_backend_free(be);
	unlink(path);
}

TEST_HARNESS_MAIN
