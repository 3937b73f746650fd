// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user frontend, postcopy migration (PAGEFAULT): the destination's
 * side.  POSTCOPY_ADVISE brings the backend's userfaultfd; POSTCOPY_LISTEN
 * and a SET_MEM_TABLE whose reply carries the backend's mapping addresses
 * switch to postcopy; each fault the backend then takes is translated
 * back to a guest physical address and served with UFFDIO_COPY from the
 * application's pages; POSTCOPY_END closes it all.
 *
 * The backend's reply is untrusted: its region count, guest addresses and
 * sizes must be the ones sent, its addresses page aligned; a fault outside
 * them is refused, never served.
 */
#include <errno.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vu_fe.h"

/* Faults read at once. */
#define PC_BATCH 16

struct pc_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t base;		/* where the region starts in the backend */
};

/*
 * Written by advise and listen, then only read by serve (which may run in
 * another thread) until end.
 */
struct vu_fe_pc {
	int uffd;
	bool listening;
	struct vhostctl_vu_postcopy_opts o;
	unsigned int n;
	struct pc_region r[VHC_VU_MEM_REGIONS];
	size_t page;
	uint8_t *buf;		/* one page to fill and copy from */
};

void vhc_fe_postcopy_drop(struct vu_fe *fe)
{
	struct vu_fe_pc *pc = fe->pc;

	if (!pc)
		return;
	if (pc->uffd >= 0)
		close(pc->uffd);
	free(pc->buf);
	free(pc);
	fe->pc = NULL;
}

bool vhc_fe_postcopy_listening(const struct vu_fe *fe)
{
	return fe->pc && fe->pc->listening;
}

/* An fd passed as the userfaultfd must be one. */
static bool is_uffd(int fd)
{
	char p[64], l[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return false;
	l[n] = 0;
	return !strcmp(l, "anon_inode:[userfaultfd]");
}

VHC_EXPORT int vhostctl_vu_postcopy_advise(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);
	struct vu_fe_pc *pc;
	struct vhc_vu_msg m;
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_PAGEFAULT))
		return vhc_err(EOPNOTSUPP);
	if (fe->pc)
		return vhc_err(EALREADY);
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return vhc_err(ENOMEM);
	pc->uffd = -1;
	pc->page = (size_t)sysconf(_SC_PAGESIZE);
	pc->buf = aligned_alloc(pc->page, pc->page);
	if (!pc->buf) {
		free(pc);
		return vhc_err(ENOMEM);
	}
	vhc_vu_msg_init(&m, VHC_VU_POSTCOPY_ADVISE, 0, 0);
	r = vhc_fe_send(dev, &m, NULL, 0);
	if (!r)
		r = vhc_fe_reply(dev, &m, VHC_VU_POSTCOPY_ADVISE, false);
	if (!r && (m.nfds != 1 || !is_uffd(m.fds[0]))) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user POSTCOPY_ADVISE: the reply carries %s",
			m.nfds ? "an fd that is no userfaultfd" : "no fd");
		vhc_vu_msg_close_fds(&m);
		r = -EPROTO;
	}
	if (r) {
		free(pc->buf);
		free(pc);
		return vhc_ret(r);
	}
	pc->uffd = m.fds[0];
	fe->pc = pc;
	vhc_log(dev, VHOSTCTL_LOG_INFO, "postcopy advised: userfaultfd %d", pc->uffd);
	return 0;
}

