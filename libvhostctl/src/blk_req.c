// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * virtio-blk requests on a RAM buffer or a file.  The file is mapped
 * shared, so reads and writes are copies and FLUSH is msync: what the
 * driver wrote is in the file's page cache at once, visible to any reader
 * of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blk_req.h"

#define BLK_F_SEG_MAX 2
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
#define MAX_IOV 256
#define BURST 32

struct req_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

int vhc_blk_open(struct vhc_blk *b, const char *path, int fd, uint64_t size, bool read_only)
{
	int prot = PROT_READ | (read_only ? 0 : PROT_WRITE);
	struct stat sb;
	int r = 0;

	memset(b, 0, sizeof(*b));
	b->read_only = read_only;
	if (!path && fd <= 0) {
		if (!size || size % VHC_BLK_SECTOR)
			return -EINVAL;
		b->size = size;
		b->data = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (b->data == MAP_FAILED) {
			b->data = NULL;
			return -errno;
		}
		return 0;
	}
	if (path) {
		fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	if (fstat(fd, &sb) < 0)
		r = -errno;
	else if (!S_ISREG(sb.st_mode) || !sb.st_size || sb.st_size % VHC_BLK_SECTOR)
		r = -EINVAL;
	if (!r) {
		b->size = (uint64_t)sb.st_size;
		b->data = mmap(NULL, b->size, prot, MAP_SHARED, fd, 0);
		if (b->data == MAP_FAILED) {
			r = -errno;
			b->data = NULL;
		}
		b->file = true;
	}
	if (path)
		close(fd);
	return r;
}

void vhc_blk_close(struct vhc_blk *b)
{
	if (b->data)
		munmap(b->data, b->size);
	b->data = NULL;
}

uint64_t vhc_blk_features(const struct vhc_blk *b, unsigned int num_queues, unsigned int seg_max)
{
	uint64_t f = 1ull << BLK_F_FLUSH | 1ull << BLK_F_BLK_SIZE;

	if (b->read_only)
		f |= 1ull << BLK_F_RO;
	if (num_queues > 1)
		f |= 1ull << BLK_F_MQ;
	if (seg_max)
		f |= 1ull << BLK_F_SEG_MAX;
	return f;
}

void vhc_blk_config(const struct vhc_blk *b, unsigned int num_queues, unsigned int seg_max,
		    uint8_t *config)
{
	/* capacity @0, seg_max @12, blk_size @20, num_queues @34; little endian hosts */
	uint64_t cap = b->size / VHC_BLK_SECTOR;
	uint32_t bs = VHC_BLK_SECTOR, sm = seg_max;
	uint16_t nq = (uint16_t)num_queues;

	memset(config, 0, VHC_BLK_CONFIG_SIZE);
	memcpy(config, &cap, 8);
	memcpy(config + 12, &sm, 4);
	memcpy(config + 20, &bs, 4);
	memcpy(config + 34, &nq, 2);
}

static uint8_t blk_do(struct vhc_blk *b, const struct vhostctl_devq_elem *e, uint32_t *written)
{
	struct req_hdr h;
	uint64_t off, len;

	*written = 0;
	if (vhostctl_devq_copy_from(e, 0, &h, sizeof(h)) != sizeof(h))
		return BLK_S_IOERR;
	if (h.sector > UINT64_MAX / VHC_BLK_SECTOR)
		return BLK_S_IOERR;
	off = h.sector * VHC_BLK_SECTOR;
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
		if (b->file && !b->read_only && msync(b->data, b->size, MS_SYNC) < 0)
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

int vhc_blk_queue(struct vhc_blk *b, struct vhostctl_devq *q)
{
	struct iovec iov[MAX_IOV];
	struct vhostctl_devq_elem e;
	unsigned int done = 0;
	int r;

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
