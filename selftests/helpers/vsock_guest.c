// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest end of a virtio-vsock stream connection, see vsock_guest.h.
 * Packets are little endian; so is every machine this runs on, and the
 * header fields are converted anyway.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsock_guest.h"

#define HDR VHOSTCTL_VSOCK_HDR_SIZE
#define RXLEN (HDR + VG_PKT)
#define TXLEN (HDR + VG_PKT)
#define MEM_GPA 0x200000ull
#define MEM_SIZE (4ull << 20)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int post_rx(struct vguest *g, unsigned int i)
{
	struct vhostctl_vq_buf b = { g->rxb_gpa + (uint64_t)i * RXLEN, RXLEN };

	return vhostctl_vq_add(g->vq[VHOSTCTL_VSOCK_RX], &b, 0, 1, (void *)(uintptr_t)(i + 1), 0);
}

int vg_open(struct vguest *g, uint64_t cid, uint64_t features, size_t cap, const char **step)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2, .queue_size = VG_NUM,
			   .flags = VHOSTCTL_SETUP_VSOCK, .vsock_cid = cid,
			   .features = features, .required = features);
	int r;

	memset(g, 0, sizeof(*g));
	*step = "open";
	g->cid = cid;
	g->buf_alloc = 256 * 1024;
	g->cap = cap;
	g->data = malloc(cap ? cap : 1);
	g->mem = vhostctl_mem_new();
	if (!g->data || !g->mem || vhostctl_mem_add_region(g->mem, MEM_GPA, MEM_SIZE, 0) < 0)
		return -ENOMEM;
	g->dev = vhostctl_dev_open("/dev/vhost-vsock", NULL);
	if (!g->dev)
		return -errno;
	r = vhostctl_dev_setup(g->dev, g->mem, g->vq, &o, &g->features);
	if (r) {
		*step = vhostctl_dev_setup_step(g->dev);
		return r;
	}
	*step = "buffers";
	g->rxb = vhostctl_mem_alloc(g->mem, (uint64_t)VG_NUM * RXLEN, 64, &g->rxb_gpa);
	g->txb = vhostctl_mem_alloc(g->mem, (uint64_t)VG_NUM * TXLEN, 64, &g->txb_gpa);
	if (!g->rxb || !g->txb)
		return -ENOMEM;
	for (unsigned int i = 0; i < VG_NUM; i++) {
		g->tx_free[i] = i;
		r = post_rx(g, i);
		if (r)
			return r;
	}
	g->ntx_free = VG_NUM;
	r = vhostctl_vq_kick(g->vq[VHOSTCTL_VSOCK_RX]);
	*step = "";
	return r < 0 ? r : 0;
}

void vg_close(struct vguest *g)
{
	if (g->dev && g->vq[0])
		vhostctl_dev_teardown(g->dev, g->vq, 2);
	vhostctl_dev_close(g->dev);
	vhostctl_mem_free(g->mem);
	free(g->data);
	memset(g, 0, sizeof(*g));
}

static void reap_tx(struct vguest *g)
{
	void *tok;

	while (vhostctl_vq_get_used(g->vq[VHOSTCTL_VSOCK_TX], NULL, &tok) == 1)
		g->tx_free[g->ntx_free++] = (unsigned int)(uintptr_t)tok - 1;
}

