/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The canonical set-up and tear-down of a vhost device, for a control plane
 * that would otherwise issue twenty calls: negotiate features, set the
 * memory table, set up N driver-side queues with their eventfds, start.
 */
#ifndef VHOSTCTL_SETUP_H
#define VHOSTCTL_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostctl_dev;
struct vhostctl_mem;
struct vhostctl_vq;
struct vhostctl_vq_opts;

/* Flags of struct vhostctl_setup_opts. */
/** VHOSTCTL_SETUP_NET_BACKEND - attach @net_backend_fd to every queue (vhost-net) */
#define VHOSTCTL_SETUP_NET_BACKEND 0x1u
/** VHOSTCTL_SETUP_VSOCK - set @vsock_cid and start the device (vhost-vsock) */
#define VHOSTCTL_SETUP_VSOCK 0x2u
/** VHOSTCTL_SETUP_LOG - have every queue log used-ring writes */
#define VHOSTCTL_SETUP_LOG 0x4u

/**
 * struct vhostctl_setup_opts - what vhostctl_dev_setup() does
 * @sz: sizeof(struct vhostctl_setup_opts)
 * @features: wanted feature bits; the negotiated set is offered & wanted
 * @required: bits that must be offered (else -EOPNOTSUPP at "features")
 * @nqueues: queues to set up, indexes 0..nqueues-1
 * @queue_size: ring size of each, a power of two
 * @flags: VHOSTCTL_SETUP_*
 * @net_backend_fd: tap/tun/packet socket fd, with VHOSTCTL_SETUP_NET_BACKEND
 * @vsock_cid: guest CID, with VHOSTCTL_SETUP_VSOCK
 * @vq_opts: layout options for every queue, or NULL
 */
struct vhostctl_setup_opts {
	size_t sz;
	uint64_t features;
	uint64_t required;
	unsigned int nqueues;
	unsigned int queue_size;
	unsigned int flags;
	int net_backend_fd;
	uint64_t vsock_cid;
	const struct vhostctl_vq_opts *vq_opts;
};

/**
 * vhostctl_dev_setup() - bring a device from open to running
 * @dev: a freshly opened handle
 * @mem: guest memory; the rings are allocated in it
 * @vqs: array of @opts->nqueues, filled with the new queues
 * @opts: what to do
 * @negotiated: where to store the negotiated features, or NULL
 *
 * Steps: get features, set owner, set features, set mem table, then per
 * queue: create, set num/base/addr/call/kick (and enable where the
 * transport has it), then start (net backend or vsock CID and running).
 * A kernel device gets no base for a split ring starting at 0: right after
 * set owner the kernel has every ring there.
 * On vhost-user each ring's fds are acknowledged (REPLY_ACK) or followed by
 * a GET_FEATURES barrier before the ring is the caller's.
 * On vDPA the virtio status is walked too: reset, ACKNOWLEDGE, DRIVER,
 * features (plus ACCESS_PLATFORM when offered), FEATURES_OK read back,
 * memory table through the IOTLB, queues, DRIVER_OK last.
 * On failure everything done is undone: each ring given to the device is
 * stopped (GET_VRING_BASE) before its fds are touched, and on vhost-user
 * they are left alone.  vhostctl_dev_setup_step() names
 * the step that failed (the log callback gets a line too).
 *
 * Return: 0 or the failed step's -errno.
 */
VHOSTCTL_API int vhostctl_dev_setup(struct vhostctl_dev *dev, struct vhostctl_mem *mem,
				    struct vhostctl_vq **vqs, const struct vhostctl_setup_opts *opts,
				    uint64_t *negotiated);

/**
 * vhostctl_dev_setup_step() - the step at which the last set-up or tear-down failed
 * @dev: the handle
 *
 * Return: a static string such as "set_vring_addr", or "" when none failed.
 */
VHOSTCTL_API const char *vhostctl_dev_setup_step(const struct vhostctl_dev *dev);

/**
 * vhostctl_dev_teardown() - stop a device set up by vhostctl_dev_setup()
 * @dev: the handle
 * @vqs: the queues; each is freed and its slot set to NULL
 * @nqueues: how many
 *
 * Stops the device (detaches the net backend, or stops vsock), stops each
 * vring (GET_VRING_BASE), unbinds its eventfds (kernel and vDPA only: on
 * vhost-user fd -1 would ask the backend to poll) and frees it; a vDPA
 * device is suspended first and reset last.  Carries on after an error and
 * reports the first.
 *
 * Return: 0 or the first -errno (vhostctl_dev_setup_step() names it).
 */
VHOSTCTL_API int vhostctl_dev_teardown(struct vhostctl_dev *dev, struct vhostctl_vq **vqs,
				       unsigned int nqueues);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_SETUP_H */
