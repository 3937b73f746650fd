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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vu_fe.h"

#define FE_PROTOCOL_FEATURES                                                   \
	(VHC_BIT(VHOSTCTL_VU_PF_MQ) | VHC_BIT(VHOSTCTL_VU_PF_LOG_SHMFD) |      \
	 VHC_BIT(VHOSTCTL_VU_PF_REPLY_ACK) | VHC_BIT(VHOSTCTL_VU_PF_BACKEND_REQ) | \
	 VHC_BIT(VHOSTCTL_VU_PF_CONFIG) | VHC_BIT(VHOSTCTL_VU_PF_INFLIGHT_SHMFD) | \
	 VHC_BIT(VHOSTCTL_VU_PF_RESET_DEVICE) |                                 \
	 VHC_BIT(VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS) |                          \
	 VHC_BIT(VHOSTCTL_VU_PF_STATUS) | VHC_BIT(VHOSTCTL_VU_PF_DEVICE_STATE) | \
	 VHC_BIT(VHOSTCTL_VU_PF_SHMEM) | VHC_BIT(VHOSTCTL_VU_PF_SHARED_OBJECT))

/* Negotiated only when the caller names them in opts.protocol_features. */
#define FE_OPT_IN_FEATURES                                                     \
	(VHC_BIT(VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS) | VHC_BIT(VHOSTCTL_VU_PF_CROSS_ENDIAN) | \
	 VHC_BIT(VHOSTCTL_VU_PF_PAGEFAULT))


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

void vhc_fe_break(struct vhostctl_dev *dev)
{
	fe_break(dev);
}

int vhc_fe_send(struct vhostctl_dev *dev, struct vhc_vu_msg *m, const int *fds,
		unsigned int nfds)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (fe->broken)
		return -ENOTCONN;
	vhc_log(dev, VHOSTCTL_LOG_DEBUG, "request %s flags 0x%x size %u fds %u",
		vhc_vu_req_name(m->hdr.request), m->hdr.flags, m->hdr.size, nfds);
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

/*
 * Wait for the reply to request req: an acknowledgement (ack), or the reply
 * its row in the request table describes.
 */
int vhc_fe_reply(struct vhostctl_dev *dev, struct vhc_vu_msg *m, uint32_t req, bool ack)
{
	const struct vhc_vu_req_info *ri = vhc_vu_req_info(req);
	unsigned int size = ack ? 8 : ri->reply, max_fds = ack ? 0 : ri->reply_fds;
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
	    (size != REPLY_ANY && m->hdr.size != size) || m->nfds > max_fds) {
		vhc_log(dev, VHOSTCTL_LOG_ERR,
			"vhost-user %s: bad reply (request %u flags 0x%x size %u fds %u)",
			vhc_vu_req_name(req), m->hdr.request, m->hdr.flags, m->hdr.size, m->nfds);
		vhc_vu_msg_close_fds(m);
		fe_break(dev);
		return -EPROTO;
	}
	vhc_log(dev, VHOSTCTL_LOG_DEBUG, "reply %s flags 0x%x size %u fds %u", ri->name,
		m->hdr.flags, m->hdr.size, m->nfds);
	return 0;
}

/*
 * Send a request.  ack: ask for REPLY_ACK (when negotiated) and check it.
 */
int vhc_fe_call(struct vhostctl_dev *dev, uint32_t req, const void *payload, uint32_t size,
		const int *fds, unsigned int nfds, bool ack)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_msg m;
	int r;

	ack = ack && pf(fe, VHOSTCTL_VU_PF_REPLY_ACK);
	vhc_vu_msg_init(&m, req, ack ? VHC_VU_NEED_REPLY : 0, size);
	if (size)
		memcpy(&m.p, payload, size);
	r = vhc_fe_send(dev, &m, fds, nfds);
	if (r || !ack)
		return r;
	r = vhc_fe_reply(dev, &m, req, true);
	if (r)
		return r;
	if (m.p.u64) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user %s: backend refused (%llu)",
			vhc_vu_req_name(req), (unsigned long long)m.p.u64);
		return -EIO;
	}
	return 0;
}

