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
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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
	bool broken;
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

/* ---- dirty log ------------------------------------------------------- */

/* Mark the pages of [gpa, gpa+len); one beyond the bitmap is noted, not logged. */
static void log_gpa(struct vhc_dirty_log *l, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len - 1, last;

	if (!len)
		return;
	if (end < gpa)
		end = UINT64_MAX;
	last = end / VHC_LOG_PAGE;
	for (uint64_t page = gpa / VHC_LOG_PAGE; page <= last; page++) {
		if (page / 8 >= l->size) {
			if (!l->missed) {
				l->missed = true;
				l->missed_gpa = page * VHC_LOG_PAGE;
			}
			return;
		}
		/* Release: the data is visible before the bit that says it changed. */
		__atomic_fetch_or(&l->bitmap[page / 8], (uint8_t)(1u << (page % 8)),
				  __ATOMIC_RELEASE);
	}
}

/* Mark len bytes written at host address p, inside one region of guest memory. */
static void log_host(struct vhc_dirty_log *l, unsigned int *hint, const void *p, uint64_t len)
{
	const struct vhc_memmap *m = l->map;
	uintptr_t a = (uintptr_t)p;
	unsigned int i = *hint < m->n ? *hint : 0;

	for (unsigned int k = 0; k < m->n; k++, i = i + 1 < m->n ? i + 1 : 0) {
		const struct vhostctl_devq_region *r = &m->r[i];
		uintptr_t h = (uintptr_t)r->host;

		if (a < h || a - h >= r->size)
			continue;
		log_gpa(l, r->gpa + (a - h), len < r->size - (a - h) ? len : r->size - (a - h));
		*hint = i;
		return;
	}
}

/* Mark len bytes of an element's writable part written from offset on. */
static void log_in(struct vhc_dirty_log *l, unsigned int *hint,
		   const struct vhostctl_devq_elem *e, size_t offset, size_t len)
{
	for (unsigned int i = e->out; i < e->out + e->in && len; i++) {
		const struct iovec *v = &e->iov[i];
		size_t n;

		if (offset >= v->iov_len) {
			offset -= v->iov_len;
			continue;
		}
		n = v->iov_len - offset;
		if (n > len)
			n = len;
		log_host(l, hint, (char *)v->iov_base + offset, n);
		len -= n;
		offset = 0;
	}
}

/* Split: a write of len bytes at offset off of the used ring, at its log address. */
static void log_used_ring(struct vhostctl_devq *q, uint64_t off, uint64_t len)
{
	if (q->cfg.log_used)
		log_gpa(q->cfg.dlog, q->cfg.log_addr + off, len);
}

/*
 * Packed: QEMU gives the device event area's address as the log address,
 * so ring writes are logged where the memory table puts them.
 */
static void log_ring_host(struct vhostctl_devq *q, const void *p, uint64_t len)
{
	if (q->cfg.log_used)
		log_host(q->cfg.dlog, &q->log_hint, p, len);
}

/* What a push wrote: the buffer's first written bytes and the ring entry. */
static void log_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e, uint32_t written)
{
	unsigned int num = q->cfg.num;

	log_in(q->cfg.dlog, &q->log_hint, e, 0, written);
	if (q->cfg.packed) {
		unsigned int slot = q->last_used >= e->ndesc ?
				    (unsigned int)(q->last_used - e->ndesc) :
				    q->last_used + num - e->ndesc;

		log_ring_host(q, &q->pring[slot], sizeof(struct pdesc));
	} else {
		log_used_ring(q, 4 + 8ull * ((uint16_t)(q->used_idx - 1) & (num - 1)), 8);
	}
}

/* After a flush: the used index (split), and the frontend's log eventfd. */
static void log_flush(struct vhostctl_devq *q)
{
	uint64_t one = 1;

	if (!q->cfg.packed)
		log_used_ring(q, 2, 2);
	if (q->cfg.dlog->fd >= 0 && write(q->cfg.dlog->fd, &one, sizeof(one)) < 0) {
		/* A full counter: the frontend has a wakeup pending already. */
	}
}

void vhc_devq_set_log(struct vhostctl_devq *q, bool log_used, uint64_t log_addr)
{
	q->cfg.log_used = log_used;
	q->cfg.log_addr = log_addr;
	q->logging = q->cfg.dlog && q->cfg.dlog->active;
}

