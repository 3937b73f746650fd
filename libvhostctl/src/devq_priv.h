/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The device side of a virtqueue, private to its files: the queue, the ring
 * layouts, and the helpers every pop inlines (region lookup, descriptor
 * walk).  devq.c holds the public calls and the set-up, devq_mem.c the
 * memory map and the dirty log, devq_split.c and devq_packed.c the two ring
 * layouts, devq_inflight.c the inflight regions and their recovery.
 *
 * Layouts (virtio 1.x): split desc {u64 addr, u32 len, u16 flags, u16 next},
 * avail {u16 flags, u16 idx, u16 ring[num], u16 used_event}, used {u16
 * flags, u16 idx, {u32 id, u32 len} ring[num], u16 avail_event}; packed desc
 * {u64 addr, u32 len, u16 id, u16 flags}, event areas {u16 off_wrap, u16 flags}.
 */
#ifndef VHOSTCTL_DEVQ_PRIV_H
#define VHOSTCTL_DEVQ_PRIV_H

#include <stddef.h>
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
 * Inflight region of one packed queue: every descriptor popped is copied into
 * an entry taken from a free list (the ring slots of a buffer still in flight
 * may be overwritten by used descriptors of others); the head entry of a
 * buffer carries its order (counter), length in entries (num) and last
 * entry.  free_head/used_idx/used_wrap_counter are the working copies,
 * old_* the committed ones a successor rolls back to.
 */
struct infl_pdesc {
	uint8_t inflight;
	uint8_t padding;
	uint16_t next;
	uint16_t last;
	uint16_t num;
	uint64_t counter;
	uint16_t id;
	uint16_t flags;
	uint32_t len;
	uint64_t addr;
};

struct infl_packed {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t free_head;
	uint16_t old_free_head;
	uint16_t used_idx;
	uint16_t old_used_idx;
	uint8_t used_wrap_counter;
	uint8_t old_used_wrap_counter;
	uint8_t padding[7];
	struct infl_pdesc desc[];
};

_Static_assert(sizeof(struct infl_pdesc) == 32, "packed inflight entry layout");
_Static_assert(offsetof(struct infl_packed, desc) == 32, "packed inflight header layout");

#define PK_NONE 0xffffu

/* The data path stays inlined where its logging twin (slow path) reuses it. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* A packed request found in flight in the region, to be resubmitted. */
struct pk_resub {
	uint64_t counter;
	uint16_t head;		/* its head entry in the region */
	uint16_t first;		/* its descriptors in resub_desc[] */
	uint16_t n;
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
	/*
	 * A broken ring and a legacy big-endian one share the one test every
	 * public call (devq.c) makes: either leaves the little-endian path.
	 */
	union {
		struct {
			bool broken;
			bool legacy;	/* cfg.big_endian: every call in devq_legacy.c */
		};
		uint16_t divert;
	};
	bool drained;			/* a pop found the ring empty (since cleared) */

	/* split */
	struct sdesc *desc;
	uint16_t *avail;		/* [0] flags, [1] idx, [2..] ring, [2+num] used_event */
	uint16_t *used_hdr;		/* [0] flags, [1] idx */
	struct used_elem *used_ring;
	uint16_t *avail_event;
	uint16_t last_avail;
	uint16_t avail_seen;		/* avail index last read (entries before it are ours) */
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
	unsigned int held;		/* popped, not yet pushed or given back */

	/* inflight tracking (split) and requests to resubmit after a reconnect */
	struct infl_split *infl;
	uint64_t counter;
	uint16_t *resubmit;
	unsigned int nresubmit, resubmit_pos;
	uint16_t batch[64];		/* heads pushed since the last flush */
	unsigned int nbatch;
	bool batch_overflow;

	/*
	 * inflight tracking (packed): the region, our copy of its free list
	 * head, buffer id -> head entry of the buffers in flight, and private
	 * copies of the requests to resubmit (the region is shared: what was
	 * validated is what is used).
	 */
	struct infl_packed *pinfl;
	uint16_t pk_free;
	uint16_t *pk_head;
	struct pk_resub *pres;
	struct pdesc *resub_desc;
	bool last_pop_resub;		/* the last pop was a resubmission */

	/*
	 * dirty logging: cfg.dlog is the backend's log; logging caches
	 * whether it is active (the one test on the data path).
	 */
	bool logging;
	unsigned int log_hint;		/* region of the last host -> guest lookup */
	unsigned int rhint;		/* region of the last guest -> host lookup */
};

static inline uint16_t ld16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline int broken(struct vhostctl_devq *q)
{
	q->broken = true;
	return -EIO;
}

