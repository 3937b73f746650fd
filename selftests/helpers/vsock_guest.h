/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest end of a virtio-vsock stream connection, on the driver side of
 * a vhost-vsock device's queues (libvhostctl): enough of the protocol to
 * accept or open one connection, move data with credit accounting both
 * ways, and shut down cleanly.
 */
#ifndef SELFTEST_VSOCK_GUEST_H
#define SELFTEST_VSOCK_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#define VG_NUM 128		/* ring size */
#define VG_PKT 4096		/* payload bytes per packet we send, and per RX buffer */

struct vguest {
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq[2];
	uint64_t cid;
	uint64_t features;
	uint8_t *rxb, *txb;
	uint64_t rxb_gpa, txb_gpa;
	unsigned int tx_free[VG_NUM], ntx_free;

	/* The one connection. */
	uint32_t listen_port;	/* 0: not listening */
	uint32_t local_port, peer_port;
	bool connected, reset;
	uint32_t peer_shutdown;
	uint32_t buf_alloc;	/* our receive space */
	uint32_t fwd_cnt;	/* bytes we consumed */
	uint32_t credit_sent;	/* fwd_cnt the peer last heard of */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;

	/* Received stream data, for the test to check. */
	uint8_t *data;
	size_t len, cap;
	unsigned long pkts_rx, pkts_tx, foreign;
};

/* Open /dev/vhost-vsock, set up both queues with the set-up helper, set
 * the CID and start.  0 or -errno; on failure *step names the step. */
int vg_open(struct vguest *g, uint64_t cid, uint64_t features, size_t cap, const char **step);
void vg_close(struct vguest *g);
/* Process what the device returned; wait up to timeout_ms for something. */
int vg_poll(struct vguest *g, int timeout_ms);
/* Accept the next connection to port, waiting up to timeout_ms. */
int vg_accept(struct vguest *g, uint32_t port, int timeout_ms);
/* Connect to the host (CID 2) port from local port lport. */
int vg_connect(struct vguest *g, uint32_t port, uint32_t lport, int timeout_ms);
/* Send all of buf, within the peer's credit.  0 or -errno. */
int vg_send(struct vguest *g, const void *buf, size_t len, int timeout_ms);
/* Wait until want bytes have arrived. */
int vg_recv_until(struct vguest *g, size_t want, int timeout_ms);
/* Shut both directions down and wait for the peer's reset. */
int vg_shutdown(struct vguest *g, int timeout_ms);

#endif
