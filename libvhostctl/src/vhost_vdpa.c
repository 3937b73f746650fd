// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-vdpa transport: a vDPA device (hardware, VDUSE or our software
 * device) through /dev/vhost-vdpa-N.  The control calls are the vhost
 * ioctls plus the VHOST_VDPA_* ones; guest memory reaches the device as
 * IOTLB messages written to the fd, in one address space (ASID) per
 * virtqueue group.  IOVA = guest physical address, so ring addresses need
 * no translation: they are IOVAs already.
 *
 * Everything the kernel reports (counts, sizes, ranges) is checked before
 * it sizes anything here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "kabi.h"
#include "vdpa_rec.h"

#define BF(bit) (1ULL << (bit))

/* Every backend feature this file knows how to use. */
#define VDPA_BF_KNOWN                                                          \
	(BF(VHOST_BACKEND_F_IOTLB_MSG_V2) | BF(VHOST_BACKEND_F_IOTLB_BATCH) |  \
	 BF(VHOST_BACKEND_F_IOTLB_ASID) | BF(VHOST_BACKEND_F_SUSPEND) |        \
	 BF(VHOST_BACKEND_F_RESUME) |                                          \
	 BF(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK) |                          \
	 BF(VHOST_BACKEND_F_IOTLB_PERSIST))

#define VF_RING_PACKED 34

/* The sizes vrings may have; a larger count from the kernel is refused. */
#define VDPA_MAX_VQS 65536u

/* One mapping we made from the memory table, in one address space. */
struct vdpa_map {
	uint32_t asid;
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
};

/*
 * Transport state.  Used by one thread at a time, like the handle.  maps is
 * what vhostctl_dev_set_mem_table() has mapped so far, so that a new table
 * maps and unmaps only the regions that changed; the caller's own
 * vhostctl_dev_vdpa_iotlb_update() mappings are the caller's to track.
 */
struct vdpa_state {
	bool bf_done;			/* backend features set, by us or the caller */
	uint64_t bf;			/* the acknowledged ones */
	bool range_known;
	struct vhost_vdpa_iova_range range;
	unsigned int nmaps;
	struct vdpa_map maps[VHOSTCTL_MEM_MAX_REGIONS];
	unsigned int nnum;		/* entries in num */
	uint16_t *num;			/* ring size per vring, 0: not set */
	struct vhc_vring_recs recs;	/* rings as set, for vdpa_migrate.c */
};

static struct vdpa_state *st_of(struct vhostctl_dev *dev)
{
	return dev->priv;
}

/* The public vDPA-only calls: a vDPA handle or -EOPNOTSUPP. */
static int vdpa_check(struct vhostctl_dev *dev)
{
	if (!dev)
		return -EINVAL;
	if (dev->transport != VHOSTCTL_TRANSPORT_VDPA || !dev->priv)
		return -EOPNOTSUPP;
	return 0;
}

static int vdpa_init(struct vhostctl_dev *dev)
{
	dev->priv = calloc(1, sizeof(struct vdpa_state));
	return dev->priv ? 0 : -ENOMEM;
}

static void vdpa_destroy(struct vhostctl_dev *dev)
{
	struct vdpa_state *st = st_of(dev);

	if (!st)
		return;
	free(st->num);
	vhc_vring_rec_fini(&st->recs);
	free(st);
	dev->priv = NULL;
}

static int vdpa_get_backend_features(struct vhostctl_dev *dev, uint64_t *features)
{
	__u64 f;
	int r = vhc_ioctl(dev->fd, VHOST_GET_BACKEND_FEATURES, &f);

	if (!r)
		*features = f;
	return r;
}

static int vdpa_set_backend_features(struct vhostctl_dev *dev, uint64_t features)
{
	struct vdpa_state *st = st_of(dev);
	__u64 f = features;
	int r = vhc_ioctl(dev->fd, VHOST_SET_BACKEND_FEATURES, &f);

	if (!r) {
		st->bf = features;
		st->bf_done = true;
	}
	return r;
}

/*
 * Unless the caller chose backend features, ack every one we use that the
 * device offers: MSG_V2 (needed for address spaces), BATCH (one commit per
 * memory table), ASID (without it the kernel ignores the asid field and
 * maps into space 0), SUSPEND/RESUME, PERSIST (mappings survive a reset).
 */
