/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * vhost-vdpa: what only a vDPA device handle (VHOSTCTL_TRANSPORT_VDPA, a
 * /dev/vhost-vdpa-N) has: device facts, virtqueue groups and the address
 * spaces (ASIDs) they are bound to, IOTLB mappings in a chosen address space,
 * suspend and resume, the config-change eventfd and the doorbell pages.
 *
 * Every call here checks the handle's transport and fails with -EOPNOTSUPP
 * on a kernel or vhost-user handle.  The generic vhostctl_dev_* calls work on
 * vDPA handles too; there, vhostctl_dev_set_mem_table() maps guest memory
 * through the IOTLB of address space 0 with IOVA = guest physical address,
 * and ring addresses are IOVAs.
 *
 * The device management side (creating vDPA devices over netlink) is
 * vhostctl/vdpa.h, the vhostctl_vdpa_* calls.
 */
#ifndef VHOSTCTL_VHOST_VDPA_H
#define VHOSTCTL_VHOST_VDPA_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostctl_dev;

/* Access rights of an IOTLB mapping, as the device may use it. */
/** VHOSTCTL_VDPA_ACCESS_RO - the device reads */
#define VHOSTCTL_VDPA_ACCESS_RO 0x1u
/** VHOSTCTL_VDPA_ACCESS_WO - the device writes */
#define VHOSTCTL_VDPA_ACCESS_WO 0x2u
/** VHOSTCTL_VDPA_ACCESS_RW - the device reads and writes */
#define VHOSTCTL_VDPA_ACCESS_RW 0x3u

/**
 * vhostctl_dev_vdpa_device_id() - the virtio device id
 * @dev: a vDPA handle
 * @id: where to store it (1 net, 2 block, ...)
 *
 * Return: 0 or -errno (-EOPNOTSUPP: not a vDPA handle).
 */
VHOSTCTL_API int vhostctl_dev_vdpa_device_id(struct vhostctl_dev *dev, uint32_t *id);

/**
 * vhostctl_dev_vdpa_config_size() - the size of the device's config space
 * @dev: a vDPA handle
 * @size: where to store it, in bytes
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_config_size(struct vhostctl_dev *dev, uint32_t *size);

/**
 * vhostctl_dev_vdpa_vq_count() - how many virtqueues the device has
 * @dev: a vDPA handle
 * @count: where to store it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_vq_count(struct vhostctl_dev *dev, uint32_t *count);

/**
 * vhostctl_dev_vdpa_vring_num_max() - the largest ring size the device takes
 * @dev: a vDPA handle
 * @num: where to store it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_vring_num_max(struct vhostctl_dev *dev, uint16_t *num);

/**
 * vhostctl_dev_vdpa_vring_size() - the ring size of one virtqueue (Linux 6.9+)
 * @dev: a vDPA handle, with its owner set
 * @index: the virtqueue
 * @size: where to store it
 *
 * Return: 0, -ENOBUFS for a bad index, -EOPNOTSUPP when the device does not
 * say (older kernels, or parents without the operation), -EPERM before
 * vhostctl_dev_set_owner(), or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_vring_size(struct vhostctl_dev *dev, unsigned int index,
					      uint16_t *size);

/**
 * vhostctl_dev_vdpa_group_count() - how many virtqueue groups the device has
 * @dev: a vDPA handle
 * @count: where to store it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_group_count(struct vhostctl_dev *dev, uint32_t *count);

/**
 * vhostctl_dev_vdpa_asid_count() - how many address spaces the device has
 * @dev: a vDPA handle
 * @count: where to store it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_asid_count(struct vhostctl_dev *dev, uint32_t *count);

/**
 * vhostctl_dev_vdpa_vring_group() - the group a virtqueue belongs to
 * @dev: a vDPA handle, with its owner set
 * @index: the virtqueue
 * @group: where to store it
 *
 * Return: 0, -ENOBUFS for a bad index, -EPERM before the owner is set, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_vring_group(struct vhostctl_dev *dev, unsigned int index,
					       uint32_t *group);

/**
 * vhostctl_dev_vdpa_vring_desc_group() - the group of a virtqueue's ring areas
 * @dev: a vDPA handle, with its owner set
 * @index: the virtqueue
 * @group: where to store it
 *
 * The descriptor, driver and device areas may sit in another group than the
 * buffers (Linux 6.7+), so that they can live in another address space.
 *
 * Return: 0, -ENOBUFS for a bad index, -EOPNOTSUPP when the device has no
 * such split, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_vring_desc_group(struct vhostctl_dev *dev, unsigned int index,
						    uint32_t *group);

/**
 * vhostctl_dev_vdpa_set_group_asid() - bind a virtqueue group to an address space
 * @dev: a vDPA handle, with its owner set
 * @group: the group
 * @asid: the address space, below vhostctl_dev_vdpa_asid_count()
 *
 * Every group starts in address space 0, where vhostctl_dev_set_mem_table()
 * maps guest memory.  Moving a group (the control virtqueue's, say) to
 * another space gives its queues only the mappings made there with
 * vhostctl_dev_vdpa_iotlb_update().
 *
 * Return: 0, -EINVAL for a bad address space, -ENOBUFS for a bad group, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_set_group_asid(struct vhostctl_dev *dev, unsigned int group,
						  unsigned int asid);

/**
 * vhostctl_dev_vdpa_iotlb_update() - map a range of our memory for the device
 * @dev: a vDPA handle, with its owner set
 * @asid: the address space
 * @iova: the device's address of the first byte
 * @size: bytes
 * @uaddr: the first byte in this process; a MAP_SHARED, file-backed mapping
 *         (memfd, shm, hugetlbfs): vhost-vdpa silently skips other memory
 * @perm: VHOSTCTL_VDPA_ACCESS_*
 *
 * Return: 0, -ERANGE when the range is outside the device's IOVA window,
 * -EOPNOTSUPP for an address space other than 0 when the device has only
 * one, -EFAULT when the kernel refused it (it reports every refusal as
 * EFAULT: an overlap with an existing mapping, a bad address space, the
 * locked-memory limit), or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_iotlb_update(struct vhostctl_dev *dev, unsigned int asid,
						uint64_t iova, uint64_t size, void *uaddr,
						unsigned int perm);

/**
 * vhostctl_dev_vdpa_iotlb_invalidate() - unmap a range from an address space
 * @dev: a vDPA handle, with its owner set
 * @asid: the address space
 * @iova: the first address
 * @size: bytes
 *
 * Return: 0 or -errno (as vhostctl_dev_vdpa_iotlb_update()).
 */
