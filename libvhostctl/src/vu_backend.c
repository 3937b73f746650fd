// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user backend library: the socket (listen, connect or adopt), the
 * dispatch of every message, memory mapping (O(regions): one mmap each),
 * ring state as the spec defines it (started/stopped and enabled/disabled,
 * independent), inflight regions (split and packed), dirty logging
 * (LOG_SHMFD, VHOST_F_LOG_ALL), the backend channel, device state, and
 * accepting the next frontend after a disconnect.
 *
 * A frontend that breaks the protocol is cut off with a logged reason; the
 * process and the listening socket carry on.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
	 VHC_BIT(VHOSTCTL_VU_PF_STATUS) | VHC_BIT(VHOSTCTL_VU_PF_DEVICE_STATE))
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
};

__attribute__((format(printf, 3, 4)))
static void be_log(struct vhostctl_vu_backend *be, int level, const char *fmt, ...)
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

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Notification fds and state pipes come from the frontend: never let one
 * block the dispatch thread (a full pipe given as a call fd, say).
 */
static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static bool pf(const struct vhostctl_vu_backend *be, int bit)
{
	return be->proto_acked & VHC_BIT(bit);
}

/* ---- rings ------------------------------------------------------------ */

static void queue_stop(struct vhostctl_vu_backend *be, unsigned int i)
{
	struct be_queue *vq = &be->qs[i];

	if (vq->q) {
		vq->base = vhc_devq_base(vq->q);
		vhostctl_devq_free(vq->q);
		vq->q = NULL;
	}
	if (vq->kick_fd >= 0)
		epoll_ctl(be->epfd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
	close_fd(&vq->kick_fd);
	vq->started = false;
	vq->polling = false;
	vq->more = false;
}

static void queue_reset(struct vhostctl_vu_backend *be, unsigned int i)
{
	struct be_queue *vq = &be->qs[i];

	queue_stop(be, i);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

/* Start ring i; on failure, why says what was wrong. */
static int queue_start(struct vhostctl_vu_backend *be, unsigned int i, char *why, size_t wl)
{
	struct be_queue *vq = &be->qs[i];
	struct vhc_devq_cfg cfg;
	char reason[120] = "";
	int err = 0;

	if (!vq->addr_set || !vq->num) {
		snprintf(why, wl, "vring %u started without size or addresses", i);
		be_log(be, VHOSTCTL_LOG_ERR, "%s", why);
		return -EPROTO;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.num = vq->num;
	cfg.packed = be->acked & VHC_BIT(VHC_F_RING_PACKED);
	cfg.event_idx = be->acked & VHC_BIT(VHC_F_EVENT_IDX);
	cfg.indirect = be->acked & VHC_BIT(VHC_F_INDIRECT_DESC);
	cfg.uaddr = true;
	cfg.desc = vq->addr.desc;
	cfg.avail = vq->addr.avail;
	cfg.used = vq->addr.used;
	cfg.base = vq->base;
	cfg.call_fd = vq->call_fd;
	cfg.index = i;
	cfg.why = reason;
	cfg.whylen = sizeof(reason);
	cfg.dlog = &be->dlog;
	cfg.log_used = vq->addr.flags & VHOSTCTL_VRING_F_LOG;
	cfg.log_addr = vq->addr.log;
	if (be->infl && vq->num == be->infl_qsize && i < be->infl_nq) {
		/* The layout, and so each queue's share, follows the ring format. */
		size_t per = vhc_inflight_queue_size(vq->num, cfg.packed);

		if (per * be->infl_nq > be->infl_size) {
			snprintf(why, wl, "vring %u: inflight region of %zu bytes is too small "
				 "for %u %s rings of %u", i, be->infl_size, be->infl_nq,
				 cfg.packed ? "packed" : "split", vq->num);
			be_log(be, VHOSTCTL_LOG_ERR, "%s", why);
			return -EPROTO;
		}
		cfg.inflight = (char *)be->infl + per * i;
		cfg.inflight_size = per;
	}
	vq->q = vhc_devq_create(&be->map, &cfg, &err);
	if (!vq->q) {
		if (err == -EBADMSG)
			snprintf(why, wl, "vring %u: inflight region refused: %s", i, reason);
		else
			snprintf(why, wl, "vring %u: cannot start: %s (%s ring of %u)", i,
				 err == -EFAULT ? "ring outside memory or misaligned" :
				 err == -EINVAL ? "bad size or base" : strerror(-err),
				 cfg.packed ? "packed" : "split", vq->num);
		be_log(be, VHOSTCTL_LOG_ERR, "%s", why);
		return -EPROTO;
	}
	vq->started = true;
	vq->more = true;	/* look at the ring once: buffers may be waiting */
	be_log(be, VHOSTCTL_LOG_INFO, "vring %u started: %s ring of %u, base 0x%x, features 0x%llx", i,
	       cfg.packed ? "packed" : "split", vq->num, vq->base, (unsigned long long)be->acked);
	if (cfg.inflight) {
		uint16_t dummy[1];
		int n = vhc_devq_inflight_resubmit(vq->q, dummy, 0);

		if (n > 0)
			be_log(be, VHOSTCTL_LOG_INFO, "vring %u: resubmitting %d inflight requests", i, n);
	}
	return 0;
}

/* ---- memory ------------------------------------------------------------ */

static void unmap_all(struct vhostctl_vu_backend *be)
{
	for (unsigned int i = 0; i < be->nmaps; i++)
		munmap(be->maps[i].base, be->maps[i].len);
	be->nmaps = 0;
	be->map.n = 0;
}

/*
 * A file (memfd, hugetlbfs, tmpfs) must hold the whole range: pages mapped
 * past its end would raise SIGBUS on first touch, in the data path.
 * Device fds have no meaningful size and are taken as they are.
 */
static int fd_covers(int fd, uint64_t offset, uint64_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && (st.st_size < 0 || (uint64_t)st.st_size < offset + len))
		return -ERANGE;
	return 0;
}

static int map_region(struct vhostctl_vu_backend *be, const struct vhc_vu_region *r, int fd)
{
	struct vhostctl_devq_region reg;
	void *base;
	size_t len;
	int err;

	if (!r->size || r->mmap_offset + r->size < r->size || r->gpa + r->size < r->gpa ||
	    r->uaddr + r->size < r->uaddr || be->map.n >= VHC_VU_MAX_MEM_SLOTS)
		return -EINVAL;
	len = r->mmap_offset + r->size;
	err = fd_covers(fd, 0, len);
	if (err)
		return err;
	if (!be->maps) {
		be->maps = calloc(VHC_VU_MAX_MEM_SLOTS, sizeof(*be->maps));
		if (!be->maps)
			return -ENOMEM;
	}
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	reg.gpa = r->gpa;
	reg.size = r->size;
	reg.uaddr = r->uaddr;
	reg.host = (char *)base + r->mmap_offset;
	err = vhc_memmap_add(&be->map, &reg);
	if (err) {
		munmap(base, len);
		return err;
	}
	be->maps[be->nmaps].gpa = r->gpa;
	be->maps[be->nmaps].base = base;
	be->maps[be->nmaps].len = len;
	be->nmaps++;
	return 0;
}

/* Why map_region() refused a region, for the log. */
static const char *map_error(int r, const char *einval)
{
	if (r == -EINVAL)
		return einval;
	if (r == -ERANGE)
		return "past the end of its fd";
	return strerror(-r);
}

static int unmap_region(struct vhostctl_vu_backend *be, const struct vhc_vu_region *r)
{
	struct vhostctl_devq_region old;

	if (vhc_memmap_remove(&be->map, r->gpa, r->size, r->uaddr, &old))
		return -ENOENT;
	for (unsigned int i = 0; i < be->nmaps; i++) {
		if (be->maps[i].gpa != r->gpa)
			continue;
		munmap(be->maps[i].base, be->maps[i].len);
		be->maps[i] = be->maps[--be->nmaps];
		break;
	}
	return 0;
}

/* Queues keep host pointers into the map: refresh them after it changed. */
static int remap_queues(struct vhostctl_vu_backend *be)
{
	for (unsigned int i = 0; i < be->o.num_queues; i++)
		if (be->qs[i].q && vhc_devq_remap(be->qs[i].q)) {
			be_log(be, VHOSTCTL_LOG_ERR, "vring %u is outside the new memory table", i);
			return -EPROTO;
		}
	return 0;
}

/* ---- dirty log ---------------------------------------------------------- */

static int reply_u64(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, uint64_t v);

/* Logging is on while VHOST_F_LOG_ALL is acknowledged and a log is mapped. */
static void log_update(struct vhostctl_vu_backend *be)
{
	be->dlog.active = (be->acked & VHC_BIT(VHC_F_LOG_ALL)) && be->dlog.bitmap;
	for (unsigned int i = 0; i < be->o.num_queues; i++) {
		struct be_queue *vq = &be->qs[i];

		if (vq->q)
			vhc_devq_set_log(vq->q, vq->addr.flags & VHOSTCTL_VRING_F_LOG,
					 vq->addr.log);
	}
}

static void log_drop(struct vhostctl_vu_backend *be)
{
	if (be->log_map)
		munmap(be->log_map, be->log_map_len);
	be->log_map = NULL;
	be->log_map_len = 0;
	be->dlog.bitmap = NULL;
	be->dlog.size = 0;
	be->dlog.missed = false;
	be->log_reported = false;
	log_update(be);
}

/* Bytes of bitmap that cover every guest page of the memory table. */
static uint64_t log_needed(const struct vhostctl_vu_backend *be)
{
	uint64_t end = 0, pages;

	for (unsigned int i = 0; i < be->map.n; i++)
		if (be->map.r[i].gpa + be->map.r[i].size > end)
			end = be->map.r[i].gpa + be->map.r[i].size;
	pages = end / VHC_LOG_PAGE + !!(end % VHC_LOG_PAGE);
	return pages / 8 + !!(pages % 8);
}

#define LOG_MAX_SIZE (1ull << 32)	/* a bitmap for 128 TiB of guest memory */

static int set_log_base(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, int fd, char *why,
			size_t wl)
{
	uint64_t size = m->p.log.size, off = m->p.log.offset, need = log_needed(be);
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t delta;
	struct stat st;
	void *p;

	if (m->hdr.size < sizeof(m->p.log)) {
		snprintf(why, wl, "SET_LOG_BASE: payload of %u bytes, expected %zu", m->hdr.size,
			 sizeof(m->p.log));
		return -EPROTO;
	}
	if (fd < 0) {
		snprintf(why, wl, "SET_LOG_BASE without a log fd");
		return -EPROTO;
	}
	if (!size || size > LOG_MAX_SIZE || size < need) {
		snprintf(why, wl, "SET_LOG_BASE: log of %llu bytes, guest memory needs %llu",
			 (unsigned long long)size, (unsigned long long)need);
		return -EPROTO;
	}
	if (fstat(fd, &st) < 0)
		st.st_size = 0;
	if (off > (uint64_t)st.st_size || size > (uint64_t)st.st_size - off) {
		snprintf(why, wl, "SET_LOG_BASE: %llu bytes at offset %llu are beyond the fd "
			 "(%lld bytes)", (unsigned long long)size, (unsigned long long)off,
			 (long long)st.st_size);
		return -EPROTO;
	}
	delta = off % (uint64_t)pg;
	p = mmap(NULL, size + delta, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(off - delta));
	if (p == MAP_FAILED) {
		snprintf(why, wl, "SET_LOG_BASE: cannot map the log: %s", strerror(errno));
		return -EPROTO;
	}
	/* A new log replaces the old one. */
	log_drop(be);
	be->log_map = p;
	be->log_map_len = size + delta;
	be->dlog.bitmap = (uint8_t *)p + delta;
	be->dlog.size = size;
	log_update(be);
	be_log(be, VHOSTCTL_LOG_INFO, "dirty log: %llu bytes (guest memory up to %llu MiB)%s",
	       (unsigned long long)size, (unsigned long long)(size * 8 * VHC_LOG_PAGE >> 20),
	       be->dlog.active ? ", logging" : "");
	/* With LOG_SHMFD the frontend waits for this reply; the fd is closed after it. */
	return reply_u64(be, m, 0) ?: 1;
}

/* A write beyond the log: say so once per log. */
static void log_check_missed(struct vhostctl_vu_backend *be)
{
	if (be->log_reported)
		return;
	be->log_reported = true;
	be_log(be, VHOSTCTL_LOG_WARNING, "dirty log of %llu bytes does not reach guest address "
	       "0x%llx: writes there are not logged", (unsigned long long)be->dlog.size,
	       (unsigned long long)be->dlog.missed_gpa);
}

static void inflight_drop(struct vhostctl_vu_backend *be)
{
	if (be->infl)
		munmap(be->infl, be->infl_size);
	be->infl = NULL;
	be->infl_size = 0;
	close_fd(&be->infl_fd);
}

/* ---- session ------------------------------------------------------------ */

static void device_reset(struct vhostctl_vu_backend *be)
{
	for (unsigned int i = 0; i < be->o.num_queues; i++)
		queue_reset(be, i);
	be->status = 0;
	if (be->o.reset)
		be->o.reset(be, be->o.ctx);
}

static void session_end(struct vhostctl_vu_backend *be)
{
	device_reset(be);
	unmap_all(be);
	/* The inflight region stays with the frontend; our mapping of it goes. */
	inflight_drop(be);
	log_drop(be);
	close_fd(&be->dlog.fd);
	close_fd(&be->chan_fd);
	close_fd(&be->state_fd);
	if (be->conn_fd >= 0) {
		epoll_ctl(be->epfd, EPOLL_CTL_DEL, be->conn_fd, NULL);
		close_fd(&be->conn_fd);
	}
	be->acked = 0;
	be->proto_acked = 0;
	be->features_set = false;
}

static void protocol_error(struct vhostctl_vu_backend *be, const char *why)
{
	be_log(be, VHOSTCTL_LOG_ERR, "vhost-user frontend cut off: %s", why);
	pthread_mutex_lock(&be->stats_lock);
	be->st_errors++;
	snprintf(be->last_error, sizeof(be->last_error), "%s", why);
	pthread_mutex_unlock(&be->stats_lock);
	session_end(be);
}

static int reply(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, uint32_t size,
		 const int *fds, unsigned int nfds)
{
	m->hdr.flags = VHC_VU_VERSION | VHC_VU_REPLY;
	m->hdr.size = size;
	be_log(be, VHOSTCTL_LOG_DEBUG, "reply %s flags 0x%x size %u fds %u u64 0x%llx",
	       vhc_vu_req_name(m->hdr.request), m->hdr.flags, size, nfds,
	       size >= 8 ? (unsigned long long)m->p.u64 : 0ull);
	return vhc_vu_send_fds(be->conn_fd, m, fds, nfds);
}

static int reply_u64(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, uint64_t v)
{
	m->p.u64 = v;
	return reply(be, m, 8, NULL, 0);
}

#define STATE_MAGIC 0x53434856u /* "VHCS" */

/*
 * Handle one request.  Return 0 (done; REPLY_ACK answered by the caller),
 * 1 (done and replied), 2 (refused: acknowledge with failure), or a
 * negative errno: a protocol error that ends the connection.
 */
static int handle(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, char *why, size_t wl)
{
	const struct vhc_vu_req_info *ri = vhc_vu_req_info(m->hdr.request);
	uint32_t req = m->hdr.request, idx = 0;
	struct be_queue *vq = NULL;
	int r, fd;

	/* vhc_vu_check_request() passed: the request has a row. */
	if (ri->gate && !pf(be, ri->gate - 1)) {
		snprintf(why, wl, "%s without protocol feature %s", ri->name,
			 vhostctl_vu_protocol_feature_name(ri->gate - 1u));
		return -EPROTO;
	}
	if (ri->idx != IDX_NONE) {
		idx = ri->idx == IDX_U64 ? (uint32_t)(m->p.u64 & VHC_VU_VRING_IDX_MASK) :
		      m->p.state.index;
		if (idx >= be->o.num_queues) {
			snprintf(why, wl, "%s: vring %u of %u", vhc_vu_req_name(req), idx,
				 be->o.num_queues);
			return -EPROTO;
		}
		vq = &be->qs[idx];
	}
	fd = m->nfds ? m->fds[0] : -1;

	switch (req) {
	case VHC_VU_GET_FEATURES:
		return reply_u64(be, m, be->features) ?: 1;
	case VHC_VU_SET_FEATURES:
		if (m->p.u64 & ~be->features) {
			snprintf(why, wl, "SET_FEATURES 0x%llx: bits not offered",
				 (unsigned long long)m->p.u64);
			return -EPROTO;
		}
		if (be->features_set && ((be->acked ^ m->p.u64) & ~VHC_BIT(VHC_F_LOG_ALL)) &&
		    be->qs[0].started) {
			snprintf(why, wl, "SET_FEATURES changes ring features of a running device");
			return -EPROTO;
		}
		be->acked = m->p.u64;
		be->features_set = true;
		log_update(be);
		/* Without protocol features every ring is enabled from the start. */
		if (!(be->acked & VHC_BIT(VHC_F_PROTOCOL_FEATURES)))
			for (unsigned int i = 0; i < be->o.num_queues; i++)
				be->qs[i].enabled = true;
		return 0;
	case VHC_VU_GET_PROTOCOL_FEATURES:
		return reply_u64(be, m, be->proto) ?: 1;
	case VHC_VU_SET_PROTOCOL_FEATURES:
		if (m->p.u64 & ~be->proto) {
			snprintf(why, wl, "SET_PROTOCOL_FEATURES 0x%llx: bits not offered",
				 (unsigned long long)m->p.u64);
			return -EPROTO;
		}
		be->proto_acked = m->p.u64;
		return 0;
	case VHC_VU_SET_OWNER:
		return 0;
	case VHC_VU_RESET_OWNER:
	case VHC_VU_RESET_DEVICE:
		device_reset(be);
		return 0;
	case VHC_VU_GET_QUEUE_NUM:
		return reply_u64(be, m, be->o.num_queues) ?: 1;
	case VHC_VU_GET_MAX_MEM_SLOTS:
		return reply_u64(be, m, VHC_VU_MAX_MEM_SLOTS) ?: 1;
	case VHC_VU_SET_MEM_TABLE: {
		struct vhc_vu_mem *mem = &m->p.mem;

		unmap_all(be);
		for (unsigned int i = 0; i < mem->nregions; i++) {
			r = map_region(be, &mem->r[i], m->fds[i]);
			if (r) {
				snprintf(why, wl, "SET_MEM_TABLE region %u (gpa 0x%llx size 0x%llx): %s",
					 i, (unsigned long long)mem->r[i].gpa,
					 (unsigned long long)mem->r[i].size,
					 map_error(r, "overlaps or is empty"));
				return -EPROTO;
			}
		}
		vhc_vu_msg_close_fds(m);
		return remap_queues(be);
	}
	case VHC_VU_ADD_MEM_REG:
		r = map_region(be, &m->p.one.r, fd);
		if (r) {
			snprintf(why, wl, "ADD_MEM_REG gpa 0x%llx size 0x%llx: %s",
				 (unsigned long long)m->p.one.r.gpa,
				 (unsigned long long)m->p.one.r.size,
				 map_error(r, "overlaps, is empty or no slot left"));
			return -EPROTO;
		}
		vhc_vu_msg_close_fds(m);
		return 0;
	case VHC_VU_REM_MEM_REG:
		vhc_vu_msg_close_fds(m);
		if (unmap_region(be, &m->p.one.r))
			return 2;
		return remap_queues(be);
	case VHC_VU_SET_VRING_NUM:
		if (vq->started || !m->p.state.num || m->p.state.num > be->o.max_queue_size) {
			snprintf(why, wl, "SET_VRING_NUM %u for vring %u", m->p.state.num, idx);
			return -EPROTO;
		}
		vq->num = m->p.state.num;
		return 0;
	case VHC_VU_SET_VRING_ADDR:
		if (vq->started && vq->addr.desc == m->p.addr.desc &&
		    vq->addr.avail == m->p.addr.avail && vq->addr.used == m->p.addr.used) {
			/* Only logging changes (migration starts or ends): the ring runs on. */
			vq->addr = m->p.addr;
			vhc_devq_set_log(vq->q, vq->addr.flags & VHOSTCTL_VRING_F_LOG,
					 vq->addr.log);
			return 0;
		}
		if (vq->started) {
			/* Addresses of a running ring: apply at once, kick fd kept. */
			vq->base = vhc_devq_base(vq->q);
			vhostctl_devq_free(vq->q);
			vq->q = NULL;
			vq->started = false;
			vq->addr = m->p.addr;
			vq->addr_set = true;
			return queue_start(be, idx, why, wl);
		}
		vq->addr = m->p.addr;
		vq->addr_set = true;
		return 0;
	case VHC_VU_SET_VRING_BASE:
		if (vq->started) {
			snprintf(why, wl, "SET_VRING_BASE on running vring %u", idx);
			return -EPROTO;
		}
		vq->base = m->p.state.num;
		return 0;
	case VHC_VU_GET_VRING_BASE:
		/* Stops the ring: requests complete synchronously, so nothing drains. */
		queue_stop(be, idx);
		m->p.state.num = vq->base;
		return reply(be, m, sizeof(m->p.state), NULL, 0) ?: 1;
	case VHC_VU_SET_VRING_KICK:
		if (vq->started)
			queue_stop(be, idx);
		if (fd >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_KICK + idx };

			vq->kick_fd = fd;
			m->nfds = 0;
			set_nonblock(fd);
			if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
				snprintf(why, wl, "SET_VRING_KICK %u: fd cannot be polled", idx);
				return -EPROTO;
			}
		} else {
			vq->polling = true;
		}
		if (queue_start(be, idx, why, wl))
			return -EPROTO;
		vq->polling = fd < 0;
		return 0;
	case VHC_VU_SET_VRING_CALL:
		close_fd(&vq->call_fd);
		vq->call_fd = fd;
		m->nfds = 0;
		if (fd >= 0)
			set_nonblock(fd);
		if (vq->q)
			vhc_devq_set_call(vq->q, fd);
		return 0;
	case VHC_VU_SET_VRING_ERR:
		close_fd(&vq->err_fd);
		vq->err_fd = fd;
		m->nfds = 0;
		if (fd >= 0)
			set_nonblock(fd);
		return 0;
	case VHC_VU_SET_VRING_ENABLE:
		if (m->p.state.num > 1) {
			snprintf(why, wl, "SET_VRING_ENABLE %u for vring %u", m->p.state.num, idx);
			return -EPROTO;
		}
		vq->enabled = m->p.state.num;
		if (vq->enabled && vq->started)
			vq->more = true;
		return 0;
	case VHC_VU_SET_BACKEND_REQ_FD:
		close_fd(&be->chan_fd);
		be->chan_fd = fd;
		m->nfds = 0;
		return 0;
	case VHC_VU_GET_CONFIG: {
		uint32_t off = m->p.config.offset, sz = m->p.config.size;

		if (!sz || off > be->o.config_len || sz > be->o.config_len - off) {
			/* A config reply of size 0 tells the frontend it failed. */
			m->p.config.size = 0;
			return reply(be, m, 12, NULL, 0) ?: 1;
		}
		memcpy(m->p.config.data, be->config + off, sz);
		return reply(be, m, 12 + sz, NULL, 0) ?: 1;
	}
	case VHC_VU_SET_CONFIG: {
		uint32_t off = m->p.config.offset, sz = m->p.config.size;

		if (!sz || off > be->o.config_len || sz > be->o.config_len - off)
			return 2;
		if (be->o.set_config) {
			r = be->o.set_config(be, off, m->p.config.data, sz, be->o.ctx);
			if (r)
				return 2;
		}
		memcpy(be->config + off, m->p.config.data, sz);
		return 0;
	}
	case VHC_VU_SET_STATUS:
		if (m->p.u64 > 0xff) {
			snprintf(why, wl, "SET_STATUS 0x%llx", (unsigned long long)m->p.u64);
			return -EPROTO;
		}
		be->status = (uint8_t)m->p.u64;
		if (!be->status)
			device_reset(be);
		return 0;
	case VHC_VU_GET_STATUS:
		return reply_u64(be, m, be->status) ?: 1;
	case VHC_VU_GET_INFLIGHT_FD: {
		unsigned int nq = m->p.inflight.num_queues, qs = m->p.inflight.queue_size;
		bool packed;
		size_t size;
		void *p;
		int mfd;

		if (!nq || nq > be->o.num_queues || !qs || qs > be->o.max_queue_size) {
			snprintf(why, wl, "GET_INFLIGHT_FD for %u queues of %u", nq, qs);
			return -EPROTO;
		}
		/*
		 * Each layout has its size.  Before SET_FEATURES (QEMU asks that
		 * early) the format is unknown: room for the larger one.
		 */
		packed = be->acked & VHC_BIT(VHC_F_RING_PACKED);
		if (!be->features_set && (be->features & VHC_BIT(VHC_F_RING_PACKED)))
			packed = true;
		size = vhc_inflight_queue_size(qs, packed) * nq;
		mfd = memfd_create("vhostctl-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (mfd < 0)
			return 2;
		if (ftruncate(mfd, (off_t)size) < 0 ||
		    (p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) == MAP_FAILED) {
			close(mfd);
			return 2;
		}
		fcntl(mfd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
		inflight_drop(be);
		be->infl = p;
		be->infl_size = size;
		be->infl_fd = mfd;
		be->infl_nq = nq;
		be->infl_qsize = qs;
		m->p.inflight.mmap_size = size;
		m->p.inflight.mmap_offset = 0;
		return reply(be, m, sizeof(m->p.inflight), &mfd, 1) ?: 1;
	}
	case VHC_VU_SET_INFLIGHT_FD: {
		struct vhc_vu_inflight *in = &m->p.inflight;
		void *p;

		if (!in->num_queues || in->num_queues > be->o.num_queues || !in->queue_size ||
		    in->queue_size > be->o.max_queue_size ||
		    in->mmap_size < vhc_inflight_queue_size(in->queue_size, false) * in->num_queues ||
		    in->mmap_size > (1ull << 32) || in->mmap_offset > (1ull << 40) ||
		    (in->mmap_offset & 4095)) {
			snprintf(why, wl, "SET_INFLIGHT_FD: %u queues of %u in %llu bytes",
				 in->num_queues, in->queue_size, (unsigned long long)in->mmap_size);
			return -EPROTO;
		}
		r = fd_covers(fd, in->mmap_offset, in->mmap_size);
		if (r) {
			snprintf(why, wl, "SET_INFLIGHT_FD: %s", map_error(r, "bad fd"));
			return -EPROTO;
		}
		p = mmap(NULL, in->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)in->mmap_offset);
		if (p == MAP_FAILED) {
			snprintf(why, wl, "SET_INFLIGHT_FD: cannot map: %s", strerror(errno));
			return -EPROTO;
		}
		inflight_drop(be);
		be->infl = p;
		be->infl_size = in->mmap_size;
		be->infl_fd = fd;
		m->nfds = 0;
		be->infl_nq = in->num_queues;
		be->infl_qsize = in->queue_size;
		return 0;
	}
	case VHC_VU_SET_DEVICE_STATE_FD: {
		bool load = m->p.devstate.direction == 1;

		if (m->p.devstate.direction > 1 || m->p.devstate.phase != 0) {
			snprintf(why, wl, "SET_DEVICE_STATE_FD direction %u phase %u",
				 m->p.devstate.direction, m->p.devstate.phase);
			return -EPROTO;
		}
		for (unsigned int i = 0; i < be->o.num_queues; i++)
			if (be->qs[i].started)
				return reply_u64(be, m, 1) ?: 1;	/* not suspended */
		/* Bit 8: we give no fd back, the frontend's is the channel. */
		r = reply_u64(be, m, 1u << 8);
		if (r)
			return r;
		be->state_result = 0;
		close_fd(&be->state_fd);
		if (load) {
			be->state_fd = fd;
			m->nfds = 0;
		} else {
			uint32_t hdr[2] = { STATE_MAGIC, be->o.config_len };
			struct iovec iov[3] = {
				{ hdr, sizeof(hdr) },
				{ be->config, be->o.config_len },
				{ &be->status, 1 },
			};

			set_nonblock(fd);
			if (writev(fd, iov, 3) != (ssize_t)(sizeof(hdr) + be->o.config_len + 1))
				be->state_result = -EIO;
		}
		return 1;
	}
	case VHC_VU_CHECK_DEVICE_STATE:
		if (be->state_fd >= 0) {
			uint8_t buf[8 + VHC_VU_MAX_CONFIG + 1];
			ssize_t n;
			uint32_t hdr[2];

			fcntl(be->state_fd, F_SETFL, O_NONBLOCK);
			n = read(be->state_fd, buf, sizeof(buf));
			memcpy(hdr, buf, sizeof(hdr));
			if (n < 9 || hdr[0] != STATE_MAGIC || hdr[1] != be->o.config_len ||
			    (size_t)n != 8 + hdr[1] + 1) {
				be->state_result = -EINVAL;
			} else {
				memcpy(be->config, buf + 8, hdr[1]);
				be->status = buf[8 + hdr[1]];
			}
			close_fd(&be->state_fd);
		}
		return reply_u64(be, m, be->state_result ? 1 : 0) ?: 1;
	case VHC_VU_SET_LOG_BASE:
		return set_log_base(be, m, fd, why, wl);
	case VHC_VU_SET_LOG_FD:
		close_fd(&be->dlog.fd);
		be->dlog.fd = fd;
		m->nfds = 0;
		if (fd >= 0)
			set_nonblock(fd);
		return 0;
	default:
		snprintf(why, wl, "unsupported request %u (%s)", req, vhc_vu_req_name(req));
		return -EOPNOTSUPP;
	}
}

/*
 * Kicks come before the message that follows them.  A frontend writes a
 * kick, then a request; both may be read in one epoll batch, where the
 * request used to be answered first and the ring work of the kick came
 * after the reply.  A frontend that reads the dirty log (or the rings) on
 * the reply then saw the device's writes late.  So, before a request is
 * read, every kick already written is taken and its queue served: the reply
 * follows the ring work of every kick written before the request.  Errors
 * of a kick fd are left to the event loop, which reports them.
 */
static void run_queue(struct vhostctl_vu_backend *be, unsigned int i);

static void serve_kicks(struct vhostctl_vu_backend *be)
{
	for (unsigned int i = 0; i < be->o.num_queues; i++) {
		struct be_queue *vq = &be->qs[i];
		uint64_t v;

		if (vq->kick_fd >= 0 && read(vq->kick_fd, &v, sizeof(v)) > 0) {
			__atomic_add_fetch(&be->st_kicks, 1, __ATOMIC_RELAXED);
			vq->more = true;
		}
	}
	for (unsigned int i = 0; i < be->o.num_queues && be->conn_fd >= 0; i++)
		if (be->qs[i].more)
			run_queue(be, i);
}

static void conn_input(struct vhostctl_vu_backend *be)
{
	struct vhc_vu_msg m;
	char why[160] = "";
	bool need;
	int r;

	serve_kicks(be);
	if (be->conn_fd < 0)
		return;
	r = vhc_vu_recv(be->conn_fd, &m, 0, why, sizeof(why));
	if (r == -EAGAIN)
		return;
	if (r == -ECONNRESET) {
		be_log(be, VHOSTCTL_LOG_INFO, "vhost-user frontend went away");
		session_end(be);
		return;
	}
	if (!r)
		r = vhc_vu_check_request(&m, why, sizeof(why));
	if (r) {
		vhc_vu_msg_close_fds(&m);
		protocol_error(be, why);
		return;
	}
	__atomic_add_fetch(&be->st_messages, 1, __ATOMIC_RELAXED);
	be_log(be, VHOSTCTL_LOG_DEBUG, "request %s flags 0x%x size %u fds %u",
	       vhc_vu_req_name(m.hdr.request), m.hdr.flags, m.hdr.size, m.nfds);
	need = (m.hdr.flags & VHC_VU_NEED_REPLY) && pf(be, VHOSTCTL_VU_PF_REPLY_ACK);
	r = handle(be, &m, why, sizeof(why));
	vhc_vu_msg_close_fds(&m);
	if (r < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s: %s", vhc_vu_req_name(m.hdr.request),
				 strerror(-r));
		if (need) {
			m.nfds = 0;
			reply_u64(be, &m, 1);
		}
		protocol_error(be, why);
		return;
	}
	if (need && r != 1 && reply_u64(be, &m, r == 2 ? 1 : 0) < 0)
		session_end(be);
}

