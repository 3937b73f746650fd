// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every generic control call of libvhostctl on vhost-net and vhost-vsock,
 * and the errors they give for misuse: calls before SET_OWNER, bad vring
 * indexes, bad ring sizes, ring and buffer addresses outside the memory
 * table, features the device does not offer, the 6.12 worker and
 * fork-owner controls, the canonical set-up's error reporting.  Each gives
 * a clear -errno and leaks no fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "kselftest_harness.h"
#include "fds.h"
#include "netdev.h"

#define F(b) (1ULL << (b))
#define GPA 0x100000ull
#define SIZE (1ull << 20)

FIXTURE(ctl)
{
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	int fds;
	int efd;
};

FIXTURE_VARIANT(ctl)
{
	const char *path;
	unsigned int nvqs;
	bool net;
};

FIXTURE_VARIANT_ADD(ctl, net)
{
	.path = "/dev/vhost-net",
	.nvqs = 2,
	.net = true,
};

FIXTURE_VARIANT_ADD(ctl, vsock)
{
	.path = "/dev/vhost-vsock",
	.nvqs = 2,
};

FIXTURE_SETUP(ctl)
{
	self->fds = count_fds();
	self->dev = vhostctl_dev_open(variant->path, NULL);
	ASSERT_NE(NULL, self->dev);
	self->mem = vhostctl_mem_new();
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, vhostctl_mem_add_region(self->mem, GPA, SIZE, 0));
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ctl)
{
	vhostctl_dev_close(self->dev);
	vhostctl_mem_free(self->mem);
	close(self->efd);
	/* Whatever the test did, the handle and the memory took their fds along. */
	EXPECT_EQ(self->fds, count_fds());
}

/* Before SET_OWNER every vring and table call is refused with EPERM. */
TEST_F(ctl, before_owner)
{
	struct vhostctl_log log = { .base = &log, .size = 8, .fd = -1 };
	struct vhostctl_vring_addr a = { .desc = GPA, .avail = GPA + 4096, .used = GPA + 8192 };
	unsigned int v;
	uint64_t f;

	/* The feature query works without an owner. */
	EXPECT_EQ(0, vhostctl_dev_get_features(self->dev, &f));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_mem_table(self->dev, self->mem));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-EPERM, vhostctl_dev_set_vring_num(self->dev, 0, 256));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_vring_base(self->dev, 0, 0));
	EXPECT_EQ(-EPERM, vhostctl_dev_get_vring_base(self->dev, 0, &v));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_vring_kick(self->dev, 0, self->efd));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_vring_call(self->dev, 0, self->efd));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_vring_err(self->dev, 0, self->efd));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_vring_busyloop_timeout(self->dev, 0, 10));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_log_base(self->dev, &log));
	EXPECT_EQ(-EPERM, vhostctl_dev_set_log_fd(self->dev, self->efd));
	EXPECT_EQ(-EPERM, vhostctl_dev_new_worker(self->dev, &v));
	/* No memory table in the handle yet: the library refuses ring addresses. */
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_vring_addr(self->dev, &a));
	if (variant->net)
		EXPECT_EQ(-EPERM, vhostctl_net_set_backend(self->dev, 0, -1));
}

/* A vring index past the device's vrings: ENOBUFS from the kernel. */
TEST_F(ctl, bad_index)
{
	struct vhostctl_vring_addr a = { .index = variant->nvqs, .desc = GPA,
					 .avail = GPA + 4096, .used = GPA + 8192 };
	unsigned int n = variant->nvqs, v;

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->mem));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_num(self->dev, n, 256));
	EXPECT_EQ(ENOBUFS, errno);
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_base(self->dev, n, 0));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_get_vring_base(self->dev, 99, &v));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_addr(self->dev, &a));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_kick(self->dev, n, self->efd));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_call(self->dev, n, self->efd));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_err(self->dev, n, self->efd));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_set_vring_busyloop_timeout(self->dev, n, 1));
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_get_vring_busyloop_timeout(self->dev, ~0u, &v));
	if (variant->net)
		EXPECT_EQ(-ENOBUFS, vhostctl_net_set_backend(self->dev, n, -1));
	/* The last valid index works. */
	EXPECT_EQ(0, vhostctl_dev_set_vring_num(self->dev, n - 1, 256));
}

