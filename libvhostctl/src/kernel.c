// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Kernel transport: vhost-net, vhost-vsock and the other in-kernel vhost
 * devices, driven through ioctls on their character device.
 */
#include <sys/ioctl.h>

#include "internal.h"
#include "kabi.h"

static int kern_set_owner(struct vhostctl_dev *dev)
{
	int r = vhc_ioctl(dev->fd, VHOST_SET_OWNER, NULL);

	if (r == -ENOTTY)
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_OWNER: fd %d is not a vhost device", dev->fd);
	return r;
}

static int kern_reset_owner(struct vhostctl_dev *dev)
{
	return vhc_ioctl(dev->fd, VHOST_RESET_OWNER, NULL);
}

static int kern_get_features(struct vhostctl_dev *dev, uint64_t *features)
{
	__u64 f;
	int r = vhc_ioctl(dev->fd, VHOST_GET_FEATURES, &f);

	if (!r)
		*features = f;
	return r;
}

static int kern_set_features(struct vhostctl_dev *dev, uint64_t features)
{
	__u64 f = features;

	return vhc_ioctl(dev->fd, VHOST_SET_FEATURES, &f);
}

const struct vhc_dev_ops vhc_kernel_ops = {
	.name = "kernel",
	.set_owner = kern_set_owner,
	.reset_owner = kern_reset_owner,
	.get_features = kern_get_features,
	.set_features = kern_set_features,
};