static int vdpa_backend(struct vhostctl_dev *dev)
{
	struct vdpa_state *st = st_of(dev);
	uint64_t offered;
	int r;

	if (st->bf_done)
		return 0;
	r = vdpa_get_backend_features(dev, &offered);
	if (r) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "GET_BACKEND_FEATURES: %s", strerror(-r));
		return r;
	}
	if (!(offered & BF(VHOST_BACKEND_F_IOTLB_MSG_V2)))
		vhc_log(dev, VHOSTCTL_LOG_INFO, "backend offers no IOTLB_MSG_V2: one address space");
	r = vdpa_set_backend_features(dev, offered & VDPA_BF_KNOWN);
	if (r)
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_BACKEND_FEATURES 0x%llx: %s",
			(unsigned long long)(offered & VDPA_BF_KNOWN), strerror(-r));
	return r;
}

static int vdpa_range(struct vhostctl_dev *dev, struct vhost_vdpa_iova_range *range)
{
	struct vdpa_state *st = st_of(dev);
	struct vhost_vdpa_iova_range rg;
	int r;

	if (!st->range_known) {
		r = vhc_ioctl(dev->fd, VHOST_VDPA_GET_IOVA_RANGE, &rg);
		if (r)
			return r;
		if (rg.first > rg.last) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "IOVA range [0x%llx, 0x%llx] is empty",
				(unsigned long long)rg.first, (unsigned long long)rg.last);
			return -EIO;
		}
		st->range = rg;
		st->range_known = true;
	}
	*range = st->range;
	return 0;
}

/* Is [iova, iova + size) non-empty, unwrapped and inside the IOVA window? */
static int vdpa_in_range(struct vhostctl_dev *dev, const char *what, uint64_t iova, uint64_t size)
{
	struct vhost_vdpa_iova_range rg;
	int r;

	if (!size)
		return -EINVAL;
	r = vdpa_range(dev, &rg);
	if (r)
		return r;
	if (iova < rg.first || iova > rg.last || size - 1 > rg.last - iova) {
		vhc_log(dev, VHOSTCTL_LOG_ERR,
			"%s [0x%llx, +0x%llx) outside the IOVA range [0x%llx, 0x%llx]", what,
			(unsigned long long)iova, (unsigned long long)size,
			(unsigned long long)rg.first, (unsigned long long)rg.last);
		return -ERANGE;
	}
	return 0;
}

/* One IOTLB message; BATCH_BEGIN/END ignore the range. */
static int vdpa_iotlb_msg(struct vhostctl_dev *dev, uint32_t asid, uint8_t type, uint64_t iova,
			  uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct vdpa_state *st = st_of(dev);
	struct vhost_iotlb_msg m = {
		.iova = iova, .size = size, .uaddr = uaddr, .perm = perm, .type = type,
	};
	struct vhost_msg_v2 v2 = { .type = VHOST_IOTLB_MSG_V2, .asid = asid };
	struct vhost_msg v1 = { .type = VHOST_IOTLB_MSG };
	const void *buf;
	size_t len;
	ssize_t n;

	if (st->bf & BF(VHOST_BACKEND_F_IOTLB_MSG_V2)) {
		/* Without IOTLB_ASID the kernel would apply this to space 0. */
		if (asid && !(st->bf & BF(VHOST_BACKEND_F_IOTLB_ASID))) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "IOTLB: address space %u without IOTLB_ASID",
				asid);
			return -EOPNOTSUPP;
		}
		v2.iotlb = m;
		buf = &v2;
		len = sizeof(v2);
	} else {
		if (asid) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "IOTLB: address space %u without IOTLB_MSG_V2",
				asid);
			return -EOPNOTSUPP;
		}
		v1.iotlb = m;
		buf = &v1;
		len = sizeof(v1);
	}
	n = write(dev->fd, buf, len);
	if (n < 0) {
		int e = errno;

		/* The kernel folds every reason into EFAULT: say what we asked. */
		vhc_log(dev, VHOSTCTL_LOG_ERR,
			"IOTLB %s asid %u [0x%llx, +0x%llx): %s%s",
			type == VHOST_IOTLB_UPDATE ? "update" :
			type == VHOST_IOTLB_INVALIDATE ? "invalidate" : "batch",
			asid, (unsigned long long)iova, (unsigned long long)size, strerror(e),
			e == EFAULT ? " (overlap, bad address space or locked-memory limit)" : "");
		return -e;
	}
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

