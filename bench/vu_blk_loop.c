// SPDX-License-Identifier: GPL-2.0-only
/*
 * 4 KiB block requests per second through our vhost-user block device,
 * driven by our own frontend: the same device that bench/vduse_blk.sh
 * serves over VDUSE to the kernel's virtio_blk, here served over
 * vhost-user to a userspace driver (libvhostctl/tests/vu_blkdrv.h), one
 * request at a time as dd with O_DIRECT issues them.  COUNT writes of a
 * pattern, then COUNT reads, each read checked against what was written.
 *
 *   vu_blk_loop COUNT
 *
 * Prints "write N IOPS" and "read N IOPS", one line each.  Exit status 0
 * when every request succeeded and every block read back intact.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "vu_drv.h"
#include "vu_blkdrv.h"

#define BS 4096u
#define DISK (64ull << 20)

static int usage(void)
{
	fprintf(stderr, "usage: vu_blk_loop COUNT (at most %llu)\n", DISK / BS);
	return 2;
}

/* COUNT requests of type, one at a time; requests per second, or -1. */
static double run(struct blkdrv *d, uint32_t type, unsigned long count)
{
	uint8_t want[BS], got[BS];
	double t0 = bench_now();
	int r;

	for (unsigned long i = 0; i < count; i++) {
		uint64_t sector = i * (BS / 512);

		if (type == BLK_T_OUT)
			blkdrv_pattern(want, BS, sector, 7);
		r = blkdrv_rw(d, type, sector, type == BLK_T_OUT ? want : got, BS, NULL);
		if (r < 0 || r != BLK_S_OK) {
			fprintf(stderr, "vu_blk_loop: request %lu: %s\n", i,
				r < 0 ? d->err : "status not OK");
			return -1;
		}
		if (type == BLK_T_IN) {
			blkdrv_pattern(want, BS, sector, 7);
			if (memcmp(want, got, BS)) {
				fprintf(stderr, "vu_blk_loop: block %lu read back wrong\n", i);
				return -1;
			}
		}
	}
	return count / (bench_now() - t0);
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, o, .size = DISK);
	struct blkdrv_opts bo = { 0 };
	struct vhostctl_vu_backend *be;
	struct blkdrv d = { 0 };
	unsigned long count;
	double w, rd;
	char path[64], *end;

	if (argc != 2)
		return usage();
	count = strtoul(argv[1], &end, 10);
	if (*end || !count || count > DISK / BS)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "/tmp/vu_blk_loop.%d.sock", getpid());
	be = vhostctl_vu_blk_new(&o);
	if (!be || vhostctl_vu_backend_listen(be, path) || vhostctl_vu_backend_start(be)) {
		perror("vu_blk_loop: backend");
		return 1;
	}
	if (blkdrv_open(&d, path, &bo)) {
		fprintf(stderr, "vu_blk_loop: %s\n", d.err);
		return 1;
	}
	w = run(&d, BLK_T_OUT, count);
	rd = w < 0 ? -1 : run(&d, BLK_T_IN, count);
	blkdrv_close(&d);
	vhostctl_vu_backend_free(be);
	unlink(path);
	if (w < 0 || rd < 0)
		return 1;
	printf("write %.0f IOPS\nread %.0f IOPS\n", w, rd);
	return 0;
}
