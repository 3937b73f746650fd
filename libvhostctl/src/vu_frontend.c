// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user frontend: the VHOSTCTL_TRANSPORT_USER ops of the device handle.
 *
 * Messages that need no answer are pipelined; with REPLY_ACK the ones whose
 * failure matters (memory table, config, inflight, backend channel) and the
 * ring fd messages ask for an acknowledgement.  A ring is handed to the
 * caller only once the backend has taken its fds: acknowledged, or followed
 * by a request that has a reply.  Replies are checked strictly (flags exactly
 * VERSION|REPLY, the same request, the expected size).  Everything sent is
 * remembered so that vhostctl_vu_reconnect() can replay it to a restarted
 * backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vu.h"

#define FE_PROTOCOL_FEATURES                                                   \
	(VHC_BIT(VHOSTCTL_VU_PF_MQ) | VHC_BIT(VHOSTCTL_VU_PF_LOG_SHMFD) |      \
	 VHC_BIT(VHOSTCTL_VU_PF_REPLY_ACK) | VHC_BIT(VHOSTCTL_VU_PF_BACKEND_REQ) | \
	 VHC_BIT(VHOSTCTL_VU_PF_CONFIG) | VHC_BIT(VHOSTCTL_VU_PF_INFLIGHT_SHMFD) | \
	 VHC_BIT(VHOSTCTL_VU_PF_RESET_DEVICE) |                                 \
	 VHC_BIT(VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS) |                          \
	 VHC_BIT(VHOSTCTL_VU_PF_STATUS) | VHC_BIT(VHOSTCTL_VU_PF_DEVICE_STATE))

/* Negotiated only when the caller names them in opts.protocol_features. */
#define FE_OPT_IN_FEATURES                                                     \
	(VHC_BIT(VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS) | VHC_BIT(VHOSTCTL_VU_PF_CROSS_ENDIAN))

#define FD_UNSET (-2)

struct fe_vring {
	unsigned int num;
	struct vhc_vu_addr addr;
	bool addr_set;
	uint32_t base;
	bool base_set;
	int kick, call, err;	/* the caller's fds (borrowed), FD_UNSET if never sent */
	int enable;		/* -1 if never sent */
	unsigned int inband_calls;	/* backend VRING_CALL requests served */
	int endian;		/* SET_VRING_ENDIAN's, -1 if never sent */
};

/* Frontend state; the handle is used by one thread at a time. */
struct vu_fe {
	char *path;
	bool server;
	int timeout;
	uint64_t proto_mask;
	unsigned int opt_queues;

	uint64_t features;	/* offered by the backend */
	uint64_t proto;		/* negotiated */
	unsigned int queues;
	int chan;		/* our end of the backend channel */
	bool broken;		/* a reply went missing or wrong: the stream is out of step */
	unsigned int config_changes, be_requests;

	bool owner;
	bool features_set;
	uint64_t acked;
	struct vhostctl_vu_region *regions;
	unsigned int nregions;
	struct fe_vring vr[VHC_VU_MAX_QUEUES];
	int infl_fd;
	struct vhc_vu_inflight infl;
	bool log_set;		/* the dirty log last given (borrowed fd), replayed */
	struct vhostctl_log log;
	int log_efd;		/* SET_LOG_FD's, FD_UNSET if never sent */
	bool status_set;
	uint8_t status;
};

static struct vu_fe *fe_of(struct vhostctl_dev *dev)
{
	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_USER)
		return NULL;
	return dev->priv;
}

static bool pf(const struct vu_fe *fe, int bit)
{
	return fe->proto & VHC_BIT(bit);
}

/*
 * After a send failure, a missing reply or a wrong one, the next reply read
 * could belong to an earlier request: stop using the connection until
 * vhostctl_vu_reconnect().
 */
static void fe_break(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	if (fe->broken)
		return;
	fe->broken = true;
	shutdown(dev->fd, SHUT_RDWR);
	vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user connection closed; vhostctl_vu_reconnect() to go on");
}

static int fe_send(struct vhostctl_dev *dev, struct vhc_vu_msg *m, const int *fds, unsigned int nfds)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (fe->broken)
		return -ENOTCONN;
	r = vhc_vu_send_fds(dev->fd, m, fds, nfds);
	if (r) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user %s: send: %s",
			vhc_vu_req_name(m->hdr.request), strerror(-r));
		fe_break(dev);
	}
	return r;
}

static int fe_serve(struct vhostctl_dev *dev);

/*
 * Wait until the reply is readable, serving the backend channel meanwhile:
 * a backend may be waiting for our answer there (CONFIG_CHANGE_MSG with
 * NEED_REPLY) before it reads the request we wait on.
 */