static bool vdpa_batch(const struct vdpa_state *st)
{
	return (st->bf & BF(VHOST_BACKEND_F_IOTLB_BATCH)) &&
	       (st->bf & BF(VHOST_BACKEND_F_IOTLB_MSG_V2));
}

static int vdpa_set_owner(struct vhostctl_dev *dev)
{
	int r = vdpa_backend(dev);

	if (r)
		return r;
	return vhc_ioctl(dev->fd, VHOST_SET_OWNER, NULL);
}

static int vdpa_reset_owner(struct vhostctl_dev *dev)
{
	return vhc_ioctl(dev->fd, VHOST_RESET_OWNER, NULL);
}

static int vdpa_get_features(struct vhostctl_dev *dev, uint64_t *features)
{
	__u64 f;
	int r = vhc_ioctl(dev->fd, VHOST_GET_FEATURES, &f);

	if (!r)
		*features = f;
	return r;
}

static int vdpa_set_features(struct vhostctl_dev *dev, uint64_t features)
{
	__u64 f = features;

	return vhc_ioctl(dev->fd, VHOST_SET_FEATURES, &f);
}

static bool map_in(const struct vdpa_map *m, const struct vdpa_map *set, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (set[i].asid == m->asid && set[i].iova == m->iova && set[i].size == m->size &&
		    set[i].uaddr == m->uaddr)
			return true;
	return false;
}

/*
 * Make address space asid hold exactly the regions of mem: unmap what went
 * away or moved first (a new region may overlap an old one), then map what
 * is new, in one batch.  st->maps follows every message that succeeded, so
 * after a failure it still says what the kernel holds.
 */
