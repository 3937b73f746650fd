// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * VDUSE transport: a device of this process on the kernel's vdpa bus.
 *
 * /dev/vduse/control creates and destroys the device; /dev/vduse/NAME
 * carries the kernel's requests (read) and our answers (write), and the
 * ioctls for the IOTLB, the queues and interrupts.  The driver's memory is
 * reached through the IOTLB: each entry is a file (the bounce domain for
 * virtio_vdpa, the user's memfd for vhost_vdpa) mapped here, and the ring
 * code (devq) sees the mappings as regions whose addresses are IOVAs.
 *
 * Everything the kernel hands over is checked before use: request types,
 * queue indexes, ring sizes and addresses, IOTLB ranges, offsets and
 * permissions.  A bad value fails that one request (VDUSE_REQ_RESULT_FAILED)
 * and is logged; the process goes on.
 *
 * One thread dispatches; vhostctl_vduse_stop() and vhostctl_vduse_stats()
 * may be called from others.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vduse.h>

#include "internal.h"
#include "vduse_priv.h"

#define VD_CONTROL "/dev/vduse/control"
#define VD_MAX_QUEUES 64
#define VD_MAX_CONFIG 256
#define VD_MAX_MAPS 256
#define VD_NAME_MAX 64
#define VD_DEFAULT_QSIZE 256
#define VD_MAX_QSIZE 32768
/* The kernel's default bounce buffer, when sysfs does not say. */
#define VD_DEFAULT_BOUNCE (64ull << 20)

#define F_INDIRECT_DESC 28
#define F_EVENT_IDX 29
#define F_VERSION_1 32
#define F_ACCESS_PLATFORM 33
#define F_RING_PACKED 34
#define F_IN_ORDER 35

#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

/* epoll tags: the request fd, the stop eventfd, then two per queue. */
#define TAG_DEV 0
#define TAG_STOP 1
#define TAG_KICK(i) (2 + 2 * (uint64_t)(i))
#define TAG_CALL(i) (3 + 2 * (uint64_t)(i))

/* One IOTLB entry mapped here: IOVA [start, last] at host. */
struct vd_map {
	uint64_t start;
	uint64_t last;
	void *host;
	size_t len;
};

struct vd_queue {
	struct vhostctl_devq *q;	/* NULL while stopped */
	int kick_fd;			/* ours, given to VDUSE_VQ_SETUP_KICKFD */
	int call_fd;			/* ours, the devq signals it on flush */
	struct vduse_vq_info info;	/* as the kernel reported it at start */
};

struct vhostctl_vduse {
	struct vhostctl_vduse_opts o;
	char name[VD_NAME_MAX];
	unsigned char config[VD_MAX_CONFIG];
	uint64_t offered;
	int ctl_fd;
	int dev_fd;
	int ep_fd;
	int stop_fd;
	bool created;
	bool failed;		/* a handler failed: queues stay stopped until reset */
	bool va_mode;		/* the IOTLB was set by set_map (vhost_vdpa) */
	uint64_t bounce_size;
	struct vd_map maps[VD_MAX_MAPS];
	unsigned int nmaps;
	struct vd_queue qs[VD_MAX_QUEUES];
	void (*ctx_free)(void *ctx);	/* the device's state, when the library made it */
	vhc_vduse_ioctl_fn *ioctl_fn;	/* the device fd's ioctls: ioctl(2), or a test's */
	/* counters: written by the dispatching thread, read by any */
	_Atomic uint64_t n_requests, n_failed, n_kicks, n_irqs, n_maps, n_features;
	_Atomic uint8_t status;
};

__attribute__((format(printf, 3, 4)))
static void vd_log(const struct vhostctl_vduse *vd, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!vd->o.log || level > vd->o.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	vd->o.log(vd->o.log_ctx, level, buf);
}

static int vd_ioctl(const struct vhostctl_vduse *vd, unsigned long req, void *arg)
{
	if (vd->ioctl_fn)
		return vd->ioctl_fn(vd->dev_fd, req, arg);
	return ioctl(vd->dev_fd, req, arg);
}

static uint64_t vd_inc(_Atomic uint64_t *c)
{
	return atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* IOTLB: the driver's memory                                          */
/* ------------------------------------------------------------------ */

static void vd_unmap_all(struct vhostctl_vduse *vd)
{
	for (unsigned int i = 0; i < vd->nmaps; i++)
		munmap(vd->maps[i].host, vd->maps[i].len);
	vd->nmaps = 0;
}

/* Drops the mappings that overlap [start, last]. */
static void vd_unmap_range(struct vhostctl_vduse *vd, uint64_t start, uint64_t last)
{
	unsigned int i = 0;

	while (i < vd->nmaps) {
		struct vd_map *m = &vd->maps[i];

		if (m->last < start || m->start > last) {
			i++;
			continue;
		}
		munmap(m->host, m->len);
		*m = vd->maps[--vd->nmaps];
	}
}

static bool vd_overlaps(const struct vhostctl_vduse *vd, uint64_t start, uint64_t last)
{
	for (unsigned int i = 0; i < vd->nmaps; i++)
		if (!(vd->maps[i].last < start || vd->maps[i].start > last))
			return true;
	return false;
}

static int vd_add_map(struct vhostctl_vduse *vd, int fd, uint64_t start, uint64_t last,
		      uint64_t offset, uint8_t perm)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t len64 = last - start + 1;
	int prot = 0;
	void *p;

	/* the whole 64-bit space (len64 wrapped to 0) or more than we can map */
	if (!len64 || len64 > SIZE_MAX || len64 > (uint64_t)PTRDIFF_MAX)
		return -EINVAL;
	if (offset % (uint64_t)page || offset > UINT64_MAX - len64)
		return -EINVAL;
	if (perm & VDUSE_ACCESS_RO)
		prot |= PROT_READ;
	if (perm & VDUSE_ACCESS_WO)
		prot |= PROT_WRITE;
	if (!prot || perm & ~VDUSE_ACCESS_RW)
		return -EINVAL;
	if (vd->nmaps >= VD_MAX_MAPS)
		return -E2BIG;
	if (vd_overlaps(vd, start, last))
		return -EEXIST;
	/* a shared mapping needs a readable fd: map what we may read */
	p = mmap(NULL, len64, prot | PROT_READ, MAP_SHARED, fd, (off_t)offset);
	if (p == MAP_FAILED)
		return -errno;
	vd->maps[vd->nmaps++] = (struct vd_map){ start, last, p, len64 };
	vd_inc(&vd->n_maps);
	return 0;
}

/*
 * Maps every IOTLB entry that overlaps [start, last].  Returns the fd of
 * the first entry in *some_fd when asked (the bounce domain's file), or -1.
 */
static int vd_map_range(struct vhostctl_vduse *vd, uint64_t start, uint64_t last, int *some_fd)
{
	uint64_t cur = start;
	int r;

	for (;;) {
		struct vduse_iotlb_entry e = { .start = cur, .last = last };
		int fd = vd_ioctl(vd, VDUSE_IOTLB_GET_FD, &e);

		if (fd < 0) {
			/* EINVAL: nothing mapped from cur on */
			if (errno == EINVAL)
				return 0;
			return -errno;
		}
		/* the kernel's answer must describe an entry overlapping the query */
		if (e.start > e.last || e.last < cur || e.start > last) {
			vd_log(vd, VHOSTCTL_LOG_ERR,
			       "vduse %s: IOTLB entry [%#llx, %#llx] outside the query "
			       "[%#llx, %#llx]",
			       vd->name, (unsigned long long)e.start, (unsigned long long)e.last,
			       (unsigned long long)cur, (unsigned long long)last);
			close(fd);
			return -EPROTO;
		}
		if (!vd_overlaps(vd, e.start, e.last)) {
			r = vd_add_map(vd, fd, e.start, e.last, e.offset, e.perm);
			if (r) {
				vd_log(vd, VHOSTCTL_LOG_ERR,
				       "vduse %s: cannot map IOTLB entry [%#llx, %#llx] "
				       "offset %#llx perm %u: %s",
				       vd->name, (unsigned long long)e.start,
				       (unsigned long long)e.last, (unsigned long long)e.offset,
				       e.perm, strerror(-r));
				close(fd);
				return r;
			}
		}
		if (some_fd && *some_fd < 0)
			*some_fd = fd;
		else
			close(fd);
		if (e.last >= last)
			return 0;
		cur = e.last + 1;
	}
}

static uint64_t vd_read_bounce_size(const struct vhostctl_vduse *vd)
{
	char path[128], buf[32];
	unsigned long long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/vduse/%s/bounce_size", vd->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VD_DEFAULT_BOUNCE;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return VD_DEFAULT_BOUNCE;
	buf[n] = 0;
	if (sscanf(buf, "%llu", &v) != 1 || !v || v > (1ull << 30))
		return VD_DEFAULT_BOUNCE;
	return v;
}

/*
 * Maps the whole IOTLB.  Under virtio_vdpa the kernel's DMA layer puts
 * streaming buffers in a bounce area [0, bounce_size) of its domain file
 * and adds that entry lazily, on the first mapping, without telling us:
 * so the area is mapped up front from the domain file, and its pages are
 * resolved at access time.  Under vhost_vdpa (set_map, announced by
 * UPDATE_IOTLB) there is no bounce area.
 */
static int vd_map_all(struct vhostctl_vduse *vd)
{
	int dom_fd = -1;
	int r;

	vd_unmap_all(vd);
	r = vd_map_range(vd, 0, UINT64_MAX, vd->va_mode ? NULL : &dom_fd);
	if (!r && dom_fd >= 0 && !vd_overlaps(vd, 0, vd->bounce_size - 1)) {
		r = vd_add_map(vd, dom_fd, 0, vd->bounce_size - 1, 0, VDUSE_ACCESS_RW);
		if (r)
			vd_log(vd, VHOSTCTL_LOG_ERR, "vduse %s: cannot map the bounce area: %s",
			       vd->name, strerror(-r));
	}
	if (dom_fd >= 0)
		close(dom_fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* Queues                                                              */
/* ------------------------------------------------------------------ */

static int vd_epoll(struct vhostctl_vduse *vd, int op, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(vd->ep_fd, op, fd, &ev) ? -errno : 0;
}

static void vd_queue_stop(struct vhostctl_vduse *vd, unsigned int i)
{
	struct vd_queue *vq = &vd->qs[i];
	struct vduse_vq_eventfd ef = { .index = i, .fd = VDUSE_EVENTFD_DEASSIGN };

	if (vq->q) {
		vhostctl_devq_free(vq->q);
		vq->q = NULL;
	}
	if (vq->kick_fd >= 0) {
		vd_ioctl(vd, VDUSE_VQ_SETUP_KICKFD, &ef);
		epoll_ctl(vd->ep_fd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
		close(vq->kick_fd);
		vq->kick_fd = -1;
	}
	if (vq->call_fd >= 0) {
		epoll_ctl(vd->ep_fd, EPOLL_CTL_DEL, vq->call_fd, NULL);
		close(vq->call_fd);
		vq->call_fd = -1;
	}
}

static void vd_stop_all(struct vhostctl_vduse *vd)
{
	for (unsigned int i = 0; i < vd->o.num_queues; i++)
		vd_queue_stop(vd, i);
}

/* The devq over the current mappings, from @base. */
static struct vhostctl_devq *vd_devq(struct vhostctl_vduse *vd, unsigned int i, uint32_t base)
{
	struct vhostctl_devq_region regs[VD_MAX_MAPS];
	uint64_t f = atomic_load_explicit(&vd->n_features, memory_order_relaxed);
	struct vd_queue *vq = &vd->qs[i];
	VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o,
			   .regions = regs,
			   .nregions = vd->nmaps,
			   .num = vq->info.num,
			   .desc = vq->info.desc_addr,
			   .avail = vq->info.driver_addr,
			   .used = vq->info.device_addr,
			   .base = base,
			   .call_fd = vq->call_fd);

	for (unsigned int m = 0; m < vd->nmaps; m++)
		regs[m] = (struct vhostctl_devq_region){
			.gpa = vd->maps[m].start,
			/* unused (ring addresses are IOVAs) but must not overlap */
			.uaddr = vd->maps[m].start,
			.size = vd->maps[m].len,
			.host = vd->maps[m].host,
		};
	if (f & (1ull << F_RING_PACKED))
		o.flags |= VHOSTCTL_DEVQ_F_PACKED;
	if (f & (1ull << F_EVENT_IDX))
		o.flags |= VHOSTCTL_DEVQ_F_EVENT_IDX;
	if (f & (1ull << F_INDIRECT_DESC))
		o.flags |= VHOSTCTL_DEVQ_F_INDIRECT;
	if (f & (1ull << F_IN_ORDER))
		o.flags |= VHOSTCTL_DEVQ_F_IN_ORDER;
	return vhostctl_devq_new(&o);
}

/* The queue's position to start from, as the kernel holds it. */
static uint32_t vd_info_base(const struct vhostctl_vduse *vd, const struct vduse_vq_info *info)
{
	uint64_t f = atomic_load_explicit(&vd->n_features, memory_order_relaxed);

	if (f & (1ull << F_RING_PACKED))
		return (info->packed.last_avail_idx & 0x7fff) |
		       (uint32_t)(info->packed.last_avail_counter & 1) << 15;
	return info->split.avail_index;
}

/*
 * Where a dead server left split ring @i: its used index, read from the
 * ring.  Every request it completed is below; any it had taken but not
 * completed is served again.
 */
static int vd_used_base(const struct vhostctl_vduse *vd, const struct vduse_vq_info *info,
			uint32_t *base)
{
	uint64_t f = atomic_load_explicit(&vd->n_features, memory_order_relaxed);
	uint64_t at = info->device_addr + 2;

	if (f & (1ull << F_RING_PACKED))
		return -EOPNOTSUPP;
	for (unsigned int m = 0; m < vd->nmaps; m++) {
		const struct vd_map *map = &vd->maps[m];
		uint16_t v;

		if (at < map->start || at > map->last || map->last - at < 1)
			continue;
		memcpy(&v, (const uint8_t *)map->host + (at - map->start), sizeof(v));
		*base = le16toh(v);
		return 0;
	}
	return -EFAULT;
}

static int vd_queue_start(struct vhostctl_vduse *vd, unsigned int i, bool resume)
{
	uint32_t base;

	struct vd_queue *vq = &vd->qs[i];
	struct vduse_vq_info info = { .index = i };
	struct vduse_vq_eventfd ef = { .index = i };
	unsigned int max = vd->o.queue_size;
	int r;

	if (vd_ioctl(vd, VDUSE_VQ_GET_INFO, &info))
		return -errno;
	if (info.index != i)
		return -EPROTO;
	if (!info.ready)
		return 0;
	/* the ring size the driver chose, within what we set up */
	if (!info.num || info.num > max ||
	    (!(vd->n_features & (1ull << F_RING_PACKED)) && (info.num & (info.num - 1)))) {
		vd_log(vd, VHOSTCTL_LOG_ERR,
		       "vduse %s: queue %u: ring size %u out of range (max %u)",
		       vd->name, i, info.num, max);
		return -EINVAL;
	}
	base = vd_info_base(vd, &info);
	if (resume) {
		r = vd_used_base(vd, &info, &base);
		if (r) {
			vd_log(vd, VHOSTCTL_LOG_ERR, "vduse %s: queue %u: cannot resume: %s",
			       vd->name, i, strerror(-r));
			return r;
		}
		vd_log(vd, VHOSTCTL_LOG_INFO, "vduse %s: queue %u resumed at %u", vd->name, i,
		       base);
	}
	vq->info = info;
	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0) {
		r = -errno;
		goto err;
	}
	vq->q = vd_devq(vd, i, base);
	if (!vq->q) {
		r = -errno;
		vd_log(vd, VHOSTCTL_LOG_ERR, "vduse %s: queue %u: ring outside the IOTLB: %s",
		       vd->name, i, strerror(-r));
		goto err;
	}
	r = vd_epoll(vd, EPOLL_CTL_ADD, vq->kick_fd, TAG_KICK(i));
	if (!r)
		r = vd_epoll(vd, EPOLL_CTL_ADD, vq->call_fd, TAG_CALL(i));
	if (r)
		goto err;
	ef.fd = vq->kick_fd;
	if (vd_ioctl(vd, VDUSE_VQ_SETUP_KICKFD, &ef)) {
		r = -errno;
		goto err;
	}
	/* buffers the driver made available before we listened */
	eventfd_write(vq->kick_fd, 1);
	return 0;
err:
	vd_queue_stop(vd, i);
	return r;
}

/* Rebuilds the running queues over new mappings, each from where it is. */
static int vd_requeue(struct vhostctl_vduse *vd)
{
	for (unsigned int i = 0; i < vd->o.num_queues; i++) {
		struct vd_queue *vq = &vd->qs[i];
		struct vhostctl_devq *q;

		if (!vq->q)
			continue;
		q = vd_devq(vd, i, vhostctl_devq_base(vq->q) & 0xffff);
		if (!q) {
			vd_log(vd, VHOSTCTL_LOG_ERR,
			       "vduse %s: queue %u: ring outside the new IOTLB",
			       vd->name, i);
			vd_queue_stop(vd, i);
			continue;
		}
		vhostctl_devq_free(vq->q);
		vq->q = q;
	}
	return 0;
}

static int vd_driver_ok(struct vhostctl_vduse *vd, bool resume)
{
	uint64_t f;
	int r;

	if (vd_ioctl(vd, VDUSE_DEV_GET_FEATURES, &f))
		return -errno;
	if (f & ~vd->offered) {
		vd_log(vd, VHOSTCTL_LOG_ERR,
		       "vduse %s: driver features %#llx beyond the offer %#llx",
		       vd->name, (unsigned long long)f, (unsigned long long)vd->offered);
		return -EINVAL;
	}
	atomic_store_explicit(&vd->n_features, f, memory_order_relaxed);
	r = vd_map_all(vd);
	if (r)
		return r;
	vd->failed = false;
	for (unsigned int i = 0; i < vd->o.num_queues; i++) {
		r = vd_queue_start(vd, i, resume);
		if (r) {
			vd_stop_all(vd);
			return r;
		}
	}
	if (vd->o.started)
		vd->o.started(vd, f, vd->o.ctx);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static int vd_get_vq_state(struct vhostctl_vduse *vd, const struct vduse_dev_request *req,
			   struct vduse_dev_response *resp)
{
	uint32_t i = req->vq_state.index;
	uint64_t f = atomic_load_explicit(&vd->n_features, memory_order_relaxed);
	struct vduse_vq_info info = { .index = i };
	uint32_t base;

	if (i >= vd->o.num_queues) {
		vd_log(vd, VHOSTCTL_LOG_ERR, "vduse %s: GET_VQ_STATE for queue %u of %u",
		       vd->name, i, vd->o.num_queues);
		return -EINVAL;
	}
	resp->vq_state.index = i;
	if (vd->qs[i].q) {
		base = vhostctl_devq_base(vd->qs[i].q);
	} else {
		/* never started: what the driver set is where we are */
		if (vd_ioctl(vd, VDUSE_VQ_GET_INFO, &info))
			return -errno;
		base = vd_info_base(vd, &info);
		if (f & (1ull << F_RING_PACKED))
			base |= base << 16;
	}
	if (f & (1ull << F_RING_PACKED)) {
		resp->vq_state.packed.last_avail_idx = base & 0x7fff;
		resp->vq_state.packed.last_avail_counter = (base >> 15) & 1;
		resp->vq_state.packed.last_used_idx = (base >> 16) & 0x7fff;
		resp->vq_state.packed.last_used_counter = (base >> 31) & 1;
	} else {
		resp->vq_state.split.avail_index = base & 0xffff;
	}
	return 0;
}

static int vd_set_status(struct vhostctl_vduse *vd, uint8_t status)
{
	uint8_t old = atomic_load_explicit(&vd->status, memory_order_relaxed);
	int r = 0;

	if ((status & S_DRIVER_OK) && !(old & S_DRIVER_OK)) {
		r = vd_driver_ok(vd, false);
		if (r)
			return r;
	} else if (!(status & S_DRIVER_OK) && (old & S_DRIVER_OK)) {
		vd_stop_all(vd);
	}
	if (!status) {
		vd_stop_all(vd);
		vd_unmap_all(vd);
		vd->failed = false;
		atomic_store_explicit(&vd->n_features, 0, memory_order_relaxed);
		if (vd->o.reset)
			vd->o.reset(vd, vd->o.ctx);
	}
	atomic_store_explicit(&vd->status, status, memory_order_relaxed);
	return r;
}

static int vd_update_iotlb(struct vhostctl_vduse *vd, uint64_t start, uint64_t last)
{
	int r;

	if (start > last) {
		vd_log(vd, VHOSTCTL_LOG_ERR,
		       "vduse %s: UPDATE_IOTLB with start %#llx after last %#llx",
		       vd->name, (unsigned long long)start, (unsigned long long)last);
		return -EINVAL;
	}
	/* only vhost_vdpa's set_map sends these: no bounce area from now on */
	vd->va_mode = true;
	vd_unmap_range(vd, start, last);
	r = vd_map_range(vd, start, last, NULL);
	if (r)
		return r;
	return vd_requeue(vd);
}

static int vd_handle(struct vhostctl_vduse *vd, const struct vduse_dev_request *req,
		     struct vduse_dev_response *resp)
{
	switch (req->type) {
	case VDUSE_GET_VQ_STATE:
		return vd_get_vq_state(vd, req, resp);
	case VDUSE_SET_STATUS:
		return vd_set_status(vd, req->s.status);
	case VDUSE_UPDATE_IOTLB:
		return vd_update_iotlb(vd, req->iova.start, req->iova.last);
	default:
		vd_log(vd, VHOSTCTL_LOG_WARNING, "vduse %s: unknown request type %u",
		       vd->name, req->type);
		return -EOPNOTSUPP;
	}
}

/* Answers every pending request; the count handled, or -errno. */
static int vd_requests(struct vhostctl_vduse *vd)
{
	int n = 0;

	for (;;) {
		struct vduse_dev_request req;
		struct vduse_dev_response resp;
		ssize_t len = read(vd->dev_fd, &req, sizeof(req));
		int r;

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return n;
			return -errno;
		}
		if ((size_t)len != sizeof(req))
			return -EPROTO;
		memset(&resp, 0, sizeof(resp));
		resp.request_id = req.request_id;
		r = vd_handle(vd, &req, &resp);
		resp.result = r ? VDUSE_REQ_RESULT_FAILED : VDUSE_REQ_RESULT_OK;
		vd_inc(&vd->n_requests);
		if (r) {
			vd_inc(&vd->n_failed);
			vd_log(vd, VHOSTCTL_LOG_INFO, "vduse %s: request %u type %u failed: %s",
			       vd->name, req.request_id, req.type, strerror(-r));
		}
		if (write(vd->dev_fd, &resp, sizeof(resp)) != sizeof(resp)) {
			/* ENOENT: the kernel gave up waiting (timeout or signal) */
			vd_log(vd, VHOSTCTL_LOG_WARNING, "vduse %s: answer to request %u: %s",
			       vd->name, req.request_id, strerror(errno));
		}
		n++;
	}
}

/* Tells the driver about used buffers if the queue's flush asked to. */
static void vd_irq(struct vhostctl_vduse *vd, unsigned int i)
{
	eventfd_t v;
	uint32_t idx = i;

	if (vd->qs[i].call_fd < 0 || eventfd_read(vd->qs[i].call_fd, &v))
		return;
	if (vd_ioctl(vd, VDUSE_VQ_INJECT_IRQ, &idx))
		vd_log(vd, VHOSTCTL_LOG_WARNING, "vduse %s: queue %u: INJECT_IRQ: %s",
		       vd->name, i, strerror(errno));
	else
		vd_inc(&vd->n_irqs);
}

static int vd_kick(struct vhostctl_vduse *vd, unsigned int i)
{
	struct vd_queue *vq = &vd->qs[i];
	eventfd_t v;
	int r;

	if (eventfd_read(vq->kick_fd, &v))
		return 0;
	vd_inc(&vd->n_kicks);
	if (!vq->q || vd->failed)
		return 0;
	r = vd->o.queue(vd, i, vq->q, vd->o.ctx);
	vd_irq(vd, i);
	/* more work: come back through epoll, so requests are not starved */
	if (r > 0)
		eventfd_write(vq->kick_fd, 1);
	if (r < 0) {
		vd_log(vd, VHOSTCTL_LOG_ERR,
		       "vduse %s: queue %u handler: %s; queues stopped until reset",
		       vd->name, i, strerror(-r));
		vd->failed = true;
		vd_stop_all(vd);
	}
	return 1;
}

VHC_EXPORT int vhostctl_vduse_dispatch(struct vhostctl_vduse *vd, int timeout_ms)
{
	struct epoll_event ev[16];
	int n, handled = 0;

	if (!vd)
		return vhc_err(EINVAL);
	n = epoll_wait(vd->ep_fd, ev, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : vhc_err(errno);
	for (int k = 0; k < n; k++) {
		uint64_t tag = ev[k].data.u64;
		int r = 0;

		if (tag == TAG_STOP)
			return vhc_err(ECANCELED);
		if (tag == TAG_DEV) {
			r = vd_requests(vd);
		} else {
			unsigned int i = (unsigned int)((tag - 2) / 2);

			if (i >= vd->o.num_queues)
				continue;
			if (tag == TAG_KICK(i))
				r = vd_kick(vd, i);
			else
				vd_irq(vd, i);
		}
		if (r < 0)
			return vhc_err(-r);
		handled++;
	}
	return handled;
}

VHC_EXPORT int vhostctl_vduse_run(struct vhostctl_vduse *vd)
{
	int r;

	do {
		r = vhostctl_vduse_dispatch(vd, -1);
	} while (r >= 0);
	return r == -ECANCELED ? 0 : r;
}

VHC_EXPORT int vhostctl_vduse_stop(struct vhostctl_vduse *vd)
{
	if (!vd)
		return -EINVAL;
	/* only an eventfd write: async-signal-safe */
	return eventfd_write(vd->stop_fd, 1) ? -errno : 0;
}

VHC_EXPORT int vhostctl_vduse_fd(const struct vhostctl_vduse *vd)
{
	return vd ? vd->ep_fd : vhc_err(EINVAL);
}

VHC_EXPORT const char *vhostctl_vduse_name(const struct vhostctl_vduse *vd)
{
	return vd ? vd->name : NULL;
}

VHC_EXPORT int vhostctl_vduse_stats(const struct vhostctl_vduse *vd,
				    struct vhostctl_vduse_stats *stats)
{
	struct vhostctl_vduse_stats s;
	size_t sz;

	if (!vd || !stats || stats->sz < sizeof(size_t))
		return vhc_err(EINVAL);
	sz = stats->sz < sizeof(s) ? stats->sz : sizeof(s);
	memset(&s, 0, sizeof(s));
	s.sz = sz;
	s.requests = atomic_load_explicit(&vd->n_requests, memory_order_relaxed);
	s.failed = atomic_load_explicit(&vd->n_failed, memory_order_relaxed);
	s.kicks = atomic_load_explicit(&vd->n_kicks, memory_order_relaxed);
	s.irqs = atomic_load_explicit(&vd->n_irqs, memory_order_relaxed);
	s.maps = atomic_load_explicit(&vd->n_maps, memory_order_relaxed);
	s.status = atomic_load_explicit(&vd->status, memory_order_relaxed);
	s.features = atomic_load_explicit(&vd->n_features, memory_order_relaxed);
	memcpy(stats, &s, sz);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Create, destroy                                                     */
/* ------------------------------------------------------------------ */

static int vd_check_opts(const struct vhostctl_vduse_opts *o)
{
	size_t len;

	if (!o->name || !o->queue)
		return -EINVAL;
	len = strlen(o->name);
	if (!len || len >= VD_NAME_MAX || strchr(o->name, '/') || !strcmp(o->name, "control") ||
	    o->name[0] == '.')
		return -EINVAL;
	if (!o->num_queues || o->num_queues > VD_MAX_QUEUES)
		return -EINVAL;
	if (o->queue_size > VD_MAX_QSIZE || (o->queue_size & (o->queue_size - 1)))
		return -EINVAL;
	if (o->config_len > VD_MAX_CONFIG || (o->config_len && !o->config))
		return -EINVAL;
	if (o->flags & ~(VHOSTCTL_VDUSE_F_REPLACE | VHOSTCTL_VDUSE_F_RECONNECT))
		return -EINVAL;
	return 0;
}

static int vd_create(struct vhostctl_vduse *vd)
{
	/* The config space follows the header: one buffer, aligned for both. */
	union {
		struct vduse_dev_config c;
		unsigned char b[sizeof(struct vduse_dev_config) + VD_MAX_CONFIG];
	} d;
	uint64_t api = VDUSE_API_VERSION;
	char name[VDUSE_NAME_MAX];
	int r;

	if (ioctl(vd->ctl_fd, VDUSE_SET_API_VERSION, &api))
		return -errno;
	memset(&d, 0, sizeof(d));
	snprintf(d.c.name, sizeof(d.c.name), "%s", vd->name);
	d.c.vendor_id = vd->o.vendor_id;
	d.c.device_id = vd->o.device_id;
	d.c.features = vd->offered;
	d.c.vq_num = vd->o.num_queues;
	d.c.vq_align = (uint32_t)sysconf(_SC_PAGESIZE);
	d.c.config_size = vd->o.config_len;
	memcpy(d.c.config, vd->config, vd->o.config_len);
	r = ioctl(vd->ctl_fd, VDUSE_CREATE_DEV, &d) ? -errno : 0;
	/* the caller tries to open it: a server that died left it */
	if (r == -EEXIST && (vd->o.flags & VHOSTCTL_VDUSE_F_RECONNECT))
		return 1;
	if (r == -EEXIST && (vd->o.flags & VHOSTCTL_VDUSE_F_REPLACE)) {
		/* a stale device of a process that died: gone unless still on the bus */
		memset(name, 0, sizeof(name));
		snprintf(name, sizeof(name), "%s", vd->name);
		/* EBUSY: still on the vdpa bus, or its fd still open */
		if (ioctl(vd->ctl_fd, VDUSE_DESTROY_DEV, name))
			return errno == EBUSY ? -EBUSY : -EEXIST;
		r = ioctl(vd->ctl_fd, VDUSE_CREATE_DEV, &d) ? -errno : 0;
	}
	return r;
}

static int vd_destroy(struct vhostctl_vduse *vd)
{
	char name[VDUSE_NAME_MAX];

	memset(name, 0, sizeof(name));
	snprintf(name, sizeof(name), "%s", vd->name);
	return ioctl(vd->ctl_fd, VDUSE_DESTROY_DEV, name) ? -errno : 0;
}

static int vd_open_dev(struct vhostctl_vduse *vd)
{
	char path[128];
	int fd = -1;

	snprintf(path, sizeof(path), "/dev/vduse/%s", vd->name);
	/* devtmpfs creates the node with the device; allow it a moment */
	for (int tries = 0; tries < 200; tries++) {
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(5000);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * Takes over a device whose server died: if the driver had it running
 * (features negotiated, queues ready), map the IOTLB and start the queues
 * where their used rings stand.  A failure stops the queues but keeps the
 * device answering, so that the kernel can still reset and delete it.
 */
static void vd_resume(struct vhostctl_vduse *vd)
{
	bool ready = false;
	uint64_t f = 0;
	int r;

	if (vd_ioctl(vd, VDUSE_DEV_GET_FEATURES, &f))
		f = 0;
	for (unsigned int i = 0; i < vd->o.num_queues && f; i++) {
		struct vduse_vq_info info = { .index = i };

		if (!vd_ioctl(vd, VDUSE_VQ_GET_INFO, &info) && info.ready)
			ready = true;
	}
	if (!ready)
		return;	/* not running: the driver's next SET_STATUS starts it */
	r = vd_driver_ok(vd, true);
	if (r) {
		vd_log(vd, VHOSTCTL_LOG_ERR, "vduse %s: cannot resume the running device: %s",
		       vd->name, strerror(-r));
		vd->failed = true;
		return;
	}
	atomic_store_explicit(&vd->status, S_DRIVER_OK | S_FEATURES_OK | 3, memory_order_relaxed);
}

/* Closes what vd_alloc() and the constructors opened, destroys what they made. */
static void vd_abort(struct vhostctl_vduse *vd, int r)
{
	if (vd->dev_fd >= 0)
		close(vd->dev_fd);
	if (vd->created)
		vd_destroy(vd);
	if (vd->ctl_fd >= 0)
		close(vd->ctl_fd);
	if (vd->ep_fd >= 0)
		close(vd->ep_fd);
	if (vd->stop_fd >= 0)
		close(vd->stop_fd);
	free(vd);
	errno = -r;
}

/* The checked description, its defaults, the epoll and stop fds; NULL with errno set. */
static struct vhostctl_vduse *vd_alloc(const struct vhostctl_vduse_opts *opts)
{
	struct vhostctl_vduse *vd;
	uint64_t ring_bits = (1ull << F_INDIRECT_DESC) | (1ull << F_EVENT_IDX) |
			     (1ull << F_RING_PACKED);
	int r;

	vd = calloc(1, sizeof(*vd));
	if (!vd)
		return NULL;
	vd->ctl_fd = vd->dev_fd = vd->ep_fd = vd->stop_fd = -1;
	for (unsigned int i = 0; i < VD_MAX_QUEUES; i++)
		vd->qs[i].kick_fd = vd->qs[i].call_fd = -1;
	r = vhc_opts_copy(&vd->o, sizeof(vd->o), opts);
	if (!opts)
		r = -EINVAL;
	if (!r)
		r = vd_check_opts(&vd->o);
	if (r)
		goto err;
	if (!vd->o.log_level)
		vd->o.log_level = VHOSTCTL_LOG_WARNING;
	if (!vd->o.queue_size)
		vd->o.queue_size = VD_DEFAULT_QSIZE;
	snprintf(vd->name, sizeof(vd->name), "%s", vd->o.name);
	vd->o.name = vd->name;
	if (vd->o.config_len)
		memcpy(vd->config, vd->o.config, vd->o.config_len);
	vd->o.config = vd->config;
	vd->offered = (vd->o.features | ring_bits | (1ull << F_VERSION_1) |
		       (1ull << F_ACCESS_PLATFORM)) & ~vd->o.no_features;
	/* a split ring's used index says where a dead server stopped; a packed one's not */
	if (vd->o.flags & VHOSTCTL_VDUSE_F_RECONNECT)
		vd->offered &= ~(1ull << F_RING_PACKED);
	if (!(vd->offered & (1ull << F_ACCESS_PLATFORM))) {
		/* VDUSE refuses a device without it */
		r = -EINVAL;
		goto err;
	}
	vd->bounce_size = VD_DEFAULT_BOUNCE;
	vd->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	vd->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->ep_fd < 0 || vd->stop_fd < 0) {
		r = -errno;
		goto err;
	}
	r = vd_epoll(vd, EPOLL_CTL_ADD, vd->stop_fd, TAG_STOP);
	if (!r)
		return vd;
err:
	vd_abort(vd, r);
	return NULL;
}

VHC_EXPORT struct vhostctl_vduse *vhostctl_vduse_new(const struct vhostctl_vduse_opts *opts)
{
	struct vhostctl_vduse *vd = vd_alloc(opts);
	bool adopt;
	int r;

	if (!vd)
		return NULL;
	vd->ctl_fd = open(VD_CONTROL, O_RDWR | O_CLOEXEC);
	if (vd->ctl_fd < 0) {
		r = -errno;
		goto err;
	}
	r = vd_create(vd);
	if (r < 0)
		goto err;
	adopt = r == 1;
	/* an adopted device is ours to destroy once it is open */
	vd->created = !adopt;
	r = vd_open_dev(vd);
	if (r < 0) {
		/* EBUSY: another process serves it */
		if (adopt)
			r = -EEXIST;
		goto err;
	}
	vd->dev_fd = r;
	vd->created = true;
	for (unsigned int i = 0; i < vd->o.num_queues; i++) {
		struct vduse_vq_config qc = { .index = i, .max_size = vd->o.queue_size };

		if (vd_ioctl(vd, VDUSE_VQ_SETUP, &qc)) {
			r = -errno;
			goto err;
		}
	}
	vd->bounce_size = vd_read_bounce_size(vd);
	r = vd_epoll(vd, EPOLL_CTL_ADD, vd->dev_fd, TAG_DEV);
	if (r)
		goto err;
	if (adopt)
		vd_resume(vd);
	return vd;
err:
	vd_abort(vd, r);
	return NULL;
}

/* Answers the kernel while the vDPA device is deleted (it resets the device). */
static void *vd_answer_thread(void *arg)
{
	struct vhostctl_vduse *vd = arg;

	while (vhostctl_vduse_dispatch(vd, -1) >= 0)
		;
	return NULL;
}

static bool vd_on_bus(const struct vhostctl_vduse *vd)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s", vd->name);
	return access(path, F_OK) == 0;
}

static void vd_del_vdpa(struct vhostctl_vduse *vd)
{
	struct vhostctl_vdpa *nl;
	pthread_t t;
	eventfd_t v;
	int r;

	if (!vd_on_bus(vd))
		return;
	nl = vhostctl_vdpa_open();
	if (!nl) {
		vd_log(vd, VHOSTCTL_LOG_WARNING, "vduse %s: vdpa netlink: %s", vd->name,
		       strerror(errno));
		return;
	}
	eventfd_read(vd->stop_fd, &v);
	r = pthread_create(&t, NULL, vd_answer_thread, vd);
	if (r) {
		vhostctl_vdpa_close(nl);
		return;
	}
	r = vhostctl_vdpa_dev_del(nl, vd->name);
	if (r && r != -ENODEV)
		vd_log(vd, VHOSTCTL_LOG_WARNING, "vduse %s: vdpa dev del: %s", vd->name,
		       strerror(-r));
	vhostctl_vduse_stop(vd);
	pthread_join(t, NULL);
	vhostctl_vdpa_close(nl);
}

VHC_EXPORT void vhostctl_vduse_free(struct vhostctl_vduse *vd)
{
	int saved = errno;
	int r;

	if (!vd)
		return;
	vd_del_vdpa(vd);
	vd_stop_all(vd);
	vd_unmap_all(vd);
	close(vd->dev_fd);
	r = vd->created ? vd_destroy(vd) : 0;
	if (r)
		vd_log(vd, VHOSTCTL_LOG_WARNING, "vduse %s: destroy: %s", vd->name, strerror(-r));
	if (vd->ctl_fd >= 0)
		close(vd->ctl_fd);
	close(vd->ep_fd);
	close(vd->stop_fd);
	if (vd->ctx_free)
		vd->ctx_free(vd->o.ctx);
	free(vd);
	errno = saved;
}

void vhc_vduse_own_ctx(struct vhostctl_vduse *vd, void (*fn)(void *ctx))
{
	vd->ctx_free = fn;
}

struct vhostctl_devq *vhc_vduse_queue(struct vhostctl_vduse *vd, unsigned int index)
{
	if (index >= vd->o.num_queues || vd->failed)
		return NULL;
	return vd->qs[index].q;
}

uint64_t vhc_vduse_features(const struct vhostctl_vduse *vd)
{
	return atomic_load_explicit(&vd->n_features, memory_order_relaxed);
}

struct vhostctl_vduse *vhc_vduse_fake(const struct vhostctl_vduse_opts *opts, int dev_fd,
				      vhc_vduse_ioctl_fn *fn)
{
	struct vhostctl_vduse *vd = vd_alloc(opts);
	int r;

	if (!vd) {
		close(dev_fd);
		return NULL;
	}
	vd->dev_fd = dev_fd;
	vd->ioctl_fn = fn;
	r = vd_epoll(vd, EPOLL_CTL_ADD, vd->dev_fd, TAG_DEV);
	if (r) {
		vd_abort(vd, r);
		return NULL;
	}
	return vd;
}
