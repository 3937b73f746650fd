// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The canonical set-up and tear-down of a device, on top of the generic
 * calls (so it works on every transport) and the driver-side queues.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static int setup_fail(struct vhostctl_dev *dev, const char *step, unsigned int q, int r)
{
	if (!dev->failed_step)
		dev->failed_step = step;
	if (q != ~0u)
		vhc_log(dev, VHOSTCTL_LOG_ERR, "setup: %s of vring %u: %s", step, q, strerror(-r));
	else
		vhc_log(dev, VHOSTCTL_LOG_ERR, "setup: %s: %s", step, strerror(-r));
	return r;
}

/* Virtio device status bits (virtio spec, 2.1). */
#define ST_ACKNOWLEDGE 0x01
#define ST_DRIVER 0x02
#define ST_DRIVER_OK 0x04
#define ST_FEATURES_OK 0x08

#define VF_ACCESS_PLATFORM 33

/* Add bits to the status byte; the device may refuse FEATURES_OK. */
static int setup_status(struct vhostctl_dev *dev, uint8_t add)
{
	uint8_t s;
	int r = vhostctl_dev_get_status(dev, &s);

	if (!r)
		r = vhostctl_dev_set_status(dev, s | add);
	if (!r && add & ST_FEATURES_OK) {
		r = vhostctl_dev_get_status(dev, &s);
		if (!r && !(s & ST_FEATURES_OK)) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "setup: the device refused the features");
			r = -EIO;
		}
	}
	return r;
}

/*
 * Whether fd -1 unbinds a ring's eventfd.  On vhost-user it is the "no fd"
 * flag, which asks the backend to poll the ring: a stopped ring's fds are
 * left alone there (GET_VRING_BASE already made the backend drop them).
 */
static bool fd_unbinds(const struct vhostctl_dev *dev)
{
	return dev->transport != VHOSTCTL_TRANSPORT_USER;
}

/*
 * Undo a failed set-up: stop each ring the device was given (GET_VRING_BASE)
 * before its fds are touched, since a running ring may be in use.
 * @attached: rings 0..attached-1 got their messages (and maybe ring
 * @attached partly).
 */
static void setup_stop(struct vhostctl_dev *dev, struct vhostctl_vq **vqs, unsigned int n,
		       unsigned int attached, unsigned int flags)
{
	unsigned int base;
	int e = errno;

	if (flags & VHOSTCTL_SETUP_VSOCK)
		vhostctl_vsock_set_running(dev, 0);
	for (unsigned int i = 0; i < n; i++) {
		if (!vqs[i])
			continue;
		if (i <= attached) {
			if (flags & VHOSTCTL_SETUP_NET_BACKEND)
				vhostctl_net_set_backend(dev, i, -1);
			vhostctl_dev_get_vring_base(dev, i, &base);
			if (fd_unbinds(dev)) {
				vhostctl_dev_set_vring_kick(dev, i, -1);
				vhostctl_dev_set_vring_call(dev, i, -1);
			}
		}
		vhostctl_vq_free(vqs[i]);
		vqs[i] = NULL;
	}
	errno = e;
}