/* Translate one descriptor into iovecs; it may span adjacent regions. */
static int add_buf(struct vhostctl_devq *q, uint64_t addr, uint32_t len, struct iovec *iov,
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

/* Whether [addr, addr+len) is all guest memory (it may span adjacent regions). */
static bool gpa_range_ok(const struct vhc_memmap *m, uint64_t addr, uint64_t len)
{
	if (addr + len < addr)
		return false;
	while (len) {
		const struct vhostctl_devq_region *r = region_of(m, addr);
		uint64_t chunk;

		if (!r)
			return false;
		chunk = r->size - (addr - r->gpa);
		if (chunk > len)
			chunk = len;
		addr += chunk;
		len -= chunk;
	}
	return true;
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

static void walk_init(struct vhostctl_devq *q, struct walk *w, struct vhostctl_devq_elem *e,
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

static void walk_done(struct walk *w)
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
static ALWAYS_INLINE void split_avail_event(struct vhostctl_devq *q)
{
	if (q->cfg.event_idx) {
		st16(q->avail_event, q->last_avail);
		if (__builtin_expect(q->logging, 0))
			log_used_ring(q, 4 + 8ull * q->cfg.num, 2);
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

static ALWAYS_INLINE int split_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *e,
				   struct iovec *iov, unsigned int max)
{
	int r = split_pop_one(q, e, iov, max);

	/* A resubmission does not move the ring (last_avail is past it already). */
	if (r > 0)
		split_avail_event(q);
	return r;
}

static ALWAYS_INLINE void split_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e,
				      uint32_t len)
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
}

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static ALWAYS_INLINE int split_flush(struct vhostctl_devq *q)
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
		if (enable) {
			st16(q->avail_event, q->last_avail);
			if (q->logging)
				log_used_ring(q, 4 + 8ull * q->cfg.num, 2);
		}
	} else {
		uint16_t f = ld16(&q->used_hdr[0]);

		st16(&q->used_hdr[0], enable ? f & ~USED_F_NO_NOTIFY : f | USED_F_NO_NOTIFY);
		if (q->logging)
			log_used_ring(q, 0, 2);
	}
	if (!enable)
		return 0;
	/* Full barrier: our enable is visible before we look at the avail index again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16(&q->avail[1]) != q->last_avail || q->resubmit_pos < q->nresubmit;
}

/* ---- packed ---------------------------------------------------------- */

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

static ALWAYS_INLINE int packed_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e,
				      uint32_t len)
{
	if (q->pinfl)
		return packed_push_tracked(q, e, len);
	return packed_push_body(q, e, len, false);
}

