/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The vhost-user backend, private to its two files: vu_backend.c (the
 * socket, the event loop, the queues' handler calls, the public calls) and
 * vu_backend_req.c (one handler per request, memory, rings, dirty log,
 * inflight regions), and vduse_backend.c, which serves the same device over
 * VDUSE.
 */
#ifndef VHOSTCTL_VU_BACKEND_H
#define VHOSTCTL_VU_BACKEND_H

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "vduse_priv.h"
#include "vu.h"

#define TAG_LISTEN 1
#define TAG_CONN 2
#define TAG_STOP 3
#define TAG_WORK 4
#define TAG_KICK 0x100

/* What the library implements on the backend side. */
#define BE_PROTOCOL_FEATURES                                                   \
	(VHC_BIT(VHOSTCTL_VU_PF_MQ) | VHC_BIT(VHOSTCTL_VU_PF_REPLY_ACK) |      \
	 VHC_BIT(VHOSTCTL_VU_PF_LOG_SHMFD) |                                    \
	 VHC_BIT(VHOSTCTL_VU_PF_BACKEND_REQ) | VHC_BIT(VHOSTCTL_VU_PF_CONFIG) | \
	 VHC_BIT(VHOSTCTL_VU_PF_INFLIGHT_SHMFD) |                               \
	 VHC_BIT(VHOSTCTL_VU_PF_RESET_DEVICE) |                                 \
	 VHC_BIT(VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS) |                          \
	 VHC_BIT(VHOSTCTL_VU_PF_STATUS) | VHC_BIT(VHOSTCTL_VU_PF_DEVICE_STATE) |   \
	 VHC_BIT(VHOSTCTL_VU_PF_PAGEFAULT) |                                    \
	 VHC_BIT(VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS) |                         \
	 VHC_BIT(VHOSTCTL_VU_PF_CROSS_ENDIAN))
#define BE_RING_FEATURES                                                       \
	(VHC_BIT(VHC_F_VERSION_1) | VHC_BIT(VHC_F_EVENT_IDX) |                 \
	 VHC_BIT(VHC_F_INDIRECT_DESC) | VHC_BIT(VHC_F_RING_PACKED) |           \
	 VHC_BIT(VHC_F_PROTOCOL_FEATURES))

struct be_queue {
	unsigned int num;
	struct vhc_vu_addr addr;
	bool addr_set;
	uint32_t base;
	int kick_fd, call_fd, err_fd;
	bool started;		/* kick fd given (or polling), ring usable */
	bool enabled;		/* SET_VRING_ENABLE, or no protocol features */
	bool polling;		/* kick given as NOFD: poll the ring */
	bool more;		/* the handler asked to be called again */
	bool broken;		/* stopped on a broken ring, its error fd signalled */
	bool big_endian;	/* SET_VRING_ENDIAN: a legacy ring in big-endian order */
	struct vhostctl_devq *q;
};

struct be_map {
	uint64_t gpa;
	void *base;
	size_t len;
};

/*
 * The backend.  Everything but the statistics is used by the dispatch
 * thread only; the statistics are updated with atomics and read by any
 * thread; last_error is guarded by stats_lock.
 */
struct vhostctl_vu_backend {
	struct vhostctl_vu_backend_opts o;
	uint8_t config[VHC_VU_MAX_CONFIG];
	int epfd, listen_fd, conn_fd, chan_fd, stop_fd;
	int work_fd;		/* keeps epfd readable while a queue has work left */
	bool work_signalled;
	char *listen_path;
	uint64_t features, acked;
	uint64_t proto, proto_acked;
	bool features_set;
	uint8_t status;

	struct vhc_memmap map;
	struct be_map *maps;	/* parallel to nothing: looked up by gpa */
	unsigned int nmaps;

	struct be_queue qs[VHC_VU_MAX_QUEUES];

	void *infl;
	size_t infl_size;
	int infl_fd;
	unsigned int infl_nq, infl_qsize;

	struct vhc_dirty_log dlog;	/* SET_LOG_BASE / SET_LOG_FD */
	void *log_map;			/* the mapping (from a page boundary) */
	size_t log_map_len;
	bool log_reported;		/* a write beyond the log was reported */

	int state_fd;		/* DEVICE_STATE load: pipe to read at CHECK */
	int state_result;

	pthread_t thread;
	bool running;

	pthread_mutex_t stats_lock;
	uint64_t st_connections, st_errors, st_messages, st_kicks;
	char last_error[128];

	const struct vhc_vu_class *cls;	/* a ready-made device's, or NULL */

	int pc_uffd;		/* POSTCOPY_ADVISE's userfaultfd, or -1 */
	bool pc_listening;	/* POSTCOPY_LISTEN: mappings registered with it */
	bool pc_await_ack;	/* our addresses sent: no memory access before the ack */
	/*
	 * While listening, a thread that closes our userfaultfd when the
	 * frontend hangs up, so that a fault it will never serve ends.
	 */
	pthread_t pc_watch;
	int pc_watch_efd;	/* ends the watcher; -1 when none runs */
	pthread_mutex_t pc_lock;	/* pc_uffd between dispatch thread and watcher */
	struct vhc_be_shared *shared;	/* shared memory, objects, GPU: vu_shmem.c, vu_shobj.c */
	struct vhostctl_vduse *vduse;	/* serving over VDUSE: its queues are ours */
};


__attribute__((format(printf, 3, 4)))
static inline void be_log(struct vhostctl_vu_backend *be, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int lvl = be->o.log_level ? be->o.log_level : VHOSTCTL_LOG_WARNING;

	if (!be->o.log || level > lvl)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	be->o.log(be->o.log_ctx, level, buf);
}

static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Notification fds and state pipes come from the frontend: never let one
 * block the dispatch thread (a full pipe given as a call fd, say).
 */
static inline void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static inline bool pf(const struct vhostctl_vu_backend *be, int bit)
{
	return be->proto_acked & VHC_BIT(bit);
}

/* One request in vhc_be_handle(): what its handler works on. */
struct vhc_be_req {
	struct vhostctl_vu_backend *be;
	struct vhc_vu_msg *m;
	char *why;		/* the reason of a refusal, for the log */
	size_t wl;
	uint32_t idx;		/* the vring index, when the request has one */
	struct be_queue *vq;	/* and its queue */
	int fd;			/* the first fd received, or -1 */
};

/* vu_backend_req.c */
int vhc_be_handle(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, char *why, size_t wl);
int vhc_be_reply_u64(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, uint64_t v);
void vhc_be_session_end(struct vhostctl_vu_backend *be);
void vhc_be_log_check_missed(struct vhostctl_vu_backend *be);

/* vu_backend_postcopy.c */
bool vhc_be_postcopy_usable(void);
void vhc_be_postcopy_drop(struct vhostctl_vu_backend *be);
int vhc_be_postcopy_mem_reply(struct vhc_be_req *c);
int vhc_be_postcopy_ack(struct vhc_be_req *c);
/* vu_backend_inb.c */
void vhc_be_inband_call(void *ctx, unsigned int index);
int vhc_be_inband_check(uint64_t proto, char *why, size_t wl);
int vhc_be_endian_check(struct vhostctl_vu_backend *be, unsigned int i, char *why, size_t wl);
/* vu_backend_drain.c: before ring i's queue is freed; before memory goes */
void vhc_be_queue_drain(struct vhostctl_vu_backend *be, unsigned int i);
void vhc_be_drain_held(struct vhostctl_vu_backend *be);

/* vu_backend_state.c: the DEVICE_STATE stream, 0 or -errno (logged) */
int vhc_be_state_save(struct vhostctl_vu_backend *be, int fd);
int vhc_be_state_load(struct vhostctl_vu_backend *be, int fd);

#endif /* VHOSTCTL_VU_BACKEND_H */
