// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-vsock end to end through libvhostctl: our process plays the guest
 * (driver side of the RX and TX queues, virtio-vsock packets from
 * helpers/vsock_guest.c); AF_VSOCK sockets in the VM's kernel are the host.
 * 1 MiB each way in both connection directions, clean shutdowns, two guests
 * at once, and the CID rules.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include <vhostctl/vhostctl.h>

#include "kselftest_harness.h"
#include "vsock_guest.h"

#define MIB (1u << 20)
#define TMO 20000

static void pattern(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 31 + (i >> 12));
}

static int read_full(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The host's side of one connection, run in a thread. */
struct host {
	uint64_t cid;		/* connect to this guest CID, or 0: accept on lfd */
	uint32_t port;
	int lfd;
	size_t len;		/* bytes each way */
	int result;		/* 0, or -errno / -EBADMSG for bad data */
	uint32_t peer_cid;	/* who connected (accepting) */
};

static void *host_thread(void *arg)
{
	struct host *h = arg;
	uint8_t *in = malloc(h->len), *out = malloc(h->len);
	struct timeval tv = { .tv_sec = 20 };
	int fd, r;
	char c;

	if (!in || !out) {
		h->result = -ENOMEM;
		goto out;
	}
	if (h->cid) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = (unsigned int)h->cid,
					 .svm_port = h->port };

		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			h->result = -errno;
			goto out;
		}
	} else {
		struct sockaddr_vm a;
		socklen_t al = sizeof(a);

		fd = accept4(h->lfd, (struct sockaddr *)&a, &al, SOCK_CLOEXEC);
		if (fd < 0) {
			h->result = -errno;
			goto out;
		}
		h->peer_cid = a.svm_cid;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (h->cid) {
		/* We connected: we talk first, then listen, then close. */
		pattern(out, h->len, 1);
		r = write_full(fd, out, h->len);
		if (!r)
			r = read_full(fd, in, h->len);
		pattern(out, h->len, 2);
		if (!r && memcmp(in, out, h->len))
			r = -EBADMSG;
	} else {
		/* The guest connected: it talks first; then we answer and
		 * wait for its shutdown (end of stream). */
		r = read_full(fd, in, h->len);
		pattern(out, h->len, 3);
		if (!r && memcmp(in, out, h->len))
			r = -EBADMSG;
		pattern(out, h->len, 4);
		if (!r)
			r = write_full(fd, out, h->len);
		if (!r && recv(fd, &c, 1, 0) != 0)
			r = -EPROTO;
	}
	h->result = r;
	close(fd);
out:
	free(in);
	free(out);
	return NULL;
}

static bool data_is(const struct vguest *g, size_t len, uint32_t seed)
{
	uint8_t *want = malloc(len);
	bool ok;

	pattern(want, len, seed);
	ok = g->len == len && !memcmp(g->data, want, len);
	free(want);
	return ok;
}

FIXTURE(vsock)
{
	struct vguest g;
};

FIXTURE_VARIANT(vsock)
{
	uint64_t features;
	uint64_t cid;
};

FIXTURE_VARIANT_ADD(vsock, v1)
{
	.features = 1ULL << VHOSTCTL_F_VERSION_1,
	.cid = 1234,
};

FIXTURE_VARIANT_ADD(vsock, v1_event_idx)
{
	.features = (1ULL << VHOSTCTL_F_VERSION_1) | (1ULL << VHOSTCTL_F_EVENT_IDX),
	.cid = 1235,
};

FIXTURE_VARIANT_ADD(vsock, v1_indirect)
{
	.features = (1ULL << VHOSTCTL_F_VERSION_1) | (1ULL << VHOSTCTL_F_INDIRECT_DESC),
	.cid = 1236,
};

FIXTURE_SETUP(vsock)
{
	const char *step;
	int r = vg_open(&self->g, variant->cid, variant->features, 2 * MIB, &step);

	ASSERT_EQ(0, r) TH_LOG("set-up failed at %s: %s", step, strerror(-r));
}

FIXTURE_TEARDOWN(vsock)
{
	vg_close(&self->g);
}

/* A socket in the VM connects to our CID; our guest side accepts. */
TEST_F_TIMEOUT(vsock, host_connects, 120)
{
	struct host h = { .cid = variant->cid, .port = 5000, .len = MIB };
	pthread_t t;
	uint8_t *buf = malloc(MIB);

	ASSERT_EQ(0, pthread_create(&t, NULL, host_thread, &h));
	ASSERT_EQ(0, vg_accept(&self->g, 5000, TMO));
	ASSERT_EQ(0, vg_recv_until(&self->g, MIB, TMO));
	EXPECT_TRUE(data_is(&self->g, MIB, 1));
	pattern(buf, MIB, 2);
	ASSERT_EQ(0, vg_send(&self->g, buf, MIB, TMO));
	/* The host closes: SHUTDOWN both ways, we answer with RST. */
	ASSERT_EQ(0, vg_recv_until(&self->g, MIB + 1, TMO));
	EXPECT_TRUE(self->g.reset);
	EXPECT_EQ((uint32_t)(VHOSTCTL_VSOCK_SHUTDOWN_RCV | VHOSTCTL_VSOCK_SHUTDOWN_SEND),
		  self->g.peer_shutdown);
	pthread_join(t, NULL);
	EXPECT_EQ(0, h.result) TH_LOG("host side: %s", strerror(-h.result));
	EXPECT_EQ(0ul, self->g.foreign);
	TH_LOG("%lu packets in, %lu out", self->g.pkts_rx, self->g.pkts_tx);
	free(buf);
}

