// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user backend: what each request does.  Ring state as the spec
 * defines it (started/stopped and enabled/disabled, independent), memory
 * mapping (O(regions): one mmap each), the dirty log (LOG_SHMFD,
 * VHOST_F_LOG_ALL), inflight regions (split and packed), device state.
 * vhc_vu_check_request() has checked each message's size and fds first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "vu_backend.h"

/* ---- rings ------------------------------------------------------------ */

static void queue_stop(struct vhostctl_vu_backend *be, unsigned int i)
{
	struct be_queue *vq = &be->qs[i];

	if (vq->q) {
		vhc_be_queue_drain(be, i);
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
	vq->broken = false;
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
	cfg.in_order = be->acked & VHC_BIT(VHC_F_IN_ORDER);
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
	if (vhc_be_endian_check(be, i, why, wl))
		return -EPROTO;
	cfg.big_endian = vq->big_endian;
	if (pf(be, VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS)) {
		cfg.call = vhc_be_inband_call;
		cfg.call_ctx = be;
	}
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
	vq->broken = false;
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
	return vhc_be_reply_u64(be, m, 0) ?: 1;
}

/* A write beyond the log: say so once per log. */
void vhc_be_log_check_missed(struct vhostctl_vu_backend *be)
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

void vhc_be_session_end(struct vhostctl_vu_backend *be)
{
	device_reset(be);
	vhc_be_postcopy_drop(be);
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

int vhc_be_reply_u64(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, uint64_t v)
{
	m->p.u64 = v;
	return reply(be, m, 8, NULL, 0);
}

/* A SET_*FEATURES acknowledges only bits we offered. */
static bool offered(const struct vhc_vu_msg *m, uint64_t offer, char *why, size_t wl)
{
	if (!(m->p.u64 & ~offer))
		return true;
	snprintf(why, wl, "%s 0x%llx: bits not offered", vhc_vu_req_name(m->hdr.request),
		 (unsigned long long)m->p.u64);
	return false;
}

int vhc_be_get_features(struct vhc_be_req *c)
{
	return vhc_be_reply_u64(c->be, c->m, c->be->features) ?: 1;
}

int vhc_be_set_features(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;

	if (!offered(m, be->features, c->why, c->wl))
		return -EPROTO;
	if (be->features_set && ((be->acked ^ m->p.u64) & ~VHC_BIT(VHC_F_LOG_ALL)) &&
	    be->qs[0].started) {
		snprintf(c->why, c->wl, "SET_FEATURES changes ring features of a running device");
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
}

int vhc_be_get_protocol_features(struct vhc_be_req *c)
{
	return vhc_be_reply_u64(c->be, c->m, c->be->proto) ?: 1;
}

int vhc_be_set_protocol_features(struct vhc_be_req *c)
{
	if (!offered(c->m, c->be->proto, c->why, c->wl) ||
	    vhc_be_inband_check(c->m->p.u64, c->why, c->wl))
		return -EPROTO;
	c->be->proto_acked = c->m->p.u64;
	return 0;
}

int vhc_be_set_owner(struct vhc_be_req *c)
{
	(void)c;
	return 0;
}

int vhc_be_reset(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;

	device_reset(be);
	return 0;
}

int vhc_be_get_queue_num(struct vhc_be_req *c)
{
	return vhc_be_reply_u64(c->be, c->m, c->be->o.num_queues) ?: 1;
}

int vhc_be_get_max_mem_slots(struct vhc_be_req *c)
{
	return vhc_be_reply_u64(c->be, c->m, VHC_VU_MAX_MEM_SLOTS) ?: 1;
}

int vhc_be_set_mem_table(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	struct vhc_vu_mem *mem = &m->p.mem;
	int r;

	vhc_be_drain_held(be);
	unmap_all(be);
	for (unsigned int i = 0; i < mem->nregions; i++) {
		r = map_region(be, &mem->r[i], m->fds[i]);
		if (r) {
			snprintf(c->why, c->wl, "SET_MEM_TABLE region %u (gpa 0x%llx size 0x%llx): %s",
				 i, (unsigned long long)mem->r[i].gpa,
				 (unsigned long long)mem->r[i].size,
				 map_error(r, "overlaps or is empty"));
			return -EPROTO;
		}
	}
	vhc_vu_msg_close_fds(m);
	r = remap_queues(be);
	/* While postcopy listens, the reply carries our addresses. */
	return r || !be->pc_listening ? r : vhc_be_postcopy_mem_reply(c);
}

int vhc_be_add_mem_reg(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	int fd = c->fd;
	int r;

	if (be->pc_listening) {
		snprintf(c->why, c->wl, "ADD_MEM_REG while postcopy listens: unsupported, "
			 "send SET_MEM_TABLE");
		return -EPROTO;
	}
	r = map_region(be, &m->p.one.r, fd);
	if (r) {
		snprintf(c->why, c->wl, "ADD_MEM_REG gpa 0x%llx size 0x%llx: %s",
			 (unsigned long long)m->p.one.r.gpa,
			 (unsigned long long)m->p.one.r.size,
			 map_error(r, "overlaps, is empty or no slot left"));
		return -EPROTO;
	}
	vhc_vu_msg_close_fds(m);
	return 0;
}

int vhc_be_rem_mem_reg(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;

	vhc_vu_msg_close_fds(m);
	vhc_be_drain_held(be);
	if (unmap_region(be, &m->p.one.r))
		return 2;
	return remap_queues(be);
}

int vhc_be_set_vring_num(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	struct be_queue *vq = c->vq;
	uint32_t idx = c->idx;

	if (vq->started || !m->p.state.num || m->p.state.num > be->o.max_queue_size) {
		snprintf(c->why, c->wl, "SET_VRING_NUM %u for vring %u", m->p.state.num, idx);
		return -EPROTO;
	}
	vq->num = m->p.state.num;
	return 0;
}

int vhc_be_set_vring_addr(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	struct be_queue *vq = c->vq;
	uint32_t idx = c->idx;

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
		vhc_be_queue_drain(be, idx);
		vq->base = vhc_devq_base(vq->q);
		vhostctl_devq_free(vq->q);
		vq->q = NULL;
		vq->started = false;
		vq->addr = m->p.addr;
		vq->addr_set = true;
		return queue_start(be, idx, c->why, c->wl);
	}
	vq->addr = m->p.addr;
	vq->addr_set = true;
	return 0;
}

int vhc_be_set_vring_base(struct vhc_be_req *c)
{
	if (c->vq->started) {
		snprintf(c->why, c->wl, "SET_VRING_BASE on running vring %u", c->idx);
		return -EPROTO;
	}
	c->vq->base = c->m->p.state.num;
	return 0;
}

int vhc_be_get_vring_base(struct vhc_be_req *c)
{
	/* Stops the ring, once the device has drained it (vhostctl_vu_stop_fn). */
	queue_stop(c->be, c->idx);
	c->m->p.state.num = c->vq->base;
	return reply(c->be, c->m, sizeof(c->m->p.state), NULL, 0) ?: 1;
}

int vhc_be_set_vring_kick(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	struct be_queue *vq = c->vq;
	uint32_t idx = c->idx;
	int fd = c->fd;

	if (vq->started)
		queue_stop(be, idx);
	if (fd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_KICK + idx };

		vq->kick_fd = fd;
		m->nfds = 0;
		set_nonblock(fd);
		if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			snprintf(c->why, c->wl, "SET_VRING_KICK %u: fd cannot be polled", idx);
			return -EPROTO;
		}
	} else {
		vq->polling = true;
	}
	if (queue_start(be, idx, c->why, c->wl))
		return -EPROTO;
	/* With in-band notifications, no fd means kicks come as VRING_KICK. */
	vq->polling = fd < 0 && !pf(be, VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS);
	return 0;
}

