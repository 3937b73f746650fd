/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * libvhostctl: the device side of a virtqueue, split and packed layouts:
 * what a backend does with a ring the driver fills.  Every descriptor
 * address and length is checked against the mapped memory regions; a ring
 * that breaks a rule is marked broken and every later call fails.
 */
#ifndef VHOSTCTL_DEVQ_H
#define VHOSTCTL_DEVQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct vhostctl_devq_region - one region of the driver's memory, mapped here
 * @gpa: guest physical address of its first byte (descriptor addresses)
 * @size: length in bytes
 * @uaddr: the frontend's address of its first byte (vhost-user ring addresses)
 * @host: where it is mapped in this process
 */
struct vhostctl_devq_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	void *host;
};

/* Ring layout and features of a device queue. */
#define VHOSTCTL_DEVQ_F_PACKED (1u << 0)	/* VIRTIO_F_RING_PACKED */
#define VHOSTCTL_DEVQ_F_EVENT_IDX (1u << 1)	/* VIRTIO_RING_F_EVENT_IDX */
#define VHOSTCTL_DEVQ_F_INDIRECT (1u << 2)	/* VIRTIO_RING_F_INDIRECT_DESC */
#define VHOSTCTL_DEVQ_F_UADDR (1u << 3)		/* ring addresses are @uaddr, not gpa */
#define VHOSTCTL_DEVQ_F_IN_ORDER (1u << 4)	/* VIRTIO_F_IN_ORDER, see vhostctl_devq_push_burst() */

/**
 * struct vhostctl_devq_opts - a device queue over caller-mapped memory
 * @sz: sizeof(struct vhostctl_devq_opts)
 * @regions: the memory regions; copied
 * @nregions: how many (at most 509); they must not overlap
 * @num: queue size: a power of two up to 32768 for split rings, any value
 *       up to 32768 for packed rings
 * @flags: VHOSTCTL_DEVQ_F_*
 * @desc: address of the descriptor table (split) or ring (packed)
 * @avail: address of the available ring (split) or driver event area (packed)
 * @used: address of the used ring (split) or device event area (packed)
 * @base: where to start: split, the next available index; packed, bits 0-14
 *        the next available index and bit 15 its wrap counter (vhost-user's
 *        SET_VRING_BASE value)
 * @call_fd: an eventfd to signal the driver, or -1; not owned
 */
struct vhostctl_devq_opts {
	size_t sz;
	const struct vhostctl_devq_region *regions;
	unsigned int nregions;
	unsigned int num;
	unsigned int flags;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	uint32_t base;
	int call_fd;
};

/**
 * struct vhostctl_devq_elem - one buffer popped from the ring
 * @id: the buffer id (split: the head descriptor's index)
 * @ndesc: ring slots the buffer took (packed)
 * @out: number of device-readable iovecs, first in @iov
 * @in: number of device-writable iovecs, after them
 * @out_len: bytes the device may read
 * @in_len: bytes the device may write
 * @iov: the caller's array given to vhostctl_devq_pop() (its part of the
 *       one given to vhostctl_devq_pop_burst())
 * @priv: the library's (dirty logging of vhostctl_devq_copy_to()); an
 *        element copied keeps it, one built by hand has NULL
 */
struct vhostctl_devq_elem {
	uint16_t id;
	uint16_t ndesc;
	unsigned int out;
	unsigned int in;
	uint32_t out_len;
	uint32_t in_len;
	struct iovec *iov;
	void *priv;
};

/** struct vhostctl_devq - a device-side virtqueue (opaque) */
struct vhostctl_devq;

/**
 * vhostctl_devq_new() - a device queue over memory the caller mapped
 * @opts: the ring; required
 *
 * The vhost-user backend makes its own queues; this is for in-process use
 * and tests.
 *
 * Return: the queue, or NULL with errno set (EINVAL for a bad size, an
 * overlapping region table or a ring outside the regions).
 */
VHOSTCTL_API struct vhostctl_devq *vhostctl_devq_new(const struct vhostctl_devq_opts *opts);

/**
 * vhostctl_devq_free() - release a queue made by vhostctl_devq_new()
 * @q: the queue, or NULL
 */
VHOSTCTL_API void vhostctl_devq_free(struct vhostctl_devq *q);

/**
 * vhostctl_devq_pop() - take the next available buffer
 * @q: the queue
 * @elem: filled in
 * @iov: room for the buffer's pieces
 * @max_iov: entries in @iov
 *
 * Every address and length is checked: a descriptor outside the regions, a
 * chain longer than the ring (a loop), a readable descriptor after a
 * writable one, a nested or malformed indirect table, or an index out of
 * range breaks the queue (-EIO, and every later call fails with -EIO).
 *
 * Return: 1 with @elem filled, 0 if the ring is empty, -ENOBUFS if @max_iov
 * is too small (nothing consumed), -EIO if the ring is broken.
 */
