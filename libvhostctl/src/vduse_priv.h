/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* VDUSE internals shared by the transport and the devices built on it. */
#ifndef VHOSTCTL_VDUSE_PRIV_H
#define VHOSTCTL_VDUSE_PRIV_H

#include <vhostctl/vduse.h>

/*
 * Gives the device's ctx to @vd: vhostctl_vduse_free() calls @fn(ctx) once
 * the device is destroyed and no queue handler can run any more.
 */
void vhc_vduse_own_ctx(struct vhostctl_vduse *vd, void (*fn)(void *ctx));

/*
 * Queue @index of @vd while it runs (the driver set DRIVER_OK, no handler
 * failed since), or NULL: what a handler serving several queues reaches.
 */
struct vhostctl_devq *vhc_vduse_queue(struct vhostctl_vduse *vd, unsigned int index);

/* vduse_backend.c: @vd, made by vhostctl_vduse_serve(), frees its backend with itself. */
void vhc_vduse_own_backend(struct vhostctl_vduse *vd);

#endif /* VHOSTCTL_VDUSE_PRIV_H */
