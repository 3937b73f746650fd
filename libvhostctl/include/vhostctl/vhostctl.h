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
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VHOSTCTL_API __attribute__((visibility("default")))

/* The version of these headers; vhostctl_version() gives the library's. */
#define VHOSTCTL_VERSION_MAJOR 0
#define VHOSTCTL_VERSION_MINOR 2

/**
 * VHOSTCTL_OPTS_INIT() - declare an options struct, zeroed, with its size filled in
 * @type: the struct type, e.g. struct vhostctl_dev_opts
 * @name: the variable
 *
 * Options structs grow at their end; their first member is their size, so
 * that a library built later can tell which fields the caller knows.  The
 * library refuses (E2BIG) a non-zero byte past the last field it knows,
 * padding included: the whole struct is zeroed first.  In C, fields may
 * follow as designated initialisers (``.log = fn``); in C++ (from C++11,
 * without designated initialisers) the macro takes two arguments and
 * fields are assigned after it.
 */
#ifdef __cplusplus
#define VHOSTCTL_OPTS_INIT(type, name) \
	type name = [] {                 \
		type vhc_o_;             \
		memset(&vhc_o_, 0, sizeof(vhc_o_)); \
		vhc_o_.sz = sizeof(vhc_o_);        \
		return vhc_o_;           \
	}()
#else
#define VHOSTCTL_OPTS_INIT(type, name, ...) \
	type name = (memset(&name, 0, sizeof(type)), (type){ .sz = sizeof(type), __VA_ARGS__ })
#endif

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

/**
 * vhostctl_version() - the version of the library running
 *
 * Return: "MAJOR.MINOR.PATCH", a static string; never NULL.
 */
VHOSTCTL_API const char *vhostctl_version(void);

/** struct vhostctl_dev - a vhost device handle (opaque) */
struct vhostctl_dev;

/**
 * vhostctl_dev_open() - open a vhost character device
 * @path: /dev/vhost-net, /dev/vhost-vsock, /dev/vhost-vdpa-N, ...
 * @opts: options, or NULL
 *
 * The transport is vDPA for vhost-vdpa-N nodes, vhost-user for a Unix socket
 * (connected as by vhostctl_vu_open() with default options) and kernel
 * otherwise.  Device nodes are opened O_RDWR | O_CLOEXEC.
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
 * Return: a handle, or NULL with errno set (EOPNOTSUPP for an unknown
 * transport or vhost-user, whose handle needs vhostctl_vu_open()).
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

/** struct vhostctl_mem - guest memory: regions with fds (opaque, see vhostctl/mem.h) */
struct vhostctl_mem;

/**
 * vhostctl_dev_get_backend_features() - read the VHOST_BACKEND_F_* bits offered
 * @dev: the handle
 * @features: where to store them (bit numbers as in linux/vhost_types.h)
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_get_backend_features(struct vhostctl_dev *dev, uint64_t *features);

/**
 * vhostctl_dev_set_backend_features() - acknowledge VHOST_BACKEND_F_* bits
 * @dev: the handle
 * @features: a subset of the offered bits
 *
 * Return: 0, -EOPNOTSUPP for a bit not offered, or another -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_backend_features(struct vhostctl_dev *dev, uint64_t features);

/**
 * vhostctl_dev_set_mem_table() - give the device the guest memory map
 * @dev: the handle
 * @mem: the memory object; it must outlive its use by @dev (the handle
 *       keeps a pointer to translate ring addresses)
 *
 * Return: 0 or -errno (-E2BIG: more regions than the device accepts).
 */
VHOSTCTL_API int vhostctl_dev_set_mem_table(struct vhostctl_dev *dev,
					    const struct vhostctl_mem *mem);

/** VHOSTCTL_VRING_F_LOG - log writes to the used ring (vhostctl_vring_addr.flags) */
#define VHOSTCTL_VRING_F_LOG 0x1u

/**
 * struct vhostctl_vring_addr - where a vring's three parts are
 * @index: the vring
 * @flags: VHOSTCTL_VRING_F_LOG or 0
 * @desc: guest physical address of the descriptor table
 * @avail: guest physical address of the driver area (available ring)
 * @used: guest physical address of the device area (used ring)
 * @log: guest physical address logged for used-ring writes (normally @used)
 *
 * Addresses are guest physical; each transport translates them through the
 * memory table set last (the kernel wants our virtual addresses).
 */
struct vhostctl_vring_addr {
	unsigned int index;
	unsigned int flags;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	uint64_t log;
};