static int fe_wait_reply(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	struct timespec start, now;
	int left = fe->timeout;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (fe->chan >= 0) {
		struct pollfd p[2] = {
			{ .fd = dev->fd, .events = POLLIN },
			{ .fd = fe->chan, .events = POLLIN },
		};
		int n = poll(p, 2, left);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && p[0].revents)
			return 0;
		/* A broken channel is closed by fe_serve(); the reply is still awaited. */
		if (n > 0 && p[1].revents)
			fe_serve(dev);
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = fe->timeout - (int)((now.tv_sec - start.tv_sec) * 1000 +
					   (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Wait for the reply to request req; size 0 means any size up to the payload. */
static int fe_reply(struct vhostctl_dev *dev, struct vhc_vu_msg *m, uint32_t req, uint32_t size,
		    unsigned int max_fds)
{
	struct vu_fe *fe = dev->priv;
	char why[128] = "";
	int r;

	r = fe_wait_reply(dev);
	if (!r)
		r = vhc_vu_recv(dev->fd, m, fe->timeout, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-r));
	if (r) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user %s: no reply: %s", vhc_vu_req_name(req), why);
		fe_break(dev);
		return r;
	}
	if (m->hdr.flags != (VHC_VU_VERSION | VHC_VU_REPLY) || m->hdr.request != req ||
	    (size && m->hdr.size != size) || m->nfds > max_fds) {
		vhc_log(dev, VHOSTCTL_LOG_ERR,
			"vhost-user %s: bad reply (request %u flags 0x%x size %u fds %u)",
			vhc_vu_req_name(req), m->hdr.request, m->hdr.flags, m->hdr.size, m->nfds);
		vhc_vu_msg_close_fds(m);
		fe_break(dev);
		return -EPROTO;
	}
	return 0;
}

/*
 * Send a request.  ack: ask for REPLY_ACK (when negotiated) and check it.
 */
static int fe_call(struct vhostctl_dev *dev, uint32_t req, const void *payload, uint32_t size,
		   const int *fds, unsigned int nfds, bool ack)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_msg m;
	int r;

	ack = ack && pf(fe, VHOSTCTL_VU_PF_REPLY_ACK);
	vhc_vu_msg_init(&m, req, ack ? VHC_VU_NEED_REPLY : 0, size);
	if (size)
		memcpy(&m.p, payload, size);
	r = fe_send(dev, &m, fds, nfds);
	if (r || !ack)
		return r;
	r = fe_reply(dev, &m, req, 8, 0);
	if (r)
		return r;
	if (m.p.u64) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user %s: backend refused (%llu)",
			vhc_vu_req_name(req), (unsigned long long)m.p.u64);
		return -EIO;
	}
	return 0;
}

static int fe_get_u64(struct vhostctl_dev *dev, uint32_t req, uint64_t *v)
{
	struct vhc_vu_msg m;
	int r;

	vhc_vu_msg_init(&m, req, 0, 0);
	r = fe_send(dev, &m, NULL, 0);
	if (!r)
		r = fe_reply(dev, &m, req, 8, 0);
	if (!r)
		*v = m.p.u64;
	return r;
}

/* ---- connection ------------------------------------------------------- */

static int fe_connect(struct vu_fe *fe)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec start, now;
	int fd, lfd, r;

	if (strlen(fe->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, fe->path);
	if (fe->server) {
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0)
			return -errno;
		unlink(fe->path);
		if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
			r = -errno;
			close(lfd);
			return r;
		}
		r = vhc_vu_wait(lfd, POLLIN, fe->timeout);
		fd = r ? -1 : accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (!r && fd < 0)
			r = -errno;
		close(lfd);
		unlink(fe->path);
		return fd < 0 ? r : fd;
	}
	/* A backend may be starting: retry refused connections until the timeout. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		r = -errno;
		close(fd);
		if (r != -ECONNREFUSED && r != -ENOENT)
			return r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    fe->timeout)
			return r;
		usleep(10000);
	}
}

/* Features, protocol features, queue count, backend channel. */
static int fe_handshake(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v;
	int r, sv[2];

	r = fe_get_u64(dev, VHC_VU_GET_FEATURES, &fe->features);
	if (r)
		return r;
	fe->proto = 0;
	if (fe->features & VHC_BIT(VHC_F_PROTOCOL_FEATURES)) {
		r = fe_get_u64(dev, VHC_VU_GET_PROTOCOL_FEATURES, &v);
		if (r)
			return r;
		v &= fe->proto_mask;
		r = fe_call(dev, VHC_VU_SET_PROTOCOL_FEATURES, &v, 8, NULL, 0, false);
		if (r)
			return r;
		fe->proto = v;
	}
	fe->queues = fe->opt_queues ? fe->opt_queues : 1;
	if (pf(fe, VHOSTCTL_VU_PF_MQ)) {
		r = fe_get_u64(dev, VHC_VU_GET_QUEUE_NUM, &v);
		if (r)
			return r;
		if (!v) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user: backend has 0 queues");
			return -EPROTO;
		}
		/*
		 * It is the backend's maximum (DPDK says 128 whatever the port
		 * has); we drive at most VHC_VU_MAX_QUEUES of them.
		 */
		if (v > VHC_VU_MAX_QUEUES) {
			vhc_log(dev, VHOSTCTL_LOG_INFO,
				"vhost-user: backend has up to %llu queues, using the first %u",
				(unsigned long long)v, VHC_VU_MAX_QUEUES);
			v = VHC_VU_MAX_QUEUES;
		}
		fe->queues = (unsigned int)v;
	}
	if (fe->queues > VHC_VU_MAX_QUEUES)
		return -EINVAL;
	if (pf(fe, VHOSTCTL_VU_PF_BACKEND_REQ)) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -errno;
		r = fe_call(dev, VHC_VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1, true);
		close(sv[1]);
		if (r) {
			close(sv[0]);
			return r;
		}
		if (fe->chan >= 0)
			close(fe->chan);
		fe->chan = sv[0];
	}
	return 0;
}

