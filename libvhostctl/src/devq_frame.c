// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What a device that spreads one message over several buffers needs from
 * the ring (virtio-net's mergeable receive buffers), and in-order batching.
 *
 * A push burst on a packed ring is published whole.  A packed driver reads
 * used descriptors one by one as their flags turn; a burst written in ring
 * order could show it the first buffers of a frame spread over several
 * (virtio-net's mergeable receive buffers) before the rest.  So the burst
 * is written from its second buffer on, then its first: the release store
 * of the first descriptor's flags orders every store before it.
 *
 * With VIRTIO_F_IN_ORDER a burst the device wrote nothing into (a TX
 * queue's) becomes one used descriptor: the last buffer's id at the first
 * slot, the used position skipping the slots of every buffer of the burst
 * ("In-order use of descriptors" of the packed ring, virtio 1.1 and later).
 * Drivers that negotiate in-order find the buffers by walking their own
 * ring up to that id (DPDK's virtio PMD frees its in-order packed TX that
 * way; DPDK's vhost library batches its own dequeues the same way).  A
 * written length is never batched away: the driver needs each one.  Split
 * rings are not batched: the used index is already stored once per burst,
 * and in-order split drivers read the used entry of every buffer.
 */
#include <errno.h>

#include "devq_priv.h"

/* Move a packed used position on by @ndesc slots. */
static inline void packed_skip(const struct vhostctl_devq *q, uint16_t *used, bool *wrap,
			       unsigned int ndesc)
{
	unsigned int u = *used + ndesc;

	if (u >= q->cfg.num) {
		u -= q->cfg.num;
		*wrap = !*wrap;
	}
	*used = (uint16_t)u;
}

/* True if every element of the burst came back with nothing written. */
static bool nothing_written(const uint32_t *written, unsigned int n)
{
	if (!written)
		return true;
	for (unsigned int i = 0; i < n; i++)
		if (written[i])
			return false;
	return true;
}

/* In-order: one used descriptor for the burst, the last buffer's id. */
static void packed_push_batched(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
				unsigned int n)
{
	struct pdesc *d = &q->pring[q->last_used];
	uint16_t flags = q->used_wrap ? (PDESC_F_AVAIL | PDESC_F_USED) : 0;
	uint16_t used = q->last_used;
	bool wrap = q->used_wrap;

	for (unsigned int i = 0; i < n; i++)
		packed_skip(q, &used, &wrap, elems[i].ndesc);
	__atomic_store_n(&d->id, elems[n - 1].id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, 0, __ATOMIC_RELAXED);
	/* Release: id and len are visible before the flags that hand the batch back. */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	q->last_used = used;
	q->used_wrap = wrap;
}

/*
 * The fast path of vhostctl_devq_push_burst() on a packed ring for @n > 1
 * (no inflight region, no logging): elements checked; @single, every one
 * of them is a single descriptor.
 */
void vhc_packed_push_whole(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			   const uint32_t *written, unsigned int n, bool single)
{
	uint16_t first = q->last_used, end;
	bool first_wrap = q->used_wrap, end_wrap;

	if (q->cfg.in_order && nothing_written(written, n)) {
		packed_push_batched(q, elems, n);
		return;
	}
	packed_skip(q, &q->last_used, &q->used_wrap, elems[0].ndesc);
	vhc_packed_push_run(q, elems + 1, written ? written + 1 : NULL, n - 1, single);
	end = q->last_used;
	end_wrap = q->used_wrap;
	q->last_used = first;
	q->used_wrap = first_wrap;
	vhc_packed_push_run(q, elems, written, 1, elems[0].ndesc == 1);
	q->last_used = end;
	q->used_wrap = end_wrap;
}

/*
 * The same order for the pushes of a logging queue, one by one through
 * @push (which marks the pages): the buffers after the first, then the
 * first.  Returns 0 or the first error of @push.
 */
int vhc_packed_push_whole_each(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			       const uint32_t *written, unsigned int n,
			       int (*push)(struct vhostctl_devq *q,
					   const struct vhostctl_devq_elem *e, uint32_t len))
{
	uint16_t first = q->last_used, end;
	bool first_wrap = q->used_wrap, end_wrap;
	int r;

	packed_skip(q, &q->last_used, &q->used_wrap, elems[0].ndesc);
	for (unsigned int i = 1; i < n; i++) {
		r = push(q, &elems[i], written ? written[i] : 0);
		if (r)
			return r;
	}
	end = q->last_used;
	end_wrap = q->used_wrap;
	q->last_used = first;
	q->used_wrap = first_wrap;
	r = push(q, &elems[0], written ? written[0] : 0);
	if (r)
		return r;
	q->last_used = end;
	q->used_wrap = end_wrap;
	return 0;
}

/*
 * vhostctl_devq_notify_more() on a split ring; @be: a legacy big-endian
 * one.  The @n buffers given back start at last_avail: the event index goes
 * past them, so the driver's next addition kicks.
 */
static int split_notify_more(struct vhostctl_devq *q, unsigned int n, bool be)
{
	uint16_t want = (uint16_t)(q->last_avail + n), idx;
	int r = be ? vhc_legacy_notify(q, 1) : vhc_split_notify(q, 1);

	if (r < 0)
		return r;
	if (q->cfg.event_idx) {
		st16(q->avail_event, be ? __builtin_bswap16(want) : want);
		if (q->logging)
			vhc_devq_log_used(q, 4 + 8ull * q->cfg.num, 2);
	}
	/* Full barrier: the event index is visible before we read the avail index again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	idx = ld16(&q->avail[1]);
	if (be)
		idx = __builtin_bswap16(idx);
	return (uint16_t)(idx - q->last_avail) > n;
}

/*
 * On a packed ring every addition kicks once enabled; whether one came
 * meanwhile is the slot after those of the buffers given back.
 */
static int packed_notify_more(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			      unsigned int n)
{
	uint16_t slot = q->last_avail, flags;
	bool wrap = q->avail_wrap;
	unsigned int total = 0;
	int r;

	for (unsigned int i = 0; i < n; i++) {
		total += elems[i].ndesc;
		if (!elems[i].ndesc || total > q->cfg.num)
			return -EINVAL;
		packed_skip(q, &slot, &wrap, elems[i].ndesc);
	}
	r = vhc_packed_notify(q, 1);
	if (r < 0)
		return r;
	/* vhc_packed_notify() ordered its enable before this read with a full barrier. */
	flags = __atomic_load_n(&q->pring[slot].flags, __ATOMIC_ACQUIRE);
	return !!(flags & PDESC_F_AVAIL) == wrap && !!(flags & PDESC_F_USED) != wrap;
}

VHC_EXPORT int vhostctl_devq_notify_more(struct vhostctl_devq *q,
					 const struct vhostctl_devq_elem *elems, unsigned int n)
{
	if (!q || (!elems && n) || n > VHC_VU_MAX_QUEUE_SIZE)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	if (q->cfg.packed)
		return vhc_ret(packed_notify_more(q, elems, n));
	return vhc_ret(split_notify_more(q, n, q->legacy));
}
