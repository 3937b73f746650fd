// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim: device side of split and packed virtqueues.
 *
 * Every ring and buffer access goes through the IOTLB of the address space
 * the queue's group is attached to. Nothing read from the ring is trusted:
 * indexes are bounds-checked, chains are bounded by the ring size, indirect
 * tables by VSIM_MAX_INDIRECT, and any violation is reported to the caller,
 * which marks the device NEEDS_RESET and stops the queue.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>
#include <linux/virtio_ring.h>
#include "vsim.h"

/* Copies to or from a physical range, one page at a time. */
static int vsim_xfer_pa(u64 pa, void *buf, u32 len, bool write)
{
	while (len) {
		unsigned long pfn = pa >> PAGE_SHIFT;
		u32 off = offset_in_page(pa);
		u32 chunk = min_t(u32, len, PAGE_SIZE - off);
		void *va;

		if (!pfn_valid(pfn))
			return -EFAULT;
		va = kmap_local_page(pfn_to_page(pfn));
		if (write)
			memcpy(va + off, buf, chunk);
		else
			memcpy(buf, va + off, chunk);
		kunmap_local(va);
		pa += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static int vsim_xfer(struct vsim_dev *dev, u32 asid, u64 iova, void *buf,
		     u32 len, bool write)
{
	struct vhost_iotlb *iotlb;
	u64 end;

	if (!len)
		return 0;
	if (check_add_overflow(iova, (u64)len - 1, &end))
		return -EFAULT;
	if (asid >= dev->nas)
		return -EFAULT;
	asid = array_index_nospec(asid, dev->nas);
	if (dev->as_pt[asid]) {
		if (!dev->pt_allowed)
			return -EFAULT;
		return vsim_xfer_pa(iova, buf, len, write);
	}

	iotlb = &dev->iotlb[asid];
	while (len) {
		struct vhost_iotlb_map *map;
		u64 addr, chunk;
		int ret;

		map = vhost_iotlb_itree_first(iotlb, iova, iova);
		if (!map)
			return -EFAULT;
		if (!(map->perm & (write ? VHOST_MAP_WO : VHOST_MAP_RO)))
			return -EFAULT;
		/* map->last - iova cannot overflow; + 1 could. */
		if (map->last - iova >= (u64)len - 1)
			chunk = len;
		else
			chunk = map->last - iova + 1;
		addr = map->addr + (iova - map->start);

		if (dev->vdpa.use_va) {
			void __user *uaddr = (void __user *)(uintptr_t)addr;

			if (!dev->mm_active)
				return -EFAULT;
			if (write)
				ret = copy_to_user(uaddr, buf, chunk);
			else
				ret = copy_from_user(buf, uaddr, chunk);
			if (ret)
				return -EFAULT;
		} else {
			ret = vsim_xfer_pa(addr, buf, chunk, write);
			if (ret)
				return ret;
		}
		iova += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static u32 vsim_ring_asid(struct vsim_dev *dev, u16 vq_idx)
{
	u32 group = dev->cls->vq_desc_group(dev, vq_idx);

	if (group >= dev->ngroups)
		return U32_MAX;
	return dev->group_asid[array_index_nospec(group, dev->ngroups)];
}

static u32 vsim_data_asid(struct vsim_dev *dev, u16 vq_idx)
{
	u32 group = dev->cls->vq_group(dev, vq_idx);

	if (group >= dev->ngroups)
		return U32_MAX;
	return dev->group_asid[array_index_nospec(group, dev->ngroups)];
}

/*
 * A ring index, flags word or event: one 16-bit access. The driver writes
 * these while we read them (and reads ours while we write), and
 * copy_from_user() or memcpy() may move a byte at a time (rep movsb): a
 * torn avail index, the low byte new and the high byte old, looks like a
 * ring 65000 entries ahead, and the queue was stopped as malformed. An
 * unaligned word, or one split between two mappings, goes the byte way:
 * no driver puts one there.
 */
static int vsim_xfer16(struct vsim_dev *dev, u32 asid, u64 iova, __le16 *v,
		       bool write)
{
	struct vhost_iotlb_map *map;
	unsigned long pfn;
	__le16 *p;
	void *va;
	u64 addr;

	if ((iova & 1) || iova == U64_MAX || asid >= dev->nas)
		return vsim_xfer(dev, asid, iova, v, sizeof(*v), write);
	asid = array_index_nospec(asid, dev->nas);
	if (dev->as_pt[asid]) {
		if (!dev->pt_allowed)
			return -EFAULT;
		addr = iova;
	} else {
		map = vhost_iotlb_itree_first(&dev->iotlb[asid], iova, iova);
		if (!map || map->last < iova + 1)
			return vsim_xfer(dev, asid, iova, v, sizeof(*v), write);
		if (!(map->perm & (write ? VHOST_MAP_WO : VHOST_MAP_RO)))
			return -EFAULT;
		addr = map->addr + (iova - map->start);
		if (addr & 1)
			return vsim_xfer(dev, asid, iova, v, sizeof(*v), write);
		if (dev->vdpa.use_va) {
			__le16 __user *u = (__le16 __user *)(uintptr_t)addr;

			if (!dev->mm_active)
				return -EFAULT;
			if (write)
				return put_user(*v, u) ? -EFAULT : 0;
			return get_user(*v, u) ? -EFAULT : 0;
		}
	}
	/* an aligned word never crosses a page */
	pfn = addr >> PAGE_SHIFT;
	if (!pfn_valid(pfn))
		return -EFAULT;
	va = kmap_local_page(pfn_to_page(pfn));
	p = va + offset_in_page(addr);
	if (write)
		WRITE_ONCE(*p, *v);
	else
		*v = READ_ONCE(*p);
	kunmap_local(va);
	return 0;
}

static int vsim_read16(struct vsim_dev *dev, u32 asid, u64 addr, u16 *val)
{
	__le16 v;
	int ret;

	ret = vsim_xfer16(dev, asid, addr, &v, false);
	if (!ret)
		*val = le16_to_cpu(v);
	return ret;
}

static int vsim_write16(struct vsim_dev *dev, u32 asid, u64 addr, u16 val)
{
	__le16 v = cpu_to_le16(val);

	return vsim_xfer16(dev, asid, addr, &v, true);
}

static int vsim_add_seg(struct vsim_req *req, u64 addr, u32 len, bool write)
{
	unsigned int n = req->nout + req->nin;
	u64 end;

	if (!len)
		return 0;
	if (n >= VSIM_MAX_SEGS)
		return -E2BIG;
	/* Device-readable segments must precede device-writable ones. */
	if (!write && req->nin)
		return -EINVAL;
	if (check_add_overflow(addr, (u64)len - 1, &end))
		return -EOVERFLOW;
	req->segs[n].addr = addr;
	req->segs[n].len = len;
	if (write) {
		req->nin++;
		req->in_len += len;
	} else {
		req->nout++;
		req->out_len += len;
	}
	return 0;
}

static void vsim_req_clear(struct vsim_req *req)
{
	req->nout = 0;
	req->nin = 0;
	req->out_len = 0;
	req->in_len = 0;
	req->cur_seg = 0;
	req->cur_off = 0;
	req->wcur_seg = 0;
	req->wcur_off = 0;
	req->written = 0;
	req->ndesc = 0;
}

/*
 * Indirect tables hold split (addr, len, flags, next) or packed
 * (addr, len, id, flags) descriptors; both are 16 bytes.
 */
static int vsim_walk_indirect(struct vsim_dev *dev, u32 asid, bool packed,
			      u64 table, u32 len, struct vsim_req *req)
{
	unsigned int n, i = 0, count = 0;

	if (!len || len % sizeof(struct vring_desc))
		return -EINVAL;
	n = len / sizeof(struct vring_desc);
	if (n > VSIM_MAX_INDIRECT)
		return -E2BIG;

	for (;;) {
		u64 daddr;
		u32 dlen;
		u16 flags;
		int ret;

		if (++count > n)
			return -ELOOP;
		if (packed) {
			struct vring_packed_desc d;

			ret = vsim_xfer(dev, asid, table + i * sizeof(d), &d,
					sizeof(d), false);
			if (ret)
				return ret;
			daddr = le64_to_cpu(d.addr);
			dlen = le32_to_cpu(d.len);
			flags = le16_to_cpu(d.flags);
		} else {
			struct vring_desc d;

			ret = vsim_xfer(dev, asid, table + i * sizeof(d), &d,
					sizeof(d), false);
			if (ret)
				return ret;
			daddr = le64_to_cpu(d.addr);
			dlen = le32_to_cpu(d.len);
			flags = le16_to_cpu(d.flags);
			i = le16_to_cpu(d.next);
		}
		if (flags & VRING_DESC_F_INDIRECT)
			return -EINVAL;
		ret = vsim_add_seg(req, daddr, dlen,
				   flags & VRING_DESC_F_WRITE);
		if (ret)
			return ret;
		if (packed) {
			/* Packed indirect tables have no chaining: use all. */
			if (count == n)
				return 0;
			i = count;
			continue;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		if (i >= n)
			return -EINVAL;
	}
}

static int vsim_split_pop(struct vsim_dev *dev, struct vsim_vq *vq, u32 ras,
			  struct vsim_req *req)
{
	u16 avail_idx, head, i;
	unsigned int count = 0;
	int ret;

	ret = vsim_read16(dev, ras, vq->driver_addr + 2, &avail_idx);
	if (ret)
		return ret;
	if (avail_idx == vq->last_avail_idx) {
		if (!vq->event_idx)
			return 0;
		/* Ask for a kick at the next buffer, then look again. */
		ret = vsim_write16(dev, ras, vq->device_addr + 4 +
				   vq->num * sizeof(struct vring_used_elem),
				   vq->last_avail_idx);
		if (ret)
			return ret;
		/* Orders the avail_event write before the avail idx re-read. */
		smp_mb();
		ret = vsim_read16(dev, ras, vq->driver_addr + 2, &avail_idx);
		if (ret)
			return ret;
		if (avail_idx == vq->last_avail_idx)
			return 0;
	}
	if ((u16)(avail_idx - vq->last_avail_idx) > vq->num)
		return -EINVAL;
	/* Orders the avail idx read before the ring entry and descriptors. */
	smp_rmb();

	ret = vsim_read16(dev, ras, vq->driver_addr + 4 +
			  (vq->last_avail_idx & (vq->num - 1)) * 2, &head);
	if (ret)
		return ret;
	if (head >= vq->num)
		return -EINVAL;

	vsim_req_clear(req);
	i = head;
	for (;;) {
		struct vring_desc d;
		u16 flags;

		if (++count > vq->num)
			return -ELOOP;
		ret = vsim_xfer(dev, ras, vq->desc_addr + (u64)i * sizeof(d),
				&d, sizeof(d), false);
		if (ret)
			return ret;
		flags = le16_to_cpu(d.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (flags & VRING_DESC_F_NEXT)
				return -EINVAL;
			ret = vsim_walk_indirect(dev, ras, false,
						 le64_to_cpu(d.addr),
						 le32_to_cpu(d.len), req);
			if (ret)
				return ret;
			break;
		}
		ret = vsim_add_seg(req, le64_to_cpu(d.addr),
				   le32_to_cpu(d.len),
				   flags & VRING_DESC_F_WRITE);
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = le16_to_cpu(d.next);
		if (i >= vq->num)
			return -EINVAL;
	}
	req->id = head;
	vq->last_avail_idx++;
	return 1;
}

static int vsim_packed_pop(struct vsim_dev *dev, struct vsim_vq *vq, u32 ras,
			   struct vsim_req *req)
{
	struct vring_packed_desc d;
	unsigned int count = 0;
	u16 idx = vq->last_avail_idx, flags, id;
	bool wrap = vq->avail_wrap, avail, used;
	int ret;

	if (idx >= vq->num)
		return -EINVAL;
	ret = vsim_xfer(dev, ras, vq->desc_addr + (u64)idx * sizeof(d), &d,
			sizeof(d), false);
	if (ret)
		return ret;
	flags = le16_to_cpu(d.flags);
	avail = flags & BIT(VRING_PACKED_DESC_F_AVAIL);
	used = flags & BIT(VRING_PACKED_DESC_F_USED);
	if (avail != wrap || used == wrap)
		return 0;
	/* Orders the flags read before the rest of the descriptor. */
	smp_rmb();
	ret = vsim_xfer(dev, ras, vq->desc_addr + (u64)idx * sizeof(d), &d,
			sizeof(d), false);
	if (ret)
		return ret;

	vsim_req_clear(req);
	for (;;) {
		flags = le16_to_cpu(d.flags);
		id = le16_to_cpu(d.id);
		if (++count > vq->num)
			return -ELOOP;
		if (flags & VRING_DESC_F_INDIRECT) {
			if (flags & VRING_DESC_F_NEXT)
				return -EINVAL;
			ret = vsim_walk_indirect(dev, ras, true,
						 le64_to_cpu(d.addr),
						 le32_to_cpu(d.len), req);
		} else {
			ret = vsim_add_seg(req, le64_to_cpu(d.addr),
					   le32_to_cpu(d.len),
					   flags & VRING_DESC_F_WRITE);
		}
		if (ret)
			return ret;
		if (++idx >= vq->num) {
			idx = 0;
			wrap = !wrap;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		ret = vsim_xfer(dev, ras, vq->desc_addr + (u64)idx * sizeof(d),
				&d, sizeof(d), false);
		if (ret)
			return ret;
	}
	req->id = id;
	req->ndesc = count;
	vq->last_avail_idx = idx;
	vq->avail_wrap = wrap;
	return 1;
}

/*
 * vsim_pop - take the next available request of a queue
 * Return: 1 with @req filled, 0 if the queue is empty, -errno if the ring
 * is malformed (the caller must then stop the queue).
 */
int vsim_pop(struct vsim_dev *dev, struct vsim_vq *vq, u16 vq_idx,
	     struct vsim_req *req)
{
	u32 ras = vsim_ring_asid(dev, vq_idx);

	if (!vq->ready || vq->broken || !vq->num)
		return 0;
	if (vq->num > VSIM_VQ_NUM_MAX)
		return -EINVAL;
	if (vq->packed)
		return vsim_packed_pop(dev, vq, ras, req);
	if (!is_power_of_2(vq->num))
		return -EINVAL;
	return vsim_split_pop(dev, vq, ras, req);
}

static int vsim_split_push(struct vsim_dev *dev, struct vsim_vq *vq, u32 ras,
			   struct vsim_req *req, u32 len)
{
	struct vring_used_elem e = {
		.id = cpu_to_le32(req->id),
		.len = cpu_to_le32(len),
	};
	u16 old = vq->used_idx, event, flags;
	int ret;

	ret = vsim_xfer(dev, ras, vq->device_addr + 4 +
			(old & (vq->num - 1)) * sizeof(e), &e, sizeof(e), true);
	if (ret)
		return ret;
	/* Orders the used element before the used idx that publishes it. */
	smp_wmb();
	vq->used_idx++;
	ret = vsim_write16(dev, ras, vq->device_addr + 2, vq->used_idx);
	if (ret)
		return ret;
	/* Orders the used idx write before reading the driver's event. */
	smp_mb();
	if (vq->event_idx) {
		ret = vsim_read16(dev, ras, vq->driver_addr + 4 + vq->num * 2,
				  &event);
		if (ret)
			return ret;
		if (vring_need_event(event, vq->used_idx, old))
			vq->need_notify = true;
	} else {
		ret = vsim_read16(dev, ras, vq->driver_addr, &flags);
		if (ret)
			return ret;
		if (!(flags & VRING_AVAIL_F_NO_INTERRUPT))
			vq->need_notify = true;
	}
	return 0;
}

static int vsim_packed_push(struct vsim_dev *dev, struct vsim_vq *vq, u32 ras,
			    struct vsim_req *req, u32 len)
{
	struct {
		__le32 len;
		__le16 id;
	} __packed e = {
		.len = cpu_to_le32(len),
		.id = cpu_to_le16(req->id),
	};
	u64 slot = vq->desc_addr + (u64)vq->used_idx * 16;
	u16 old = vq->used_idx, flags = 0, event[2];
	u32 next;
	bool wrapped = false;
	int ret;

	if (vq->used_idx >= vq->num)
		return -EINVAL;
	ret = vsim_xfer(dev, ras, slot + 8, &e, sizeof(e), true);
	if (ret)
		return ret;
	if (vq->used_wrap)
		flags = BIT(VRING_PACKED_DESC_F_AVAIL) |
			BIT(VRING_PACKED_DESC_F_USED);
	/* Orders id and len before the flags that hand the slot back. */
	smp_wmb();
	ret = vsim_write16(dev, ras, slot + 14, flags);
	if (ret)
		return ret;
	next = vq->used_idx + max_t(u16, req->ndesc, 1);
	if (next >= vq->num) {
		next -= vq->num;
		vq->used_wrap = !vq->used_wrap;
		wrapped = true;
	}
	vq->used_idx = next;

	/* Orders the used flags write before reading the driver's event. */
	smp_mb();
	ret = vsim_read16(dev, ras, vq->driver_addr, &event[0]);
	if (!ret)
		ret = vsim_read16(dev, ras, vq->driver_addr + 2, &event[1]);
	if (ret)
		return ret;
	switch (event[1]) {
	case VRING_PACKED_EVENT_FLAG_DISABLE:
		break;
	case VRING_PACKED_EVENT_FLAG_DESC:
		if (vq->event_idx && !wrapped) {
			u16 off = event[0] & ~BIT(VRING_PACKED_EVENT_F_WRAP_CTR);
			bool ewrap = event[0] & BIT(VRING_PACKED_EVENT_F_WRAP_CTR);

			if (ewrap != vq->used_wrap)
				off -= vq->num;
			if (vring_need_event(off, vq->used_idx, old))
				vq->need_notify = true;
			break;
		}
		fallthrough;
	default:
		vq->need_notify = true;
		break;
	}
	return 0;
}

/*
 * vsim_push - complete a request popped by vsim_pop()
 * @len: bytes written into the request's device-writable segments
 */
int vsim_push(struct vsim_dev *dev, struct vsim_vq *vq, u16 vq_idx,
	      struct vsim_req *req, u32 len)
{
	u32 ras = vsim_ring_asid(dev, vq_idx);

	if (vq->packed)
		return vsim_packed_push(dev, vq, ras, req, len);
	return vsim_split_push(dev, vq, ras, req, len);
}

/* Calls the driver's interrupt handler if a push asked for it. */
void vsim_notify(struct vsim_dev *dev, struct vsim_vq *vq)
{
	if (!vq->need_notify)
		return;
	vq->need_notify = false;
	if (!vq->cb.callback)
		return;
	/* virtio drivers expect their vq callback in interrupt-like context */
	local_bh_disable();
	vq->cb.callback(vq->cb.private);
	local_bh_enable();
}

int vsim_req_read(struct vsim_dev *dev, u16 vq_idx, struct vsim_req *req,
		  void *buf, u32 len)
{
	u32 asid = vsim_data_asid(dev, vq_idx);
	u32 done = 0;

	while (done < len && req->cur_seg < req->nout) {
		struct vsim_seg *s = &req->segs[req->cur_seg];
		u32 chunk = min(len - done, s->len - req->cur_off);
		int ret;

		ret = vsim_xfer(dev, asid, s->addr + req->cur_off, buf + done,
				chunk, false);
		if (ret)
			return ret;
		done += chunk;
		req->cur_off += chunk;
		if (req->cur_off == s->len) {
			req->cur_seg++;
			req->cur_off = 0;
		}
	}
	return done;
}

int vsim_req_write(struct vsim_dev *dev, u16 vq_idx, struct vsim_req *req,
		   const void *buf, u32 len)
{
	u32 asid = vsim_data_asid(dev, vq_idx);
	u32 done = 0;

	while (done < len && req->wcur_seg < req->nin) {
		struct vsim_seg *s = &req->segs[req->nout + req->wcur_seg];
		u32 chunk = min(len - done, s->len - req->wcur_off);
		int ret;

		ret = vsim_xfer(dev, asid, s->addr + req->wcur_off,
				(void *)buf + done, chunk, true);
		if (ret)
			return ret;
		done += chunk;
		req->wcur_off += chunk;
		if (req->wcur_off == s->len) {
			req->wcur_seg++;
			req->wcur_off = 0;
		}
	}
	req->written += done;
	return done;
}

/*
 * Moves the write cursor over len bytes without touching them, counting
 * them as written: for a data area the device does not fill.
 */
void vsim_req_skip(struct vsim_req *req, u64 len)
{
	while (len && req->wcur_seg < req->nin) {
		struct vsim_seg *s = &req->segs[req->nout + req->wcur_seg];
		u32 chunk = min_t(u64, len, s->len - req->wcur_off);

		len -= chunk;
		req->written += chunk;
		req->wcur_off += chunk;
		if (req->wcur_off == s->len) {
			req->wcur_seg++;
			req->wcur_off = 0;
		}
	}
}