/* ---- memory ----------------------------------------------------------- */

static void region_msg(struct vhc_vu_region *out, const struct vhostctl_vu_region *r)
{
	out->gpa = r->gpa;
	out->size = r->size;
	out->uaddr = r->uaddr;
	out->mmap_offset = r->offset;
}

static bool region_eq(const struct vhostctl_vu_region *a, const struct vhostctl_vu_region *b)
{
	return a->gpa == b->gpa && a->size == b->size && a->uaddr == b->uaddr &&
	       a->fd == b->fd && a->offset == b->offset;
}

static int send_table(struct vhostctl_dev *dev, const struct vhostctl_vu_region *regs,
		      unsigned int n, const struct vhostctl_vu_region *old, unsigned int nold)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (pf(fe, VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS)) {
		struct vhc_vu_mem_one one = { 0 };

		/* Changes only: remove what went away, then add what is new. */
		for (unsigned int i = 0; i < nold; i++) {
			bool keep = false;

			for (unsigned int j = 0; j < n && !keep; j++)
				keep = region_eq(&old[i], &regs[j]);
			if (keep)
				continue;
			region_msg(&one.r, &old[i]);
			r = fe_call(dev, VHC_VU_REM_MEM_REG, &one, sizeof(one), NULL, 0, true);
			if (r)
				return r;
		}
		for (unsigned int j = 0; j < n; j++) {
			bool have = false;

			for (unsigned int i = 0; i < nold && !have; i++)
				have = region_eq(&old[i], &regs[j]);
			if (have)
				continue;
			region_msg(&one.r, &regs[j]);
			r = fe_call(dev, VHC_VU_ADD_MEM_REG, &one, sizeof(one), &regs[j].fd, 1, true);
			if (r)
				return r;
		}
		return 0;
	}
	{
		struct vhc_vu_mem mem = { .nregions = n };
		int fds[VHC_VU_MEM_REGIONS];

		if (n > VHC_VU_MEM_REGIONS)
			return -E2BIG;
		for (unsigned int i = 0; i < n; i++) {
			region_msg(&mem.r[i], &regs[i]);
			fds[i] = regs[i].fd;
		}
		return fe_call(dev, VHC_VU_SET_MEM_TABLE, &mem, 8 + n * sizeof(mem.r[0]), fds, n, true);
	}
}

static int fe_max_slots(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS))
		return VHC_VU_MEM_REGIONS;
	r = fe_get_u64(dev, VHC_VU_GET_MAX_MEM_SLOTS, &v);
	if (r)
		return r;
	return v > VHC_VU_MAX_MEM_SLOTS ? (int)VHC_VU_MAX_MEM_SLOTS : (int)v;
}

static int set_regions(struct vhostctl_dev *dev, const struct vhostctl_vu_region *regs, unsigned int n)
{
	struct vu_fe *fe = dev->priv;
	struct vhostctl_vu_region *copy;
	int r, max;

	for (unsigned int i = 0; i < n; i++)
		if (regs[i].fd < 0 || !regs[i].size)
			return -EINVAL;
	max = fe_max_slots(dev);
	if (max < 0)
		return max;
	if (n > (unsigned int)max)
		return -E2BIG;
	copy = calloc(n ? n : 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, regs, n * sizeof(*copy));
	r = send_table(dev, regs, n, fe->regions, fe->nregions);
	if (r) {
		free(copy);
		return r;
	}
	free(fe->regions);
	fe->regions = copy;
	fe->nregions = n;
	return 0;
}

static uint64_t gpa_to_uaddr(const struct vu_fe *fe, uint64_t gpa, bool *ok)
{
	for (unsigned int i = 0; i < fe->nregions; i++) {
		const struct vhostctl_vu_region *r = &fe->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*ok = true;
			return r->uaddr + (gpa - r->gpa);
		}
	}
	*ok = false;
	return 0;
}

/* ---- ops ---------------------------------------------------------------- */

static int vu_set_owner(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	int r = fe_call(dev, VHC_VU_SET_OWNER, NULL, 0, NULL, 0, false);

	if (!r)
		fe->owner = true;
	return r;
}

static int vu_reset_owner(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	fe->owner = false;
	return fe_call(dev, VHC_VU_RESET_OWNER, NULL, 0, NULL, 0, false);
}

static int vu_get_features(struct vhostctl_dev *dev, uint64_t *features)
{
	struct vu_fe *fe = dev->priv;
	int r = fe_get_u64(dev, VHC_VU_GET_FEATURES, &fe->features);

	if (!r)
		*features = fe->features;
	return r;
}

static int vu_set_features(struct vhostctl_dev *dev, uint64_t features)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (features & ~fe->features)
		return -EOPNOTSUPP;
	/* The protocol-features bit stays on once negotiated: it is the transport's. */
	if (fe->features & VHC_BIT(VHC_F_PROTOCOL_FEATURES))
		features |= VHC_BIT(VHC_F_PROTOCOL_FEATURES);
	r = fe_call(dev, VHC_VU_SET_FEATURES, &features, 8, NULL, 0, false);
	if (!r) {
		fe->acked = features;
		fe->features_set = true;
	}
	return r;
}

