// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The driver side of a split virtqueue (virtio 1.x section 2.7): what a
 * guest's virtio driver does.  The rings live in guest memory, which the
 * device (a kernel thread, another process) reads and writes concurrently:
 * every store the device must see in order, and every load of something the
 * device published, goes through the barriers below, each saying what it
 * orders.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_USED_F_NO_NOTIFY 1
#define VRING_AVAIL_F_NO_INTERRUPT 1

#define VQ_F_INDIRECT 28
#define VQ_F_EVENT_IDX 29
#define VQ_F_VERSION_1 32
#define VQ_MAX_NUM 32768u

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vq_head {
	void *token;		/* NULL when the head is not in flight */
	uint16_t ndesc;		/* ring descriptors the chain holds */
	uint16_t last;		/* its last ring descriptor */
};

/* Used by one thread at a time (the driver); the device runs concurrently. */
struct vhostctl_vq {
	struct vhostctl_mem *mem;
	unsigned int index;
	unsigned int num;
	bool event_idx;
	bool indirect;
	bool le;		/* VERSION_1: little endian; legacy: native */
	bool cb_enabled;

	struct vq_desc *desc;
	uint16_t *avail;	/* flags, idx, ring[num], used_event */
	uint16_t *used_hdr;	/* flags, idx; then the elements */
	struct vq_used_elem *used_ring;
	uint16_t *avail_event;	/* after the used ring */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	struct vq_desc *ind;	/* num tables of max_indirect entries */
	uint64_t ind_gpa;
	unsigned int max_indirect;

	/* Our own copy of the free list: the device may scribble on desc. */
	uint16_t *next;
	uint16_t free_head;
	unsigned int num_free;
	struct vq_head *heads;

	uint16_t avail_idx;	/* next slot to fill (published at kick) */
	uint16_t kicked_idx;	/* avail idx the device saw at the last kick */
	uint16_t last_used;	/* next used entry to reap */

	int kick_fd;
	int call_fd;
	struct vhostctl_vq_stats st;
};

static uint16_t cpu16(const struct vhostctl_vq *vq, uint16_t v)
{
	return vq->le ? htole16(v) : v;
}

static uint16_t from16(const struct vhostctl_vq *vq, uint16_t v)
{
	return vq->le ? le16toh(v) : v;
}

static uint32_t from32(const struct vhostctl_vq *vq, uint32_t v)
{
	return vq->le ? le32toh(v) : v;
}

static void vq_set_desc(const struct vhostctl_vq *vq, struct vq_desc *d, uint64_t addr,
			uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = vq->le ? htole64(addr) : addr;
	d->len = vq->le ? htole32(len) : len;
	d->flags = cpu16(vq, flags);
	d->next = cpu16(vq, next);
}

/* The device's used index, loaded with acquire: see vhostctl_vq_get_used(). */
static uint16_t vq_used_idx(const struct vhostctl_vq *vq)
{
	return from16(vq, __atomic_load_n(&vq->used_hdr[1], __ATOMIC_ACQUIRE));
}