static int vdpa_apply_mem(struct vhostctl_dev *dev, uint32_t asid, const struct vhostctl_mem *mem)
{
	struct vdpa_state *st = st_of(dev);
	struct vdpa_map want[VHOSTCTL_MEM_MAX_REGIONS];
	int n = vhostctl_mem_num_regions(mem);
	int r, r2;

	if (n < 0)
		return n;
	if (n > VHOSTCTL_MEM_MAX_REGIONS)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		struct vhostctl_mem_region reg;

		vhostctl_mem_get_region(mem, (unsigned int)i, &reg);
		/* vhost-vdpa would skip private memory without a word. */
		if (reg.fd < 0) {
			vhc_log(dev, VHOSTCTL_LOG_ERR,
				"memory region %d (gpa 0x%llx) is private: vDPA needs shared, file-backed memory",
				i, (unsigned long long)reg.gpa);
			return -EINVAL;
		}
		r = vdpa_in_range(dev, "memory region", reg.gpa, reg.size);
		if (r)
			return r;
		want[i] = (struct vdpa_map){ asid, reg.gpa, reg.size, (uintptr_t)reg.hva };
	}
	r = vdpa_backend(dev);
	if (r)
		return r;
	if (vdpa_batch(st)) {
		r = vdpa_iotlb_msg(dev, asid, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
		if (r)
			return r;
	}
	for (unsigned int i = 0; i < st->nmaps && !r;) {
		struct vdpa_map *m = &st->maps[i];

		if (m->asid != asid || map_in(m, want, (unsigned int)n)) {
			i++;
			continue;
		}
		r = vdpa_iotlb_msg(dev, asid, VHOST_IOTLB_INVALIDATE, m->iova, m->size, 0, 0);
		if (!r)
			*m = st->maps[--st->nmaps];
	}
	for (int i = 0; i < n && !r; i++) {
		if (map_in(&want[i], st->maps, st->nmaps))
			continue;
		if (st->nmaps == VHOSTCTL_MEM_MAX_REGIONS) {
			r = -E2BIG;
			break;
		}
		r = vdpa_iotlb_msg(dev, asid, VHOST_IOTLB_UPDATE, want[i].iova, want[i].size,
				   want[i].uaddr, VHOST_ACCESS_RW);
		if (!r)
			st->maps[st->nmaps++] = want[i];
	}
	/* End the batch even after a failure: the kernel commits what it got. */
	if (vdpa_batch(st)) {
		r2 = vdpa_iotlb_msg(dev, asid, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
		if (!r)
			r = r2;
	}
	return r;
}

static int vdpa_set_mem_table(struct vhostctl_dev *dev, const struct vhostctl_mem *mem)
{
	return vdpa_apply_mem(dev, 0, mem);
}

static int vdpa_vring_state(struct vhostctl_dev *dev, unsigned long req, unsigned int index,
			    unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return vhc_ioctl(dev->fd, req, &s);
}

static int vdpa_vring_state_get(struct vhostctl_dev *dev, unsigned long req, unsigned int index,
				unsigned int *num)
{
	struct vhost_vring_state s = { .index = index };
	int r = vhc_ioctl(dev->fd, req, &s);

	if (!r)
		*num = s.num;
	return r;
}

static int vdpa_vring_file(struct vhostctl_dev *dev, unsigned long req, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return vhc_ioctl(dev->fd, req, &f);
}

/* Remember the size: ring addresses are range-checked for the whole ring. */
static void vdpa_note_num(struct vhostctl_dev *dev, unsigned int index, unsigned int num)
{
	struct vdpa_state *st = st_of(dev);
	uint16_t *p;
	unsigned int n;

	if (index >= VDPA_MAX_VQS)
		return;
	if (index >= st->nnum) {
		n = index + 1 < 16 ? 16 : index + 1;
		p = realloc(st->num, n * sizeof(*p));
		if (!p)
			return;		/* then only the smallest ring is checked */
		memset(p + st->nnum, 0, (n - st->nnum) * sizeof(*p));
		st->num = p;
		st->nnum = n;
	}
	st->num[index] = (uint16_t)(num > 0xffff ? 0 : num);
}

static int vdpa_set_vring_num(struct vhostctl_dev *dev, unsigned int index, unsigned int num)
{
	int r = vdpa_vring_state(dev, VHOST_SET_VRING_NUM, index, num);

	if (!r) {
		vdpa_note_num(dev, index, num);
		vhc_vring_rec_num(&st_of(dev)->recs, index, num);
	}
	return r;
}

static int vdpa_set_vring_addr(struct vhostctl_dev *dev, const struct vhostctl_vring_addr *a)
{
	struct vdpa_state *st = st_of(dev);
	struct vhost_vring_addr k = {
		.index = a->index,
		.desc_user_addr = a->desc,
		.avail_user_addr = a->avail,
		.used_user_addr = a->used,
	};
	uint64_t num = a->index < st->nnum && st->num[a->index] ? st->num[a->index] : 1;
	bool packed = dev->acked_features & BF(VF_RING_PACKED);
	int r;

	if (a->flags & VHOSTCTL_VRING_F_LOG) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_VRING_ADDR %u: vhost-vdpa has no dirty log",
			a->index);
		return -EOPNOTSUPP;
	}
	/* Split: 16-byte descriptors, 2-byte avail and 8-byte used entries;
	 * packed: descriptors and two 4-byte event structures. */
	r = vdpa_in_range(dev, "descriptor ring", a->desc, 16 * num);
	if (!r)
		r = vdpa_in_range(dev, "driver area", a->avail, packed ? 4 : 6 + 2 * num);
	if (!r)
		r = vdpa_in_range(dev, "device area", a->used, packed ? 4 : 6 + 8 * num);
	if (r) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_VRING_ADDR %u refused", a->index);
		return r;
	}
	r = vhc_ioctl(dev->fd, VHOST_SET_VRING_ADDR, &k);
	if (!r)
		vhc_vring_rec_addr(&st->recs, a);
	return r;
}

/*
 * base goes through as the kernel packs it: split, the next avail index;
 * packed, the avail index with its wrap counter in bit 15 and the used
 * index with its wrap counter in bits 16-31.
 */
static int vdpa_set_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int base)
{
	return vdpa_vring_state(dev, VHOST_SET_VRING_BASE, index, base);
}

static int vdpa_get_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int *base)
{
	return vdpa_vring_state_get(dev, VHOST_GET_VRING_BASE, index, base);
}

static int vdpa_set_vring_kick(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return vdpa_vring_file(dev, VHOST_SET_VRING_KICK, index, fd);
}

static int vdpa_set_vring_call(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return vdpa_vring_file(dev, VHOST_SET_VRING_CALL, index, fd);
}

static int vdpa_set_vring_err(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return vdpa_vring_file(dev, VHOST_SET_VRING_ERR, index, fd);
}

