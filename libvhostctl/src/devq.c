// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The device side of a virtqueue: set-up and the public calls.  Each call
 * checks its arguments and the broken flag here, then goes to its ring
 * layout (devq_split.c, devq_packed.c); devq_priv.h has the queue and what
 * both layouts inline.
 *
 * The driver's memory is untrusted: every ring field is read once into a
 * local, every index is bounded, every descriptor address and length is
 * translated through the memory map (which fails for anything outside a
 * region), chains are bounded by the ring (or indirect table) size, and a
 * readable descriptor after a writable one is refused.  A queue that breaks
 * a rule is marked broken; nothing later touches its memory.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "devq_priv.h"

static void *ring_addr(struct vhostctl_devq *q, uint64_t addr, uint64_t len, unsigned int align)
{
	void *p = q->cfg.uaddr ? vhc_memmap_uva(q->map, addr, len) :
				  vhc_memmap_gpa(q->map, addr, len);

	if (p && ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
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
	if (q->cfg.big_endian)
		return vhc_legacy_init(q);
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
			r = vhc_packed_inflight_restore(q);
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
		r = vhc_split_inflight_restore(q);
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

/*
 * Broken, or a legacy big-endian ring (devq_legacy.c): one test of both
 * flags per call, the test the little-endian path made for broken alone.
 */
#define DIVERT(q) __builtin_expect((q)->divert, 0)

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
	cfg.in_order = o.flags & VHOSTCTL_DEVQ_F_IN_ORDER;
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
	if (DIVERT(q)) {
		if (q->broken)
			return vhc_err(EIO);
		r = vhc_legacy_pop(q, elem, iov, max_iov);
	} else {
		r = q->cfg.packed ? vhc_packed_pop(q, elem, iov, max_iov) :
				    vhc_split_pop(q, elem, iov, max_iov);
	}
	if (r > 0)
		q->held++;
	return r;
}

/*
 * A burst: runs of common buffers through the layout's run (the ring
 * position and a region in registers), and each other buffer, or every
 * buffer of a queue with inflight tracking or resubmissions, through the
 * one-buffer path, which checks everything and may move the region hint.
 */
VHC_EXPORT int vhostctl_devq_pop_burst(struct vhostctl_devq *q, struct vhostctl_devq_elem *elems,
				       struct iovec *iov, unsigned int iov_per_elem, unsigned int n)
{
	unsigned int i = 0, per = iov_per_elem;
	bool packed, run;
	int r = 1;

	if (!q || (!elems && n) || (!iov && per) || n > INT_MAX)
		return vhc_err(EINVAL);
	if (DIVERT(q)) {
		if (q->broken)
			return vhc_err(EIO);
		r = vhc_legacy_pop_burst(q, elems, iov, per, n);
		if (r > 0)
			q->held += (unsigned int)r;
		return r;
	}
	if (!n)
		return 0;
	packed = q->cfg.packed;
	run = packed ? !q->pinfl : !q->infl && q->resubmit_pos >= q->nresubmit;
	while (i < n) {
		struct iovec *v = per ? iov + (size_t)i * per : iov;

		if (run) {
			i += packed ? vhc_packed_pop_run(q, &elems[i], v, per, n - i, &r) :
				      vhc_split_pop_run(q, &elems[i], v, per, n - i, &r);
			if (i == n || r <= 0)
				break;
			v = iov + (size_t)i * per;
		}
		r = packed ? vhc_packed_pop_one(q, &elems[i], v, per) :
			     vhc_split_pop_one(q, &elems[i], v, per);
		if (r <= 0)
			break;
		i++;
	}
	if (i && !packed)
		vhc_split_avail_event(q);
	if (!r)
		q->drained = true;
	/* What stopped a burst after its first buffer is for the next call to report. */
	q->held += i;
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

bool vhc_devq_broken(const struct vhostctl_devq *q)
{
	return q->broken;
}

/*
 * Buffers popped and neither pushed nor given back: what the backend's
 * application still holds when a ring stops.  A push of a buffer popped
 * from an earlier queue of the ring does not take it below zero.
 */
unsigned int vhc_devq_held(const struct vhostctl_devq *q)
{
	return q->held;
}

static inline void devq_released(struct vhostctl_devq *q, unsigned int n)
{
	q->held = q->held > n ? q->held - n : 0;
}

/* True when an inflight region keeps the buffers in flight. */
bool vhc_devq_inflight(const struct vhostctl_devq *q)
{
	return q->infl || q->pinfl;
}

VHC_EXPORT int vhostctl_devq_unpop(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem)
{
	int r;

	if (!q || !elem)
		return vhc_err(EINVAL);
	if (DIVERT(q)) {
		if (q->broken)
			return vhc_err(EIO);
		r = vhc_legacy_unpop(q, elem);
	} else {
		r = q->cfg.packed ? vhc_packed_unpop(q, elem) : vhc_split_unpop(q, elem);
	}
	if (!r)
		devq_released(q, 1);
	return vhc_ret(r);
}

/* The slow path of vhostctl_devq_push() while logging: push, then mark. */
static __attribute__((noinline)) int push_logged(struct vhostctl_devq *q,
						 const struct vhostctl_devq_elem *elem,
						 uint32_t written)
{
	int r = q->cfg.packed ? vhc_packed_push(q, elem, written) :
				vhc_split_push(q, elem, written);

	if (r)
		return r;
	vhc_devq_log_push(q, elem, written);
	return 0;
}

/* One push of a logged burst: the element is released, pushed, marked. */
static int push_logged_one(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem,
			   uint32_t written)
{
	devq_released(q, 1);
	return push_logged(q, elem, written);
}

/* What a push of @e needs from the element itself: split, the head in range; packed, slots. */
static inline bool push_elem_ok(const struct vhostctl_devq *q, const struct vhostctl_devq_elem *e)
{
	if (q->cfg.packed)
		return e->ndesc && e->ndesc <= q->cfg.num;
	return e->id < q->cfg.num;
}

VHC_EXPORT int vhostctl_devq_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *elem,
				  uint32_t written)
{
	if (!q || !elem || written > elem->in_len)
		return vhc_err(EINVAL);
	if (DIVERT(q)) {
		if (q->broken)
			return vhc_err(EIO);
		if (!push_elem_ok(q, elem))
			return vhc_err(EINVAL);
		devq_released(q, 1);
		return vhc_legacy_push(q, elem, written);
	}
	if (!push_elem_ok(q, elem))
		return vhc_err(EINVAL);
	devq_released(q, 1);
	if (__builtin_expect(q->logging, 0))
		return push_logged(q, elem, written);
	if (q->cfg.packed)
		return vhc_packed_push(q, elem, written);
	return vhc_split_push(q, elem, written);
}

/*
 * A packed push burst's elements: 1 <= ndesc <= num (one test) and, with
 * @lens (a constant in each copy), written[i] <= in_len.  @slots: the ring
 * slots they take (n when every element is one descriptor).
 */
static ALWAYS_INLINE bool packed_burst_ok(const struct vhostctl_devq_elem *elems,
					  const uint32_t *written, unsigned int n,
					  unsigned int num, uint64_t *slots, const bool lens)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++) {
		if ((unsigned int)elems[i].ndesc - 1 >= num ||
		    (lens && written[i] > elems[i].in_len))
			return false;
		sum += elems[i].ndesc;
	}
	*slots = sum;
	return true;
}

