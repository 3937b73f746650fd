// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The packed ring, device side: pop (the common single descriptor inline,
 * chains, indirect tables and inflight tracking out of line), push, flush
 * with event suppression, notifications.  A tracked queue records every
 * descriptor it pops in the inflight region (devq_inflight.c recovers it).
 */
#include <errno.h>

#include "devq_priv.h"

/* One packed descriptor (from the ring, or a recorded copy) into the walk. */
static ALWAYS_INLINE int packed_desc(struct vhostctl_devq *q, struct walk *w, const struct pdesc *d,
				      bool first)
{
	const struct pdesc *t;
	unsigned int tn;
	int r;

	if (!(d->flags & DESC_F_INDIRECT))
		return walk_one(q, w, d->addr, d->len, d->flags);
	if (!q->cfg.indirect || !first || (d->flags & DESC_F_NEXT) || !d->len ||
	    d->len % sizeof(struct pdesc) || d->len / sizeof(struct pdesc) > VHC_VU_MAX_QUEUE_SIZE)
		return -EIO;
	t = vhc_memmap_gpa(q->map, d->addr, d->len);
	if (!t || ((uintptr_t)t & 7))
		return -EIO;
	tn = d->len / sizeof(struct pdesc);
	for (unsigned int k = 0; k < tn; k++) {
		struct pdesc td;

		memcpy(&td, &t[k], sizeof(td));
		if (td.flags & DESC_F_INDIRECT)
			return -EIO;
		r = walk_one(q, w, td.addr, td.len, td.flags);
		if (r)
			return r;
	}
	return 0;
}

/* Copy a descriptor into an inflight entry (the entry is not in flight yet). */
static void pk_record(struct infl_pdesc *ent, const struct pdesc *d)
{
	__atomic_store_n(&ent->addr, d->addr, __ATOMIC_RELAXED);
	__atomic_store_n(&ent->len, d->len, __ATOMIC_RELAXED);
	__atomic_store_n(&ent->id, d->id, __ATOMIC_RELAXED);
	__atomic_store_n(&ent->flags, d->flags, __ATOMIC_RELAXED);
}

/*
 * The buffer recorded in entries head..last is in flight: mark it and take
 * its entries off the free list.  Buffer ids index the driver's own table:
 * below the ring size, one buffer per id (what the lookup at push needs).
 */
static int pk_pop_commit(struct vhostctl_devq *q, uint16_t head, uint16_t last, uint16_t next_free,
			 uint16_t count, uint16_t id)
{
	struct infl_packed *r = q->pinfl;
	struct infl_pdesc *h = &r->desc[head];

	if (id >= q->cfg.num || q->pk_head[id] != PK_NONE)
		return -EIO;
	__atomic_store_n(&h->num, count, __ATOMIC_RELAXED);
	__atomic_store_n(&h->last, last, __ATOMIC_RELAXED);
	__atomic_store_n(&h->counter, ++q->counter, __ATOMIC_RELAXED);
	/* Release: the entries are complete before the head says inflight. */
	__atomic_store_n(&h->inflight, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->free_head, next_free, __ATOMIC_RELEASE);
	/* The commit: a successor rolls the free list back to old_free_head. */
	__atomic_store_n(&r->old_free_head, next_free, __ATOMIC_RELEASE);
	q->pk_free = next_free;
	q->pk_head[id] = head;
	return 0;
}

static int packed_pop_resubmit(struct vhostctl_devq *q, struct vhostctl_devq_elem *e,
			       struct iovec *iov, unsigned int max)
{
	const struct pk_resub *rs = &q->pres[q->resubmit_pos];
	const struct pdesc *d = &q->resub_desc[rs->first];
	struct walk w;
	uint16_t id = d[rs->n - 1].id;
	int r;

	walk_init(q, &w, e, iov, max);
	for (unsigned int i = 0; i < rs->n; i++) {
		r = packed_desc(q, &w, &d[i], i == 0);
		if (r == -ENOBUFS)
			return r;
		if (r)
			return broken(q);
	}
	if (q->pk_head[id] != PK_NONE)
		return broken(q);
	walk_done(&w);
	e->id = id;
	e->ndesc = rs->n;
	q->pk_head[id] = rs->head;
	q->resubmit_pos++;
	q->last_pop_resub = true;
	return 1;
}

/*
 * One body for both: @track is a constant, so the queue without an inflight
 * region pays nothing for the tracking (one test, in packed_pop()).
 */
