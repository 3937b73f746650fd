// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user backend, postcopy migration (PAGEFAULT): POSTCOPY_ADVISE
 * opens a userfaultfd and hands it to the frontend; POSTCOPY_LISTEN
 * registers every mapped region with it (missing pages), and a memory
 * table received while listening is registered too, answered with our
 * mapping addresses and acknowledged by the frontend before anything is
 * touched; POSTCOPY_END unregisters and closes it.  From LISTEN on, a ring
 * or buffer access to a page the frontend has not placed yet blocks the
 * dispatch thread until the frontend serves the fault (UFFDIO_COPY).
 *
 * The order is the peer's to get right and ours to check: LISTEN before
 * ADVISE, ADVISE twice, LISTEN twice, END without ADVISE end the
 * connection with the reason, and no fd survives the session.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "vu_backend.h"

/*
 * A userfaultfd for our own mm that also reports faults the kernel takes
 * for us (a read() into guest memory), on shared memory and hugetlbfs.
 * The system call needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd;
 * /dev/userfaultfd (Linux 6.1) is the other door.
 */
static int uffd_open(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MISSING_HUGETLBFS,
	};
	int fd, dev, e;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
		if (dev < 0)
			return -e;
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		e = errno;
		close(dev);
		if (fd < 0)
			return -e;
	}
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static size_t page_up(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) & ~(pg - 1);
}

/* Register every mapping for missing-page faults. */
static int register_all(struct vhostctl_vu_backend *be, char *why, size_t wl)
{
	int r = 0;

	pthread_mutex_lock(&be->pc_lock);
	if (be->pc_uffd < 0) {
		snprintf(why, wl, "postcopy: the frontend hung up");
		r = -EPROTO;
	}
	for (unsigned int i = 0; !r && i < be->nmaps; i++) {
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)be->maps[i].base,
				   .len = page_up(be->maps[i].len) },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		if (ioctl(be->pc_uffd, UFFDIO_REGISTER, &reg) < 0) {
			snprintf(why, wl, "postcopy: cannot register region at gpa 0x%llx "
				 "(%zu bytes): %s", (unsigned long long)be->maps[i].gpa,
				 be->maps[i].len, strerror(errno));
			r = -EPROTO;
			break;
		}
		be_log(be, VHOSTCTL_LOG_DEBUG, "postcopy: region at gpa 0x%llx registered, "
		       "%zu bytes at %p", (unsigned long long)be->maps[i].gpa, be->maps[i].len,
		       be->maps[i].base);
	}
	pthread_mutex_unlock(&be->pc_lock);
	return r;
}

static void unregister_all(struct vhostctl_vu_backend *be)
{
	for (unsigned int i = 0; i < be->nmaps; i++) {
		struct uffdio_range r = { .start = (uintptr_t)be->maps[i].base,
					  .len = page_up(be->maps[i].len) };

		ioctl(be->pc_uffd, UFFDIO_UNREGISTER, &r);
	}
}

/*
 * A frontend that dies while listening leaves the dispatch thread asleep
 * in a fault nobody will serve.  Once the frontend's copy of the
 * userfaultfd is gone with it, ours is the last: closing it releases the
 * context, the kernel wakes every waiting fault and the access is retried
 * on plain memory.  The dispatch thread cannot do that itself, so this
 * thread watches the connection for the hang-up.  A frontend that lives
 * on but never serves keeps its copy, and nothing on our side can end the
 * wait (documented in vhostctl_vu_backend_new(3)).
 */
static void *pc_watcher(void *arg)
{
	struct vhostctl_vu_backend *be = arg;
	struct pollfd p[2] = {
		{ .fd = be->conn_fd, .events = POLLRDHUP },
		{ .fd = be->pc_watch_efd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR))
			break;
	}
	pthread_mutex_lock(&be->pc_lock);
	close_fd(&be->pc_uffd);
	pthread_mutex_unlock(&be->pc_lock);
	be_log(be, VHOSTCTL_LOG_WARNING, "postcopy: the frontend hung up while listening: "
	       "userfaultfd closed, waiting faults released");
	return NULL;
}

static int watch_start(struct vhostctl_vu_backend *be, char *why, size_t wl)
{
	int e;

	be->pc_watch_efd = eventfd(0, EFD_CLOEXEC);
	if (be->pc_watch_efd < 0) {
		snprintf(why, wl, "postcopy: eventfd: %s", strerror(errno));
		return -EPROTO;
	}
	e = pthread_create(&be->pc_watch, NULL, pc_watcher, be);
	if (e) {
		close_fd(&be->pc_watch_efd);
		snprintf(why, wl, "postcopy: cannot start the hang-up watcher: %s", strerror(e));
		return -EPROTO;
	}
	return 0;
}

static void watch_stop(struct vhostctl_vu_backend *be)
{
	if (be->pc_watch_efd < 0)
		return;
	/* A blocking eventfd of ours, written once: this cannot fail. */
	eventfd_write(be->pc_watch_efd, 1);
	pthread_join(be->pc_watch, NULL);
	close_fd(&be->pc_watch_efd);
}

void vhc_be_postcopy_drop(struct vhostctl_vu_backend *be)
{
	watch_stop(be);
	if (be->pc_uffd >= 0 && be->pc_listening)
		unregister_all(be);
	close_fd(&be->pc_uffd);
	be->pc_listening = false;
	be->pc_await_ack = false;
}

