// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The split ring, device side: pop (the common single descriptor inline,
 * chains, indirect tables and resubmissions out of line), push, flush with
 * event-idx, notifications.  Every index the driver wrote is bounded before
 * use; a ring that breaks a rule is marked broken.
 */
#include <errno.h>

#include "devq_priv.h"

static int split_chain(struct vhostctl_devq *q, uint16_t head, struct walk *w)
{
	const struct sdesc *table = q->desc;
	unsigned int table_n = q->cfg.num, count = 0;
	bool indirect = false;
	uint16_t i = head;

	for (;;) {
		struct sdesc d;
		int r;

		if (i >= table_n || ++count > table_n)
			return -EIO;	/* out of range, or a loop */
		/* Each field read once: what was checked is what is used. */
		d.addr = __atomic_load_n(&table[i].addr, __ATOMIC_RELAXED);
		d.len = __atomic_load_n(&table[i].len, __ATOMIC_RELAXED);
		d.flags = __atomic_load_n(&table[i].flags, __ATOMIC_RELAXED);
		d.next = __atomic_load_n(&table[i].next, __ATOMIC_RELAXED);
		if (d.flags & DESC_F_INDIRECT) {
			if (!q->cfg.indirect || indirect || (d.flags & DESC_F_NEXT) ||
			    !d.len || d.len % sizeof(struct sdesc) ||
			    d.len / sizeof(struct sdesc) > VHC_VU_MAX_QUEUE_SIZE)
				return -EIO;
			table = vhc_memmap_gpa(q->map, d.addr, d.len);
			if (!table || ((uintptr_t)table & 7))
				return -EIO;
			table_n = d.len / sizeof(struct sdesc);
			indirect = true;
			count = 0;
			i = 0;
			continue;
		}
		r = walk_one(q, w, d.addr, d.len, d.flags);
		if (r)
			return r;
		if (!(d.flags & DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

/* A buffer taken off the ring: past it, and in flight while tracked. */
static ALWAYS_INLINE void split_taken(struct vhostctl_devq *q, uint16_t head)
{
	q->last_avail++;
	if (q->infl) {
		q->infl->desc[head].counter = ++q->counter;
		/* Release: the counter is in place when the flag says inflight. */
		__atomic_store_n(&q->infl->desc[head].inflight, 1, __ATOMIC_RELEASE);
	}
}

/* With event-idx: tell the driver where we are (once per pop, or per burst). */
static ALWAYS_INLINE void avail_event(struct vhostctl_devq *q)
{
	if (q->cfg.event_idx) {
		st16(q->avail_event, q->last_avail);
		if (__builtin_expect(q->logging, 0))
			vhc_devq_log_used(q, 4 + 8ull * q->cfg.num, 2);
	}
}

/*
 * The next head, or 0 if the ring is empty, or -EIO.  The index is read
 * again only once the entries it showed are taken.
 */
static ALWAYS_INLINE int split_head(struct vhostctl_devq *q, uint16_t *head)
{
	unsigned int num = q->cfg.num;
	uint16_t avail_idx;

	if (q->last_avail == q->avail_seen) {
		avail_idx = ld16(&q->avail[1]);
		if (avail_idx == q->last_avail)
			return 0;
		if ((uint16_t)(avail_idx - q->last_avail) > num)
			return broken(q);
		/* Acquire: read the ring entries and descriptors after the index. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		q->avail_seen = avail_idx;
	}
	*head = ld16(&q->avail[2 + (q->last_avail & (num - 1))]);
	if (*head >= num)
		return broken(q);
	return 1;
}

/* Everything but the common single descriptor: resubmissions, chains, indirect tables. */
static __attribute__((noinline)) int split_pop_full(struct vhostctl_devq *q,
						    struct vhostctl_devq_elem *e, struct iovec *iov,
						    unsigned int max)
{
	unsigned int num = q->cfg.num;
	struct walk w;
	uint16_t head;
	bool resub = q->resubmit_pos < q->nresubmit;
	int r;

	if (resub) {
		head = q->resubmit[q->resubmit_pos];
		if (head >= num)
			return broken(q);
	} else {
		r = split_head(q, &head);
		if (r <= 0)
			return r;
	}
	walk_init(q, &w, e, iov, max);
	r = split_chain(q, head, &w);
	if (r == -ENOBUFS)
		return r;
	if (r)
		return broken(q);
	walk_done(&w);
	e->id = head;
	e->ndesc = 1;
	if (resub) {
		q->resubmit_pos++;
		return 1;
	}
	split_taken(q, head);
	return 1;
}

/* One buffer, without the avail event update (the caller's, per pop or per burst). */
static ALWAYS_INLINE int split_pop_one(struct vhostctl_devq *q, struct vhostctl_devq_elem *e,
				       struct iovec *iov, unsigned int max)
{
	const struct sdesc *d;
	uint16_t head, flags;
	int r;

	if (__builtin_expect(q->resubmit_pos < q->nresubmit, 0))
		return split_pop_full(q, e, iov, max);
	r = split_head(q, &head);
	if (r <= 0)
		return r;
	d = &q->desc[head];
	flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	if (__builtin_expect(flags & (DESC_F_NEXT | DESC_F_INDIRECT), 0) ||
	    !pop_single(q, e, iov, max, __atomic_load_n(&d->addr, __ATOMIC_RELAXED),
			__atomic_load_n(&d->len, __ATOMIC_RELAXED), flags))
		return split_pop_full(q, e, iov, max);
	e->id = head;
	e->ndesc = 1;
	split_taken(q, head);
	return 1;
}

int vhc_split_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		  unsigned int max)
{
	int r = split_pop_one(q, e, iov, max);

	/* A resubmission does not move the ring (last_avail is past it already). */
	if (r > 0)
		avail_event(q);
	else if (!r)
		q->drained = true;
	return vhc_ret(r);
}

int vhc_split_pop_one(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		      unsigned int max)
{
	return split_pop_one(q, e, iov, max);
}

void vhc_split_avail_event(struct vhostctl_devq *q)
{
	avail_event(q);
}

int vhc_split_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len)
{
	struct used_elem *u = &q->used_ring[q->used_idx & (q->cfg.num - 1)];

	__atomic_store_n(&u->id, e->id, __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
	q->used_idx++;
	if (q->infl) {
		if (q->nbatch < VHC_ARRAY_SIZE(q->batch))
			q->batch[q->nbatch++] = e->id;
		else
			q->batch_overflow = true;
	}
	q->pending++;
	return 0;
}

int vhc_split_flush(struct vhostctl_devq *q)
{
	uint16_t old = q->flushed, new_idx = q->used_idx;
	bool notify;

	/* Release: used entries are visible before the index that publishes them. */
	__atomic_store_n(&q->used_hdr[1], new_idx, __ATOMIC_RELEASE);
	if (q->infl) {
		/* Published: the batch is no longer inflight. */
		if (q->batch_overflow) {
			for (uint16_t i = old; i != new_idx; i++)
				q->infl->desc[q->used_ring[i & (q->cfg.num - 1)].id % q->cfg.num]
					.inflight = 0;
		} else {
			for (unsigned int i = 0; i < q->nbatch; i++)
				q->infl->desc[q->batch[i]].inflight = 0;
		}
		__atomic_store_n(&q->infl->used_idx, new_idx, __ATOMIC_RELEASE);
		q->nbatch = 0;
		q->batch_overflow = false;
	}
	q->flushed = new_idx;
	/* Full barrier: the used index store is ordered before reading the driver's event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->cfg.event_idx)
		notify = need_event(ld16(&q->avail[2 + q->cfg.num]), new_idx, old);
	else
		notify = !(ld16(&q->avail[0]) & AVAIL_F_NO_INTERRUPT);
	if (notify)
		signal_call(q);
	return notify;
}

int vhc_split_notify(struct vhostctl_devq *q, int enable)
{
	if (q->cfg.event_idx) {
		if (enable)
			avail_event(q);
	} else {
		uint16_t f = ld16(&q->used_hdr[0]);

		st16(&q->used_hdr[0], enable ? f & ~USED_F_NO_NOTIFY : f | USED_F_NO_NOTIFY);
		if (q->logging)
			vhc_devq_log_used(q, 0, 2);
	}
	if (!enable)
		return 0;
	/* Full barrier: our enable is visible before we look at the avail index again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16(&q->avail[1]) != q->last_avail || q->resubmit_pos < q->nresubmit;
}

/*
 * A burst's run of common buffers, on a ring without resubmissions or
 * inflight tracking: while buffers are single descriptors inside the region
 * of the last lookup, the ring position and that region stay in registers.
 * Returns the buffers taken; *@res is what stopped the run: 0 an empty
 * ring, -EIO a broken one, 1 a buffer for the one-buffer path (or @n taken).
 */
unsigned int vhc_split_pop_run(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
			       struct iovec *iov, unsigned int per, unsigned int n, int *res)
{
	const struct sdesc *table = q->desc;
	const uint16_t *avail = q->avail;
	unsigned int num = q->cfg.num, i;
	void *priv = q->cfg.dlog;
	uint16_t last = q->last_avail, seen = q->avail_seen;
	struct run_region rr;
	int r = 1;

	if (!run_begin(q, per, &rr)) {
		*res = 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct sdesc *d;
		uint16_t head, flags;

		if (last == seen) {
			uint16_t a = ld16(&avail[1]);

			if (a == last) {
				r = 0;
				break;
			}
			if ((uint16_t)(a - last) > num) {
				r = broken(q);
				break;
			}
			/* Acquire: entries and descriptors after the index. */
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			seen = a;
		}
		head = ld16(&avail[2 + (last & (num - 1))]);
		if (head >= num) {
			r = broken(q);
			break;
		}
		d = &table[head];
		flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
		if ((flags & (DESC_F_NEXT | DESC_F_INDIRECT)) ||
		    !run_take(&rr, &elems[i], iov, __atomic_load_n(&d->addr, __ATOMIC_RELAXED),
			      __atomic_load_n(&d->len, __ATOMIC_RELAXED), flags, head, priv))
			break;
		iov += per;
		last++;
	}
	q->last_avail = last;
	q->avail_seen = seen;
	*res = r;
	return i;
}

/* Used entries for a burst, without tracking or logging; the elements were checked. */
void vhc_split_push_run(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			const uint32_t *written, unsigned int n)
{
	struct used_elem *ring = q->used_ring;
	unsigned int mask = q->cfg.num - 1;
	uint16_t used = q->used_idx;

	for (unsigned int i = 0; i < n; i++, used++) {
		struct used_elem *u = &ring[used & mask];

		__atomic_store_n(&u->id, elems[i].id, __ATOMIC_RELAXED);
		__atomic_store_n(&u->len, written ? written[i] : 0, __ATOMIC_RELAXED);
	}
	q->used_idx = used;
}

int vhc_split_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e)
{
	if (q->resubmit_pos && q->resubmit_pos <= q->nresubmit &&
	    q->resubmit[q->resubmit_pos - 1] == e->id &&
	    q->last_avail == (uint16_t)(ld16(&q->used_hdr[1]) + q->nresubmit)) {
		q->resubmit_pos--;
		return 0;
	}
	q->last_avail--;
	avail_event(q);
	if (q->infl)
		q->infl->desc[e->id % q->cfg.num].inflight = 0;
	return 0;
}