static int conn_attach(struct vhostctl_vu_backend *be, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_CONN };

	if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	be->conn_fd = fd;
	__atomic_add_fetch(&be->st_connections, 1, __ATOMIC_RELAXED);
	return 0;
}

static void listen_input(struct vhostctl_vu_backend *be)
{
	int fd;

	if (be->conn_fd >= 0)
		return;	/* one frontend at a time: the next waits in the backlog */
	fd = accept4(be->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (conn_attach(be, fd) == 0) {
		/* Stop watching the listener until this frontend is gone. */
		epoll_ctl(be->epfd, EPOLL_CTL_DEL, be->listen_fd, NULL);
	}
}

static void watch_listener(struct vhostctl_vu_backend *be)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };

	if (be->listen_fd >= 0 && be->conn_fd < 0)
		epoll_ctl(be->epfd, EPOLL_CTL_ADD, be->listen_fd, &ev);
}

static void run_queue(struct vhostctl_vu_backend *be, unsigned int i)
{
	struct be_queue *vq = &be->qs[i];
	int r;

	vq->more = false;
	if (!vq->started || !vq->enabled || !vq->q || !be->o.queue)
		return;
	/* A handler may take buffers from other queues too (net: TX from an RX kick). */
	for (unsigned int j = 0; j < be->o.num_queues; j++)
		if (be->qs[j].q)
			vhc_devq_clear_drained(be->qs[j].q);
	r = be->o.queue(be, i, vq->q, be->o.ctx);
	if (__builtin_expect(be->dlog.missed, 0))
		log_check_missed(be);
	if (r < 0) {
		char why[96];

		snprintf(why, sizeof(why), "vring %u: %s", i,
			 r == -EIO ? "broken ring (bad index, descriptor or address)" :
				     strerror(-r));
		protocol_error(be, why);
		return;
	}
	if (r > 0 || vq->polling) {
		vq->more = true;
		return;
	}
	/*
	 * Kicks back on for this queue and for every ring the handler emptied.
	 * Buffers that came in before they were on would get no kick: look
	 * again, but only at a ring the handler emptied.  One it left buffers
	 * on by choice (RX with nothing to receive) is not spun on; the next
	 * kick brings it back.
	 */
	for (unsigned int j = 0; j < be->o.num_queues; j++) {
		struct be_queue *o = &be->qs[j];
		bool drained;

		if (!o->q || (j != i && !vhc_devq_drained(o->q)))
			continue;
		drained = vhc_devq_drained(o->q);
		r = vhostctl_devq_notify_enable(o->q, 1);
		if (r > 0 && drained && o->started && o->enabled)
			o->more = true;
	}
}

