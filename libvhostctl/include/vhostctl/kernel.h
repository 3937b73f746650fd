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

/*
 * Device IOTLB.  With VIRTIO_F_ACCESS_PLATFORM acknowledged, vhost-net and
 * vhost-vsock no longer translate addresses through the memory table: ring
 * and buffer addresses are I/O virtual addresses, looked up in the device's
 * IOTLB, which starts empty.  On a lookup that finds nothing the kernel
 * queues a miss message and makes the vhost fd (vhostctl_dev_fd()) readable;
 * the ring waits until an update covering the address arrives, then the
 * kernel runs it again.  The library answers misses from the memory table,
 * where the I/O virtual address of a byte is its guest physical address.
 */

/**
 * VHOSTCTL_IOTLB_PREFETCH - map the whole memory table up front, one update
 * per region (no misses until something is invalidated)
 */
#define VHOSTCTL_IOTLB_PREFETCH 0x1u

/**
 * struct vhostctl_iotlb_miss - one miss, as served by vhostctl_dev_iotlb_serve()
 * @iova: the address the kernel asked for
 * @perm: the access it needs: 1 read, 2 write, 3 both (VHOST_ACCESS_*)
 * @answered: 1 when a mapping was sent, 0 when the address is not in the
 *	memory table (the ring that asked stays stopped)
 * @start: first I/O virtual address of the mapping sent (when @answered)
 * @size: its length in bytes (when @answered)
 */
struct vhostctl_iotlb_miss {
	uint64_t iova;
	uint32_t perm;
	uint32_t answered;
	uint64_t start;
	uint64_t size;
};

/**
 * typedef vhostctl_iotlb_miss_fn - told of every miss served
 * @ctx: the @miss_ctx of struct vhostctl_iotlb_opts
 * @miss: what was asked and answered; valid during the call only
 *
 * Called from vhostctl_dev_iotlb_serve(), with the handle's IOTLB lock held:
 * it must not call the vhostctl_dev_iotlb_* functions.
 */
typedef void (*vhostctl_iotlb_miss_fn)(void *ctx, const struct vhostctl_iotlb_miss *miss);

/**
 * struct vhostctl_iotlb_opts - how the device IOTLB is served
 * @sz: sizeof(struct vhostctl_iotlb_opts), see VHOSTCTL_OPTS_INIT()
 * @flags: 0 or VHOSTCTL_IOTLB_PREFETCH
 * @max_map: largest mapping sent for one miss: 0 for the whole memory region
 *	holding the address, else a power of two of at least 4096: the aligned
 *	block of that size holding the address, clipped to its region
 * @miss_cb: called for every miss served, or NULL
 * @miss_ctx: passed to @miss_cb
 */
struct vhostctl_iotlb_opts {
	size_t sz;
	unsigned int flags;
	uint64_t max_map;
	vhostctl_iotlb_miss_fn miss_cb;
	void *miss_ctx;
};

/**
 * struct vhostctl_iotlb_stats - counters of a handle's device IOTLB
 * @misses: miss messages read
 * @answered: misses answered with an update
 * @unanswered: misses outside the memory table, or with a bad access mode
 * @updates: update messages written (answers and up-front mappings)
 * @invalidates: invalidate messages written
 * @other_msgs: messages read that are not misses (access failures...)
 * @bad_msgs: messages read that were short or of an unknown format
 */
struct vhostctl_iotlb_stats {
	uint64_t misses;
	uint64_t answered;
	uint64_t unanswered;
	uint64_t updates;
	uint64_t invalidates;
	uint64_t other_msgs;
	uint64_t bad_msgs;
};

