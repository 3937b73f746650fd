/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * libvhostctl: vhost-user, both sides.
 *
 * Frontend: vhostctl_vu_open() gives a device handle of transport
 * VHOSTCTL_TRANSPORT_USER; the generic vhostctl_dev_* calls drive it like a
 * kernel or vDPA device, and the vhostctl_vu_* calls here add what only
 * vhost-user has (memory regions with fds, protocol features, the backend
 * channel, inflight regions, device state).
 *
 * Backend: vhostctl_vu_backend_new() with a device description (features,
 * config, queue count, a queue handler); the library owns the socket, every
 * message, memory mapping, ring state, inflight tracking and the backend
 * channel.  Two ready devices: net loopback and block.
 */
#ifndef VHOSTCTL_VHOST_USER_H
#define VHOSTCTL_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>
#include <vhostctl/devq.h>

struct vhostctl_devq;

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol feature bits (VHOST_USER_PROTOCOL_F_*), numbers from QEMU's tree. */
#define VHOSTCTL_VU_PF_MQ 0
#define VHOSTCTL_VU_PF_LOG_SHMFD 1
#define VHOSTCTL_VU_PF_RARP 2
#define VHOSTCTL_VU_PF_REPLY_ACK 3
#define VHOSTCTL_VU_PF_MTU 4
#define VHOSTCTL_VU_PF_BACKEND_REQ 5
#define VHOSTCTL_VU_PF_CROSS_ENDIAN 6
#define VHOSTCTL_VU_PF_CRYPTO_SESSION 7
#define VHOSTCTL_VU_PF_PAGEFAULT 8
#define VHOSTCTL_VU_PF_CONFIG 9
#define VHOSTCTL_VU_PF_BACKEND_SEND_FD 10
#define VHOSTCTL_VU_PF_HOST_NOTIFIER 11
#define VHOSTCTL_VU_PF_INFLIGHT_SHMFD 12
#define VHOSTCTL_VU_PF_RESET_DEVICE 13
#define VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS 14
#define VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS 15
#define VHOSTCTL_VU_PF_STATUS 16
#define VHOSTCTL_VU_PF_XEN_MMAP 17
#define VHOSTCTL_VU_PF_SHARED_OBJECT 18
#define VHOSTCTL_VU_PF_DEVICE_STATE 19
#define VHOSTCTL_VU_PF_GET_VRING_BASE_INFLIGHT 20
#define VHOSTCTL_VU_PF_GPA_ADDRESSES 21
#define VHOSTCTL_VU_PF_SHMEM 22
#define VHOSTCTL_VU_PF_GET_VRING_BASE_SKIP_DRAIN 23

/* VHOST_USER_F_PROTOCOL_FEATURES: virtio feature bit 30, never shown to a guest. */
#define VHOSTCTL_VU_F_PROTOCOL_FEATURES 30

/**
 * vhostctl_vu_request_name() - name of a vhost-user request
 * @request: the id
 * @backend_channel: non-zero for the backend-to-frontend id space
 *
 * Return: "SET_MEM_TABLE" etc., or "UNKNOWN"; never NULL.
 */
VHOSTCTL_API const char *vhostctl_vu_request_name(unsigned int request, int backend_channel);

/**
 * vhostctl_vu_protocol_feature_name() - name of a protocol feature bit
 * @bit: VHOSTCTL_VU_PF_*
 *
 * Return: "REPLY_ACK" etc., or NULL for an unknown bit.
 */
VHOSTCTL_API const char *vhostctl_vu_protocol_feature_name(unsigned int bit);

/* ------------------------------------------------------------------ */
/* Frontend                                                            */
/* ------------------------------------------------------------------ */

