// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user backend: in-band notifications and cross-endian rings.
 *
 * In-band notifications (INBAND_NOTIFICATIONS, for transports without
 * eventfds): the feature is offered, and only accepted with BACKEND_REQ and
 * REPLY_ACK, as the spec requires (a SET_PROTOCOL_FEATURES without them ends
 * the connection).  A ring whose kick was given as no fd is then not polled:
 * VRING_KICK messages kick it.  A ring whose call was given as no fd is
 * notified with VRING_CALL on the backend channel, sent with NEED_REPLY and
 * waited for, so the driver has seen the used buffers when the handler goes
 * on.
 *
 * Cross-endian rings (CROSS_ENDIAN): SET_VRING_ENDIAN gives a stopped ring
 * of a legacy device (VERSION_1 not acknowledged) its byte order; a
 * big-endian ring runs on devq_legacy.c.
 */
#include <errno.h>
#include <string.h>

#include "vu_backend.h"

#define INBAND_NEEDS (VHC_BIT(VHOSTCTL_VU_PF_BACKEND_REQ) | VHC_BIT(VHOSTCTL_VU_PF_REPLY_ACK))
/* How long a VRING_CALL waits for its acknowledgement (the fuzz build: 1 ms). */
#ifndef INBAND_ACK_MS
#define INBAND_ACK_MS 5000
#endif

int vhc_be_inband_check(uint64_t proto, char *why, size_t wl)
{
	if (!(proto & VHC_BIT(VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS)) ||
	    (proto & INBAND_NEEDS) == INBAND_NEEDS)
		return 0;
	snprintf(why, wl, "SET_PROTOCOL_FEATURES 0x%llx: INBAND_NOTIFICATIONS without "
		 "BACKEND_REQ and REPLY_ACK", (unsigned long long)proto);
	return -EPROTO;
}

/* VRING_KICK: new buffers on a started ring whose kick was given as no fd. */
int vhc_be_vring_kick(struct vhc_be_req *c)
{
	struct be_queue *vq = c->vq;

	if (!vq->started || vq->kick_fd >= 0) {
		snprintf(c->why, c->wl, "VRING_KICK for vring %u refused: %s", c->idx,
			 vq->started ? "it has a kick fd" : "it is stopped");
		be_log(c->be, VHOSTCTL_LOG_WARNING, "%s", c->why);
		return 2;
	}
	__atomic_add_fetch(&c->be->st_kicks, 1, __ATOMIC_RELAXED);
	vq->more = true;	/* the dispatch loop runs the queue after this request */
	return 0;
}

static void inband_fail(struct vhostctl_vu_backend *be, const char *why)
{
	be_log(be, VHOSTCTL_LOG_ERR, "%s: backend channel closed", why);
	pthread_mutex_lock(&be->stats_lock);
	be->st_errors++;
	snprintf(be->last_error, sizeof(be->last_error), "%s", why);
	pthread_mutex_unlock(&be->stats_lock);
	/* A late reply would be taken for the next one's: the channel goes. */
	close_fd(&be->chan_fd);
}

/*
 * The devq's notification of a ring without a call fd: VRING_CALL on the
 * backend channel, acknowledged.  A frontend that does not answer within
 * INBAND_ACK_MS loses its channel (and so its in-band calls).
 */
void vhc_be_inband_call(void *ctx, unsigned int index)
{
	struct vhostctl_vu_backend *be = ctx;
	struct vhc_vu_msg m;
	char why[128] = "";
	int r;

	if (be->chan_fd < 0)
		return;
	vhc_vu_msg_init(&m, VHC_VU_BE_VRING_CALL, VHC_VU_NEED_REPLY, sizeof(m.p.state));
	m.p.state.index = index;
	m.p.state.num = 0;
	be_log(be, VHOSTCTL_LOG_DEBUG, "backend request VRING_CALL vring %u", index);
	r = vhc_vu_send(be->chan_fd, &m);
	if (r) {
		snprintf(why, sizeof(why), "VRING_CALL of vring %u: %s", index, strerror(-r));
		inband_fail(be, why);
		return;
	}
	r = vhc_vu_recv(be->chan_fd, &m, INBAND_ACK_MS, why, sizeof(why));
	vhc_vu_msg_close_fds(&m);
	if (!r && (m.hdr.request != VHC_VU_BE_VRING_CALL || m.hdr.size != 8 ||
		   m.hdr.flags != (VHC_VU_VERSION | VHC_VU_REPLY)))
		r = -EPROTO;
	if (r) {
		char what[160];

		snprintf(what, sizeof(what), "VRING_CALL of vring %u not acknowledged: %s", index,
			 why[0] ? why : strerror(-r));
		inband_fail(be, what);
		return;
	}
	if (m.p.u64)
		be_log(be, VHOSTCTL_LOG_WARNING, "VRING_CALL of vring %u refused by the frontend",
		       index);
}

/* SET_VRING_ENDIAN: 0 little-endian, 1 big-endian; a stopped ring of a legacy device. */
int vhc_be_set_vring_endian(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	uint32_t v = c->m->p.state.num;
	const char *bad = NULL;

	if (v > 1)
		bad = "not 0 (little) or 1 (big)";
	else if (c->vq->started)
		bad = "the ring is running";
	else if (be->acked & VHC_BIT(VHC_F_VERSION_1))
		bad = "VERSION_1 device (its rings are little-endian)";
	if (bad) {
		snprintf(c->why, c->wl, "SET_VRING_ENDIAN %u for vring %u refused: %s", v, c->idx,
			 bad);
		be_log(be, VHOSTCTL_LOG_WARNING, "%s", c->why);
		return 2;
	}
	c->vq->big_endian = v;
	be_log(be, VHOSTCTL_LOG_INFO, "vring %u: %s-endian", c->idx, v ? "big" : "little");
	return 0;
}

/* At ring start: a big-endian ring only on a legacy device, split, without inflight. */
int vhc_be_endian_check(struct vhostctl_vu_backend *be, unsigned int i, char *why, size_t wl)
{
	const char *bad;

	if (!be->qs[i].big_endian)
		return 0;
	if (be->acked & VHC_BIT(VHC_F_VERSION_1))
		bad = "VERSION_1 acknowledged since";
	else if (be->acked & VHC_BIT(VHC_F_RING_PACKED))
		bad = "packed rings are VERSION_1 only";
	else if (be->infl && i < be->infl_nq)
		bad = "inflight tracking is for little-endian rings";
	else
		return 0;
	snprintf(why, wl, "vring %u: cannot start big-endian: %s", i, bad);
	be_log(be, VHOSTCTL_LOG_ERR, "%s", why);
	return -EPROTO;
}
