// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * VHOSTCTL_DEVQ_F_IN_ORDER and packed bursts published whole, on rings the
 * test owns, read back as a driver reads them:
 *  - packed, in-order, a burst with nothing written (TX): one used
 *    descriptor at the burst's first slot with the last buffer's id, length
 *    0 and the used wrap counter of that slot; the other slots of the burst
 *    left as the driver wrote them; the next burst's descriptor at the first
 *    slot past every slot of the batch (chains count all their slots), the
 *    wrap counter flipping across the ring's end (a ring of 10, not a power
 *    of two);
 *  - packed, in-order, a burst with lengths written (RX), or a single
 *    push: one used descriptor per buffer with its own length, never
 *    batched away; a burst with one length among zeros neither;
 *  - packed without IN_ORDER and split with it: one used entry per buffer;
 *  - vhostctl_devq_notify_more(): buffers given back do not count, a later
 *    addition does; the split event index goes past them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include <vhostctl/vhostctl.h>

#include "devq_ring.h"
#include "test.h"

#define GPA 0x100000ull
#define SIZE 0x10000ull
#define BUF_SIZE 0x100

struct fx {
	uint8_t *mem;
	struct vhostctl_devq *q;
	unsigned int num;
	bool packed;
	struct vring_packed_desc *pring;
	struct vring_desc *desc;
	uint16_t *avail;
	struct vring_used *used;
	uint16_t next;		/* split: avail idx; packed: next slot */
	bool wrap;
	uint16_t nused;		/* packed: where the driver expects the next used descriptor */
	bool uwrap;
	struct vhostctl_devq_elem e[16];
	struct iovec iov[16][4];
};

static void fx_init(struct fx *f, bool packed, unsigned int num, unsigned int flags)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o);
	struct vhostctl_devq_region reg;

	memset(f, 0, sizeof(*f));
	f->mem = aligned_alloc(4096, SIZE);
	t_true(f->mem);
	memset(f->mem, 0, SIZE);
	reg = (struct vhostctl_devq_region){ GPA, SIZE, GPA, f->mem };
	f->num = num;
	f->packed = packed;
	f->pring = (struct vring_packed_desc *)(f->mem + DESC_OFF);
	f->desc = (struct vring_desc *)(f->mem + DESC_OFF);
	f->avail = (uint16_t *)(f->mem + AVAIL_OFF);
	f->used = (struct vring_used *)(f->mem + USED_OFF);
	f->wrap = f->uwrap = true;
	o.regions = &reg;
	o.nregions = 1;
	o.num = num;
	o.flags = flags | (packed ? VHOSTCTL_DEVQ_F_PACKED : 0);
	o.desc = GPA + DESC_OFF;
	o.avail = GPA + AVAIL_OFF;
	o.used = GPA + USED_OFF;
	o.base = packed ? 1u << 15 : 0;
	o.call_fd = -1;
	f->q = vhostctl_devq_new(&o);
	t_true(f->q);
}

static void fx_fini(struct fx *f)
{
	vhostctl_devq_free(f->q);
	free(f->mem);
}

/*
 * Make a buffer of @ndesc descriptors available, writable if @write; its
 * id is its first slot (packed, as in-order drivers number them) or its
 * head descriptor (split).
 */
static uint16_t put(struct fx *f, unsigned int ndesc, bool write)
{
	uint16_t first = f->next;

	for (unsigned int i = 0; i < ndesc; i++) {
		uint16_t fl = (write ? F_WRITE : 0) | (i + 1 < ndesc ? F_NEXT : 0);
		uint64_t a = GPA + BUF_OFF + (uint64_t)((first + i) % f->num) * BUF_SIZE;

		if (f->packed) {
			ring_put(f->pring, f->num, &f->next, &f->wrap, a, BUF_SIZE,
				 (uint16_t)(first % f->num), fl);
		} else {
			unsigned int d = (first + i) % f->num;

			f->desc[d] = (struct vring_desc){ a, BUF_SIZE, fl,
							  (uint16_t)((d + 1) % f->num) };
		}
	}
	if (!f->packed) {
		uint16_t head = (uint16_t)(first % f->num);

		f->next = (uint16_t)(first + ndesc);
		/* Split: the avail ring holds heads; keep descriptor indexes and avail entries apart. */
		f->avail[2 + (f->avail[1] & (f->num - 1))] = head;
		__atomic_store_n(&f->avail[1], (uint16_t)(f->avail[1] + 1), __ATOMIC_RELEASE);
		return head;
	}
	return first;
}