VHOSTCTL_API int vhostctl_devq_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *elem,
				   struct iovec *iov, unsigned int max_iov);

/**
 * vhostctl_devq_pop_burst() - take up to @n available buffers at once
 * @q: the queue
 * @elems: filled in, one per buffer taken
 * @iov: room for the buffers' pieces: @iov_per_elem entries per element,
 *       elems[i].iov is @iov + i * @iov_per_elem
 * @iov_per_elem: entries of @iov for each element
 * @n: at most this many buffers (entries in @elems)
 *
 * Does what @n calls of vhostctl_devq_pop() would, with the same checks,
 * for less: the arguments are checked once, and a split ring's available
 * index is read (and, with event-idx, the available event written) once
 * per burst.  A burst stops at the first buffer a pop would not return: if
 * it is not the first, the buffers before it are returned and the next call
 * reports what stopped it (-ENOBUFS for a buffer with more pieces than
 * @iov_per_elem, which vhostctl_devq_pop() with a larger array can take;
 * -EIO for a broken ring, which stays broken).  vhostctl_devq_unpop() can
 * give back the last buffer of a burst only.
 *
 * Return: the number of buffers taken (0 if the ring is empty), or, when
 * the first one cannot be, -EINVAL (a NULL @q, @elems with @n, or @iov with
 * @iov_per_elem; @n above INT_MAX), -ENOBUFS (nothing consumed) or -EIO.
 */
VHOSTCTL_API int vhostctl_devq_pop_burst(struct vhostctl_devq *q,
					 struct vhostctl_devq_elem *elems, struct iovec *iov,
					 unsigned int iov_per_elem, unsigned int n);

/**
 * vhostctl_devq_unpop() - give back the buffer the last pop took
 * @q: the queue
 * @elem: what that pop returned
 *
 * For a device that finds it cannot complete a buffer yet.  Only the most
 * recent pop can be undone; a run of pops at the end can be undone one by
 * one, most recent first, while no buffer popped after them is kept or
 * completed.
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_devq_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem);

/**
 * vhostctl_devq_push() - return a buffer to the driver as used
 * @q: the queue
 * @elem: what vhostctl_devq_pop() returned
 * @written: bytes the device wrote into the writable part
 *
 * The entry is written now; the driver sees it (split: used index) at the
 * next vhostctl_devq_flush(), so a burst costs one index store and at most
 * one notification.  While the device logs dirty pages (vhost-user
 * VHOST_F_LOG_ALL), the pages of the first @written writable bytes and of
 * the ring entry are marked.
 *
 * Return: 0, -EINVAL if @written exceeds the writable length, or -EIO.
 */
VHOSTCTL_API int vhostctl_devq_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem,
				    uint32_t written);

/**
 * vhostctl_devq_push_burst() - return @n buffers to the driver as used
 * @q: the queue
 * @elems: what vhostctl_devq_pop() or vhostctl_devq_pop_burst() returned
 * @written: bytes the device wrote into each element's writable part, or
 *           NULL if it wrote none
 * @n: entries in @elems (and in @written)
 *
 * Does what vhostctl_devq_push() does for each element, in order.  Every
 * element is checked before any is pushed, so a burst with a bad element
 * is refused whole.  As for vhostctl_devq_push(), the driver sees the
 * buffers at the next vhostctl_devq_flush(), and they are logged while the
 * device logs dirty pages.
 *
 * The driver sees a burst whole or not at all: on a split ring through the
 * one used-index update of the flush; on a packed ring the first used
 * descriptor of the burst is handed back last, after the others (but on a
 * queue with an inflight region, whose pushes are committed one by one).
 * A device that spreads one message over several buffers (virtio-net's
 * mergeable receive buffers) pushes them in one burst.
 *
 * With VHOSTCTL_DEVQ_F_IN_ORDER (VIRTIO_F_IN_ORDER negotiated) the device
 * must push buffers in the order it popped them.  A packed burst of more
 * than one buffer in which the device wrote nothing (@written NULL or all
 * zero) then becomes a single used descriptor carrying the last buffer's
 * id, at the first slot, the used position skipping the slots of the whole
 * burst (virtio 1.1+, "In-order use of descriptors" of the packed ring).
 * Bursts with written lengths, and split rings, keep one used entry per
 * buffer: those lengths must reach the driver, and in-order split drivers
 * read every used entry.
 *
 * Return: @n; -EINVAL (a NULL @q, or @elems with @n, @n above INT_MAX, a
 * @written above its element's writable length, an element no pop made)
 * with nothing pushed; or -EIO.
 */