VHC_EXPORT struct vhostctl_vq *vhostctl_vq_new(struct vhostctl_mem *mem, unsigned int index,
					       unsigned int num, uint64_t features,
					       const struct vhostctl_vq_opts *opts)
{
	struct vhostctl_vq_opts o;
	struct vhostctl_vq *vq;
	unsigned int align;
	uint8_t *used;
	int r;

	if (!mem || !num || num > VQ_MAX_NUM || (num & (num - 1))) {
		errno = EINVAL;
		return NULL;
	}
	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r) {
		errno = -r;
		return NULL;
	}
	vq = calloc(1, sizeof(*vq));
	if (!vq)
		return NULL;
	vq->kick_fd = vq->call_fd = -1;
	vq->mem = mem;
	vq->index = index;
	vq->num = num;
	vq->event_idx = features & (1ULL << VQ_F_EVENT_IDX);
	vq->indirect = features & (1ULL << VQ_F_INDIRECT);
	vq->le = features & (1ULL << VQ_F_VERSION_1);
	vq->max_indirect = o.max_indirect ? o.max_indirect : 32;
	/* Spec alignment: descriptors 16, avail 2, used 4 (legacy: a page). */
	align = o.used_align ? o.used_align : vq->le ? 4 : 4096;
	if (align & (align - 1) || align < 4 || vq->max_indirect > VQ_MAX_NUM)
		goto err_inval;

	vq->desc = vhostctl_mem_alloc(mem, 16ull * num, 16, &vq->desc_gpa);
	vq->avail = vhostctl_mem_alloc(mem, 6ull + 2ull * num, 2, &vq->avail_gpa);
	used = vhostctl_mem_alloc(mem, 6ull + 8ull * num, align, &vq->used_gpa);
	if (!vq->desc || !vq->avail || !used)
		goto err_nomem;
	vq->used_hdr = (uint16_t *)used;
	vq->used_ring = (struct vq_used_elem *)(used + 4);
	vq->avail_event = (uint16_t *)(used + 4 + 8ull * num);
	if (vq->indirect) {
		vq->ind = vhostctl_mem_alloc(mem, 16ull * num * vq->max_indirect, 16, &vq->ind_gpa);
		if (!vq->ind)
			goto err_nomem;
	}
	vq->next = calloc(num, sizeof(*vq->next));
	vq->heads = calloc(num, sizeof(*vq->heads));
	if (!vq->next || !vq->heads)
		goto err_nomem;
	for (unsigned int i = 0; i < num; i++)
		vq->next[i] = (uint16_t)(i + 1);
	vq->num_free = num;
	vq->cb_enabled = true;
	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0)
		goto err_errno;
	return vq;

err_inval:
	errno = EINVAL;
	goto err_errno;
err_nomem:
	errno = ENOMEM;
err_errno:
	vhostctl_vq_free(vq);
	return NULL;
}

VHC_EXPORT void vhostctl_vq_free(struct vhostctl_vq *vq)
{
	int e = errno;

	if (!vq)
		return;
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	free(vq->next);
	free(vq->heads);
	free(vq);
	errno = e;
}

VHC_EXPORT int vhostctl_vq_get_addr(const struct vhostctl_vq *vq, struct vhostctl_vring_addr *addr)
{
	if (!vq || !addr)
		return vhc_err(EINVAL);
	memset(addr, 0, sizeof(*addr));
	addr->index = vq->index;
	addr->desc = vq->desc_gpa;
	addr->avail = vq->avail_gpa;
	addr->used = vq->used_gpa;
	addr->log = vq->used_gpa;
	return 0;
}

VHC_EXPORT int vhostctl_vq_kick_fd(const struct vhostctl_vq *vq)
{
	return vq ? vq->kick_fd : vhc_err(EINVAL);
}

VHC_EXPORT int vhostctl_vq_call_fd(const struct vhostctl_vq *vq)
{
	return vq ? vq->call_fd : vhc_err(EINVAL);
}

VHC_EXPORT int vhostctl_vq_size(const struct vhostctl_vq *vq)
{
	return vq ? (int)vq->num : vhc_err(EINVAL);
}

VHC_EXPORT int vhostctl_vq_num_free(const struct vhostctl_vq *vq)
{
	return vq ? (int)vq->num_free : vhc_err(EINVAL);
}

VHC_EXPORT int vhostctl_vq_get_stats(const struct vhostctl_vq *vq, struct vhostctl_vq_stats *stats)
{
	if (!vq || !stats)
		return vhc_err(EINVAL);
	*stats = vq->st;
	return 0;
}

VHC_EXPORT int vhostctl_vq_attach(struct vhostctl_vq *vq, struct vhostctl_dev *dev,
				  unsigned int flags)
{
	struct vhostctl_vring_addr a;
	int r;

	if (!vq || !dev || flags & ~VHOSTCTL_VQ_ATTACH_LOG)
		return vhc_err(EINVAL);
	vhostctl_vq_get_addr(vq, &a);
	if (flags & VHOSTCTL_VQ_ATTACH_LOG)
		a.flags |= VHOSTCTL_VRING_F_LOG;
	r = vhostctl_dev_set_vring_num(dev, vq->index, vq->num);
	if (!r)
		r = vhostctl_dev_set_vring_base(dev, vq->index, vq->last_used);
	if (!r)
		r = vhostctl_dev_set_vring_addr(dev, &a);
	if (!r)
		r = vhostctl_dev_set_vring_kick(dev, vq->index, vq->kick_fd);
	if (!r)
		r = vhostctl_dev_set_vring_call(dev, vq->index, vq->call_fd);
	return r;
}

