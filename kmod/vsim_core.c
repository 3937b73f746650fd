// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim: a software vDPA device for testing vhost-vdpa and
 * virtio-vdpa without hardware. This file holds the device-independent
 * part: the vdpa config ops, the address spaces and the module entry
 * points. The worker and the doorbell poller live in vsim_work.c, the net
 * and block classes in vsim_net.c and vsim_blk.c, the ring accessor in
 * vsim_ring.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <uapi/linux/vdpa.h>
#include "vsim.h"

#define VSIM_VENDOR_ID		0

static bool use_va = true;
module_param(use_va, bool, 0444);
MODULE_PARM_DESC(use_va, "Map user virtual addresses under vhost-vdpa (default: true)");

static bool batch_mapping = true;
module_param(batch_mapping, bool, 0444);
MODULE_PARM_DESC(batch_mapping, "Offer set_map (true) or dma_map/dma_unmap (false) (default: true)");

static unsigned int max_iotlb_entries = 2048;
module_param(max_iotlb_entries, uint, 0444);
MODULE_PARM_DESC(max_iotlb_entries, "Mappings per address space, 0 = unlimited (default: 2048)");

unsigned int vsim_drop_every;
module_param_named(drop_every, vsim_drop_every, uint, 0644);
MODULE_PARM_DESC(drop_every, "Fault injection: drop every Nth transmitted frame, 0 = never");

unsigned int vsim_delay_us;
module_param_named(delay_us, vsim_delay_us, uint, 0644);
MODULE_PARM_DESC(delay_us, "Fault injection: delay each batch of completions by this many microseconds");

unsigned int vsim_doorbell_poll_us = 1000;
module_param_named(doorbell_poll_us, vsim_doorbell_poll_us, uint, 0644);
MODULE_PARM_DESC(doorbell_poll_us, "Doorbell poll interval of a running device in microseconds (at least 50), 0 = an idle device sees doorbell stores only at its next kick (default: 1000)");

static bool fail_next_add;
module_param(fail_next_add, bool, 0644);
MODULE_PARM_DESC(fail_next_add, "Fault injection: make the next device add fail with -EIO (self-clearing)");

/* Devices allocated and not yet freed: must be 0 once all are deleted. */
static atomic_t vsim_live = ATOMIC_INIT(0);

static int vsim_live_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vsim_live));
}

static const struct kernel_param_ops vsim_live_ops = {
	.get = vsim_live_get,
};
module_param_cb(live_devices, &vsim_live_ops, NULL, 0444);
MODULE_PARM_DESC(live_devices, "Devices allocated and not yet freed (leak check)");

/*
 * The device features of a new device: the class's, or the subset that the
 * add asked for. dev_add has no extack in 6.12: say why in the log and
 * return the errno the netlink caller sees.
 */
static int vsim_add_features(const struct vsim_attr *attr, u64 *features)
{
	const struct vsim_class *cls = attr->cls;
	u64 want;

	*features = cls->features;
	if (!(attr->config->mask & BIT_ULL(VDPA_ATTR_DEV_FEATURES)))
		return 0;
	want = attr->config->device_features;
	if (want & ~cls->features) {
		pr_warn("%s: unsupported device_features 0x%llx\n",
			attr->name, want & ~cls->features);
		return -EINVAL;
	}
	if ((want & cls->required_features) != cls->required_features) {
		pr_warn("%s: device_features lack required bits 0x%llx\n",
			attr->name, cls->required_features & ~want);
		return -EINVAL;
	}
	*features = want;
	return 0;
}

static struct vsim_vq *vsim_get_vq(struct vsim_dev *dev, u16 idx)
{
	if (idx >= dev->nvqs)
		return NULL;
	return &dev->vqs[array_index_nospec(idx, dev->nvqs)];
}

static void vsim_vq_reset(struct vsim_vq *vq)
{
	memset(vq, 0, sizeof(*vq));
	/* a packed ring starts with both wrap counters set */
	vq->avail_wrap = true;
	vq->used_wrap = true;
}

