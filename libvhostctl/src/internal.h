/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Internal interfaces of libvhostctl: the device handle and the ops table
 * that each transport implements.
 */
#ifndef VHOSTCTL_INTERNAL_H
#define VHOSTCTL_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#define VHC_EXPORT VHOSTCTL_API

#define VHC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Set errno and return its negation: the library's error convention. */
static inline int vhc_err(int e)
{
	errno = e;
	return -e;
}

/*
 * Turn a negative errno into the library's convention (errno set); pass
 * anything else through.
 */
static inline int vhc_ret(int r)
{
	if (r < 0)
		errno = -r;
	return r;
}

struct vhostctl_dev;

/*
 * One table per transport.  A NULL entry means the transport has no such
 * operation: the generic call returns -EOPNOTSUPP.  Entries return 0 or
 * -errno and need not set errno: the generic layer does.
 */
struct vhc_dev_ops {
	const char *name;
	int (*set_owner)(struct vhostctl_dev *dev);
	int (*reset_owner)(struct vhostctl_dev *dev);
	int (*get_features)(struct vhostctl_dev *dev, uint64_t *features);
	int (*set_features)(struct vhostctl_dev *dev, uint64_t features);
	void (*destroy)(struct vhostctl_dev *dev);
};

/*
 * The handle.  Used by one thread at a time, so nothing here is locked.
 */
struct vhostctl_dev {
	const struct vhc_dev_ops *ops;
	enum vhostctl_transport transport;
	int fd;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
	void *priv;	/* transport state */
};

struct vhostctl_dev *vhc_dev_alloc(enum vhostctl_transport transport,
				   const struct vhc_dev_ops *ops, int fd,
				   const struct vhostctl_dev_opts *opts);

__attribute__((format(printf, 3, 4)))
void vhc_log(const struct vhostctl_dev *dev, int level, const char *fmt, ...);

/* ioctl() returning 0 or -errno. */
int vhc_ioctl(int fd, unsigned long req, void *arg);

/* Size-checked copy of a caller's options struct into a zeroed one of ours. */
int vhc_opts_copy(void *dst, size_t dst_sz, const void *src);

extern const struct vhc_dev_ops vhc_kernel_ops;

#endif /* VHOSTCTL_INTERNAL_H */