static inline void signal_call(struct vhostctl_devq *q)
{
	uint64_t one = 1;

	if (q->cfg.call_fd >= 0) {
		if (write(q->cfg.call_fd, &one, sizeof(one)) < 0) {
			/* A full eventfd counter means the driver has a wakeup pending already. */
		}
	} else if (q->cfg.call) {
		q->cfg.call(q->cfg.call_ctx, q->cfg.index);	/* in-band */
	}
}

/* The region holding guest physical address @addr, by binary search, or NULL. */
static inline const struct vhostctl_devq_region *region_of(const struct vhc_memmap *m,
							   uint64_t addr)
{
	unsigned int lo = 0, hi = m->n;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (addr < m->r[mid].gpa)
			hi = mid;
		else if (addr - m->r[mid].gpa >= m->r[mid].size)
			lo = mid + 1;
		else
			return &m->r[mid];
	}
	return NULL;
}

/*
 * The region holding @addr: the one the last lookup found (most buffers of a
 * queue are in one region), else by binary search.  The hint is an index,
 * checked against the map as it is now, so a map that changed only costs a
 * search.
 */
static ALWAYS_INLINE const struct vhostctl_devq_region *region_hint(struct vhostctl_devq *q,
								    uint64_t addr)
{
	const struct vhc_memmap *m = q->map;
	const struct vhostctl_devq_region *r;
	unsigned int h = q->rhint;

	if (__builtin_expect(h < m->n, 1)) {
		r = &m->r[h];
		if (__builtin_expect(addr - r->gpa < r->size, 1))
			return r;
	}
	r = region_of(m, addr);
	if (r)
		q->rhint = (unsigned int)(r - m->r);
	return r;
}

static inline bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static inline int add_buf(struct vhostctl_devq *q, uint64_t addr, uint32_t len, struct iovec *iov,
		   unsigned int *n, unsigned int max)
{
	if (addr + len < addr)
		return -EIO;
	while (len) {
		const struct vhostctl_devq_region *r = region_hint(q, addr);
		uint64_t chunk;

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
static ALWAYS_INLINE int walk_one(struct vhostctl_devq *q, struct walk *w, uint64_t addr,
				     uint32_t len, uint16_t flags)
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

static inline void walk_init(struct vhostctl_devq *q, struct walk *w, struct vhostctl_devq_elem *e,
		      struct iovec *iov, unsigned int max)
{
	memset(e, 0, sizeof(*e));
	e->iov = iov;
	e->priv = q->cfg.dlog;
	w->e = e;
	w->iov = iov;
	w->max = max;
	w->n = 0;
	w->out_len = w->in_len = 0;
}

static inline void walk_done(struct walk *w)
{
	w->e->out_len = (uint32_t)w->out_len;
	w->e->in_len = (uint32_t)w->in_len;
}

/*
 * The common buffer: one descriptor, neither chained nor indirect, in the
 * region of the last lookup.  Fills @e (but for id and ndesc) with one iovec
 * and returns true.  Anything else (an empty descriptor, no room, another
 * region, a range past the region's end) returns false untouched, for the
 * full walk to handle and check.
 */
static ALWAYS_INLINE bool pop_single(struct vhostctl_devq *q, struct vhostctl_devq_elem *e,
				     struct iovec *iov, unsigned int max, uint64_t addr,
				     uint32_t len, uint16_t flags)
{
	const struct vhc_memmap *m = q->map;
	const struct vhostctl_devq_region *r;
	unsigned int h = q->rhint;
	uint64_t off;
	bool in;

	if (__builtin_expect(!max || !len || h >= m->n, 0))
		return false;
	r = &m->r[h];
	off = addr - r->gpa;
	if (__builtin_expect(off >= r->size || len > r->size - off, 0))
		return false;
	iov[0].iov_base = (char *)r->host + off;
	iov[0].iov_len = len;
	in = flags & DESC_F_WRITE;
	e->out = !in;
	e->in = in;
	e->out_len = in ? 0 : len;
	e->in_len = in ? len : 0;
	e->iov = iov;
	e->priv = q->cfg.dlog;
	return true;
}

static ALWAYS_INLINE void fill_single(struct vhostctl_devq_elem *e, struct iovec *iov, void *host,
				      uint32_t len, uint16_t flags, uint16_t id, void *priv)
{
	bool in = flags & DESC_F_WRITE;

	iov->iov_base = host;
	iov->iov_len = len;
	e->id = id;
	e->ndesc = 1;
	e->out = !in;
	e->in = in;
	e->out_len = in ? 0 : len;
	e->in_len = in ? len : 0;
	e->iov = iov;
	e->priv = priv;
}


/*
 * A burst's run of common buffers (vhc_split_pop_run(), vhc_packed_pop_run()):
 * the region of the last lookup, held in registers while every buffer is a
 * single descriptor inside it.
 */
struct run_region {
	uint64_t gpa, size;
	char *host;
};

/* The region for a run; false if there is none yet (or no iovecs to fill). */
static ALWAYS_INLINE bool run_begin(const struct vhostctl_devq *q, unsigned int per,
				    struct run_region *rr)
{
	const struct vhc_memmap *m = q->map;
	unsigned int h = q->rhint;

	if (h >= m->n || !per)
		return false;
	rr->gpa = m->r[h].gpa;
	rr->size = m->r[h].size;
	rr->host = m->r[h].host;
	return true;
}

/* A single descriptor inside the run's region into @e; false leaves it for the full walk. */
static ALWAYS_INLINE bool run_take(const struct run_region *rr, struct vhostctl_devq_elem *e,
				   struct iovec *iov, uint64_t addr, uint32_t len, uint16_t flags,
				   uint16_t id, void *priv)
{
	uint64_t off = addr - rr->gpa;

	/* 0 < len <= size - off, in one test: len - 1 wraps for 0. */
	if (off >= rr->size || (uint64_t)len - 1 >= rr->size - off)
		return false;
	fill_single(e, iov, rr->host + off, len, flags, id, priv);
	return true;
}

/* devq_mem.c: the dirty log, from the rings' side. */
void vhc_devq_log_used(struct vhostctl_devq *q, uint64_t off, uint64_t len);
void vhc_devq_log_ring(struct vhostctl_devq *q, const void *p, uint64_t len);
void vhc_devq_log_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e,
		       uint32_t written);
void vhc_devq_log_flush(struct vhostctl_devq *q);
void vhc_devq_log_in(struct vhc_dirty_log *l, unsigned int *hint,
		     const struct vhostctl_devq_elem *e, size_t offset, size_t len);
bool vhc_memmap_range_ok(const struct vhc_memmap *m, uint64_t addr, uint64_t len);

/*
 * devq_split.c and devq_packed.c: one set per layout.  The public calls in
 * devq.c check their arguments and the broken flag, then come here.
 *   pop:      one buffer (vhostctl_devq_pop(): drained flag, errno set);
 *   pop_one:  one buffer, any kind, for a burst (0, 1 or -errno);
 *   pop_run:  a burst's run of common buffers (no tracking), see devq.c;
 *   push:     one element, checked (pending counted, errno set);
 *   push_run: a burst of checked elements, without tracking or logging;
 *   flush, notify, unpop: as the public calls.
 */
int vhc_split_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		  unsigned int max);
int vhc_split_pop_one(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		      unsigned int max);
unsigned int vhc_split_pop_run(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
			       struct iovec *iov, unsigned int per, unsigned int n, int *res);