/**
 * struct vhostctl_vu_opts - how to reach a vhost-user backend
 * @sz: sizeof(struct vhostctl_vu_opts)
 * @log: optional log callback
 * @log_ctx: passed to @log
 * @log_level: highest level passed to @log (0: VHOSTCTL_LOG_WARNING)
 * @server: non-zero: listen on the path and accept one backend; zero: connect
 * @queues: queue count to assume when the backend offers no MQ (Rust
 *          virtiofsd, or MQ masked); 0 means 1.  With MQ, GET_QUEUE_NUM
 *          decides.
 * @protocol_features: protocol features to negotiate at most; 0 means every
 *                     one the library implements, except
 *                     INBAND_NOTIFICATIONS, CROSS_ENDIAN and PAGEFAULT,
 *                     negotiated only when named (INBAND_NOTIFICATIONS
 *                     only with BACKEND_REQ and REPLY_ACK)
 * @timeout_ms: how long to wait for the backend (connect retries, accept,
 *              each reply); 0 means 5000
 */
struct vhostctl_vu_opts {
	size_t sz;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
	int server;
	unsigned int queues;
	uint64_t protocol_features;
	int timeout_ms;
};

/**
 * vhostctl_vu_open() - connect to (or accept) a vhost-user backend
 * @path: the Unix socket
 * @opts: options, or NULL
 *
 * Reads the backend's features, negotiates protocol features, learns the
 * queue count and, with BACKEND_REQ, sets up the backend channel.  Then use
 * the vhostctl_dev_* calls (set_owner first): vring addresses are guest
 * physical and translated through the memory object given to
 * vhostctl_dev_set_mem_table(); get/set_config, get/set_status and reset
 * need the CONFIG, STATUS and RESET_DEVICE protocol features.
 *
 * When a send fails, a reply does not come within the timeout, or a reply
 * is malformed or answers another request, the connection is shut down
 * (a late reply could otherwise be taken for the next one) and every
 * later call fails with -ENOTCONN until vhostctl_vu_reconnect().
 *
 * Return: a handle of transport VHOSTCTL_TRANSPORT_USER, or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_dev *vhostctl_vu_open(const char *path, const struct vhostctl_vu_opts *opts);

/**
 * vhostctl_vu_protocol_features() - the negotiated protocol features
 * @dev: a vhost-user handle
 * @features: where to store them
 *
 * Return: 0, -ENOTTY for a handle of another transport, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_protocol_features(struct vhostctl_dev *dev, uint64_t *features);

/**
 * vhostctl_vu_queue_count() - how many queues the backend has
 * @dev: a vhost-user handle
 *
 * Return: the count (GET_QUEUE_NUM with MQ, else vhostctl_vu_opts.queues), or -errno.
 */
VHOSTCTL_API int vhostctl_vu_queue_count(struct vhostctl_dev *dev);

/**
 * struct vhostctl_vu_region - one region of guest memory for the backend
 * @gpa: guest physical address
 * @size: length
 * @uaddr: its address in this process (ring addresses are given in these)
 * @fd: a shareable fd (memfd) holding it; not owned
 * @offset: where the region starts in @fd
 */
struct vhostctl_vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	int fd;
	uint64_t offset;
};

/**
 * vhostctl_vu_set_mem_table() - give the backend the guest's memory, by regions
 * @dev: a vhost-user handle
 * @regions: the regions
 * @n: how many: at most 8 for SET_MEM_TABLE; with CONFIGURE_MEM_SLOTS up to
 *     the backend's slot count, sent as ADD_MEM_REG / REM_MEM_REG changes
 *     against the previous table
 *
 * vhostctl_dev_set_mem_table() does the same from a memory object (up to its
 * 64 regions); this call takes up to 509.  Ring addresses given to
 * vhostctl_dev_set_vring_addr() are then translated through these regions.
 *
 * Return: 0 or -errno (-E2BIG beyond the backend's limit).
 */
VHOSTCTL_API int vhostctl_vu_set_mem_table(struct vhostctl_dev *dev,
					   const struct vhostctl_vu_region *regions, unsigned int n);

/**
 * vhostctl_vu_max_mem_slots() - the backend's memory slot count
 * @dev: a vhost-user handle
 *
 * Return: GET_MAX_MEM_SLOTS with CONFIGURE_MEM_SLOTS, else 8; or -errno.
 */
