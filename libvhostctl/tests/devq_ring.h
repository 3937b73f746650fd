/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The driver's side of a ring written by hand, for the device-queue tests:
 * descriptor flags, where the rings sit in the first region, and the two
 * writes a driver makes (a split avail entry, a packed descriptor).
 */
#ifndef DEVQ_RING_H
#define DEVQ_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4
#define P_AVAIL (1u << 7)
#define P_USED (1u << 15)

/* Offsets in region 0: the rings, indirect tables, then buffers. */
#define DESC_OFF 0x0000
#define AVAIL_OFF 0x1000
#define USED_OFF 0x2000
#define IND_OFF 0x3000
#define BUF_OFF 0x4000

/* Split: make descriptor @head available; *next is the avail index. */
static inline void ring_avail(uint16_t *avail, unsigned int num, uint16_t *next, uint16_t head)
{
	avail[2 + (*next & (num - 1))] = head;
	(*next)++;
	__atomic_store_n(&avail[1], *next, __ATOMIC_RELEASE);
}

/* Packed: write slot *next, available in the driver's wrap *wrap, and move on. */
static inline void ring_put(struct vring_packed_desc *pring, unsigned int num, uint16_t *next,
			    bool *wrap, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	struct vring_packed_desc *d = &pring[*next];

	d->addr = addr;
	d->len = len;
	d->id = id;
	flags |= *wrap ? P_AVAIL : P_USED;
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	if (++*next == num) {
		*next = 0;
		*wrap = !*wrap;
	}
}

#endif