static int vdpa_set_vring_enable(struct vhostctl_dev *dev, unsigned int index, int enable)
{
	int r = vdpa_vring_state(dev, VHOST_VDPA_SET_VRING_ENABLE, index, (unsigned int)enable);

	if (!r)
		vhc_vring_rec_enable(&st_of(dev)->recs, index, enable);
	return r;
}

/* The config ioctls carry a header, then len bytes. */
#define VDPA_CONFIG_MAX 65536u

static int vdpa_config(struct vhostctl_dev *dev, unsigned long req, unsigned int offset,
		       void *buf, unsigned int len, bool set)
{
	struct vhost_vdpa_config *c;
	int r;

	if (!len || len > VDPA_CONFIG_MAX)
		return -EINVAL;
	c = malloc(sizeof(*c) + len);
	if (!c)
		return -ENOMEM;
	c->off = offset;
	c->len = len;
	if (set)
		memcpy(c->buf, buf, len);
	r = vhc_ioctl(dev->fd, req, c);
	if (!r && !set)
		memcpy(buf, c->buf, len);
	free(c);
	return r;
}

static int vdpa_get_config(struct vhostctl_dev *dev, unsigned int offset, void *buf,
			   unsigned int len)
{
	return vdpa_config(dev, VHOST_VDPA_GET_CONFIG, offset, buf, len, false);
}

static int vdpa_set_config(struct vhostctl_dev *dev, unsigned int offset, const void *buf,
			   unsigned int len)
{
	return vdpa_config(dev, VHOST_VDPA_SET_CONFIG, offset, (void *)buf, len, true);
}

static int vdpa_get_status(struct vhostctl_dev *dev, uint8_t *status)
{
	__u8 s;
	int r = vhc_ioctl(dev->fd, VHOST_VDPA_GET_STATUS, &s);

	if (!r)
		*status = s;
	return r;
}

/*
 * Without IOTLB_PERSIST a reset drops the device's mappings while
 * vhost-vdpa keeps its own copy: send them again, so that the device and
 * the kernel agree with st->maps.
 */
static int vdpa_remap(struct vhostctl_dev *dev)
{
	struct vdpa_state *st = st_of(dev);
	int r = 0;

	if (!st->nmaps || (st->bf & BF(VHOST_BACKEND_F_IOTLB_PERSIST)))
		return 0;
	for (unsigned int i = 0; i < st->nmaps && !r; i++) {
		const struct vdpa_map *m = &st->maps[i];

		r = vdpa_iotlb_msg(dev, m->asid, VHOST_IOTLB_INVALIDATE, m->iova, m->size, 0, 0);
		if (!r)
			r = vdpa_iotlb_msg(dev, m->asid, VHOST_IOTLB_UPDATE, m->iova, m->size,
					   m->uaddr, VHOST_ACCESS_RW);
	}
	if (r) {
		/* Nothing is known to be mapped any more. */
		vhc_log(dev, VHOSTCTL_LOG_ERR, "reset: restoring the memory table failed");
		st->nmaps = 0;
	}
	return r;
}

static int vdpa_set_status(struct vhostctl_dev *dev, uint8_t status)
{
	__u8 s = status;
	int r = vhc_ioctl(dev->fd, VHOST_VDPA_SET_STATUS, &s);

	if (!r && !status) {
		vhc_vring_rec_reset(&st_of(dev)->recs);
		r = vdpa_remap(dev);
	}
	return r;
}

static int vdpa_reset(struct vhostctl_dev *dev)
{
	return vdpa_set_status(dev, 0);
}

static int vdpa_suspend(struct vhostctl_dev *dev)
{
	return vhc_ioctl(dev->fd, VHOST_VDPA_SUSPEND, NULL);
}

const struct vhc_dev_ops vhc_vdpa_ops = {
	.name = "vhost-vdpa",
	.virtio_status = true,
	.init = vdpa_init,
	.suspend = vdpa_suspend,
	.set_owner = vdpa_set_owner,
	.reset_owner = vdpa_reset_owner,
	.get_features = vdpa_get_features,
	.set_features = vdpa_set_features,
	.get_backend_features = vdpa_get_backend_features,
	.set_backend_features = vdpa_set_backend_features,
	.set_mem_table = vdpa_set_mem_table,
	.set_vring_num = vdpa_set_vring_num,
	.set_vring_addr = vdpa_set_vring_addr,
	.set_vring_base = vdpa_set_vring_base,
	.get_vring_base = vdpa_get_vring_base,
	.set_vring_kick = vdpa_set_vring_kick,
	.set_vring_call = vdpa_set_vring_call,
	.set_vring_err = vdpa_set_vring_err,
	.set_vring_enable = vdpa_set_vring_enable,
	.get_config = vdpa_get_config,
	.set_config = vdpa_set_config,
	.get_status = vdpa_get_status,
	.set_status = vdpa_set_status,
	.reset = vdpa_reset,
	.destroy = vdpa_destroy,
	/* No dirty log, busy polling or workers in vhost-vdpa. */
};

