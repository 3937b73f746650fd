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
#include <stddef.h>
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
 * -errno and need not set errno: the generic layer does.  The generic layer
 * has checked dev and every pointer argument; vring indexes are passed
 * through unchecked (the transport or its peer knows how many it has).
 * Ring addresses arrive as guest physical addresses; the transport
 * translates them as it must (dev->mem for the kernel and vhost-user).
 */
struct vhc_dev_ops {
	const char *name;
	/*
	 * The device has a virtio status byte that vhostctl_dev_setup() must
	 * walk (ACKNOWLEDGE, DRIVER, FEATURES_OK before the rings, DRIVER_OK
	 * last) and vhostctl_dev_teardown() must clear: vDPA.  Elsewhere the
	 * status is optional (vhost-user) or absent (kernel).
	 */
	bool virtio_status;
	/* Transport state for a handle just made of an fd; NULL: none needed. */
	int (*init)(struct vhostctl_dev *dev);
	/* Stop processing and keep ring state (teardown); NULL: not possible. */
	int (*suspend)(struct vhostctl_dev *dev);
	int (*set_owner)(struct vhostctl_dev *dev);
	int (*reset_owner)(struct vhostctl_dev *dev);
	int (*get_features)(struct vhostctl_dev *dev, uint64_t *features);
	int (*set_features)(struct vhostctl_dev *dev, uint64_t features);
	int (*get_backend_features)(struct vhostctl_dev *dev, uint64_t *features);
	int (*set_backend_features)(struct vhostctl_dev *dev, uint64_t features);
	/* On success the generic layer records mem in dev->mem (borrowed). */
	int (*set_mem_table)(struct vhostctl_dev *dev, const struct vhostctl_mem *mem);
	int (*set_vring_num)(struct vhostctl_dev *dev, unsigned int index, unsigned int num);
	int (*set_vring_addr)(struct vhostctl_dev *dev, const struct vhostctl_vring_addr *addr);
	int (*set_vring_base)(struct vhostctl_dev *dev, unsigned int index, unsigned int base);
	int (*get_vring_base)(struct vhostctl_dev *dev, unsigned int index, unsigned int *base);
	/* fd -1 unbinds; the transport does not take ownership of fd. */
	int (*set_vring_kick)(struct vhostctl_dev *dev, unsigned int index, int fd);
	int (*set_vring_call)(struct vhostctl_dev *dev, unsigned int index, int fd);
	int (*set_vring_err)(struct vhostctl_dev *dev, unsigned int index, int fd);
	int (*set_vring_enable)(struct vhostctl_dev *dev, unsigned int index, int enable);
	int (*set_vring_busyloop_timeout)(struct vhostctl_dev *dev, unsigned int index,
					  unsigned int usecs);
	int (*get_vring_busyloop_timeout)(struct vhostctl_dev *dev, unsigned int index,
					  unsigned int *usecs);
	/* base: the bitmap in our address space; fd/offset: the same, shareable. */
	int (*set_log_base)(struct vhostctl_dev *dev, const struct vhostctl_log *log);
	int (*set_log_fd)(struct vhostctl_dev *dev, int fd);
	int (*new_worker)(struct vhostctl_dev *dev, unsigned int *worker_id);
	int (*free_worker)(struct vhostctl_dev *dev, unsigned int worker_id);
	int (*attach_vring_worker)(struct vhostctl_dev *dev, unsigned int index,
				   unsigned int worker_id);
	int (*get_vring_worker)(struct vhostctl_dev *dev, unsigned int index,
				unsigned int *worker_id);
	int (*set_fork_owner)(struct vhostctl_dev *dev, unsigned int mode);
	int (*get_fork_owner)(struct vhostctl_dev *dev, unsigned int *mode);
	int (*get_config)(struct vhostctl_dev *dev, unsigned int offset, void *buf,
			  unsigned int len);
	int (*set_config)(struct vhostctl_dev *dev, unsigned int offset, const void *buf,
			  unsigned int len);
	int (*get_status)(struct vhostctl_dev *dev, uint8_t *status);
	int (*set_status)(struct vhostctl_dev *dev, uint8_t status);
	int (*reset)(struct vhostctl_dev *dev);
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
	uint64_t acked_features;	/* last successful set_features */
	const struct vhostctl_mem *mem;	/* last memory table set; the caller's */
	unsigned int setup_flags;	/* VHOSTCTL_SETUP_* of vhostctl_dev_setup() */
	const char *failed_step;	/* of the last setup/teardown, static */
	void *priv;	/* transport state */
};

struct vhostctl_dev *vhc_dev_alloc(enum vhostctl_transport transport,
				   const struct vhc_dev_ops *ops, int fd,
				   const struct vhostctl_dev_opts *opts);

__attribute__((format(printf, 3, 4)))
void vhc_log(const struct vhostctl_dev *dev, int level, const char *fmt, ...);

