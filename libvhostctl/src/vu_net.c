// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Net loopback backend: a packet the driver puts on TX queue 2k+1 comes back
 * on RX queue 2k.  Bursts of up to 64 packets are pushed back with one call
 * per queue and share one used-index update and at most one notification
 * per queue.
 *
 * With mergeable receive buffers (VIRTIO_NET_F_MRG_RXBUF) a frame larger
 * than one RX buffer is spread over as many as it needs, at most MRG_MAX,
 * the header's num_buffers saying how many; they are pushed with the rest
 * of the burst, so the driver sees the frame whole.  If the RX ring runs
 * short in the middle of a frame, its buffers are given back and the frame
 * waits, as a frame without any RX buffer does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vu.h"

#define NET_F_MTU 3
#define NET_F_MRG_RXBUF 15
#define NET_F_MAC 5
#define NET_F_STATUS 16
#define NET_F_MQ 22
#define NET_HDR_LEN 12	/* struct virtio_net_hdr_mrg_rxbuf: VERSION_1 always has num_buffers */
#define NET_NUM_BUFFERS 10	/* le16 num_buffers in that header */
#define BURST 64
#define MAX_IOV 64
#define MRG_MAX 64	/* RX buffers one frame may take */
#define RX_CAP (BURST + MRG_MAX)
#define FRAME_MAX 2048

/*
 * Counters are written by the dispatch thread, read by any thread (atomics).
 * The rest is the dispatch thread's: the buffers of one burst, pushed back
 * together at its end.
 */
struct vu_net {
	bool drop;
	uint64_t tx_packets, rx_packets, tx_bytes, dropped;
	struct vhostctl_devq_elem tx[BURST], rx[RX_CAP];
	uint32_t rx_len[RX_CAP];
	struct iovec txv[BURST][MAX_IOV], rxv[RX_CAP][MAX_IOV];
};

/*
 * A mergeable frame (@len bytes, header included) onto RX buffers from
 * n->rx[@nrx] on.  Returns the buffers taken (num_buffers written into the
 * first), 0 if the ring ran short (every buffer given back, most recent
 * first, and the RX kick asked for: *@more says to poll again instead),
 * -EMSGSIZE for a frame the ring cannot take (more than MRG_MAX buffers, a
 * buffer shorter than the header: given back, the caller drops it), or
 * -errno.
 */
static int net_rx_mrg(struct vu_net *n, struct vhostctl_devq *rxq, const uint8_t *frame,
		      size_t len, unsigned int nrx, int *more)
{
	struct vhostctl_devq_elem *rx = &n->rx[nrx];
	unsigned int k = 0;
	uint8_t nb[2];
	size_t off = 0;
	int r;

	while (off < len) {
		size_t take;

		if (k == MRG_MAX) {
			r = -EMSGSIZE;
			goto back;
		}
		r = vhostctl_devq_pop(rxq, &rx[k], n->rxv[nrx + k], MAX_IOV);
		if (r <= 0)
			goto back;
		k++;
		if (rx[k - 1].in_len < NET_HDR_LEN) {
			r = -EMSGSIZE;
			goto back;
		}
		take = len - off < rx[k - 1].in_len ? len - off : rx[k - 1].in_len;
		vhostctl_devq_copy_to(&rx[k - 1], 0, frame + off, take);
		n->rx_len[nrx + k - 1] = (uint32_t)take;
		off += take;
	}
	nb[0] = (uint8_t)k;
	nb[1] = (uint8_t)(k >> 8);
	vhostctl_devq_copy_to(rx, NET_NUM_BUFFERS, nb, sizeof(nb));
	return (int)k;
back:
	for (unsigned int i = k; i-- > 0;)
		if (vhostctl_devq_unpop(rxq, &rx[i]) < 0)
			return -EIO;
	if (r == 0 && !n->drop) {
		/* The buffers given back do not count: wait for the kick of another. */
		r = vhostctl_devq_notify_more(rxq, rx, k);
		if (r < 0)
			return r;
		*more = r;
		return 0;
	}
	return r ? r : -EMSGSIZE;
}

