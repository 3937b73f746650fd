// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The device side of a virtqueue, split and packed layouts.
 *
 * The driver's memory is untrusted: every ring field is read once into a
 * local, every index is bounded, every descriptor address and length is
 * translated through the memory map (which fails for anything outside a
 * region), chains are bounded by the ring (or indirect table) size, and a
 * readable descriptor after a writable one is refused.  A queue that breaks
 * a rule is marked broken; nothing later touches its memory.
 *
 * Layouts (virtio 1.x): split desc {u64 addr, u32 len, u16 flags, u16 next},
 * avail {u16 flags, u16 idx, u16 ring[num], u16 used_event}, used {u16
 * flags, u16 idx, {u32 id, u32 len} ring[num], u16 avail_event}; packed desc
 * {u64 addr, u32 len, u16 id, u16 flags}, event areas {u16 off_wrap, u16 flags}.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vu.h"

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
#define PDESC_F_AVAIL (1u << 7)
#define PDESC_F_USED (1u << 15)
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1
#define EVT_ENABLE 0
#define EVT_DISABLE 1
#define EVT_DESC 2

struct sdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct used_elem {
	uint32_t id;
	uint32_t len;
};

/* Inflight region of one split queue (layout shared with the frontend's copy). */
struct infl_desc {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

struct infl_split {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct infl_desc desc[];
};

/*
 * A device queue.  Used by one thread at a time (the backend's dispatch
 * thread), so nothing is locked; ring memory shared with the driver is
 * accessed with atomics and the barriers named where they are.
 */
struct vhostctl_devq {
	const struct vhc_memmap *map;
	struct vhc_memmap own;		/* the map of a standalone queue */
	struct vhc_devq_cfg cfg;
	bool broken;

	/* split */
	struct sdesc *desc;
	uint16_t *avail;		/* [0] flags, [1] idx, [2..] ring, [2+num] used_event */
	uint16_t *used_hdr;		/* [0] flags, [1] idx */
	struct used_elem *used_ring;
	uint16_t *avail_event;
	uint16_t last_avail;
	uint16_t used_idx;		/* next used index (shadow) */
	uint16_t flushed;		/* used index the driver last saw */

	/* packed */
	struct pdesc *pring;
	uint16_t *drv_evt;		/* [0] off_wrap, [1] flags */
	uint16_t *dev_evt;
	bool avail_wrap, used_wrap;
	uint16_t last_used;
	uint16_t signalled;		/* last_used at the last flush */
	bool signalled_wrap;

	unsigned int pending;		/* pushed, not yet flushed */

