// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Kernel transport: vhost-net, vhost-vsock and the other in-kernel vhost
 * devices, driven through ioctls on their character device.
 */
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"
#include "kabi.h"

/* Most messages one vhostctl_dev_iotlb_serve() call reads. */
#define KERN_IOTLB_BURST 1024

/* Vrings whose used ring we remember: vhost-net and vhost-vsock have two. */
#define KERN_MAX_VRINGS 8

struct kern_vring {
	uint64_t used;		/* the address given to set_vring_addr */
	unsigned int num;	/* 0: not set */
	bool addr_set;
};

/*
 * Kernel transport state, allocated on first use.  The vring records belong
 * to the thread using the handle; the IOTLB fields may also be used by a
 * thread serving misses, hence the lock.
 */
struct kern_state {
	/* Protects iotlb, opts, stats, prefetched and the order of IOTLB messages. */
	pthread_mutex_t lock;
	bool iotlb;		/* vhostctl_dev_iotlb_enable() done */
	bool prefetched;	/* VHOSTCTL_IOTLB_PREFETCH mappings sent, none dropped since */
	struct vhostctl_iotlb_opts opts;
	struct vhostctl_iotlb_stats stats;
	struct kern_vring vr[KERN_MAX_VRINGS];
};

static struct kern_state *kern_state(struct vhostctl_dev *dev)
{
	struct kern_state *st = dev->priv;

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	if (pthread_mutex_init(&st->lock, NULL)) {
		free(st);
		return NULL;
	}
	dev->priv = st;
	return st;
}

static void kern_destroy(struct vhostctl_dev *dev)
{
	struct kern_state *st = dev->priv;

	if (!st)
		return;
	pthread_mutex_destroy(&st->lock);
	free(st);
	dev->priv = NULL;
}

/*
 * With VIRTIO_F_ACCESS_PLATFORM the kernel reads ring and buffer addresses
 * as I/O virtual addresses of its device IOTLB (drivers/vhost/vhost.c:
 * translate_desc() and vq_meta_prefetch() use dev->iotlb, set up by
 * vhost_init_device_iotlb() when the feature is acked).
 */
static bool kern_access_platform(const struct vhostctl_dev *dev)
{
	return dev->acked_features & (1ULL << VHOSTCTL_F_ACCESS_PLATFORM);
}

static int kern_set_owner(struct vhostctl_dev *dev)
{
	int r = vhc_ioctl(dev->fd, VHOST_SET_OWNER, NULL);

	if (r == -ENOTTY)
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_OWNER: fd %d is not a vhost device", dev->fd);
	return r;
}

static int kern_reset_owner(struct vhostctl_dev *dev)
{
	return vhc_ioctl(dev->fd, VHOST_RESET_OWNER, NULL);
}

static int kern_get_features(struct vhostctl_dev *dev, uint64_t *features)
{
	__u64 f;
	int r = vhc_ioctl(dev->fd, VHOST_GET_FEATURES, &f);

	if (!r)
		*features = f;
	return r;
}

static int kern_set_features(struct vhostctl_dev *dev, uint64_t features)
{
	__u64 f = features;

	return vhc_ioctl(dev->fd, VHOST_SET_FEATURES, &f);
}

static int kern_get_backend_features(struct vhostctl_dev *dev, uint64_t *features)
{
	__u64 f;
	int r = vhc_ioctl(dev->fd, VHOST_GET_BACKEND_FEATURES, &f);

	if (!r)
		*features = f;
	return r;
}

static int kern_set_backend_features(struct vhostctl_dev *dev, uint64_t features)
{
	__u64 f = features;

	return vhc_ioctl(dev->fd, VHOST_SET_BACKEND_FEATURES, &f);
}

