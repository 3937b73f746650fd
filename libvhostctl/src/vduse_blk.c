// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The block device over VDUSE: blk_req.c's disk and requests, described to
 * the VDUSE transport as a virtio-blk device.  The same device as
 * vhostctl_vu_blk_new() serves over vhost-user; only the transport differs.
 */
#include <errno.h>
#include <stdlib.h>

#include "blk_req.h"
#include "internal.h"
#include "vduse_priv.h"

#define VIRTIO_ID_BLOCK 2
#define VDB_MAX_QUEUES 16
#define VDB_DEFAULT_QSIZE 256
/* Segments per request: a chain is header, segments, status, within MAX_IOV. */
#define VDB_MAX_SEGS 126

static int vdb_queue(struct vhostctl_vduse *vd, unsigned int index, struct vhostctl_devq *q,
		     void *ctx)
{
	(void)vd;
	(void)index;
	return vhc_blk_queue(ctx, q);
}

static void vdb_free(void *ctx)
{
	vhc_blk_close(ctx);
	free(ctx);
}

VHC_EXPORT struct vhostctl_vduse *vhostctl_vduse_blk_new(const struct vhostctl_vduse_blk_opts *opts)
{
	struct vhostctl_vduse_blk_opts o;
	uint8_t config[VHC_BLK_CONFIG_SIZE];
	struct vhostctl_vduse *vd;
	struct vhc_blk *b;
	unsigned int seg_max;
	int r;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (!opts || r) {
		errno = r ? -r : EINVAL;
		return NULL;
	}
	if (!o.num_queues)
		o.num_queues = 1;
	if (!o.queue_size)
		o.queue_size = VDB_DEFAULT_QSIZE;
	/* the rest of the description is checked by vhostctl_vduse_new() */
	if (o.num_queues > VDB_MAX_QUEUES || o.queue_size < 4 || o.fd < 0 ||
	    (!o.path && !o.fd && (!o.size || o.size % VHC_BLK_SECTOR))) {
		errno = EINVAL;
		return NULL;
	}
	seg_max = o.queue_size - 2 < VDB_MAX_SEGS ? o.queue_size - 2 : VDB_MAX_SEGS;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	r = vhc_blk_open(b, o.path, o.fd, o.size, o.read_only);
	if (r) {
		free(b);
		errno = -r;
		return NULL;
	}
	vhc_blk_config(b, o.num_queues, seg_max, config);
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_opts, vo,
				   .log = o.log,
				   .log_ctx = o.log_ctx,
				   .log_level = o.log_level,
				   .name = o.name,
				   .device_id = VIRTIO_ID_BLOCK,
				   .features = vhc_blk_features(b, o.num_queues, seg_max),
				   .num_queues = o.num_queues,
				   .queue_size = o.queue_size,
				   .config = config,
				   .config_len = sizeof(config),
				   .flags = o.flags,
				   .queue = vdb_queue,
				   .ctx = b);

		vd = vhostctl_vduse_new(&vo);
	}
	if (!vd) {
		r = errno;
		vdb_free(b);
		errno = r;
		return NULL;
	}
	vhc_vduse_own_ctx(vd, vdb_free);
	return vd;
}