/* Queue one packet to the host: header in one descriptor, payload in another. */
static int send_pkt(struct vguest *g, uint16_t op, uint32_t flags, const void *payload,
		    uint32_t len)
{
	struct vhostctl_vsock_hdr h = {
		.src_cid = htole64(g->cid),
		.dst_cid = htole64(VHOSTCTL_VSOCK_HOST_CID),
		.src_port = htole32(g->local_port),
		.dst_port = htole32(g->peer_port),
		.len = htole32(len),
		.type = htole16(VHOSTCTL_VSOCK_TYPE_STREAM),
		.op = htole16(op),
		.flags = htole32(flags),
		.buf_alloc = htole32(g->buf_alloc),
		.fwd_cnt = htole32(g->fwd_cnt),
	};
	struct vhostctl_vq_buf b[2];
	unsigned int slot;
	uint8_t *p;
	int r;

	reap_tx(g);
	while (!g->ntx_free || vhostctl_vq_num_free(g->vq[VHOSTCTL_VSOCK_TX]) < 2) {
		r = vhostctl_vq_wait(g->vq[VHOSTCTL_VSOCK_TX], 3000);
		if (r)
			return r;
		reap_tx(g);
	}
	slot = g->tx_free[--g->ntx_free];
	p = g->txb + (size_t)slot * TXLEN;
	memcpy(p, &h, HDR);
	if (len)
		memcpy(p + HDR, payload, len);
	b[0] = (struct vhostctl_vq_buf){ g->txb_gpa + (uint64_t)slot * TXLEN, HDR };
	b[1] = (struct vhostctl_vq_buf){ g->txb_gpa + (uint64_t)slot * TXLEN + HDR, len };
	r = vhostctl_vq_add(g->vq[VHOSTCTL_VSOCK_TX], b, len ? 2 : 1, 0,
			    (void *)(uintptr_t)(slot + 1), 0);
	if (r)
		return r;
	g->credit_sent = g->fwd_cnt;
	g->pkts_tx++;
	r = vhostctl_vq_kick(g->vq[VHOSTCTL_VSOCK_TX]);
	return r < 0 ? r : 0;
}