/* ---- public ------------------------------------------------------------ */

VHC_EXPORT struct vhostctl_vu_backend *vhostctl_vu_backend_new(const struct vhostctl_vu_backend_opts *opts)
{
	struct vhostctl_vu_backend *be;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_STOP };
	int r;

	if (!opts) {
		errno = EINVAL;
		return NULL;
	}
	be = calloc(1, sizeof(*be));
	if (!be)
		return NULL;
	r = vhc_opts_copy(&be->o, sizeof(be->o), opts);
	if (r || !be->o.num_queues || be->o.num_queues > VHC_VU_MAX_QUEUES ||
	    be->o.config_len > VHC_VU_MAX_CONFIG || be->o.max_queue_size > VHC_VU_MAX_QUEUE_SIZE) {
		free(be);
		errno = r ? -r : EINVAL;
		return NULL;
	}
	if (!be->o.max_queue_size)
		be->o.max_queue_size = VHC_VU_MAX_QUEUE_SIZE;
	if (be->o.config && be->o.config_len)
		memcpy(be->config, be->o.config, be->o.config_len);
	be->features = (be->o.features | BE_RING_FEATURES) & ~be->o.no_features;
	be->features |= VHC_BIT(VHC_F_PROTOCOL_FEATURES);
	be->proto = be->o.protocol_features ? be->o.protocol_features & BE_PROTOCOL_FEATURES :
					      BE_PROTOCOL_FEATURES;
	/* Dirty logging needs the log fd: VHOST_F_LOG_ALL only with LOG_SHMFD. */
	if ((be->proto & VHC_BIT(VHOSTCTL_VU_PF_LOG_SHMFD)) &&
	    !(be->o.no_features & VHC_BIT(VHC_F_LOG_ALL)))
		be->features |= VHC_BIT(VHC_F_LOG_ALL);
	if (!be->o.config_len)
		be->proto &= ~VHC_BIT(VHOSTCTL_VU_PF_CONFIG);
	be->listen_fd = be->conn_fd = be->chan_fd = be->infl_fd = be->state_fd = -1;
	be->dlog.fd = -1;
	be->dlog.map = &be->map;
	for (unsigned int i = 0; i < VHC_VU_MAX_QUEUES; i++)
		be->qs[i].kick_fd = be->qs[i].call_fd = be->qs[i].err_fd = -1;
	pthread_mutex_init(&be->stats_lock, NULL);
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	be->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	be->work_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (be->epfd < 0 || be->stop_fd < 0 || be->work_fd < 0 ||
	    epoll_ctl(be->epfd, EPOLL_CTL_ADD, be->stop_fd, &ev) < 0 ||
	    epoll_ctl(be->epfd, EPOLL_CTL_ADD, be->work_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.u64 = TAG_WORK }) < 0) {
		int e = errno;

		close_fd(&be->epfd);
		close_fd(&be->stop_fd);
		close_fd(&be->work_fd);
		free(be);
		errno = e;
		return NULL;
	}
	return be;
}