static int kern_set_mem_table(struct vhostctl_dev *dev, const struct vhostctl_mem *mem)
{
	int n = vhostctl_mem_num_regions(mem);
	struct vhost_memory *m;
	int r;

	if (n < 0)
		return n;
	m = calloc(1, sizeof(*m) + (size_t)n * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = (__u32)n;
	for (int i = 0; i < n; i++) {
		struct vhostctl_mem_region reg;

		vhostctl_mem_get_region(mem, (unsigned int)i, &reg);
		m->regions[i].guest_phys_addr = reg.gpa;
		m->regions[i].memory_size = reg.size;
		m->regions[i].userspace_addr = (uintptr_t)reg.hva;
	}
	r = vhc_ioctl(dev->fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	if (r == -E2BIG || r == -ENOMEM)
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_MEM_TABLE: %d regions refused (vhost.max_mem_regions)", n);
	return r;
}

static int kern_vring_state(struct vhostctl_dev *dev, unsigned long req, unsigned int index,
			    unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return vhc_ioctl(dev->fd, req, &s);
}

static int kern_vring_state_get(struct vhostctl_dev *dev, unsigned long req, unsigned int index,
				unsigned int *num)
{
	struct vhost_vring_state s = { .index = index };
	int r = vhc_ioctl(dev->fd, req, &s);

	if (!r)
		*num = s.num;
	return r;
}

static int kern_vring_file(struct vhostctl_dev *dev, unsigned long req, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return vhc_ioctl(dev->fd, req, &f);
}

static int kern_set_vring_num(struct vhostctl_dev *dev, unsigned int index, unsigned int num)
{
	struct kern_state *st = kern_state(dev);
	int r;

	if (!st)
		return -ENOMEM;
	r = kern_vring_state(dev, VHOST_SET_VRING_NUM, index, num);
	if (!r && index < KERN_MAX_VRINGS)
		st->vr[index].num = num;
	return r;
}

/*
 * The kernel takes our virtual addresses for the rings (it reads them with
 * copy_from_user), and a guest physical one for the used-ring log.  With
 * ACCESS_PLATFORM it takes I/O virtual addresses instead, which for us are
 * the guest physical ones: the device IOTLB is filled from the memory table.
 */
static int kern_set_vring_addr(struct vhostctl_dev *dev, const struct vhostctl_vring_addr *a)
{
	struct vhost_vring_addr k = { .index = a->index };
	struct kern_state *st = kern_state(dev);
	void *desc, *avail, *used;
	int r;

	if (!st)
		return -ENOMEM;
	if (!dev->mem) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "SET_VRING_ADDR %u: no memory table", a->index);
		return -EINVAL;
	}
	/* The smallest ring (one entry) must at least be there. */
	desc = vhc_mem_gpa_to_hva(dev->mem, a->desc, 16);
	avail = vhc_mem_gpa_to_hva(dev->mem, a->avail, 6);
	used = vhc_mem_gpa_to_hva(dev->mem, a->used, 6);
	if (!desc || !avail || !used) {
		vhc_log(dev, VHOSTCTL_LOG_ERR,
			"SET_VRING_ADDR %u: ring address outside the memory table", a->index);
		return -EFAULT;
	}
	if (kern_access_platform(dev)) {
		k.desc_user_addr = a->desc;
		k.avail_user_addr = a->avail;
		k.used_user_addr = a->used;
	} else {
		k.desc_user_addr = (uintptr_t)desc;
		k.avail_user_addr = (uintptr_t)avail;
		k.used_user_addr = (uintptr_t)used;
	}
	k.log_guest_addr = a->log;
	if (a->flags & VHOSTCTL_VRING_F_LOG)
		k.flags |= 1u << VHOST_VRING_F_LOG;
	r = vhc_ioctl(dev->fd, VHOST_SET_VRING_ADDR, &k);
	if (!r && a->index < KERN_MAX_VRINGS) {
		st->vr[a->index].used = a->used;
		st->vr[a->index].addr_set = true;
	}
	return r;
}

static int kern_set_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int base)
{
	return kern_vring_state(dev, VHOST_SET_VRING_BASE, index, base);
}

