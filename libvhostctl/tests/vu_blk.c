// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Our block backend (vhostctl_vu_blk_new) driven by our frontend and the
 * virtio-blk driver of vu_blkdrv.h over a Unix socket: on a RAM buffer and
 * on a file, both socket roles, event-idx on and off.  OUT then IN of blocks
 * spread over the disk with requests in flight, FLUSH, GET_ID, reads past
 * the end refused with IOERR, an unknown request type answered UNSUPP, a
 * read-only disk refusing writes, and the bytes checked in the backend's
 * buffer or file.  No fd leaks.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "vu_blkdrv.h"
#include "vu_drv.h"

#define DISK (8u << 20)

static void be_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "[be %d] %s\n", level, msg);
}

/* Open a driver on be, the backend listening or connecting. */
static void open_drv(struct blkdrv *d, struct vhostctl_vu_backend *be, const char *path, bool server,
		     uint64_t extra)
{
	struct blkdrv_opts bo = { .server = server, .extra = extra };
	struct drv_connector c = { .be = be, .path = path };
	pthread_t th;

	if (server) {
		pthread_create(&th, NULL, drv_connect_later, &c);
	} else {
		t_eq(0, vhostctl_vu_backend_listen(be, path));
		t_eq(0, vhostctl_vu_backend_start(be));
	}
	if (blkdrv_open(d, path, &bo))
		t_fail("open: %s", d->err);
	if (server) {
		pthread_join(th, NULL);
		t_eq(0, c.r);
	}
}

static void check_pattern(const uint8_t *disk, uint64_t sectors, unsigned int count, uint32_t bsz,
			  unsigned int seed)
{
	uint64_t span = sectors - bsz / 512;
	uint8_t want[BLKDRV_SLOT_DATA];

	for (unsigned int k = 0; k < count; k++) {
		uint64_t sector = span * k / (count - 1);

		sector -= sector % (bsz / 512);
		if (k == count - 1)
			sector = span;
		blkdrv_pattern(want, bsz, sector, seed);
		if (memcmp(disk + sector * 512, want, bsz))
			t_fail("backend's disk differs at sector %llu", (unsigned long long)sector);
	}
}

int main(void)
{
	char path[64], file[64], id[21];
	int fds = t_count_fds();
	struct blkdrv d;
	uint8_t buf[512];

	snprintf(path, sizeof(path), "/tmp/vu_blk.%d.sock", getpid());
	snprintf(file, sizeof(file), "/tmp/vu_blk.%d.img", getpid());

	/* RAM disk, both roles, event-idx on and off. */
	for (int v = 0; v < 2; v++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, o, .size = DISK,
				   .log = getenv("VU_DEBUG") ? be_log : NULL, .log_level = 7);
		struct vhostctl_vu_backend *be = vhostctl_vu_blk_new(&o);
		struct vhostctl_vu_backend_stats st;
		uint64_t size;
		uint8_t *disk;

		t_true(be);
		disk = vhostctl_vu_blk_data(be, &size);
		t_true(disk && size == DISK);
		open_drv(&d, be, path, v == 1, v == 0 ? 1ull << 29 : 0);
		t_eq(DISK / 512, d.capacity);
		t_true(d.features & BLK_F_FLUSH);
		t_true(!(d.features & BLK_F_RO));
		if (blkdrv_exercise(&d, 300, 4096, 32, 7 + v, id))
			t_fail("RAM disk, %s: %s", v ? "frontend listens" : "backend listens", d.err);
		t_true(!strcmp(id, "vhostctl-blk"));
		check_pattern(disk, DISK / 512, 300, 4096, 7 + v);
		/* A single sector at 0 and the last sector, 512 bytes. */
		memset(buf, 0xa5, sizeof(buf));
		t_eq(BLK_S_OK, blkdrv_rw(&d, BLK_T_OUT, DISK / 512 - 1, buf, 512, NULL));
		t_eq(0, memcmp(disk + DISK - 512, buf, 512));
		/* Unknown request type: UNSUPP, the connection stays. */
		t_eq(BLK_S_UNSUPP, blkdrv_rw(&d, 42, 0, buf, 512, NULL));
		/* A write past the end: IOERR, the disk untouched. */
		t_eq(BLK_S_IOERR, blkdrv_rw(&d, BLK_T_OUT, DISK / 512, buf, 512, NULL));
		t_eq(BLK_S_IOERR, blkdrv_rw(&d, BLK_T_OUT, UINT64_MAX / 256, buf, 512, NULL));
		t_eq(BLK_S_OK, blkdrv_rw(&d, BLK_T_IN, 0, buf, 512, NULL));
		printf("RAM disk, %s, event-idx %s: 300 x 4 KiB written and read back, FLUSH, "
		       "GET_ID \"%s\", past-the-end IOERR, unknown type UNSUPP\n",
		       v ? "frontend listens" : "backend listens", v ? "off" : "on", id);
		blkdrv_close(&d);
		t_eq(0, vhostctl_vu_backend_stop(be));
		t_eq(0, vhostctl_vu_backend_stats(be, &st));
		t_eq(0, st.protocol_errors);
		vhostctl_vu_backend_free(be);
	}

	/* A file: what was written is in the file. */
	{
		int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, o, .path = file);
		struct vhostctl_vu_backend *be;
		uint8_t *img = malloc(DISK);

		t_true(fd >= 0 && img);
		t_eq(0, ftruncate(fd, DISK));
		be = vhostctl_vu_blk_new(&o);
		t_true(be);
		open_drv(&d, be, path, false, 0);
		t_eq(DISK / 512, d.capacity);
		if (blkdrv_exercise(&d, 100, 16384, 16, 99, id))
			t_fail("file: %s", d.err);
		blkdrv_close(&d);
		t_eq(0, vhostctl_vu_backend_stop(be));
		vhostctl_vu_backend_free(be);
		t_eq(DISK, pread(fd, img, DISK, 0));
		check_pattern(img, DISK / 512, 100, 16384, 99);
		printf("file disk: 100 x 16 KiB written, flushed, read back, and found in the file\n");
		free(img);
		close(fd);
	}

	/* Read-only: RO offered, writes refused with IOERR, reads served. */
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, o, .path = file, .read_only = 1);
		struct vhostctl_vu_backend *be = vhostctl_vu_blk_new(&o);
		uint8_t want[512];

		t_true(be);
		open_drv(&d, be, path, false, 0);
		t_true(d.features & BLK_F_RO);
		memset(buf, 0, sizeof(buf));
		t_eq(BLK_S_IOERR, blkdrv_rw(&d, BLK_T_OUT, 0, buf, 512, NULL));
		t_eq(BLK_S_OK, blkdrv_rw(&d, BLK_T_IN, 0, buf, 512, NULL));
		blkdrv_pattern(want, 512, 0, 99);
		t_eq(0, memcmp(buf, want, 512));
		printf("read-only file disk: RO offered, write refused (IOERR), read served\n");
		blkdrv_close(&d);
		t_eq(0, vhostctl_vu_backend_stop(be));
		vhostctl_vu_backend_free(be);
	}
	unlink(file);
	unlink(path);
	t_eq(fds, t_count_fds());
	return 0;
}
