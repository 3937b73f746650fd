// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost character devices through libvhostctl: open, owner, features, and
 * the errors the kernel gives for misuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "kselftest_harness.h"

#define VIRTIO_F_VERSION_1 32

FIXTURE(vhost_dev)
{
	struct vhostctl_dev *dev;
};

FIXTURE_VARIANT(vhost_dev)
{
	const char *path;
	uint64_t must_offer;	/* feature bits the 6.12 device offers */
	/*
	 * VHOST_RESET_OWNER: vhost-net implements it; vhost-vsock does not,
	 * and its fallback reads the NULL argument as a vring index: EFAULT.
	 */
	int reset_owner;
};

FIXTURE_VARIANT_ADD(vhost_dev, net)
{
	.path = "/dev/vhost-net",
	/* VERSION_1, EVENT_IDX, INDIRECT_DESC, VIRTIO_NET_HDR, LOG_ALL, MRG_RXBUF */
	.must_offer = (1ULL << 32) | (1ULL << 29) | (1ULL << 28) | (1ULL << 27) |
		      (1ULL << 26) | (1ULL << 15),
	.reset_owner = 0,
};

FIXTURE_VARIANT_ADD(vhost_dev, vsock)
{
	.path = "/dev/vhost-vsock",
	/* VERSION_1, EVENT_IDX, INDIRECT_DESC, LOG_ALL */
	.must_offer = (1ULL << 32) | (1ULL << 29) | (1ULL << 28) | (1ULL << 26),
	.reset_owner = -EFAULT,
};

FIXTURE_SETUP(vhost_dev)
{
	self->dev = vhostctl_dev_open(variant->path, NULL);
	ASSERT_NE(NULL, self->dev) TH_LOG("open %s: %s", variant->path, strerror(errno));
}

FIXTURE_TEARDOWN(vhost_dev)
{
	vhostctl_dev_close(self->dev);
}

TEST_F(vhost_dev, features)
{
	uint64_t f = 0;

	/* Readable before SET_OWNER, and the same after. */
	ASSERT_EQ(0, vhostctl_dev_get_features(self->dev, &f));
	EXPECT_EQ(variant->must_offer, f & variant->must_offer);
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	uint64_t g = 0;
	ASSERT_EQ(0, vhostctl_dev_get_features(self->dev, &g));
	EXPECT_EQ(f, g);
	EXPECT_EQ(0, vhostctl_dev_set_features(self->dev, 1ULL << VIRTIO_F_VERSION_1));
	TH_LOG("%s offers 0x%llx", variant->path, (unsigned long long)f);
}

TEST_F(vhost_dev, owner_twice)
{
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	errno = 0;
	EXPECT_EQ(-EBUSY, vhostctl_dev_set_owner(self->dev));
	EXPECT_EQ(EBUSY, errno);
	/* Where reset is implemented, it drops the owner: it can be set again. */
	ASSERT_EQ(variant->reset_owner, vhostctl_dev_reset_owner(self->dev));
	if (!variant->reset_owner)
		EXPECT_EQ(0, vhostctl_dev_set_owner(self->dev));
}

TEST_F(vhost_dev, unknown_features)
{
	uint64_t f;

	ASSERT_EQ(0, vhostctl_dev_get_features(self->dev, &f));
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	/* Bit 63 is offered by no vhost device. */
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_dev_set_features(self->dev, f | (1ULL << 63)));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

TEST_F(vhost_dev, reset_owner_without_owner)
{
	/*
	 * Only the owner may reset; on vhost-vsock the fallback path checks
	 * the owner before it reads its argument, so EPERM there too.
	 */
	EXPECT_EQ(-EPERM, vhostctl_dev_reset_owner(self->dev));
}

TEST(not_a_vhost_fd)
{
	int fds[2];
	struct vhostctl_dev *dev;
	uint64_t f;

	ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
	close(fds[1]);
	dev = vhostctl_dev_open_fd(fds[0], VHOSTCTL_TRANSPORT_KERNEL, NULL);
	ASSERT_NE(NULL, dev);
	EXPECT_EQ(-ENOTTY, vhostctl_dev_set_owner(dev));
	EXPECT_EQ(-ENOTTY, vhostctl_dev_get_features(dev, &f));
	vhostctl_dev_close(dev);
	EXPECT_EQ(-1, fcntl(fds[0], F_GETFD));
}

TEST(missing_device)
{
	EXPECT_EQ(NULL, vhostctl_dev_open("/dev/vhost-does-not-exist", NULL));
	EXPECT_EQ(ENOENT, errno);
}

TEST(second_open_has_its_own_owner)
{
	struct vhostctl_dev *a = vhostctl_dev_open("/dev/vhost-net", NULL);
	struct vhostctl_dev *b = vhostctl_dev_open("/dev/vhost-net", NULL);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	/* Each open is a separate vhost-net instance. */
	EXPECT_EQ(0, vhostctl_dev_set_owner(a));
	EXPECT_EQ(0, vhostctl_dev_set_owner(b));
	vhostctl_dev_close(a);
	vhostctl_dev_close(b);
}

TEST_HARNESS_MAIN
