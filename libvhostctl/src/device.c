// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The device handle: generic calls that dispatch to the transport's ops.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

int vhc_ioctl(int fd, unsigned long req, void *arg)
{
	if (ioctl(fd, req, arg) < 0)
		return -errno;
	return 0;
}

int vhc_opts_copy_known(void *dst, size_t dst_sz, const void *src, size_t known)
{
	const unsigned char *p = src;
	size_t sz;

	memset(dst, 0, dst_sz);
	if (!src)
		return 0;
	memcpy(&sz, src, sizeof(sz));
	if (sz < sizeof(size_t))
		return -EINVAL;
	/* Past our last field: a newer caller's fields, or padding, all zero. */
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return -E2BIG;
	memcpy(dst, src, sz < known ? sz : known);
	return 0;
}

void vhc_log(const struct vhostctl_dev *dev, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!dev || !dev->log || level > dev->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dev->log(dev->log_ctx, level, buf);
}

struct vhostctl_dev *vhc_dev_alloc(enum vhostctl_transport transport,
				   const struct vhc_dev_ops *ops, int fd,
				   const struct vhostctl_dev_opts *opts)
{
	struct vhostctl_dev_opts o;
	struct vhostctl_dev *dev;
	int r;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r) {
		errno = -r;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->ops = ops;
	dev->transport = transport;
	dev->fd = fd;
	dev->log = o.log;
	dev->log_ctx = o.log_ctx;
	dev->log_level = o.log_level ? o.log_level : VHOSTCTL_LOG_WARNING;
	return dev;
}

/* /dev/vhost-vdpa-N, by its name: the node's major number is dynamic. */
static bool vdpa_match_path(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "vhost-vdpa-", 11);
}

/* Tried in this order by path: the kernel row takes whatever is left. */
static const struct vhc_transport vhc_transports[] = {
	{
		.transport = VHOSTCTL_TRANSPORT_VDPA,
		.name = "vhost-vdpa",
		.ops = &vhc_vdpa_ops,
		.match_path = vdpa_match_path,
	},
	{
		.transport = VHOSTCTL_TRANSPORT_USER,
		.name = "vhost-user",
		.ops = &vhc_vu_ops,
		.match_path = vhc_vu_match_path,
		.open_path = vhc_vu_open_path,
		.no_fd = true,
	},
	{
		.transport = VHOSTCTL_TRANSPORT_KERNEL,
		.name = "kernel",
		.ops = &vhc_kernel_ops,
	},
};

static const struct vhc_transport *transport_find(enum vhostctl_transport t)
{
	for (size_t i = 0; i < VHC_ARRAY_SIZE(vhc_transports); i++)
		if (vhc_transports[i].transport == t)
			return &vhc_transports[i];
	return NULL;
}

VHC_EXPORT struct vhostctl_dev *vhostctl_dev_open_fd(int fd, enum vhostctl_transport transport,
						     const struct vhostctl_dev_opts *opts)
{
	const struct vhc_transport *t;
	struct vhostctl_dev *dev;
	int e, r;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	t = transport_find(transport);
	if (!t || t->no_fd) {
		close(fd);
		errno = EOPNOTSUPP;
		return NULL;
	}
	dev = vhc_dev_alloc(transport, t->ops, fd, opts);
	if (!dev) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (t->ops->init) {
		r = t->ops->init(dev);
		if (r) {
			vhostctl_dev_close(dev);
			errno = -r;
			return NULL;
		}
	}
	return dev;
}

VHC_EXPORT struct vhostctl_dev *vhostctl_dev_open(const char *path,
						  const struct vhostctl_dev_opts *opts)
{
	const struct vhc_transport *t = NULL;
	int fd;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < VHC_ARRAY_SIZE(vhc_transports) && !t; i++)
		if (!vhc_transports[i].match_path || vhc_transports[i].match_path(path))
			t = &vhc_transports[i];
	if (t->open_path)
		return t->open_path(path, opts);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	return vhostctl_dev_open_fd(fd, t->transport, opts);
}

