// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The driver side of a virtqueue, split (virtio 1.x section 2.7) and packed
 * (section 2.8) layouts: what a guest's virtio driver does.  The rings live
 * in guest memory, which the device (a kernel thread, another process) reads
 * and writes concurrently: every store the device must see in order, and
 * every load of something the device published, goes through the barriers
 * below, each saying what it orders.
 *
 * The layout follows the features: VIRTIO_F_RING_PACKED makes a packed
 * ring.  Packed: one ring of {u64 addr, u32 len, u16 id, u16 flags}; a
 * descriptor is available when its AVAIL flag (bit 7) equals the driver's
 * wrap counter and USED (bit 15) does not, used when both equal the
 * device's; the device returns a chain by its buffer id in the slot where
 * its next used entry goes, and the driver skips as many slots as that
 * chain took.  Event suppression areas {u16 off_wrap, u16 flags}: the
 * driver's (ours, read by the device) says when to call us, the device's
 * when to kick it.
 *
 * Whatever the device writes back (ids, lengths, flags) is untrusted: an id
 * not in flight or a length beyond the chain's writable bytes breaks the
 * queue (-EIO from then on) instead of being followed.
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
#define VRING_PACKED_F_AVAIL (1u << 7)
#define VRING_PACKED_F_USED (1u << 15)
/* Event suppression flags of the packed rings' event areas. */
#define VRING_EVT_ENABLE 0
#define VRING_EVT_DISABLE 1
#define VRING_EVT_DESC 2

#define VQ_F_INDIRECT 28
#define VQ_F_EVENT_IDX 29
#define VQ_F_VERSION_1 32
#define VQ_F_RING_PACKED 34
#define VQ_MAX_NUM 32768u

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One chain in flight, by split head index or packed buffer id. */
struct vq_head {
	void *token;		/* NULL when the head is not in flight */
	uint32_t in_len;	/* writable bytes: the most the device may report */
	uint16_t ndesc;		/* ring descriptors (packed: slots) the chain holds */
	uint16_t last;		/* split: its last ring descriptor */
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
	bool packed;
	bool broken;		/* the device wrote something impossible */

	struct vq_desc *desc;
	uint16_t *avail;	/* flags, idx, ring[num], used_event */
	uint16_t *used_hdr;	/* flags, idx; then the elements */
	struct vq_used_elem *used_ring;
	uint16_t *avail_event;	/* after the used ring */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	void *ind;		/* num tables of max_indirect entries */
	uint64_t ind_gpa;
	unsigned int max_indirect;

	/*
	 * Our own copy of the free list: the device may scribble on desc.
	 * Split: free descriptors; packed: free buffer ids (the ring slots
	 * are counted in num_free).
	 */
	uint16_t *next;
	uint16_t free_head;
	unsigned int num_free;
	struct vq_head *heads;

	uint16_t avail_idx;	/* next slot to fill (published at kick) */
	uint16_t kicked_idx;	/* avail idx the device saw at the last kick */
	uint16_t last_used;	/* next used entry to reap */

