// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vu_fe_blk: libvhostctl's vhost-user frontend plays a virtio-blk guest
 * against a block backend (qemu-storage-daemon's vhost-user-blk export, or
 * ours).
 *
 *   vu_fe_blk SOCK [-l] [-n COUNT] [-b BYTES] [-q DEPTH] [-i IMAGE]
 *
 * -l listens on SOCK.  Writes COUNT blocks of BYTES spread over the disk
 * (DEPTH in flight), FLUSHes, reads them back and compares, asks GET_ID,
 * and checks that reads past the end fail with IOERR.  With -i, the image
 * file the backend serves is read afterwards and must hold the same blocks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vu_blkdrv.h"

static void fe_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "[vu_fe_blk %d] %s\n", level, msg);
}

int main(int argc, char **argv)
{
	struct blkdrv_opts bo = { .log = fe_log };
	struct blkdrv d;
	unsigned int count = 200, depth = 16;
	uint32_t bsz = 4096;
	const char *image = NULL;
	char id[21];
	int c;

	while ((c = getopt(argc, argv, "ln:b:q:i:")) != -1) {
		switch (c) {
		case 'l': bo.server = true; break;
		case 'n': count = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'b': bsz = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': depth = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'i': image = optarg; break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || !depth || depth > 32) {
usage:
		fprintf(stderr, "usage: vu_fe_blk SOCK [-l] [-n COUNT] [-b BYTES] [-q DEPTH<=32] [-i IMAGE]\n");
		return 2;
	}
	if (blkdrv_open(&d, argv[optind], &bo)) {
		fprintf(stderr, "vu_fe_blk: %s\n", d.err);
		blkdrv_close(&d);
		return 1;
	}
	printf("features 0x%llx acked, protocol features 0x%llx, capacity %llu sectors\n",
	       (unsigned long long)d.features, (unsigned long long)d.proto,
	       (unsigned long long)d.capacity);
	if (blkdrv_exercise(&d, count, bsz, depth, 0x5a, id)) {
		fprintf(stderr, "vu_fe_blk: %s\n", d.err);
		blkdrv_close(&d);
		return 1;
	}
	printf("wrote %u blocks of %u bytes (%u in flight), flushed, read back identical; "
	       "GET_ID \"%s\"; reads past the end: IOERR\n", count, bsz, depth, id);
	blkdrv_close(&d);
	if (image) {
		uint64_t span = d.capacity - bsz / 512;
		uint8_t got[BLKDRV_SLOT_DATA], want[BLKDRV_SLOT_DATA];
		int fd = open(image, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(image);
			return 1;
		}
		for (unsigned int k = 0; k < count; k++) {
			uint64_t sector = count > 1 ? span * k / (count - 1) : 0;

			sector -= sector % (bsz / 512);
			if (k == count - 1)
				sector = span;
			blkdrv_pattern(want, bsz, sector, 0x5a);
			if (pread(fd, got, bsz, (off_t)(sector * 512)) != (ssize_t)bsz ||
			    memcmp(got, want, bsz)) {
				fprintf(stderr, "vu_fe_blk: %s: block at sector %llu differs\n", image,
					(unsigned long long)sector);
				close(fd);
				return 1;
			}
		}
		close(fd);
		printf("image file holds all %u blocks\n", count);
	}
	return 0;
}