/* Keep the request's fd (or -1) in *slot, closing the one it replaces. */
static void take_fd(struct vhc_be_req *c, int *slot)
{
	close_fd(slot);
	*slot = c->fd;
	c->m->nfds = 0;
	if (c->fd >= 0)
		set_nonblock(c->fd);
}

int vhc_be_set_vring_call(struct vhc_be_req *c)
{
	take_fd(c, &c->vq->call_fd);
	if (c->vq->q)
		vhc_devq_set_call(c->vq->q, c->fd);
	return 0;
}

int vhc_be_set_vring_err(struct vhc_be_req *c)
{
	take_fd(c, &c->vq->err_fd);
	return 0;
}

int vhc_be_set_vring_enable(struct vhc_be_req *c)
{
	struct vhc_vu_msg *m = c->m;
	struct be_queue *vq = c->vq;
	uint32_t idx = c->idx;

	if (m->p.state.num > 1) {
		snprintf(c->why, c->wl, "SET_VRING_ENABLE %u for vring %u", m->p.state.num, idx);
		return -EPROTO;
	}
	vq->enabled = m->p.state.num;
	if (vq->enabled && vq->started)
		vq->more = true;
	return 0;
}

int vhc_be_set_backend_req_fd(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	int fd = c->fd;

	close_fd(&be->chan_fd);
	be->chan_fd = fd;
	m->nfds = 0;
	return 0;
}

int vhc_be_get_config(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	uint32_t off = m->p.config.offset, sz = m->p.config.size;

	if (!sz || off > be->o.config_len || sz > be->o.config_len - off) {
		/* A config reply of size 0 tells the frontend it failed. */
		m->p.config.size = 0;
		return reply(be, m, 12, NULL, 0) ?: 1;
	}
	memcpy(m->p.config.data, be->config + off, sz);
	return reply(be, m, 12 + sz, NULL, 0) ?: 1;
}