VHOSTCTL_API int vhostctl_dev_vdpa_iotlb_invalidate(struct vhostctl_dev *dev, unsigned int asid,
						    uint64_t iova, uint64_t size);

/**
 * vhostctl_dev_vdpa_suspend() - stop the device's processing, keeping its state
 * @dev: a vDPA handle, with its owner set
 *
 * Once suspended, vhostctl_dev_get_vring_base() reads indexes that no longer
 * move.  The kernel does nothing (and succeeds) before DRIVER_OK.
 *
 * Return: 0, -EOPNOTSUPP when the device cannot suspend, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_suspend(struct vhostctl_dev *dev);

/**
 * vhostctl_dev_vdpa_resume() - resume a suspended device (Linux 6.3+)
 * @dev: a vDPA handle, with its owner set
 *
 * Return: 0, -EOPNOTSUPP when the device cannot resume, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_resume(struct vhostctl_dev *dev);

/**
 * vhostctl_dev_vdpa_set_config_call() - eventfd the device signals on a config change
 * @dev: a vDPA handle, with its owner set
 * @fd: an eventfd, or -1 to unbind; the caller keeps it
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_set_config_call(struct vhostctl_dev *dev, int fd);

/**
 * struct vhostctl_vdpa_iova_range - the IOVA window the device can use
 * @first: first usable address
 * @last: last usable address (inclusive)
 */
struct vhostctl_vdpa_iova_range {
	uint64_t first;
	uint64_t last;
};

/**
 * vhostctl_dev_vdpa_iova_range() - read the device's IOVA window
 * @dev: a vDPA handle
 * @range: filled in
 *
 * Memory mappings and ring addresses must lie inside it.
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_iova_range(struct vhostctl_dev *dev,
					      struct vhostctl_vdpa_iova_range *range);

/**
 * vhostctl_dev_vdpa_map_doorbell() - map a virtqueue's doorbell page
 * @dev: a vDPA handle
 * @index: the virtqueue
 *
 * Writing the queue index as a 16-bit value to the returned address kicks
 * the queue without a system call (what the kick eventfd does otherwise).
 * The page is write-only; release it with vhostctl_dev_vdpa_unmap_doorbell().
 *
 * Return: the doorbell, or NULL with errno set: EOPNOTSUPP when the device
 * gives no doorbell page, ENOBUFS for a bad index, or another errno.
 */
VHOSTCTL_API void *vhostctl_dev_vdpa_map_doorbell(struct vhostctl_dev *dev, unsigned int index);

/**
 * vhostctl_dev_vdpa_unmap_doorbell() - release a doorbell page
 * @dev: the vDPA handle it was mapped from
 * @doorbell: what vhostctl_dev_vdpa_map_doorbell() returned, or NULL
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_dev_vdpa_unmap_doorbell(struct vhostctl_dev *dev, void *doorbell);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_VHOST_VDPA_H */
