// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Block backend over vhost-user: the disk and its requests are blk_req.c's.
 * Requests complete before the handler returns, so GET_VRING_BASE never has
 * anything to drain: requests in flight when a ring stops are the ring's,
 * past the index it answers, and whoever starts it again serves them.
 *
 * Its own DEVICE_STATE (version 1): the disk's size in bytes (u64) and
 * whether it is read-only (u32), so that a migration onto another disk, or
 * from a writable one onto a read-only one, is refused rather than served
 * wrong.  The data itself is the storage's (a file both sides open).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_req.h"
#include "vu.h"

static int blk_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		     void *ctx)
{
	(void)be;
	(void)index;
	return vhc_blk_queue(ctx, q);
}

#define BLK_STATE_VERSION 1

struct blk_state {
	uint64_t size;
	uint32_t read_only;
	uint32_t pad;
};

static int blk_save(struct vhostctl_vu_backend *be, void *buf, size_t size, void *ctx)
{
	const struct vhc_blk *b = ctx;
	struct blk_state st = { .size = b->size, .read_only = b->read_only };

	(void)be;
	if (size < sizeof(st))
		return -ENOSPC;
	memcpy(buf, &st, sizeof(st));
	return sizeof(st);
}

static int blk_load(struct vhostctl_vu_backend *be, unsigned int version, const void *buf,
		    size_t len, void *ctx)
{
	const struct vhc_blk *b = ctx;
	struct blk_state st;

	(void)be;
	(void)version;	/* 1, the only one there is */
	if (len != sizeof(st))
		return -EBADMSG;
	memcpy(&st, buf, sizeof(st));
	/* Another disk, or a writable one served read-only: not this device. */
	if (st.size != b->size || (!st.read_only && b->read_only))
		return -EMEDIUMTYPE;
	return 0;
}

static void blk_free(void *ctx)
{
	vhc_blk_close(ctx);
	free(ctx);
}

static const struct vhc_vu_class blk_class = {
	.name = "blk",
	.virtio_id = 2,
	.queue = blk_queue,
	.free = blk_free,
};

struct vhostctl_vu_backend *vhc_vu_blk_new(const struct vhostctl_vu_blk_opts *o, int fd,
					   unsigned int seg_max)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo);
	uint8_t config[VHC_VU_MAX_CONFIG] = { 0 };
	unsigned int nq = o->num_queues ? o->num_queues : 1;
	struct vhc_blk *b;
	int r;

	if (nq > 16 || fd < 0 || (!o->path && !fd && (!o->size || o->size % VHC_BLK_SECTOR))) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	r = vhc_blk_open(b, o->path, o->path ? 0 : fd, o->size, o->read_only);
	if (r) {
		free(b);
		errno = -r;
		return NULL;
	}
	vhc_blk_config(b, nq, seg_max, config);
	bo.log = o->log;
	bo.log_ctx = o->log_ctx;
	bo.log_level = o->log_level;
	bo.features = vhc_blk_features(b, nq, seg_max);
	bo.num_queues = nq;
	/* Zero-filled past the fields we set, so any frontend's struct size is served. */
	bo.config = config;
	bo.config_len = sizeof(config);
	bo.state_version = BLK_STATE_VERSION;
	bo.save_state = blk_save;
	bo.load_state = blk_load;
	return vhc_vu_backend_new_class(&blk_class, &bo, b);
}

VHC_EXPORT struct vhostctl_vu_backend *vhostctl_vu_blk_new(const struct vhostctl_vu_blk_opts *opts)
{
	struct vhostctl_vu_blk_opts o;
	int r;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (!opts || r) {
		errno = r ? -r : EINVAL;
		return NULL;
	}
	return vhc_vu_blk_new(&o, 0, 0);
}

VHC_EXPORT void *vhostctl_vu_blk_data(struct vhostctl_vu_backend *be, uint64_t *size)
{
	struct vhc_blk *b;

	if (!be || vhc_vu_backend_class(be) != &blk_class) {
		errno = EINVAL;
		return NULL;
	}
	b = vhostctl_vu_backend_ctx(be);
	if (b->file) {
		errno = EINVAL;
		return NULL;
	}
	if (size)
		*size = b->size;
	return b->data;
}
