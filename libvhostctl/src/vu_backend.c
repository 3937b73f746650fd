// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user backend library: the socket (listen, connect or adopt), the
 * event loop that reads each message, checks it and hands it to its
 * handler (vu_backend_req.c), the calls of the device's queue handler, the
 * backend channel, and accepting the next frontend after a disconnect.
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

#include "vu_backend.h"

static void protocol_error(struct vhostctl_vu_backend *be, const char *why)
{
	be_log(be, VHOSTCTL_LOG_ERR, "vhost-user frontend cut off: %s", why);
	pthread_mutex_lock(&be->stats_lock);
	be->st_errors++;
	snprintf(be->last_error, sizeof(be->last_error), "%s", why);
	pthread_mutex_unlock(&be->stats_lock);
	vhc_be_session_end(be);
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
		vhc_be_session_end(be);
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
	r = vhc_be_handle(be, &m, why, sizeof(why));
	vhc_vu_msg_close_fds(&m);
	if (r < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s: %s", vhc_vu_req_name(m.hdr.request),
				 strerror(-r));
		if (need) {
			m.nfds = 0;
			vhc_be_reply_u64(be, &m, 1);
		}
		protocol_error(be, why);
		return;
	}
	if (need && r != 1 && vhc_be_reply_u64(be, &m, r == 2 ? 1 : 0) < 0)
		vhc_be_session_end(be);
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

/*
 * Rings the handler found broken (a bad index, descriptor or address).  A
 * ring with an error eventfd (SET_VRING_ERR) is stopped alone and its fd
 * signalled, as the kernel's vhost does: the frontend takes it back with
 * GET_VRING_BASE and may start it again; the other rings run on.  A broken
 * ring without one ends the connection (the caller's protocol error), as
 * before.  True when there was a broken ring and every one had an fd.
 */
static bool stop_broken_rings(struct vhostctl_vu_backend *be)
{
	unsigned int n = 0;

	for (unsigned int j = 0; j < be->o.num_queues; j++) {
		struct be_queue *o = &be->qs[j];
		char why[96];

		if (!o->q || !vhc_devq_broken(o->q))
			continue;
		if (o->err_fd < 0)
			return false;
		n++;
		if (o->broken)
			continue;
		o->broken = true;
		o->more = false;
		/* Counted before the fd says so: a frontend woken by it sees the error. */
		snprintf(why, sizeof(why), "vring %u: broken ring (bad index, descriptor or "
			 "address): stopped, error fd signalled", j);
		be_log(be, VHOSTCTL_LOG_ERR, "%s", why);
		pthread_mutex_lock(&be->stats_lock);
		be->st_errors++;
		snprintf(be->last_error, sizeof(be->last_error), "%s", why);
		pthread_mutex_unlock(&be->stats_lock);
		if (eventfd_write(o->err_fd, 1) && errno != EAGAIN)
			return false;
	}
	return n > 0;
}

static void run_queue(struct vhostctl_vu_backend *be, unsigned int i)
{
	struct be_queue *vq = &be->qs[i];
	int r;

	vq->more = false;
	if (!vq->started || !vq->enabled || !vq->q || !be->o.queue || vq->broken)
		return;
	/* Postcopy: the frontend has not taken our addresses yet; its ack restarts us. */
	if (be->pc_await_ack)
		return;
	/* A handler may take buffers from other queues too (net: TX from an RX kick). */
	for (unsigned int j = 0; j < be->o.num_queues; j++)
		if (be->qs[j].q)
			vhc_devq_clear_drained(be->qs[j].q);
	r = be->o.queue(be, i, vq->q, be->o.ctx);
	if (__builtin_expect(be->dlog.missed, 0))
		vhc_be_log_check_missed(be);
	if (r < 0) {
		char why[96];

		if (r == -EIO && stop_broken_rings(be))
			return;
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
	/* Postcopy needs a userfaultfd: privileges or /dev/userfaultfd access. */
	if ((be->proto & VHC_BIT(VHOSTCTL_VU_PF_PAGEFAULT)) && !vhc_be_postcopy_usable())
		be->proto &= ~VHC_BIT(VHOSTCTL_VU_PF_PAGEFAULT);
	be->listen_fd = be->conn_fd = be->chan_fd = be->infl_fd = be->state_fd = -1;
	be->dlog.fd = -1;
	be->pc_uffd = be->pc_watch_efd = -1;
	pthread_mutex_init(&be->pc_lock, NULL);
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
	if (be->vduse)
		return vhc_vduse_queue(be->vduse, index);
	vq = &be->qs[index];
	return vq->started && vq->enabled ? vq->q : NULL;
}

/* The features the driver accepted, on either transport (0 before it chose). */
uint64_t vhc_vu_backend_acked(const struct vhostctl_vu_backend *be)
{
	if (be->vduse)
		return vhc_vduse_features(be->vduse);
	return be->acked;
}

VHC_EXPORT void vhostctl_vu_backend_free(struct vhostctl_vu_backend *be)
{
	int e = errno;

	if (!be)
		return;
	vhostctl_vu_backend_stop(be);
	vhc_be_session_end(be);
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
	free(be->shared);
	pthread_mutex_destroy(&be->stats_lock);
	pthread_mutex_destroy(&be->pc_lock);
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
		vhc_be_session_end(be);
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