VHC_EXPORT void vhostctl_dev_close(struct vhostctl_dev *dev)
{
	int e = errno;

	if (!dev)
		return;
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	if (dev->fd >= 0)
		close(dev->fd);
	free(dev);
	errno = e;
}

VHC_EXPORT int vhostctl_dev_fd(const struct vhostctl_dev *dev)
{
	return dev ? dev->fd : vhc_err(EINVAL);
}

VHC_EXPORT enum vhostctl_transport vhostctl_dev_transport(const struct vhostctl_dev *dev)
{
	return dev->transport;
}

/* Call an op, or fail with -EOPNOTSUPP when the transport has none. */
#define VHC_CALL(dev, op, ...)                                                 \
	(!(dev) ? vhc_err(EINVAL) :                                            \
	 !(dev)->ops->op ? vhc_err(EOPNOTSUPP) :                               \
	 vhc_ret((dev)->ops->op((dev), ##__VA_ARGS__)))

VHC_EXPORT int vhostctl_dev_set_owner(struct vhostctl_dev *dev)
{
	return VHC_CALL(dev, set_owner);
}

VHC_EXPORT int vhostctl_dev_reset_owner(struct vhostctl_dev *dev)
{
	return VHC_CALL(dev, reset_owner);
}

VHC_EXPORT int vhostctl_dev_get_features(struct vhostctl_dev *dev, uint64_t *features)
{
	if (!features)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_features, features);
}

VHC_EXPORT int vhostctl_dev_set_features(struct vhostctl_dev *dev, uint64_t features)
{
	int r = VHC_CALL(dev, set_features, features);

	if (!r)
		dev->acked_features = features;
	return r;
}

VHC_EXPORT int vhostctl_dev_get_backend_features(struct vhostctl_dev *dev, uint64_t *features)
{
	if (!features)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_backend_features, features);
}

VHC_EXPORT int vhostctl_dev_set_backend_features(struct vhostctl_dev *dev, uint64_t features)
{
	return VHC_CALL(dev, set_backend_features, features);
}

VHC_EXPORT int vhostctl_dev_set_mem_table(struct vhostctl_dev *dev,
					  const struct vhostctl_mem *mem)
{
	int r;

	if (!mem)
		return vhc_err(EINVAL);
	r = VHC_CALL(dev, set_mem_table, mem);
	if (!r)
		dev->mem = mem;
	return r;
}

/* The largest split or packed ring virtio allows. */
#define VHC_VRING_MAX 32768u

VHC_EXPORT int vhostctl_dev_set_vring_num(struct vhostctl_dev *dev, unsigned int index,
					  unsigned int num)
{
	/* Same rule for every transport: a power of two, at most 32768. */
	if (!num || num > VHC_VRING_MAX || (num & (num - 1)))
		return vhc_err(EINVAL);
	return VHC_CALL(dev, set_vring_num, index, num);
}

VHC_EXPORT int vhostctl_dev_set_vring_addr(struct vhostctl_dev *dev,
					   const struct vhostctl_vring_addr *addr)
{
	if (!addr || addr->flags & ~VHOSTCTL_VRING_F_LOG)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, set_vring_addr, addr);
}

VHC_EXPORT int vhostctl_dev_set_vring_base(struct vhostctl_dev *dev, unsigned int index,
					   unsigned int base)
{
	return VHC_CALL(dev, set_vring_base, index, base);
}

VHC_EXPORT int vhostctl_dev_get_vring_base(struct vhostctl_dev *dev, unsigned int index,
					   unsigned int *base)
{
	if (!base)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_vring_base, index, base);
}

VHC_EXPORT int vhostctl_dev_set_vring_kick(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	if (fd < -1)
		return vhc_err(EBADF);
	return VHC_CALL(dev, set_vring_kick, index, fd);
}