VHOSTCTL_API int vhostctl_devq_push_burst(struct vhostctl_devq *q,
					  const struct vhostctl_devq_elem *elems,
					  const uint32_t *written, unsigned int n);

/**
 * vhostctl_devq_flush() - publish pushed buffers and notify the driver if it asked
 * @q: the queue
 *
 * Honours event-idx (used_event / the packed driver event area) or the
 * driver's no-interrupt flag.
 *
 * Return: 1 if the driver was notified, 0 if not, or -errno.
 */
VHOSTCTL_API int vhostctl_devq_flush(struct vhostctl_devq *q);

/**
 * vhostctl_devq_notify_enable() - ask the driver for kicks, or stop asking
 * @q: the queue
 * @enable: non-zero to ask
 *
 * Return: with @enable, 1 if buffers became available meanwhile (poll
 * again rather than wait), else 0; or -errno.
 */
VHOSTCTL_API int vhostctl_devq_notify_enable(struct vhostctl_devq *q, int enable);

/**
 * vhostctl_devq_notify_more() - ask for a kick once the driver adds buffers beyond some
 * @q: the queue
 * @elems: the buffers just given back with vhostctl_devq_unpop(), still
 *         available but too few (a frame needs more of them)
 * @n: how many
 *
 * vhostctl_devq_notify_enable() with @enable set, but for a device that
 * gave back buffers it cannot use yet: those do not count.  With event-idx
 * the split ring's event index is set past them, so the driver kicks at its
 * next addition; the return says whether one came meanwhile, so the device
 * neither spins on the buffers it gave back nor misses the kick.
 *
 * Return: 1 if a buffer beyond @elems is available (pop again), 0 if not
 * (wait for the kick), -EINVAL (a NULL @q, @elems with @n, elements no pop
 * made), or -EIO if the ring is broken.
 */
VHOSTCTL_API int vhostctl_devq_notify_more(struct vhostctl_devq *q,
					   const struct vhostctl_devq_elem *elems, unsigned int n);

/**
 * vhostctl_devq_copy_from() - read from a popped buffer's readable part
 * @elem: the buffer
 * @offset: where to start in its readable bytes
 * @buf: destination
 * @len: bytes wanted
 *
 * Return: bytes copied (less than @len at the end of the readable part).
 */
VHOSTCTL_API size_t vhostctl_devq_copy_from(const struct vhostctl_devq_elem *elem, size_t offset,
					    void *buf, size_t len);

/**
 * vhostctl_devq_copy_to() - write into a popped buffer's writable part
 * @elem: the buffer
 * @offset: where to start in its writable bytes
 * @buf: source
 * @len: bytes to write
 *
 * While the device logs dirty pages, the pages written are marked.
 *
 * Return: bytes copied (less than @len at the end of the writable part).
 */
VHOSTCTL_API size_t vhostctl_devq_copy_to(const struct vhostctl_devq_elem *elem, size_t offset,
					  const void *buf, size_t len);

/**
 * vhostctl_devq_copy_to_iov() - write several pieces into a popped buffer's
 * writable part, one after the other
 * @elem: the buffer
 * @offset: where to start in its writable bytes
 * @src: the pieces (a virtio-net header, then the frame, for instance)
 * @nsrc: how many
 *
 * What vhostctl_devq_copy_to() of each piece in turn, at consecutive
 * offsets, would write, in one call.  While the device logs dirty pages,
 * the pages written are marked.
 *
 * Return: bytes copied (less than the pieces' total at the end of the
 * writable part).
 */
VHOSTCTL_API size_t vhostctl_devq_copy_to_iov(const struct vhostctl_devq_elem *elem,
					      size_t offset, const struct iovec *src,
					      unsigned int nsrc);

/**
 * vhostctl_devq_base() - the queue's position, as GET_VRING_BASE reports it
 * @q: the queue
 *
 * Return: split: the next available index; packed: bits 0-14 that index,
 * bit 15 its wrap counter, bits 16-30 the next used index, bit 31 its wrap
 * counter.
 */
VHOSTCTL_API uint32_t vhostctl_devq_base(const struct vhostctl_devq *q);

/**
 * vhostctl_devq_size() - the queue's size
 * @q: the queue
 *
 * Return: the number of descriptors.
 */
VHOSTCTL_API unsigned int vhostctl_devq_size(const struct vhostctl_devq *q);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_DEVQ_H */