static int handle_pkt(struct vguest *g, const uint8_t *p, uint32_t n)
{
	struct vhostctl_vsock_hdr h;
	uint32_t len;

	if (n < HDR)
		return -EPROTO;
	memcpy(&h, p, HDR);
	len = le32toh(h.len);
	if (len > n - HDR || le64toh(h.dst_cid) != g->cid ||
	    le16toh(h.type) != VHOSTCTL_VSOCK_TYPE_STREAM)
		return -EPROTO;
	g->pkts_rx++;
	if (le16toh(h.op) == VHOSTCTL_VSOCK_OP_REQUEST) {
		if (!g->listen_port || g->connected || le32toh(h.dst_port) != g->listen_port) {
			g->foreign++;
			return 0;
		}
		g->local_port = g->listen_port;
		g->peer_port = le32toh(h.src_port);
	} else if (le32toh(h.dst_port) != g->local_port || le32toh(h.src_port) != g->peer_port) {
		g->foreign++;
		return 0;
	}
	g->peer_buf_alloc = le32toh(h.buf_alloc);
	g->peer_fwd_cnt = le32toh(h.fwd_cnt);
	switch (le16toh(h.op)) {
	case VHOSTCTL_VSOCK_OP_REQUEST:
		g->connected = true;
		return send_pkt(g, VHOSTCTL_VSOCK_OP_RESPONSE, 0, NULL, 0);
	case VHOSTCTL_VSOCK_OP_RESPONSE:
		g->connected = true;
		return 0;
	case VHOSTCTL_VSOCK_OP_RW:
		if (g->len + len > g->cap)
			return -EMSGSIZE;
		memcpy(g->data + g->len, p + HDR, len);
		g->len += len;
		/* Consumed at once: give the credit back in big steps. */
		g->fwd_cnt += len;
		if (g->fwd_cnt - g->credit_sent >= g->buf_alloc / 4)
			return send_pkt(g, VHOSTCTL_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
		return 0;
	case VHOSTCTL_VSOCK_OP_CREDIT_REQUEST:
		return send_pkt(g, VHOSTCTL_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	case VHOSTCTL_VSOCK_OP_CREDIT_UPDATE:
		return 0;
	case VHOSTCTL_VSOCK_OP_SHUTDOWN:
		g->peer_shutdown |= le32toh(h.flags);
		/* Both ways shut: answer with the reset that closes it. */
		if (g->peer_shutdown == (VHOSTCTL_VSOCK_SHUTDOWN_RCV | VHOSTCTL_VSOCK_SHUTDOWN_SEND)) {
			int r = send_pkt(g, VHOSTCTL_VSOCK_OP_RST, 0, NULL, 0);

			g->connected = false;
			g->reset = true;
			return r;
		}
		return 0;
	case VHOSTCTL_VSOCK_OP_RST:
		g->connected = false;
		g->reset = true;
		return 0;
	default:
		return -EPROTO;
	}
}

int vg_poll(struct vguest *g, int timeout_ms)
{
	struct vhostctl_vq *q = g->vq[VHOSTCTL_VSOCK_RX];
	int r, done = 0;
	uint32_t len;
	void *tok;

	reap_tx(g);
	for (;;) {
		r = vhostctl_vq_get_used(q, &len, &tok);
		if (r < 0)
			return r;
		if (!r) {
			if (done || !timeout_ms)
				break;
			r = vhostctl_vq_wait(q, timeout_ms);
			if (r)
				return r;
			continue;
		}
		unsigned int slot = (unsigned int)(uintptr_t)tok - 1;

		if (len > RXLEN)
			return -EOVERFLOW;
		r = handle_pkt(g, g->rxb + (size_t)slot * RXLEN, len);
		if (r)
			return r;
		r = post_rx(g, slot);
		if (r)
			return r;
		done++;
	}
	if (done) {
		r = vhostctl_vq_kick(q);
		if (r < 0)
			return r;
	}
	return done;
}

/* Poll until cond holds or the time is up. */
#define VG_UNTIL(g, cond, timeout_ms)                                          \
	({                                                                     \
		long long _end = now_ms() + (timeout_ms);                      \
		int _r = 0;                                                    \
		while (!(cond)) {                                              \
			long long _left = _end - now_ms();                     \
			if (_left <= 0) {                                      \
				_r = -ETIMEDOUT;                               \
				break;                                         \
			}                                                      \
			_r = vg_poll(g, (int)_left);                           \
			if (_r < 0)                                            \
				break;                                         \
			_r = 0;                                                \
		}                                                              \
		_r;                                                            \
	})

int vg_accept(struct vguest *g, uint32_t port, int timeout_ms)
{
	g->listen_port = port;
	return VG_UNTIL(g, g->connected, timeout_ms);
}

int vg_connect(struct vguest *g, uint32_t port, uint32_t lport, int timeout_ms)
{
	int r;

	g->local_port = lport;
	g->peer_port = port;
	r = send_pkt(g, VHOSTCTL_VSOCK_OP_REQUEST, 0, NULL, 0);
	if (r)
		return r;
	r = VG_UNTIL(g, g->connected || g->reset, timeout_ms);
	if (!r && g->reset)
		r = -ECONNREFUSED;
	return r;
}

int vg_send(struct vguest *g, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;

	while (len) {
		uint32_t credit, n;
		int r;

		/* The peer's free space: its buffer minus what is in flight to it. */
		credit = g->peer_buf_alloc - (g->tx_cnt - g->peer_fwd_cnt);
		if (!credit) {
			r = VG_UNTIL(g, g->reset || g->peer_buf_alloc - (g->tx_cnt - g->peer_fwd_cnt),
				     timeout_ms);
			if (r)
				return r;
			if (g->reset)
				return -ECONNRESET;
			continue;
		}
		n = len < VG_PKT ? (uint32_t)len : VG_PKT;
		if (n > credit)
			n = credit;
		r = send_pkt(g, VHOSTCTL_VSOCK_OP_RW, 0, p, n);
		if (r)
			return r;
		g->tx_cnt += n;
		p += n;
		len -= n;
		/* Keep the RX side moving: credit updates arrive there. */
		r = vg_poll(g, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int vg_recv_until(struct vguest *g, size_t want, int timeout_ms)
{
	return VG_UNTIL(g, g->len >= want || g->reset, timeout_ms);
}

int vg_shutdown(struct vguest *g, int timeout_ms)
{
	int r = send_pkt(g, VHOSTCTL_VSOCK_OP_SHUTDOWN,
			 VHOSTCTL_VSOCK_SHUTDOWN_RCV | VHOSTCTL_VSOCK_SHUTDOWN_SEND, NULL, 0);

	if (r)
		return r;
	return VG_UNTIL(g, g->reset, timeout_ms);
}