VHC_EXPORT int vhostctl_devq_push_burst(struct vhostctl_devq *q,
					const struct vhostctl_devq_elem *elems,
					const uint32_t *written, unsigned int n)
{
	unsigned int num, i;
	uint64_t slots = 0;
	int r;

	if (!q || (!elems && n) || n > INT_MAX)
		return vhc_err(EINVAL);
	if (DIVERT(q) && q->broken)
		return vhc_err(EIO);
	/* Every element is checked first: a burst goes back whole, or not at all. */
	num = q->cfg.num;
	if (q->cfg.packed) {
		if (written ? !packed_burst_ok(elems, written, n, num, &slots, true) :
			      !packed_burst_ok(elems, NULL, n, num, &slots, false))
			return vhc_err(EINVAL);
	} else {
		for (i = 0; written && i < n; i++)
			if (written[i] > elems[i].in_len)
				return vhc_err(EINVAL);
		for (i = 0; i < n; i++)
			if (elems[i].id >= num)
				return vhc_err(EINVAL);
	}
	/* A legacy ring's pushes divert one by one. */
	if (__builtin_expect(q->logging || q->pinfl || q->infl || q->legacy, 0)) {
		if (q->cfg.packed && q->logging && !q->pinfl && n > 1)
			return vhc_packed_push_whole_each(q, elems, written, n, push_logged_one) ?: (int)n;
		for (i = 0; i < n; i++) {
			if (q->logging && !q->legacy) {
				devq_released(q, 1);
				r = push_logged(q, &elems[i], written ? written[i] : 0);
			} else {
				r = vhostctl_devq_push(q, &elems[i], written ? written[i] : 0);
			}
			if (r)
				return r;
		}
		return (int)n;
	}
	devq_released(q, n);
	if (q->cfg.packed && n > 1)
		vhc_packed_push_whole(q, elems, written, n, slots == n);
	else if (q->cfg.packed)
		vhc_packed_push_run(q, elems, written, n, slots == n);
	else
		vhc_split_push_run(q, elems, written, n);
	q->pending += n;
	return (int)n;
}

/* The slow path of vhostctl_devq_flush() while logging: flush, then mark. */
static __attribute__((noinline)) int flush_logged(struct vhostctl_devq *q)
{
	int r = q->cfg.packed ? vhc_packed_flush(q) : vhc_split_flush(q);

	vhc_devq_log_flush(q);
	return r;
}