static int vu_set_mem_table(struct vhostctl_dev *dev, const struct vhostctl_mem *mem)
{
	struct vhostctl_vu_region regs[VHOSTCTL_MEM_MAX_REGIONS];
	int n = vhostctl_mem_num_regions(mem);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct vhostctl_mem_region mr;
		int r = vhostctl_mem_get_region(mem, (unsigned int)i, &mr);

		if (r)
			return r;
		if (mr.fd < 0)
			return -EINVAL;	/* private memory cannot be shared */
		regs[i].gpa = mr.gpa;
		regs[i].size = mr.size;
		regs[i].uaddr = (uint64_t)(uintptr_t)mr.hva;
		regs[i].fd = mr.fd;
		regs[i].offset = mr.fd_offset;
	}
	return set_regions(dev, regs, (unsigned int)n);
}

static int check_index(struct vhostctl_dev *dev, unsigned int index)
{
	struct vu_fe *fe = dev->priv;

	return index < fe->queues ? 0 : -ENOBUFS;
}

static int send_state(struct vhostctl_dev *dev, uint32_t req, unsigned int index, unsigned int num)
{
	struct vhc_vu_state s = { .index = index, .num = num };

	return fe_call(dev, req, &s, sizeof(s), NULL, 0, false);
}

static int vu_set_vring_num(struct vhostctl_dev *dev, unsigned int index, unsigned int num)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_state(dev, VHC_VU_SET_VRING_NUM, index, num);

	if (!r)
		fe->vr[index].num = num;
	return r;
}

static int vu_set_vring_addr(struct vhostctl_dev *dev, const struct vhostctl_vring_addr *a)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_addr m = { .index = a->index, .flags = a->flags, .log = a->log };
	bool ok1, ok2, ok3;
	int r = check_index(dev, a->index);

	if (r)
		return r;
	/* Ring addresses travel as our user addresses. */
	m.desc = gpa_to_uaddr(fe, a->desc, &ok1);
	m.avail = gpa_to_uaddr(fe, a->avail, &ok2);
	m.used = gpa_to_uaddr(fe, a->used, &ok3);
	if (!ok1 || !ok2 || !ok3)
		return -EFAULT;
	r = fe_call(dev, VHC_VU_SET_VRING_ADDR, &m, sizeof(m), NULL, 0, false);
	if (!r) {
		fe->vr[a->index].addr = m;
		fe->vr[a->index].addr_set = true;
	}
	return r;
}

static int vu_set_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int base)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_state(dev, VHC_VU_SET_VRING_BASE, index, base);

	if (!r) {
		fe->vr[index].base = base;
		fe->vr[index].base_set = true;
	}
	return r;
}

static int vu_get_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int *base)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_msg m;
	int r = check_index(dev, index);

	if (r)
		return r;
	vhc_vu_msg_init(&m, VHC_VU_GET_VRING_BASE, 0, sizeof(m.p.state));
	m.p.state.index = index;
	m.p.state.num = 0;
	r = fe_send(dev, &m, NULL, 0) ?: fe_reply(dev, &m, VHC_VU_GET_VRING_BASE, 8, 0);
	if (r)
		return r;
	if (m.p.state.index != index)
		return -EPROTO;
	*base = m.p.state.num;
	fe->vr[index].base = m.p.state.num;
	fe->vr[index].base_set = true;
	/*
	 * The ring is stopped and the backend lets go of its fds (libvhost-user
	 * closes kick and call): a reconnect must not start it again, nor pass
	 * fds the caller may have closed since.
	 */
	fe->vr[index].kick = fe->vr[index].call = fe->vr[index].err = FD_UNSET;
	return 0;
}

/*
 * A ring fd message is acknowledged when REPLY_ACK is negotiated: a backend
 * may start serving the ring on its kick, and must hold the call fd by then.
 */
static int send_vring_fd(struct vhostctl_dev *dev, uint32_t req, unsigned int index, int fd)
{
	uint64_t v = index | (fd < 0 ? VHC_VU_VRING_NOFD : 0);

	return fe_call(dev, req, &v, 8, &fd, fd < 0 ? 0 : 1, true);
}

/*
 * Without REPLY_ACK, a request that has a reply: a backend handles messages
 * in order, so everything sent before has been handled once it answers.
 */
static int fe_barrier(struct vhostctl_dev *dev)
{
	uint64_t f;

	return fe_get_u64(dev, VHC_VU_GET_FEATURES, &f);
}

static int vu_set_vring_kick(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_vring_fd(dev, VHC_VU_SET_VRING_KICK, index, fd);

	/* The ring is the caller's from here: the backend holds its fds. */
	if (!r && !pf(fe, VHOSTCTL_VU_PF_REPLY_ACK))
		r = fe_barrier(dev);
	if (!r)
		fe->vr[index].kick = fd;
	return r;
}

static int vu_set_vring_call(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_vring_fd(dev, VHC_VU_SET_VRING_CALL, index, fd);

	if (!r)
		fe->vr[index].call = fd;
	return r;
}

static int vu_set_vring_err(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_vring_fd(dev, VHC_VU_SET_VRING_ERR, index, fd);

	if (!r)
		fe->vr[index].err = fd;
	return r;
}