static int pop(struct fx *f, unsigned int n)
{
	return vhostctl_devq_pop_burst(f->q, f->e, &f->iov[0][0], 4, n);
}

/* Packed: the used descriptor the driver finds next, checked, and the driver's position moved. */
static void expect_used(struct fx *f, uint16_t id, uint32_t len, unsigned int skip)
{
	struct vring_packed_desc *d = &f->pring[f->nused];
	uint16_t fl = d->flags;
	bool avail = fl & P_AVAIL, used = fl & P_USED;

	if (avail != f->uwrap || used != f->uwrap)
		t_fail("slot %u: flags %#x, a used descriptor of wrap %d expected", f->nused, fl,
		       f->uwrap);
	if (d->id != id || d->len != len)
		t_fail("slot %u: id %u len %u, expected id %u len %u", f->nused, d->id, d->len, id,
		       len);
	if (!!(fl & F_WRITE) != !!len)
		t_fail("slot %u: WRITE flag %#x with length %u", f->nused, fl, len);
	f->nused = (uint16_t)(f->nused + skip);
	if (f->nused >= f->num) {
		f->nused -= (uint16_t)f->num;
		f->uwrap = !f->uwrap;
	}
}

/* Packed: slot @s still holds what the driver made available (not a used descriptor). */
static void expect_not_used(struct fx *f, unsigned int s, bool drv_wrap)
{
	uint16_t fl = f->pring[s].flags;

	if (!!(fl & P_AVAIL) != drv_wrap || !!(fl & P_USED) == drv_wrap)
		t_fail("slot %u: flags %#x: written over inside a batch", s, fl);
}

static void packed_tx_batches(void)
{
	struct fx f;
	uint16_t ids[8];

	fx_init(&f, true, 10, VHOSTCTL_DEVQ_F_IN_ORDER);
	/* Burst 1: 4 one-slot buffers, nothing written: one used descriptor. */
	for (int i = 0; i < 4; i++)
		ids[i] = put(&f, 1, false);
	t_eq(4, pop(&f, 8));
	t_eq(4, vhostctl_devq_push_burst(f.q, f.e, NULL, 4));
	t_eq(0, vhostctl_devq_flush(f.q) < 0);
	expect_used(&f, ids[3], 0, 4);
	for (unsigned int s = 1; s < 4; s++)
		expect_not_used(&f, s, true);
	/* Burst 2: a chain of 2, a buffer, a chain of 3 (slots 4-9): skip 6, wrap flips. */
	ids[0] = put(&f, 2, false);
	ids[1] = put(&f, 1, false);
	ids[2] = put(&f, 3, false);
	t_eq(3, pop(&f, 8));
	t_eq(2, f.e[0].ndesc);
	t_eq(3, f.e[2].ndesc);
	t_eq(3, vhostctl_devq_push_burst(f.q, f.e, (const uint32_t[]){ 0, 0, 0 }, 3));
	expect_used(&f, ids[2], 0, 6);
	for (unsigned int s = 5; s < 10; s++)
		expect_not_used(&f, s, true);
	t_eq(0, f.nused);
	t_true(!f.uwrap);
	/* Burst 3 across the end again, in the second lap: 3 buffers of 3 slots. */
	for (int i = 0; i < 3; i++)
		ids[i] = put(&f, 3, false);
	t_eq(3, pop(&f, 8));
	t_eq(3, vhostctl_devq_push_burst(f.q, f.e, NULL, 3));
	expect_used(&f, ids[2], 0, 9);
	t_eq(9, f.nused);
	/* (vhostctl_devq_base(): bits 16-30 the next used index, bit 31 its wrap.) */
	t_eq(9, (vhostctl_devq_base(f.q) >> 16) & 0x7fff);
	t_eq(f.uwrap, vhostctl_devq_base(f.q) >> 31);
	/* A single push is never batched: one buffer, one descriptor. */
	ids[0] = put(&f, 1, false);
	t_eq(1, pop(&f, 8));
	t_eq(0, vhostctl_devq_push(f.q, &f.e[0], 0));
	expect_used(&f, ids[0], 0, 1);
	t_true(f.uwrap);
	fx_fini(&f);
}