VHC_EXPORT int vhostctl_dev_set_vring_call(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	if (fd < -1)
		return vhc_err(EBADF);
	return VHC_CALL(dev, set_vring_call, index, fd);
}

VHC_EXPORT int vhostctl_dev_set_vring_err(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	if (fd < -1)
		return vhc_err(EBADF);
	return VHC_CALL(dev, set_vring_err, index, fd);
}

VHC_EXPORT int vhostctl_dev_set_vring_enable(struct vhostctl_dev *dev, unsigned int index,
					     int enable)
{
	return VHC_CALL(dev, set_vring_enable, index, !!enable);
}

VHC_EXPORT int vhostctl_dev_set_vring_busyloop_timeout(struct vhostctl_dev *dev,
						       unsigned int index, unsigned int usecs)
{
	return VHC_CALL(dev, set_vring_busyloop_timeout, index, usecs);
}

VHC_EXPORT int vhostctl_dev_get_vring_busyloop_timeout(struct vhostctl_dev *dev,
						       unsigned int index, unsigned int *usecs)
{
	if (!usecs)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_vring_busyloop_timeout, index, usecs);
}

VHC_EXPORT int vhostctl_dev_set_log_base(struct vhostctl_dev *dev, const struct vhostctl_log *log)
{
	if (!log || (!log->base && log->fd < 0))
		return vhc_err(EINVAL);
	return VHC_CALL(dev, set_log_base, log);
}

VHC_EXPORT int vhostctl_dev_set_log_fd(struct vhostctl_dev *dev, int fd)
{
	if (fd < -1)
		return vhc_err(EBADF);
	return VHC_CALL(dev, set_log_fd, fd);
}

VHC_EXPORT int vhostctl_dev_new_worker(struct vhostctl_dev *dev, unsigned int *worker_id)
{
	if (!worker_id)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, new_worker, worker_id);
}

VHC_EXPORT int vhostctl_dev_free_worker(struct vhostctl_dev *dev, unsigned int worker_id)
{
	return VHC_CALL(dev, free_worker, worker_id);
}

VHC_EXPORT int vhostctl_dev_attach_vring_worker(struct vhostctl_dev *dev, unsigned int index,
						unsigned int worker_id)
{
	return VHC_CALL(dev, attach_vring_worker, index, worker_id);
}

VHC_EXPORT int vhostctl_dev_get_vring_worker(struct vhostctl_dev *dev, unsigned int index,
					     unsigned int *worker_id)
{
	if (!worker_id)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_vring_worker, index, worker_id);
}

VHC_EXPORT int vhostctl_dev_set_fork_owner(struct vhostctl_dev *dev, unsigned int mode)
{
	if (mode > VHOSTCTL_FORK_OWNER_TASK)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, set_fork_owner, mode);
}

VHC_EXPORT int vhostctl_dev_get_fork_owner(struct vhostctl_dev *dev, unsigned int *mode)
{
	if (!mode)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_fork_owner, mode);
}

VHC_EXPORT int vhostctl_dev_get_config(struct vhostctl_dev *dev, unsigned int offset, void *buf,
				       unsigned int len)
{
	if (!buf && len)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_config, offset, buf, len);
}

VHC_EXPORT int vhostctl_dev_set_config(struct vhostctl_dev *dev, unsigned int offset,
				       const void *buf, unsigned int len)
{
	if (!buf && len)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, set_config, offset, buf, len);
}

VHC_EXPORT int vhostctl_dev_get_status(struct vhostctl_dev *dev, uint8_t *status)
{
	if (!status)
		return vhc_err(EINVAL);
	return VHC_CALL(dev, get_status, status);
}

VHC_EXPORT int vhostctl_dev_set_status(struct vhostctl_dev *dev, uint8_t status)
{
	return VHC_CALL(dev, set_status, status);
}

VHC_EXPORT int vhostctl_dev_reset(struct vhostctl_dev *dev)
{
	return VHC_CALL(dev, reset);
}