static ALWAYS_INLINE int packed_pop_body(struct vhostctl_devq *q, struct vhostctl_devq_elem *e,
					 struct iovec *iov, unsigned int max, const bool track)
{
	unsigned int num = q->cfg.num, count = 0;
	uint16_t idx = q->last_avail, flags, id = 0;
	uint16_t ent = q->pk_free, last = 0;
	bool wrap = q->avail_wrap;
	struct walk w;
	int r;

	if (track && q->resubmit_pos < q->nresubmit)
		return packed_pop_resubmit(q, e, iov, max);
	flags = __atomic_load_n(&q->pring[idx].flags, __ATOMIC_ACQUIRE);
	if (!!(flags & PDESC_F_AVAIL) != wrap || !!(flags & PDESC_F_USED) == wrap)
		return 0;
	walk_init(q, &w, e, iov, max);
	for (;;) {
		struct pdesc d;

		if (++count > num)
			return broken(q);
		/* Flags first (acquire: the rest is read after them), each field once. */
		d.flags = count > 1 ? __atomic_load_n(&q->pring[idx].flags, __ATOMIC_ACQUIRE) :
				      flags;
		d.addr = __atomic_load_n(&q->pring[idx].addr, __ATOMIC_RELAXED);
		d.len = __atomic_load_n(&q->pring[idx].len, __ATOMIC_RELAXED);
		d.id = __atomic_load_n(&q->pring[idx].id, __ATOMIC_RELAXED);
		r = packed_desc(q, &w, &d, count == 1);
		if (r == -ENOBUFS)
			return r;
		if (r)
			return broken(q);
		if (track) {
			/* Into the next free entry; nothing is committed until the end. */
			if (ent >= num)
				return broken(q);
			pk_record(&q->pinfl->desc[ent], &d);
			last = ent;
			ent = __atomic_load_n(&q->pinfl->desc[ent].next, __ATOMIC_RELAXED);
		}
		id = d.id;
		if (++idx >= num) {
			idx = 0;
			wrap = !wrap;
		}
		if (!(d.flags & DESC_F_NEXT))
			break;
	}
	walk_done(&w);
	if (track) {
		if (pk_pop_commit(q, q->pk_free, last, ent, (uint16_t)count, id))
			return broken(q);
		q->last_pop_resub = false;
	}
	e->id = id;
	e->ndesc = (uint16_t)count;
	q->last_avail = idx;
	q->avail_wrap = wrap;
	return 1;
}

static __attribute__((noinline)) int packed_pop_tracked(struct vhostctl_devq *q,
							struct vhostctl_devq_elem *e,
							struct iovec *iov, unsigned int max)
{
	return packed_pop_body(q, e, iov, max, true);
}

/* Everything but the common single descriptor: chains and indirect tables. */
static __attribute__((noinline)) int packed_pop_full(struct vhostctl_devq *q,
						     struct vhostctl_devq_elem *e,
						     struct iovec *iov, unsigned int max)
{
	return packed_pop_body(q, e, iov, max, false);
}

static ALWAYS_INLINE int packed_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e,
				    struct iovec *iov, unsigned int max)
{
	uint16_t idx = q->last_avail, flags;
	const struct pdesc *d = &q->pring[idx];
	bool wrap = q->avail_wrap;

	if (q->pinfl)
		return packed_pop_tracked(q, e, iov, max);
	/* One flags load: availability, then the single-descriptor test. */
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	if (!!(flags & PDESC_F_AVAIL) != wrap || !!(flags & PDESC_F_USED) == wrap)
		return 0;
	if (__builtin_expect(flags & (DESC_F_NEXT | DESC_F_INDIRECT), 0) ||
	    !pop_single(q, e, iov, max, __atomic_load_n(&d->addr, __ATOMIC_RELAXED),
			__atomic_load_n(&d->len, __ATOMIC_RELAXED), flags))
		return packed_pop_full(q, e, iov, max);
	e->id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	e->ndesc = 1;
	if (++idx >= q->cfg.num) {
		idx = 0;
		q->avail_wrap = !wrap;
	}
	q->last_avail = idx;
	return 1;
}

int vhc_packed_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		   unsigned int max)
{
	int r = packed_pop(q, e, iov, max);

	if (!r)
		q->drained = true;
	return vhc_ret(r);
}

int vhc_packed_pop_one(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		       unsigned int max)
{
	return packed_pop(q, e, iov, max);
}