void vhc_split_avail_event(struct vhostctl_devq *q);
int vhc_split_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len);
void vhc_split_push_run(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			const uint32_t *written, unsigned int n);
int vhc_split_flush(struct vhostctl_devq *q);
int vhc_split_notify(struct vhostctl_devq *q, int enable);
int vhc_split_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e);

int vhc_packed_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		   unsigned int max);
int vhc_packed_pop_one(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		       unsigned int max);
unsigned int vhc_packed_pop_run(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
				struct iovec *iov, unsigned int per, unsigned int n, int *res);
int vhc_packed_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len);
void vhc_packed_push_run(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			 const uint32_t *written, unsigned int n, bool single);
int vhc_packed_flush(struct vhostctl_devq *q);
int vhc_packed_notify(struct vhostctl_devq *q, int enable);
int vhc_packed_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e);

/*
 * devq_frame.c: a packed push burst of more than one buffer, published
 * whole (its first descriptor last), batched under VIRTIO_F_IN_ORDER; the
 * same order pushed one by one through @push for a logging queue.
 */
void vhc_packed_push_whole(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			   const uint32_t *written, unsigned int n, bool single);
int vhc_packed_push_whole_each(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elems,
			       const uint32_t *written, unsigned int n,
			       int (*push)(struct vhostctl_devq *q,
					   const struct vhostctl_devq_elem *e, uint32_t len));

/*
 * devq_legacy.c: a legacy split ring in big-endian order, whole (the
 * little-endian paths above stay free of byte swaps); devq.c sends every
 * call of such a ring there.
 */
int vhc_legacy_init(struct vhostctl_devq *q);
int vhc_legacy_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e, struct iovec *iov,
		   unsigned int max);
int vhc_legacy_pop_burst(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
			 struct iovec *iov, unsigned int per, unsigned int n);
int vhc_legacy_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t len);
int vhc_legacy_flush(struct vhostctl_devq *q);
int vhc_legacy_notify(struct vhostctl_devq *q, int enable);
int vhc_legacy_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e);

/* devq_inflight.c: a ring's inflight region, fresh or kept by a predecessor. */
int vhc_split_inflight_restore(struct vhostctl_devq *q);
int vhc_packed_inflight_restore(struct vhostctl_devq *q);

#endif /* VHOSTCTL_DEVQ_PRIV_H */