int vhc_fe_get_u64(struct vhostctl_dev *dev, uint32_t req, uint64_t *v)
{
	struct vhc_vu_msg m;
	int r;

	vhc_vu_msg_init(&m, req, 0, 0);
	r = vhc_fe_send(dev, &m, NULL, 0);
	if (!r)
		r = vhc_fe_reply(dev, &m, req, false);
	if (!r)
		*v = m.p.u64;
	return r;
}

/* ---- connection ------------------------------------------------------- */

int vhc_fe_connect(struct vu_fe *fe)
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
int vhc_fe_handshake(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v;
	int r, sv[2];

	r = vhc_fe_get_u64(dev, VHC_VU_GET_FEATURES, &fe->features);
	if (r)
		return r;
	fe->proto = 0;
	if (fe->features & VHC_BIT(VHC_F_PROTOCOL_FEATURES)) {
		r = vhc_fe_get_u64(dev, VHC_VU_GET_PROTOCOL_FEATURES, &v);
		if (r)
			return r;
		v &= fe->proto_mask;
		/* The spec forbids in-band notifications without both of these. */
		if ((v & (VHC_BIT(VHOSTCTL_VU_PF_BACKEND_REQ) | VHC_BIT(VHOSTCTL_VU_PF_REPLY_ACK))) !=
		    (VHC_BIT(VHOSTCTL_VU_PF_BACKEND_REQ) | VHC_BIT(VHOSTCTL_VU_PF_REPLY_ACK)))
			v &= ~VHC_BIT(VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS);
		r = vhc_fe_call(dev, VHC_VU_SET_PROTOCOL_FEATURES, &v, 8, NULL, 0, false);
		if (r)
			return r;
		fe->proto = v;
	}
	fe->queues = fe->opt_queues ? fe->opt_queues : 1;
	if (pf(fe, VHOSTCTL_VU_PF_MQ)) {
		r = vhc_fe_get_u64(dev, VHC_VU_GET_QUEUE_NUM, &v);
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
		r = vhc_fe_call(dev, VHC_VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1, true);
		close(sv[1]);
		if (r) {
			close(sv[0]);
			return r;
		}
		if (fe->chan >= 0)
			close(fe->chan);
		fe->chan = sv[0];
	}
	return vhc_fe_shmem_setup(dev);
}
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
	fd = vhc_fe_connect(fe);
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
	r = vhc_fe_handshake(dev);
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
		int r, reply_fd = -1;
		bool need;

		if (vhc_vu_wait(fe->chan, POLLIN, 0))
			break;
		r = vhc_vu_recv(fe->chan, &m, 0, why, sizeof(why));
		if (!r)
			r = vhc_vu_check_be_request(&m, why, sizeof(why));
		if (r)
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
			/* Shared memory, shared objects: vu_shmem.c, vu_shobj.c. */
			r = vhc_fe_shared_req(dev, &m, &result, &reply_fd);
			if (r) {
				need = need || r == 2;
				break;
			}
			/*
			 * IOTLB, host notifiers and in-band errors need protocol
			 * features this frontend never negotiates: refuse them (a
			 * failure reply when asked).
			 */
			vhc_log(dev, VHOSTCTL_LOG_WARNING, "vhost-user backend request %s refused",
				vhc_vu_be_req_name(m.hdr.request));
			fe->be_requests++;
			result = 1;
			break;
		}
		vhc_vu_msg_close_fds(&m);
		if (need) {
			m.hdr.flags = VHC_VU_VERSION | VHC_VU_REPLY;
			m.hdr.size = 8;
			m.p.u64 = result;
			r = vhc_vu_send_fds(fe->chan, &m, &reply_fd, reply_fd >= 0);
			if (reply_fd >= 0)
				close(reply_fd);
			if (r)
				return r;
		} else if (reply_fd >= 0) {
			close(reply_fd);
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
	r = vhc_fe_send(dev, &m, load ? &p[0] : &p[1], 1) ?:
	    vhc_fe_reply(dev, &m, VHC_VU_SET_DEVICE_STATE_FD, false);
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
	r = vhc_fe_get_u64(dev, VHC_VU_CHECK_DEVICE_STATE, &v);
	if (r)
		return vhc_ret(r);
	return v ? vhc_err(EIO) : 0;
}