/* Our guest connects to a listener in the VM (CID 2). */
TEST_F_TIMEOUT(vsock, guest_connects, 120)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = 6000 };
	struct host h = { .len = MIB };
	uint8_t *buf = malloc(MIB);
	pthread_t t;

	h.lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, h.lfd);
	ASSERT_EQ(0, bind(h.lfd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(h.lfd, 1));
	ASSERT_EQ(0, pthread_create(&t, NULL, host_thread, &h));
	ASSERT_EQ(0, vg_connect(&self->g, 6000, 40000, TMO));
	pattern(buf, MIB, 3);
	ASSERT_EQ(0, vg_send(&self->g, buf, MIB, TMO));
	ASSERT_EQ(0, vg_recv_until(&self->g, MIB, TMO));
	EXPECT_TRUE(data_is(&self->g, MIB, 4));
	/* We shut down; the host sees end of stream and answers with RST. */
	ASSERT_EQ(0, vg_shutdown(&self->g, TMO));
	pthread_join(t, NULL);
	EXPECT_EQ(0, h.result) TH_LOG("host side: %s", strerror(-h.result));
	EXPECT_EQ((uint32_t)variant->cid, h.peer_cid);
	close(h.lfd);
	free(buf);
}

/* Nobody listens: the host answers our REQUEST with RST. */
TEST_F(vsock, connect_refused)
{
	EXPECT_EQ(-ECONNREFUSED, vg_connect(&self->g, 6999, 40001, TMO));
}

/* Two devices with different CIDs at once, each gets its own connection. */
FIXTURE(two_guests)
{
	struct vguest g[2];
};

FIXTURE_SETUP(two_guests)
{
	const char *step;

	for (int i = 0; i < 2; i++) {
		int gi = i;

		ASSERT_EQ(0, vg_open(&self->g[i], 2000 + i, 1ULL << VHOSTCTL_F_VERSION_1, MIB, &step))
			TH_LOG("guest %d: %s", gi, step);
	}
}

FIXTURE_TEARDOWN(two_guests)
{
	vg_close(&self->g[0]);
	vg_close(&self->g[1]);
}

TEST_F_TIMEOUT(two_guests, both, 120)
{
	struct vguest *g = self->g;
	struct host h[2];
	pthread_t t[2];

	for (int i = 0; i < 2; i++) {
		h[i] = (struct host){ .cid = 2000 + i, .port = 7000, .len = 64 * 1024 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, host_thread, &h[i]));
	}
	/* Serve both guests from this thread, alternately. */
	g[0].listen_port = g[1].listen_port = 7000;
	for (int round = 0; round < 2000 && (g[0].len < h[0].len || g[1].len < h[1].len); round++)
		for (int i = 0; i < 2; i++)
			vg_poll(&g[i], 10);
	for (int i = 0; i < 2; i++) {
		uint8_t *buf = malloc(h[i].len);

		EXPECT_TRUE(g[i].connected);
		EXPECT_TRUE(data_is(&g[i], h[i].len, 1)) TH_LOG("guest %d got %zu", i, g[i].len);
		pattern(buf, h[i].len, 2);
		EXPECT_EQ(0, vg_send(&g[i], buf, h[i].len, TMO));
		EXPECT_EQ(0, vg_recv_until(&g[i], h[i].len + 1, TMO));
		free(buf);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, h[i].result) TH_LOG("host %d: %s", i, strerror(-h[i].result));
	}
}

/* A second device may not take a CID in use: the kernel says EADDRINUSE. */
TEST(duplicate_cid)
{
	struct vhostctl_dev *a = vhostctl_dev_open("/dev/vhost-vsock", NULL);
	struct vhostctl_dev *b = vhostctl_dev_open("/dev/vhost-vsock", NULL);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, vhostctl_dev_set_owner(a));
	ASSERT_EQ(0, vhostctl_dev_set_owner(b));
	ASSERT_EQ(0, vhostctl_vsock_set_guest_cid(a, 3000));
	EXPECT_EQ(-EADDRINUSE, vhostctl_vsock_set_guest_cid(b, 3000));
	EXPECT_EQ(EADDRINUSE, errno);
	EXPECT_EQ(0, vhostctl_vsock_set_guest_cid(b, 3001));
	/* Re-setting one's own CID is fine; once freed, the CID is free. */
	EXPECT_EQ(0, vhostctl_vsock_set_guest_cid(a, 3000));
	vhostctl_dev_close(a);
	EXPECT_EQ(0, vhostctl_vsock_set_guest_cid(b, 3000));
	vhostctl_dev_close(b);
}

/* Reserved and out-of-range CIDs are refused with EINVAL. */
TEST(reserved_cids)
{
	static const uint64_t bad[] = { 0, 1, 2, 0xffffffffULL, 0x100000000ULL, ~0ULL };
	struct vhostctl_dev *d = vhostctl_dev_open("/dev/vhost-vsock", NULL);

	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, vhostctl_dev_set_owner(d));
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long long cid = bad[i];

		EXPECT_EQ(-EINVAL, vhostctl_vsock_set_guest_cid(d, cid)) TH_LOG("cid 0x%llx", cid);
	}
	vhostctl_dev_close(d);
}

/* vsock calls on a vhost-net handle reach the kernel, which refuses them. */
TEST(vsock_call_on_net)
{
	struct vhostctl_dev *d = vhostctl_dev_open("/dev/vhost-net", NULL);

	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, vhostctl_dev_set_owner(d));
	/* vhost-net's fallback reads the first u32 (the CID) as a vring index. */
	EXPECT_EQ(-ENOBUFS, vhostctl_vsock_set_guest_cid(d, 3002));
	vhostctl_dev_close(d);
}

TEST_HARNESS_MAIN