/* Back on the free list: the entries of the buffer @id, committed at once. */
static int pk_release(struct vhostctl_devq *q, uint16_t id)
{
	struct infl_packed *r = q->pinfl;
	uint16_t head, last;

	if (id >= q->cfg.num || (head = q->pk_head[id]) == PK_NONE)
		return -EIO;
	last = __atomic_load_n(&r->desc[head].last, __ATOMIC_RELAXED);
	if (last >= q->cfg.num)
		return -EIO;
	__atomic_store_n(&r->desc[last].next, q->pk_free, __ATOMIC_RELEASE);
	__atomic_store_n(&r->free_head, head, __ATOMIC_RELEASE);
	__atomic_store_n(&r->old_free_head, head, __ATOMIC_RELEASE);
	__atomic_store_n(&r->desc[head].inflight, 0, __ATOMIC_RELEASE);
	q->pk_free = head;
	q->pk_head[id] = PK_NONE;
	return 0;
}

static ALWAYS_INLINE int packed_push_body(struct vhostctl_devq *q,
					  const struct vhostctl_devq_elem *e, uint32_t len,
					  const bool track)
{
	struct pdesc *d = &q->pring[q->last_used];
	uint16_t flags = q->used_wrap ? (PDESC_F_AVAIL | PDESC_F_USED) : 0;
	struct infl_packed *r = q->pinfl;
	uint16_t used = q->last_used, head = 0;
	bool wrap = q->used_wrap;

	used += e->ndesc;
	if (used >= q->cfg.num) {
		used -= (uint16_t)q->cfg.num;
		wrap = !wrap;
	}
	if (track) {
		uint16_t last;

		/*
		 * The buffer's entries go back on the free list and the used
		 * index moves, uncommitted: a successor that finds the
		 * descriptor below not yet published rolls this back.
		 */
		if (e->id >= q->cfg.num || (head = q->pk_head[e->id]) == PK_NONE)
			return broken(q);
		last = __atomic_load_n(&r->desc[head].last, __ATOMIC_RELAXED);
		if (last >= q->cfg.num)
			return broken(q);
		__atomic_store_n(&r->desc[last].next, q->pk_free, __ATOMIC_RELEASE);
		__atomic_store_n(&r->free_head, head, __ATOMIC_RELEASE);
		__atomic_store_n(&r->used_idx, used, __ATOMIC_RELEASE);
		__atomic_store_n(&r->used_wrap_counter, wrap, __ATOMIC_RELEASE);
	}
	if (len)
		flags |= DESC_F_WRITE;
	__atomic_store_n(&d->id, e->id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	/* Release: id and len are visible before the flags that hand the slot back. */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	if (track) {
		/* Published: no longer in flight; commit. */
		__atomic_store_n(&r->desc[head].inflight, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&r->old_free_head, head, __ATOMIC_RELEASE);
		__atomic_store_n(&r->old_used_idx, used, __ATOMIC_RELEASE);
		__atomic_store_n(&r->old_used_wrap_counter, wrap, __ATOMIC_RELEASE);
		q->pk_free = head;
		q->pk_head[e->id] = PK_NONE;
	}
	q->last_used = used;
	q->used_wrap = wrap;
	return 0;
}

static __attribute__((noinline)) int packed_push_tracked(struct vhostctl_devq *q,
							 const struct vhostctl_devq_elem *e,
							 uint32_t len)
{
	return packed_push_body(q, e, len, true);
}

int vhc_packed_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len)
{
	int r = q->pinfl ? packed_push_tracked(q, e, len) : packed_push_body(q, e, len, false);

	if (r)
		return vhc_ret(r);
	q->pending++;
	return 0;
}

int vhc_packed_flush(struct vhostctl_devq *q)
{
	uint16_t flags, off_wrap, off, new_idx = q->last_used, old = q->signalled;
	bool notify;

	/* Full barrier: used descriptors are visible before we read the driver's event area. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = ld16(&q->drv_evt[1]);
	if (flags == EVT_DESC && q->cfg.event_idx) {
		off_wrap = ld16(&q->drv_evt[0]);
		off = off_wrap & 0x7fff;
		/* Indices are ring slots; unwrap them onto one line before comparing. */
		if (new_idx <= old)
			old = (uint16_t)(old - q->cfg.num);
		if ((off_wrap >> 15) != q->used_wrap)
			off = (uint16_t)(off - q->cfg.num);
		notify = need_event(off, new_idx, old);
	} else {
		notify = flags != EVT_DISABLE;
	}
	q->signalled = q->last_used;
	q->signalled_wrap = q->used_wrap;
	if (notify)
		signal_call(q);
	return notify;
}

