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

/* The features the driver accepted (0 before FEATURES_OK), any thread. */
uint64_t vhc_vduse_features(const struct vhostctl_vduse *vd);

/*
 * A test's seam: @vd over @dev_fd (a SOCK_SEQPACKET socket the test writes
 * struct vduse_dev_request to and reads the answers from; owned from here
 * on) with @fn in place of ioctl(2) on it: the test plays the kernel,
 * hostile answers included.  Nothing is created or destroyed in /dev/vduse.
 */
typedef int vhc_vduse_ioctl_fn(int fd, unsigned long req, void *arg);
struct vhostctl_vduse *vhc_vduse_fake(const struct vhostctl_vduse_opts *opts, int dev_fd,
				      vhc_vduse_ioctl_fn *fn);

/* vduse_backend.c: @vd, made by vhostctl_vduse_serve(), frees its backend with itself. */
void vhc_vduse_own_backend(struct vhostctl_vduse *vd);

#endif /* VHOSTCTL_VDUSE_PRIV_H */