/**
 * vhostctl_dev_set_vring_num() - set a vring's size
 * @dev: the handle
 * @index: the vring
 * @num: descriptors in the ring, a power of two
 *
 * Return: 0, -EINVAL for a bad size, -ENOBUFS for a bad index, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_num(struct vhostctl_dev *dev, unsigned int index,
					    unsigned int num);

/**
 * vhostctl_dev_set_vring_addr() - say where a vring lives
 * @dev: the handle
 * @addr: the addresses, guest physical
 *
 * Return: 0, -EFAULT when an address is outside the memory table, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_addr(struct vhostctl_dev *dev,
					     const struct vhostctl_vring_addr *addr);

/**
 * vhostctl_dev_set_vring_base() - set the next available index the device reads
 * @dev: the handle
 * @index: the vring
 * @base: the index (split rings: 0..65535)
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_base(struct vhostctl_dev *dev, unsigned int index,
					     unsigned int base);

/**
 * vhostctl_dev_get_vring_base() - stop a vring and read its next available index
 * @dev: the handle
 * @index: the vring
 * @base: where to store the index
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_get_vring_base(struct vhostctl_dev *dev, unsigned int index,
					     unsigned int *base);

/**
 * vhostctl_dev_set_vring_kick() - eventfd the driver signals on new buffers
 * @dev: the handle
 * @index: the vring
 * @fd: an eventfd, or -1 to unbind; the caller keeps it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_kick(struct vhostctl_dev *dev, unsigned int index, int fd);

/**
 * vhostctl_dev_set_vring_call() - eventfd the device signals on used buffers
 * @dev: the handle
 * @index: the vring
 * @fd: an eventfd, or -1 to unbind; the caller keeps it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_call(struct vhostctl_dev *dev, unsigned int index, int fd);

/**
 * vhostctl_dev_set_vring_err() - eventfd the device signals on a vring error
 * @dev: the handle
 * @index: the vring
 * @fd: an eventfd, or -1 to unbind; the caller keeps it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_err(struct vhostctl_dev *dev, unsigned int index, int fd);

/**
 * vhostctl_dev_set_vring_enable() - enable or disable a vring
 * @dev: the handle
 * @index: the vring
 * @enable: 1 or 0
 *
 * Return: 0, -EOPNOTSUPP where the transport has no such control (kernel), or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_enable(struct vhostctl_dev *dev, unsigned int index,
					       int enable);

/**
 * vhostctl_dev_set_vring_busyloop_timeout() - busy-poll budget of a vring
 * @dev: the handle
 * @index: the vring
 * @usecs: microseconds, 0 disables
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_vring_busyloop_timeout(struct vhostctl_dev *dev,
							 unsigned int index, unsigned int usecs);

/**
 * vhostctl_dev_get_vring_busyloop_timeout() - read a vring's busy-poll budget
 * @dev: the handle
 * @index: the vring
 * @usecs: where to store it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_get_vring_busyloop_timeout(struct vhostctl_dev *dev,
							 unsigned int index, unsigned int *usecs);

/**
 * struct vhostctl_log - a dirty-page bitmap, one bit per 4 KiB guest page
 * @base: the bitmap in the caller's address space (the kernel writes here)
 * @size: its size in bytes
 * @fd: a shareable fd holding it (for vhost-user), or -1
 * @offset: where the bitmap starts in @fd
 */
struct vhostctl_log {
	void *base;
	uint64_t size;
	int fd;
	uint64_t offset;
};

/**
 * vhostctl_dev_set_log_base() - give the device the dirty-page bitmap
 * @dev: the handle
 * @log: the bitmap; it must stay mapped while logging is on
 *
 * Logging happens while VHOST_F_LOG_ALL (bit 26) is acknowledged.
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_log_base(struct vhostctl_dev *dev,
					   const struct vhostctl_log *log);

/**
 * vhostctl_dev_set_log_fd() - eventfd the device signals after logging
 * @dev: the handle
 * @fd: an eventfd, or -1; the caller keeps it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_log_fd(struct vhostctl_dev *dev, int fd);

/**
 * vhostctl_dev_new_worker() - create an extra worker thread (Linux 6.5+)
 * @dev: the handle
 * @worker_id: where to store its id
 *
 * Return: 0, -ENOTTY where the device has no worker control (vhost-net and
 * vhost-vsock), or -errno.
 */
VHOSTCTL_API int vhostctl_dev_new_worker(struct vhostctl_dev *dev, unsigned int *worker_id);