/* The backend's answer to the postcopy SET_MEM_TABLE: our regions, its addresses. */
static int take_bases(struct vhostctl_dev *dev, struct vu_fe_pc *pc, const struct vhc_vu_mem *sent,
		      const struct vhc_vu_msg *m)
{
	const struct vhc_vu_mem *got = &m->p.mem;

	if (m->hdr.flags != (VHC_VU_VERSION | VHC_VU_REPLY) ||
	    m->hdr.request != VHC_VU_SET_MEM_TABLE || m->nfds ||
	    m->hdr.size != 8 + sent->nregions * sizeof(sent->r[0]) ||
	    got->nregions != sent->nregions) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user postcopy SET_MEM_TABLE: bad reply "
			"(request %u flags 0x%x size %u fds %u)", m->hdr.request, m->hdr.flags,
			m->hdr.size, m->nfds);
		return -EPROTO;
	}
	for (unsigned int i = 0; i < sent->nregions; i++) {
		const struct vhc_vu_region *g = &got->r[i];

		if (g->gpa != sent->r[i].gpa || g->size != sent->r[i].size ||
		    g->uaddr % pc->page || g->uaddr + g->size < g->uaddr) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user postcopy SET_MEM_TABLE: region %u "
				"answered as gpa 0x%llx size 0x%llx at 0x%llx", i,
				(unsigned long long)g->gpa, (unsigned long long)g->size,
				(unsigned long long)g->uaddr);
			return -EPROTO;
		}
		pc->r[i].gpa = g->gpa;
		pc->r[i].size = g->size;
		pc->r[i].base = g->uaddr;
	}
	pc->n = sent->nregions;
	return 0;
}

VHC_EXPORT int vhostctl_vu_postcopy_listen(struct vhostctl_dev *dev,
					   const struct vhostctl_vu_postcopy_opts *opts)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_vu_mem mem = { 0 };
	int fds[VHC_VU_MEM_REGIONS];
	struct vu_fe_pc *pc;
	struct vhc_vu_msg m;
	char why[128] = "";
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	pc = fe->pc;
	if (!opts || !fe->nregions)
		return vhc_err(EINVAL);
	if (!pc)
		return vhc_err(EPROTO);
	if (pc->listening)
		return vhc_err(EALREADY);
	if (fe->nregions > VHC_VU_MEM_REGIONS)
		return vhc_err(E2BIG);
	r = vhc_opts_copy(&pc->o, sizeof(pc->o), opts);
	if (r)
		return vhc_ret(r);
	r = vhc_fe_call(dev, VHC_VU_POSTCOPY_LISTEN, NULL, 0, NULL, 0, true);
	if (r)
		return vhc_ret(r);

	/* The table again: the reply is the backend's, without NEED_REPLY. */
	mem.nregions = fe->nregions;
	for (unsigned int i = 0; i < fe->nregions; i++) {
		mem.r[i].gpa = fe->regions[i].gpa;
		mem.r[i].size = fe->regions[i].size;
		mem.r[i].uaddr = fe->regions[i].uaddr;
		mem.r[i].mmap_offset = fe->regions[i].offset;
		fds[i] = fe->regions[i].fd;
	}
	vhc_vu_msg_init(&m, VHC_VU_SET_MEM_TABLE, 0, 8 + mem.nregions * sizeof(mem.r[0]));
	memcpy(&m.p.mem, &mem, m.hdr.size);
	r = vhc_fe_send(dev, &m, fds, mem.nregions);
	if (r)
		return vhc_ret(r);
	r = vhc_vu_recv(dev->fd, &m, fe->timeout, why, sizeof(why));
	if (r) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user postcopy SET_MEM_TABLE: no reply: %s",
			why[0] ? why : strerror(-r));
		vhc_fe_break(dev);
		return vhc_ret(r);
	}
	r = take_bases(dev, pc, &mem, &m);
	vhc_vu_msg_close_fds(&m);
	if (r) {
		vhc_fe_break(dev);
		return vhc_ret(r);
	}
	vhc_log(dev, VHOSTCTL_LOG_DEBUG, "reply SET_MEM_TABLE (postcopy) regions %u", pc->n);
	/* Ready to serve: the backend may touch its memory from here on. */
	vhc_vu_msg_init(&m, VHC_VU_SET_MEM_TABLE, 0, 8);
	m.p.u64 = 0;
	r = vhc_fe_send(dev, &m, NULL, 0);
	if (r)
		return vhc_ret(r);
	pc->listening = true;
	for (unsigned int i = 0; i < pc->n; i++)
		vhc_log(dev, VHOSTCTL_LOG_INFO, "postcopy: gpa 0x%llx size 0x%llx at backend 0x%llx",
			(unsigned long long)pc->r[i].gpa, (unsigned long long)pc->r[i].size,
			(unsigned long long)pc->r[i].base);
	return 0;
}