struct vhostctl_vu_backend *vhc_vu_backend_new_class(const struct vhc_vu_class *cls,
						     struct vhostctl_vu_backend_opts *bo,
						     void *ctx)
{
	struct vhostctl_vu_backend *be;
	int e;

	bo->queue = cls->queue;
	bo->ctx = ctx;
	be = vhostctl_vu_backend_new(bo);
	if (!be) {
		e = errno;
		cls->free(ctx);
		errno = e;
		return NULL;
	}
	be->cls = cls;
	return be;
}

const struct vhc_vu_class *vhc_vu_backend_class(const struct vhostctl_vu_backend *be)
{
	return be->cls;
}

/* A started, enabled queue's device side, for handlers that serve several queues. */
struct vhostctl_devq *vhc_vu_backend_queue(struct vhostctl_vu_backend *be, unsigned int index)
{
	struct be_queue *vq;

	if (index >= be->o.num_queues)
		return NULL;
	vq = &be->qs[index];
	return vq->started && vq->enabled ? vq->q : NULL;
}

VHC_EXPORT void vhostctl_vu_backend_free(struct vhostctl_vu_backend *be)
{
	int e = errno;

	if (!be)
		return;
	vhostctl_vu_backend_stop(be);
	session_end(be);
	close_fd(&be->listen_fd);
	if (be->listen_path) {
		unlink(be->listen_path);
		free(be->listen_path);
	}
	close_fd(&be->epfd);
	close_fd(&be->stop_fd);
	close_fd(&be->work_fd);
	free(be->maps);
	free(be->map.r);
	pthread_mutex_destroy(&be->stats_lock);
	if (be->cls)
		be->cls->free(be->o.ctx);
	free(be);
	errno = e;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	if (!path || strlen(path) >= sizeof(sa->sun_path))
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path, path);
	return 0;
}