static ALWAYS_INLINE int packed_flush(struct vhostctl_devq *q)
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
	if (q->logging)
		log_ring_host(q, &q->dev_evt[1], 2);
	if (!enable)
		return 0;
	/* Full barrier: our enable is visible before we look at the next slot again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&q->pring[q->last_avail].flags, __ATOMIC_ACQUIRE);
	return (!!(flags & PDESC_F_AVAIL) == q->avail_wrap &&
		!!(flags & PDESC_F_USED) != q->avail_wrap) || q->resubmit_pos < q->nresubmit;
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
	size_t sz = packed ? sizeof(struct infl_packed) + (size_t)num * sizeof(struct infl_pdesc) :
			     sizeof(struct infl_split) + (size_t)num * sizeof(struct infl_desc);

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

/* A region that breaks the layout's rules: say why, refuse the ring. */
__attribute__((format(printf, 2, 3)))
static int infl_bad(struct vhostctl_devq *q, const char *fmt, ...)
{
	va_list ap;

	if (q->cfg.why && q->cfg.whylen) {
		va_start(ap, fmt);
		vsnprintf(q->cfg.why, q->cfg.whylen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
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
	if ((uint16_t)(used - r->used_idx) > num)
		return infl_bad(q, "used index %u is %u past the region's %u (ring of %u)", used,
				(uint16_t)(used - r->used_idx), r->used_idx, num);
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

static int cmp_resub(const void *a, const void *b)
{
	uint64_t ca = ((const struct pk_resub *)a)->counter;
	uint64_t cb = ((const struct pk_resub *)b)->counter;

	return ca < cb ? -1 : ca > cb;
}

/* A recorded descriptor that a pop would accept, as far as the region tells. */
static bool pk_desc_ok(struct vhostctl_devq *q, const struct pdesc *d, unsigned int n)
{
	if (!(d->flags & DESC_F_INDIRECT))
		return gpa_range_ok(q->map, d->addr, d->len);
	if (!q->cfg.indirect || n != 1 || !d->len || d->len % sizeof(struct pdesc) ||
	    d->len / sizeof(struct pdesc) > VHC_VU_MAX_QUEUE_SIZE)
		return false;
	return vhc_memmap_gpa(q->map, d->addr, d->len) != NULL;
}

/*
 * The request whose head entry is @head: follow its chain, each entry once
 * (seen[] marks 1 free, 2 taken), copy its descriptors to resub_desc[*total],
 * check them; fill @rs.
 */
static int pk_take_request(struct vhostctl_devq *q, uint16_t head, uint8_t *seen,
			   unsigned int *total, struct pk_resub *rs)
{
	struct infl_packed *r = q->pinfl;
	unsigned int num = q->cfg.num, left = num - *total;
	uint16_t cnt = __atomic_load_n(&r->desc[head].num, __ATOMIC_RELAXED);
	uint16_t last = __atomic_load_n(&r->desc[head].last, __ATOMIC_RELAXED), cur = head, id;

	if (!cnt || cnt > left)
		return infl_bad(q, "request at entry %u: %u descriptors (%u left in a ring of %u)",
				head, cnt, left, num);
	rs->head = head;
	rs->first = (uint16_t)*total;
	rs->n = cnt;
	rs->counter = __atomic_load_n(&r->desc[head].counter, __ATOMIC_RELAXED);
	for (unsigned int k = 0; k < cnt; k++) {
		struct pdesc *d = &q->resub_desc[*total + k];
		struct infl_pdesc *ent;

		if (cur >= num)
			return infl_bad(q, "request at entry %u links to entry %u (ring of %u)",
					head, cur, num);
		ent = &r->desc[cur];
		/* Only a head says inflight; another one inside a chain is a second list. */
		if (seen[cur] || (k && __atomic_load_n(&ent->inflight, __ATOMIC_RELAXED)))
			return infl_bad(q, "entry %u is in two lists", cur);
		seen[cur] = 2;
		d->addr = __atomic_load_n(&ent->addr, __ATOMIC_RELAXED);
		d->len = __atomic_load_n(&ent->len, __ATOMIC_RELAXED);
		d->id = __atomic_load_n(&ent->id, __ATOMIC_RELAXED);
		d->flags = __atomic_load_n(&ent->flags, __ATOMIC_RELAXED);
		if (!pk_desc_ok(q, d, cnt))
			return infl_bad(q, "request at entry %u: descriptor at 0x%llx+%u outside "
					"guest memory or malformed", head,
					(unsigned long long)d->addr, d->len);
		if (k + 1 < cnt)
			cur = __atomic_load_n(&ent->next, __ATOMIC_RELAXED);
	}
	if (cur != last)
		return infl_bad(q, "request at entry %u ends at entry %u, not at its last %u", head,
				cur, last);
	id = q->resub_desc[*total + cnt - 1].id;
	if (id >= num || q->pk_head[id] != PK_NONE)
		return infl_bad(q, "request at entry %u: buffer id %u (ring of %u)%s", head, id,
				num, id < num ? " twice" : "");
	q->pk_head[id] = head;
	*total += cnt;
	return 0;
}

/* A fresh region: nothing in flight, every entry free. */
static void pk_region_init(struct vhostctl_devq *q)
{
	struct infl_packed *r = q->pinfl;
	unsigned int num = q->cfg.num;

	memset(r, 0, vhc_inflight_queue_size(num, true));
	r->desc_num = (uint16_t)num;
	for (unsigned int i = 0; i < num; i++)
		r->desc[i].next = (uint16_t)(i + 1);
	r->used_idx = r->old_used_idx = q->last_used;
	r->used_wrap_counter = r->old_used_wrap_counter = q->used_wrap;
	q->pk_free = 0;
	__atomic_store_n(&r->version, 1, __ATOMIC_RELEASE);
}

/*
 * Packed ring, region kept by a predecessor: finish or roll back the update
 * it was making (the used descriptor at old_used_idx tells whether it was
 * published), then check every index: the free list and the chains of the
 * requests in flight must be within the ring, without loops, disjoint, and
 * together hold every entry.  Requests in flight are copied out, oldest
 * first, to be resubmitted; the ring resumes at the committed used index
 * and, past every request in flight, at the available index.
 */
static int packed_restore(struct vhostctl_devq *q)
{
	struct infl_packed *r = q->pinfl;
	unsigned int num = q->cfg.num, nfree = 0, total = 0, n = 0;
	uint16_t version = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
	uint16_t used, old_used, free_head, old_free, cur, avail;
	uint8_t wrap, old_wrap, *seen;
	int err = 0;

	q->pk_head = malloc(num * sizeof(*q->pk_head));
	if (!q->pk_head)
		return -ENOMEM;
	memset(q->pk_head, 0xff, num * sizeof(*q->pk_head));
	if (!version) {
		pk_region_init(q);
		return 0;
	}
	if (version != 1)
		return infl_bad(q, "version %u", version);
	if (r->desc_num != num)
		return infl_bad(q, "region for a ring of %u, this ring has %u", r->desc_num, num);
	used = __atomic_load_n(&r->used_idx, __ATOMIC_RELAXED);
	old_used = __atomic_load_n(&r->old_used_idx, __ATOMIC_RELAXED);
	wrap = __atomic_load_n(&r->used_wrap_counter, __ATOMIC_RELAXED);
	old_wrap = __atomic_load_n(&r->old_used_wrap_counter, __ATOMIC_RELAXED);
	free_head = __atomic_load_n(&r->free_head, __ATOMIC_RELAXED);
	old_free = __atomic_load_n(&r->old_free_head, __ATOMIC_RELAXED);
	if (used >= num || old_used >= num || wrap > 1 || old_wrap > 1)
		return infl_bad(q, "used index %u/%u wrap %u/%u (ring of %u)", used, old_used, wrap,
				old_wrap, num);
	if (free_head > num || old_free > num)
		return infl_bad(q, "free list head %u/%u (ring of %u)", free_head, old_free, num);
	if (used != old_used || wrap != old_wrap) {
		uint16_t f = __atomic_load_n(&q->pring[old_used].flags, __ATOMIC_ACQUIRE);

		/* Still available with the old wrap counter: never published, roll back. */
		if (!(!!(f & PDESC_F_AVAIL) == old_wrap && !!(f & PDESC_F_USED) != old_wrap)) {
			old_used = used;
			old_wrap = wrap;
			old_free = free_head;
		}
	}
	seen = calloc(num, 1);
	q->pres = calloc(num, sizeof(*q->pres));
	q->resub_desc = calloc(num, sizeof(*q->resub_desc));
	if (!seen || !q->pres || !q->resub_desc) {
		free(seen);
		return -ENOMEM;
	}
	for (cur = old_free; cur != num; cur = __atomic_load_n(&r->desc[cur].next,
								__ATOMIC_RELAXED)) {
		if (cur > num) {
			err = infl_bad(q, "free list links to entry %u (ring of %u)", cur, num);
			goto out;
		}
		if (seen[cur]) {
			err = infl_bad(q, "free list loops at entry %u", cur);
			goto out;
		}
		seen[cur] = 1;
		nfree++;
	}
	/* Heads: entries off the free list that say inflight. */
	for (unsigned int i = 0; i < num; i++) {
		uint8_t infl = __atomic_load_n(&r->desc[i].inflight, __ATOMIC_ACQUIRE);

		if (seen[i] || !infl)
			continue;
		if (infl > 1) {
			err = infl_bad(q, "entry %u: inflight %u", i, infl);
			goto out;
		}
		err = pk_take_request(q, (uint16_t)i, seen, &total, &q->pres[n]);
		if (err)
			goto out;
		if (q->pres[n].counter > q->counter)
			q->counter = q->pres[n].counter;
		n++;
	}
	if (nfree + total != num) {
		err = infl_bad(q, "%u entries free, %u in flight: %u lost (ring of %u)", nfree,
			       total, num - nfree - total, num);
		goto out;
	}
	qsort(q->pres, n, sizeof(*q->pres), cmp_resub);
	for (unsigned int k = 1; k < n; k++) {
		if (q->pres[k].counter != q->pres[k - 1].counter)
			continue;
		err = infl_bad(q, "requests at entries %u and %u have the same counter %llu",
			       q->pres[k - 1].head, q->pres[k].head,
			       (unsigned long long)q->pres[k].counter);
		goto out;
	}
	/* Valid: write the outcome back (free entries are not in flight). */
	for (unsigned int i = 0; i < num; i++)
		if (seen[i] == 1 && r->desc[i].inflight)
			__atomic_store_n(&r->desc[i].inflight, 0, __ATOMIC_RELEASE);
	r->free_head = r->old_free_head = old_free;
	r->used_idx = r->old_used_idx = old_used;
	r->used_wrap_counter = r->old_used_wrap_counter = old_wrap;
	/* Resubmissions hold their buffer ids again when popped. */
	memset(q->pk_head, 0xff, num * sizeof(*q->pk_head));
	q->pk_free = old_free;
	q->nresubmit = n;
	q->last_used = old_used;
	q->used_wrap = old_wrap;
	avail = (uint16_t)(old_used + total);
	q->avail_wrap = old_wrap;
	if (avail >= num) {
		avail -= (uint16_t)num;
		q->avail_wrap = !old_wrap;
	}
	q->last_avail = avail;
	err = (int)n;
out:
	free(seen);
	return err;
}

static void devq_free_private(struct vhostctl_devq *q)
{
	free(q->resubmit);
	free(q->pk_head);
	free(q->pres);
	free(q->resub_desc);
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
		if (q->cfg.inflight) {
			if (q->cfg.inflight_size < vhc_inflight_queue_size(num, true))
				return infl_bad(q, "%zu bytes for a packed ring of %u",
						q->cfg.inflight_size, num);
			q->pinfl = q->cfg.inflight;
			r = packed_restore(q);
			if (r < 0)
				return r;
		}
		q->signalled = q->last_used;
		q->signalled_wrap = q->used_wrap;
		return 0;
	}
	q->last_avail = (uint16_t)q->cfg.base;
	q->used_idx = ld16(&q->used_hdr[1]);
	q->flushed = q->used_idx;
	if (q->cfg.inflight) {
		if (q->cfg.inflight_size < vhc_inflight_queue_size(num, false))
			return infl_bad(q, "%zu bytes for a split ring of %u", q->cfg.inflight_size,
					num);
		q->infl = q->cfg.inflight;
		r = inflight_restore(q);
		if (r < 0)
			return r;
	}
	q->avail_seen = q->last_avail;
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
		devq_free_private(q);
		free(q);
		*err = r;
		return NULL;
	}
	vhc_devq_set_log(q, cfg->log_used, cfg->log_addr);
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

	for (unsigned int i = 0; i < n; i++)
		heads[i] = q->pinfl ? q->resub_desc[q->pres[i].first + q->pres[i].n - 1].id :
				      q->resubmit[i];
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
	devq_free_private(q);
	free(q);
}

VHC_EXPORT int vhostctl_devq_pop(struct vhostctl_devq *q, struct vhostctl_devq_elem *elem,
				 struct iovec *iov, unsigned int max_iov)
{
	int r;

	if (!q || !elem || (!iov && max_iov))
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	r = q->cfg.packed ? packed_pop(q, elem, iov, max_iov) : split_pop(q, elem, iov, max_iov);
	if (!r)
		q->drained = true;
	return vhc_ret(r);
}

/* Fill @e with the single piece at @host: what pop_single() does, for a burst. */
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
 * A burst from a packed ring without inflight tracking.  While buffers are
 * single descriptors inside the region of the last lookup, the ring
 * position and that region stay in registers; any other buffer goes
 * through the full walk, which checks everything and may move the hint.
 * Returns the buffers taken; *@res is what stopped the burst (1: nothing).
 */
static ALWAYS_INLINE unsigned int packed_pop_run(struct vhostctl_devq *q,
						 struct vhostctl_devq_elem *elems,
						 struct iovec *iov, unsigned int per,
						 unsigned int n, int *res)
{
	const struct vhc_memmap *m = q->map;
	const struct pdesc *ring = q->pring;
	unsigned int num = q->cfg.num, i = 0;
	void *priv = q->cfg.dlog;
	uint16_t idx = q->last_avail;
	bool wrap = q->avail_wrap;
	int r = 1;

	while (i < n) {
		unsigned int h = q->rhint;

		if (h < m->n && per) {
			uint64_t rgpa = m->r[h].gpa, rsize = m->r[h].size;
			char *rhost = m->r[h].host;

			for (; i < n; i++) {
				const struct pdesc *d = &ring[idx];
				uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
				uint64_t off;
				uint32_t len;

				if (!!(flags & PDESC_F_AVAIL) != wrap ||
				    !!(flags & PDESC_F_USED) == wrap) {
					r = 0;
					goto out;
				}
				if (flags & (DESC_F_NEXT | DESC_F_INDIRECT))
					break;
				off = __atomic_load_n(&d->addr, __ATOMIC_RELAXED) - rgpa;
				len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
				if (off >= rsize || !len || len > rsize - off)
					break;
				fill_single(&elems[i], iov, rhost + off, len, flags,
					    __atomic_load_n(&d->id, __ATOMIC_RELAXED), priv);
				iov += per;
				if (++idx >= num) {
					idx = 0;
					wrap = !wrap;
				}
			}
			if (i == n)
				break;
		}
		q->last_avail = idx;
		q->avail_wrap = wrap;
		r = packed_pop_full(q, &elems[i], iov, per);
		if (r <= 0) {
			*res = r;
			return i;
		}
		i++;
		if (per)
			iov += per;
		idx = q->last_avail;
		wrap = q->avail_wrap;
	}
out:
	q->last_avail = idx;
	q->avail_wrap = wrap;
	*res = r;
	return i;
}

/* The same for a split ring without resubmissions or inflight tracking. */
static ALWAYS_INLINE unsigned int split_pop_run(struct vhostctl_devq *q,
						struct vhostctl_devq_elem *elems,
						struct iovec *iov, unsigned int per, unsigned int n,
						int *res)
{
	const struct vhc_memmap *m = q->map;
	const struct sdesc *table = q->desc;
	const uint16_t *avail = q->avail;
	unsigned int num = q->cfg.num, i = 0;
	void *priv = q->cfg.dlog;
	uint16_t last = q->last_avail, seen = q->avail_seen;
	int r = 1;

	while (i < n) {
		unsigned int h = q->rhint;

		if (h < m->n && per) {
			uint64_t rgpa = m->r[h].gpa, rsize = m->r[h].size;
			char *rhost = m->r[h].host;

			for (; i < n; i++) {
				const struct sdesc *d;
				uint16_t head, flags;
				uint64_t off;
				uint32_t len;

				if (last == seen) {
					uint16_t a = ld16(&avail[1]);

					if (a == last) {
						r = 0;
						goto out;
					}
					if ((uint16_t)(a - last) > num) {
						r = broken(q);
						goto out;
					}
					/* Acquire: entries and descriptors after the index. */
					__atomic_thread_fence(__ATOMIC_ACQUIRE);
					seen = a;
				}
				head = ld16(&avail[2 + (last & (num - 1))]);
				if (head >= num) {
					r = broken(q);
					goto out;
				}
				d = &table[head];
				flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
				if (flags & (DESC_F_NEXT | DESC_F_INDIRECT))
					break;
				off = __atomic_load_n(&d->addr, __ATOMIC_RELAXED) - rgpa;
				len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
				if (off >= rsize || !len || len > rsize - off)
					break;
				fill_single(&elems[i], iov, rhost + off, len, flags, head, priv);
				iov += per;
				last++;
			}
			if (i == n)
				break;
		}
		q->last_avail = last;
		q->avail_seen = seen;
		r = split_pop_full(q, &elems[i], iov, per);
		if (r <= 0) {
			*res = r;
			return i;
		}
		i++;
		if (per)
			iov += per;
		last = q->last_avail;
		seen = q->avail_seen;
	}
out:
	q->last_avail = last;
	q->avail_seen = seen;
	*res = r;
	return i;
}

VHC_EXPORT int vhostctl_devq_pop_burst(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
				       struct iovec *iov, unsigned int iov_per_elem, unsigned int n)
{
	unsigned int i = 0;
	int r = 1;

	if (!q || (!elems && n) || (!iov && iov_per_elem) || n > INT_MAX)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	if (!n)
		return 0;
	if (q->cfg.packed && !q->pinfl) {
		i = packed_pop_run(q, elems, iov, iov_per_elem, n, &r);
	} else if (!q->cfg.packed && !q->infl && q->resubmit_pos >= q->nresubmit) {
		i = split_pop_run(q, elems, iov, iov_per_elem, n, &r);
		if (i)
			split_avail_event(q);
	} else {
		/* Inflight tracking, resubmissions: one at a time. */
		for (; i < n; i++) {
			r = q->cfg.packed ? packed_pop(q, &elems[i], iov, iov_per_elem) :
					    split_pop_one(q, &elems[i], iov, iov_per_elem);
			if (r <= 0)
				break;
			if (iov_per_elem)
				iov += iov_per_elem;
		}
		if (i && !q->cfg.packed)
			split_avail_event(q);
	}
	if (!r)
		q->drained = true;
	/* What stopped a burst after its first buffer is for the next call to report. */
	if (i)
		return (int)i;
	return vhc_ret(r);
}

void vhc_devq_clear_drained(struct vhostctl_devq *q)
{
	q->drained = false;
}

bool vhc_devq_drained(const struct vhostctl_devq *q)
{
	return q->drained;
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
		if (q->last_pop_resub) {
			/* A resubmission: it stays in flight in the region, popped again later. */
			q->last_pop_resub = false;
			q->resubmit_pos--;
			if (elem->id < q->cfg.num)
				q->pk_head[elem->id] = PK_NONE;
			return 0;
		}
		if (q->pinfl && pk_release(q, elem->id))
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
	if (q->cfg.event_idx) {
		st16(q->avail_event, q->last_avail);
		if (q->logging)
			log_used_ring(q, 4 + 8ull * q->cfg.num, 2);
	}
	if (q->infl)
		q->infl->desc[elem->id % q->cfg.num].inflight = 0;
	return 0;
}

/* The slow path of vhostctl_devq_push() while logging: push, then mark. */
static __attribute__((noinline)) int push_logged(struct vhostctl_devq *q,
						 const struct vhostctl_devq_elem *elem,
						 uint32_t written)
{
	if (q->cfg.packed) {
		int r = packed_push(q, elem, written);

		if (r)
			return vhc_ret(r);
	} else {
		split_push(q, elem, written);
	}
	q->pending++;
	log_push(q, elem, written);
	return 0;
}

/* What a push of @e needs from the element itself: split, the head in range; packed, slots. */
static ALWAYS_INLINE bool push_elem_ok(const struct vhostctl_devq *q,
				       const struct vhostctl_devq_elem *e)
{
	if (q->cfg.packed)
		return e->ndesc && e->ndesc <= q->cfg.num;
	return e->id < q->cfg.num;
}

VHC_EXPORT int vhostctl_devq_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem,
				  uint32_t written)
{
	int r;

	if (!q || !elem || written > elem->in_len)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	if (!push_elem_ok(q, elem))
		return vhc_err(EINVAL);
	if (__builtin_expect(q->logging, 0))
		return push_logged(q, elem, written);
	if (q->cfg.packed) {
		r = packed_push(q, elem, written);
		if (r)
			return vhc_ret(r);
	} else {
		split_push(q, elem, written);
	}
	q->pending++;
	return 0;
}