	/* packed: the ring, the event areas, where we are in the ring */
	struct vq_pdesc *pring;
	uint16_t *drv_evt;	/* ours: off_wrap, flags (when to call us) */
	uint16_t *dev_evt;	/* the device's: off_wrap, flags (when to kick it) */
	uint16_t *pend;		/* per slot: head flags still to publish, or 0 */
	bool avail_wrap;	/* wrap counter of slot avail_idx */
	bool used_wrap;		/* wrap counter of slot last_used */
	unsigned int pending;	/* slots added since the last kick */

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

/* A packed slot's flags in wrap counter @wrap: available (not used yet). */
static uint16_t pk_avail_flags(bool wrap)
{
	return wrap ? VRING_PACKED_F_AVAIL : VRING_PACKED_F_USED;
}

/*
 * Whether the device has returned the chain at our next used slot.  The
 * flags load is an acquire: the id and length (and the data the device
 * wrote into our buffers) are read only after the flags that published
 * them (virtio's rmb after the flags).
 */
static bool pk_used_ready(const struct vhostctl_vq *vq)
{
	uint16_t f = from16(vq, __atomic_load_n(&vq->pring[vq->last_used].flags,
						__ATOMIC_ACQUIRE));

	return !!(f & VRING_PACKED_F_AVAIL) == vq->used_wrap &&
	       !!(f & VRING_PACKED_F_USED) == vq->used_wrap;
}

/* Something to reap (split: with the acquire of vq_used_idx()). */
static bool vq_more_used(const struct vhostctl_vq *vq)
{
	return vq->packed ? pk_used_ready(vq) : vq_used_idx(vq) != vq->last_used;
}

/* Our driver event area's off_wrap: call us when the next used slot is written. */
static uint16_t pk_used_off_wrap(const struct vhostctl_vq *vq)
{
	return (uint16_t)(vq->last_used | (vq->used_wrap ? 0x8000 : 0));
}

/* The packed ring and its two event areas; the wrap counters start at 1. */
static int pk_alloc(struct vhostctl_vq *vq)
{
	unsigned int num = vq->num;

	vq->pring = vhostctl_mem_alloc(vq->mem, 16ull * num, 16, &vq->desc_gpa);
	vq->drv_evt = vhostctl_mem_alloc(vq->mem, 4, 4, &vq->avail_gpa);
	vq->dev_evt = vhostctl_mem_alloc(vq->mem, 4, 4, &vq->used_gpa);
	if (!vq->pring || !vq->drv_evt || !vq->dev_evt)
		return -ENOMEM;
	if (vq->indirect) {
		vq->ind = vhostctl_mem_alloc(vq->mem, 16ull * num * vq->max_indirect, 16,
					     &vq->ind_gpa);
		if (!vq->ind)
			return -ENOMEM;
	}
	vq->pend = calloc(num, sizeof(*vq->pend));
	if (!vq->pend)
		return -ENOMEM;
	vq->avail_wrap = vq->used_wrap = true;
	/* The memory is zeroed: no slot looks available or used in wrap 1. */
	if (vq->event_idx) {
		vq->drv_evt[0] = cpu16(vq, pk_used_off_wrap(vq));
		vq->drv_evt[1] = cpu16(vq, VRING_EVT_DESC);
	}
	return 0;
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

	/* Packed rings may have any size; split ones a power of two. */
	if (!mem || !num || num > VQ_MAX_NUM ||
	    (!(features & (1ULL << VQ_F_RING_PACKED)) && (num & (num - 1)))) {
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
	vq->packed = features & (1ULL << VQ_F_RING_PACKED);
	vq->max_indirect = o.max_indirect ? o.max_indirect : 32;
	/* Spec alignment: descriptors 16, avail 2, used 4 (legacy: a page). */
	align = o.used_align ? o.used_align : vq->le ? 4 : 4096;
	if (align & (align - 1) || align < 4 || vq->max_indirect > VQ_MAX_NUM)
		goto err_inval;
	/* A packed ring is a virtio 1.1 feature: there is no legacy one. */
	if (vq->packed && !vq->le)
		goto err_inval;
	if (vq->packed) {
		r = pk_alloc(vq);
		if (r)
			goto err_nomem;
		goto lists;
	}

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
lists:
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
	free(vq->pend);
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

/*
 * @owned_now: the caller has just made itself the owner of a kernel vhost
 * device (VHOST_SET_OWNER succeeded).  The kernel resets every ring at open
 * and at VHOST_RESET_OWNER, and SET_OWNER fails on a device that has an
 * owner, so each ring's base is 0 then: a split ring starting at 0 needs no
 * VHOST_SET_VRING_BASE.  vhost-vdpa and vhost-user devices keep their own
 * ring state and always get it.
 */
int vhc_vq_attach(struct vhostctl_vq *vq, struct vhostctl_dev *dev, unsigned int flags,
		  bool owned_now)
{
	struct vhostctl_vring_addr a;
	unsigned int base;
	bool skip_base;
	int r;

	if (!vq || !dev || flags & ~VHOSTCTL_VQ_ATTACH_LOG)
		return vhc_err(EINVAL);
	vhostctl_vq_get_addr(vq, &a);
	if (flags & VHOSTCTL_VQ_ATTACH_LOG)
		a.flags |= VHOSTCTL_VRING_F_LOG;
	/*
	 * Packed: bits 0-14 the next available slot, bit 15 its wrap counter,
	 * and the same for the next used slot in bits 16-31 (vhost's and
	 * vhost-vdpa's format; vhost-user reads the low half).  With nothing
	 * in flight both are our next used slot: 0x80008000 on a new queue.
	 */
	base = vq->packed ? pk_used_off_wrap(vq) * 0x10001u : vq->last_used;
	skip_base = owned_now && dev->transport == VHOSTCTL_TRANSPORT_KERNEL && !vq->packed &&
		    !base;
	r = vhostctl_dev_set_vring_num(dev, vq->index, vq->num);
	if (!r && !skip_base)
		r = vhostctl_dev_set_vring_base(dev, vq->index, base);
	if (!r)
		r = vhostctl_dev_set_vring_addr(dev, &a);
	/* Call before kick: a device may serve the ring as soon as it has the kick. */
	if (!r)
		r = vhostctl_dev_set_vring_call(dev, vq->index, vq->call_fd);
	if (!r)
		r = vhostctl_dev_set_vring_kick(dev, vq->index, vq->kick_fd);
	return r;
}

VHC_EXPORT int vhostctl_vq_attach(struct vhostctl_vq *vq, struct vhostctl_dev *dev,
				  unsigned int flags)
{
	return vhc_vq_attach(vq, dev, flags, false);
}

/* Writable bytes of a chain, saturated: the most a device may say it wrote. */
static uint32_t vq_in_len(const struct vhostctl_vq_buf *bufs, unsigned int out, unsigned int n)
{
	uint64_t sum = 0;

	for (unsigned int i = out; i < n; i++)
		sum += bufs[i].len;
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static void split_add(struct vhostctl_vq *vq, const struct vhostctl_vq_buf *bufs,
		      unsigned int out, unsigned int n, bool indirect, uint16_t *head_out,
		      uint16_t *last_out)
{
	uint16_t head = vq->free_head, d, last = 0;
	unsigned int i;

	if (indirect) {
		struct vq_desc *t = (struct vq_desc *)vq->ind + (size_t)head * vq->max_indirect;

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
	/*
	 * The slot is written now but the device does not look at it before
	 * avail->idx moves past it, which vhostctl_vq_kick() does.
	 */
	vq->avail[2 + (vq->avail_idx & (vq->num - 1))] = cpu16(vq, head);
	vq->avail_idx++;
	*head_out = head;
	*last_out = last;
}

/* One packed descriptor; its flags are stored too unless it heads the chain. */
static void pk_set_desc(struct vhostctl_vq *vq, uint16_t slot, uint64_t addr, uint32_t len,
			uint16_t id, uint16_t flags, bool head)
{
	struct vq_pdesc *d = &vq->pring[slot];

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->id = htole16(id);
	/*
	 * The head's flags hand the whole chain over: they wait for
	 * vhostctl_vq_kick().  The others may be stored now: the device
	 * reads them only after the head (its acquire of the head's flags).
	 */
	if (head)
		vq->pend[slot] = flags;
	else
		__atomic_store_n(&d->flags, htole16(flags), __ATOMIC_RELAXED);
}

static void pk_add(struct vhostctl_vq *vq, const struct vhostctl_vq_buf *bufs, unsigned int out,
		   unsigned int n, bool indirect, uint16_t id)
{
	uint16_t slot = vq->avail_idx;
	bool wrap = vq->avail_wrap;
	unsigned int i;

	if (indirect) {
		struct vq_pdesc *t = (struct vq_pdesc *)vq->ind + (size_t)id * vq->max_indirect;

		/* A packed table is read in order: no NEXT, no ids. */
		for (i = 0; i < n; i++) {
			t[i].addr = htole64(bufs[i].gpa);
			t[i].len = htole32(bufs[i].len);
			t[i].id = 0;
			t[i].flags = htole16(i >= out ? VRING_DESC_F_WRITE : 0);
		}
		pk_set_desc(vq, slot, vq->ind_gpa + 16ull * id * vq->max_indirect, 16u * n, id,
			    (uint16_t)(VRING_DESC_F_INDIRECT | pk_avail_flags(wrap)), true);
		n = 1;
	} else {
		for (i = 0; i < n; i++) {
			pk_set_desc(vq, slot, bufs[i].gpa, bufs[i].len, id,
				    (uint16_t)((i >= out ? VRING_DESC_F_WRITE : 0) |
					       (i + 1 < n ? VRING_DESC_F_NEXT : 0) |
					       pk_avail_flags(wrap)),
				    i == 0);
			if (++slot == vq->num) {
				slot = 0;
				wrap = !wrap;
			}
		}
	}
	if (indirect && ++slot == vq->num) {
		slot = 0;
		wrap = !wrap;
	}
	vq->avail_idx = slot;
	vq->avail_wrap = wrap;
	vq->pending += n;
}

VHC_EXPORT int vhostctl_vq_add(struct vhostctl_vq *vq, const struct vhostctl_vq_buf *bufs,
			       unsigned int out, unsigned int in, void *token, unsigned int flags)
{
	unsigned int n = out + in, need, i;
	bool indirect = flags & VHOSTCTL_VQ_ADD_INDIRECT;
	uint16_t head, last = 0;
	struct vq_head *h;

	if (!vq || !bufs || !token || !n || n < out || flags & ~VHOSTCTL_VQ_ADD_INDIRECT)
		return vhc_err(EINVAL);
	if (vq->broken)
		return vhc_err(EIO);
	for (i = 0; i < n; i++)
		if (!vhc_mem_gpa_to_hva(vq->mem, bufs[i].gpa, bufs[i].len ? bufs[i].len : 1))
			return vhc_err(EFAULT);
	if (indirect) {
		if (!vq->indirect || n > vq->max_indirect)
			return vhc_err(EINVAL);
		need = 1;
	} else {
		need = n;
	}
	if (need > vq->num_free)
		return vhc_err(ENOSPC);

	if (vq->packed) {
		/* Ids never run out first: every chain takes a slot or more. */
		head = vq->free_head;
		vq->free_head = vq->next[head];
		pk_add(vq, bufs, out, n, indirect, head);
	} else {
		split_add(vq, bufs, out, n, indirect, &head, &last);
	}
	vq->num_free -= need;
	h = &vq->heads[head];
	h->token = token;
	h->ndesc = (uint16_t)need;
	h->last = last;
	h->in_len = vq_in_len(bufs, out, n);
	vq->st.added++;
	return 0;
}

/* Kick iff the event index is in [old, new): vring_need_event(). */
static bool vq_need_event(uint16_t ev, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old_idx);
}

/*
 * Publish the heads added since the last kick, in ring order, and decide
 * from the device event area whether to signal.
 */
static bool pk_kick_publish(struct vhostctl_vq *vq)
{
	uint16_t slot, flags, off_wrap, ev, new_idx = vq->avail_idx, old_idx;

	/* The first slot added since the last kick (pending <= num). */
	slot = (uint16_t)((vq->avail_idx + vq->num - vq->pending) % vq->num);
	for (unsigned int i = 0; i < vq->pending; i++) {
		if (vq->pend[slot]) {
			/*
			 * Release: the chain's descriptors (and the data in
			 * its buffers) are visible before the head flags that
			 * make them available (virtio's wmb before the flags).
			 */
			__atomic_store_n(&vq->pring[slot].flags, htole16(vq->pend[slot]),
					 __ATOMIC_RELEASE);
			vq->pend[slot] = 0;
		}
		if (++slot == vq->num)
			slot = 0;
	}
	/*
	 * Full barrier: the flags stores above must be globally visible
	 * before we load the device's event area below (store->load), or
	 * the device could miss the new chains, ask for a kick, and we read
	 * its stale "don't kick": both would wait forever.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = le16toh(__atomic_load_n(&vq->dev_evt[1], __ATOMIC_RELAXED));
	if (flags != VRING_EVT_DESC || !vq->event_idx)
		return flags != VRING_EVT_DISABLE;
	/*
	 * Slots on one line: this lap's slot s is s, the last lap's s - num;
	 * all in 16-bit arithmetic, which a queue of at most 32768 allows.
	 */
	off_wrap = le16toh(__atomic_load_n(&vq->dev_evt[0], __ATOMIC_RELAXED));
	ev = off_wrap & 0x7fff;
	if (!!(off_wrap & 0x8000) != vq->avail_wrap)
		ev = (uint16_t)(ev - vq->num);
	old_idx = (uint16_t)(new_idx - vq->pending);
	return vq_need_event(ev, new_idx, old_idx);
}

static bool split_kick_publish(struct vhostctl_vq *vq)
{
	uint16_t new_idx = vq->avail_idx, old_idx = vq->kicked_idx;

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
	vq->kicked_idx = new_idx;
	if (vq->event_idx)
		return vq_need_event(from16(vq, __atomic_load_n(vq->avail_event,
								__ATOMIC_RELAXED)),
				     new_idx, old_idx);
	return !(from16(vq, __atomic_load_n(&vq->used_hdr[0], __ATOMIC_RELAXED)) &
		 VRING_USED_F_NO_NOTIFY);
}

VHC_EXPORT int vhostctl_vq_kick(struct vhostctl_vq *vq)
{
	bool notify;

	if (!vq)
		return vhc_err(EINVAL);
	if (vq->broken)
		return vhc_err(EIO);
	if (vq->packed ? !vq->pending : vq->avail_idx == vq->kicked_idx)
		return 0;
	if (vq->packed) {
		notify = pk_kick_publish(vq);
		vq->pending = 0;
	} else {
		notify = split_kick_publish(vq);
	}
	if (!notify) {
		vq->st.kicks_suppressed++;
		return 0;
	}
	if (eventfd_write(vq->kick_fd, 1) < 0)
		return vhc_err(errno);
	vq->st.kicks++;
	return 1;
}

/*
 * Store where we want the next call: split used_event, packed off_wrap of
 * our event area; read by the device.
 */
static void vq_set_used_event(struct vhostctl_vq *vq)
{
	if (vq->packed)
		__atomic_store_n(&vq->drv_evt[0], htole16(pk_used_off_wrap(vq)),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->avail[2 + vq->num], cpu16(vq, vq->last_used),
				 __ATOMIC_RELAXED);
}

/* The device said something impossible: stop trusting the queue. */
static int vq_break(struct vhostctl_vq *vq)
{
	vq->broken = true;
	return vhc_err(EIO);
}

static int pk_get_used(struct vhostctl_vq *vq, uint32_t *id, uint32_t *len)
{
	struct vq_pdesc *d = &vq->pring[vq->last_used];
	unsigned int next;
	struct vq_head *h;

	if (!pk_used_ready(vq))
		return 0;
	/* After the acquire in pk_used_ready(); each field read once. */
	*id = le16toh(__atomic_load_n(&d->id, __ATOMIC_RELAXED));
	*len = le32toh(__atomic_load_n(&d->len, __ATOMIC_RELAXED));
	if (*id >= vq->num || !vq->heads[*id].token || *len > vq->heads[*id].in_len)
		return vq_break(vq);
	h = &vq->heads[*id];
	/* The device wrote this chain's used entry here and skips its slots. */
	next = vq->last_used + h->ndesc;
	if (next >= vq->num) {
		next -= vq->num;
		vq->used_wrap = !vq->used_wrap;
	}
	vq->last_used = (uint16_t)next;
	vq->next[*id] = vq->free_head;
	vq->free_head = (uint16_t)*id;
	return 1;
}

static int split_get_used(struct vhostctl_vq *vq, uint32_t *id, uint32_t *len)
{
	struct vq_head *h;
	uint16_t slot;

	/*
	 * Acquire on used->idx: the used element (and the data the device
	 * wrote into our buffers) is read only after the index that
	 * published it (virtio's rmb after reading the index).
	 */
	if (vq_used_idx(vq) == vq->last_used)
		return 0;
	slot = vq->last_used & (vq->num - 1);
	*id = from32(vq, vq->used_ring[slot].id);
	*len = from32(vq, vq->used_ring[slot].len);
	if (*id >= vq->num || !vq->heads[*id].token || *len > vq->heads[*id].in_len)
		return vq_break(vq);
	h = &vq->heads[*id];
	vq->next[h->last] = vq->free_head;
	vq->free_head = (uint16_t)*id;
	vq->last_used++;
	return 1;
}

VHC_EXPORT int vhostctl_vq_get_used(struct vhostctl_vq *vq, uint32_t *len, void **token)
{
	struct vq_head *h;
	uint32_t id, l;
	int r;

	if (!vq || !token)
		return vhc_err(EINVAL);
	if (vq->broken)
		return vhc_err(EIO);
	r = vq->packed ? pk_get_used(vq, &id, &l) : split_get_used(vq, &id, &l);
	if (r <= 0)
		return r;
	h = &vq->heads[id];
	*token = h->token;
	if (len)
		*len = l;
	h->token = NULL;
	vq->num_free += h->ndesc;
	vq->st.used++;
	/*
	 * With callbacks on and EVENT_IDX, move the event along so that the
	 * device signals at the next entry.  No barrier: a late store only
	 * delays a call, and vhostctl_vq_enable_cb() re-checks with a full
	 * barrier before anyone sleeps.
	 */
	if (vq->event_idx && vq->cb_enabled)
		vq_set_used_event(vq);
	return 1;
}

VHC_EXPORT int vhostctl_vq_enable_cb(struct vhostctl_vq *vq)
{
	if (!vq)
		return vhc_err(EINVAL);
	vq->cb_enabled = true;
	if (vq->packed) {
		if (vq->event_idx)
			vq_set_used_event(vq);
		/*
		 * Release: with EVENT_IDX, off_wrap is visible before the
		 * flags that tell the device to read it.
		 */
		__atomic_store_n(&vq->drv_evt[1],
				 htole16(vq->event_idx ? VRING_EVT_DESC : VRING_EVT_ENABLE),
				 __ATOMIC_RELEASE);
	} else if (vq->event_idx) {
		vq_set_used_event(vq);
	} else {
		__atomic_store_n(&vq->avail[0], cpu16(vq, 0), __ATOMIC_RELAXED);
	}
	/*
	 * Full barrier: our event / flags store must be visible before we
	 * load the used state (store->load), or the device may add an entry
	 * without seeing our request and we may miss it: a lost wake-up.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_more_used(vq);
}

VHC_EXPORT void vhostctl_vq_disable_cb(struct vhostctl_vq *vq)
{
	if (!vq)
		return;
	vq->cb_enabled = false;
	/*
	 * A hint, so no barrier.  Packed: DISABLE, whatever EVENT_IDX.  Split
	 * with EVENT_IDX ignores the flag: move used_event half a
	 * ring-index space away instead.
	 */
	if (vq->packed)
		__atomic_store_n(&vq->drv_evt[1], htole16(VRING_EVT_DISABLE), __ATOMIC_RELAXED);
	else if (vq->event_idx)
		__atomic_store_n(&vq->avail[2 + vq->num],
				 cpu16(vq, (uint16_t)(vq->last_used + 0x8000)), __ATOMIC_RELAXED);
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

		if (vq->broken)
			return vhc_err(EIO);
		if (vq_more_used(vq) || vhostctl_vq_enable_cb(vq))
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
