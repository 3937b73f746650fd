// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The per-handle record of rings as the caller set them up (vdpa_rec.h).
 * A failed allocation leaves the ring unrecorded: the migration helper then
 * does not save it, and says nothing worse than that.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vdpa_rec.h"

static struct vhc_vring_rec *rec_at(struct vhc_vring_recs *r, unsigned int index)
{
	struct vhc_vring_rec *p;
	unsigned int n;

	if (index >= VHC_VRING_REC_MAX)
		return NULL;
	if (index >= r->n) {
		n = index + 1 < 8 ? 8 : index + 1;
		p = realloc(r->ring, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + r->n, 0, (n - r->n) * sizeof(*p));
		r->ring = p;
		r->n = n;
	}
	return &r->ring[index];
}

void vhc_vring_rec_num(struct vhc_vring_recs *r, unsigned int index, unsigned int num)
{
	struct vhc_vring_rec *v = rec_at(r, index);

	if (v) {
		v->num = num;
		v->has_num = true;
	}
}

void vhc_vring_rec_addr(struct vhc_vring_recs *r, const struct vhostctl_vring_addr *a)
{
	struct vhc_vring_rec *v = rec_at(r, a->index);

	if (v) {
		v->addr_flags = a->flags;
		v->desc = a->desc;
		v->avail = a->avail;
		v->used = a->used;
		v->has_addr = true;
	}
}

void vhc_vring_rec_enable(struct vhc_vring_recs *r, unsigned int index, int enable)
{
	struct vhc_vring_rec *v = rec_at(r, index);

	if (v)
		v->enabled = enable != 0;
}

void vhc_vring_rec_reset(struct vhc_vring_recs *r)
{
	if (r->n)
		memset(r->ring, 0, r->n * sizeof(*r->ring));
}

void vhc_vring_rec_fini(struct vhc_vring_recs *r)
{
	free(r->ring);
	r->ring = NULL;
	r->n = 0;
}
