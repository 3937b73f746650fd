/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Kernel ABI that the build system's headers may lack.  Debian 12 ships the
 * 6.1 uapi headers; the test kernel is 6.12.  Every definition here is
 * guarded, and names the kernel release that added it.  Values are facts of
 * the kernel's uapi (ioctl numbers, bit positions, struct layouts).
 */
#ifndef VHOSTCTL_KABI_H
#define VHOSTCTL_KABI_H

#include <linux/types.h>
#include <linux/vhost.h>

/* 6.5: extra vhost workers. */
#ifndef VHOST_NEW_WORKER
struct vhost_worker_state {
	unsigned int worker_id;
};

struct vhost_vring_worker {
	unsigned int index;
	unsigned int worker_id;
};

#define VHOST_NEW_WORKER _IOR(VHOST_VIRTIO, 0x8, struct vhost_worker_state)
#define VHOST_FREE_WORKER _IOW(VHOST_VIRTIO, 0x9, struct vhost_worker_state)
#define VHOST_ATTACH_VRING_WORKER _IOW(VHOST_VIRTIO, 0x15, struct vhost_vring_worker)
#define VHOST_GET_VRING_WORKER _IOWR(VHOST_VIRTIO, 0x16, struct vhost_vring_worker)
#endif

/* 6.3: resume a suspended vDPA device. */
#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME _IO(VHOST_VIRTIO, 0x7E)
#endif

/* 6.7: group of a vring's descriptor area. */
#ifndef VHOST_VDPA_GET_VRING_DESC_GROUP
#define VHOST_VDPA_GET_VRING_DESC_GROUP _IOWR(VHOST_VIRTIO, 0x7F, struct vhost_vring_state)
#endif

/* 6.9: per-vring size. */
#ifndef VHOST_VDPA_GET_VRING_SIZE
#define VHOST_VDPA_GET_VRING_SIZE _IOWR(VHOST_VIRTIO, 0x82, struct vhost_vring_state)
#endif

/* 6.17, backported to 6.12.y stable: vhost task or kthread workers. */
#ifndef VHOST_SET_FORK_FROM_OWNER
#define VHOST_FORK_OWNER_KTHREAD 0
#define VHOST_FORK_OWNER_TASK 1
#define VHOST_SET_FORK_FROM_OWNER _IOW(VHOST_VIRTIO, 0x84, __u8)
#define VHOST_GET_FORK_FROM_OWNER _IOR(VHOST_VIRTIO, 0x85, __u8)
#endif

/* Backend feature bits (bit numbers). */
#ifndef VHOST_BACKEND_F_RESUME
#define VHOST_BACKEND_F_RESUME 0x5 /* 6.3 */
#endif
#ifndef VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK
#define VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK 0x6 /* 6.4 */
#endif
#ifndef VHOST_BACKEND_F_DESC_ASID
#define VHOST_BACKEND_F_DESC_ASID 0x7 /* 6.7 */
#endif
#ifndef VHOST_BACKEND_F_IOTLB_PERSIST
#define VHOST_BACKEND_F_IOTLB_PERSIST 0x8 /* 6.7 */
#endif

/*
 * The kernel's internal ENOTSUPP, which vhost-vdpa's mmap() returns to
 * userspace as is when the parent has no doorbell page (since 5.8, still in
 * 6.12).  Not a userspace errno: never in the system headers.
 */
#ifndef VHC_KERNEL_ENOTSUPP
#define VHC_KERNEL_ENOTSUPP 524
#endif

/*
 * The vdpa generic netlink family, as of 6.12.  Never include the system's
 * <linux/vdpa.h>: in the 6.1 header attribute 21 is
 * VDPA_ATTR_VDPA_DEV_SUPPORTED_FEATURES, which 6.12 renumbered (21 is now
 * the block capacity).  Our own names, so that both can coexist.
 */
