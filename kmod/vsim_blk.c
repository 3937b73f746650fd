// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim block class: a RAM disk behind one request queue. Every
 * request is bounds-checked against the capacity before the disk is
 * touched.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/vmalloc.h>
#include <linux/virtio_blk.h>
#include <uapi/linux/vdpa.h>
#include "vsim.h"

#define VSIM_BLK_SECTOR_SHIFT	9
#define VSIM_BLK_SECTOR_SIZE	BIT(VSIM_BLK_SECTOR_SHIFT)
#define VSIM_BLK_SIZE_MAX	(64 * 1024)
/* data segments: the header and the status byte take two more */
#define VSIM_BLK_SEG_MAX	(VSIM_MAX_SEGS - 2)
#define VSIM_BLK_DWZ_SEG_MAX	32
#define VSIM_BLK_DWZ_SECTORS	BIT(20)
#define VSIM_BLK_MAX_MB		1024
#define VSIM_BLK_BUDGET		64
#define VSIM_BLK_ID		"vhostctl_sim"

/*
 * One group: vhost-vdpa checks a group index against the number of queues,
 * so a one-queue device cannot have its rings in a group of their own.
 * Two address spaces still let the group move between mappings.
 */
#define VSIM_BLK_GROUP_DATA	0
#define VSIM_BLK_GROUP_DESC	0
#define VSIM_BLK_NGROUPS	1
#define VSIM_BLK_NAS		2

#define VSIM_BLK_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | \
				 BIT_ULL(VIRTIO_F_RING_PACKED) | \
				 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) | \
				 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | \
				 BIT_ULL(VIRTIO_BLK_F_SIZE_MAX) | \
				 BIT_ULL(VIRTIO_BLK_F_SEG_MAX) | \
				 BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) | \
				 BIT_ULL(VIRTIO_BLK_F_FLUSH) | \
				 BIT_ULL(VIRTIO_BLK_F_DISCARD) | \
				 BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES))
#define VSIM_BLK_REQUIRED	(BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM))

static unsigned int capacity_mb = 64;
module_param(capacity_mb, uint, 0644);
MODULE_PARM_DESC(capacity_mb, "RAM disk size of block devices added from now on, in MiB (default: 64)");

struct vsim_blk {
	struct vsim_dev sim;		/* must stay first */
	u64 capacity;			/* in 512-byte sectors */
	u8 *disk;
};

static struct vdpa_mgmt_dev vsim_blk_mgmt;

static struct vsim_blk *to_blk(struct vsim_dev *sim)
{
	return container_of(sim, struct vsim_blk, sim);
}

static u32 vsim_blk_vq_group(struct vsim_dev *sim, u16 idx)
{
	return VSIM_BLK_GROUP_DATA;
}

static u32 vsim_blk_vq_desc_group(struct vsim_dev *sim, u16 idx)
{
	return VSIM_BLK_GROUP_DESC;
}

/* Checks [sector, sector + bytes) against the disk; returns the offset. */
static bool vsim_blk_range(struct vsim_blk *blk, u64 sector, u64 bytes,
			   u64 *off)
{
	if (bytes % VSIM_BLK_SECTOR_SIZE || sector > blk->capacity ||
	    (bytes >> VSIM_BLK_SECTOR_SHIFT) > blk->capacity - sector)
		return false;
	*off = sector << VSIM_BLK_SECTOR_SHIFT;
	return true;
}