static void vsim_do_reset(struct vsim_dev *dev, u32 flags)
{
	unsigned int i;

	for (i = 0; i < dev->nvqs; i++)
		vsim_vq_reset(&dev->vqs[i]);
	for (i = 0; i < dev->ngroups; i++)
		dev->group_asid[i] = 0;
	if (flags & VDPA_RESET_F_CLEAN_MAP) {
		for (i = 0; i < dev->nas; i++) {
			vhost_iotlb_reset(&dev->iotlb[i]);
			dev->as_pt[i] = true;
		}
	}
	dev->features = 0;
	dev->status = 0;
	dev->running = false;
	dev->suspended = false;
	dev->pt_allowed = false;
	vsim_db_update(dev);
	vsim_db_clear(dev);
	dev->generation++;
	if (dev->cls->reset)
		dev->cls->reset(dev);
}

static int vsim_set_vq_address(struct vdpa_device *vdpa, u16 idx,
			       u64 desc_area, u64 driver_area, u64 device_area)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	if (!vq)
		return -EINVAL;
	mutex_lock(&dev->lock);
	vq->desc_addr = desc_area;
	vq->driver_addr = driver_area;
	vq->device_addr = device_area;
	mutex_unlock(&dev->lock);
	return 0;
}

static void vsim_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	if (!vq)
		return;
	mutex_lock(&dev->lock);
	/* an oversized ring is caught by the worker and refused there */
	vq->num = num;
	mutex_unlock(&dev->lock);
}

static u16 vsim_get_vq_size(struct vdpa_device *vdpa, u16 idx)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	if (!vq)
		return 0;
	/* before DRIVER_OK the driver asks how large the queue may be */
	if (!(dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return VSIM_VQ_NUM_MAX;
	return vq->num;
}

static void vsim_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	/*
	 * May run in atomic context: only queue the work. The worker checks
	 * the device state under the lock; resume reschedules it.
	 */
	if (idx < dev->nvqs)
		vsim_schedule(dev);
}

static void vsim_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
			   struct vdpa_callback *cb)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	if (!vq)
		return;
	mutex_lock(&dev->lock);
	vq->cb.callback = cb->callback;
	vq->cb.private = cb->private;
	vq->cb.trigger = cb->trigger;
	mutex_unlock(&dev->lock);
}

static void vsim_set_vq_ready(struct vdpa_device *vdpa, u16 idx, bool ready)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	if (!vq)
		return;
	mutex_lock(&dev->lock);
	if (ready && !vq->ready) {
		vq->packed = vsim_has(dev, VIRTIO_F_RING_PACKED);
		vq->event_idx = vsim_has(dev, VIRTIO_RING_F_EVENT_IDX);
		/* no request is in flight across a (re)start */
		if (!vq->packed)
			vq->used_idx = vq->last_avail_idx;
		vq->need_notify = false;
	}
	vq->ready = ready;
	vsim_db_update(dev);
	mutex_unlock(&dev->lock);
	if (ready)
		vsim_schedule(dev);
}

static bool vsim_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	return vq ? vq->ready : false;
}

/*
 * The doorbell page of a queue, for vhost-vdpa's mmap at offset
 * idx * PAGE_SIZE. Kernels before the fix that checks the index pass any
 * u16 from vm_pgoff: an empty area makes vhost-vdpa refuse the mapping.
 */
static struct vdpa_notification_area
vsim_get_vq_notification(struct vdpa_device *vdpa, u16 idx)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vdpa_notification_area area = { };

	if (idx >= dev->nvqs)
		return area;
	idx = array_index_nospec(idx, dev->nvqs);
	area.addr = page_to_phys(dev->db_pages[idx]);
	area.size = PAGE_SIZE;
	return area;
}

static int vsim_set_vq_state(struct vdpa_device *vdpa, u16 idx,
			     const struct vdpa_vq_state *state)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	if (!vq)
		return -EINVAL;
	mutex_lock(&dev->lock);
	if (vsim_has(dev, VIRTIO_F_RING_PACKED)) {
		vq->last_avail_idx = state->packed.last_avail_idx;
		vq->avail_wrap = state->packed.last_avail_counter;
		vq->used_idx = state->packed.last_used_idx;
		vq->used_wrap = state->packed.last_used_counter;
	} else {
		vq->last_avail_idx = state->split.avail_index;
		vq->used_idx = state->split.avail_index;
	}
	mutex_unlock(&dev->lock);
	return 0;
}

