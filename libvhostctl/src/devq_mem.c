// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The guest memory map a device queue translates through, and the dirty
 * log its writes are marked in (one bit per 4 KiB guest page).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "devq_priv.h"

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

/* Whether [addr, addr+len) is all guest memory (it may span adjacent regions). */
bool vhc_memmap_range_ok(const struct vhc_memmap *m, uint64_t addr, uint64_t len)
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
void vhc_devq_log_in(struct vhc_dirty_log *l, unsigned int *hint,
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
void vhc_devq_log_used(struct vhostctl_devq *q, uint64_t off, uint64_t len)
{
	if (q->cfg.log_used)
		log_gpa(q->cfg.dlog, q->cfg.log_addr + off, len);
}

/*
 * Packed: QEMU gives the device event area's address as the log address,
 * so ring writes are logged where the memory table puts them.
 */
void vhc_devq_log_ring(struct vhostctl_devq *q, const void *p, uint64_t len)
{
	if (q->cfg.log_used)
		log_host(q->cfg.dlog, &q->log_hint, p, len);
}

/* What a push wrote: the buffer's first written bytes and the ring entry. */
void vhc_devq_log_push(struct vhostctl_devq *q, const struct vhostctl_devq_elem *e,
		       uint32_t written)
{
	unsigned int num = q->cfg.num;

	vhc_devq_log_in(q->cfg.dlog, &q->log_hint, e, 0, written);
	if (q->cfg.packed) {
		unsigned int slot = q->last_used >= e->ndesc ?
				    (unsigned int)(q->last_used - e->ndesc) :
				    q->last_used + num - e->ndesc;

		vhc_devq_log_ring(q, &q->pring[slot], sizeof(struct pdesc));
	} else {
		vhc_devq_log_used(q, 4 + 8ull * ((uint16_t)(q->used_idx - 1) & (num - 1)), 8);
	}
}

/* After a flush: the used index (split), and the frontend's log eventfd. */
void vhc_devq_log_flush(struct vhostctl_devq *q)
{
	uint64_t one = 1;

	if (!q->cfg.packed)
		vhc_devq_log_used(q, 2, 2);
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

