// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user backend: a ring about to stop.  The application may hold
 * buffers it popped (a request waiting for its I/O); its stop callback
 * completes or gives them back while the queue is still there, so that the
 * index GET_VRING_BASE answers is past every completed buffer and before
 * every one given back, and nothing touches the ring after the answer.
 * What it keeps is the inflight region's (resubmitted on the next start),
 * or, without a region, lost to the driver: said in the log and the
 * backend's error count, since the frontend cannot learn it otherwise.
 *
 * The memory table changing (SET_MEM_TABLE, REM_MEM_REG) unmaps what the
 * held buffers' iovecs point into: those rings are drained the same way
 * first, and run on.
 */
#include <stdio.h>

#include "vu_backend.h"

void vhc_be_queue_drain(struct vhostctl_vu_backend *be, unsigned int i)
{
	struct be_queue *vq = &be->qs[i];
	unsigned int held;
	char why[sizeof(be->last_error)];

	if (!vq->q)
		return;
	if (be->o.stop)
		be->o.stop(be, i, vq->q, be->o.ctx);
	/* Completions are the driver's before the answer: used index, then the call fd. */
	if (!vhc_devq_broken(vq->q))
		vhostctl_devq_flush(vq->q);
	held = vhc_devq_held(vq->q);
	if (!held || vhc_devq_broken(vq->q))
		return;
	if (vhc_devq_inflight(vq->q)) {
		be_log(be, VHOSTCTL_LOG_INFO, "vring %u stopped with %u buffers held: the inflight "
		       "region resubmits them when it starts again", i, held);
		return;
	}
	snprintf(why, sizeof(why), "vring %u stopped with %u buffers the device holds and no "
		 "inflight region: lost to the driver", i, held);
	be_log(be, VHOSTCTL_LOG_ERR, "%s", why);
	pthread_mutex_lock(&be->stats_lock);
	be->st_errors++;
	snprintf(be->last_error, sizeof(be->last_error), "%s", why);
	pthread_mutex_unlock(&be->stats_lock);
}

void vhc_be_drain_held(struct vhostctl_vu_backend *be)
{
	for (unsigned int i = 0; i < be->o.num_queues; i++) {
		struct be_queue *vq = &be->qs[i];

		if (!vq->q || !vhc_devq_held(vq->q) || !be->o.stop)
			continue;
		be->o.stop(be, i, vq->q, be->o.ctx);
		if (!vhc_devq_broken(vq->q))
			vhostctl_devq_flush(vq->q);
		/* Given-back buffers are on the ring again: look at it. */
		vq->more = true;
	}
}