static int vu_set_vring_enable(struct vhostctl_dev *dev, unsigned int index, int enable)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (!(fe->acked & VHC_BIT(VHC_F_PROTOCOL_FEATURES)))
		return -EOPNOTSUPP;
	r = check_index(dev, index) ?: send_state(dev, VHC_VU_SET_VRING_ENABLE, index, !!enable);
	if (!r)
		fe->vr[index].enable = !!enable;
	return r;
}

static int vu_set_log_base(struct vhostctl_dev *dev, const struct vhostctl_log *log)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_log l = { .size = log->size, .offset = log->offset };
	struct vhc_vu_msg m;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_LOG_SHMFD))
		return -EOPNOTSUPP;
	if (log->fd < 0)
		return -EINVAL;
	vhc_vu_msg_init(&m, VHC_VU_SET_LOG_BASE, 0, sizeof(l));
	memcpy(&m.p.log, &l, sizeof(l));
	r = fe_send(dev, &m, &log->fd, 1);
	/* The backend answers SET_LOG_BASE (the body varies between peers). */
	if (!r)
		r = fe_reply(dev, &m, VHC_VU_SET_LOG_BASE, 0, 0);
	if (!r) {
		fe->log = *log;
		fe->log_set = true;
	}
	return r;
}

static int vu_set_log_fd(struct vhostctl_dev *dev, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = fe_call(dev, VHC_VU_SET_LOG_FD, NULL, 0, fd >= 0 ? &fd : NULL, fd >= 0, false);

	if (!r)
		fe->log_efd = fd;
	return r;
}

static int vu_get_config(struct vhostctl_dev *dev, unsigned int offset, void *buf, unsigned int len)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_msg m;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_CONFIG))
		return -EOPNOTSUPP;
	if (!len || len > VHC_VU_MAX_CONFIG || !buf)
		return -EINVAL;
	vhc_vu_msg_init(&m, VHC_VU_GET_CONFIG, 0, 12 + len);
	memset(&m.p.config, 0, 12 + len);
	m.p.config.offset = offset;
	m.p.config.size = len;
	r = fe_send(dev, &m, NULL, 0) ?: fe_reply(dev, &m, VHC_VU_GET_CONFIG, 0, 0);
	if (r)
		return r;
	/* A reply of another size (0 included) is the backend's refusal. */
	if (m.hdr.size != 12 + len || m.p.config.size != len)
		return -EIO;
	memcpy(buf, m.p.config.data, len);
	return 0;
}

static int vu_set_config(struct vhostctl_dev *dev, unsigned int offset, const void *buf,
			 unsigned int len)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_config c = { .offset = offset, .size = len };

	if (!pf(fe, VHOSTCTL_VU_PF_CONFIG))
		return -EOPNOTSUPP;
	if (!len || len > VHC_VU_MAX_CONFIG || !buf)
		return -EINVAL;
	memcpy(c.data, buf, len);
	return fe_call(dev, VHC_VU_SET_CONFIG, &c, 12 + len, NULL, 0, true);
}

static int vu_get_status(struct vhostctl_dev *dev, uint8_t *status)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_STATUS))
		return -EOPNOTSUPP;
	r = fe_get_u64(dev, VHC_VU_GET_STATUS, &v);
	if (!r)
		*status = (uint8_t)v;
	return r;
}

static int vu_set_status(struct vhostctl_dev *dev, uint8_t status)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v = status;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_STATUS))
		return -EOPNOTSUPP;
	r = fe_call(dev, VHC_VU_SET_STATUS, &v, 8, NULL, 0, true);
	if (!r) {
		fe->status = status;
		fe->status_set = true;
	}
	return r;
}

static int vu_reset(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	if (pf(fe, VHOSTCTL_VU_PF_RESET_DEVICE))
		return fe_call(dev, VHC_VU_RESET_DEVICE, NULL, 0, NULL, 0, true);
	if (pf(fe, VHOSTCTL_VU_PF_STATUS))
		return vu_set_status(dev, 0);
	return fe_call(dev, VHC_VU_RESET_OWNER, NULL, 0, NULL, 0, false);
}

static void vu_destroy(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	if (!fe)
		return;
	if (fe->chan >= 0)
		close(fe->chan);
	if (fe->infl_fd >= 0)
		close(fe->infl_fd);
	free(fe->regions);
	free(fe->path);
	free(fe);
	dev->priv = NULL;
}

const struct vhc_dev_ops vhc_vu_ops = {
	.name = "vhost-user",
	.set_owner = vu_set_owner,
	.reset_owner = vu_reset_owner,
	.get_features = vu_get_features,
	.set_features = vu_set_features,
	.set_mem_table = vu_set_mem_table,
	.set_vring_num = vu_set_vring_num,
	.set_vring_addr = vu_set_vring_addr,
	.set_vring_base = vu_set_vring_base,
	.get_vring_base = vu_get_vring_base,
	.set_vring_kick = vu_set_vring_kick,
	.set_vring_call = vu_set_vring_call,
	.set_vring_err = vu_set_vring_err,
	.set_vring_enable = vu_set_vring_enable,
	.set_log_base = vu_set_log_base,
	.set_log_fd = vu_set_log_fd,
	.get_config = vu_get_config,
	.set_config = vu_set_config,
	.get_status = vu_get_status,
	.set_status = vu_set_status,
	.reset = vu_reset,
	.destroy = vu_destroy,
};

