// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The block device over VDUSE: vhostctl_vu_blk_new()'s device, served with
 * vhostctl_vduse_serve().  Only what VDUSE adds is here: an fd to serve and
 * SEG_MAX, which lets the kernel's virtio-blk send more than one segment
 * per request.
 */
#include <errno.h>

#include "internal.h"
#include "vduse_priv.h"
#include "vu.h"

#define VDB_MAX_QUEUES 16
#define VDB_DEFAULT_QSIZE 256
/* Segments per request: a chain is header, segments, status, within MAX_IOV. */
#define VDB_MAX_SEGS 126

VHC_EXPORT struct vhostctl_vduse *vhostctl_vduse_blk_new(const struct vhostctl_vduse_blk_opts *opts)
{
	struct vhostctl_vduse_blk_opts o;
	struct vhostctl_vu_backend *be;
	struct vhostctl_vduse *vd;
	unsigned int seg_max;
	int r;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (!opts || r) {
		errno = r ? -r : EINVAL;
		return NULL;
	}
	if (!o.queue_size)
		o.queue_size = VDB_DEFAULT_QSIZE;
	/* the rest of the description is checked by vhostctl_vduse_new() */
	if (o.num_queues > VDB_MAX_QUEUES || o.queue_size < 4) {
		errno = EINVAL;
		return NULL;
	}
	seg_max = o.queue_size - 2 < VDB_MAX_SEGS ? o.queue_size - 2 : VDB_MAX_SEGS;
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, bo,
				   .log = o.log,
				   .log_ctx = o.log_ctx,
				   .log_level = o.log_level,
				   .path = o.path,
				   .size = o.size,
				   .read_only = o.read_only,
				   .num_queues = o.num_queues);

		be = vhc_vu_blk_new(&bo, o.fd, seg_max);
	}
	if (!be)
		return NULL;
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_serve_opts, so,
				   .name = o.name,
				   .queue_size = o.queue_size,
				   .flags = o.flags);

		vd = vhostctl_vduse_serve(be, &so);
	}
	if (!vd) {
		r = errno;
		vhostctl_vu_backend_free(be);
		errno = r;
		return NULL;
	}
	vhc_vduse_own_backend(vd);
	return vd;
}