/* Used entries for a burst, without tracking or logging; the elements were checked. */
static ALWAYS_INLINE void packed_push_run(struct vhostctl_devq *q,
					  const struct vhostctl_devq_elem *elems,
					  const uint32_t *written, unsigned int n)
{
	struct pdesc *ring = q->pring;
	unsigned int num = q->cfg.num;
	uint16_t used = q->last_used;
	bool wrap = q->used_wrap;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = written ? written[i] : 0;
		uint16_t flags = wrap ? (PDESC_F_AVAIL | PDESC_F_USED) : 0;
		struct pdesc *d = &ring[used];

		if (len)
			flags |= DESC_F_WRITE;
		__atomic_store_n(&d->id, elems[i].id, __ATOMIC_RELAXED);
		__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
		/* Release: id and len are visible before the flags that hand the slot back. */
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
		used += elems[i].ndesc;
		if (used >= num) {
			used -= (uint16_t)num;
			wrap = !wrap;
		}
	}
	q->last_used = used;
	q->used_wrap = wrap;
}

static ALWAYS_INLINE void split_push_run(struct vhostctl_devq *q,
					 const struct vhostctl_devq_elem *elems,
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

VHC_EXPORT int vhostctl_devq_push_burst(struct vhostctl_devq *q,
					const struct vhostctl_devq_elem *elems,
					const uint32_t *written, unsigned int n)
{
	unsigned int num, i;
	int r;

	if (!q || (!elems && n) || n > INT_MAX)
		return vhc_err(EINVAL);
	if (q->broken)
		return vhc_err(EIO);
	/* Every element is checked first: a burst goes back whole, or not at all. */
	num = q->cfg.num;
	for (i = 0; written && i < n; i++)
		if (written[i] > elems[i].in_len)
			return vhc_err(EINVAL);
	if (q->cfg.packed) {
		for (i = 0; i < n; i++)
			if (!elems[i].ndesc || elems[i].ndesc > num)
				return vhc_err(EINVAL);
	} else {
		for (i = 0; i < n; i++)
			if (elems[i].id >= num)
				return vhc_err(EINVAL);
	}
	if (__builtin_expect(q->logging || q->pinfl || q->infl, 0)) {
		for (i = 0; i < n; i++) {
			r = q->logging ? push_logged(q, &elems[i], written ? written[i] : 0) :
					 vhostctl_devq_push(q, &elems[i], written ? written[i] : 0);
			if (r)
				return r;
		}
		return (int)n;
	}
	if (q->cfg.packed)
		packed_push_run(q, elems, written, n);
	else
		split_push_run(q, elems, written, n);
	q->pending += n;
	return (int)n;
}

/* The slow path of vhostctl_devq_flush() while logging: flush, then mark. */
static __attribute__((noinline)) int flush_logged(struct vhostctl_devq *q)
{
	int r = q->cfg.packed ? packed_flush(q) : split_flush(q);

	log_flush(q);
	return r;
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
	if (__builtin_expect(q->logging, 0))
		return flush_logged(q);
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

/* The slow path of vhostctl_devq_copy_to() while logging: copy, then mark. */
static __attribute__((noinline)) size_t copy_to_logged(const struct vhostctl_devq_elem *elem,
						       size_t offset, const void *buf, size_t len)
{
	size_t n = devq_copy(elem, elem->out, elem->in, offset, (void *)buf, len, true);
	unsigned int hint = 0;

	log_in(elem->priv, &hint, elem, offset, n);
	return n;
}

/* vhostctl_devq_copy_from() over several pieces (out of line: the one-piece case stays a leaf). */
static __attribute__((noinline)) size_t copy_from_pieces(const struct vhostctl_devq_elem *elem,
							 size_t offset, void *buf, size_t len)
{
	return devq_copy(elem, 0, elem->out, offset, buf, len, false);
}

VHC_EXPORT size_t vhostctl_devq_copy_from(const struct vhostctl_devq_elem *elem, size_t offset,
					  void *buf, size_t len)
{
	/* The common buffer: one readable piece. */
	if (elem->out == 1 && offset < elem->iov[0].iov_len) {
		size_t n = elem->iov[0].iov_len - offset;

		if (n > len)
			n = len;
		memcpy(buf, (const char *)elem->iov[0].iov_base + offset, n);
		return n;
	}
	return copy_from_pieces(elem, offset, buf, len);
}

VHC_EXPORT size_t vhostctl_devq_copy_to(const struct vhostctl_devq_elem *elem, size_t offset,
					const void *buf, size_t len)
{
	const struct vhc_dirty_log *l = elem->priv;

	if (__builtin_expect(l && l->active, 0))
		return copy_to_logged(elem, offset, buf, len);
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