static int vsim_get_vq_state(struct vdpa_device *vdpa, u16 idx,
			     struct vdpa_vq_state *state)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vsim_vq *vq = vsim_get_vq(dev, idx);

	if (!vq)
		return -EINVAL;
	mutex_lock(&dev->lock);
	if (vsim_has(dev, VIRTIO_F_RING_PACKED)) {
		state->packed.last_avail_idx = vq->last_avail_idx;
		state->packed.last_avail_counter = vq->avail_wrap;
		state->packed.last_used_idx = vq->used_idx;
		state->packed.last_used_counter = vq->used_wrap;
	} else {
		state->split.avail_index = vq->last_avail_idx;
	}
	mutex_unlock(&dev->lock);
	return 0;
}

static int vsim_get_vendor_vq_stats(struct vdpa_device *vdpa, u16 idx,
				    struct sk_buff *msg,
				    struct netlink_ext_ack *extack)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	int ret;

	if (!dev->cls->vq_stats)
		return -EOPNOTSUPP;
	if (idx >= dev->nvqs) {
		NL_SET_ERR_MSG_MOD(extack, "queue index out of range");
		return -EINVAL;
	}
	idx = array_index_nospec(idx, dev->nvqs);
	mutex_lock(&dev->lock);
	ret = dev->cls->vq_stats(dev, idx, msg, extack);
	mutex_unlock(&dev->lock);
	return ret;
}

static u32 vsim_get_vq_align(struct vdpa_device *vdpa)
{
	return PAGE_SIZE;
}

static u32 vsim_get_vq_group(struct vdpa_device *vdpa, u16 idx)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	if (idx >= dev->nvqs)
		return 0;
	return dev->cls->vq_group(dev, array_index_nospec(idx, dev->nvqs));
}

static u32 vsim_get_vq_desc_group(struct vdpa_device *vdpa, u16 idx)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	if (idx >= dev->nvqs)
		return 0;
	return dev->cls->vq_desc_group(dev,
				       array_index_nospec(idx, dev->nvqs));
}

static u64 vsim_get_device_features(struct vdpa_device *vdpa)
{
	return vdpa_to_vsim(vdpa)->dev_features;
}

static u64 vsim_get_backend_features(const struct vdpa_device *vdpa)
{
	return BIT_ULL(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
}

static int vsim_set_driver_features(struct vdpa_device *vdpa, u64 features)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	/* every access goes through an IOTLB: the platform must know */
	if (!(features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)))
		return -EINVAL;
	mutex_lock(&dev->lock);
	dev->features = features & dev->dev_features;
	mutex_unlock(&dev->lock);
	return 0;
}

static u64 vsim_get_driver_features(struct vdpa_device *vdpa)
{
	return vdpa_to_vsim(vdpa)->features;
}

static void vsim_set_config_cb(struct vdpa_device *vdpa,
			       struct vdpa_callback *cb)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	mutex_lock(&dev->lock);
	dev->config_cb.callback = cb->callback;
	dev->config_cb.private = cb->private;
	dev->config_cb.trigger = cb->trigger;
	mutex_unlock(&dev->lock);
}

static u16 vsim_get_vq_num_max(struct vdpa_device *vdpa)
{
	return VSIM_VQ_NUM_MAX;
}

static u32 vsim_get_device_id(struct vdpa_device *vdpa)
{
	return vdpa_to_vsim(vdpa)->cls->device_id;
}

static u32 vsim_get_vendor_id(struct vdpa_device *vdpa)
{
	return VSIM_VENDOR_ID;
}

static u8 vsim_get_status(struct vdpa_device *vdpa)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	u8 status;

	mutex_lock(&dev->lock);
	status = dev->status;
	mutex_unlock(&dev->lock);
	return status;
}

static bool vsim_kernel_driver(struct vsim_dev *dev)
{
	const struct device_driver *drv = READ_ONCE(dev->vdpa.dev.driver);

	return drv && !strcmp(drv->name, "virtio_vdpa");
}

static void vsim_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	mutex_lock(&dev->lock);
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		dev->pt_allowed = vsim_kernel_driver(dev);
	dev->status = status;
	dev->running = (status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		       !dev->suspended;
	vsim_db_update(dev);
	mutex_unlock(&dev->lock);
	if (status & VIRTIO_CONFIG_S_DRIVER_OK)
		vsim_schedule(dev);
}

