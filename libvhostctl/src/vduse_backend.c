// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A device written on the vhost-user backend API, served over VDUSE.
 *
 * The backend object holds the device's facts (features, config space,
 * queue count) and its callbacks (queue handler, reset).  Here they become
 * a VDUSE description; the VDUSE transport calls the backend's handler with
 * the backend itself, and while it serves, vhc_vu_backend_queue() hands
 * out the VDUSE queues, so a handler that serves several queues (the net
 * loopback moves TX to RX) runs as it does under vhost-user.
 */
#include <errno.h>

#include "vu_backend.h"

#define VDB_DEFAULT_QSIZE 256u

static int vdb_queue(struct vhostctl_vduse *vd, unsigned int index, struct vhostctl_devq *q,
		     void *ctx)
{
	struct vhostctl_vu_backend *be = ctx;

	(void)vd;
	return be->o.queue(be, index, q, be->o.ctx);
}

static void vdb_reset(struct vhostctl_vduse *vd, void *ctx)
{
	struct vhostctl_vu_backend *be = ctx;

	(void)vd;
	if (be->o.reset)
		be->o.reset(be, be->o.ctx);
}

/* Run by vhostctl_vduse_free() once no handler can run. */
static void vdb_detach(void *ctx)
{
	struct vhostctl_vu_backend *be = ctx;

	be->vduse = NULL;
}

static void vdb_detach_free(void *ctx)
{
	vdb_detach(ctx);
	vhostctl_vu_backend_free(ctx);
}

VHC_EXPORT struct vhostctl_vduse *vhostctl_vduse_serve(struct vhostctl_vu_backend *be,
							 const struct vhostctl_vduse_serve_opts *opts)
{
	struct vhostctl_vduse_serve_opts so;
	struct vhostctl_vduse *vd;
	unsigned int qsize;
	int r;

	r = vhc_opts_copy(&so, sizeof(so), opts);
	if (!be || !opts || r) {
		errno = r ? -r : EINVAL;
		return NULL;
	}
	if (be->vduse || be->running || be->conn_fd >= 0 || be->listen_fd >= 0) {
		errno = EBUSY;
		return NULL;
	}
	if (!so.device_id && be->cls)
		so.device_id = be->cls->virtio_id;
	if (!so.device_id) {
		errno = EINVAL;
		return NULL;
	}
	qsize = so.queue_size;
	if (!qsize)
		qsize = be->o.max_queue_size < VDB_DEFAULT_QSIZE ? be->o.max_queue_size
								  : VDB_DEFAULT_QSIZE;
	if (qsize > be->o.max_queue_size) {
		errno = EINVAL;
		return NULL;
	}
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_opts, vo,
				   .log = be->o.log,
				   .log_ctx = be->o.log_ctx,
				   .log_level = be->o.log_level,
				   .name = so.name,
				   .device_id = so.device_id,
				   .vendor_id = so.vendor_id,
				   /* the vhost-user transport's own bit means nothing here */
				   .features = be->o.features & ~VHC_BIT(VHC_F_PROTOCOL_FEATURES),
				   .no_features = be->o.no_features,
				   .num_queues = be->o.num_queues,
				   .queue_size = qsize,
				   .config = be->config,
				   .config_len = be->o.config_len,
				   .flags = so.flags,
				   .queue = vdb_queue,
				   .reset = vdb_reset,
				   .ctx = be);

		vd = vhostctl_vduse_new(&vo);
	}
	if (!vd)
		return NULL;
	be->vduse = vd;
	vhc_vduse_own_ctx(vd, vdb_detach);
	return vd;
}

/* vduse_blk.c: @vd frees @be with itself. */
void vhc_vduse_own_backend(struct vhostctl_vduse *vd)
{
	vhc_vduse_own_ctx(vd, vdb_detach_free);
}