#define VHC_VDPA_GENL_NAME "vdpa"
#define VHC_VDPA_GENL_VERSION 1

enum {
	VHC_VDPA_CMD_MGMTDEV_NEW = 1,	/* 5.12: reply command of MGMTDEV_GET */
	VHC_VDPA_CMD_MGMTDEV_GET = 2,	/* 5.12 */
	VHC_VDPA_CMD_DEV_NEW = 3,	/* 5.12; also the reply command of DEV_GET */
	VHC_VDPA_CMD_DEV_DEL = 4,	/* 5.12 */
	VHC_VDPA_CMD_DEV_GET = 5,	/* 5.12 */
	VHC_VDPA_CMD_DEV_CONFIG_GET = 6,	/* 5.17 */
	VHC_VDPA_CMD_DEV_VSTATS_GET = 7,	/* 6.0 */
	VHC_VDPA_CMD_DEV_ATTR_SET = 8,	/* 6.12 */
};

enum {
	VHC_VDPA_ATTR_MGMTDEV_BUS_NAME = 1,	/* string */
	VHC_VDPA_ATTR_MGMTDEV_DEV_NAME = 2,	/* string */
	VHC_VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES = 3,	/* u64 */
	VHC_VDPA_ATTR_DEV_NAME = 4,	/* string */
	VHC_VDPA_ATTR_DEV_ID = 5,	/* u32 */
	VHC_VDPA_ATTR_DEV_VENDOR_ID = 6,	/* u32 */
	VHC_VDPA_ATTR_DEV_MAX_VQS = 7,	/* u32 */
	VHC_VDPA_ATTR_DEV_MAX_VQ_SIZE = 8,	/* u16 */
	VHC_VDPA_ATTR_DEV_MIN_VQ_SIZE = 9,	/* u16 */
	VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR = 10,	/* 6 bytes */
	VHC_VDPA_ATTR_DEV_NET_STATUS = 11,	/* u8 in the header, u16 on the wire */
	VHC_VDPA_ATTR_DEV_NET_CFG_MAX_VQP = 12,	/* u16 */
	VHC_VDPA_ATTR_DEV_NET_CFG_MTU = 13,	/* u16 */
	VHC_VDPA_ATTR_DEV_NEGOTIATED_FEATURES = 14,	/* u64 */
	VHC_VDPA_ATTR_DEV_MGMTDEV_MAX_VQS = 15,	/* u32 */
	VHC_VDPA_ATTR_DEV_SUPPORTED_FEATURES = 16,	/* u64 */
	VHC_VDPA_ATTR_DEV_QUEUE_INDEX = 17,	/* u32 */
	VHC_VDPA_ATTR_DEV_VENDOR_ATTR_NAME = 18,	/* string */
	VHC_VDPA_ATTR_DEV_VENDOR_ATTR_VALUE = 19,	/* u64 */
	VHC_VDPA_ATTR_DEV_FEATURES = 20,	/* u64, 6.2 */
	VHC_VDPA_ATTR_DEV_BLK_CFG_CAPACITY = 21,	/* u64, 6.9 */
	VHC_VDPA_ATTR_DEV_BLK_CFG_SIZE_MAX = 22,	/* u32, 6.9 */
	VHC_VDPA_ATTR_DEV_BLK_CFG_BLK_SIZE = 23,	/* u32, 6.9 */
	VHC_VDPA_ATTR_DEV_BLK_CFG_SEG_MAX = 24,	/* u32, 6.9 */
	VHC_VDPA_ATTR_DEV_BLK_CFG_NUM_QUEUES = 25,	/* u16, 6.9 */
	VHC_VDPA_ATTR_DEV_BLK_READ_ONLY = 35,	/* u8, 6.9 */
	VHC_VDPA_ATTR_DEV_BLK_FLUSH = 36,	/* u8, 6.9 */
	VHC_VDPA_ATTR_MAX = 36,
};

#endif /* VHOSTCTL_KABI_H */
