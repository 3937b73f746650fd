// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Inflight regions (INFLIGHT_SHMFD): a fresh region is set up, one kept by
 * a predecessor is checked entry by entry and its requests queued for
 * resubmission, oldest first.  The region is shared with the frontend and
 * was written by another process: every index and count in it is bounded,
 * and a region that breaks a rule refuses the ring with a reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "devq_priv.h"

size_t vhc_inflight_queue_size(unsigned int num, bool packed)
{
	size_t sz = packed ? sizeof(struct infl_packed) + (size_t)num * sizeof(struct infl_pdesc) :
			     sizeof(struct infl_split) + (size_t)num * sizeof(struct infl_desc);

	return (sz + 63) & ~(size_t)63;
}

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
int vhc_split_inflight_restore(struct vhostctl_devq *q)
{
	struct infl_split *r = q->cfg.inflight;
	unsigned int num = q->cfg.num, n = 0;
	uint16_t used = ld16(&q->used_hdr[1]);

	if (q->cfg.inflight_size < vhc_inflight_queue_size(num, false))
		return infl_bad(q, "%zu bytes for a split ring of %u", q->cfg.inflight_size, num);
	q->infl = r;
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
		return vhc_memmap_range_ok(q->map, d->addr, d->len);
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
int vhc_packed_inflight_restore(struct vhostctl_devq *q)
{
	struct infl_packed *r = q->cfg.inflight;
	unsigned int num = q->cfg.num, nfree = 0, total = 0, n = 0;
	uint16_t version, used, old_used, free_head, old_free, cur, avail;
	uint8_t wrap, old_wrap, *seen;
	int err = 0;

	if (q->cfg.inflight_size < vhc_inflight_queue_size(num, true))
		return infl_bad(q, "%zu bytes for a packed ring of %u", q->cfg.inflight_size, num);
	q->pinfl = r;
	version = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
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

int vhc_devq_inflight_resubmit(struct vhostctl_devq *q, uint16_t *heads, unsigned int max)
{
	unsigned int n = q->nresubmit < max ? q->nresubmit : max;

	for (unsigned int i = 0; i < n; i++)
		heads[i] = q->pinfl ? q->resub_desc[q->pres[i].first + q->pres[i].n - 1].id :
				      q->resubmit[i];
	return (int)q->nresubmit;
}
