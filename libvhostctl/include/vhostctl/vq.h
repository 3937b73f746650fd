/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * libvhostctl: the driver side of a virtqueue, split or packed layout (the
 * layout follows VIRTIO_F_RING_PACKED in the features), what a guest does:
 * the rings live in guest memory (a struct vhostctl_mem), buffers are added
 * as descriptor chains (direct or indirect), the device is kicked through an
 * eventfd and used buffers are reaped, with VIRTIO_RING_F_EVENT_IDX
 * notification suppression when negotiated.  The same calls serve both
 * layouts.  What the device writes back is checked: an id not in flight or
 * a length beyond the chain's writable bytes breaks the queue (-EIO).
 */
#ifndef VHOSTCTL_VQ_H
#define VHOSTCTL_VQ_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostctl_dev;
struct vhostctl_mem;
struct vhostctl_vring_addr;

/** struct vhostctl_vq - a driver-side virtqueue, split or packed (opaque) */
struct vhostctl_vq;

/**
 * struct vhostctl_vq_opts - how to lay out a virtqueue
 * @sz: sizeof(struct vhostctl_vq_opts)
 * @used_align: alignment of the split used ring: 0 means 4 (VERSION_1) or
 *              4096 (legacy), as the spec asks; ignored for packed rings
 * @max_indirect: descriptors per indirect table (0 means 32; ignored
 *                without VIRTIO_RING_F_INDIRECT_DESC)
 */
struct vhostctl_vq_opts {
	size_t sz;
	unsigned int used_align;
	unsigned int max_indirect;
};

/**
 * vhostctl_vq_new() - allocate a virtqueue in guest memory
 * @mem: guest memory to allocate the rings (and indirect tables) from
 * @index: the vring index on the device
 * @num: ring size: split, a power of two up to 32768; packed, any size up
 *       to 32768
 * @features: the negotiated feature bits (RING_PACKED, EVENT_IDX,
 *            INDIRECT_DESC, VERSION_1 matter)
 * @opts: options, or NULL
 *
 * With VIRTIO_F_RING_PACKED (bit 34) in @features the queue is a packed
 * ring (a descriptor ring, a driver and a device event area, both wrap
 * counters starting at 1), else a split one.  Kick and call eventfds are
 * created with the queue and owned by it.
 *
 * Return: the queue, or NULL with errno set (EINVAL: bad size, or packed
 * without VIRTIO_F_VERSION_1; ENOMEM: guest memory full).
 */
VHOSTCTL_API struct vhostctl_vq *vhostctl_vq_new(struct vhostctl_mem *mem, unsigned int index,
						 unsigned int num, uint64_t features,
						 const struct vhostctl_vq_opts *opts);

/**
 * vhostctl_vq_free() - close the queue's eventfds and free it
 * @vq: the queue, or NULL
 *
 * Its guest memory stays allocated in the memory object.
 */
VHOSTCTL_API void vhostctl_vq_free(struct vhostctl_vq *vq);

/**
 * vhostctl_vq_get_addr() - the ring addresses to give the device
 * @vq: the queue
 * @addr: filled in, guest physical: split, the descriptor table, avail ring
 *        and used ring; packed, the descriptor ring (@addr->desc), the
 *        driver event area (@addr->avail) and the device event area
 *        (@addr->used); @addr->log = @addr->used
 *
 * Return: 0 or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vq_get_addr(const struct vhostctl_vq *vq,
				      struct vhostctl_vring_addr *addr);

/**
 * vhostctl_vq_kick_fd() - the eventfd the queue signals on kicks
 * @vq: the queue
 *
 * Return: the fd (owned by @vq), or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vq_kick_fd(const struct vhostctl_vq *vq);

/**
 * vhostctl_vq_call_fd() - the eventfd the device signals for used buffers
 * @vq: the queue
 *
 * Return: the fd (owned by @vq), or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vq_call_fd(const struct vhostctl_vq *vq);

/* Flags of vhostctl_vq_attach(). */
/** VHOSTCTL_VQ_ATTACH_LOG - have the device log used-ring writes */
#define VHOSTCTL_VQ_ATTACH_LOG 0x1u

/**
 * vhostctl_vq_attach() - set the queue up on a device
 * @vq: the queue
 * @dev: the device, with its owner, features and memory table set
 * @flags: 0 or VHOSTCTL_VQ_ATTACH_LOG
 *
 * SET_VRING_NUM, SET_VRING_BASE (the queue's used index, which is where the
 * device resumes when nothing is in flight), SET_VRING_ADDR, SET_VRING_KICK
 * and SET_VRING_CALL, in that order.  A packed queue's base is the next
 * used slot and its wrap counter (bit 15) twice, as the available position
 * (bits 0-15) and the used one (bits 16-31): 0x80008000 for a new queue.
 *
 * Return: 0 or the first call's -errno.
 */
VHOSTCTL_API int vhostctl_vq_attach(struct vhostctl_vq *vq, struct vhostctl_dev *dev,
				    unsigned int flags);

/**
 * struct vhostctl_vq_buf - one buffer of a chain
 * @gpa: guest physical address
 * @len: bytes
 */
struct vhostctl_vq_buf {
	uint64_t gpa;
	uint32_t len;
};