VHC_EXPORT int vhostctl_vu_backend_listen(struct vhostctl_vu_backend *be, const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	if (!be || be->listen_fd >= 0 || be->running)
		return vhc_err(EINVAL);
	r = unix_addr(path, &sa);
	if (r)
		return vhc_ret(r);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		r = -errno;
		close(fd);
		return vhc_ret(r);
	}
	be->listen_fd = fd;
	be->listen_path = strdup(path);
	watch_listener(be);
	return 0;
}

VHC_EXPORT int vhostctl_vu_backend_connect(struct vhostctl_vu_backend *be, const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	if (!be || be->running)
		return vhc_err(EINVAL);
	if (be->conn_fd >= 0)
		return vhc_err(EBUSY);
	r = unix_addr(path, &sa);
	if (r)
		return vhc_ret(r);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return vhc_ret(r);
	}
	return vhc_ret(conn_attach(be, fd));
}

VHC_EXPORT int vhostctl_vu_backend_adopt(struct vhostctl_vu_backend *be, int fd)
{
	if (!be || fd < 0 || be->running) {
		if (fd >= 0)
			close(fd);
		return vhc_err(EINVAL);
	}
	if (be->conn_fd >= 0) {
		close(fd);
		return vhc_err(EBUSY);
	}
	return vhc_ret(conn_attach(be, fd));
}

