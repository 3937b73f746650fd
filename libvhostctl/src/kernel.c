// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Kernel transport: vhost-net, vhost-vsock and the other in-kernel vhost
 * devices, driven through ioctls on their character device.
 */
#include <stdlib.h>
#include <sys/ioctl.h>

#include "internal.h"
#include "kabi.h"

static int kern_set_owner(struct vhostctl_dev *dev)
{
	int r = vhc_ioctl(dev->fd, VHOST_SET_OWNER, NULL);

	if (r == -ENOTTY)
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_OWNER: fd %d is not a vhost device", dev->fd);
	return r;
}

static int kern_reset_owner(struct vhostctl_dev *dev)
{
	return vhc_ioctl(dev->fd, VHOST_RESET_OWNER, NULL);
}

static int kern_get_features(struct vhostctl_dev *dev, uint64_t *features)
{
	__u64 f;
	int r = vhc_ioctl(dev->fd, VHOST_GET_FEATURES, &f);

	if (!r)
		*features = f;
	return r;
}

static int kern_set_features(struct vhostctl_dev *dev, uint64_t features)
{
	__u64 f = features;

	return vhc_ioctl(dev->fd, VHOST_SET_FEATURES, &f);
}

static int kern_get_backend_features(struct vhostctl_dev *dev, uint64_t *features)
{
	__u64 f;
	int r = vhc_ioctl(dev->fd, VHOST_GET_BACKEND_FEATURES, &f);

	if (!r)
		*features = f;
	return r;
}

static int kern_set_backend_features(struct vhostctl_dev *dev, uint64_t features)
{
	__u64 f = features;

	return vhc_ioctl(dev->fd, VHOST_SET_BACKEND_FEATURES, &f);
}

static int kern_set_mem_table(struct vhostctl_dev *dev, const struct vhostctl_mem *mem)
{
	int n = vhostctl_mem_num_regions(mem);
	struct vhost_memory *m;
	int r;

	if (n < 0)
		return n;
	m = calloc(1, sizeof(*m) + (size_t)n * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = (__u32)n;
	for (int i = 0; i < n; i++) {
		struct vhostctl_mem_region reg;

		vhostctl_mem_get_region(mem, (unsigned int)i, &reg);
		m->regions[i].guest_phys_addr = reg.gpa;
		m->regions[i].memory_size = reg.size;
		m->regions[i].userspace_addr = (uintptr_t)reg.hva;
	}
	r = vhc_ioctl(dev->fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	if (r == -E2BIG || r == -ENOMEM)
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_MEM_TABLE: %d regions refused (vhost.max_mem_regions)", n);
	return r;
}

static int kern_vring_state(struct vhostctl_dev *dev, unsigned long req, unsigned int index,
			    unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return vhc_ioctl(dev->fd, req, &s);
}

static int kern_vring_state_get(struct vhostctl_dev *dev, unsigned long req, unsigned int index,
				unsigned int *num)
{
	struct vhost_vring_state s = { .index = index };
	int r = vhc_ioctl(dev->fd, req, &s);

	if (!r)
		*num = s.num;
	return r;
}

static int kern_vring_file(struct vhostctl_dev *dev, unsigned long req, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return vhc_ioctl(dev->fd, req, &f);
}

static int kern_set_vring_num(struct vhostctl_dev *dev, unsigned int index, unsigned int num)
{
	return kern_vring_state(dev, VHOST_SET_VRING_NUM, index, num);
}

/*
 * The kernel takes our virtual addresses for the rings (it reads them with
 * copy_from_user), and a guest physical one for the used-ring log.
 */
static int kern_set_vring_addr(struct vhostctl_dev *dev, const struct vhostctl_vring_addr *a)
{
	struct vhost_vring_addr k = { .index = a->index };
	void *desc, *avail, *used;

	if (!dev->mem) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_VRING_ADDR %u: no memory table", a->index);
		return -EINVAL;
	}
	/* The smallest ring (one entry) must at least be there. */
	desc = vhc_mem_gpa_to_hva(dev->mem, a->desc, 16);
	avail = vhc_mem_gpa_to_hva(dev->mem, a->avail, 6);
	used = vhc_mem_gpa_to_hva(dev->mem, a->used, 6);
	if (!desc || !avail || !used) {
		vhc_log(dev, VHOSTCTL_LOG_ERR,
			"SET_VRING_ADDR %u: ring address outside the memory table", a->index);
		return -EFAULT;
	}
	k.desc_user_addr = (uintptr_t)desc;
	k.avail_user_addr = (uintptr_t)avail;
	k.used_user_addr = (uintptr_t)used;
	k.log_guest_addr = a->log;
	if (a->flags & VHOSTCTL_VRING_F_LOG)
		k.flags |= 1u << VHOST_VRING_F_LOG;
	return vhc_ioctl(dev->fd, VHOST_SET_VRING_ADDR, &k);
}

static int kern_set_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int base)
{
	return kern_vring_state(dev, VHOST_SET_VRING_BASE, index, base);
}

static int kern_get_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int *base)
{
	return kern_vring_state_get(dev, VHOST_GET_VRING_BASE, index, base);
}

static int kern_set_vring_kick(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return kern_vring_file(dev, VHOST_SET_VRING_KICK, index, fd);
}

static int kern_set_vring_call(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return kern_vring_file(dev, VHOST_SET_VRING_CALL, index, fd);
}

static int kern_set_vring_err(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return kern_vring_file(dev, VHOST_SET_VRING_ERR, index, fd);
}