static int vsim_compat_reset(struct vdpa_device *vdpa, u32 flags)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	mutex_lock(&dev->lock);
	vsim_do_reset(dev, flags);
	mutex_unlock(&dev->lock);
	return 0;
}

static int vsim_reset(struct vdpa_device *vdpa)
{
	return vsim_compat_reset(vdpa, 0);
}

static int vsim_suspend(struct vdpa_device *vdpa)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	mutex_lock(&dev->lock);
	dev->suspended = true;
	dev->running = false;
	vsim_db_update(dev);
	mutex_unlock(&dev->lock);
	return 0;
}

static int vsim_resume(struct vdpa_device *vdpa)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	mutex_lock(&dev->lock);
	dev->suspended = false;
	dev->running = dev->status & VIRTIO_CONFIG_S_DRIVER_OK;
	vsim_db_update(dev);
	mutex_unlock(&dev->lock);
	/* replay kicks that arrived while suspended */
	vsim_schedule(dev);
	return 0;
}

static size_t vsim_get_config_size(struct vdpa_device *vdpa)
{
	return vdpa_to_vsim(vdpa)->config_size;
}

static void vsim_get_config(struct vdpa_device *vdpa, unsigned int offset,
			    void *buf, unsigned int len)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	unsigned long flags;

	if (offset > dev->config_size || len > dev->config_size - offset) {
		memset(buf, 0, len);
		return;
	}
	spin_lock_irqsave(&dev->config_lock, flags);
	if (dev->cls->config_refresh)
		dev->cls->config_refresh(dev);
	memcpy(buf, dev->config + offset, len);
	spin_unlock_irqrestore(&dev->config_lock, flags);
}

static void vsim_set_config(struct vdpa_device *vdpa, unsigned int offset,
			    const void *buf, unsigned int len)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	unsigned long flags;

	if (offset > dev->config_size || len > dev->config_size - offset)
		return;
	spin_lock_irqsave(&dev->config_lock, flags);
	memcpy(dev->config + offset, buf, len);
	spin_unlock_irqrestore(&dev->config_lock, flags);
}

static u32 vsim_get_generation(struct vdpa_device *vdpa)
{
	return READ_ONCE(vdpa_to_vsim(vdpa)->generation);
}

static struct vdpa_iova_range vsim_get_iova_range(struct vdpa_device *vdpa)
{
	struct vdpa_iova_range range = {
		.first = 0,
		.last = ULLONG_MAX,
	};

	return range;
}

static int vsim_set_group_asid(struct vdpa_device *vdpa, unsigned int group,
			       unsigned int asid)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	if (group >= dev->ngroups || asid >= dev->nas)
		return -EINVAL;
	group = array_index_nospec(group, dev->ngroups);
	mutex_lock(&dev->lock);
	dev->group_asid[group] = asid;
	mutex_unlock(&dev->lock);
	return 0;
}

static int vsim_set_map(struct vdpa_device *vdpa, unsigned int asid,
			struct vhost_iotlb *iotlb)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct vhost_iotlb_map *map;
	struct vhost_iotlb *as;
	int ret = 0;

	if (asid >= dev->nas)
		return -EINVAL;
	asid = array_index_nospec(asid, dev->nas);
	as = &dev->iotlb[asid];

	mutex_lock(&dev->lock);
	vhost_iotlb_reset(as);
	dev->as_pt[asid] = false;
	for (map = vhost_iotlb_itree_first(iotlb, 0, ULLONG_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, ULLONG_MAX)) {
		ret = vhost_iotlb_add_range(as, map->start, map->last,
					    map->addr, map->perm);
		if (ret)
			goto err_reset_as;
	}
	mutex_unlock(&dev->lock);
	return 0;

err_reset_as:
	vhost_iotlb_reset(as);
	mutex_unlock(&dev->lock);
	return ret;
}

static int vsim_dma_map(struct vdpa_device *vdpa, unsigned int asid, u64 iova,
			u64 size, u64 pa, u32 perm, void *opaque)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	u64 last;
	int ret;

	if (asid >= dev->nas || !size ||
	    check_add_overflow(iova, size - 1, &last))
		return -EINVAL;
	asid = array_index_nospec(asid, dev->nas);

	mutex_lock(&dev->lock);
	if (dev->as_pt[asid]) {
		vhost_iotlb_reset(&dev->iotlb[asid]);
		dev->as_pt[asid] = false;
	}
	ret = vhost_iotlb_add_range(&dev->iotlb[asid], iova, last, pa, perm);
	mutex_unlock(&dev->lock);
	return ret;
}