static int kern_get_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int *base)
{
	return kern_vring_state_get(dev, VHOST_GET_VRING_BASE, index, base);
}

static int kern_set_vring_kick(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return kern_vring_file(dev, VHOST_SET_VRING_KICK, index, fd);
}

static int kern_set_vring_call(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return kern_vring_file(dev, VHOST_SET_VRING_CALL, index, fd);
}

static int kern_set_vring_err(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	return kern_vring_file(dev, VHOST_SET_VRING_ERR, index, fd);
}

static int kern_set_busyloop(struct vhostctl_dev *dev, unsigned int index, unsigned int usecs)
{
	return kern_vring_state(dev, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, index, usecs);
}

static int kern_get_busyloop(struct vhostctl_dev *dev, unsigned int index, unsigned int *usecs)
{
	return kern_vring_state_get(dev, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, index, usecs);
}

static int kern_set_log_base(struct vhostctl_dev *dev, const struct vhostctl_log *log)
{
	__u64 base = (uintptr_t)log->base;

	if (!log->base)
		return -EINVAL;
	return vhc_ioctl(dev->fd, VHOST_SET_LOG_BASE, &base);
}

static int kern_set_log_fd(struct vhostctl_dev *dev, int fd)
{
	return vhc_ioctl(dev->fd, VHOST_SET_LOG_FD, &fd);
}

static int kern_new_worker(struct vhostctl_dev *dev, unsigned int *worker_id)
{
	struct vhost_worker_state w = { 0 };
	int r = vhc_ioctl(dev->fd, VHOST_NEW_WORKER, &w);

	if (!r)
		*worker_id = w.worker_id;
	return r;
}

static int kern_free_worker(struct vhostctl_dev *dev, unsigned int worker_id)
{
	struct vhost_worker_state w = { .worker_id = worker_id };

	return vhc_ioctl(dev->fd, VHOST_FREE_WORKER, &w);
}

static int kern_attach_vring_worker(struct vhostctl_dev *dev, unsigned int index,
				    unsigned int worker_id)
{
	struct vhost_vring_worker w = { .index = index, .worker_id = worker_id };

	return vhc_ioctl(dev->fd, VHOST_ATTACH_VRING_WORKER, &w);
}

static int kern_get_vring_worker(struct vhostctl_dev *dev, unsigned int index,
				 unsigned int *worker_id)
{
	struct vhost_vring_worker w = { .index = index };
	int r = vhc_ioctl(dev->fd, VHOST_GET_VRING_WORKER, &w);

	if (!r)
		*worker_id = w.worker_id;
	return r;
}

static int kern_set_fork_owner(struct vhostctl_dev *dev, unsigned int mode)
{
	__u8 m = (__u8)mode;

	return vhc_ioctl(dev->fd, VHOST_SET_FORK_FROM_OWNER, &m);
}

static int kern_get_fork_owner(struct vhostctl_dev *dev, unsigned int *mode)
{
	__u8 m = 0;
	int r = vhc_ioctl(dev->fd, VHOST_GET_FORK_FROM_OWNER, &m);

	if (!r)
		*mode = m;
	return r;
}

/*
 * Device IOTLB (drivers/vhost/vhost.c, 6.12).  The kernel queues a miss
 * (vhost_iotlb_miss(): iova and the access it needs) when translate_desc()
 * or iotlb_access_ok() finds no mapping, and poll() reports POLLIN while one
 * is queued.  read() hands out one message per call and moves a miss to a
 * pending list; an UPDATE whose range covers a pending miss's iova re-queues
 * the work of the ring that missed (vhost_iotlb_notify_vq()).  A mapping
 * without the access asked fails that access without a new miss, so every
 * answer maps the memory read-write, as it is.
 */