int vhc_packed_notify(struct vhostctl_devq *q, int enable)
{
	uint16_t flags;

	st16(&q->dev_evt[1], enable ? EVT_ENABLE : EVT_DISABLE);
	if (q->logging)
		vhc_devq_log_ring(q, &q->dev_evt[1], 2);
	if (!enable)
		return 0;
	/* Full barrier: our enable is visible before we look at the next slot again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&q->pring[q->last_avail].flags, __ATOMIC_ACQUIRE);
	return (!!(flags & PDESC_F_AVAIL) == q->avail_wrap &&
		!!(flags & PDESC_F_USED) != q->avail_wrap) || q->resubmit_pos < q->nresubmit;
}

/*
 * Four single descriptors at @d, known available and all readable or all
 * writable (@in, a constant in each copy), into elems[0..3]; each range is
 * checked against the run's region as run_take() checks it.  Returns how
 * many it took before one that is not common (left for the full walk).
 */
static ALWAYS_INLINE unsigned int packed_take4_dir(const struct pdesc *d,
						   const struct run_region *rr,
						   struct vhostctl_devq_elem *elems,
						   struct iovec *iov, unsigned int per, void *priv,
						   const bool in)
{
	unsigned int k;

#pragma GCC unroll 4
	for (k = 0; k < 4; k++) {
		if (!run_take(rr, &elems[k], &iov[k * per],
			      __atomic_load_n(&d[k].addr, __ATOMIC_RELAXED),
			      __atomic_load_n(&d[k].len, __ATOMIC_RELAXED), in ? DESC_F_WRITE : 0,
			      __atomic_load_n(&d[k].id, __ATOMIC_RELAXED), priv))
			break;
	}
	return k;
}

/*
 * Four available single descriptors at ring[idx] (idx a multiple of four,
 * all four below the ring's end), all readable or all writable, into
 * elems[0..3]: one test of the four flags, then packed_take4_dir().
 * Returns how many it took: 4, or fewer where a descriptor is not
 * available or not common (that one is left for the one-at-a-time path).
 */
static ALWAYS_INLINE unsigned int packed_take4(const struct pdesc *d, bool wrap,
					       const struct run_region *rr,
					       struct vhostctl_devq_elem *elems, struct iovec *iov,
					       unsigned int per, void *priv)
{
	const uint16_t mask = PDESC_F_AVAIL | PDESC_F_USED | DESC_F_NEXT | DESC_F_INDIRECT |
			      DESC_F_WRITE;
	uint16_t f0, f1, f2, f3, want;

	/* Acquire on each: a descriptor's fields are read after its flags. */
	f0 = __atomic_load_n(&d[0].flags, __ATOMIC_ACQUIRE);
	f1 = __atomic_load_n(&d[1].flags, __ATOMIC_ACQUIRE);
	f2 = __atomic_load_n(&d[2].flags, __ATOMIC_ACQUIRE);
	f3 = __atomic_load_n(&d[3].flags, __ATOMIC_ACQUIRE);
	want = (wrap ? PDESC_F_AVAIL : PDESC_F_USED) | (f0 & DESC_F_WRITE);
	if (((f0 ^ want) | (f1 ^ want) | (f2 ^ want) | (f3 ^ want)) & mask)
		return 0;
	if (want & DESC_F_WRITE)
		return packed_take4_dir(d, rr, elems, iov, per, priv, true);
	return packed_take4_dir(d, rr, elems, iov, per, priv, false);
}

/*
 * A burst's run of common buffers, on a ring without inflight tracking: as
 * vhc_split_pop_run(), the ring position and the region of the last lookup
 * in registers while buffers are single descriptors inside that region.
 * Where the position is a multiple of four, four at a time (packed_take4()).
 */
unsigned int vhc_packed_pop_run(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
				struct iovec *iov, unsigned int per, unsigned int n, int *res)
{
	const struct pdesc *ring = q->pring;
	unsigned int num = q->cfg.num, i = 0;
	void *priv = q->cfg.dlog;
	uint16_t idx = q->last_avail;
	bool wrap = q->avail_wrap;
	struct run_region rr;
	int r = 1;

	if (!run_begin(q, per, &rr)) {
		*res = 1;
		return 0;
	}
	while (i < n) {
		const struct pdesc *d = &ring[idx];
		uint16_t flags;

		if (!(idx & 3) && n - i >= 4 && idx + 4u <= num) {
			unsigned int k = packed_take4(d, wrap, &rr, &elems[i], iov, per, priv);

			if (k) {
				i += k;
				iov += (size_t)k * per;
				idx = (uint16_t)(idx + k);
				if (idx >= num) {
					idx = 0;
					wrap = !wrap;
				}
				if (k < 4)
					break;
				continue;
			}
		}
		flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		if (!!(flags & PDESC_F_AVAIL) != wrap || !!(flags & PDESC_F_USED) == wrap) {
			r = 0;
			break;
		}
		if ((flags & (DESC_F_NEXT | DESC_F_INDIRECT)) ||
		    !run_take(&rr, &elems[i], iov, __atomic_load_n(&d->addr, __ATOMIC_RELAXED),
			      __atomic_load_n(&d->len, __ATOMIC_RELAXED), flags,
			      __atomic_load_n(&d->id, __ATOMIC_RELAXED), priv))
			break;
		iov += per;
		i++;
		if (++idx >= num) {
			idx = 0;
			wrap = !wrap;
		}
	}
	q->last_avail = idx;
	q->avail_wrap = wrap;
	*res = r;
	return i;
}

/* One used descriptor: id and len, then (release) the flags that hand the slot back. */
static ALWAYS_INLINE void packed_used(struct pdesc *d, uint16_t id, uint32_t len, uint16_t flags)
{
	__atomic_store_n(&d->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
}

/*
 * A burst of one-slot buffers from slot @used on: in stretches up to the
 * ring's end, where the wrap counter flips.  @lens says whether @written
 * is there (a constant in each copy).
 */
static ALWAYS_INLINE void packed_used_single(struct vhostctl_devq *q,
					     const struct vhostctl_devq_elem *elems,
					     const uint32_t *written, unsigned int n, const bool lens)
{
	struct pdesc *ring = q->pring;
	unsigned int num = q->cfg.num, i = 0;
	uint16_t used = q->last_used;
	bool wrap = q->used_wrap;
	uint16_t wflags = wrap ? (PDESC_F_AVAIL | PDESC_F_USED) : 0;

	while (i < n) {
		unsigned int end = n - i < num - used ? n : i + (num - used);

		for (; i < end; i++) {
			uint32_t len = lens ? written[i] : 0;

			packed_used(&ring[used++], elems[i].id, len,
				    lens && len ? wflags | DESC_F_WRITE : wflags);
		}
		if (used >= num) {
			used = 0;
			wrap = !wrap;
			wflags ^= PDESC_F_AVAIL | PDESC_F_USED;
		}
	}
	q->last_used = used;
	q->used_wrap = wrap;
}

/*
 * Used descriptors for a burst, without tracking or logging; the elements
 * were checked.  @single: every element is one descriptor (the common
 * burst), so the used position moves by one each.
 */
void vhc_packed_push_run(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			 const uint32_t *written, unsigned int n, bool single)
{
	struct pdesc *ring = q->pring;
	unsigned int num = q->cfg.num;
	uint16_t used = q->last_used;
	bool wrap = q->used_wrap;
	uint16_t wflags = wrap ? (PDESC_F_AVAIL | PDESC_F_USED) : 0;

	if (single) {
		if (written)
			packed_used_single(q, elems, written, n, true);
		else
			packed_used_single(q, elems, NULL, n, false);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = written ? written[i] : 0;

		packed_used(&ring[used], elems[i].id, len, len ? wflags | DESC_F_WRITE : wflags);
		used += elems[i].ndesc;
		if (used >= num) {
			used -= (uint16_t)num;
			wrap = !wrap;
			wflags ^= PDESC_F_AVAIL | PDESC_F_USED;
		}
	}
	q->last_used = used;
	q->used_wrap = wrap;
}

int vhc_packed_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e)
{
	if (!e->ndesc || e->ndesc > q->cfg.num)
		return -EINVAL;
	if (q->last_pop_resub) {
		/* A resubmission: it stays in flight in the region, popped again later. */
		q->last_pop_resub = false;
		q->resubmit_pos--;
		if (e->id < q->cfg.num)
			q->pk_head[e->id] = PK_NONE;
		return 0;
	}
	if (q->pinfl && pk_release(q, e->id))
		return -EINVAL;
	if (q->last_avail >= e->ndesc) {
		q->last_avail -= e->ndesc;
	} else {
		q->last_avail = (uint16_t)(q->last_avail + q->cfg.num - e->ndesc);
		q->avail_wrap = !q->avail_wrap;
	}
	return 0;
}