/* ---- public ------------------------------------------------------------- */

VHC_EXPORT struct vhostctl_dev *vhostctl_vu_open(const char *path, const struct vhostctl_vu_opts *opts)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_dev_opts, dopts);
	struct vhostctl_vu_opts o;
	struct vhostctl_dev *dev;
	struct vu_fe *fe;
	int r, fd;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r || !path) {
		errno = r ? -r : EINVAL;
		return NULL;
	}
	if (o.queues > VHC_VU_MAX_QUEUES) {
		errno = EINVAL;
		return NULL;
	}
	fe = calloc(1, sizeof(*fe));
	if (!fe)
		return NULL;
	fe->path = strdup(path);
	fe->server = o.server;
	fe->timeout = o.timeout_ms > 0 ? o.timeout_ms : 5000;
	fe->proto_mask = o.protocol_features ?
			 o.protocol_features & (FE_PROTOCOL_FEATURES | FE_OPT_IN_FEATURES) :
			 FE_PROTOCOL_FEATURES;
	fe->opt_queues = o.queues;
	fe->chan = fe->infl_fd = -1;
	fe->log_efd = FD_UNSET;
	for (unsigned int i = 0; i < VHC_VU_MAX_QUEUES; i++) {
		fe->vr[i].kick = fe->vr[i].call = fe->vr[i].err = FD_UNSET;
		fe->vr[i].enable = fe->vr[i].endian = -1;
	}
	if (!fe->path) {
		free(fe);
		return NULL;
	}
	fd = fe_connect(fe);
	if (fd < 0) {
		free(fe->path);
		free(fe);
		errno = -fd;
		return NULL;
	}
	dopts.log = o.log;
	dopts.log_ctx = o.log_ctx;
	dopts.log_level = o.log_level;
	dev = vhc_dev_alloc(VHOSTCTL_TRANSPORT_USER, &vhc_vu_ops, fd, &dopts);
	if (!dev) {
		r = errno;
		close(fd);
		free(fe->path);
		free(fe);
		errno = r;
		return NULL;
	}
	dev->priv = fe;
	r = fe_handshake(dev);
	if (r) {
		vhostctl_dev_close(dev);
		errno = -r;
		return NULL;
	}
	return dev;
}

/*
 * vhostctl_dev_open() of a path: a Unix socket there is a vhost-user
 * backend listening (it cannot be open(2)ed; connect to it).
 */
bool vhc_vu_match_path(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISSOCK(st.st_mode);
}

struct vhostctl_dev *vhc_vu_open_path(const char *path, const struct vhostctl_dev_opts *opts)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct vhostctl_dev_opts d;
	int r = vhc_opts_copy(&d, sizeof(d), opts);

	if (r) {
		errno = -r;
		return NULL;
	}
	o.log = d.log;
	o.log_ctx = d.log_ctx;
	o.log_level = d.log_level;
	return vhostctl_vu_open(path, &o);
}

VHC_EXPORT int vhostctl_vu_protocol_features(struct vhostctl_dev *dev, uint64_t *features)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!features)
		return vhc_err(EINVAL);
	*features = fe->proto;
	return 0;
}

VHC_EXPORT int vhostctl_vu_queue_count(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	return (int)fe->queues;
}

VHC_EXPORT int vhostctl_vu_set_mem_table(struct vhostctl_dev *dev,
					 const struct vhostctl_vu_region *regions, unsigned int n)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (n && !regions)
		return vhc_err(EINVAL);
	return vhc_ret(set_regions(dev, regions, n));
}

VHC_EXPORT int vhostctl_vu_max_mem_slots(struct vhostctl_dev *dev)
{
	if (!fe_of(dev))
		return vhc_err(dev ? ENOTTY : EINVAL);
	return vhc_ret(fe_max_slots(dev));
}

VHC_EXPORT int vhostctl_vu_get_inflight(struct vhostctl_dev *dev, unsigned int num_queues,
					unsigned int queue_size)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_vu_msg m;
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_INFLIGHT_SHMFD))
		return vhc_err(EOPNOTSUPP);
	if (!num_queues || num_queues > fe->queues || !queue_size || queue_size > 32768)
		return vhc_err(EINVAL);
	vhc_vu_msg_init(&m, VHC_VU_GET_INFLIGHT_FD, 0, sizeof(m.p.inflight));
	memset(&m.p.inflight, 0, sizeof(m.p.inflight));
	m.p.inflight.num_queues = (uint16_t)num_queues;
	m.p.inflight.queue_size = (uint16_t)queue_size;
	r = fe_send(dev, &m, NULL, 0) ?: fe_reply(dev, &m, VHC_VU_GET_INFLIGHT_FD, 24, 1);
	if (r)
		return vhc_ret(r);
	if (m.nfds != 1 || !m.p.inflight.mmap_size) {
		vhc_vu_msg_close_fds(&m);
		return vhc_err(EPROTO);
	}
	if (fe->infl_fd >= 0)
		close(fe->infl_fd);
	fe->infl_fd = m.fds[0];
	fe->infl = m.p.inflight;
	fe->infl.num_queues = (uint16_t)num_queues;
	fe->infl.queue_size = (uint16_t)queue_size;
	return 0;
}