static int kern_iotlb_msg(struct vhostctl_dev *dev, uint8_t type, uint64_t iova, uint64_t size,
			  uint64_t uaddr)
{
	struct vhost_msg_v2 m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = uaddr;
	m.iotlb.perm = type == VHOST_IOTLB_UPDATE ? VHOST_ACCESS_RW : 0;
	m.iotlb.type = type;
	do {
		n = write(dev->fd, &m, sizeof(m));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(m) ? 0 : -EIO;
}

/*
 * Map the piece of the memory table around iova: its whole region, or the
 * max_map block holding it, clipped to the region.  Called with st->lock.
 * Returns 0 with *start and *size set, -ENOENT outside the table, or -errno.
 */
static int kern_iotlb_map(struct vhostctl_dev *dev, struct kern_state *st, uint64_t iova,
			  uint64_t *start, uint64_t *size)
{
	int n = dev->mem ? vhostctl_mem_num_regions(dev->mem) : 0;
	struct vhostctl_mem_region reg;
	uint64_t s, e;
	int r;

	for (int i = 0; i < n; i++) {
		if (vhostctl_mem_get_region(dev->mem, (unsigned int)i, &reg))
			continue;
		/* Regions never wrap (mem.c refuses it), so gpa + size is safe. */
		if (iova < reg.gpa || iova - reg.gpa >= reg.size)
			continue;
		s = reg.gpa;
		e = reg.gpa + reg.size;
		if (st->opts.max_map) {
			uint64_t b = iova & ~(st->opts.max_map - 1);

			if (b > s)
				s = b;
			if (b <= UINT64_MAX - st->opts.max_map && b + st->opts.max_map < e)
				e = b + st->opts.max_map;
		}
		r = kern_iotlb_msg(dev, VHOST_IOTLB_UPDATE, s, e - s,
				   (uintptr_t)reg.hva + (s - reg.gpa));
		if (r) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "IOTLB update 0x%llx+0x%llx: %s",
				(unsigned long long)s, (unsigned long long)(e - s), strerror(-r));
			return r;
		}
		st->stats.updates++;
		*start = s;
		*size = e - s;
		return 0;
	}
	return -ENOENT;
}

/* Map [iova, iova + len) piece by piece.  Called with st->lock. */
static int kern_iotlb_map_range(struct vhostctl_dev *dev, struct kern_state *st, uint64_t iova,
				uint64_t len)
{
	uint64_t s, sz;
	int r;

	while (len) {
		r = kern_iotlb_map(dev, st, iova, &s, &sz);
		if (r)
			return r;
		/* The piece starts at or before iova and ends after it. */
		sz -= iova - s;
		if (sz >= len)
			break;
		iova += sz;
		len -= sz;
	}
	return 0;
}

/*
 * Before a ring starts (VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_RUNNING) the
 * kernel writes the used flags and reads the used index in the ioctl itself
 * (vhost_vq_init_access()); a miss there fails the ioctl with EFAULT, as
 * nothing would run the ring again.  So map each used ring first (index
 * ~0u: every ring we know), or the whole memory table with PREFETCH.
 */
static int kern_iotlb_premap(struct vhostctl_dev *dev, unsigned int index)
{
	struct kern_state *st = dev->priv;
	int r = 0;

	if (!st || !kern_access_platform(dev))
		return 0;
	pthread_mutex_lock(&st->lock);
	if (!st->iotlb)
		goto out;
	if (st->opts.flags & VHOSTCTL_IOTLB_PREFETCH) {
		int n = dev->mem ? vhostctl_mem_num_regions(dev->mem) : 0;
		struct vhostctl_mem_region reg;

		/*
		 * One update per region, whatever max_map says: the kernel keeps
		 * at most vhost.max_iotlb_entries (2048) and drops the oldest.
		 */
		for (int i = 0; !st->prefetched && i < n && !r; i++) {
			if (vhostctl_mem_get_region(dev->mem, (unsigned int)i, &reg))
				continue;
			r = kern_iotlb_msg(dev, VHOST_IOTLB_UPDATE, reg.gpa, reg.size,
					   (uintptr_t)reg.hva);
			if (r)
				vhc_log(dev, VHOSTCTL_LOG_ERR, "IOTLB prefetch 0x%llx+0x%llx: %s",
					(unsigned long long)reg.gpa, (unsigned long long)reg.size,
					strerror(-r));
			else
				st->stats.updates++;
		}
		if (!r)
			st->prefetched = true;
		goto out;
	}
	for (unsigned int i = 0; i < KERN_MAX_VRINGS && !r; i++) {
		const struct kern_vring *v = &st->vr[i];

		if ((index != ~0u && i != index) || !v->addr_set || !v->num)
			continue;
		/* flags, idx, the ring, avail_event */
		r = kern_iotlb_map_range(dev, st, v->used, 6 + 8ull * v->num);
		if (r == -ENOENT) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "vring %u: used ring outside the memory table",
				i);
			r = -EFAULT;
		}
	}