VHC_EXPORT int vhostctl_vu_backend_fd(struct vhostctl_vu_backend *be)
{
	return be ? be->epfd : vhc_err(EINVAL);
}

static int dispatch(struct vhostctl_vu_backend *be, int timeout_ms, bool *stop)
{
	struct epoll_event evs[16];
	int n, handled = 0;
	bool more = false;

	for (unsigned int i = 0; i < be->o.num_queues; i++)
		more |= be->qs[i].more;
	n = epoll_wait(be->epfd, evs, 16, more ? 0 : timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < n; k++) {
		uint64_t tag = evs[k].data.u64, v;

		handled++;
		if (tag == TAG_STOP) {
			if (read(be->stop_fd, &v, sizeof(v)) < 0) {
				/* already drained */
			}
			*stop = true;
		} else if (tag == TAG_WORK) {
			if (read(be->work_fd, &v, sizeof(v)) < 0) {
				/* already drained */
			}
			be->work_signalled = false;
		} else if (tag == TAG_LISTEN) {
			listen_input(be);
		} else if (tag == TAG_CONN) {
			if (be->conn_fd >= 0)
				conn_input(be);
			if (be->conn_fd < 0)
				watch_listener(be);
		} else if (tag >= TAG_KICK && tag < TAG_KICK + be->o.num_queues) {
			unsigned int qi = (unsigned int)(tag - TAG_KICK);
			struct be_queue *vq = &be->qs[qi];
			ssize_t r;

			if (vq->kick_fd < 0)
				continue;	/* stopped by an earlier event of this batch */
			r = read(vq->kick_fd, &v, sizeof(v));
			if (r > 0) {
				__atomic_add_fetch(&be->st_kicks, 1, __ATOMIC_RELAXED);
				vq->more = true;
			} else if (!r || (errno != EAGAIN && errno != EINTR)) {
				char why[64];

				/* Readable for ever and nothing to read: not an eventfd. */
				snprintf(why, sizeof(why), "vring %u: kick fd %s", qi,
					 r ? strerror(errno) : "at end of file");
				protocol_error(be, why);
			}
		}
	}
	for (unsigned int i = 0; i < be->o.num_queues && be->conn_fd >= 0; i++) {
		if (be->qs[i].more) {
			run_queue(be, i);
			handled++;
		}
	}
	if (be->conn_fd < 0)
		watch_listener(be);
	/*
	 * In the application's event loop, work a handler left (or a polled
	 * ring) must show on the fd it waits on; the library's own thread
	 * looks at the queues itself.
	 */
	if (!be->running && !be->work_signalled && be->conn_fd >= 0) {
		for (unsigned int i = 0; i < be->o.num_queues; i++) {
			if (be->qs[i].more) {
				uint64_t one = 1;

				if (write(be->work_fd, &one, sizeof(one)) == sizeof(one))
					be->work_signalled = true;
				break;
			}
		}
	}
	return handled;
}