static int vsim_dma_unmap(struct vdpa_device *vdpa, unsigned int asid,
			  u64 iova, u64 size)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	u64 last;

	if (asid >= dev->nas || !size ||
	    check_add_overflow(iova, size - 1, &last))
		return -EINVAL;
	asid = array_index_nospec(asid, dev->nas);

	mutex_lock(&dev->lock);
	if (!dev->as_pt[asid])
		vhost_iotlb_del_range(&dev->iotlb[asid], iova, last);
	mutex_unlock(&dev->lock);
	return 0;
}

static int vsim_reset_map(struct vdpa_device *vdpa, unsigned int asid)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);

	if (asid >= dev->nas)
		return -EINVAL;
	asid = array_index_nospec(asid, dev->nas);

	mutex_lock(&dev->lock);
	vhost_iotlb_reset(&dev->iotlb[asid]);
	dev->as_pt[asid] = true;
	mutex_unlock(&dev->lock);
	return 0;
}

static int vsim_bind_mm(struct vdpa_device *vdpa, struct mm_struct *mm)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct mm_struct *old;

	mmgrab(mm);
	mutex_lock(&dev->lock);
	old = dev->mm;
	dev->mm = mm;
	mutex_unlock(&dev->lock);
	if (old)
		mmdrop(old);
	return 0;
}

static void vsim_unbind_mm(struct vdpa_device *vdpa)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	struct mm_struct *old;

	mutex_lock(&dev->lock);
	old = dev->mm;
	dev->mm = NULL;
	mutex_unlock(&dev->lock);
	if (old)
		mmdrop(old);
}

static void vsim_free(struct vdpa_device *vdpa)
{
	struct vsim_dev *dev = vdpa_to_vsim(vdpa);
	unsigned int i;

	/* the timer queues work: stop it before the worker goes */
	hrtimer_cancel(&dev->db_timer);
	if (dev->worker) {
		kthread_cancel_work_sync(&dev->work);
		kthread_destroy_worker(dev->worker);
	}
	if (dev->cls->free)
		dev->cls->free(dev);
	for (i = 0; i < dev->nas; i++)
		vhost_iotlb_reset(&dev->iotlb[i]);
	if (dev->mm)
		mmdrop(dev->mm);
	/* the last mapping went with the vhost-vdpa file: see db_pages */
	for (i = 0; dev->db_pages && i < dev->nvqs; i++)
		if (dev->db_pages[i])
			__free_page(dev->db_pages[i]);
	kfree(dev->db_pages);
	bitmap_free(dev->db_live);
	kfree(dev->req);
	kfree(dev->config);
	kfree(dev->vqs);
	mutex_destroy(&dev->lock);
	atomic_dec(&vsim_live);
}

static const struct vdpa_config_ops vsim_batch_ops = {
	.set_vq_address		= vsim_set_vq_address,
	.set_vq_num		= vsim_set_vq_num,
	.kick_vq		= vsim_kick_vq,
	.set_vq_cb		= vsim_set_vq_cb,
	.set_vq_ready		= vsim_set_vq_ready,
	.get_vq_ready		= vsim_get_vq_ready,
	.set_vq_state		= vsim_set_vq_state,
	.get_vq_state		= vsim_get_vq_state,
	.get_vq_notification	= vsim_get_vq_notification,
	.get_vendor_vq_stats	= vsim_get_vendor_vq_stats,
	.get_vq_size		= vsim_get_vq_size,
	.get_vq_align		= vsim_get_vq_align,
	.get_vq_group		= vsim_get_vq_group,
	.get_vq_desc_group	= vsim_get_vq_desc_group,
	.get_device_features	= vsim_get_device_features,
	.get_backend_features	= vsim_get_backend_features,
	.set_driver_features	= vsim_set_driver_features,
	.get_driver_features	= vsim_get_driver_features,
	.set_config_cb		= vsim_set_config_cb,
	.get_vq_num_max		= vsim_get_vq_num_max,
	.get_device_id		= vsim_get_device_id,
	.get_vendor_id		= vsim_get_vendor_id,
	.get_status		= vsim_get_status,
	.set_status		= vsim_set_status,
	.reset			= vsim_reset,
	.compat_reset		= vsim_compat_reset,
	.suspend		= vsim_suspend,
	.resume			= vsim_resume,
	.get_config_size	= vsim_get_config_size,
	.get_config		= vsim_get_config,
	.set_config		= vsim_set_config,
	.get_generation		= vsim_get_generation,
	.get_iova_range		= vsim_get_iova_range,
	.set_group_asid		= vsim_set_group_asid,
	.set_map		= vsim_set_map,
	.reset_map		= vsim_reset_map,
	.bind_mm		= vsim_bind_mm,
	.unbind_mm		= vsim_unbind_mm,
	.free			= vsim_free,
};

