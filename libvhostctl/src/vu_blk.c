// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Block backend on a RAM buffer or a file (mapped shared, so reads and
 * writes are copies and FLUSH is msync).  Requests complete before the
 * handler returns, so GET_VRING_BASE never has anything to drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vu.h"

#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9
#define BLK_F_MQ 12
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define SECTOR 512u
#define MAX_IOV 256
#define BURST 32

/* The disk; used by the dispatch thread only. */
struct vu_blk {
	uint8_t *data;
	uint64_t size;
	bool file;
	bool read_only;
};

struct req_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

static uint8_t blk_do(struct vu_blk *b, const struct vhostctl_devq_elem *e, uint32_t *written)
{
	struct req_hdr h;
	uint64_t off, len;

	*written = 0;
	if (vhostctl_devq_copy_from(e, 0, &h, sizeof(h)) != sizeof(h))
		return BLK_S_IOERR;
	if (h.sector > UINT64_MAX / SECTOR)
		return BLK_S_IOERR;
	off = h.sector * SECTOR;
	switch (h.type) {
	case BLK_T_IN:
		len = e->in_len - 1;
		if (off > b->size || len > b->size - off)
			return BLK_S_IOERR;
		*written = (uint32_t)vhostctl_devq_copy_to(e, 0, b->data + off, len);
		return BLK_S_OK;
	case BLK_T_OUT:
		if (b->read_only)
			return BLK_S_IOERR;
		len = e->out_len - sizeof(h);
		if (off > b->size || len > b->size - off)
			return BLK_S_IOERR;
		vhostctl_devq_copy_from(e, sizeof(h), b->data + off, len);
		return BLK_S_OK;
	case BLK_T_FLUSH:
		if (b->file && msync(b->data, b->size, MS_SYNC) < 0)
			return BLK_S_IOERR;
		return BLK_S_OK;
	case BLK_T_GET_ID: {
		static const char id[20] = "vhostctl-blk";
		size_t n = e->in_len - 1 < sizeof(id) ? e->in_len - 1 : sizeof(id);

		*written = (uint32_t)vhostctl_devq_copy_to(e, 0, id, n);
		return BLK_S_OK;
	}
	default:
		return BLK_S_UNSUPP;
	}
}

static int blk_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		     void *ctx)
{
	struct vu_blk *b = ctx;
	struct iovec iov[MAX_IOV];
	struct vhostctl_devq_elem e;
	unsigned int done = 0;
	int r;

	(void)be;
	(void)index;
	while (done < BURST) {
		uint32_t written;
		uint8_t st;

		r = vhostctl_devq_pop(q, &e, iov, MAX_IOV);
		if (r < 0)
			return r;
		if (!r)
			break;
		if (e.out_len < sizeof(struct req_hdr) || !e.in_len) {
			/* No header or no status byte: nothing to answer with. */
			return -EIO;
		}
		st = blk_do(b, &e, &written);
		vhostctl_devq_copy_to(&e, e.in_len - 1, &st, 1);
		r = vhostctl_devq_push(q, &e, written + 1);
		if (r)
			return r;
		done++;
	}
	r = vhostctl_devq_flush(q);
	if (r < 0)
		return r;
	return done == BURST;
}

static void blk_free(void *ctx)
{
	struct vu_blk *b = ctx;

	if (b->data)
		munmap(b->data, b->size);
	free(b);
}

static const struct vhc_vu_class blk_class = {
	.name = "blk",
	.queue = blk_queue,
	.free = blk_free,
};

VHC_EXPORT struct vhostctl_vu_backend *vhostctl_vu_blk_new(const struct vhostctl_vu_blk_opts *opts)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo);
	struct vhostctl_vu_blk_opts o;
	uint8_t config[VHC_VU_MAX_CONFIG] = { 0 };
	struct vu_blk *b;
	uint64_t cap;
	uint32_t bs = SECTOR;
	uint16_t nq;
	int r, e;

	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (!opts || r) {
		errno = r ? -r : EINVAL;
		return NULL;
	}
	if (!o.num_queues)
		o.num_queues = 1;
	if (o.num_queues > 16 || (!o.path && (!o.size || o.size % SECTOR))) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->read_only = o.read_only;
	if (o.path) {
		struct stat sb;
		int fd = open(o.path, (o.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &sb) < 0 || !sb.st_size || sb.st_size % SECTOR) {
			e = fd < 0 ? errno : EINVAL;
			if (fd >= 0)
				close(fd);
			free(b);
			errno = e;
			return NULL;
		}
		b->size = (uint64_t)sb.st_size;
		b->data = mmap(NULL, b->size, PROT_READ | (o.read_only ? 0 : PROT_WRITE),
			       MAP_SHARED, fd, 0);
		close(fd);
		b->file = true;
	} else {
		b->size = o.size;
		b->data = mmap(NULL, b->size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (b->data == MAP_FAILED) {
		e = errno;
		b->data = NULL;
		free(b);
		errno = e;
		return NULL;
	}
	/* struct virtio_blk_config: capacity @0, blk_size @20, num_queues @34. */
	cap = b->size / SECTOR;
	memcpy(config, &cap, 8);
	memcpy(config + 20, &bs, 4);
	nq = (uint16_t)o.num_queues;
	memcpy(config + 34, &nq, 2);
	bo.log = o.log;
	bo.log_ctx = o.log_ctx;
	bo.log_level = o.log_level;
	bo.features = VHC_BIT(BLK_F_FLUSH) | VHC_BIT(BLK_F_BLK_SIZE) |
		      (o.read_only ? VHC_BIT(BLK_F_RO) : 0) |
		      (o.num_queues > 1 ? VHC_BIT(BLK_F_MQ) : 0);
	bo.num_queues = o.num_queues;
	/* Zero-filled past the fields we set, so any frontend's struct size is served. */
	bo.config = config;
	bo.config_len = sizeof(config);
	return vhc_vu_backend_new_class(&blk_class, &bo, b);
}

VHC_EXPORT void *vhostctl_vu_blk_data(struct vhostctl_vu_backend *be, uint64_t *size)
{
	struct vu_blk *b;

	if (!be || vhc_vu_backend_class(be) != &blk_class) {
		errno = EINVAL;
		return NULL;
	}
	b = vhostctl_vu_backend_ctx(be);
	if (b->file) {
		errno = EINVAL;
		return NULL;
	}
	if (size)
		*size = b->size;
	return b->data;
}