out:
	pthread_mutex_unlock(&st->lock);
	return r;
}

/* The IOTLB state of a kernel handle, or NULL with *err set. */
static struct kern_state *kern_iotlb_get(struct vhostctl_dev *dev, int *err)
{
	struct kern_state *st;

	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL) {
		*err = dev ? EOPNOTSUPP : EINVAL;
		return NULL;
	}
	st = dev->priv;
	if (!st || !st->iotlb) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "IOTLB: vhostctl_dev_iotlb_enable() not done");
		*err = EINVAL;
		return NULL;
	}
	return st;
}

VHC_EXPORT int vhostctl_dev_iotlb_enable(struct vhostctl_dev *dev,
					 const struct vhostctl_iotlb_opts *opts)
{
	struct vhostctl_iotlb_opts o;
	struct kern_state *st;
	uint64_t bf;
	int r;

	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL)
		return vhc_err(dev ? EOPNOTSUPP : EINVAL);
	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r)
		return vhc_ret(r);
	if (o.flags & ~VHOSTCTL_IOTLB_PREFETCH ||
	    (o.max_map && (o.max_map & (o.max_map - 1) || o.max_map < VHOST_PAGE_SIZE)))
		return vhc_err(EINVAL);
	r = kern_get_backend_features(dev, &bf);
	if (r)
		return vhc_ret(r);
	if (!(bf & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2))) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "IOTLB: backend features 0x%llx lack IOTLB_MSG_V2",
			(unsigned long long)bf);
		return vhc_err(EOPNOTSUPP);
	}
	r = kern_set_backend_features(dev, 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2);
	if (r)
		return vhc_ret(r);
	st = kern_state(dev);
	if (!st)
		return vhc_err(ENOMEM);
	pthread_mutex_lock(&st->lock);
	st->opts = o;
	st->iotlb = true;
	st->prefetched = false;
	pthread_mutex_unlock(&st->lock);
	return 0;
}