static const struct vdpa_config_ops vsim_dma_ops = {
	.set_vq_address		= vsim_set_vq_address,
	.set_vq_num		= vsim_set_vq_num,
	.kick_vq		= vsim_kick_vq,
	.set_vq_cb		= vsim_set_vq_cb,
	.set_vq_ready		= vsim_set_vq_ready,
	.get_vq_ready		= vsim_get_vq_ready,
	.set_vq_state		= vsim_set_vq_state,
	.get_vq_state		= vsim_get_vq_state,
	.get_vq_notification	= vsim_get_vq_notification,
	.get_vendor_vq_stats	= vsim_get_vendor_vq_stats,
	.get_vq_size		= vsim_get_vq_size,
	.get_vq_align		= vsim_get_vq_align,
	.get_vq_group		= vsim_get_vq_group,
	.get_vq_desc_group	= vsim_get_vq_desc_group,
	.get_device_features	= vsim_get_device_features,
	.get_backend_features	= vsim_get_backend_features,
	.set_driver_features	= vsim_set_driver_features,
	.get_driver_features	= vsim_get_driver_features,
	.set_config_cb		= vsim_set_config_cb,
	.get_vq_num_max		= vsim_get_vq_num_max,
	.get_device_id		= vsim_get_device_id,
	.get_vendor_id		= vsim_get_vendor_id,
	.get_status		= vsim_get_status,
	.set_status		= vsim_set_status,
	.reset			= vsim_reset,
	.compat_reset		= vsim_compat_reset,
	.suspend		= vsim_suspend,
	.resume			= vsim_resume,
	.get_config_size	= vsim_get_config_size,
	.get_config		= vsim_get_config,
	.set_config		= vsim_set_config,
	.get_generation		= vsim_get_generation,
	.get_iova_range		= vsim_get_iova_range,
	.set_group_asid		= vsim_set_group_asid,
	.dma_map		= vsim_dma_map,
	.dma_unmap		= vsim_dma_unmap,
	.reset_map		= vsim_reset_map,
	.bind_mm		= vsim_bind_mm,
	.unbind_mm		= vsim_unbind_mm,
	.free			= vsim_free,
};

/*
 * vsim_create - allocate a device of a class, not yet registered
 *
 * Every add goes through here: the fail_next_add fault injection and the
 * device_features check are done once, for every class.
 *
 * On error after the vdpa device exists, put_device() runs vsim_free(),
 * which copes with a partly set up device; the classes rely on that.
 */
struct vsim_dev *vsim_create(const struct vsim_attr *attr)
{
	const struct vsim_class *cls = attr->cls;
	u32 ngroups = cls->ngroups, nas = cls->nas, nvqs = attr->nvqs;
	const struct vdpa_config_ops *ops;
	struct vdpa_device *vdpa;
	struct vsim_dev *dev;
	unsigned int i;
	u64 features;
	int ret;

	if (xchg(&fail_next_add, false)) {
		pr_info("failing add of %s (fail_next_add)\n", attr->name);
		return ERR_PTR(-EIO);
	}
	ret = vsim_add_features(attr, &features);
	if (ret)
		return ERR_PTR(ret);
	if (ngroups > VSIM_MAX_GROUPS || nas > VSIM_MAX_AS || !nvqs ||
	    cls->alloc_size < sizeof(*dev))
		return ERR_PTR(-EINVAL);