	/* inflight tracking (split) and requests to resubmit after a reconnect */
	struct infl_split *infl;
	uint64_t counter;
	uint16_t *resubmit;
	unsigned int nresubmit, resubmit_pos;
	uint16_t batch[64];		/* heads pushed since the last flush */
	unsigned int nbatch;
	bool batch_overflow;
};

/* ---- memory map ------------------------------------------------------ */

int vhc_memmap_add(struct vhc_memmap *m, const struct vhostctl_devq_region *reg)
{
	unsigned int i;

	if (!reg->size || reg->gpa + reg->size < reg->gpa || reg->uaddr + reg->size < reg->uaddr)
		return -EINVAL;
	for (i = 0; i < m->n; i++) {
		const struct vhostctl_devq_region *o = &m->r[i];

		if (reg->gpa < o->gpa + o->size && o->gpa < reg->gpa + reg->size)
			return -EINVAL;
		if (reg->uaddr < o->uaddr + o->size && o->uaddr < reg->uaddr + reg->size)
			return -EINVAL;
	}
	if (m->n == m->cap) {
		unsigned int cap = m->cap ? m->cap * 2 : 8;
		void *p;

		if (cap > VHC_VU_MAX_MEM_SLOTS)
			cap = VHC_VU_MAX_MEM_SLOTS;
		if (m->n == cap)
			return -E2BIG;
		p = realloc(m->r, cap * sizeof(*m->r));
		if (!p)
			return -ENOMEM;
		m->r = p;
		m->cap = cap;
	}
	for (i = m->n; i > 0 && m->r[i - 1].gpa > reg->gpa; i--)
		m->r[i] = m->r[i - 1];
	m->r[i] = *reg;
	m->n++;
	return 0;
}

int vhc_memmap_remove(struct vhc_memmap *m, uint64_t gpa, uint64_t size, uint64_t uaddr,
		      struct vhostctl_devq_region *removed)
{
	for (unsigned int i = 0; i < m->n; i++) {
		if (m->r[i].gpa != gpa || m->r[i].size != size || m->r[i].uaddr != uaddr)
			continue;
		if (removed)
			*removed = m->r[i];
		memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
		m->n--;
		return 0;
	}
	return -ENOENT;
}

/* The region holding [gpa, gpa+len), by binary search, or NULL. */
void *vhc_memmap_gpa(const struct vhc_memmap *m, uint64_t gpa, uint64_t len)
{
	unsigned int lo = 0, hi = m->n;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		const struct vhostctl_devq_region *r = &m->r[mid];

		if (gpa < r->gpa) {
			hi = mid;
		} else if (gpa - r->gpa >= r->size) {
			lo = mid + 1;
		} else {
			if (len > r->size - (gpa - r->gpa))
				return NULL;
			return (char *)r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

void *vhc_memmap_uva(const struct vhc_memmap *m, uint64_t uaddr, uint64_t len)
{
	for (unsigned int i = 0; i < m->n; i++) {
		const struct vhostctl_devq_region *r = &m->r[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size) {
			if (len > r->size - (uaddr - r->uaddr))
				return NULL;
			return (char *)r->host + (uaddr - r->uaddr);
		}
	}
	return NULL;
}

/* ---- helpers --------------------------------------------------------- */

static inline uint16_t ld16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static int broken(struct vhostctl_devq *q)
{
	q->broken = true;
	return -EIO;
}

static void signal_call(struct vhostctl_devq *q)
{
	uint64_t one = 1;

	if (q->cfg.call_fd >= 0 && write(q->cfg.call_fd, &one, sizeof(one)) < 0) {
		/* A full eventfd counter means the driver has a wakeup pending already. */
	}
}

/* Translate one descriptor into iovecs; it may span adjacent regions. */
static int add_buf(struct vhostctl_devq *q, uint64_t addr, uint32_t len, struct iovec *iov,
		   unsigned int *n, unsigned int max)
{
	const struct vhc_memmap *m = q->map;

	if (addr + len < addr)
		return -EIO;
	while (len) {
		const struct vhostctl_devq_region *r = NULL;
		unsigned int lo = 0, hi = m->n;
		uint64_t chunk;

		while (lo < hi) {
			unsigned int mid = (lo + hi) / 2;

			if (addr < m->r[mid].gpa) {
				hi = mid;
			} else if (addr - m->r[mid].gpa >= m->r[mid].size) {
				lo = mid + 1;
			} else {
				r = &m->r[mid];
				break;
			}
		}
		if (!r)
			return -EIO;
		chunk = r->size - (addr - r->gpa);
		if (chunk > len)
			chunk = len;
		if (*n >= max)
			return -ENOBUFS;
		iov[*n].iov_base = (char *)r->host + (addr - r->gpa);
		iov[*n].iov_len = chunk;
		(*n)++;
		addr += chunk;
		len -= (uint32_t)chunk;
	}
	return 0;
}

struct walk {
	struct vhostctl_devq_elem *e;
	struct iovec *iov;
	unsigned int max;
	unsigned int n;
	uint64_t out_len, in_len;
};

/* Always inlined: it runs for every descriptor popped (bench/vu_ipp.sh counts it). */
static inline __attribute__((always_inline)) int walk_one(struct vhostctl_devq *q, struct walk *w,
							  uint64_t addr, uint32_t len, uint16_t flags)
{
	unsigned int before = w->n;
	int r;

	if (!(flags & DESC_F_WRITE) && w->e->in)
		return -EIO;	/* readable after writable */
	r = add_buf(q, addr, len, w->iov, &w->n, w->max);
	if (r)
		return r;
	if (flags & DESC_F_WRITE) {
		w->e->in += w->n - before;
		w->in_len += len;
	} else {
		w->e->out += w->n - before;
		w->out_len += len;
	}
	if (w->in_len > UINT32_MAX || w->out_len > UINT32_MAX)
		return -EIO;
	return 0;
}

static void walk_init(struct walk *w, struct vhostctl_devq_elem *e, struct iovec *iov,
		      unsigned int max)
{
	memset(e, 0, sizeof(*e));
	e->iov = iov;
	w->e = e;
	w->iov = iov;
	w->max = max;
	w->n = 0;
	w->out_len = w->in_len = 0;
}

static void walk_done(struct walk *w)
{
	w->e->out_len = (uint32_t)w->out_len;
	w->e->in_len = (uint32_t)w->in_len;
}

/* ---- split ----------------------------------------------------------- */

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
		memcpy(&d, &table[i], sizeof(d));
		d.flags = __atomic_load_n(&table[i].flags, __ATOMIC_RELAXED);
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

static int split_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		     unsigned int max)
{
	unsigned int num = q->cfg.num;
	struct walk w;
	uint16_t avail_idx, head;
	bool resub = q->resubmit_pos < q->nresubmit;
	int r;

	if (resub) {
		head = q->resubmit[q->resubmit_pos];
	} else {
		avail_idx = ld16(&q->avail[1]);
		if (avail_idx == q->last_avail)
			return 0;
		if ((uint16_t)(avail_idx - q->last_avail) > num)
			return broken(q);
		/* Acquire: read the ring entry and descriptors after the index. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		head = ld16(&q->avail[2 + (q->last_avail & (num - 1))]);
	}
	if (head >= num)
		return broken(q);
	walk_init(&w, e, iov, max);
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
	q->last_avail++;
	if (q->infl) {
		q->infl->desc[head].counter = ++q->counter;
		/* Release: the counter is in place when the flag says inflight. */
		__atomic_store_n(&q->infl->desc[head].inflight, 1, __ATOMIC_RELEASE);
	}
	if (q->cfg.event_idx)
		st16(q->avail_event, q->last_avail);
	return 1;
}

static int split_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len)
{
	struct used_elem *u = &q->used_ring[q->used_idx & (q->cfg.num - 1)];

	if (e->id >= q->cfg.num)
		return -EINVAL;
	__atomic_store_n(&u->id, e->id, __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
	q->used_idx++;
	if (q->infl) {
		if (q->nbatch < VHC_ARRAY_SIZE(q->batch))
			q->batch[q->nbatch++] = e->id;
		else
			q->batch_overflow = true;
	}
	return 0;
}

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static int split_flush(struct vhostctl_devq *q)
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

static int split_notify(struct vhostctl_devq *q, int enable)
{
	if (q->cfg.event_idx) {
		if (enable)
			st16(q->avail_event, q->last_avail);
	} else {
		uint16_t f = ld16(&q->used_hdr[0]);

		st16(&q->used_hdr[0], enable ? f & ~USED_F_NO_NOTIFY : f | USED_F_NO_NOTIFY);
	}
	if (!enable)
		return 0;
	/* Full barrier: our enable is visible before we look at the avail index again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16(&q->avail[1]) != q->last_avail || q->resubmit_pos < q->nresubmit;
}

/* ---- packed ---------------------------------------------------------- */

static int packed_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		      unsigned int max)
{
	unsigned int num = q->cfg.num, count = 0;
	uint16_t idx = q->last_avail, flags, id = 0;
	bool wrap = q->avail_wrap;
	struct walk w;
	int r;

	flags = __atomic_load_n(&q->pring[idx].flags, __ATOMIC_ACQUIRE);
	if (!!(flags & PDESC_F_AVAIL) != wrap || !!(flags & PDESC_F_USED) == wrap)
		return 0;
	walk_init(&w, e, iov, max);
	for (;;) {
		struct pdesc d;

		if (++count > num)
			return broken(q);
		memcpy(&d, &q->pring[idx], sizeof(d));
		if (count > 1)
			d.flags = __atomic_load_n(&q->pring[idx].flags, __ATOMIC_ACQUIRE);
		else
			d.flags = flags;
		if (d.flags & DESC_F_INDIRECT) {
			const struct pdesc *t;
			unsigned int tn;

			if (!q->cfg.indirect || count > 1 || (d.flags & DESC_F_NEXT) || !d.len ||
			    d.len % sizeof(struct pdesc) ||
			    d.len / sizeof(struct pdesc) > VHC_VU_MAX_QUEUE_SIZE)
				return broken(q);
			t = vhc_memmap_gpa(q->map, d.addr, d.len);
			if (!t || ((uintptr_t)t & 7))
				return broken(q);
			tn = d.len / sizeof(struct pdesc);
			for (unsigned int k = 0; k < tn; k++) {
				struct pdesc td;

				memcpy(&td, &t[k], sizeof(td));
				if (td.flags & DESC_F_INDIRECT)
					return broken(q);
				r = walk_one(q, &w, td.addr, td.len, td.flags);
				if (r == -ENOBUFS)
					return r;
				if (r)
					return broken(q);
			}
		} else {
			r = walk_one(q, &w, d.addr, d.len, d.flags);
			if (r == -ENOBUFS)
				return r;
			if (r)
				return broken(q);
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
	e->id = id;
	e->ndesc = (uint16_t)count;
	q->last_avail = idx;
	q->avail_wrap = wrap;
	return 1;
}

static int packed_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len)
{
	struct pdesc *d = &q->pring[q->last_used];
	uint16_t flags = q->used_wrap ? (PDESC_F_AVAIL | PDESC_F_USED) : 0;

	if (!e->ndesc || e->ndesc > q->cfg.num)
		return -EINVAL;
	if (len)
		flags |= DESC_F_WRITE;
	__atomic_store_n(&d->id, e->id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	/* Release: id and len are visible before the flags that hand the slot back. */
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	q->last_used += e->ndesc;
	if (q->last_used >= q->cfg.num) {
		q->last_used -= (uint16_t)q->cfg.num;
		q->used_wrap = !q->used_wrap;
	}
	return 0;
}

static int packed_flush(struct vhostctl_devq *q)
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

static int packed_notify(struct vhostctl_devq *q, int enable)
{
	uint16_t flags;

	st16(&q->dev_evt[1], enable ? EVT_ENABLE : EVT_DISABLE);
	if (!enable)
		return 0;
	/* Full barrier: our enable is visible before we look at the next slot again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&q->pring[q->last_avail].flags, __ATOMIC_ACQUIRE);
	return !!(flags & PDESC_F_AVAIL) == q->avail_wrap &&
	       !!(flags & PDESC_F_USED) != q->avail_wrap;
}

/* ---- setup ----------------------------------------------------------- */

static void *ring_addr(struct vhostctl_devq *q, uint64_t addr, uint64_t len, unsigned int align)
{
	void *p = q->cfg.uaddr ? vhc_memmap_uva(q->map, addr, len) : vhc_memmap_gpa(q->map, addr, len);

	if (p && ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

size_t vhc_inflight_queue_size(unsigned int num, bool packed)
{
	size_t sz = sizeof(struct infl_split) + (size_t)num * sizeof(struct infl_desc);

	(void)packed;
	return (sz + 63) & ~(size_t)63;
}

int vhc_devq_remap(struct vhostctl_devq *q)
{
	unsigned int num = q->cfg.num;

	if (q->cfg.packed) {
		q->pring = ring_addr(q, q->cfg.desc, (uint64_t)num * sizeof(struct pdesc), 16);
		q->drv_evt = ring_addr(q, q->cfg.avail, 4, 4);
		q->dev_evt = ring_addr(q, q->cfg.used, 4, 4);
		if (!q->pring || !q->drv_evt || !q->dev_evt)
			return -EFAULT;
		return 0;
	}
	q->desc = ring_addr(q, q->cfg.desc, (uint64_t)num * sizeof(struct sdesc), 16);
	q->avail = ring_addr(q, q->cfg.avail, 6 + 2ull * num, 2);
	q->used_hdr = ring_addr(q, q->cfg.used, 6 + 8ull * num, 4);
	if (!q->desc || !q->avail || !q->used_hdr)
		return -EFAULT;
	q->used_ring = (struct used_elem *)(q->used_hdr + 2);
	q->avail_event = (uint16_t *)(q->used_ring + num);
	return 0;
}

static int cmp_counter(const void *a, const void *b, void *arg)
{
	const struct infl_split *r = arg;
	uint64_t ca = r->desc[*(const uint16_t *)a].counter;
	uint64_t cb = r->desc[*(const uint16_t *)b].counter;

	return ca < cb ? -1 : ca > cb;
}

/*
 * A backend restarted on a ring whose inflight region a predecessor kept:
 * retire what it published, queue the rest for resubmission, oldest first.
 */
static int inflight_restore(struct vhostctl_devq *q)
{
	struct infl_split *r = q->infl;
	unsigned int num = q->cfg.num, n = 0;
	uint16_t used = ld16(&q->used_hdr[1]);

	if (r->version != 1 || r->desc_num != num) {
		/* A fresh region: nothing was inflight. */
		memset(r, 0, vhc_inflight_queue_size(num, false));
		r->version = 1;
		r->desc_num = (uint16_t)num;
		r->used_idx = used;
		return 0;
	}
	/* Entries published but not yet retired when the old backend stopped. */
	for (uint16_t i = r->used_idx; i != used; i++)
		r->desc[q->used_ring[i & (num - 1)].id % num].inflight = 0;
	r->used_idx = used;
	q->resubmit = calloc(num, sizeof(*q->resubmit));
	if (!q->resubmit)
		return -ENOMEM;
	for (unsigned int i = 0; i < num; i++) {
		if (r->desc[i].inflight)
			q->resubmit[n++] = (uint16_t)i;
		if (r->desc[i].counter > q->counter)
			q->counter = r->desc[i].counter;
	}
	qsort_r(q->resubmit, n, sizeof(*q->resubmit), cmp_counter, r);
	q->nresubmit = n;
	/* Every popped request is either used or inflight. */
	q->last_avail = (uint16_t)(used + n);
	return (int)n;
}

static int devq_init(struct vhostctl_devq *q)
{
	unsigned int num = q->cfg.num;
	int r;

	if (!num || num > VHC_VU_MAX_QUEUE_SIZE || (!q->cfg.packed && (num & (num - 1))))
		return -EINVAL;
	r = vhc_devq_remap(q);
	if (r)
		return r;
	if (q->cfg.packed) {
		q->last_avail = q->cfg.base & 0x7fff;
		q->avail_wrap = !!(q->cfg.base & 0x8000);
		if (q->cfg.base >> 16) {
			q->last_used = (q->cfg.base >> 16) & 0x7fff;
			q->used_wrap = !!(q->cfg.base >> 31);
		} else {
			q->last_used = q->last_avail;
			q->used_wrap = q->avail_wrap;
		}
		if (q->last_avail >= num || q->last_used >= num)
			return -EINVAL;
		q->signalled = q->last_used;
		q->signalled_wrap = q->used_wrap;
		return 0;
	}
	q->last_avail = (uint16_t)q->cfg.base;
	q->used_idx = ld16(&q->used_hdr[1]);
	q->flushed = q->used_idx;
	if (q->cfg.inflight) {
		if (q->cfg.inflight_size < vhc_inflight_queue_size(num, false))
			return -EINVAL;
		q->infl = q->cfg.inflight;
		r = inflight_restore(q);
		if (r < 0)
			return r;
	}
	return 0;
}

struct vhostctl_devq *vhc_devq_create(const struct vhc_memmap *map, const struct vhc_devq_cfg *cfg,
				      int *err)
{
	struct vhostctl_devq *q = calloc(1, sizeof(*q));
	int r;

	if (!q) {
		*err = -ENOMEM;
		return NULL;
	}
	q->map = map;
	q->cfg = *cfg;
	r = devq_init(q);
	if (r) {
		free(q->resubmit);
		free(q);
		*err = r;
		return NULL;
	}
	return q;
}

uint32_t vhc_devq_base(const struct vhostctl_devq *q)
{
	return vhostctl_devq_base(q);
}

void vhc_devq_set_call(struct vhostctl_devq *q, int fd)
{
	q->cfg.call_fd = fd;
}

int vhc_devq_inflight_resubmit(struct vhostctl_devq *q, uint16_t *heads, unsigned int max)
{
	unsigned int n = q->nresubmit < max ? q->nresubmit : max;

	if (n)
		memcpy(heads, q->resubmit, n * sizeof(*heads));
	return (int)q->nresubmit;
}

/* ---- public ---------------------------------------------------------- */

VHC_EXPORT struct vhostctl_devq *vhostctl_devq_new(const struct vhostctl_devq_opts *opts)
{
	struct vhostctl_devq_opts o;
	struct vhostctl_devq *q;
	struct vhc_devq_cfg cfg;
	int r;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (!opts || r) {
		errno = r ? -r : EINVAL;
		return NULL;
	}
	if (!o.regions || !o.nregions || o.nregions > VHC_VU_MAX_MEM_SLOTS) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	for (unsigned int i = 0; i < o.nregions; i++) {
		r = vhc_memmap_add(&q->own, &o.regions[i]);
		if (r)
			goto err;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.num = o.num;
	cfg.packed = o.flags & VHOSTCTL_DEVQ_F_PACKED;
	cfg.event_idx = o.flags & VHOSTCTL_DEVQ_F_EVENT_IDX;
	cfg.indirect = o.flags & VHOSTCTL_DEVQ_F_INDIRECT;
	cfg.uaddr = o.flags & VHOSTCTL_DEVQ_F_UADDR;
	cfg.desc = o.desc;
	cfg.avail = o.avail;
	cfg.used = o.used;
	cfg.base = o.base;
	cfg.call_fd = o.call_fd;
	q->map = &q->own;
	q->cfg = cfg;
	r = devq_init(q);
	if (r)
		goto err;
	return q;
err:
	free(q->own.r);
	free(q);
	errno = r == -EFAULT || r == -E2BIG ? EINVAL : -r;
	return NULL;
}

VHC_EXPORT void vhostctl_devq_free(struct vhostctl_devq *q)
{
	if (!q)
		return;
	free(q->own.r);
	free(q->resubmit);
	free(q);
}

VHC_EXPORT int vhostctl_devq_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *elem,
				 struct iovec *iov, unsigned int max_iov)
{
	if (!q || !elem || (!iov && max_iov))
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	return vhc_ret(q->cfg.packed ? packed_pop(q, elem, iov, max_iov) :
				       split_pop(q, elem, iov, max_iov));
}

VHC_EXPORT int vhostctl_devq_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem)
{
	if (!q || !elem)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	if (q->cfg.packed) {
		if (!elem->ndesc || elem->ndesc > q->cfg.num)
			return vhc_err(EINVAL);
		if (q->last_avail >= elem->ndesc) {
			q->last_avail -= elem->ndesc;
		} else {
			q->last_avail = (uint16_t)(q->last_avail + q->cfg.num - elem->ndesc);
			q->avail_wrap = !q->avail_wrap;
		}
		return 0;
	}
	if (q->resubmit_pos && q->resubmit_pos <= q->nresubmit &&
	    q->resubmit[q->resubmit_pos - 1] == elem->id &&
	    q->last_avail == (uint16_t)(ld16(&q->used_hdr[1]) + q->nresubmit)) {
		q->resubmit_pos--;
		return 0;
	}
	q->last_avail--;
	if (q->cfg.event_idx)
		st16(q->avail_event, q->last_avail);
	if (q->infl)
		q->infl->desc[elem->id % q->cfg.num].inflight = 0;
	return 0;
}

VHC_EXPORT int vhostctl_devq_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem,
				  uint32_t written)
{
	int r;

	if (!q || !elem || written > elem->in_len)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	r = q->cfg.packed ? packed_push(q, elem, written) : split_push(q, elem, written);
	if (!r)
		q->pending++;
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_devq_flush(struct vhostctl_devq *q)
{
	if (!q)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	if (!q->pending)
		return 0;
	q->pending = 0;
	return q->cfg.packed ? packed_flush(q) : split_flush(q);
}

VHC_EXPORT int vhostctl_devq_notify_enable(struct vhostctl_devq *q, int enable)
{
	if (!q)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	return q->cfg.packed ? packed_notify(q, enable) : split_notify(q, enable);
}

/*
 * Copy between @buf and iov[first, first + count), starting @offset bytes
 * into those buffers: out (readable) buffers are copied from, in (writable)
 * buffers to.  Inlined into both callers, so each gets one direction.
 */
static inline __attribute__((always_inline)) size_t
devq_copy(const struct vhostctl_devq_elem *elem, unsigned int first, unsigned int count,
	  size_t offset, void *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = first; i < first + count && done < len; i++) {
		const struct iovec *v = &elem->iov[i];
		size_t n;

		if (offset >= v->iov_len) {
			offset -= v->iov_len;
			continue;
		}
		n = v->iov_len - offset;
		if (n > len - done)
			n = len - done;
		if (to_iov)
			memcpy((char *)v->iov_base + offset, (const char *)buf + done, n);
		else
			memcpy((char *)buf + done, (const char *)v->iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

VHC_EXPORT size_t vhostctl_devq_copy_from(const struct vhostctl_devq_elem *elem, size_t offset,
					  void *buf, size_t len)
{
	return devq_copy(elem, 0, elem->out, offset, buf, len, false);
}

VHC_EXPORT size_t vhostctl_devq_copy_to(const struct vhostctl_devq_elem *elem, size_t offset,
					const void *buf, size_t len)
{
	/* devq_copy() only writes through @buf when !to_iov. */
	return devq_copy(elem, elem->out, elem->in, offset, (void *)buf, len, true);
}

VHC_EXPORT uint32_t vhostctl_devq_base(const struct vhostctl_devq *q)
{
	if (q->cfg.packed)
		return (uint32_t)(q->last_avail & 0x7fff) | ((uint32_t)q->avail_wrap << 15) |
		       ((uint32_t)(q->last_used & 0x7fff) << 16) | ((uint32_t)q->used_wrap << 31);
	return q->last_avail;
}

VHC_EXPORT unsigned int vhostctl_devq_size(const struct vhostctl_devq *q)
{
	return q->cfg.num;
}
