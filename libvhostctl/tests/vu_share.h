/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * What vu_shmem.c and vu_shobj.c share: a bare backend, and backend calls
 * run from a thread of the test while the frontend serves its backend
 * channel, as an application on each side would.
 */
#ifndef VU_SHARE_H
#define VU_SHARE_H

#include <poll.h>
#include <pthread.h>

#include "vu_proto.h"

/* A device with one queue and nothing else: the shared parts are the point. */
static inline struct vhostctl_vu_backend *bare_be(void *ctx)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo, .num_queues = 1, .ctx = ctx,
			   .log = getenv("VU_DEBUG") ? sess_log : NULL, .log_ctx = (void *)"be",
			   .log_level = 7);
	struct vhostctl_vu_backend *be = vhostctl_vu_backend_new(&bo);

	t_true(be);
	return be;
}

/* One backend call, made by job_run() from a thread of its own. */
struct job {
	int (*fn)(struct job *j);
	struct vhostctl_vu_backend *be;
	unsigned int shmid;
	uint64_t off, fd_off, len;
	int fd;
	unsigned int flags;
	const uint8_t *uuid;
	int out_fd;
	int r;
	int done;
};

static inline void *job_main(void *arg)
{
	struct job *j = arg;

	j->r = j->fn(j);
	__atomic_store_n(&j->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Run j while dev serves its backend channel (the backend waits for the
 * answer): the call's result.  The backend's own thread must be stopped.
 */
static inline int job_run(struct vhostctl_dev *dev, struct job *j)
{
	struct pollfd p = { .fd = vhostctl_vu_backend_channel_fd(dev), .events = POLLIN };
	pthread_t th;

	t_true(p.fd >= 0);
	j->done = 0;
	j->out_fd = -1;
	t_eq(0, pthread_create(&th, NULL, job_main, j));
	while (!__atomic_load_n(&j->done, __ATOMIC_SEQ_CST)) {
		if (poll(&p, 1, 20) > 0)
			t_true(vhostctl_vu_serve_backend(dev) >= 0);
	}
	pthread_join(th, NULL);
	return j->r;
}

static inline int job_map(struct job *j)
{
	return vhostctl_vu_backend_shmem_map(j->be, j->shmid, j->off, j->fd, j->fd_off, j->len,
					     j->flags);
}

static inline int job_unmap(struct job *j)
{
	return vhostctl_vu_backend_shmem_unmap(j->be, j->shmid, j->off, j->len);
}

#endif /* VU_SHARE_H */