	ops = batch_mapping ? &vsim_batch_ops : &vsim_dma_ops;
	vdpa = __vdpa_alloc_device(NULL, ops, ngroups, nas, cls->alloc_size,
				   attr->name, use_va);
	if (IS_ERR(vdpa))
		return ERR_CAST(vdpa);

	dev = vdpa_to_vsim(vdpa);
	atomic_inc(&vsim_live);
	dev->cls = cls;
	mutex_init(&dev->lock);
	spin_lock_init(&dev->config_lock);
	kthread_init_work(&dev->work, vsim_work_fn);
	hrtimer_init(&dev->db_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	dev->db_timer.function = vsim_db_timer_fn;
	dev->nvqs = nvqs;
	dev->ngroups = ngroups;
	dev->nas = nas;
	dev->dev_features = features;
	dev->config_size = cls->config_size;
	for (i = 0; i < nas; i++) {
		vhost_iotlb_init(&dev->iotlb[i], max_iotlb_entries, 0);
		dev->as_pt[i] = true;
	}

	ret = -ENOMEM;
	dev->vqs = kcalloc(nvqs, sizeof(*dev->vqs), GFP_KERNEL);
	dev->config = kzalloc(cls->config_size, GFP_KERNEL);
	dev->req = kzalloc(sizeof(*dev->req), GFP_KERNEL);
	dev->db_pages = kcalloc(nvqs, sizeof(*dev->db_pages), GFP_KERNEL);
	dev->db_live = bitmap_zalloc(nvqs, GFP_KERNEL);
	if (!dev->vqs || !dev->config || !dev->req || !dev->db_pages ||
	    !dev->db_live)
		goto err_put_device;
	for (i = 0; i < nvqs; i++) {
		vsim_vq_reset(&dev->vqs[i]);
		/* zeroed: the page is user-readable on most MMUs */
		dev->db_pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!dev->db_pages[i])
			goto err_put_device;
		WRITE_ONCE(*vsim_db_word(dev, i), VSIM_DB_IDLE);
	}

	dev->worker = kthread_create_worker(0, "vsim %s", attr->name);
	if (IS_ERR(dev->worker)) {
		ret = PTR_ERR(dev->worker);
		dev->worker = NULL;
		goto err_put_device;
	}

	/* virtio_vdpa's rings use the DMA API on this device: dma-direct */
	vdpa->dma_dev = &vdpa->dev;
	vdpa->dev.dma_mask = &vdpa->dev.coherent_dma_mask;
	ret = dma_set_mask_and_coherent(&vdpa->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_put_device;

	return dev;

err_put_device:
	put_device(&vdpa->dev);
	return ERR_PTR(ret);
}

/* Management devices are static: nothing to free on release. */
void vsim_mgmt_release(struct device *dev)
{
}

/* A management device and the struct device it hangs off, both or neither. */
int vsim_mgmt_register(struct vdpa_mgmt_dev *mgmt)
{
	int ret;

	ret = device_register(mgmt->device);
	if (ret) {
		put_device(mgmt->device);
		return ret;
	}
	ret = vdpa_mgmtdev_register(mgmt);
	if (ret)
		goto err_unregister_device;
	return 0;

err_unregister_device:
	device_unregister(mgmt->device);
	return ret;
}

void vsim_mgmt_unregister(struct vdpa_mgmt_dev *mgmt)
{
	vdpa_mgmtdev_unregister(mgmt);
	device_unregister(mgmt->device);
}

static int __init vsim_init(void)
{
	int ret;

	ret = vsim_net_init();
	if (ret)
		return ret;
	ret = vsim_blk_init();
	if (ret)
		goto err_net_exit;
	return 0;

err_net_exit:
	vsim_net_exit();
	return ret;
}

static void __exit vsim_exit(void)
{
	vsim_blk_exit();
	vsim_net_exit();
	/* every device was deleted above and freed on its last reference */
	if (atomic_read(&vsim_live))
		pr_err("%d devices not freed at unload\n",
		       atomic_read(&vsim_live));
}

module_init(vsim_init);
module_exit(vsim_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vhostctl project");
MODULE_DESCRIPTION("vhostctl software vDPA device: net loopback and RAM block");
MODULE_VERSION(VSIM_VERSION);