VHC_EXPORT int vhostctl_vu_backend_dispatch(struct vhostctl_vu_backend *be, int timeout_ms)
{
	bool stop = false;

	if (!be)
		return vhc_err(EINVAL);
	if (be->running)
		return vhc_err(EBUSY);	/* the library's thread dispatches */
	return vhc_ret(dispatch(be, timeout_ms, &stop));
}

static void *thread_main(void *arg)
{
	struct vhostctl_vu_backend *be = arg;
	bool stop = false;

	while (!stop)
		if (dispatch(be, 1000, &stop) < 0)
			break;
	return NULL;
}

VHC_EXPORT int vhostctl_vu_backend_start(struct vhostctl_vu_backend *be)
{
	int r;

	if (!be || be->running)
		return vhc_err(EINVAL);
	r = pthread_create(&be->thread, NULL, thread_main, be);
	if (r)
		return vhc_err(r);
	be->running = true;
	return 0;
}

VHC_EXPORT int vhostctl_vu_backend_stop(struct vhostctl_vu_backend *be)
{
	uint64_t one = 1;

	if (!be)
		return vhc_err(EINVAL);
	if (!be->running)
		return 0;
	if (write(be->stop_fd, &one, sizeof(one)) < 0)
		return -errno;
	pthread_join(be->thread, NULL);
	be->running = false;
	return 0;
}