/* One message read from the vhost fd: log it, answer it if it is a miss. */
static void kern_iotlb_handle(struct vhostctl_dev *dev, struct kern_state *st,
			      const unsigned char *buf, size_t n)
{
	struct vhostctl_iotlb_miss miss = { 0 };
	struct vhost_iotlb_msg m;
	size_t off, need;
	uint32_t type;
	int r;

	if (n < sizeof(type)) {
		st->stats.bad_msgs++;
		vhc_log(dev, VHOSTCTL_LOG_WARNING, "IOTLB: short message (%zu bytes)", n);
		return;
	}
	memcpy(&type, buf, sizeof(type));
	switch (type) {
	case VHOST_IOTLB_MSG:
		off = offsetof(struct vhost_msg, iotlb);
		need = sizeof(struct vhost_msg);
		break;
	case VHOST_IOTLB_MSG_V2:
		off = offsetof(struct vhost_msg_v2, iotlb);
		need = sizeof(struct vhost_msg_v2);
		break;
	default:
		st->stats.bad_msgs++;
		vhc_log(dev, VHOSTCTL_LOG_WARNING, "IOTLB: message of unknown format %u skipped",
			type);
		return;
	}
	if (n < need) {
		st->stats.bad_msgs++;
		vhc_log(dev, VHOSTCTL_LOG_WARNING, "IOTLB: short message (%zu of %zu bytes)", n,
			need);
		return;
	}
	memcpy(&m, buf + off, sizeof(m));
	if (m.type != VHOST_IOTLB_MISS) {
		st->stats.other_msgs++;
		vhc_log(dev, VHOSTCTL_LOG_WARNING,
			"IOTLB: message type %u (iova 0x%llx perm %u) skipped", m.type,
			(unsigned long long)m.iova, m.perm);
		return;
	}
	st->stats.misses++;
	miss.iova = m.iova;
	miss.perm = m.perm;
	if (m.perm & ~VHOST_ACCESS_RW || !m.perm)
		r = -EINVAL;
	else
		r = kern_iotlb_map(dev, st, m.iova, &miss.start, &miss.size);
	if (r) {
		st->stats.unanswered++;
		vhc_log(dev, VHOSTCTL_LOG_WARNING,
			"IOTLB miss at 0x%llx (perm %u) not answered: %s",
			(unsigned long long)m.iova, m.perm,
			r == -ENOENT ? "outside the memory table" : strerror(-r));
	} else {
		st->stats.answered++;
		miss.answered = 1;
		vhc_log(dev, VHOSTCTL_LOG_DEBUG, "IOTLB miss at 0x%llx (perm %u): mapped 0x%llx+0x%llx",
			(unsigned long long)m.iova, m.perm, (unsigned long long)miss.start,
			(unsigned long long)miss.size);
	}
	if (st->opts.miss_cb)
		st->opts.miss_cb(st->opts.miss_ctx, &miss);
}

VHC_EXPORT int vhostctl_dev_iotlb_serve(struct vhostctl_dev *dev)
{
	/* Room for a message larger than both formats: a longer one is noticed. */
	union {
		struct vhost_msg_v2 v2;
		unsigned char raw[2 * sizeof(struct vhost_msg_v2)];
	} buf;
	struct kern_state *st;
	int r = 0, count = 0, e;

	st = kern_iotlb_get(dev, &e);
	if (!st)
		return vhc_err(e);
	pthread_mutex_lock(&st->lock);
	/*
	 * Bounded, so that a ring missing outside the table on every kick
	 * cannot keep the caller here: the fd stays readable for the next call.
	 */
	while (count < KERN_IOTLB_BURST) {
		struct pollfd p = { .fd = dev->fd, .events = POLLIN };
		ssize_t n;

		/*
		 * The fd may be blocking: read only what poll() says is there.
		 * Only this function reads it, under st->lock, so it stays there.
		 */
		n = poll(&p, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (!n || !(p.revents & POLLIN)) {
			if (p.revents & POLLNVAL)
				r = -EBADF;
			break;
		}
		n = read(dev->fd, buf.raw, sizeof(buf.raw));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			r = -errno;
			break;
		}
		/* 0: the kernel had nothing for a buffer of this size. */
		if (!n)
			break;
		count++;
		kern_iotlb_handle(dev, st, buf.raw, (size_t)n);
	}
	pthread_mutex_unlock(&st->lock);
	return r ? vhc_ret(r) : count;
}

VHC_EXPORT int vhostctl_dev_iotlb_invalidate(struct vhostctl_dev *dev, uint64_t iova,
					     uint64_t size)
{
	struct kern_state *st;
	int r, e;

	st = kern_iotlb_get(dev, &e);
	if (!st)
		return vhc_err(e);
	/* The kernel drops [iova, iova + size - 1]: that last byte must not wrap. */
	if (!size || size - 1 > UINT64_MAX - iova)
		return vhc_err(EINVAL);
	if (!kern_access_platform(dev)) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "IOTLB invalidate: ACCESS_PLATFORM not acked");
		return vhc_err(EINVAL);
	}
	pthread_mutex_lock(&st->lock);
	r = kern_iotlb_msg(dev, VHOST_IOTLB_INVALIDATE, iova, size, 0);
	if (!r) {
		st->stats.invalidates++;
		st->prefetched = false;
	}
	pthread_mutex_unlock(&st->lock);
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_dev_iotlb_stats(struct vhostctl_dev *dev,
					struct vhostctl_iotlb_stats *stats)
{
	struct kern_state *st;
	int e;