VHC_EXPORT int vhostctl_devq_flush(struct vhostctl_devq *q)
{
	if (!q)
		return vhc_err(EINVAL);
	if (DIVERT(q)) {
		if (q->broken)
			return vhc_err(EIO);
		if (!q->pending)
			return 0;
		q->pending = 0;
		return vhc_legacy_flush(q);
	}
	if (!q->pending)
		return 0;
	q->pending = 0;
	if (__builtin_expect(q->logging, 0))
		return flush_logged(q);
	return q->cfg.packed ? vhc_packed_flush(q) : vhc_split_flush(q);
}

VHC_EXPORT int vhostctl_devq_notify_enable(struct vhostctl_devq *q, int enable)
{
	if (!q)
		return vhc_err(EINVAL);
	if (DIVERT(q))
		return q->broken ? vhc_err(EIO) : vhc_legacy_notify(q, enable);
	return q->cfg.packed ? vhc_packed_notify(q, enable) : vhc_split_notify(q, enable);
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

	vhc_devq_log_in(elem->priv, &hint, elem, offset, n);
	return n;
}

/* vhostctl_devq_copy_to() over several pieces (out of line, as for copy_from). */
static __attribute__((noinline)) size_t copy_to_pieces(const struct vhostctl_devq_elem *elem,
						       size_t offset, const void *buf, size_t len)
{
	/* devq_copy() only writes through @buf when !to_iov. */
	return devq_copy(elem, elem->out, elem->in, offset, (void *)buf, len, true);
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
	/* The common buffer: one writable piece. */
	if (elem->in == 1 && offset < elem->iov[elem->out].iov_len) {
		const struct iovec *v = &elem->iov[elem->out];
		size_t n = v->iov_len - offset;

		if (n > len)
			n = len;
		memcpy((char *)v->iov_base + offset, buf, n);
		return n;
	}
	return copy_to_pieces(elem, offset, buf, len);
}

/* @n bytes, @n at most @room; 8 to 16 (a virtio-net header) without a call. */
static ALWAYS_INLINE void copy_piece(char *to, const char *from, size_t n)
{
	if (n - 8 <= 8) {
		uint64_t a, b;

		memcpy(&a, from, 8);
		memcpy(&b, from + n - 8, 8);
		memcpy(to, &a, 8);
		memcpy(to + n - 8, &b, 8);
		return;
	}
	memcpy(to, from, n);
}

/* vhostctl_devq_copy_to_iov() but for two pieces that fit (out of line: that case stays small). */
static __attribute__((noinline)) size_t copy_to_iov_loop(const struct vhostctl_devq_elem *elem,
							 size_t offset, const struct iovec *src,
							 unsigned int nsrc)
{
	const struct vhc_dirty_log *l = elem->priv;
	size_t done = 0;

	if ((!l || !l->active) && elem->in == 1 && offset <= elem->iov[elem->out].iov_len) {
		const struct iovec *v = &elem->iov[elem->out];
		char *start = (char *)v->iov_base + offset, *p = start;
		char *end = (char *)v->iov_base + v->iov_len;

		for (const struct iovec *s = src, *last = src + nsrc; s < last; s++) {
			size_t n = s->iov_len;

			if (n > (size_t)(end - p)) {
				memcpy(p, s->iov_base, (size_t)(end - p));
				return (size_t)(end - start);
			}
			memcpy(p, s->iov_base, n);
			p += n;
		}
		return (size_t)(p - start);
	}
	for (unsigned int i = 0; i < nsrc; i++) {
		size_t n = vhostctl_devq_copy_to(elem, offset + done, src[i].iov_base,
						 src[i].iov_len);

		done += n;
		if (n < src[i].iov_len)
			break;
	}
	return done;
}

/*
 * The common case: no dirty log, one writable iovec, two pieces (a header
 * and a frame) with room for both from @offset on; anything else through
 * the loop, which copies each piece until the room runs out.
 */
VHC_EXPORT size_t vhostctl_devq_copy_to_iov(const struct vhostctl_devq_elem *elem,
					    size_t offset, const struct iovec *src,
					    unsigned int nsrc)
{
	const struct vhc_dirty_log *l = elem->priv;
	const struct iovec *v = &elem->iov[elem->out];
	size_t room, n0, n1;
	char *p;

	if (__builtin_expect(nsrc != 2 || (l && l->active) || elem->in != 1 ||
			     offset > v->iov_len, 0))
		return copy_to_iov_loop(elem, offset, src, nsrc);
	room = v->iov_len - offset;
	n0 = src[0].iov_len;
	n1 = src[1].iov_len;
	if (__builtin_expect(n0 > room || n1 > room - n0, 0))
		return copy_to_iov_loop(elem, offset, src, nsrc);
	p = (char *)v->iov_base + offset;
	copy_piece(p, src[0].iov_base, n0);
	memcpy(p + n0, src[1].iov_base, n1);
	return n0 + n1;
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