/**
 * vhostctl_dev_free_worker() - free a worker no vring uses
 * @dev: the handle
 * @worker_id: the worker
 *
 * Return: 0 or -errno (-ENOTTY: see vhostctl_dev_new_worker()).
 */
VHOSTCTL_API int vhostctl_dev_free_worker(struct vhostctl_dev *dev, unsigned int worker_id);

/**
 * vhostctl_dev_attach_vring_worker() - run a vring on a worker
 * @dev: the handle
 * @index: the vring
 * @worker_id: the worker
 *
 * Return: 0 or -errno (-ENOTTY: see vhostctl_dev_new_worker()).
 */
VHOSTCTL_API int vhostctl_dev_attach_vring_worker(struct vhostctl_dev *dev, unsigned int index,
						  unsigned int worker_id);

/**
 * vhostctl_dev_get_vring_worker() - read which worker runs a vring
 * @dev: the handle
 * @index: the vring
 * @worker_id: where to store it
 *
 * Return: 0 or -errno (-ENOTTY: see vhostctl_dev_new_worker()).
 */
VHOSTCTL_API int vhostctl_dev_get_vring_worker(struct vhostctl_dev *dev, unsigned int index,
					       unsigned int *worker_id);

/* Worker flavours for vhostctl_dev_set_fork_owner(). */
#define VHOSTCTL_FORK_OWNER_KTHREAD 0u
#define VHOSTCTL_FORK_OWNER_TASK 1u

/**
 * vhostctl_dev_set_fork_owner() - choose task or kthread workers
 * @dev: the handle
 * @mode: VHOSTCTL_FORK_OWNER_TASK or VHOSTCTL_FORK_OWNER_KTHREAD
 *
 * Only before vhostctl_dev_set_owner().
 *
 * Return: 0, -EBUSY after SET_OWNER, -ENOTTY on kernels without the control,
 * or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_fork_owner(struct vhostctl_dev *dev, unsigned int mode);

/**
 * vhostctl_dev_get_fork_owner() - read the worker flavour
 * @dev: the handle
 * @mode: where to store it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_get_fork_owner(struct vhostctl_dev *dev, unsigned int *mode);

/**
 * vhostctl_dev_get_config() - read the device's config space
 * @dev: the handle
 * @offset: byte offset
 * @buf: destination
 * @len: bytes
 *
 * Return: 0, -EOPNOTSUPP where the transport has no config space (kernel), or -errno.
 */
VHOSTCTL_API int vhostctl_dev_get_config(struct vhostctl_dev *dev, unsigned int offset, void *buf,
					 unsigned int len);

/**
 * vhostctl_dev_set_config() - write the device's config space
 * @dev: the handle
 * @offset: byte offset
 * @buf: source
 * @len: bytes
 *
 * Return: 0, -EOPNOTSUPP where the transport has no config space, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_config(struct vhostctl_dev *dev, unsigned int offset,
					 const void *buf, unsigned int len);

/**
 * vhostctl_dev_get_status() - read the virtio device status byte
 * @dev: the handle
 * @status: where to store it
 *
 * Return: 0, -EOPNOTSUPP where the transport has no status (kernel), or -errno.
 */
VHOSTCTL_API int vhostctl_dev_get_status(struct vhostctl_dev *dev, uint8_t *status);

/**
 * vhostctl_dev_set_status() - write the virtio device status byte
 * @dev: the handle
 * @status: the new status
 *
 * Return: 0, -EOPNOTSUPP where the transport has no status, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_set_status(struct vhostctl_dev *dev, uint8_t status);

/**
 * vhostctl_dev_reset() - reset the device
 * @dev: the handle
 *
 * Return: 0, -EOPNOTSUPP where the transport has no device reset, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_reset(struct vhostctl_dev *dev);

#ifdef __cplusplus
}
#endif

#include <vhostctl/mem.h>
#include <vhostctl/kernel.h>
#include <vhostctl/vq.h>
#include <vhostctl/setup.h>
#include <vhostctl/vdpa.h>
#include <vhostctl/vhost_vdpa.h>
#include <vhostctl/migrate.h>

/* vhost-user, both sides, and the device side of the virtqueue. */
#include <vhostctl/devq.h>
#include <vhostctl/vhost_user.h>
#include <vhostctl/vu_share.h>

/* The same device side served over VDUSE. */
#include <vhostctl/vduse.h>

#endif /* VHOSTCTL_VHOSTCTL_H */