/* ioctl() returning 0 or -errno. */
int vhc_ioctl(int fd, unsigned long req, void *arg);

/*
 * vhostctl_vq_attach(); @owned_now: the caller has just become the owner of
 * the device, so a kernel device's rings are at base 0 (vq.c).
 */
int vhc_vq_attach(struct vhostctl_vq *vq, struct vhostctl_dev *dev, unsigned int flags,
		  bool owned_now);

/* The end of @field in @type: where the next field of a later version may start. */
#define vhc_offsetofend(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/*
 * The last field this library knows of each options struct.  A struct's
 * tail padding is not a field: a caller built against a later header may
 * have one there, which we cannot honour, so the check stops at the last
 * field's end, not at sizeof.  A new options struct, or a new last field,
 * is added here (an options struct missing here does not compile).
 */
#define VHC_OPTS_KNOWN(o) _Generic((o), \
	struct vhostctl_dev_opts: vhc_offsetofend(struct vhostctl_dev_opts, log_level), \
	struct vhostctl_devq_opts: vhc_offsetofend(struct vhostctl_devq_opts, call_fd), \
	struct vhostctl_iotlb_opts: vhc_offsetofend(struct vhostctl_iotlb_opts, miss_ctx), \
	struct vhostctl_vdpa_restore_opts: \
		vhc_offsetofend(struct vhostctl_vdpa_restore_opts, flags), \
	struct vhostctl_setup_opts: vhc_offsetofend(struct vhostctl_setup_opts, vq_opts), \
	struct vhostctl_vdpa_dev_add_opts: \
		vhc_offsetofend(struct vhostctl_vdpa_dev_add_opts, device_features), \
	struct vhostctl_vu_opts: vhc_offsetofend(struct vhostctl_vu_opts, timeout_ms), \
	struct vhostctl_vu_postcopy_opts: \
		vhc_offsetofend(struct vhostctl_vu_postcopy_opts, source_size), \
	struct vhostctl_vu_backend_opts: vhc_offsetofend(struct vhostctl_vu_backend_opts, load_state), \
	struct vhostctl_vu_net_opts: vhc_offsetofend(struct vhostctl_vu_net_opts, no_features), \
	struct vhostctl_vu_blk_opts: vhc_offsetofend(struct vhostctl_vu_blk_opts, num_queues), \
	struct vhostctl_vq_opts: vhc_offsetofend(struct vhostctl_vq_opts, max_indirect), \
	struct vhostctl_vduse_opts: vhc_offsetofend(struct vhostctl_vduse_opts, ctx), \
	struct vhostctl_vduse_blk_opts: vhc_offsetofend(struct vhostctl_vduse_blk_opts, flags), \
	struct vhostctl_vduse_serve_opts: vhc_offsetofend(struct vhostctl_vduse_serve_opts, flags))

/*
 * Copy a caller's options struct into a zeroed one of ours: its size field
 * says how much it has; we read up to our last known field (@known) and
 * refuse (-E2BIG) a non-zero byte past it, in a later field or in padding.
 */
int vhc_opts_copy_known(void *dst, size_t dst_sz, const void *src, size_t known);
#define vhc_opts_copy(dst, dst_sz, src) \
	vhc_opts_copy_known(dst, dst_sz, src, VHC_OPTS_KNOWN(*(dst)))

extern const struct vhc_dev_ops vhc_kernel_ops;
extern const struct vhc_dev_ops vhc_vdpa_ops;
extern const struct vhc_dev_ops vhc_vu_ops;

/*
 * One row per transport, read by vhostctl_dev_open() and
 * vhostctl_dev_open_fd() (device.c).  Rows are tried in order by path; the
 * first whose match_path() says yes opens it.
 */
struct vhc_transport {
	enum vhostctl_transport transport;
	const char *name;
	const struct vhc_dev_ops *ops;
	/* Does this path name one of our devices?  NULL: any path. */
	bool (*match_path)(const char *path);
	/* Open by path; NULL: open(2) O_RDWR | O_CLOEXEC, then as by fd. */
	struct vhostctl_dev *(*open_path)(const char *path, const struct vhostctl_dev_opts *opts);
	/* A caller's fd cannot become a handle of this transport (vhost-user: handshake). */
	bool no_fd;
};

/* vu_frontend.c: vhostctl_dev_open() of a vhost-user socket. */
bool vhc_vu_match_path(const char *path);
struct vhostctl_dev *vhc_vu_open_path(const char *path, const struct vhostctl_dev_opts *opts);

/* mem.c: translation for transports (NULL when [gpa, gpa+len) is not mapped). */
void *vhc_mem_gpa_to_hva(const struct vhostctl_mem *mem, uint64_t gpa, uint64_t len);

#endif /* VHOSTCTL_INTERNAL_H */