static int kern_set_busyloop(struct vhostctl_dev *dev, unsigned int index, unsigned int usecs)
{
	return kern_vring_state(dev, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, index, usecs);
}

static int kern_get_busyloop(struct vhostctl_dev *dev, unsigned int index, unsigned int *usecs)
{
	return kern_vring_state_get(dev, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, index, usecs);
}

static int kern_set_log_base(struct vhostctl_dev *dev, const struct vhostctl_log *log)
{
	__u64 base = (uintptr_t)log->base;

	if (!log->base)
		return -EINVAL;
	return vhc_ioctl(dev->fd, VHOST_SET_LOG_BASE, &base);
}

static int kern_set_log_fd(struct vhostctl_dev *dev, int fd)
{
	return vhc_ioctl(dev->fd, VHOST_SET_LOG_FD, &fd);
}

static int kern_new_worker(struct vhostctl_dev *dev, unsigned int *worker_id)
{
	struct vhost_worker_state w = { 0 };
	int r = vhc_ioctl(dev->fd, VHOST_NEW_WORKER, &w);

	if (!r)
		*worker_id = w.worker_id;
	return r;
}

static int kern_free_worker(struct vhostctl_dev *dev, unsigned int worker_id)
{
	struct vhost_worker_state w = { .worker_id = worker_id };

	return vhc_ioctl(dev->fd, VHOST_FREE_WORKER, &w);
}

static int kern_attach_vring_worker(struct vhostctl_dev *dev, unsigned int index,
				    unsigned int worker_id)
{
	struct vhost_vring_worker w = { .index = index, .worker_id = worker_id };

	return vhc_ioctl(dev->fd, VHOST_ATTACH_VRING_WORKER, &w);
}

static int kern_get_vring_worker(struct vhostctl_dev *dev, unsigned int index,
				 unsigned int *worker_id)
{
	struct vhost_vring_worker w = { .index = index };
	int r = vhc_ioctl(dev->fd, VHOST_GET_VRING_WORKER, &w);

	if (!r)
		*worker_id = w.worker_id;
	return r;
}

static int kern_set_fork_owner(struct vhostctl_dev *dev, unsigned int mode)
{
	__u8 m = (__u8)mode;

	return vhc_ioctl(dev->fd, VHOST_SET_FORK_FROM_OWNER, &m);
}

static int kern_get_fork_owner(struct vhostctl_dev *dev, unsigned int *mode)
{
	__u8 m = 0;
	int r = vhc_ioctl(dev->fd, VHOST_GET_FORK_FROM_OWNER, &m);

	if (!r)
		*mode = m;
	return r;
}

/* vhost-net, vhost-vsock: transport-specific calls. */

VHC_EXPORT int vhostctl_net_set_backend(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL)
		return vhc_err(dev ? EOPNOTSUPP : EINVAL);
	if (fd < -1)
		return vhc_err(EBADF);
	return vhc_ret(kern_vring_file(dev, VHOST_NET_SET_BACKEND, index, fd));
}

VHC_EXPORT int vhostctl_vsock_set_guest_cid(struct vhostctl_dev *dev, uint64_t cid)
{
	__u64 c = cid;

	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL)
		return vhc_err(dev ? EOPNOTSUPP : EINVAL);
	return vhc_ret(vhc_ioctl(dev->fd, VHOST_VSOCK_SET_GUEST_CID, &c));
}

VHC_EXPORT int vhostctl_vsock_set_running(struct vhostctl_dev *dev, int running)
{
	int v = !!running;

	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL)
		return vhc_err(dev ? EOPNOTSUPP : EINVAL);
	return vhc_ret(vhc_ioctl(dev->fd, VHOST_VSOCK_SET_RUNNING, &v));
}

VHC_EXPORT unsigned int vhostctl_net_hdr_size(uint64_t features)
{
	/* struct virtio_net_hdr_mrg_rxbuf (12) with MRG_RXBUF or VERSION_1, else 10. */
	if (features & ((1ULL << VHOSTCTL_NET_F_MRG_RXBUF) | (1ULL << VHOSTCTL_F_VERSION_1)))
		return 12;
	return 10;
}

const struct vhc_dev_ops vhc_kernel_ops = {
	.name = "kernel",
	.set_owner = kern_set_owner,
	.reset_owner = kern_reset_owner,
	.get_features = kern_get_features,
	.set_features = kern_set_features,
	.get_backend_features = kern_get_backend_features,
	.set_backend_features = kern_set_backend_features,
	.set_mem_table = kern_set_mem_table,
	.set_vring_num = kern_set_vring_num,
	.set_vring_addr = kern_set_vring_addr,
	.set_vring_base = kern_set_vring_base,
	.get_vring_base = kern_get_vring_base,
	.set_vring_kick = kern_set_vring_kick,
	.set_vring_call = kern_set_vring_call,
	.set_vring_err = kern_set_vring_err,
	.set_vring_busyloop_timeout = kern_set_busyloop,
	.get_vring_busyloop_timeout = kern_get_busyloop,
	.set_log_base = kern_set_log_base,
	.set_log_fd = kern_set_log_fd,
	.new_worker = kern_new_worker,
	.free_worker = kern_free_worker,
	.attach_vring_worker = kern_attach_vring_worker,
	.get_vring_worker = kern_get_vring_worker,
	.set_fork_owner = kern_set_fork_owner,
	.get_fork_owner = kern_get_fork_owner,
	/* No vring enable, config space, status or device reset in kernel vhost. */
};