/**
 * vhostctl_dev_iotlb_enable() - serve the device IOTLB of a kernel vhost device
 * @dev: a vhost-net or vhost-vsock handle, before its rings start
 * @opts: options, or NULL for lazy whole-region answers
 *
 * Acknowledges VHOST_BACKEND_F_IOTLB_MSG_V2 (the only backend feature
 * vhost-net and vhost-vsock offer, so the backend features become exactly
 * that) and records how misses are to be answered.  Call it before
 * vhostctl_dev_setup() or the step-by-step calls; the device IOTLB itself is
 * used by the kernel only once VIRTIO_F_ACCESS_PLATFORM is acknowledged with
 * vhostctl_dev_set_features().  From then on, ring addresses given to
 * vhostctl_dev_set_vring_addr() are passed to the kernel as I/O virtual
 * addresses (their guest physical values), and vhostctl_net_set_backend() and
 * vhostctl_vsock_set_running() first map each used ring (the kernel writes it
 * inside those calls, where no miss can be waited for), or with
 * VHOSTCTL_IOTLB_PREFETCH the whole memory table.  Everything else is mapped
 * when the kernel misses it: poll vhostctl_dev_fd() for POLLIN and call
 * vhostctl_dev_iotlb_serve().
 *
 * Return: 0, -EOPNOTSUPP on a handle of another transport or when the
 * device does not offer IOTLB_MSG_V2, -EINVAL for bad options, or -errno.
 */
VHOSTCTL_API int vhostctl_dev_iotlb_enable(struct vhostctl_dev *dev,
					   const struct vhostctl_iotlb_opts *opts);

/**
 * vhostctl_dev_iotlb_serve() - answer every pending IOTLB miss
 * @dev: a handle with vhostctl_dev_iotlb_enable() done
 *
 * Reads every message pending on the vhost fd without blocking, up to 1024
 * per call (the fd then stays readable).  A miss
 * inside the memory table is answered with an update mapping the region
 * (or the @max_map block) around the address, read-write (the access of
 * the memory itself, which covers what was asked); a miss outside it is
 * not answered, only logged and counted: the kernel keeps that ring
 * stopped.  Other and malformed messages are logged, counted and skipped.
 * Event loops poll vhostctl_dev_fd() for POLLIN and call this on each wake-up.
 *
 * vhostctl_dev_iotlb_serve(), vhostctl_dev_iotlb_invalidate() and
 * vhostctl_dev_iotlb_stats() may run on a thread other than the one using
 * the rest of the handle (they lock against each other), as long as the
 * memory table is not changed or freed meanwhile.
 *
 * Return: the number of messages read (0 when none was pending), -EINVAL
 * when the IOTLB is not enabled, -EOPNOTSUPP on a handle of another
 * transport, or -errno of a failed read or write.
 */
VHOSTCTL_API int vhostctl_dev_iotlb_serve(struct vhostctl_dev *dev);

/**
 * vhostctl_dev_iotlb_invalidate() - drop device IOTLB mappings
 * @dev: a handle with vhostctl_dev_iotlb_enable() done and
 *	VIRTIO_F_ACCESS_PLATFORM acknowledged
 * @iova: first I/O virtual address of the range
 * @size: its length in bytes, not 0
 *
 * The kernel drops every mapping that overlaps the range, whole; the next
 * access to any address they covered misses again.
 *
 * Return: 0, -EINVAL for an empty or wrapping range or when the IOTLB is not
 * enabled or ACCESS_PLATFORM not acknowledged, -EOPNOTSUPP on a handle of
 * another transport, or -errno (the kernel reports its failures as -EFAULT).
 */
VHOSTCTL_API int vhostctl_dev_iotlb_invalidate(struct vhostctl_dev *dev, uint64_t iova,
					       uint64_t size);

/**
 * vhostctl_dev_iotlb_stats() - read the device IOTLB counters
 * @dev: a handle with vhostctl_dev_iotlb_enable() done
 * @stats: filled in
 *
 * Return: 0, -EINVAL when the IOTLB is not enabled or @stats is NULL,
 * -EOPNOTSUPP on a handle of another transport.
 */
VHOSTCTL_API int vhostctl_dev_iotlb_stats(struct vhostctl_dev *dev,
					  struct vhostctl_iotlb_stats *stats);

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