/*
 * One TX buffer @tx (@len bytes) looped onto the RX ring with mergeable
 * buffers.  Returns 1 when it is done with (delivered or dropped and
 * counted), 0 when it waits for RX buffers (given back), or -errno.
 */
static int net_loop_mrg(struct vu_net *n, struct vhostctl_devq *rxq, struct vhostctl_devq *txq,
			struct vhostctl_devq_elem *tx, unsigned int *nrx, uint64_t *bytes,
			uint64_t *dropped, int *more)
{
	uint8_t frame[FRAME_MAX];
	size_t len = tx->out_len;
	int r;

	if (len < NET_HDR_LEN || len > sizeof(frame)) {
		(*dropped)++;
		return 1;
	}
	/* The header is the device's: a clean one, num_buffers filled in below. */
	memset(frame, 0, NET_HDR_LEN);
	vhostctl_devq_copy_from(tx, NET_HDR_LEN, frame + NET_HDR_LEN, len - NET_HDR_LEN);
	r = net_rx_mrg(n, rxq, frame, len, *nrx, more);
	if (r == -EMSGSIZE) {
		(*dropped)++;
		return 1;
	}
	if (r < 0)
		return r;
	if (r == 0) {
		vhostctl_devq_unpop(txq, tx);
		return 0;
	}
	*nrx += (unsigned int)r;
	*bytes += len;
	return 1;
}

/*
 * One burst from a TX queue to its RX queue.  Buffers are popped one at a
 * time (a TX buffer without an RX buffer to go to is given back, which only
 * the last pop allows) and pushed back in two bursts at the end.
 */
static int net_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		     void *ctx)
{
	struct vu_net *n = vhostctl_vu_backend_ctx(be);
	struct vhostctl_devq *rxq, *txq;
	unsigned int ntx = 0, nrx = 0, frames = 0;
	uint64_t bytes = 0, dropped = 0;
	int r, more = 0;
	bool mrg;

	(void)ctx;
	/* Only the TX queue's handler moves packets; an RX kick retries it. */
	rxq = vhc_vu_backend_queue(be, index & ~1u);
	txq = vhc_vu_backend_queue(be, index | 1u);
	(void)q;
	if (!rxq || !txq)
		return 0;
	mrg = vhc_vu_backend_acked(be) & VHC_BIT(NET_F_MRG_RXBUF);
	while (ntx < BURST) {
		static const uint8_t hdr[NET_HDR_LEN] = { [10] = 1 };	/* num_buffers = 1 */
		struct vhostctl_devq_elem *tx = &n->tx[ntx], *rx = &n->rx[nrx];
		uint8_t buf[2048];
		size_t len;

		r = vhostctl_devq_pop(txq, tx, n->txv[ntx], MAX_IOV);
		if (r <= 0) {
			if (r < 0)
				goto out;
			break;
		}
		if (mrg) {
			unsigned int before = nrx;

			/* Room for the largest frame, else the burst ends here. */
			if (nrx + MRG_MAX > RX_CAP) {
				vhostctl_devq_unpop(txq, tx);
				more = 1;
				break;
			}
			r = net_loop_mrg(n, rxq, txq, tx, &nrx, &bytes, &dropped, &more);
			if (r < 0)
				goto out;
			if (!r)
				break;
			frames += nrx != before;
			ntx++;
			continue;
		}
		len = tx->out_len;
		r = vhostctl_devq_pop(rxq, rx, n->rxv[nrx], MAX_IOV);
		if (r < 0)
			goto out;
		if (r == 0 && !n->drop) {
			vhostctl_devq_unpop(txq, tx);
			/* Wait for RX buffers: ask for the RX kick that brings us back. */
			r = vhostctl_devq_notify_enable(rxq, 1);
			if (r < 0)
				goto out;
			more = r;
			break;
		}
		if (r == 0 || len < NET_HDR_LEN || len > sizeof(buf) || rx->in_len < len) {
			if (r > 0)
				vhostctl_devq_unpop(rxq, rx);
			dropped++;
		} else {
			/* The header is the device's: a clean one, one buffer. */
			vhostctl_devq_copy_to(rx, 0, hdr, NET_HDR_LEN);
			if (len > NET_HDR_LEN) {
				size_t got = vhostctl_devq_copy_from(tx, NET_HDR_LEN, buf,
								     len - NET_HDR_LEN);

				vhostctl_devq_copy_to(rx, NET_HDR_LEN, buf, got);
			}
			n->rx_len[nrx++] = (uint32_t)len;
			frames++;
			bytes += len;
		}
		ntx++;
	}
	if (ntx == BURST)
		more = 1;
	r = more;
out:
	/* Counted before the driver can see the packets back. */
	__atomic_add_fetch(&n->tx_packets, ntx, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n->rx_packets, frames, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n->tx_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n->dropped, dropped, __ATOMIC_RELAXED);
	if (r < 0 || !ntx)
		return r;
	r = vhostctl_devq_push_burst(txq, n->tx, NULL, ntx);
	if (r < 0)
		return r;
	r = vhostctl_devq_push_burst(rxq, n->rx, n->rx_len, nrx);
	if (r < 0)
		return r;
	r = vhostctl_devq_flush(txq);
	if (r < 0)
		return r;
	r = vhostctl_devq_flush(rxq);
	return r < 0 ? r : more;
}