/* Split ring: the used index the driver sees, read through our mapping. */
static bool used_idx_of(const struct vu_fe *fe, const struct fe_vring *vr, uint16_t *idx)
{
	for (unsigned int i = 0; i < fe->nregions; i++) {
		const struct vhostctl_vu_region *r = &fe->regions[i];

		if (vr->addr.used >= r->uaddr && vr->addr.used - r->uaddr + 4 <= r->size) {
			*idx = __atomic_load_n((uint16_t *)(uintptr_t)(vr->addr.used + 2),
					       __ATOMIC_ACQUIRE);
			return true;
		}
	}
	return false;
}

VHC_EXPORT int vhostctl_vu_reconnect(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhostctl_vu_region *regs;
	unsigned int nregs;
	int fd, r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	fd = fe_connect(fe);
	if (fd < 0)
		return vhc_ret(fd);
	close(dev->fd);
	dev->fd = fd;
	fe->broken = false;
	r = fe_handshake(dev);
	if (r)
		return vhc_ret(r);
	if (fe->owner && (r = vu_set_owner(dev)))
		return vhc_ret(r);
	if (fe->features_set && (r = fe_call(dev, VHC_VU_SET_FEATURES, &fe->acked, 8, NULL, 0, false)))
		return vhc_ret(r);
	regs = fe->regions;
	nregs = fe->nregions;
	fe->regions = NULL;
	fe->nregions = 0;
	r = nregs ? set_regions(dev, regs, nregs) : 0;
	if (r) {
		/* Keep the table for the next attempt. */
		free(fe->regions);
		fe->regions = regs;
		fe->nregions = nregs;
		return vhc_ret(r);
	}
	free(regs);
	if (fe->infl_fd >= 0) {
		if (!pf(fe, VHOSTCTL_VU_PF_INFLIGHT_SHMFD))
			return vhc_err(EPROTO);
		r = fe_call(dev, VHC_VU_SET_INFLIGHT_FD, &fe->infl, sizeof(fe->infl), &fe->infl_fd,
			    1, true);
		if (r)
			return vhc_ret(r);
	}
	/* Logging (a migration under way) goes on with the new backend. */
	if (fe->log_set && (r = vu_set_log_base(dev, &fe->log)))
		return vhc_ret(r);
	if (fe->log_efd != FD_UNSET && (r = vu_set_log_fd(dev, fe->log_efd)))
		return vhc_ret(r);
	for (unsigned int i = 0; i < fe->queues; i++) {
		struct fe_vring *vr = &fe->vr[i];
		uint32_t base = vr->base;
		uint16_t used;

		if (!vr->num)
			continue;
		/*
		 * The old backend could not report where it stopped: for a split
		 * ring restart at the used index (the backend's inflight region
		 * accounts for the rest).
		 */
		if (!(fe->acked & VHC_BIT(VHC_F_RING_PACKED)) && vr->addr_set &&
		    used_idx_of(fe, vr, &used))
			base = used;
		r = send_state(dev, VHC_VU_SET_VRING_NUM, i, vr->num) ?:
		    send_state(dev, VHC_VU_SET_VRING_BASE, i, base);
		if (!r && vr->endian >= 0)
			r = fe_call(dev, VHC_VU_SET_VRING_ENDIAN,
				    &(struct vhc_vu_state){ .index = i, .num = (unsigned int)vr->endian },
				    8, NULL, 0, true);
		if (!r && vr->addr_set)
			r = fe_call(dev, VHC_VU_SET_VRING_ADDR, &vr->addr, sizeof(vr->addr), NULL, 0,
				    false);
		if (!r && vr->call != FD_UNSET)
			r = send_vring_fd(dev, VHC_VU_SET_VRING_CALL, i, vr->call);
		if (!r && vr->err != FD_UNSET)
			r = send_vring_fd(dev, VHC_VU_SET_VRING_ERR, i, vr->err);
		if (!r && vr->kick != FD_UNSET)
			r = send_vring_fd(dev, VHC_VU_SET_VRING_KICK, i, vr->kick);
		if (!r && vr->enable >= 0)
			r = send_state(dev, VHC_VU_SET_VRING_ENABLE, i, (unsigned int)vr->enable);
		if (r)
			return vhc_ret(r);
		vr->base = base;
	}
	if (fe->status_set && pf(fe, VHOSTCTL_VU_PF_STATUS)) {
		uint64_t v = fe->status;

		r = fe_call(dev, VHC_VU_SET_STATUS, &v, 8, NULL, 0, true);
		if (r)
			return vhc_ret(r);
	}
	/* A barrier: everything above has been handled when this is answered. */
	return vhc_ret(fe_barrier(dev));
}

VHC_EXPORT int vhostctl_vu_backend_channel_fd(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	return fe->chan >= 0 ? fe->chan : vhc_err(ENOENT);
}

