/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * libvhostctl: a device served over VDUSE.  The process creates a vDPA
 * device through /dev/vduse/control and answers the kernel on
 * /dev/vduse/NAME; once added on the vdpa bus (mgmtdev "vduse"), virtio_vdpa
 * hands it to the kernel's own virtio drivers, vhost_vdpa to a VMM or to
 * this library's vDPA transport.  The device is a set of facts (id,
 * features, config, queues) and a queue handler that works on the device
 * side of the rings (vhostctl/devq.h), as for the vhost-user backend.
 */
#ifndef VHOSTCTL_VDUSE_H
#define VHOSTCTL_VDUSE_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>
#include <vhostctl/devq.h>

#ifdef __cplusplus
extern "C" {
#endif

/** struct vhostctl_vduse - a VDUSE device served by this process (opaque) */
struct vhostctl_vduse;

/**
 * typedef vhostctl_vduse_queue_fn - process a queue
 * @vd: the device
 * @index: the queue
 * @q: its device side: pop, push, flush
 * @ctx: the application's pointer
 *
 * Called when the driver kicks a started queue.  Every buffer popped must be
 * pushed (or given back) before the handler returns: the library may remap
 * the driver's memory between two calls.  A flush that asks for an interrupt
 * is turned into VDUSE_VQ_INJECT_IRQ after the handler returns.
 *
 * Return: 0 when done, > 0 to be called again at once (more work), < 0 (a
 * -errno) to fail the device: the library stops every queue until the next
 * reset.
 */
typedef int (*vhostctl_vduse_queue_fn)(struct vhostctl_vduse *vd, unsigned int index,
				       struct vhostctl_devq *q, void *ctx);

/* Flags of struct vhostctl_vduse_opts. */
/** VHOSTCTL_VDUSE_F_REPLACE - destroy a stale VDUSE device of the same name first */
#define VHOSTCTL_VDUSE_F_REPLACE (1u << 0)
/**
 * VHOSTCTL_VDUSE_F_RECONNECT - take over a VDUSE device of the same name whose
 * server died: open it and resume its running split rings from their used
 * index (requests the dead server had taken but not completed are served
 * again); tried before VHOSTCTL_VDUSE_F_REPLACE.  Implies split rings: the
 * device does not offer RING_PACKED, whose rings do not say where a server
 * stopped
 */
#define VHOSTCTL_VDUSE_F_RECONNECT (1u << 1)

/**
 * struct vhostctl_vduse_opts - a device description
 * @sz: sizeof(struct vhostctl_vduse_opts)
 * @log: optional log callback
 * @log_ctx: passed to @log
 * @log_level: highest level passed to @log (0: VHOSTCTL_LOG_WARNING)
 * @name: the device name, also the vDPA device's name (1..63 bytes, no '/')
 * @device_id: virtio device id (1 net, 2 block: what the 6.12 kernel accepts)
 * @vendor_id: virtio vendor id, may be 0
 * @features: the device's feature bits; the library adds VERSION_1,
 *            ACCESS_PLATFORM (VDUSE requires it) and the ring bits it
 *            implements (EVENT_IDX, INDIRECT_DESC, RING_PACKED) unless
 *            @no_features masks them
 * @no_features: feature bits never to offer
 * @num_queues: the queue count, 1..64
 * @queue_size: largest ring the driver may set up, a power of two up to
 *              32768; 0: 256
 * @config: the config space, copied; may be NULL
 * @config_len: its size, at most 256
 * @flags: VHOSTCTL_VDUSE_F_*
 * @queue: the queue handler; required
 * @started: called when the driver sets DRIVER_OK and the queues run, with
 *           the negotiated features; may be NULL
 * @reset: called when the driver resets the device; may be NULL
 * @ctx: passed to the callbacks
 */
struct vhostctl_vduse_opts {
	size_t sz;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
	const char *name;
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t features;
	uint64_t no_features;
	unsigned int num_queues;
	unsigned int queue_size;
	const void *config;
	unsigned int config_len;
	unsigned int flags;
	vhostctl_vduse_queue_fn queue;
	void (*started)(struct vhostctl_vduse *vd, uint64_t features, void *ctx);
	void (*reset)(struct vhostctl_vduse *vd, void *ctx);
	void *ctx;
};

/**
 * vhostctl_vduse_new() - create a VDUSE device and open its fd
 * @opts: the description; required
 *
 * Sets the API version, creates the device with its config, features and
 * queue count, sets every queue's size and opens /dev/vduse/NAME.  The
 * device is not yet on the vdpa bus: add it with vhostctl_vdpa_dev_add()
 * (mgmtdev "vduse") while another thread or process runs
 * vhostctl_vduse_dispatch(), since the kernel waits for the answers.
 *
 * Return: the device, or NULL with errno set (EEXIST: a device of that
 * name exists, or with VHOSTCTL_VDUSE_F_RECONNECT is served by another
 * process; EINVAL: the kernel or the library refused the description).
 */
VHOSTCTL_API struct vhostctl_vduse *vhostctl_vduse_new(const struct vhostctl_vduse_opts *opts);

/**
 * vhostctl_vduse_free() - take the device off the vdpa bus, destroy it, free
 * @vd: the device, or NULL
 *
 * If a vDPA device of the same name exists it is deleted first (over vdpa
 * netlink, CAP_NET_ADMIN), while a thread of the library answers the
 * kernel's last requests; then the fd is closed and VDUSE_DESTROY_DEV
 * removes /dev/vduse/NAME.  Must not run while another thread is in
 * vhostctl_vduse_dispatch() or vhostctl_vduse_run().
 */
VHOSTCTL_API void vhostctl_vduse_free(struct vhostctl_vduse *vd);

/**
 * vhostctl_vduse_fd() - one fd for the application's event loop
 * @vd: the device
 *
 * Return: an epoll fd, readable when vhostctl_vduse_dispatch() has work;
 * owned by the device.
 */
VHOSTCTL_API int vhostctl_vduse_fd(const struct vhostctl_vduse *vd);

/**
 * vhostctl_vduse_dispatch() - answer the kernel's requests and serve kicks
 * @vd: the device
 * @timeout_ms: how long to wait for something (-1: forever, 0: do not wait)
 *
 * A request with values out of range (queue index, ring size or address,
 * IOTLB entry) is answered VDUSE_REQ_RESULT_FAILED and logged.
 *
 * Return: events handled (0 on timeout), -ECANCELED once
 * vhostctl_vduse_stop() was called, or -errno.
 */
VHOSTCTL_API int vhostctl_vduse_dispatch(struct vhostctl_vduse *vd, int timeout_ms);

/**
 * vhostctl_vduse_run() - dispatch until vhostctl_vduse_stop()
 * @vd: the device
 *
 * Return: 0 once stopped, or -errno.
 */
VHOSTCTL_API int vhostctl_vduse_run(struct vhostctl_vduse *vd);

/**
 * vhostctl_vduse_stop() - make vhostctl_vduse_run() return
 * @vd: the device
 *
 * Async-signal-safe and callable from any thread: it only writes to an
 * eventfd.  A signal handler calls it; the main line then calls
 * vhostctl_vduse_free().
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vduse_stop(struct vhostctl_vduse *vd);

/**
 * vhostctl_vduse_name() - the device's name
 * @vd: the device
 *
 * Return: the name, owned by @vd.
 */
VHOSTCTL_API const char *vhostctl_vduse_name(const struct vhostctl_vduse *vd);

/**
 * struct vhostctl_vduse_stats - what the transport did
 * @sz: sizeof(struct vhostctl_vduse_stats)
 * @requests: kernel requests answered
 * @failed: of them, answered VDUSE_REQ_RESULT_FAILED
 * @kicks: kick eventfd wake-ups served
 * @irqs: VDUSE_VQ_INJECT_IRQ calls
 * @maps: IOTLB regions mapped (mmap calls)
 * @status: the device status the driver last set
 * @features: the negotiated features (valid after FEATURES_OK)
 */
struct vhostctl_vduse_stats {
	size_t sz;
	uint64_t requests;
	uint64_t failed;
	uint64_t kicks;
	uint64_t irqs;
	uint64_t maps;
	uint8_t status;
	uint64_t features;
};

/**
 * vhostctl_vduse_stats() - read the transport's counters
 * @vd: the device
 * @stats: filled in; its @sz set by the caller
 *
 * Safe to call from another thread than the one dispatching: the counters
 * are read with relaxed atomic loads.
 *
 * Return: 0 or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vduse_stats(const struct vhostctl_vduse *vd,
				      struct vhostctl_vduse_stats *stats);

struct vhostctl_vu_backend;

/**
 * struct vhostctl_vduse_serve_opts - how a backend's device appears over VDUSE
 * @sz: sizeof(struct vhostctl_vduse_serve_opts)
 * @name: the device name, as for vhostctl_vduse_new()
 * @device_id: virtio device id; 0: the ready-made device's own (1 for
 *             vhostctl_vu_net_new(), 2 for vhostctl_vu_blk_new()); required
 *             for a device described with vhostctl_vu_backend_new()
 * @vendor_id: virtio vendor id, may be 0
 * @queue_size: largest ring, a power of two; 0: 256, or the backend's
 *              max_queue_size when that is smaller
 * @flags: VHOSTCTL_VDUSE_F_*
 */
struct vhostctl_vduse_serve_opts {
	size_t sz;
	const char *name;
	uint32_t device_id;
	uint32_t vendor_id;
	unsigned int queue_size;
	unsigned int flags;
};

/**
 * vhostctl_vduse_serve() - serve a vhost-user backend's device over VDUSE
 * @be: a device written on the backend API: vhostctl_vu_backend_new(),
 *      vhostctl_vu_net_new(), vhostctl_vu_blk_new(); not serving vhost-user
 * @opts: the VDUSE name and what vhost-user does not say; required
 *
 * The one call that changes between the two transports: where a vhost-user
 * server calls vhostctl_vu_backend_listen() and vhostctl_vu_backend_run(),
 * a VDUSE server calls this and vhostctl_vduse_run().  The device's
 * features, config space, queue count, queue handler and reset callback are
 * the backend's, unchanged; the handler gets @be, and
 * vhostctl_vu_backend_ctx() answers as under vhost-user.  Not carried over:
 * the set_config callback (VDUSE's config space is read-only to the driver)
 * and the vhost-user protocol features.
 *
 * @be is borrowed: free the VDUSE device with vhostctl_vduse_free() before
 * @be, and do not serve vhost-user with @be in between.
 *
 * Return: the device, or NULL with errno set (EBUSY: @be serves vhost-user
 * or VDUSE already; EINVAL: no device id; as vhostctl_vduse_new()).
 */
VHOSTCTL_API struct vhostctl_vduse *vhostctl_vduse_serve(struct vhostctl_vu_backend *be,
							 const struct vhostctl_vduse_serve_opts *opts);

/**
 * struct vhostctl_vduse_blk_opts - a virtio-blk device over VDUSE
 * @sz: sizeof(struct vhostctl_vduse_blk_opts)
 * @log: optional log callback
 * @log_ctx: passed to @log
 * @log_level: highest level passed to @log (0: VHOSTCTL_LOG_WARNING)
 * @name: the device name, as for vhostctl_vduse_new()
 * @path: a regular file to serve, its size a non-zero multiple of 512;
 *        mapped shared, so what the driver writes is in the file
 * @fd: when @path is NULL, an open regular file to serve instead (> 0; the
 *      caller keeps it); when both are unset, a RAM disk of @size bytes
 * @size: the RAM disk's size, a non-zero multiple of 512
 * @read_only: offer VIRTIO_BLK_F_RO and fail every write request
 * @num_queues: request queues, 1..16; 0: 1
 * @queue_size: largest ring, a power of two; 0: 256
 * @flags: VHOSTCTL_VDUSE_F_*
 */
struct vhostctl_vduse_blk_opts {
	size_t sz;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
	const char *name;
	const char *path;
	int fd;
	uint64_t size;
	int read_only;
	unsigned int num_queues;
	unsigned int queue_size;
	unsigned int flags;
};

/**
 * vhostctl_vduse_blk_new() - create a VDUSE block device on a file or RAM
 * @opts: the description; required
 *
 * vhostctl_vu_blk_new()'s device served with vhostctl_vduse_serve(), on
 * a file, an fd or RAM and with SEG_MAX (segments per request up to the ring
 * size): serve it with vhostctl_vduse_run() or vhostctl_vduse_dispatch(),
 * add it with vhostctl_vdpa_dev_add() (mgmtdev "vduse"), bind it to
 * virtio_vdpa and the kernel's virtio_blk shows it as /dev/vdX.  Released
 * with vhostctl_vduse_free(), which also unmaps the disk.
 *
 * Return: the device, or NULL with errno set (ENOENT, EACCES: the file;
 * EINVAL: a bad option or a file size that is not a multiple of 512;
 * EEXIST: a VDUSE device of that name exists).
 */
VHOSTCTL_API struct vhostctl_vduse *vhostctl_vduse_blk_new(const struct vhostctl_vduse_blk_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_VDUSE_H */