int vhc_be_postcopy_advise(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	int fd;

	if (be->pc_uffd >= 0) {
		snprintf(c->why, c->wl, "POSTCOPY_ADVISE twice");
		return -EPROTO;
	}
	fd = uffd_open();
	if (fd < 0) {
		snprintf(c->why, c->wl, "POSTCOPY_ADVISE: no userfaultfd: %s", strerror(-fd));
		return -EPROTO;
	}
	be->pc_uffd = fd;
	c->m->hdr.flags = VHC_VU_VERSION | VHC_VU_REPLY;
	c->m->hdr.size = 0;
	be_log(be, VHOSTCTL_LOG_DEBUG, "reply POSTCOPY_ADVISE size 0 fds 1");
	if (vhc_vu_send_fds(be->conn_fd, c->m, &fd, 1) < 0) {
		snprintf(c->why, c->wl, "POSTCOPY_ADVISE: cannot send the userfaultfd");
		return -EPROTO;
	}
	be_log(be, VHOSTCTL_LOG_INFO, "postcopy advised: userfaultfd given to the frontend");
	return 1;
}

int vhc_be_postcopy_listen(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	int r;

	if (be->pc_uffd < 0) {
		snprintf(c->why, c->wl, "POSTCOPY_LISTEN before POSTCOPY_ADVISE");
		return -EPROTO;
	}
	if (be->pc_listening) {
		snprintf(c->why, c->wl, "POSTCOPY_LISTEN twice");
		return -EPROTO;
	}
	r = register_all(be, c->why, c->wl);
	if (!r)
		r = watch_start(be, c->why, c->wl);
	if (r)
		return r;
	be->pc_listening = true;
	be_log(be, VHOSTCTL_LOG_INFO, "postcopy listening: %u regions registered", be->nmaps);
	return 0;
}

int vhc_be_postcopy_end(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;

	if (be->pc_uffd < 0) {
		snprintf(c->why, c->wl, "POSTCOPY_END without POSTCOPY_ADVISE (or twice)");
		return -EPROTO;
	}
	vhc_be_postcopy_drop(be);
	be_log(be, VHOSTCTL_LOG_INFO, "postcopy ended");
	return vhc_be_reply_u64(be, c->m, 0) ?: 1;
}

/*
 * SET_MEM_TABLE while listening, after the regions are mapped: register
 * them and answer with where each region starts in our address space (no
 * NEED_REPLY: this is the reply).  Until the frontend acknowledges it
 * nothing may touch the memory (the frontend cannot place a page before it
 * knows our addresses): the queues wait, and the next message must be the
 * acknowledgement.  Waiting in the event loop rather than here keeps a
 * frontend that never answers from holding the dispatch thread.
 */
int vhc_be_postcopy_mem_reply(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;
	struct vhc_vu_mem *mem = &m->p.mem;
	int r;

	r = register_all(be, c->why, c->wl);
	if (r)
		return r;
	for (unsigned int i = 0; i < mem->nregions; i++) {
		void *host = vhc_memmap_gpa(&be->map, mem->r[i].gpa, mem->r[i].size);

		if (!host) {
			snprintf(c->why, c->wl, "postcopy SET_MEM_TABLE: region %u not mapped", i);
			return -EPROTO;
		}
		mem->r[i].uaddr = (uintptr_t)host;
	}
	m->hdr.flags = VHC_VU_VERSION | VHC_VU_REPLY;
	be_log(be, VHOSTCTL_LOG_DEBUG, "reply SET_MEM_TABLE (postcopy) size %u regions %u",
	       m->hdr.size, mem->nregions);
	if (vhc_vu_send_fds(be->conn_fd, m, NULL, 0) < 0) {
		snprintf(c->why, c->wl, "postcopy SET_MEM_TABLE: cannot send our addresses");
		return -EPROTO;
	}
	be->pc_await_ack = true;
	return 1;
}

/*
 * The message after our postcopy SET_MEM_TABLE reply: the frontend's
 * acknowledgement, a SET_MEM_TABLE whose u64 is 0 (no regions, no fds).
 * Then the queues may run again: each started one looks at its ring.
 */
int vhc_be_postcopy_ack(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_vu_msg *m = c->m;

	if (m->hdr.request != VHC_VU_SET_MEM_TABLE || m->hdr.size != 8 || m->nfds ||
	    m->p.u64) {
		snprintf(c->why, c->wl, "postcopy SET_MEM_TABLE: bad acknowledgement "
			 "(%s size %u fds %u value %llu)", vhc_vu_req_name(m->hdr.request),
			 m->hdr.size, m->nfds, m->hdr.size >= 8 ? (unsigned long long)m->p.u64 : 0ull);
		return -EPROTO;
	}
	be->pc_await_ack = false;
	for (unsigned int i = 0; i < be->o.num_queues; i++)
		if (be->qs[i].started)
			be->qs[i].more = true;
	be_log(be, VHOSTCTL_LOG_INFO, "postcopy: %u regions registered, frontend ready",
	       be->nmaps);
	return 1;
}

/* PAGEFAULT is offered only where a userfaultfd can be had. */
bool vhc_be_postcopy_usable(void)
{
	int fd = uffd_open();

	if (fd < 0)
		return false;
	close(fd);
	return true;
}