VHC_EXPORT int vhostctl_vq_add(struct vhostctl_vq *vq, const struct vhostctl_vq_buf *bufs,
			       unsigned int out, unsigned int in, void *token, unsigned int flags)
{
	unsigned int n = out + in, need, i;
	uint16_t head, d, last = 0;

	if (!vq || !bufs || !token || !n || n < out || flags & ~VHOSTCTL_VQ_ADD_INDIRECT)
		return vhc_err(EINVAL);
	for (i = 0; i < n; i++)
		if (!vhc_mem_gpa_to_hva(vq->mem, bufs[i].gpa, bufs[i].len ? bufs[i].len : 1))
			return vhc_err(EFAULT);
	if (flags & VHOSTCTL_VQ_ADD_INDIRECT) {
		if (!vq->indirect || n > vq->max_indirect)
			return vhc_err(EINVAL);
		need = 1;
	} else {
		need = n;
	}
	if (need > vq->num_free)
		return vhc_err(ENOSPC);

	head = vq->free_head;
	if (flags & VHOSTCTL_VQ_ADD_INDIRECT) {
		struct vq_desc *t = vq->ind + (size_t)head * vq->max_indirect;

		/* Table entries chain by their index in the table. */
		for (i = 0; i < n; i++)
			vq_set_desc(vq, &t[i], bufs[i].gpa, bufs[i].len,
				    (uint16_t)((i >= out ? VRING_DESC_F_WRITE : 0) |
					       (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
				    (uint16_t)(i + 1 < n ? i + 1 : 0));
		vq_set_desc(vq, &vq->desc[head],
			    vq->ind_gpa + 16ull * head * vq->max_indirect, 16u * n,
			    VRING_DESC_F_INDIRECT, 0);
		last = head;
	} else {
		d = head;
		for (i = 0; i < n; i++) {
			vq_set_desc(vq, &vq->desc[d], bufs[i].gpa, bufs[i].len,
				    (uint16_t)((i >= out ? VRING_DESC_F_WRITE : 0) |
					       (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
				    vq->next[d]);
			last = d;
			d = vq->next[d];
		}
	}
	vq->free_head = vq->next[last];
	vq->num_free -= need;
	vq->heads[head].token = token;
	vq->heads[head].ndesc = (uint16_t)need;
	vq->heads[head].last = last;

	/*
	 * The slot is written now but the device does not look at it before
	 * avail->idx moves past it, which vhostctl_vq_kick() does.
	 */
	vq->avail[2 + (vq->avail_idx & (vq->num - 1))] = cpu16(vq, head);
	vq->avail_idx++;
	vq->st.added++;
	return 0;
}

VHC_EXPORT int vhostctl_vq_kick(struct vhostctl_vq *vq)
{
	uint16_t new_idx, old_idx;
	bool notify;

	if (!vq)
		return vhc_err(EINVAL);
	new_idx = vq->avail_idx;
	old_idx = vq->kicked_idx;
	if (new_idx == old_idx)
		return 0;
	/*
	 * Release: the descriptors and avail ring slots written by
	 * vhostctl_vq_add() are visible before the new avail->idx that
	 * tells the device to read them (virtio's wmb before the index).
	 */
	__atomic_store_n(&vq->avail[1], cpu16(vq, new_idx), __ATOMIC_RELEASE);
	/*
	 * Full barrier: the avail->idx store above must be globally visible
	 * before we load the device's suppression state below (store->load).
	 * Otherwise the device could read the old index, decide to sleep
	 * and ask for a kick, while we read its stale "don't kick" state:
	 * both would wait forever.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t ev = from16(vq, __atomic_load_n(vq->avail_event, __ATOMIC_RELAXED));

		/* Kick iff ev is in [old_idx, new_idx): vring_need_event(). */
		notify = (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old_idx);
	} else {
		notify = !(from16(vq, __atomic_load_n(&vq->used_hdr[0], __ATOMIC_RELAXED)) &
			   VRING_USED_F_NO_NOTIFY);
	}
	vq->kicked_idx = new_idx;
	if (!notify) {
		vq->st.kicks_suppressed++;
		return 0;
	}
	if (eventfd_write(vq->kick_fd, 1) < 0)
		return vhc_err(errno);
	vq->st.kicks++;
	return 1;
}

/* Store where we want the next call: used_event, read by the device. */
static void vq_set_used_event(struct vhostctl_vq *vq, uint16_t v)
{
	__atomic_store_n(&vq->avail[2 + vq->num], cpu16(vq, v), __ATOMIC_RELAXED);
}

VHC_EXPORT int vhostctl_vq_get_used(struct vhostctl_vq *vq, uint32_t *len, void **token)
{
	struct vq_head *h;
	uint32_t id, l;
	uint16_t slot;

	if (!vq || !token)
		return vhc_err(EINVAL);
	/*
	 * Acquire on used->idx: the used element (and the data the device
	 * wrote into our buffers) is read only after the index that
	 * published it (virtio's rmb after reading the index).
	 */
	if (vq_used_idx(vq) == vq->last_used)
		return 0;
	slot = vq->last_used & (vq->num - 1);
	id = from32(vq, vq->used_ring[slot].id);
	l = from32(vq, vq->used_ring[slot].len);
	if (id >= vq->num || !vq->heads[id].token)
		return vhc_err(EIO);
	h = &vq->heads[id];
	*token = h->token;
	if (len)
		*len = l;
	h->token = NULL;
	vq->next[h->last] = vq->free_head;
	vq->free_head = (uint16_t)id;
	vq->num_free += h->ndesc;
	vq->last_used++;
	vq->st.used++;
	/*
	 * With callbacks on and EVENT_IDX, move used_event along so that the
	 * device signals at the next entry.  No barrier: a late store only
	 * delays a call, and vhostctl_vq_enable_cb() re-checks with a full
	 * barrier before anyone sleeps.
	 */
	if (vq->event_idx && vq->cb_enabled)
		vq_set_used_event(vq, vq->last_used);
	return 1;
}

VHC_EXPORT int vhostctl_vq_enable_cb(struct vhostctl_vq *vq)
{
	if (!vq)
		return vhc_err(EINVAL);
	vq->cb_enabled = true;
	if (vq->event_idx)
		vq_set_used_event(vq, vq->last_used);
	else
		__atomic_store_n(&vq->avail[0], cpu16(vq, 0), __ATOMIC_RELAXED);
	/*
	 * Full barrier: our used_event / flags store must be visible before
	 * we load used->idx (store->load), or the device may add an entry
	 * without seeing our request and we may miss it: a lost wake-up.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_used_idx(vq) != vq->last_used;
}

VHC_EXPORT void vhostctl_vq_disable_cb(struct vhostctl_vq *vq)
{
	if (!vq)
		return;
	vq->cb_enabled = false;
	/*
	 * A hint, so no barrier.  With EVENT_IDX the flag is ignored: move
	 * used_event half a ring-index space away instead.
	 */
	if (vq->event_idx)
		vq_set_used_event(vq, (uint16_t)(vq->last_used + 0x8000));
	else
		__atomic_store_n(&vq->avail[0], cpu16(vq, VRING_AVAIL_F_NO_INTERRUPT),
				 __ATOMIC_RELAXED);
}

static long long vq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

VHC_EXPORT int vhostctl_vq_wait(struct vhostctl_vq *vq, int timeout_ms)
{
	long long end = timeout_ms >= 0 ? vq_now_ms() + timeout_ms : 0;

	if (!vq)
		return vhc_err(EINVAL);
	for (;;) {
		struct pollfd p = { .fd = vq->call_fd, .events = POLLIN };
		eventfd_t v;
		int left = -1, r;

		if (vq_used_idx(vq) != vq->last_used || vhostctl_vq_enable_cb(vq))
			return 0;
		if (timeout_ms >= 0) {
			long long d = end - vq_now_ms();

			if (d <= 0)
				return vhc_err(ETIMEDOUT);
			left = (int)d;
		}
		r = poll(&p, 1, left);
		if (r < 0 && errno != EINTR)
			return vhc_err(errno);
		if (r > 0 && !eventfd_read(vq->call_fd, &v))
			vq->st.calls++;
	}
}