/* Ring sizes: powers of two up to 32768, nothing else. */
TEST_F(ctl, bad_num)
{
	static const unsigned int bad[] = { 0, 1 + 0, 3, 255, 257, 1000, 65535, 65536, 1u << 31 };

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i] == 1)
			continue;
		EXPECT_EQ(-EINVAL, vhostctl_dev_set_vring_num(self->dev, 0, bad[i]));
	}
	EXPECT_EQ(0, vhostctl_dev_set_vring_num(self->dev, 0, 1));
	EXPECT_EQ(0, vhostctl_dev_set_vring_num(self->dev, 0, 32768));
	EXPECT_EQ(0, vhostctl_dev_set_vring_num(self->dev, 1, 256));
	/* And the driver side refuses them the same way. */
	EXPECT_EQ(NULL, vhostctl_vq_new(self->mem, 0, 255, F(VHOSTCTL_F_VERSION_1), NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, vhostctl_vq_new(self->mem, 0, 65536, F(VHOSTCTL_F_VERSION_1), NULL));
	/* 32768 entries do not fit in 1 MiB with their indirect tables. */
	EXPECT_EQ(NULL, vhostctl_vq_new(self->mem, 0, 32768,
					F(VHOSTCTL_F_VERSION_1) | F(VHOSTCTL_F_INDIRECT_DESC), NULL));
	EXPECT_EQ(ENOMEM, errno);
}

/* Ring addresses outside the memory table, or misaligned. */
TEST_F(ctl, bad_addr)
{
	struct vhostctl_vring_addr a = { .desc = GPA, .avail = GPA + 4096, .used = GPA + 8192,
					 .log = GPA + 8192 };

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->mem));
	ASSERT_EQ(0, vhostctl_dev_set_vring_num(self->dev, 0, 256));
	EXPECT_EQ(0, vhostctl_dev_set_vring_addr(self->dev, &a));
	a.desc = GPA + SIZE;	/* just past the region */
	EXPECT_EQ(-EFAULT, vhostctl_dev_set_vring_addr(self->dev, &a));
	a.desc = 0;		/* below it */
	EXPECT_EQ(-EFAULT, vhostctl_dev_set_vring_addr(self->dev, &a));
	a.desc = GPA;
	a.used = GPA + SIZE - 2;	/* straddles the end */
	EXPECT_EQ(-EFAULT, vhostctl_dev_set_vring_addr(self->dev, &a));
	a.used = GPA + 8192 + 2;	/* used ring must be 4-aligned: the kernel says */
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_vring_addr(self->dev, &a));
	a.used = GPA + 8192;
	a.avail = GPA + 4096 + 1;	/* avail ring must be 2-aligned */
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_vring_addr(self->dev, &a));
	a.avail = GPA + 4096;
	a.flags = 0x80;			/* unknown flag */
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_vring_addr(self->dev, &a));
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_vring_addr(self->dev, NULL));
}

/* Features: unknown bits are refused, offered ones accepted. */
TEST_F(ctl, features)
{
	uint64_t f, bf;

	ASSERT_EQ(0, vhostctl_dev_get_features(self->dev, &f));
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_features(self->dev, f | F(63)));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_features(self->dev, F(34)));	/* RING_PACKED */
	EXPECT_EQ(0, vhostctl_dev_set_features(self->dev, f & ~F(VHOSTCTL_F_ACCESS_PLATFORM)));
	ASSERT_EQ(0, vhostctl_dev_get_backend_features(self->dev, &bf));
	EXPECT_EQ(F(1), bf);	/* IOTLB_MSG_V2 only */
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_backend_features(self->dev, F(1) | F(3)));
	EXPECT_EQ(0, vhostctl_dev_set_backend_features(self->dev, F(1)));
	EXPECT_EQ(-EINVAL, vhostctl_dev_get_features(self->dev, NULL));
	EXPECT_EQ(-EINVAL, vhostctl_dev_get_features(NULL, &f));
}

/* Worker control: vhost-net and vhost-vsock do not wire it (ENOTTY). */
TEST_F(ctl, workers)
{
	unsigned int id = 0;

	EXPECT_EQ(-EPERM, vhostctl_dev_new_worker(self->dev, &id));
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(-ENOTTY, vhostctl_dev_new_worker(self->dev, &id));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-ENOTTY, vhostctl_dev_free_worker(self->dev, 0));
	EXPECT_EQ(-ENOTTY, vhostctl_dev_attach_vring_worker(self->dev, 0, 0));
	EXPECT_EQ(-ENOTTY, vhostctl_dev_get_vring_worker(self->dev, 0, &id));
}

/* Fork owner (6.17, in 6.12.y): settable before SET_OWNER only. */
TEST_F(ctl, fork_owner)
{
	unsigned int m = 7;

	ASSERT_EQ(0, vhostctl_dev_get_fork_owner(self->dev, &m));
	EXPECT_EQ(VHOSTCTL_FORK_OWNER_TASK, m);
	EXPECT_EQ(0, vhostctl_dev_set_fork_owner(self->dev, VHOSTCTL_FORK_OWNER_KTHREAD));
	ASSERT_EQ(0, vhostctl_dev_get_fork_owner(self->dev, &m));
	EXPECT_EQ(VHOSTCTL_FORK_OWNER_KTHREAD, m);
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_fork_owner(self->dev, 2));
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(-EBUSY, vhostctl_dev_set_fork_owner(self->dev, VHOSTCTL_FORK_OWNER_TASK));
}