int vhc_be_set_config(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	uint32_t off = m->p.config.offset, sz = m->p.config.size;
	int r;

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

int vhc_be_set_status(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;

	if (m->p.u64 > 0xff) {
		snprintf(c->why, c->wl, "SET_STATUS 0x%llx", (unsigned long long)m->p.u64);
		return -EPROTO;
	}
	be->status = (uint8_t)m->p.u64;
	if (!be->status)
		device_reset(be);
	return 0;
}

int vhc_be_get_status(struct vhc_be_req *c)
{
	return vhc_be_reply_u64(c->be, c->m, c->be->status) ?: 1;
}

int vhc_be_get_inflight_fd(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	unsigned int nq = m->p.inflight.num_queues, qs = m->p.inflight.queue_size;
	bool packed;
	size_t size;
	void *p;
	int mfd;

	if (!nq || nq > be->o.num_queues || !qs || qs > be->o.max_queue_size) {
		snprintf(c->why, c->wl, "GET_INFLIGHT_FD for %u queues of %u", nq, qs);
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

int vhc_be_set_inflight_fd(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	int fd = c->fd;
	struct vhc_vu_inflight *in = &m->p.inflight;
	void *p;
	int r;

	if (!in->num_queues || in->num_queues > be->o.num_queues || !in->queue_size ||
	    in->queue_size > be->o.max_queue_size ||
	    in->mmap_size < vhc_inflight_queue_size(in->queue_size, false) * in->num_queues ||
	    in->mmap_size > (1ull << 32) || in->mmap_offset > (1ull << 40) ||
	    (in->mmap_offset & 4095)) {
		snprintf(c->why, c->wl, "SET_INFLIGHT_FD: %u queues of %u in %llu bytes",
			 in->num_queues, in->queue_size, (unsigned long long)in->mmap_size);
		return -EPROTO;
	}
	r = fd_covers(fd, in->mmap_offset, in->mmap_size);
	if (r) {
		snprintf(c->why, c->wl, "SET_INFLIGHT_FD: %s", map_error(r, "bad fd"));
		return -EPROTO;
	}
	p = mmap(NULL, in->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)in->mmap_offset);
	if (p == MAP_FAILED) {
		snprintf(c->why, c->wl, "SET_INFLIGHT_FD: cannot map: %s", strerror(errno));
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

int vhc_be_set_device_state_fd(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	int fd = c->fd;
	bool load = m->p.devstate.direction == 1;
	int r;

	if (m->p.devstate.direction > 1 || m->p.devstate.phase != 0) {
		snprintf(c->why, c->wl, "SET_DEVICE_STATE_FD direction %u phase %u",
			 m->p.devstate.direction, m->p.devstate.phase);
		return -EPROTO;
	}
	for (unsigned int i = 0; i < be->o.num_queues; i++)
		if (be->qs[i].started)
			return vhc_be_reply_u64(be, m, 1) ?: 1;	/* not suspended */
	/* Bit 8: we give no fd back, the frontend's is the channel. */
	r = vhc_be_reply_u64(be, m, 1u << 8);
	if (r)
		return r;
	be->state_result = 0;
	close_fd(&be->state_fd);
	if (load) {
		be->state_fd = fd;
		m->nfds = 0;
	} else {
		be->state_result = vhc_be_state_save(be, fd);
	}
	return 1;
}

int vhc_be_check_device_state(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;

	if (be->state_fd >= 0) {
		be->state_result = vhc_be_state_load(be, be->state_fd);
		close_fd(&be->state_fd);
	}
	return vhc_be_reply_u64(be, m, be->state_result ? 1 : 0) ?: 1;
}

int vhc_be_set_log_base(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	int fd = c->fd;

	return set_log_base(be, m, fd, c->why, c->wl);
}

int vhc_be_set_log_fd(struct vhc_be_req *c)
{
	take_fd(c, &c->be->dlog.fd);
	return 0;
}

/*
 * Handle one request.  Return 0 (done; REPLY_ACK answered by the caller),
 * 1 (done and replied), 2 (refused: acknowledge with failure), or a
 * negative errno: a protocol error that ends the connection.  The request's
 * row (vu_wire.c) gives its gate, its vring index and its handler.
 */
int vhc_be_handle(struct vhostctl_vu_backend *be, struct vhc_vu_msg *m, char *why, size_t wl)
{
	const struct vhc_vu_req_info *ri = vhc_vu_req_info(m->hdr.request);
	struct vhc_be_req c = { .be = be, .m = m, .why = why, .wl = wl };

	/* vhc_vu_check_request() passed: the request has a row. */
	if (be->pc_await_ack)
		return vhc_be_postcopy_ack(&c);
	if (ri->gate && !pf(be, ri->gate - 1)) {
		snprintf(why, wl, "%s without protocol feature %s", ri->name,
			 vhostctl_vu_protocol_feature_name(ri->gate - 1u));
		return -EPROTO;
	}
	if (ri->idx != IDX_NONE) {
		c.idx = ri->idx == IDX_U64 ? (uint32_t)(m->p.u64 & VHC_VU_VRING_IDX_MASK) :
			m->p.state.index;
		if (c.idx >= be->o.num_queues) {
			snprintf(why, wl, "%s: vring %u of %u", ri->name, c.idx, be->o.num_queues);
			return -EPROTO;
		}
		c.vq = &be->qs[c.idx];
	}
	c.fd = m->nfds ? m->fds[0] : -1;
	if (!ri->handle) {
		snprintf(why, wl, "unsupported request %u (%s)", m->hdr.request, ri->name);
		return -EOPNOTSUPP;
	}
	return ri->handle(&c);
}