/* Flags of vhostctl_vq_add(). */
/** VHOSTCTL_VQ_ADD_INDIRECT - put the chain in an indirect table (one ring slot) */
#define VHOSTCTL_VQ_ADD_INDIRECT 0x1u

/**
 * vhostctl_vq_add() - make a chain of buffers available (not yet visible)
 * @vq: the queue
 * @bufs: @out device-readable buffers, then @in device-writable ones
 * @out: how many readable
 * @in: how many writable
 * @token: returned by vhostctl_vq_get_used() for this chain; not NULL
 * @flags: 0 or VHOSTCTL_VQ_ADD_INDIRECT
 *
 * The device sees the chain after vhostctl_vq_kick() (packed: the head
 * descriptor's flags are written then).  Every buffer must lie in the
 * queue's guest memory.  A chain takes one descriptor (slot) per buffer, or
 * one with VHOSTCTL_VQ_ADD_INDIRECT.
 *
 * Return: 0, -ENOSPC when the ring is full, -EFAULT for a buffer outside guest
 * memory, -EINVAL (no buffers, indirect not negotiated or too long), -EIO
 * when the queue is broken, or -errno.
 */
VHOSTCTL_API int vhostctl_vq_add(struct vhostctl_vq *vq, const struct vhostctl_vq_buf *bufs,
				 unsigned int out, unsigned int in, void *token,
				 unsigned int flags);

/**
 * vhostctl_vq_kick() - publish added chains and notify the device if it wants
 * @vq: the queue
 *
 * Split: the device's VRING_USED_F_NO_NOTIFY or, with EVENT_IDX, its avail
 * event index decide.  Packed: the device event area: DISABLE, ENABLE, or
 * with EVENT_IDX DESC, a kick when the slot and wrap counter in its
 * off_wrap became available with this kick.
 *
 * Return: 1 when the kick eventfd was signalled, 0 when there was nothing
 * new or the device asked not to be, -EIO when the queue is broken, or
 * -errno.
 */
VHOSTCTL_API int vhostctl_vq_kick(struct vhostctl_vq *vq);

/**
 * vhostctl_vq_get_used() - reap one used chain
 * @vq: the queue
 * @len: where to store the bytes the device wrote, or NULL
 * @token: where to store the chain's token
 *
 * Packed: the next used slot is used when both its AVAIL and USED flags
 * equal the used wrap counter; chains may come back in any order, and the
 * next used slot is as many slots on as the returned chain took.
 *
 * Return: 1 with a chain, 0 when none is used yet, -EIO when the device
 * returned an id that is not in flight or a length beyond the chain's
 * writable bytes (the queue is then broken: every later add, kick, wait
 * and get_used fails with -EIO), or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vq_get_used(struct vhostctl_vq *vq, uint32_t *len, void **token);

/**
 * vhostctl_vq_enable_cb() - ask the device to signal the call eventfd
 * @vq: the queue
 *
 * Split: with EVENT_IDX, asks for a signal at the next used entry; without,
 * clears VRING_AVAIL_F_NO_INTERRUPT.  Packed: the driver event area says
 * DESC with the next used slot and wrap counter (EVENT_IDX), or ENABLE.
 *
 * Return: 1 when used chains are pending already (reap them: no signal may
 * come for them), 0 otherwise.
 */
VHOSTCTL_API int vhostctl_vq_enable_cb(struct vhostctl_vq *vq);

/**
 * vhostctl_vq_disable_cb() - ask the device not to signal the call eventfd
 * @vq: the queue
 *
 * Split: VRING_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX a used event far
 * away.  Packed: DISABLE in the driver event area.  A hint: the device may
 * still signal.
 */
VHOSTCTL_API void vhostctl_vq_disable_cb(struct vhostctl_vq *vq);

/**
 * vhostctl_vq_wait() - wait until a used chain can be reaped
 * @vq: the queue
 * @timeout_ms: the limit, or -1 for none
 *
 * Enables callbacks, sleeps on the call eventfd and drains it.
 *
 * Return: 0 when vhostctl_vq_get_used() has something, -ETIMEDOUT, -EIO
 * when the queue is broken, or -errno.
 */
VHOSTCTL_API int vhostctl_vq_wait(struct vhostctl_vq *vq, int timeout_ms);

/**
 * vhostctl_vq_num_free() - free descriptors
 * @vq: the queue
 *
 * Split: descriptors of the table; packed: slots of the ring.
 *
 * Return: the count, or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vq_num_free(const struct vhostctl_vq *vq);

/**
 * vhostctl_vq_size() - the ring size
 * @vq: the queue
 *
 * Return: the size, or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vq_size(const struct vhostctl_vq *vq);

/**
 * struct vhostctl_vq_stats - what a queue has done
 * @added: chains added
 * @used: chains reaped
 * @kicks: kicks that signalled the eventfd
 * @kicks_suppressed: kicks the device asked us to skip
 * @calls: call eventfd wake-ups consumed by vhostctl_vq_wait()
 */
struct vhostctl_vq_stats {
	uint64_t added;
	uint64_t used;
	uint64_t kicks;
	uint64_t kicks_suppressed;
	uint64_t calls;
};

/**
 * vhostctl_vq_get_stats() - read the queue's counters
 * @vq: the queue
 * @stats: filled in
 *
 * Return: 0 or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vq_get_stats(const struct vhostctl_vq *vq,
				       struct vhostctl_vq_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_VQ_H */