TEST_F(ctl, busyloop)
{
	unsigned int us = 0;

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_set_vring_busyloop_timeout(self->dev, 1, 50));
	ASSERT_EQ(0, vhostctl_dev_get_vring_busyloop_timeout(self->dev, 1, &us));
	EXPECT_EQ(50u, us);
	ASSERT_EQ(0, vhostctl_dev_get_vring_busyloop_timeout(self->dev, 0, &us));
	EXPECT_EQ(0u, us);
}

/* Calls the kernel transport does not have. */
TEST_F(ctl, not_in_kernel)
{
	uint8_t s, buf[4];

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_vring_enable(self->dev, 0, 1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_get_config(self->dev, 0, buf, 4));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_config(self->dev, 0, buf, 4));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_get_status(self->dev, &s));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_status(self->dev, 0));
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_reset(self->dev));
	EXPECT_EQ(-EINVAL, vhostctl_vsock_set_running(NULL, 1));
}

/* Bad fds and log arguments. */
TEST_F(ctl, bad_fds)
{
	struct vhostctl_log log = { .base = NULL, .size = 8, .fd = -1 };
	int p[2];

	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(-EBADF, vhostctl_dev_set_vring_kick(self->dev, 0, -2));
	/* A valid number that is not an eventfd. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_vring_kick(self->dev, 0, p[0]));
	EXPECT_EQ(-EBADF, vhostctl_dev_set_vring_call(self->dev, 0, 999));
	EXPECT_EQ(-EINVAL, vhostctl_dev_set_log_base(self->dev, &log));
	if (variant->net) {
		struct vhostctl_vq *vq;

		/* Without ring addresses, any backend is refused: EFAULT. */
		ASSERT_EQ(0, vhostctl_dev_set_vring_num(self->dev, 0, 256));
		EXPECT_EQ(-EFAULT, vhostctl_net_set_backend(self->dev, 0, p[0]));
		ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->mem));
		vq = vhostctl_vq_new(self->mem, 0, 64, 0, NULL);
		ASSERT_NE(NULL, vq);
		ASSERT_EQ(0, vhostctl_vq_attach(vq, self->dev, 0));
		/*
		 * Neither tap/tun nor a socket; and not an fd at all, which
		 * vhost-net reports the same way (both lookups failed).
		 */
		EXPECT_EQ(-ENOTSOCK, vhostctl_net_set_backend(self->dev, 0, p[0]));
		EXPECT_EQ(-ENOTSOCK, vhostctl_net_set_backend(self->dev, 0, 999));
		vhostctl_dev_set_vring_kick(self->dev, 0, -1);
		vhostctl_dev_set_vring_call(self->dev, 0, -1);
		vhostctl_vq_free(vq);
	}
	close(p[0]);
	close(p[1]);
}

/* The set-up helper names the failing step and leaves nothing behind. */
TEST_F(ctl, setup_errors)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = 256,
			   .required = F(63));
	struct vhostctl_vq *vqs[2];

	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_setup(self->dev, self->mem, vqs, &o, NULL));
	EXPECT_STREQ("features", vhostctl_dev_setup_step(self->dev));
	o.required = F(VHOSTCTL_F_VERSION_1);
	o.queue_size = 300;
	EXPECT_EQ(-EINVAL, vhostctl_dev_setup(self->dev, self->mem, vqs, &o, NULL));
	EXPECT_STREQ("vq_new", vhostctl_dev_setup_step(self->dev));
	EXPECT_EQ(NULL, vqs[0]);
	/* The failed set-up dropped the owner: a good one works now. */
	o.queue_size = 256;
	if (!variant->net) {
		/* vhost-vsock has no RESET_OWNER: the failed attempt kept the owner. */
		EXPECT_EQ(-EBUSY, vhostctl_dev_setup(self->dev, self->mem, vqs, &o, NULL));
		EXPECT_STREQ("set_owner", vhostctl_dev_setup_step(self->dev));
		return;
	}
	EXPECT_EQ(0, vhostctl_dev_setup(self->dev, self->mem, vqs, &o, NULL));
	EXPECT_STREQ("", vhostctl_dev_setup_step(self->dev));
	EXPECT_EQ(0, vhostctl_dev_teardown(self->dev, vqs, 2));
	EXPECT_EQ(NULL, vqs[1]);
}