/* Serve what waits on the backend channel: the count, or -errno. */
static int fe_serve(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	int served = 0;

	for (;;) {
		struct vhc_vu_msg m;
		char why[128] = "";
		uint64_t result = 0;
		bool need;
		int r;

		if (vhc_vu_wait(fe->chan, POLLIN, 0))
			break;
		r = vhc_vu_recv(fe->chan, &m, 0, why, sizeof(why));
		if (!r)
			r = vhc_vu_check_be_request(&m, why, sizeof(why));
		vhc_vu_msg_close_fds(&m);
		/* A well-formed request we do not serve is refused below, the channel kept. */
		if (r && r != -EOPNOTSUPP) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user backend channel closed: %s", why);
			close(fe->chan);
			fe->chan = -1;
			return r;
		}
		need = m.hdr.flags & VHC_VU_NEED_REPLY;
		switch (r ? 0 : m.hdr.request) {
		case VHC_VU_BE_CONFIG_CHANGE_MSG:
			if (!pf(fe, VHOSTCTL_VU_PF_CONFIG))
				result = 1;
			else
				fe->config_changes++;
			break;
		case VHC_VU_BE_VRING_CALL:
			/* The ring's used buffers, announced in-band (its call fd is NOFD). */
			if (!pf(fe, VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS) ||
			    m.p.state.index >= fe->queues) {
				vhc_log(dev, VHOSTCTL_LOG_WARNING,
					"vhost-user backend VRING_CALL of ring %u refused",
					m.p.state.index);
				fe->be_requests++;
				result = 1;
			} else {
				fe->vr[m.p.state.index].inband_calls++;
			}
			break;
		default:
			/*
			 * IOTLB, host notifiers, in-band errors, shared objects and
			 * shared memory need protocol features this frontend never
			 * negotiates: refuse them (a failure reply when asked).
			 */
			vhc_log(dev, VHOSTCTL_LOG_WARNING, "vhost-user backend request %s refused",
				vhc_vu_be_req_name(m.hdr.request));
			fe->be_requests++;
			result = 1;
			break;
		}
		if (need) {
			m.hdr.flags = VHC_VU_VERSION | VHC_VU_REPLY;
			m.hdr.size = 8;
			m.p.u64 = result;
			m.nfds = 0;
			r = vhc_vu_send(fe->chan, &m);
			if (r)
				return r;
		}
		served++;
	}
	return served;
}

VHC_EXPORT int vhostctl_vu_serve_backend(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (fe->chan < 0)
		return vhc_err(ENOENT);
	return vhc_ret(fe_serve(dev));
}

VHC_EXPORT int vhostctl_vu_config_changes(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	return (int)fe->config_changes;
}

VHC_EXPORT int vhostctl_vu_device_state(struct vhostctl_dev *dev, int load, int *fd)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_vu_msg m;
	int p[2], r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!fd)
		return vhc_err(EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_DEVICE_STATE))
		return vhc_err(EOPNOTSUPP);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	vhc_vu_msg_init(&m, VHC_VU_SET_DEVICE_STATE_FD, 0, sizeof(m.p.devstate));
	m.p.devstate.direction = load ? 1 : 0;
	m.p.devstate.phase = 0;
	/* Save: the backend writes into the pipe; load: it reads from it. */
	r = fe_send(dev, &m, load ? &p[0] : &p[1], 1) ?:
	    fe_reply(dev, &m, VHC_VU_SET_DEVICE_STATE_FD, 8, 1);
	close(load ? p[0] : p[1]);
	if (r) {
		close(load ? p[1] : p[0]);
		return vhc_ret(r);
	}
	if (m.p.u64 & 0xff) {
		vhc_vu_msg_close_fds(&m);
		close(load ? p[1] : p[0]);
		return vhc_err(EBUSY);
	}
	if (!(m.p.u64 & (1u << 8)) && m.nfds == 1) {
		/* The backend gave its own end: it replaces ours. */
		close(load ? p[1] : p[0]);
		*fd = m.fds[0];
		return 0;
	}
	vhc_vu_msg_close_fds(&m);
	*fd = load ? p[1] : p[0];
	return 0;
}

VHC_EXPORT int vhostctl_vu_check_device_state(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);
	uint64_t v;
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_DEVICE_STATE))
		return vhc_err(EOPNOTSUPP);
	r = fe_get_u64(dev, VHC_VU_CHECK_DEVICE_STATE, &v);
	if (r)
		return vhc_ret(r);
	return v ? vhc_err(EIO) : 0;
}

VHC_EXPORT int vhostctl_vu_kick(struct vhostctl_dev *dev, unsigned int index)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS))
		return vhc_err(EOPNOTSUPP);
	if (index >= fe->queues)
		return vhc_err(ENOBUFS);
	/* Pipelined: a kick is a hint, and the spec gives it no reply. */
	return vhc_ret(send_state(dev, VHC_VU_VRING_KICK, index, 0));
}

VHC_EXPORT int vhostctl_vu_inband_calls(struct vhostctl_dev *dev, unsigned int index)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (index >= fe->queues)
		return vhc_err(ENOBUFS);
	return (int)(fe->vr[index].inband_calls & INT32_MAX);
}

VHC_EXPORT int vhostctl_vu_set_vring_endian(struct vhostctl_dev *dev, unsigned int index,
					    int big_endian)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_vu_state st = { .index = index, .num = big_endian ? 1 : 0 };
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_CROSS_ENDIAN))
		return vhc_err(EOPNOTSUPP);
	if (index >= fe->queues)
		return vhc_err(ENOBUFS);
	/* Only meaningful on a stopped ring: the backend reads it at the next start. */
	r = fe_call(dev, VHC_VU_SET_VRING_ENDIAN, &st, sizeof(st), NULL, 0, true);
	if (!r)
		fe->vr[index].endian = (int)st.num;
	return vhc_ret(r);
}