VHC_EXPORT int vhostctl_vu_backend_disconnect(struct vhostctl_vu_backend *be)
{
	if (!be || be->running)
		return vhc_err(EINVAL);
	if (be->conn_fd >= 0)
		session_end(be);
	watch_listener(be);
	return 0;
}

VHC_EXPORT int vhostctl_vu_backend_config_changed(struct vhostctl_vu_backend *be, unsigned int offset,
						  const void *data, unsigned int len)
{
	struct vhc_vu_msg m;
	char why[64];
	int r;

	if (!be || offset > be->o.config_len || len > be->o.config_len - offset || (len && !data))
		return vhc_err(EINVAL);
	memcpy(be->config + offset, data, len);
	if (be->chan_fd < 0 || !pf(be, VHOSTCTL_VU_PF_CONFIG) || !pf(be, VHOSTCTL_VU_PF_BACKEND_REQ))
		return vhc_err(ENOTCONN);
	vhc_vu_msg_init(&m, VHC_VU_BE_CONFIG_CHANGE_MSG,
			pf(be, VHOSTCTL_VU_PF_REPLY_ACK) ? VHC_VU_NEED_REPLY : 0, 0);
	r = vhc_vu_send(be->chan_fd, &m);
	if (r || !pf(be, VHOSTCTL_VU_PF_REPLY_ACK))
		return vhc_ret(r);
	r = vhc_vu_recv(be->chan_fd, &m, 5000, why, sizeof(why));
	vhc_vu_msg_close_fds(&m);
	if (r)
		return vhc_ret(r);
	if (m.hdr.request != VHC_VU_BE_CONFIG_CHANGE_MSG || m.hdr.size != 8 ||
	    m.hdr.flags != (VHC_VU_VERSION | VHC_VU_REPLY))
		return vhc_err(EPROTO);
	return m.p.u64 ? vhc_err(EIO) : 0;
}

VHC_EXPORT int vhostctl_vu_backend_stats(struct vhostctl_vu_backend *be,
					 struct vhostctl_vu_backend_stats *st)
{
	if (!be || !st)
		return vhc_err(EINVAL);
	memset(st, 0, sizeof(*st));
	st->connections = __atomic_load_n(&be->st_connections, __ATOMIC_RELAXED);
	st->messages = __atomic_load_n(&be->st_messages, __ATOMIC_RELAXED);
	st->kicks = __atomic_load_n(&be->st_kicks, __ATOMIC_RELAXED);
	st->connected = __atomic_load_n(&be->conn_fd, __ATOMIC_RELAXED) >= 0;
	pthread_mutex_lock(&be->stats_lock);
	st->protocol_errors = be->st_errors;
	memcpy(st->last_error, be->last_error, sizeof(st->last_error));
	pthread_mutex_unlock(&be->stats_lock);
	return 0;
}

VHC_EXPORT void *vhostctl_vu_backend_ctx(struct vhostctl_vu_backend *be)
{
	return be ? be->o.ctx : NULL;
}