static int vsim_blk_dwz(struct vsim_blk *blk, u16 idx, struct vsim_req *req,
			u32 type, u64 len, u8 *status)
{
	struct virtio_blk_discard_write_zeroes seg;
	unsigned int i, n;
	u32 flags, allowed;
	u64 off;
	int ret;

	if (len % sizeof(seg) || !len ||
	    len / sizeof(seg) > VSIM_BLK_DWZ_SEG_MAX) {
		*status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	n = len / sizeof(seg);
	allowed = type == VIRTIO_BLK_T_WRITE_ZEROES ?
		  VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	for (i = 0; i < n; i++) {
		ret = vsim_req_read(&blk->sim, idx, req, &seg, sizeof(seg));
		if (ret < 0)
			return ret;
		flags = le32_to_cpu(seg.flags);
		if (flags & ~allowed) {
			*status = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		if (le32_to_cpu(seg.num_sectors) > VSIM_BLK_DWZ_SECTORS ||
		    !vsim_blk_range(blk, le64_to_cpu(seg.sector),
				    (u64)le32_to_cpu(seg.num_sectors) <<
				    VSIM_BLK_SECTOR_SHIFT, &off)) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		/* discarded sectors read back as zeroes too */
		memset(blk->disk + off, 0, (size_t)le32_to_cpu(seg.num_sectors)
		       << VSIM_BLK_SECTOR_SHIFT);
	}
	*status = VIRTIO_BLK_S_OK;
	return 0;
}

/* Handles one request; returns -errno only for a fault on the ring. */
static int vsim_blk_handle(struct vsim_blk *blk, u16 idx, struct vsim_req *req)
{
	struct vsim_dev *sim = &blk->sim;
	struct virtio_blk_outhdr hdr;
	u8 status = VIRTIO_BLK_S_IOERR;
	u8 id[VIRTIO_BLK_ID_BYTES] = VSIM_BLK_ID;
	u64 in_data, out_data, off, sector;
	u32 type;
	int ret;

	if (!req->in_len)
		return -EINVAL;	/* nowhere to put the status */
	in_data = req->in_len - 1;

	ret = vsim_req_read(sim, idx, req, &hdr, sizeof(hdr));
	if (ret < 0)
		return ret;
	if (ret != sizeof(hdr))
		goto out_status;
	out_data = req->out_len - sizeof(hdr);
	type = le32_to_cpu(hdr.type);
	sector = le64_to_cpu(hdr.sector);

	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (!vsim_blk_range(blk, sector, in_data, &off))
			break;
		ret = vsim_req_write(sim, idx, req, blk->disk + off, in_data);
		if (ret < 0)
			return ret;
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_OUT:
		if (!vsim_blk_range(blk, sector, out_data, &off))
			break;
		ret = vsim_req_read(sim, idx, req, blk->disk + off, out_data);
		if (ret < 0)
			return ret;
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		ret = vsim_req_write(sim, idx, req, id,
				     min_t(u64, in_data, sizeof(id)));
		if (ret < 0)
			return ret;
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		ret = vsim_blk_dwz(blk, idx, req, type, out_data, &status);
		if (ret < 0)
			return ret;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}

out_status:
	/* the status is the last device-writable byte */
	if (req->written < in_data)
		vsim_req_skip(req, in_data - req->written);
	ret = vsim_req_write(sim, idx, req, &status, sizeof(status));
	return ret < 0 ? ret : 0;
}

static void vsim_blk_work(struct vsim_dev *sim)
{
	struct vsim_blk *blk = to_blk(sim);
	struct vsim_vq *vq = &sim->vqs[0];
	struct vsim_req *req = sim->req;
	unsigned int n;
	int ret = 0;

	for (n = 0; n < VSIM_BLK_BUDGET; n++) {
		ret = vsim_pop(sim, vq, 0, req);
		if (ret <= 0)
			break;
		ret = vsim_blk_handle(blk, 0, req);
		if (ret)
			break;
		ret = vsim_push(sim, vq, 0, req, req->written);
		if (ret)
			break;
	}
	if (ret < 0)
		vsim_needs_reset(sim, vq);
	vsim_notify(sim, vq);
	if (n == VSIM_BLK_BUDGET)
		vsim_schedule(sim);
}

static void vsim_blk_free(struct vsim_dev *sim)
{
	vfree(to_blk(sim)->disk);
}

static const struct vsim_class vsim_blk_class = {
	.device_id	= VIRTIO_ID_BLOCK,
	.work		= vsim_blk_work,
	.vq_group	= vsim_blk_vq_group,
	.vq_desc_group	= vsim_blk_vq_desc_group,
	.free		= vsim_blk_free,
	.features	= VSIM_BLK_FEATURES,
	.required_features = VSIM_BLK_REQUIRED,
	.ngroups	= VSIM_BLK_NGROUPS,
	.nas		= VSIM_BLK_NAS,
	.alloc_size	= sizeof(struct vsim_blk),
	.config_size	= sizeof(struct virtio_blk_config),
};

static int vsim_blk_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			    const struct vdpa_dev_set_config *config)
{
	const struct vsim_attr attr = {
		.cls	= &vsim_blk_class,
		.name	= name,
		.config	= config,
		.nvqs	= 1,
	};
	unsigned int mb = READ_ONCE(capacity_mb);
	struct virtio_blk_config *cfg;
	struct vsim_dev *sim;
	struct vsim_blk *blk;
	int ret;

	if (!mb || mb > VSIM_BLK_MAX_MB) {
		pr_warn("%s: capacity_mb %u outside [1, %u]\n",
			name, mb, VSIM_BLK_MAX_MB);
		return -EINVAL;
	}

	sim = vsim_create(&attr);
	if (IS_ERR(sim))
		return PTR_ERR(sim);
	blk = to_blk(sim);
	blk->capacity = (u64)mb << (20 - VSIM_BLK_SECTOR_SHIFT);

	ret = -ENOMEM;
	blk->disk = vzalloc((size_t)mb << 20);
	if (!blk->disk)
		goto err_put_device;

	cfg = (struct virtio_blk_config *)sim->config;
	cfg->capacity = (__force __virtio64)cpu_to_le64(blk->capacity);
	cfg->size_max = (__force __virtio32)cpu_to_le32(VSIM_BLK_SIZE_MAX);
	cfg->seg_max = (__force __virtio32)cpu_to_le32(VSIM_BLK_SEG_MAX);
	cfg->blk_size = (__force __virtio32)cpu_to_le32(VSIM_BLK_SECTOR_SIZE);
	cfg->max_discard_sectors =
		(__force __virtio32)cpu_to_le32(VSIM_BLK_DWZ_SECTORS);
	cfg->max_discard_seg =
		(__force __virtio32)cpu_to_le32(VSIM_BLK_DWZ_SEG_MAX);
	cfg->discard_sector_alignment = (__force __virtio32)cpu_to_le32(1);
	cfg->max_write_zeroes_sectors =
		(__force __virtio32)cpu_to_le32(VSIM_BLK_DWZ_SECTORS);
	cfg->max_write_zeroes_seg =
		(__force __virtio32)cpu_to_le32(VSIM_BLK_DWZ_SEG_MAX);
	cfg->write_zeroes_may_unmap = 1;

	sim->vdpa.mdev = &vsim_blk_mgmt;
	ret = _vdpa_register_device(&sim->vdpa, 1);
	if (ret)
		goto err_put_device;
	return 0;

err_put_device:
	put_device(&sim->vdpa.dev);
	return ret;
}

static void vsim_blk_dev_del(struct vdpa_mgmt_dev *mdev,
			     struct vdpa_device *vdpa)
{
	_vdpa_unregister_device(vdpa);
}

static const struct vdpa_mgmtdev_ops vsim_blk_mgmt_ops = {
	.dev_add	= vsim_blk_dev_add,
	.dev_del	= vsim_blk_dev_del,
};

static struct virtio_device_id vsim_blk_id_table[] = {
	{ VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct device vsim_blk_mgmt_dev = {
	.init_name	= "vhostctl_sim_blk",
	.release	= vsim_mgmt_release,
};

static struct vdpa_mgmt_dev vsim_blk_mgmt = {
	.device			= &vsim_blk_mgmt_dev,
	.id_table		= vsim_blk_id_table,
	.ops			= &vsim_blk_mgmt_ops,
	.config_attr_mask	= BIT_ULL(VDPA_ATTR_DEV_FEATURES),
	.max_supported_vqs	= 1,
	.supported_features	= VSIM_BLK_FEATURES,
};

int vsim_blk_init(void)
{
	return vsim_mgmt_register(&vsim_blk_mgmt);
}

void vsim_blk_exit(void)
{
	vsim_mgmt_unregister(&vsim_blk_mgmt);
}