VHC_EXPORT int vhostctl_dev_setup(struct vhostctl_dev *dev, struct vhostctl_mem *mem,
				  struct vhostctl_vq **vqs, const struct vhostctl_setup_opts *opts,
				  uint64_t *negotiated)
{
	struct vhostctl_setup_opts o;
	uint64_t offered, f;
	unsigned int i = 0, attached = 0;
	int r;

	if (!dev || !mem || !vqs || !opts)
		return vhc_err(EINVAL);
	dev->failed_step = NULL;
	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r)
		return vhc_err(-setup_fail(dev, "options", ~0u, r));
	if (!o.nqueues || o.flags & ~(VHOSTCTL_SETUP_NET_BACKEND | VHOSTCTL_SETUP_VSOCK |
				      VHOSTCTL_SETUP_LOG))
		return vhc_err(-setup_fail(dev, "options", ~0u, -EINVAL));
	for (i = 0; i < o.nqueues; i++)
		vqs[i] = NULL;

	r = vhostctl_dev_get_features(dev, &offered);
	if (r)
		return vhc_err(-setup_fail(dev, "get_features", ~0u, r));
	if ((offered & o.required) != o.required) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "setup: features 0x%llx required, not offered",
			(unsigned long long)(o.required & ~offered));
		return vhc_err(-setup_fail(dev, "features", ~0u, -EOPNOTSUPP));
	}
	f = offered & (o.features | o.required);
	/*
	 * A vDPA device reaches memory only through the IOTLB, translating
	 * IOVAs: that is what ACCESS_PLATFORM says, and parents may insist.
	 */
	if (dev->ops->virtio_status)
		f |= offered & (1ULL << VF_ACCESS_PLATFORM);
	r = vhostctl_dev_set_owner(dev);
	if (r)
		return vhc_err(-setup_fail(dev, "set_owner", ~0u, r));
	/* Virtio's order: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
	if (dev->ops->virtio_status) {
		r = vhostctl_dev_set_status(dev, 0);
		if (!r)
			r = vhostctl_dev_set_status(dev, ST_ACKNOWLEDGE);
		if (!r)
			r = vhostctl_dev_set_status(dev, ST_ACKNOWLEDGE | ST_DRIVER);
		if (r) {
			setup_fail(dev, "set_status", ~0u, r);
			goto err_reset_owner;
		}
	}
	r = vhostctl_dev_set_features(dev, f);
	if (r) {
		setup_fail(dev, "set_features", ~0u, r);
		goto err_reset_owner;
	}
	if (dev->ops->virtio_status) {
		r = setup_status(dev, ST_FEATURES_OK);
		if (r) {
			setup_fail(dev, "features_ok", ~0u, r);
			goto err_reset_owner;
		}
	}
	r = vhostctl_dev_set_mem_table(dev, mem);
	if (r) {
		setup_fail(dev, "set_mem_table", ~0u, r);
		goto err_reset_owner;
	}
	for (i = 0; i < o.nqueues; i++, attached++) {
		vqs[i] = vhostctl_vq_new(mem, i, o.queue_size, f, o.vq_opts);
		if (!vqs[i]) {
			r = -errno;
			setup_fail(dev, "vq_new", i, r);
			goto err_stop;
		}
		r = vhc_vq_attach(vqs[i], dev,
				  o.flags & VHOSTCTL_SETUP_LOG ? VHOSTCTL_VQ_ATTACH_LOG : 0, true);
		if (r) {
			setup_fail(dev, "set_vring", i, r);
			goto err_stop;
		}
		r = vhostctl_dev_set_vring_enable(dev, i, 1);
		if (r && r != -EOPNOTSUPP) {
			setup_fail(dev, "set_vring_enable", i, r);
			goto err_stop;
		}
	}
	if (o.flags & VHOSTCTL_SETUP_NET_BACKEND) {
		for (i = 0; i < o.nqueues; i++) {
			r = vhostctl_net_set_backend(dev, i, o.net_backend_fd);
			if (r) {
				setup_fail(dev, "net_set_backend", i, r);
				goto err_stop;
			}
		}
	}
	if (o.flags & VHOSTCTL_SETUP_VSOCK) {
		r = vhostctl_vsock_set_guest_cid(dev, o.vsock_cid);
		if (r) {
			setup_fail(dev, "vsock_set_guest_cid", ~0u, r);
			goto err_stop;
		}
		r = vhostctl_vsock_set_running(dev, 1);
		if (r) {
			setup_fail(dev, "vsock_set_running", ~0u, r);
			goto err_stop;
		}
	}
	/* The device may use the rings from here on. */
	if (dev->ops->virtio_status) {
		r = setup_status(dev, ST_DRIVER_OK);
		if (r) {
			setup_fail(dev, "driver_ok", ~0u, r);
			goto err_stop;
		}
	}
	dev->setup_flags = o.flags;
	if (negotiated)
		*negotiated = f;
	return 0;

err_stop:
	setup_stop(dev, vqs, o.nqueues, attached, o.flags);
err_reset_owner:
	if (dev->ops->virtio_status)
		vhostctl_dev_reset(dev);
	vhostctl_dev_reset_owner(dev);
	return vhc_err(-r);
}

VHC_EXPORT const char *vhostctl_dev_setup_step(const struct vhostctl_dev *dev)
{
	return dev && dev->failed_step ? dev->failed_step : "";
}

VHC_EXPORT int vhostctl_dev_teardown(struct vhostctl_dev *dev, struct vhostctl_vq **vqs,
				     unsigned int nqueues)
{
	unsigned int base;
	int r, first = 0;

	if (!dev || !vqs)
		return vhc_err(EINVAL);
	dev->failed_step = NULL;
	if (dev->setup_flags & VHOSTCTL_SETUP_VSOCK) {
		r = vhostctl_vsock_set_running(dev, 0);
		if (r && !first)
			first = setup_fail(dev, "vsock_set_running", ~0u, r);
	}
	/* Indexes read below stay put only once the device stopped. */
	if (dev->ops->suspend) {
		r = dev->ops->suspend(dev);
		if (r && r != -EOPNOTSUPP && !first)
			first = setup_fail(dev, "suspend", ~0u, r);
	}
	for (unsigned int i = 0; i < nqueues; i++) {
		if (!vqs[i])
			continue;
		if (dev->setup_flags & VHOSTCTL_SETUP_NET_BACKEND) {
			r = vhostctl_net_set_backend(dev, i, -1);
			if (r && !first)
				first = setup_fail(dev, "net_set_backend", i, r);
		}
		r = vhostctl_dev_get_vring_base(dev, i, &base);
		if (r && !first)
			first = setup_fail(dev, "get_vring_base", i, r);
		if (fd_unbinds(dev)) {
			r = vhostctl_dev_set_vring_kick(dev, i, -1);
			if (r && !first)
				first = setup_fail(dev, "set_vring_kick", i, r);
			r = vhostctl_dev_set_vring_call(dev, i, -1);
			if (r && !first)
				first = setup_fail(dev, "set_vring_call", i, r);
		}
		vhostctl_vq_free(vqs[i]);
		vqs[i] = NULL;
	}
	if (dev->ops->virtio_status) {
		r = vhostctl_dev_reset(dev);
		if (r && !first)
			first = setup_fail(dev, "reset", ~0u, r);
	}
	dev->setup_flags = 0;
	return first ? vhc_err(-first) : 0;
}
