// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A legacy split ring in big-endian order, device side (SET_VRING_ENDIAN
 * of a pre-VERSION_1 device whose guest is big-endian): descriptors, the
 * avail and used indexes, flags and event fields, and used entries are all
 * in the ring's order.  devq.c sends every call of such a ring here, tested
 * once per call, so the little-endian paths (devq_split.c) carry no byte
 * swap and no per-access test.
 *
 * The same rules as devq_split.c: every field read once, every index
 * bounded, chains bounded by their table, a readable descriptor after a
 * writable one refused; a ring that breaks one is marked broken.  Neither
 * inflight tracking nor resubmission: the backend refuses both for it.
 */
#include <endian.h>
#include <errno.h>

#include "devq_priv.h"

static inline uint16_t lg16(const uint16_t *p)
{
	return be16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline void sg16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htobe16(v), __ATOMIC_RELAXED);
}

int vhc_legacy_init(struct vhostctl_devq *q)
{
	if (q->cfg.packed || q->cfg.inflight)
		return -EOPNOTSUPP;
	q->legacy = true;
	q->last_avail = (uint16_t)q->cfg.base;
	q->avail_seen = q->last_avail;
	q->used_idx = lg16(&q->used_hdr[1]);
	q->flushed = q->used_idx;
	return 0;
}

static int legacy_chain(struct vhostctl_devq *q, uint16_t head, struct walk *w)
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
		d.addr = be64toh(__atomic_load_n(&table[i].addr, __ATOMIC_RELAXED));
		d.len = be32toh(__atomic_load_n(&table[i].len, __ATOMIC_RELAXED));
		d.flags = be16toh(__atomic_load_n(&table[i].flags, __ATOMIC_RELAXED));
		d.next = be16toh(__atomic_load_n(&table[i].next, __ATOMIC_RELAXED));
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

static void legacy_avail_event(struct vhostctl_devq *q)
{
	if (q->cfg.event_idx) {
		sg16(q->avail_event, q->last_avail);
		if (q->logging)
			vhc_devq_log_used(q, 4 + 8ull * q->cfg.num, 2);
	}
}

/* One buffer: 1, 0 for an empty ring, or -errno (the ring broken but for -ENOBUFS). */
static int legacy_pop_one(struct vhostctl_devq *q, struct vhostctl_devq_elem *e,
			  struct iovec *iov, unsigned int max)
{
	unsigned int num = q->cfg.num;
	struct walk w;
	uint16_t head;
	int r;

	if (q->last_avail == q->avail_seen) {
		uint16_t avail_idx = lg16(&q->avail[1]);

		if (avail_idx == q->last_avail)
			return 0;
		if ((uint16_t)(avail_idx - q->last_avail) > num)
			return broken(q);
		/* Acquire: read the ring entries and descriptors after the index. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		q->avail_seen = avail_idx;
	}
	head = lg16(&q->avail[2 + (q->last_avail & (num - 1))]);
	if (head >= num)
		return broken(q);
	walk_init(q, &w, e, iov, max);
	r = legacy_chain(q, head, &w);
	if (r == -ENOBUFS)
		return r;
	if (r)
		return broken(q);
	walk_done(&w);
	e->id = head;
	e->ndesc = 1;
	q->last_avail++;
	return 1;
}

int vhc_legacy_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		   unsigned int max)
{
	int r = legacy_pop_one(q, e, iov, max);

	if (r > 0)
		legacy_avail_event(q);
	else if (!r)
		q->drained = true;
	return vhc_ret(r);
}

int vhc_legacy_pop_burst(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
			 struct iovec *iov, unsigned int per, unsigned int n)
{
	unsigned int i;
	int r = 1;

	for (i = 0; i < n; i++) {
		r = legacy_pop_one(q, &elems[i], per ? iov + (size_t)i * per : iov, per);
		if (r <= 0)
			break;
	}
	if (i)
		legacy_avail_event(q);
	if (!r)
		q->drained = true;
	/* As vhostctl_devq_pop_burst(): what stopped a burst is the next call's to report. */
	if (i)
		return (int)i;
	return vhc_ret(r);
}

int vhc_legacy_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len)
{
	struct used_elem *u = &q->used_ring[q->used_idx & (q->cfg.num - 1)];

	__atomic_store_n(&u->id, htobe32(e->id), __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, htobe32(len), __ATOMIC_RELAXED);
	q->used_idx++;
	q->pending++;
	if (q->logging)
		vhc_devq_log_push(q, e, len);
	return 0;
}

int vhc_legacy_flush(struct vhostctl_devq *q)
{
	uint16_t old = q->flushed, new_idx = q->used_idx;
	bool notify;

	/* Release: used entries are visible before the index that publishes them. */
	__atomic_store_n(&q->used_hdr[1], htobe16(new_idx), __ATOMIC_RELEASE);
	q->flushed = new_idx;
	if (q->logging)
		vhc_devq_log_flush(q);
	/* Full barrier: the used index store is ordered before reading the driver's event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->cfg.event_idx)
		notify = need_event(lg16(&q->avail[2 + q->cfg.num]), new_idx, old);
	else
		notify = !(lg16(&q->avail[0]) & AVAIL_F_NO_INTERRUPT);
	if (notify)
		signal_call(q);
	return notify;
}

int vhc_legacy_notify(struct vhostctl_devq *q, int enable)
{
	if (q->cfg.event_idx) {
		if (enable)
			legacy_avail_event(q);
	} else {
		uint16_t f = lg16(&q->used_hdr[0]);

		sg16(&q->used_hdr[0], enable ? f & ~USED_F_NO_NOTIFY : f | USED_F_NO_NOTIFY);
		if (q->logging)
			vhc_devq_log_used(q, 0, 2);
	}
	if (!enable)
		return 0;
	/* Full barrier: our enable is visible before we look at the avail index again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return lg16(&q->avail[1]) != q->last_avail;
}

int vhc_legacy_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e)
{
	(void)e;
	q->last_avail--;
	legacy_avail_event(q);
	return 0;
}