	st = kern_iotlb_get(dev, &e);
	if (!st)
		return vhc_err(e);
	if (!stats)
		return vhc_err(EINVAL);
	pthread_mutex_lock(&st->lock);
	*stats = st->stats;
	pthread_mutex_unlock(&st->lock);
	return 0;
}

/* vhost-net, vhost-vsock: transport-specific calls. */

VHC_EXPORT int vhostctl_net_set_backend(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL)
		return vhc_err(dev ? EOPNOTSUPP : EINVAL);
	if (fd < -1)
		return vhc_err(EBADF);
	if (fd >= 0) {
		int r = kern_iotlb_premap(dev, index);

		if (r)
			return vhc_ret(r);
	}
	return vhc_ret(kern_vring_file(dev, VHOST_NET_SET_BACKEND, index, fd));
}

VHC_EXPORT int vhostctl_vsock_set_guest_cid(struct vhostctl_dev *dev, uint64_t cid)
{
	__u64 c = cid;

	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL)
		return vhc_err(dev ? EOPNOTSUPP : EINVAL);
	return vhc_ret(vhc_ioctl(dev->fd, VHOST_VSOCK_SET_GUEST_CID, &c));
}

VHC_EXPORT int vhostctl_vsock_set_running(struct vhostctl_dev *dev, int running)
{
	int v = !!running;

	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_KERNEL)
		return vhc_err(dev ? EOPNOTSUPP : EINVAL);
	if (v) {
		int r = kern_iotlb_premap(dev, ~0u);

		if (r)
			return vhc_ret(r);
	}
	return vhc_ret(vhc_ioctl(dev->fd, VHOST_VSOCK_SET_RUNNING, &v));
}

VHC_EXPORT unsigned int vhostctl_net_hdr_size(uint64_t features)
{
	/* struct virtio_net_hdr_mrg_rxbuf (12) with MRG_RXBUF or VERSION_1, else 10. */
	if (features & ((1ULL << VHOSTCTL_NET_F_MRG_RXBUF) | (1ULL << VHOSTCTL_F_VERSION_1)))
		return 12;
	return 10;
}

const struct vhc_dev_ops vhc_kernel_ops = {
	.name = "kernel",
	.set_owner = kern_set_owner,
	.reset_owner = kern_reset_owner,
	.get_features = kern_get_features,
	.set_features = kern_set_features,
	.get_backend_features = kern_get_backend_features,
	.set_backend_features = kern_set_backend_features,
	.set_mem_table = kern_set_mem_table,
	.set_vring_num = kern_set_vring_num,
	.set_vring_addr = kern_set_vring_addr,
	.set_vring_base = kern_set_vring_base,
	.get_vring_base = kern_get_vring_base,
	.set_vring_kick = kern_set_vring_kick,
	.set_vring_call = kern_set_vring_call,
	.set_vring_err = kern_set_vring_err,
	.set_vring_busyloop_timeout = kern_set_busyloop,
	.get_vring_busyloop_timeout = kern_get_busyloop,
	.set_log_base = kern_set_log_base,
	.set_log_fd = kern_set_log_fd,
	.new_worker = kern_new_worker,
	.free_worker = kern_free_worker,
	.attach_vring_worker = kern_attach_vring_worker,
	.get_vring_worker = kern_get_vring_worker,
	.set_fork_owner = kern_set_fork_owner,
	.get_fork_owner = kern_get_fork_owner,
	.destroy = kern_destroy,
	/* No vring enable, config space, status or device reset in kernel vhost. */
};