/* Open, set up, run, tear down and close many times: no fd stays open. */
TEST_F(ctl, no_fd_leak)
{
	int before = count_fds();

	for (int i = 0; i < 20; i++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = 64,
				   .features = F(VHOSTCTL_F_VERSION_1));
		struct vhostctl_dev *d = vhostctl_dev_open(variant->path, NULL);
		struct vhostctl_mem *m = vhostctl_mem_new();
		struct vhostctl_vq *vqs[2];

		ASSERT_NE(NULL, d);
		ASSERT_EQ(0, vhostctl_mem_add_region(m, 0, 1 << 20, 0));
		if (i & 1)
			o.required = F(62);	/* every other one fails */
		EXPECT_EQ(i & 1 ? -EOPNOTSUPP : 0, vhostctl_dev_setup(d, m, vqs, &o, NULL));
		if (!(i & 1))
			EXPECT_EQ(0, vhostctl_dev_teardown(d, vqs, 2));
		vhostctl_dev_close(d);
		vhostctl_mem_free(m);
	}
	EXPECT_EQ(before, count_fds());
}

/*
 * A descriptor whose buffer is outside the device's memory table: the
 * kernel cannot translate it, signals the vring's error eventfd and sends
 * nothing.  The device gets a table with one region (a second mapping of
 * the same memfd: memory is shareable); our queue's memory has one more.
 */
TEST_F(ctl, desc_outside_mem_table)
{
	struct vhostctl_mem *devmem = vhostctl_mem_new();
	struct vhostctl_mem_region r;
	struct vhostctl_vq *vq, *vq0;
	struct vhostctl_vq_buf b[2];
	struct pollfd pfd;
	int tfd;

	ASSERT_EQ(0, vhostctl_mem_get_region(self->mem, 0, &r));
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, vhostctl_mem_add_fd(devmem, r.gpa, r.size, r.fd, r.fd_offset));
	ASSERT_EQ(1, vhostctl_mem_add_region(self->mem, 0x40000000, 1 << 20, 0));
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_set_features(self->dev, F(VHOSTCTL_F_VERSION_1)));
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, devmem));
	vq = vhostctl_vq_new(self->mem, 1, 64, F(VHOSTCTL_F_VERSION_1), NULL);
	ASSERT_NE(NULL, vq);
	ASSERT_EQ(0, vhostctl_vq_attach(vq, self->dev, 0));
	/* vhost-vsock starts only with both rings in place. */
	vq0 = vhostctl_vq_new(self->mem, 0, 64, F(VHOSTCTL_F_VERSION_1), NULL);
	ASSERT_NE(NULL, vq0);
	ASSERT_EQ(0, vhostctl_vq_attach(vq0, self->dev, 0));
	ASSERT_EQ(0, vhostctl_dev_set_vring_err(self->dev, 1, self->efd));
	tfd = -1;
	if (variant->net) {
		char name[16];
		int ifindex;

		tfd = tap_open(name, &ifindex, 12);
		ASSERT_LE(0, tfd);
		ASSERT_EQ(0, vhostctl_net_set_backend(self->dev, 1, tfd));
	} else {
		ASSERT_EQ(0, vhostctl_vsock_set_guest_cid(self->dev, 4000));
		ASSERT_EQ(0, vhostctl_vsock_set_running(self->dev, 1));
	}
	/* Header inside the table, payload in the region the device lacks. */
	b[0] = (struct vhostctl_vq_buf){ GPA + SIZE - 64, 44 };
	b[1] = (struct vhostctl_vq_buf){ 0x40000000, 100 };
	ASSERT_EQ(0, vhostctl_vq_add(vq, b, 2, 0, (void *)1, 0));
	ASSERT_EQ(1, vhostctl_vq_kick(vq));
	pfd = (struct pollfd){ .fd = self->efd, .events = POLLIN };
	EXPECT_EQ(1, poll(&pfd, 1, 3000)) TH_LOG("no vring error signalled");
	/* Nothing was used. */
	EXPECT_EQ(-ETIMEDOUT, vhostctl_vq_wait(vq, 100));
	if (variant->net)
		vhostctl_net_set_backend(self->dev, 1, -1);
	else
		vhostctl_vsock_set_running(self->dev, 0);
	vhostctl_dev_set_vring_kick(self->dev, 1, -1);
	vhostctl_dev_set_vring_call(self->dev, 1, -1);
	vhostctl_dev_set_vring_err(self->dev, 1, -1);
	vhostctl_dev_set_vring_kick(self->dev, 0, -1);
	vhostctl_dev_set_vring_call(self->dev, 0, -1);
	vhostctl_vq_free(vq);
	vhostctl_vq_free(vq0);
	vhostctl_mem_free(devmem);
	if (tfd >= 0)
		close(tfd);
}

TEST_HARNESS_MAIN