VHOSTCTL_API int vhostctl_vu_max_mem_slots(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_get_inflight() - have the backend allocate its inflight region
 * @dev: a vhost-user handle
 * @num_queues: queues to track
 * @queue_size: their size
 *
 * The handle keeps the region (fd and size) and gives it back to a new
 * backend with SET_INFLIGHT_FD on vhostctl_vu_reconnect().
 *
 * Return: 0 or -errno (-EOPNOTSUPP without INFLIGHT_SHMFD).
 */
VHOSTCTL_API int vhostctl_vu_get_inflight(struct vhostctl_dev *dev, unsigned int num_queues,
					  unsigned int queue_size);

/**
 * vhostctl_vu_reconnect() - connect again after the backend went away
 * @dev: a vhost-user handle
 *
 * Replays the whole setup the handle has sent (owner, features, protocol
 * features, memory table, the inflight region, the dirty log and its
 * eventfd, each ring's size, base, addresses, call/kick/err fds and enable
 * state).  Ring bases are the ones
 * last set or read; with INFLIGHT_SHMFD the backend resubmits the requests
 * the region records, so none is lost.
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_reconnect(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_backend_channel_fd() - the backend-to-frontend socket (BACKEND_REQ)
 * @dev: a vhost-user handle
 *
 * Poll it for input and call vhostctl_vu_serve_backend().
 *
 * Return: the fd, or -errno (-ENOENT without BACKEND_REQ).
 */
VHOSTCTL_API int vhostctl_vu_backend_channel_fd(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_serve_backend() - serve the backend's requests that are waiting
 * @dev: a vhost-user handle
 *
 * CONFIG_CHANGE_MSG is counted (see vhostctl_vu_config_changes()) and
 * acknowledged.  SHMEM_MAP/UNMAP and SHARED_OBJECT_ADD/REMOVE/LOOKUP are
 * served (vhostctl_vu_shmem_region(), vhostctl_vu_set_objects()).  Every
 * other request needs a protocol feature this frontend does not negotiate
 * (IOMMU, host notifiers, in-band notifications) and is refused: a failure
 * reply when the backend asked for one.  A malformed request closes the
 * channel (-EPROTO); the main connection stays.  The handle also serves
 * the channel while it waits for any reply of the backend's, which may be
 * waiting for our acknowledgement first.
 *
 * Return: requests served, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_serve_backend(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_config_changes() - CONFIG_CHANGE_MSG requests seen so far
 * @dev: a vhost-user handle
 *
 * Return: the count, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_config_changes(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_kick() - kick a ring in-band (VRING_KICK message)
 * @dev: a vhost-user handle with INBAND_NOTIFICATIONS negotiated (named in
 *       opts.protocol_features: it is never negotiated by default)
 * @index: the ring, whose kick was given as no fd
 *
 * For transports without eventfds: the backend learns of new buffers from
 * the message instead of a kick eventfd.
 *
 * Return: 0, -EOPNOTSUPP without INBAND_NOTIFICATIONS, -ENOBUFS for a ring
 * past the queue count, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_kick(struct vhostctl_dev *dev, unsigned int index);

/**
 * vhostctl_vu_inband_calls() - backend VRING_CALL requests served for a ring
 * @dev: a vhost-user handle
 * @index: the ring
 *
 * With INBAND_NOTIFICATIONS a backend announces used buffers of a ring whose
 * call was given as no fd with VRING_CALL on the backend channel;
 * vhostctl_vu_serve_backend() counts them here (and refuses them without the
 * feature, or for a ring past the queue count).
 *
 * Return: the count, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_inband_calls(struct vhostctl_dev *dev, unsigned int index);

/**
 * vhostctl_vu_set_vring_endian() - byte order of a legacy device's ring
 * @dev: a vhost-user handle with CROSS_ENDIAN negotiated (named in
 *       opts.protocol_features: it is never negotiated by default)
 * @index: the ring, stopped (before its kick)
 * @big_endian: non-zero: big-endian; zero: little-endian
 *
 * SET_VRING_ENDIAN, acknowledged with REPLY_ACK, and replayed by
 * vhostctl_vu_reconnect().  Only for legacy (pre-VERSION_1) devices of a
 * guest whose byte order differs from the host's.
 *
 * Return: 0, -EOPNOTSUPP without CROSS_ENDIAN, -ENOBUFS for a ring past the
 * queue count, -EIO when the backend refused, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_set_vring_endian(struct vhostctl_dev *dev, unsigned int index,
					      int big_endian);

/*
 * Postcopy migration (PAGEFAULT), the destination's side: the backend's
 * guest memory faults on pages not yet migrated, and this frontend places
 * each from the migration stream (UFFDIO_COPY into the backend).
 * PAGEFAULT is never negotiated by default: name it in
 * opts.protocol_features.  The sequence: vhostctl_vu_postcopy_advise(),
 * vhostctl_vu_postcopy_listen(), vhostctl_vu_postcopy_serve() whenever
 * vhostctl_vu_postcopy_fd() is readable, vhostctl_vu_postcopy_end().
 */

/**
 * typedef vhostctl_vu_page_fn - the contents of one guest page
 * @ctx: the @ctx of struct vhostctl_vu_postcopy_opts
 * @gpa: guest physical address of the page
 * @page: where to write it
 * @len: its size (the page size)
 *
 * Return: 0, or a negative errno: the fault is not served and
 * vhostctl_vu_postcopy_serve() fails with it.
 */
typedef int (*vhostctl_vu_page_fn)(void *ctx, uint64_t gpa, void *page, size_t len);

/**
 * struct vhostctl_vu_postcopy_opts - where faulting pages come from
 * @sz: sizeof(struct vhostctl_vu_postcopy_opts)
 * @page: fills a page; when NULL, pages are copied from @source
 * @ctx: passed to @page
 * @source: guest memory as the migration source had it, indexed by guest
 *          physical address (byte @gpa of guest memory is @source[@gpa])
 * @source_size: its size; pages past it are zero
 *
 * Read until vhostctl_vu_postcopy_end(): @source and @ctx must live that long.
 */
struct vhostctl_vu_postcopy_opts {
	size_t sz;
	vhostctl_vu_page_fn page;
	void *ctx;
	const void *source;
	uint64_t source_size;
};

/**
 * vhostctl_vu_postcopy_advise() - POSTCOPY_ADVISE: take the backend's userfaultfd
 * @dev: a vhost-user handle with PAGEFAULT negotiated
 *
 * The backend opens a userfaultfd over its own memory and hands it over;
 * the handle keeps it until vhostctl_vu_postcopy_end() or close.
 * Migration is still in precopy: nothing faults yet.
 *
 * Return: 0, -EOPNOTSUPP without PAGEFAULT, -EALREADY when advised already,
 * -EPROTO when the reply carries no userfaultfd, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_postcopy_advise(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_postcopy_listen() - POSTCOPY_LISTEN: switch to postcopy
 * @dev: a vhost-user handle, advised, with its memory table set (at most 8
 *       regions)
 * @opts: where page contents come from; required
 *
 * Sends POSTCOPY_LISTEN (the backend registers its regions), then the
 * memory table again as SET_MEM_TABLE: the backend answers with where
 * each region starts in its address space (recorded here to translate its
 * faults) and this call acknowledges it.  From here on the backend blocks
 * on every page that is not present until vhostctl_vu_postcopy_serve()
 * places it; guest memory must not be written through this process before
 * its page was served.  The memory table cannot change until
 * vhostctl_vu_postcopy_end().
 *
 * Return: 0, -EINVAL without @opts or a memory table, -EPROTO when not
 * advised or for a malformed reply, -EALREADY when listening already,
 * -E2BIG for more than 8 regions, -EIO when the backend refused LISTEN, or
 * -errno.
 */
VHOSTCTL_API int vhostctl_vu_postcopy_listen(struct vhostctl_dev *dev,
					     const struct vhostctl_vu_postcopy_opts *opts);

/**
 * vhostctl_vu_postcopy_fd() - the userfaultfd to poll
 * @dev: a vhost-user handle, advised
 *
 * Readable when the backend waits for a page.  Owned by the handle.
 *
 * Return: the fd, -EPROTO when not advised, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_postcopy_fd(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_postcopy_serve() - place the pages the backend waits for
 * @dev: a vhost-user handle, listening
 * @timeout_ms: how long to wait for a fault; 0: do not wait; -1: forever
 *
 * Reads the pending faults, translates each backend address through the
 * addresses recorded by vhostctl_vu_postcopy_listen() to a guest physical
 * address, fills the page (opts.page or opts.source) and copies it into
 * the backend (UFFDIO_COPY), which wakes it.  A page already present is
 * only woken.  Unlike the other calls, this one may run in another thread
 * than the rest of the handle's calls (a backend may fault while this
 * thread waits for its reply), from vhostctl_vu_postcopy_listen()'s return
 * until vhostctl_vu_postcopy_end() is called.
 *
 * Return: pages served (0 when none came in time), -EPROTO when not
 * listening, -EFAULT for a fault outside guest memory, the error of
 * opts.page, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_postcopy_serve(struct vhostctl_dev *dev, int timeout_ms);

/**
 * vhostctl_vu_postcopy_end() - POSTCOPY_END: migration complete
 * @dev: a vhost-user handle, advised
 *
 * The backend unregisters its memory and closes its userfaultfd; so does
 * the handle.  Every page must have been served (or the backend faults in
 * zero pages from here on).
 *
 * Return: 0, -EPROTO when not advised, -EIO when the backend reports a
 * failure, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_postcopy_end(struct vhostctl_dev *dev);

/**
 * vhostctl_vu_device_state() - save or load the backend's state (DEVICE_STATE)
 * @dev: a vhost-user handle, every ring stopped
 * @load: zero to save (the backend writes into @fd), non-zero to load (it reads)
 * @fd: one end of a pipe; the other end is given to the backend and closed here
 *
 * The caller streams through @fd, closes it, then calls
 * vhostctl_vu_check_device_state().
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_device_state(struct vhostctl_dev *dev, int load, int *fd);

/**
 * vhostctl_vu_check_device_state() - did the last state transfer succeed
 * @dev: a vhost-user handle
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_check_device_state(struct vhostctl_dev *dev);

/* ------------------------------------------------------------------ */
/* Backend                                                             */
/* ------------------------------------------------------------------ */

/** struct vhostctl_vu_backend - a vhost-user device served by this process (opaque) */
struct vhostctl_vu_backend;

/**
 * typedef vhostctl_vu_queue_fn - process a queue
 * @be: the backend
 * @index: the queue
 * @q: its device side: pop, push, flush
 * @ctx: the application's pointer
 *
 * Called when the driver kicks a started, enabled queue, and again while it
 * returns more work.
 *
 * Return: 0 when done (called again on the next kick, or at once if it
 * emptied the ring and buffers came in meanwhile), > 0 to be called again
 * soon (more work, e.g. waiting for buffers on another queue), < 0 (a
 * -errno) to end the connection.
 */
typedef int (*vhostctl_vu_queue_fn)(struct vhostctl_vu_backend *be, unsigned int index,
				    struct vhostctl_devq *q, void *ctx);

/**
 * typedef vhostctl_vu_stop_fn - a ring stops: drain what the device holds
 * @be: the backend
 * @index: the queue
 * @q: its device side, still usable: push, flush, unpop
 * @ctx: the application's pointer
 *
 * A queue handler may keep buffers it popped past its return (a request
 * waiting for its I/O).  Before a started ring stops, this is called in the
 * dispatch thread, and the application must complete each buffer it holds
 * from @q (vhostctl_devq_push(); it may wait for the I/O here) or give it
 * back (vhostctl_devq_unpop(), most recent pop first: the last buffers
 * popped, with none completed after them), and forget them: the
 * queue is freed when this returns.  The library then flushes @q (used
 * index and call fd), and only then answers GET_VRING_BASE, whose index is
 * past every buffer completed and before every buffer given back.  So the
 * frontend gets a quiet ring and each request completes exactly once: now,
 * or after the ring starts again from that index.  It is also called, for
 * a ring that holds buffers, before the memory table changes (SET_MEM_TABLE,
 * REM_MEM_REG), as their iovecs point into memory about to be unmapped;
 * that ring then runs on.
 *
 * Buffers still held when this returns (or without it) are the inflight
 * region's, when the frontend set one: they are resubmitted when the ring
 * starts again.  Without one they are lost to the driver: the library logs
 * it and counts an error (vhostctl_vu_backend_stats()).
 */
typedef void (*vhostctl_vu_stop_fn)(struct vhostctl_vu_backend *be, unsigned int index,
				    struct vhostctl_devq *q, void *ctx);

/**
 * struct vhostctl_vu_backend_opts - a device description
 * @sz: sizeof(struct vhostctl_vu_backend_opts)
 * @log: optional log callback
 * @log_ctx: passed to @log
 * @log_level: highest level passed to @log (0: VHOSTCTL_LOG_WARNING)
 * @features: the device's virtio feature bits; the library adds the ring
 *            and transport bits it implements (VERSION_1, EVENT_IDX,
 *            INDIRECT_DESC, RING_PACKED, PROTOCOL_FEATURES) unless
 *            @no_features masks them
 * @no_features: feature bits never to offer
 * @protocol_features: protocol features to offer at most; 0: all we implement
 *                     (PAGEFAULT only where a userfaultfd can be opened:
 *                     root, or access to /dev/userfaultfd)
 * @num_queues: the queue count, 1..64
 * @max_queue_size: largest ring accepted, 0: 32768
 * @config: initial config space, copied; may be NULL
 * @config_len: its size, at most 256
 * @queue: the queue handler
 * @set_config: called for SET_CONFIG before the copy is updated; a non-zero
 *              return refuses the write (REPLY_ACK reports it); may be NULL
 * @reset: called when the frontend resets the device or goes away; may be NULL
 * @ctx: passed to the callbacks
 * @stop: called before a started ring stops (GET_VRING_BASE, a new kick fd
 *        or ring address, a reset, the frontend going away), with its queue
 *        still usable; see vhostctl_vu_stop_fn.  May be NULL for a device
 *        whose handler completes every buffer before it returns.
 * @state_version: the version of the device's own state that @save_state
 *                 writes, and the newest @load_state reads (1 and up)
 * @save_state: DEVICE_STATE save: write the device's own state into @buf
 *              (at most @size, VHOSTCTL_VU_STATE_MAX, bytes); return its
 *              length or a -errno (the save fails).  Saved after the config
 *              space and status, with @state_version.  May be NULL
 * @load_state: DEVICE_STATE load: take the state @save_state wrote, of
 *              @version, at most @state_version (a newer one is refused
 *              before the call, as is a state given to a device without
 *              this callback); return 0, or a -errno to refuse it (the
 *              frontend's CHECK_DEVICE_STATE then fails, and nothing of the
 *              state is applied).  May be NULL
 */
struct vhostctl_vu_backend_opts {
	size_t sz;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
	uint64_t features;
	uint64_t no_features;
	uint64_t protocol_features;
	unsigned int num_queues;
	unsigned int max_queue_size;
	const void *config;
	unsigned int config_len;
	vhostctl_vu_queue_fn queue;
	int (*set_config)(struct vhostctl_vu_backend *be, unsigned int offset, const void *data,
			  unsigned int len, void *ctx);
	void (*reset)(struct vhostctl_vu_backend *be, void *ctx);
	void *ctx;
	vhostctl_vu_stop_fn stop;
	unsigned int state_version;
	int (*save_state)(struct vhostctl_vu_backend *be, void *buf, size_t size, void *ctx);
	int (*load_state)(struct vhostctl_vu_backend *be, unsigned int version, const void *buf,
			  size_t len, void *ctx);
};

/** VHOSTCTL_VU_STATE_MAX - the most bytes of a device's own state */
#define VHOSTCTL_VU_STATE_MAX 16384u

/**
 * vhostctl_vu_backend_new() - describe a device
 * @opts: the description; required
 *
 * Return: the backend, or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_vu_backend *vhostctl_vu_backend_new(const struct vhostctl_vu_backend_opts *opts);

/**
 * vhostctl_vu_backend_free() - stop, close every fd, unmap everything, free
 * @be: the backend, or NULL
 */
VHOSTCTL_API void vhostctl_vu_backend_free(struct vhostctl_vu_backend *be);

/**
 * vhostctl_vu_backend_listen() - serve frontends that connect to a socket
 * @be: the backend
 * @path: where to listen (an existing socket file is replaced)
 *
 * One frontend at a time; after it goes away (or is cut off for a protocol
 * error) the next is accepted.
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_listen(struct vhostctl_vu_backend *be, const char *path);

/**
 * vhostctl_vu_backend_connect() - serve a frontend that listens on a socket
 * @be: the backend
 * @path: the frontend's socket
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_connect(struct vhostctl_vu_backend *be, const char *path);

/**
 * vhostctl_vu_backend_adopt() - serve a connected socket the caller made
 * @be: the backend
 * @fd: the socket; owned by the backend from now on, even on failure
 *
 * Return: 0 or -errno (-EBUSY while another frontend is served).
 */
VHOSTCTL_API int vhostctl_vu_backend_adopt(struct vhostctl_vu_backend *be, int fd);

/**
 * vhostctl_vu_backend_fd() - one fd for the application's event loop
 * @be: the backend
 *
 * Readable when vhostctl_vu_backend_dispatch() has work, including work a
 * handler left pending (it returned > 0) and polled rings.
 *
 * Return: the fd (an epoll fd), owned by the backend.
 */
VHOSTCTL_API int vhostctl_vu_backend_fd(struct vhostctl_vu_backend *be);

/**
 * vhostctl_vu_backend_dispatch() - handle messages, kicks and pending queue work
 * @be: the backend
 * @timeout_ms: how long to wait for something (-1: forever, 0: do not wait)
 *
 * A frontend that breaks the protocol is logged and cut off; that is not an
 * error of this call.
 *
 * Return: events handled (0 on timeout) or -errno (-EBUSY while the
 * library's thread runs the loop).
 */
VHOSTCTL_API int vhostctl_vu_backend_dispatch(struct vhostctl_vu_backend *be, int timeout_ms);

/**
 * vhostctl_vu_backend_start() - run the dispatch loop in a thread of the library's
 * @be: the backend
 *
 * Callbacks then run in that thread.  Only vhostctl_vu_backend_stop(), the
 * statistics calls and vhostctl_vu_backend_free() may be called meanwhile.
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_start(struct vhostctl_vu_backend *be);

/**
 * vhostctl_vu_backend_stop() - stop the thread vhostctl_vu_backend_start() began
 * @be: the backend
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_stop(struct vhostctl_vu_backend *be);

/**
 * vhostctl_vu_backend_disconnect() - drop the current frontend, keep listening
 * @be: the backend
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_disconnect(struct vhostctl_vu_backend *be);

/**
 * vhostctl_vu_backend_config_changed() - update config space and tell the frontend
 * @be: the backend
 * @offset: first byte changed
 * @data: new bytes
 * @len: how many
 *
 * Sends BACKEND_CONFIG_CHANGE_MSG when CONFIG and BACKEND_REQ are negotiated.
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_config_changed(struct vhostctl_vu_backend *be, unsigned int offset,
						    const void *data, unsigned int len);

/**
 * struct vhostctl_vu_backend_stats - what a backend has seen
 * @connections: frontends accepted or connected
 * @protocol_errors: connections cut off for breaking the protocol
 * @messages: requests handled
 * @kicks: queue notifications handled
 * @connected: non-zero while a frontend is served
 * @last_error: a copy of the last protocol error's description
 */
struct vhostctl_vu_backend_stats {
	uint64_t connections;
	uint64_t protocol_errors;
	uint64_t messages;
	uint64_t kicks;
	int connected;
	char last_error[128];
};

/**
 * vhostctl_vu_backend_stats() - read the counters (any thread)
 * @be: the backend
 * @st: filled in
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_stats(struct vhostctl_vu_backend *be,
					   struct vhostctl_vu_backend_stats *st);

/**
 * vhostctl_vu_backend_ctx() - the @ctx of the backend's options
 * @be: the backend
 *
 * Return: the pointer.
 */
VHOSTCTL_API void *vhostctl_vu_backend_ctx(struct vhostctl_vu_backend *be);

/* Net loopback: what the driver sends on a TX queue comes back on its RX queue. */

/**
 * struct vhostctl_vu_net_opts - a loopback virtio-net device
 * @sz: sizeof(struct vhostctl_vu_net_opts)
 * @log: optional log callback
 * @log_ctx: passed to @log
 * @log_level: highest level passed to @log
 * @mac: the MAC address in config space
 * @queue_pairs: 1..32
 * @drop: non-zero: drop a TX packet when RX has no buffer (a NIC's
 *        behaviour); zero: leave it queued until RX has room
 * @no_features: feature bits never to offer (e.g. 1ull << 34 for split only)
 */
struct vhostctl_vu_net_opts {
	size_t sz;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
	uint8_t mac[6];
	unsigned int queue_pairs;
	int drop;
	uint64_t no_features;
};

/**
 * struct vhostctl_vu_net_stats - loopback counters
 * @tx_packets: packets taken from TX queues
 * @rx_packets: packets put on RX queues
 * @tx_bytes: their bytes, virtio-net header included
 * @dropped: TX packets dropped (no RX buffer, or too large)
 */
struct vhostctl_vu_net_stats {
	uint64_t tx_packets;
	uint64_t rx_packets;
	uint64_t tx_bytes;
	uint64_t dropped;
};

/**
 * vhostctl_vu_net_new() - a loopback virtio-net backend
 * @opts: options, or NULL
 *
 * Return: the backend (then listen or connect it), or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_vu_backend *vhostctl_vu_net_new(const struct vhostctl_vu_net_opts *opts);

/**
 * vhostctl_vu_net_stats() - read the loopback counters (any thread)
 * @be: a backend from vhostctl_vu_net_new()
 * @st: filled in
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vu_net_stats(struct vhostctl_vu_backend *be, struct vhostctl_vu_net_stats *st);

/**
 * struct vhostctl_vu_blk_opts - a virtio-blk device on a RAM buffer or a file
 * @sz: sizeof(struct vhostctl_vu_blk_opts)
 * @log: optional log callback
 * @log_ctx: passed to @log
 * @log_level: highest level passed to @log
 * @path: a file to serve, or NULL for a RAM buffer
 * @size: RAM buffer size in bytes (a multiple of 512) when @path is NULL
 * @read_only: non-zero: refuse writes (VIRTIO_BLK_F_RO)
 * @num_queues: 1..16
 */
struct vhostctl_vu_blk_opts {
	size_t sz;
	vhostctl_log_fn log;
	void *log_ctx;
	int log_level;
	const char *path;
	uint64_t size;
	int read_only;
	unsigned int num_queues;
};

/**
 * vhostctl_vu_blk_new() - a virtio-blk backend
 * @opts: options; required
 *
 * Return: the backend, or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_vu_backend *vhostctl_vu_blk_new(const struct vhostctl_vu_blk_opts *opts);

/**
 * vhostctl_vu_blk_data() - the RAM buffer of a block backend
 * @be: a backend from vhostctl_vu_blk_new() without a path
 * @size: where to store its size, or NULL
 *
 * Return: the buffer, or NULL with errno set.
 */
VHOSTCTL_API void *vhostctl_vu_blk_data(struct vhostctl_vu_backend *be, uint64_t *size);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_VHOST_USER_H */