/* In-order or not, written lengths each keep their used descriptor. */
static void packed_rx_lengths(unsigned int flags)
{
	static const uint32_t lens[][4] = { { 12, 256, 1, 100 }, { 0, 0, 7, 0 } };
	struct fx f;
	uint16_t ids[4];

	fx_init(&f, true, 10, flags);
	for (unsigned int round = 0; round < 6; round++) {
		const uint32_t *w = lens[round & 1];

		for (int i = 0; i < 4; i++)
			ids[i] = put(&f, 1 + (round == 3 && i == 1), true);
		t_eq(4, pop(&f, 8));
		t_eq(4, vhostctl_devq_push_burst(f.q, f.e, w, 4));
		for (int i = 0; i < 4; i++)
			expect_used(&f, ids[i], w[i], f.e[i].ndesc);
	}
	fx_fini(&f);
}

/* Packed without IN_ORDER: a TX burst keeps one descriptor per buffer. */
static void packed_tx_not_in_order(void)
{
	struct fx f;
	uint16_t ids[5];

	fx_init(&f, true, 10, 0);
	for (unsigned int round = 0; round < 3; round++) {
		for (int i = 0; i < 5; i++)
			ids[i] = put(&f, 1, false);
		t_eq(5, pop(&f, 8));
		t_eq(5, vhostctl_devq_push_burst(f.q, f.e, NULL, 5));
		for (int i = 0; i < 5; i++)
			expect_used(&f, ids[i], 0, 1);
	}
	fx_fini(&f);
}

/* Split with IN_ORDER: every buffer its used entry, lengths kept, one index update. */
static void split_in_order(void)
{
	static const uint32_t w[5] = { 0, 0, 64, 0, 256 };
	uint16_t ids[5], start = 0;
	struct fx f;

	fx_init(&f, false, 16, VHOSTCTL_DEVQ_F_IN_ORDER);
	for (unsigned int round = 0; round < 8; round++) {
		for (int i = 0; i < 5; i++)
			ids[i] = put(&f, 1 + (i == 2), true);
		t_eq(5, pop(&f, 8));
		t_eq(5, vhostctl_devq_push_burst(f.q, f.e, round & 1 ? NULL : w, 5));
		t_eq(start, f.used->idx);
		t_eq(0, vhostctl_devq_flush(f.q) < 0);
		t_eq((uint16_t)(start + 5), f.used->idx);
		for (int i = 0; i < 5; i++) {
			struct vring_used_elem *u = &f.used->ring[(start + i) % 16];

			t_eq(ids[i], u->id);
			t_eq(round & 1 ? 0 : w[i], u->len);
		}
		start += 5;
	}
	fx_fini(&f);
}

/* Buffers given back do not count for vhostctl_devq_notify_more(); a new one does. */
static void notify_more(bool packed)
{
	uint16_t *avail_event, *dev_evt;
	struct fx f;

	fx_init(&f, packed, 16, VHOSTCTL_DEVQ_F_EVENT_IDX | VHOSTCTL_DEVQ_F_IN_ORDER);
	avail_event = (uint16_t *)&f.used->ring[16];
	dev_evt = (uint16_t *)f.used;
	for (int i = 0; i < 3; i++)
		put(&f, 1 + (i == 1), true);
	t_eq(3, pop(&f, 8));
	for (int i = 2; i >= 0; i--)
		t_eq(0, vhostctl_devq_unpop(f.q, &f.e[i]));
	/* The old call says "available", which the device cannot use: it would spin. */
	t_eq(1, vhostctl_devq_notify_enable(f.q, 1));
	t_eq(0, vhostctl_devq_notify_enable(f.q, 0));
	if (packed)
		t_eq(1, dev_evt[1]);	/* disabled */
	t_eq(0, vhostctl_devq_notify_more(f.q, f.e, 3));
	if (!packed)
		t_eq(3, *avail_event);	/* the driver's next addition (index 3) kicks */
	else
		t_eq(0, dev_evt[1]);	/* enabled: every addition kicks */
	t_eq(1, vhostctl_devq_notify_more(f.q, f.e, 2));	/* the third is beyond */
	put(&f, 1, true);
	t_eq(1, vhostctl_devq_notify_more(f.q, f.e, 3));
	t_eq(-EINVAL, vhostctl_devq_notify_more(NULL, f.e, 3));
	t_eq(-EINVAL, vhostctl_devq_notify_more(f.q, NULL, 3));
	t_eq(4, pop(&f, 8));
	fx_fini(&f);
}

int main(void)
{
	packed_tx_batches();
	packed_rx_lengths(VHOSTCTL_DEVQ_F_IN_ORDER);
	packed_rx_lengths(0);
	packed_tx_not_in_order();
	split_in_order();
	notify_more(false);
	notify_more(true);
	return 0;
}
