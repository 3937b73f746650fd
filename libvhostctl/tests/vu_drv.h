/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * A minimal virtio driver for the vhost-user tests: split and packed rings,
 * one descriptor per buffer, buffer id = slot of its data.  It plays the
 * guest against our backends and against peers' backends.
 */
#ifndef VU_DRV_H
#define VU_DRV_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#define VU_F_VERSION_1 (1ull << 32)
#define VU_F_RING_PACKED (1ull << 34)
#define VU_F_EVENT_IDX (1ull << 29)
#define VU_F_INDIRECT (1ull << 28)

struct drv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;	/* split: next; packed: id */
};

struct drv_pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct drv_q {
	bool packed;
	unsigned int num;
	struct drv_desc *desc;
	uint16_t *avail;	/* split avail ring, or packed driver event area */
	uint16_t *used;		/* split used ring, or packed device event area */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t next_avail;	/* split: avail idx; packed: next slot */
	bool avail_wrap;
	uint16_t last_used;
	bool used_wrap;
	int kick, call;
	uint8_t *bufs;
	uint64_t bufs_gpa;
	uint32_t bsz;
};

static inline int drv_q_init(struct drv_q *q, struct vhostctl_mem *mem, unsigned int num,
			     bool packed, uint32_t bsz)
{
	memset(q, 0, sizeof(*q));
	q->packed = packed;
	q->num = num;
	q->bsz = bsz;
	q->desc = vhostctl_mem_alloc(mem, 16ull * num, 4096, &q->desc_gpa);
	q->avail = vhostctl_mem_alloc(mem, packed ? 4 : 6 + 2ull * num, 64, &q->avail_gpa);
	q->used = vhostctl_mem_alloc(mem, packed ? 4 : 6 + 8ull * num, 64, &q->used_gpa);
	q->bufs = vhostctl_mem_alloc(mem, (uint64_t)bsz * num, 4096, &q->bufs_gpa);
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->avail_wrap = q->used_wrap = true;
	if (!q->desc || !q->avail || !q->used || !q->bufs || q->kick < 0 || q->call < 0)
		return -1;
	return 0;
}

static inline void drv_q_fini(struct drv_q *q)
{
	close(q->kick);
	close(q->call);
}

static inline uint8_t *drv_buf(struct drv_q *q, uint16_t id)
{
	return q->bufs + (size_t)id * q->bsz;
}

/* Post buffer id (device-writable if write) of len bytes; no kick. */
static inline void drv_add(struct drv_q *q, uint16_t id, uint32_t len, bool write)
{
	if (!q->packed) {
		struct drv_desc *d = &q->desc[id];

		d->addr = q->bufs_gpa + (uint64_t)id * q->bsz;
		d->len = len;
		d->flags = write ? 2 : 0;
		d->next = 0;
		q->avail[2 + (q->next_avail & (q->num - 1))] = id;
		q->next_avail++;
		__atomic_store_n(&q->avail[1], q->next_avail, __ATOMIC_RELEASE);
	} else {
		struct drv_pdesc *d = (struct drv_pdesc *)&q->desc[q->next_avail];
		uint16_t f = (write ? 2 : 0) | (q->avail_wrap ? (1u << 7) : (1u << 15));

		d->addr = q->bufs_gpa + (uint64_t)id * q->bsz;
		d->len = len;
		d->id = id;
		__atomic_store_n(&d->flags, f, __ATOMIC_RELEASE);
		if (++q->next_avail == q->num) {
			q->next_avail = 0;
			q->avail_wrap = !q->avail_wrap;
		}
	}
}

static inline void drv_kick(struct drv_q *q)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(q->kick, &one, 8) != 8) {
		/* counter full: a kick is pending anyway */
	}
}

/* Reap one used buffer: 1 with id/len, 0 if none. */
static inline int drv_used(struct drv_q *q, uint16_t *id, uint32_t *len)
{
	if (!q->packed) {
		uint16_t idx = __atomic_load_n(&q->used[1], __ATOMIC_ACQUIRE);
		uint32_t *e;

		if (idx == q->last_used)
			return 0;
		e = (uint32_t *)(q->used + 2) + 2 * (q->last_used & (q->num - 1));
		*id = (uint16_t)e[0];
		*len = e[1];
		q->last_used++;
		return 1;
	} else {
		struct drv_pdesc *d = (struct drv_pdesc *)&q->desc[q->last_used];
		uint16_t f = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);

		if (!!(f & (1u << 7)) != q->used_wrap || !!(f & (1u << 15)) != q->used_wrap)
			return 0;
		*id = d->id;
		*len = d->len;
		if (++q->last_used == q->num) {
			q->last_used = 0;
			q->used_wrap = !q->used_wrap;
		}
		return 1;
	}
}

/* Wait for the device's call, up to ms. */
static inline int drv_wait(struct drv_q *q, int ms)
{
	struct pollfd p = { .fd = q->call, .events = POLLIN };
	uint64_t v;
	int r;

	/* Event-idx: ask for a call at the next used entry (harmless without it). */
	if (!q->packed) {
		__atomic_store_n(&q->avail[2 + q->num], q->last_used, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&q->used[1], __ATOMIC_ACQUIRE) != q->last_used)
			return 1;
	}
	r = poll(&p, 1, ms);

	if (r > 0 && read(q->call, &v, 8) != 8)
		return -1;
	return r;
}

/* Set a ring up on a device handle: size, base, addresses, call, kick, enable. */
static inline int drv_setup(struct vhostctl_dev *dev, unsigned int index, struct drv_q *q)
{
	struct vhostctl_vring_addr a = {
		.index = index, .desc = q->desc_gpa, .avail = q->avail_gpa, .used = q->used_gpa,
	};
	int r;

	r = vhostctl_dev_set_vring_num(dev, index, q->num);
	if (!r)
		r = vhostctl_dev_set_vring_base(dev, index, q->packed ? 0x8000 : 0);
	if (!r)
		r = vhostctl_dev_set_vring_addr(dev, &a);
	if (!r)
		r = vhostctl_dev_set_vring_call(dev, index, q->call);
	if (!r)
		r = vhostctl_dev_set_vring_kick(dev, index, q->kick);
	if (!r)
		r = vhostctl_dev_set_vring_enable(dev, index, 1);
	return r;
}

/* A backend connecting to a frontend that is about to listen: run it in a thread. */
struct drv_connector {
	struct vhostctl_vu_backend *be;
	const char *path;
	int r;			/* 0, or why connecting (for 5 s) or starting failed */
};

static inline void *drv_connect_later(void *arg)
{
	struct drv_connector *c = arg;

	for (int i = 0; i < 500; i++) {
		c->r = vhostctl_vu_backend_connect(c->be, c->path);
		if (!c->r)
			break;
		usleep(10000);
	}
	if (!c->r)
		c->r = vhostctl_vu_backend_start(c->be);
	return NULL;
}

#endif
