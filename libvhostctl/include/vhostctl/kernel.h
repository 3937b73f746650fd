/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * In-kernel vhost devices: the vhost-net and vhost-vsock specific calls, and
 * the virtio-net / virtio-vsock wire formats a guest end needs.  These calls
 * work on handles of the kernel transport only (-EOPNOTSUPP otherwise).
 */
#ifndef VHOSTCTL_KERNEL_H
#define VHOSTCTL_KERNEL_H

#include <stdint.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostctl_dev;

/* Feature bit numbers a control plane negotiates with vhost-net / vhost-vsock. */
#define VHOSTCTL_NET_F_MRG_RXBUF 15
#define VHOSTCTL_F_NOTIFY_ON_EMPTY 24
#define VHOSTCTL_F_LOG_ALL 26
#define VHOSTCTL_F_ANY_LAYOUT 27
#define VHOSTCTL_NET_F_VIRTIO_NET_HDR 27
#define VHOSTCTL_F_INDIRECT_DESC 28
#define VHOSTCTL_F_EVENT_IDX 29
#define VHOSTCTL_F_VERSION_1 32
#define VHOSTCTL_F_ACCESS_PLATFORM 33
#define VHOSTCTL_VSOCK_F_SEQPACKET 1

/* vhost-net vring indexes. */
#define VHOSTCTL_NET_RX 0
#define VHOSTCTL_NET_TX 1
/* vhost-vsock vring indexes (the event queue stays with the VMM). */
#define VHOSTCTL_VSOCK_RX 0
#define VHOSTCTL_VSOCK_TX 1

/**
 * struct vhostctl_net_hdr - virtio-net header (little endian on the wire)
 * @flags: VIRTIO_NET_HDR_F_*
 * @gso_type: VIRTIO_NET_HDR_GSO_*
 * @hdr_len: header length for GSO
 * @gso_size: segment size
 * @csum_start: where checksumming starts
 * @csum_offset: where the checksum goes, from @csum_start
 * @num_buffers: RX buffers a packet spans (with mergeable RX buffers or VERSION_1)
 *
 * Its size is vhostctl_net_hdr_size(): 12 with @num_buffers, else 10.
 */
struct vhostctl_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/**
 * vhostctl_net_hdr_size() - the virtio-net header size for a feature set
 * @features: the acknowledged feature bits
 *
 * Return: 12 when VIRTIO_NET_F_MRG_RXBUF or VIRTIO_F_VERSION_1 is set, else 10.
 */
VHOSTCTL_API unsigned int vhostctl_net_hdr_size(uint64_t features);

/**
 * vhostctl_net_set_backend() - attach a tap/tun or packet socket fd to a vring
 * @dev: a vhost-net handle
 * @index: VHOSTCTL_NET_RX or VHOSTCTL_NET_TX
 * @fd: the fd (the caller keeps it), or -1 to detach
 *
 * The vring must be fully set up (addresses, kick, call) first.
 *
 * Return: 0, -ENOTSOCK when @fd is neither tap/tun nor a packet socket,
 * -ENOBUFS for a bad index, -EFAULT when the ring is not accessible, or -errno.
 */
VHOSTCTL_API int vhostctl_net_set_backend(struct vhostctl_dev *dev, unsigned int index, int fd);

/**
 * vhostctl_vsock_set_guest_cid() - give a vhost-vsock device its guest CID
 * @dev: a vhost-vsock handle
 * @cid: the CID, above 2 and below 2^32 - 1, unique on the host
 *
 * Return: 0, -EINVAL for a reserved CID, -EADDRINUSE when another device has
 * it, or -errno.
 */
VHOSTCTL_API int vhostctl_vsock_set_guest_cid(struct vhostctl_dev *dev, uint64_t cid);

/**
 * vhostctl_vsock_set_running() - start or stop a vhost-vsock device
 * @dev: a vhost-vsock handle
 * @running: 1 to start, 0 to stop
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vsock_set_running(struct vhostctl_dev *dev, int running);

/* virtio-vsock packet header (little endian, packed, 44 bytes). */
#define VHOSTCTL_VSOCK_HDR_SIZE 44
#define VHOSTCTL_VSOCK_HOST_CID 2
#define VHOSTCTL_VSOCK_TYPE_STREAM 1
#define VHOSTCTL_VSOCK_TYPE_SEQPACKET 2
#define VHOSTCTL_VSOCK_OP_REQUEST 1
#define VHOSTCTL_VSOCK_OP_RESPONSE 2
#define VHOSTCTL_VSOCK_OP_RST 3
#define VHOSTCTL_VSOCK_OP_SHUTDOWN 4
#define VHOSTCTL_VSOCK_OP_RW 5
#define VHOSTCTL_VSOCK_OP_CREDIT_UPDATE 6
#define VHOSTCTL_VSOCK_OP_CREDIT_REQUEST 7
#define VHOSTCTL_VSOCK_SHUTDOWN_RCV 1
#define VHOSTCTL_VSOCK_SHUTDOWN_SEND 2

/**
 * struct vhostctl_vsock_hdr - virtio-vsock packet header
 * @src_cid: source CID
 * @dst_cid: destination CID
 * @src_port: source port
 * @dst_port: destination port
 * @len: payload bytes after the header
 * @type: VHOSTCTL_VSOCK_TYPE_*
 * @op: VHOSTCTL_VSOCK_OP_*
 * @flags: for SHUTDOWN: VHOSTCTL_VSOCK_SHUTDOWN_*
 * @buf_alloc: receive buffer space of the sender
 * @fwd_cnt: bytes the sender has consumed
 */
struct vhostctl_vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_KERNEL_H */