static const struct vhc_vu_class net_class = {
	.name = "net",
	.virtio_id = 1,
	.queue = net_queue,
	.free = free,
};

VHC_EXPORT struct vhostctl_vu_backend *vhostctl_vu_net_new(const struct vhostctl_vu_net_opts *opts)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo);
	struct vhostctl_vu_net_opts o;
	uint8_t config[12];
	struct vu_net *n;
	uint16_t v;
	int r;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r) {
		errno = -r;
		return NULL;
	}
	if (!o.queue_pairs)
		o.queue_pairs = 1;
	if (o.queue_pairs > VHC_VU_MAX_QUEUES / 2) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->drop = o.drop;
	/* Config space: mac[6], status, max_virtqueue_pairs, mtu. */
	memcpy(config, o.mac, 6);
	v = 1;	/* VIRTIO_NET_S_LINK_UP */
	memcpy(config + 6, &v, 2);
	v = (uint16_t)o.queue_pairs;
	memcpy(config + 8, &v, 2);
	v = 1500;
	memcpy(config + 10, &v, 2);
	bo.log = o.log;
	bo.log_ctx = o.log_ctx;
	bo.log_level = o.log_level;
	/* Buffers are used in the order they come (IN_ORDER), TX and RX alike. */
	bo.features = VHC_BIT(NET_F_MAC) | VHC_BIT(NET_F_STATUS) | VHC_BIT(NET_F_MTU) |
		      VHC_BIT(NET_F_MRG_RXBUF) | VHC_BIT(VHC_F_IN_ORDER) |
		      (o.queue_pairs > 1 ? VHC_BIT(NET_F_MQ) : 0);
	bo.no_features = o.no_features;
	bo.num_queues = 2 * o.queue_pairs;
	bo.config = config;
	bo.config_len = sizeof(config);
	return vhc_vu_backend_new_class(&net_class, &bo, n);
}

VHC_EXPORT int vhostctl_vu_net_stats(struct vhostctl_vu_backend *be, struct vhostctl_vu_net_stats *st)
{
	struct vu_net *n;

	if (!be || !st || vhc_vu_backend_class(be) != &net_class)
		return vhc_err(EINVAL);
	n = vhostctl_vu_backend_ctx(be);
	st->tx_packets = __atomic_load_n(&n->tx_packets, __ATOMIC_RELAXED);
	st->rx_packets = __atomic_load_n(&n->rx_packets, __ATOMIC_RELAXED);
	st->tx_bytes = __atomic_load_n(&n->tx_bytes, __ATOMIC_RELAXED);
	st->dropped = __atomic_load_n(&n->dropped, __ATOMIC_RELAXED);
	return 0;
}
