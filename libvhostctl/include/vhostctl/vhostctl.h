/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * libvhostctl: set up virtqueues on a vhost device, whatever sits behind it:
 * the kernel (vhost-net, vhost-vsock), vDPA (vhost-vdpa) or another process
 * (vhost-user).
 *
 * Conventions: functions returning int give 0 (or a count) on success and a
 * negative errno on failure, with errno set as well; functions returning a
 * pointer give NULL and set errno.  The library prints nothing: it reports
 * through return values and the optional log callback.  A handle is used by
 * one thread at a time unless its documentation says otherwise.
 */
#ifndef VHOSTCTL_VHOSTCTL_H
#define VHOSTCTL_VHOSTCTL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VHOSTCTL_API __attribute__((visibility("default")))

#define VHOSTCTL_VERSION_MAJOR 0
#define VHOSTCTL_VERSION_MINOR 1

/**
 * VHOSTCTL_OPTS_INIT() - declare an options struct with its size filled in
 * @type: the struct type, e.g. struct vhostctl_dev_opts
 * @name: the variable
 *
 * Options structs grow at their end; their first member is their size, so
 * that a library built later can tell which fields the caller knows.
 */
#define VHOSTCTL_OPTS_INIT(type, name, ...) \
	type name = { .sz = sizeof(type), __VA_ARGS__ }

/**
 * enum vhostctl_transport - what implements a device
 * @VHOSTCTL_TRANSPORT_KERNEL: an in-kernel vhost device (/dev/vhost-net, /dev/vhost-vsock)
 * @VHOSTCTL_TRANSPORT_VDPA: a vDPA device through vhost-vdpa (/dev/vhost-vdpa-N)
 * @VHOSTCTL_TRANSPORT_USER: a vhost-user backend in another process
 */
enum vhostctl_transport {
	VHOSTCTL_TRANSPORT_KERNEL = 1,
	VHOSTCTL_TRANSPORT_VDPA = 2,
	VHOSTCTL_TRANSPORT_USER = 3,
};

/* Log levels of the log callback, as syslog's. */
#define VHOSTCTL_LOG_ERR 3
#define VHOSTCTL_LOG_WARNING 4
#define VHOSTCTL_LOG_INFO 6
#define VHOSTCTL_LOG_DEBUG 7

/**
 * typedef vhostctl_log_fn - receives the library's log messages
 * @ctx: the caller's pointer given with the callback
 * @level: VHOSTCTL_LOG_*
 * @msg: one line, without a trailing newline
 */
typedef void (*vhostctl_log_fn)(void *ctx, int level, const char *msg);

/**
 * struct vhostctl_dev_opts - options for opening a device
 * @sz: sizeof(struct vhostctl_dev_opts), see VHOSTCTL_OPTS_INIT()
 * @log: optional log callback
 * @log_ctx: passed to @log
 * @log_level: highest level passed to @log (0 means VHOSTCTL_LOG_WARNING)
 */
struct vhostctl_dev_opts {
	size_t sz;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
};

/** struct vhostctl_dev - a vhost device handle (opaque) */
struct vhostctl_dev;

/**
 * vhostctl_dev_open() - open a vhost character device
 * @path: /dev/vhost-net, /dev/vhost-vsock, /dev/vhost-vdpa-N, ...
 * @opts: options, or NULL
 *
 * The transport is vDPA for vhost-vdpa devices and kernel otherwise.  The fd
 * is opened O_RDWR | O_CLOEXEC.
 *
 * Return: a handle, or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_dev *vhostctl_dev_open(const char *path,
						    const struct vhostctl_dev_opts *opts);

/**
 * vhostctl_dev_open_fd() - make a handle of a vhost device fd the caller opened
 * @fd: the fd; the handle owns it from now on, even when this call fails
 * @transport: VHOSTCTL_TRANSPORT_KERNEL or VHOSTCTL_TRANSPORT_VDPA
 * @opts: options, or NULL
 *
 * Return: a handle, or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_dev *vhostctl_dev_open_fd(int fd, enum vhostctl_transport transport,
						       const struct vhostctl_dev_opts *opts);

/**
 * vhostctl_dev_close() - release a device handle and every fd it holds
 * @dev: the handle, or NULL
 */
VHOSTCTL_API void vhostctl_dev_close(struct vhostctl_dev *dev);

/**
 * vhostctl_dev_fd() - the device's fd (kernel and vDPA) or socket (vhost-user)
 * @dev: the handle
 *
 * Return: the fd, owned by the handle.
 */
VHOSTCTL_API int vhostctl_dev_fd(const struct vhostctl_dev *dev);

/**
 * vhostctl_dev_transport() - what implements the device
 * @dev: the handle
 *
 * Return: an enum vhostctl_transport value.
 */
VHOSTCTL_API enum vhostctl_transport vhostctl_dev_transport(const struct vhostctl_dev *dev);

/**
 * vhostctl_dev_set_owner() - make the calling process the device's owner
 * @dev: the handle
 *
 * Every other control call but the feature queries needs an owner.
 *
 * Return: 0, or -EBUSY when the device has an owner already, or another -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_owner(struct vhostctl_dev *dev);

/**
 * vhostctl_dev_reset_owner() - drop the owner and reset the device's state
 * @dev: the handle
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_reset_owner(struct vhostctl_dev *dev);

/**
 * vhostctl_dev_get_features() - read the feature bits the device offers
 * @dev: the handle
 * @features: where to store them
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_get_features(struct vhostctl_dev *dev, uint64_t *features);

/**
 * vhostctl_dev_set_features() - acknowledge feature bits
 * @dev: the handle
 * @features: a subset of what vhostctl_dev_get_features() gave
 *
 * Return: 0, -EOPNOTSUPP for a bit the device does not offer, or another -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_features(struct vhostctl_dev *dev, uint64_t features);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_VHOSTCTL_H */