VHC_EXPORT int vhostctl_vu_postcopy_fd(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!fe->pc)
		return vhc_err(EPROTO);
	return fe->pc->uffd;
}

/* Fill pc->buf with the page at gpa. */
static int fill_page(struct vu_fe_pc *pc, uint64_t gpa)
{
	uint64_t have;

	if (pc->o.page)
		return pc->o.page(pc->o.ctx, gpa, pc->buf, pc->page);
	memset(pc->buf, 0, pc->page);
	if (pc->o.source && gpa < pc->o.source_size) {
		have = pc->o.source_size - gpa;
		memcpy(pc->buf, (const uint8_t *)pc->o.source + gpa,
		       have < pc->page ? (size_t)have : pc->page);
	}
	return 0;
}

/* Serve one fault at a backend address; 1 when a page was placed. */
static int serve_one(struct vhostctl_dev *dev, struct vu_fe_pc *pc, uint64_t addr)
{
	uint64_t at = addr & ~(uint64_t)(pc->page - 1);
	struct uffdio_copy cp;
	struct uffdio_range wake;
	unsigned int i;
	int r;

	for (i = 0; i < pc->n; i++)
		if (at >= pc->r[i].base && at - pc->r[i].base < pc->r[i].size)
			break;
	if (i == pc->n) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "postcopy: backend fault at 0x%llx is outside "
			"guest memory", (unsigned long long)addr);
		return -EFAULT;
	}
	r = fill_page(pc, pc->r[i].gpa + (at - pc->r[i].base));
	if (r)
		return r < 0 ? r : -EIO;
	cp = (struct uffdio_copy){ .dst = at, .src = (uintptr_t)pc->buf, .len = pc->page };
	if (ioctl(pc->uffd, UFFDIO_COPY, &cp) == 0)
		return 1;
	if (errno != EEXIST)
		return -errno;
	/* Placed meanwhile (a write through another mapping): only wake. */
	wake = (struct uffdio_range){ .start = at, .len = pc->page };
	if (ioctl(pc->uffd, UFFDIO_WAKE, &wake) < 0)
		return -errno;
	return 0;
}

VHC_EXPORT int vhostctl_vu_postcopy_serve(struct vhostctl_dev *dev, int timeout_ms)
{
	struct vu_fe *fe = fe_of(dev);
	struct uffd_msg msg[PC_BATCH];
	struct vu_fe_pc *pc;
	int served = 0, err = 0, r;
	ssize_t n;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	pc = fe->pc;
	if (!pc || !pc->listening)
		return vhc_err(EPROTO);
	if (timeout_ms) {
		r = vhc_vu_wait(pc->uffd, POLLIN, timeout_ms);
		if (r == -ETIMEDOUT)
			return 0;
		if (r)
			return vhc_ret(r);
	}
	do
		n = read(pc->uffd, msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : vhc_err(errno);
	for (size_t i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
		if (msg[i].event != UFFD_EVENT_PAGEFAULT)
			continue;
		r = serve_one(dev, pc, msg[i].arg.pagefault.address);
		if (r > 0)
			served++;
		else if (r < 0 && !err)
			err = r;
	}
	if (err)
		return vhc_ret(err);
	return served;
}

VHC_EXPORT int vhostctl_vu_postcopy_end(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);
	uint64_t v = 0;
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!fe->pc)
		return vhc_err(EPROTO);
	r = vhc_fe_get_u64(dev, VHC_VU_POSTCOPY_END, &v);
	/* Over either way: the backend closed its side, or the connection is gone. */
	vhc_fe_postcopy_drop(fe);
	if (r)
		return vhc_ret(r);
	if (v) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user POSTCOPY_END: backend reports %llu",
			(unsigned long long)v);
		return vhc_err(EIO);
	}
	return 0;
}
