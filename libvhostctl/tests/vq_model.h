/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * A minimal device side of a split ring for the driver-side host tests,
 * written from the virtio spec independently of the library's own device
 * queue, so that the two cannot share a misreading.  Little endian host.
 */
#ifndef VQ_MODEL_H
#define VQ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

struct m_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct model {
	struct vhostctl_mem *mem;
	unsigned int num;
	struct m_desc *desc;
	uint16_t *avail;
	uint16_t *used;		/* flags, idx, then {u32 id, u32 len}[num], avail_event */
	uint16_t last_avail;
	uint16_t used_idx;
};

struct m_buf {
	uint8_t *p;
	uint32_t len;
	bool write;
};

static inline void model_init(struct model *m, struct vhostctl_mem *mem, struct vhostctl_vq *vq)
{
	struct vhostctl_vring_addr a;

	t_eq(0, vhostctl_vq_get_addr(vq, &a));
	m->mem = mem;
	m->num = (unsigned int)vhostctl_vq_size(vq);
	m->desc = vhostctl_mem_gpa_to_hva(mem, a.desc, 16ull * m->num);
	m->avail = vhostctl_mem_gpa_to_hva(mem, a.avail, 6 + 2ull * m->num);
	m->used = vhostctl_mem_gpa_to_hva(mem, a.used, 6 + 8ull * m->num);
	t_true(m->desc && m->avail && m->used);
	m->last_avail = m->used_idx = 0;
}

static inline uint16_t *model_avail_event(struct model *m)
{
	return (uint16_t *)((uint8_t *)m->used + 4 + 8ull * m->num);
}

static inline uint16_t model_used_event(struct model *m)
{
	return __atomic_load_n(&m->avail[2 + m->num], __ATOMIC_ACQUIRE);
}

/* Pop one chain: returns the head, or -1 when none; fills bufs. */
static inline int model_pop(struct model *m, struct m_buf *bufs, unsigned int max, unsigned int *n)
{
	uint16_t idx = __atomic_load_n(&m->avail[1], __ATOMIC_ACQUIRE);
	struct m_desc *tab = m->desc;
	unsigned int tnum = m->num, i, count = 0;
	uint16_t head;

	if (idx == m->last_avail)
		return -1;
	head = m->avail[2 + (m->last_avail % m->num)];
	m->last_avail++;
	if (head >= m->num)
		t_fail("device: head %u out of range", head);
	i = head;
	if (m->desc[head].flags & 4) {
		tab = vhostctl_mem_gpa_to_hva(m->mem, m->desc[head].addr, m->desc[head].len);
		if (!tab || m->desc[head].len % 16)
			t_fail("device: bad indirect table");
		tnum = m->desc[head].len / 16;
		i = 0;
	}
	for (;;) {
		struct m_desc *d = &tab[i];

		if (count == max || i >= tnum)
			t_fail("device: chain too long or index out of range");
		if (d->flags & 4)
			t_fail("device: nested indirect");
		bufs[count].p = vhostctl_mem_gpa_to_hva(m->mem, d->addr, d->len);
		if (!bufs[count].p)
			t_fail("device: descriptor outside guest memory");
		bufs[count].len = d->len;
		bufs[count].write = d->flags & 2;
		count++;
		if (!(d->flags & 1))
			break;
		i = d->next;
	}
	*n = count;
	return head;
}

/* Push a used entry; returns whether the driver wants a call (event idx rule). */
static inline bool model_push(struct model *m, uint16_t head, uint32_t len, bool event_idx)
{
	uint32_t *e = (uint32_t *)((uint8_t *)m->used + 4 + 8ull * (m->used_idx % m->num));
	uint16_t old = m->used_idx, ev;

	e[0] = head;
	e[1] = len;
	m->used_idx++;
	__atomic_store_n(&m->used[1], m->used_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!event_idx)
		return !(m->avail[0] & 1);
	ev = model_used_event(m);
	return (uint16_t)(m->used_idx - ev - 1) < (uint16_t)(m->used_idx - old);
}

#endif