const struct vhc_vring_recs *vhc_vdpa_recs(struct vhostctl_dev *dev, uint64_t *acked_bf)
{
	if (vdpa_check(dev))
		return NULL;
	*acked_bf = st_of(dev)->bf;
	return &st_of(dev)->recs;
}

/* ---- vDPA-only calls ---------------------------------------------------- */

/* A read-only ioctl with a u32 (or unsigned int) result. */
static int vdpa_get_u32(struct vhostctl_dev *dev, unsigned long req, uint32_t *v)
{
	__u32 x = 0;
	int r = vdpa_check(dev);

	if (!r && !v)
		r = -EINVAL;
	if (!r)
		r = vhc_ioctl(dev->fd, req, &x);
	if (!r)
		*v = x;
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_device_id(struct vhostctl_dev *dev, uint32_t *id)
{
	return vdpa_get_u32(dev, VHOST_VDPA_GET_DEVICE_ID, id);
}

VHC_EXPORT int vhostctl_dev_vdpa_config_size(struct vhostctl_dev *dev, uint32_t *size)
{
	return vdpa_get_u32(dev, VHOST_VDPA_GET_CONFIG_SIZE, size);
}

VHC_EXPORT int vhostctl_dev_vdpa_vq_count(struct vhostctl_dev *dev, uint32_t *count)
{
	return vdpa_get_u32(dev, VHOST_VDPA_GET_VQS_COUNT, count);
}

VHC_EXPORT int vhostctl_dev_vdpa_group_count(struct vhostctl_dev *dev, uint32_t *count)
{
	return vdpa_get_u32(dev, VHOST_VDPA_GET_GROUP_NUM, count);
}

VHC_EXPORT int vhostctl_dev_vdpa_asid_count(struct vhostctl_dev *dev, uint32_t *count)
{
	return vdpa_get_u32(dev, VHOST_VDPA_GET_AS_NUM, count);
}

VHC_EXPORT int vhostctl_dev_vdpa_vring_num_max(struct vhostctl_dev *dev, uint16_t *num)
{
	__u16 n = 0;
	int r = vdpa_check(dev);

	if (!r && !num)
		r = -EINVAL;
	if (!r)
		r = vhc_ioctl(dev->fd, VHOST_VDPA_GET_VRING_NUM, &n);
	if (!r)
		*num = n;
	return vhc_ret(r);
}

/* A per-vring query answered in vhost_vring_state.num. */
static int vdpa_vring_query(struct vhostctl_dev *dev, unsigned long req, unsigned int index,
			    unsigned int *v)
{
	int r = vdpa_check(dev);

	if (!r && !v)
		r = -EINVAL;
	if (!r)
		r = vdpa_vring_state_get(dev, req, index, v);
	return r;
}

VHC_EXPORT int vhostctl_dev_vdpa_vring_size(struct vhostctl_dev *dev, unsigned int index,
					    uint16_t *size)
{
	unsigned int v = 0;
	int r = size ? vdpa_vring_query(dev, VHOST_VDPA_GET_VRING_SIZE, index, &v) : -EINVAL;

	/* A ring size is 16 bits in virtio; anything larger is nonsense. */
	if (!r && v > 0xffff)
		r = -EIO;
	if (!r)
		*size = (uint16_t)v;
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_vring_group(struct vhostctl_dev *dev, unsigned int index,
					     uint32_t *group)
{
	unsigned int v = 0;
	int r = group ? vdpa_vring_query(dev, VHOST_VDPA_GET_VRING_GROUP, index, &v) : -EINVAL;

	if (!r)
		*group = v;
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_vring_desc_group(struct vhostctl_dev *dev, unsigned int index,
						  uint32_t *group)
{
	unsigned int v = 0;
	int r = group ? vdpa_vring_query(dev, VHOST_VDPA_GET_VRING_DESC_GROUP, index, &v) :
			-EINVAL;

	if (!r)
		*group = v;
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_set_group_asid(struct vhostctl_dev *dev, unsigned int group,
						unsigned int asid)
{
	int r = vdpa_check(dev);

	if (!r)
		r = vdpa_vring_state(dev, VHOST_VDPA_SET_GROUP_ASID, group, asid);
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_iotlb_update(struct vhostctl_dev *dev, unsigned int asid,
					      uint64_t iova, uint64_t size, void *uaddr,
					      unsigned int perm)
{
	int r = vdpa_check(dev);

	if (!r && (!uaddr || !perm || perm & ~VHOSTCTL_VDPA_ACCESS_RW))
		r = -EINVAL;
	if (!r)
		r = vdpa_in_range(dev, "IOTLB update", iova, size);
	if (!r)
		r = vdpa_backend(dev);
	if (!r)
		r = vdpa_iotlb_msg(dev, asid, VHOST_IOTLB_UPDATE, iova, size, (uintptr_t)uaddr,
				   (uint8_t)perm);
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_iotlb_invalidate(struct vhostctl_dev *dev, unsigned int asid,
						  uint64_t iova, uint64_t size)
{
	int r = vdpa_check(dev);

	if (!r)
		r = vdpa_in_range(dev, "IOTLB invalidate", iova, size);
	if (!r)
		r = vdpa_backend(dev);
	if (!r)
		r = vdpa_iotlb_msg(dev, asid, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_suspend(struct vhostctl_dev *dev)
{
	int r = vdpa_check(dev);

	return vhc_ret(r ? r : vdpa_suspend(dev));
}

VHC_EXPORT int vhostctl_dev_vdpa_resume(struct vhostctl_dev *dev)
{
	int r = vdpa_check(dev);

	return vhc_ret(r ? r : vhc_ioctl(dev->fd, VHOST_VDPA_RESUME, NULL));
}

VHC_EXPORT int vhostctl_dev_vdpa_set_config_call(struct vhostctl_dev *dev, int fd)
{
	int r = vdpa_check(dev);

	if (!r && fd < -1)
		r = -EBADF;
	if (!r)
		r = vhc_ioctl(dev->fd, VHOST_VDPA_SET_CONFIG_CALL, &fd);
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_vdpa_iova_range(struct vhostctl_dev *dev,
					    struct vhostctl_vdpa_iova_range *range)
{
	struct vhost_vdpa_iova_range rg;
	int r = vdpa_check(dev);

	if (!r && !range)
		r = -EINVAL;
	if (!r)
		r = vdpa_range(dev, &rg);
	if (!r) {
		range->first = rg.first;
		range->last = rg.last;
	}
	return vhc_ret(r);
}

VHC_EXPORT void *vhostctl_dev_vdpa_map_doorbell(struct vhostctl_dev *dev, unsigned int index)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t nvqs;
	void *p;
	int r;

	r = vdpa_check(dev);
	if (!r)
		r = vhostctl_dev_vdpa_vq_count(dev, &nvqs);
	if (!r && index >= nvqs)
		r = -ENOBUFS;
	if (r) {
		errno = -r;
		return NULL;
	}
	/* vhost-vdpa wants one shared, write-only page at index pages in. */
	p = mmap(NULL, (size_t)page, PROT_WRITE, MAP_SHARED, dev->fd, (off_t)index * page);
	if (p != MAP_FAILED)
		return p;
	r = errno;
	/* The kernel's internal ENOTSUPP leaks out when the parent has no doorbell. */
	if (r == VHC_KERNEL_ENOTSUPP || r == ENODEV)
		r = EOPNOTSUPP;
	vhc_log(dev, VHOSTCTL_LOG_INFO, "vring %u: no doorbell page (%s)", index,
		r == EOPNOTSUPP ? "the device gives none" : strerror(r));
	errno = r;
	return NULL;
}

VHC_EXPORT int vhostctl_dev_vdpa_unmap_doorbell(struct vhostctl_dev *dev, void *doorbell)
{
	int r = vdpa_check(dev);

	if (r || !doorbell)
		return vhc_ret(r);
	if (munmap(doorbell, (size_t)sysconf(_SC_PAGESIZE)))
		return vhc_err(errno);
	return 0;
}
