// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A vhost-user frontend to a block backend, as a VMM drives one, with the
 * public libvhostctl API only: connect, set the device up with
 * vhostctl_dev_setup() on memfd guest memory, read the capacity from the
 * config space, then act as the guest's virtio-blk driver: write a pattern
 * to sectors spread over the disk and read each one back.
 *
 *   vu_blk_frontend [SOCKET]
 *
 * SOCKET is the Unix socket of a vhost-user-blk backend (qemu-storage-daemon,
 * "vhostctl user serve blk ...").  Without it, the program serves a 4 MiB
 * RAM disk itself with vhostctl_vu_blk_new() in a thread of the library,
 * on a socket in /tmp.  Needs no kernel: everything runs in userspace.
 *
 * Exit status 0 when every sector read back what was written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#define QUEUE_SIZE 16
#define SECTOR 512
#define NSECTORS 8		/* sectors per request */
#define BLK_T_IN 0		/* virtio-blk request types */
#define BLK_T_OUT 1
#define BLK_S_OK 0

/* The request header the driver puts first in every chain. */
struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "libvhostctl: %s\n", msg);
}

/* One request: header, data (read or written by the device), status. */
static int blk_io(struct vhostctl_vq *vq, struct vhostctl_mem *mem, uint32_t type,
		  uint64_t sector, void *data, uint64_t data_gpa)
{
	struct vhostctl_vq_buf b[3];
	struct blk_req_hdr *hdr;
	uint64_t hdr_gpa, st_gpa;
	uint8_t *status;
	uint32_t len;
	void *tok;
	int r;

	hdr = vhostctl_mem_alloc(mem, sizeof(*hdr), 16, &hdr_gpa);
	status = vhostctl_mem_alloc(mem, 1, 1, &st_gpa);
	if (!hdr || !status)
		return -ENOMEM;
	/* virtio is little-endian, as is every host this example builds on */
	*hdr = (struct blk_req_hdr){ .type = type, .sector = sector };
	*status = 0xff;
	b[0] = (struct vhostctl_vq_buf){ hdr_gpa, sizeof(*hdr) };
	b[1] = (struct vhostctl_vq_buf){ data_gpa, NSECTORS * SECTOR };
	b[2] = (struct vhostctl_vq_buf){ st_gpa, 1 };
	/* OUT: header and data readable, status writable; IN: data writable too */
	r = vhostctl_vq_add(vq, b, type == BLK_T_OUT ? 2 : 1, type == BLK_T_OUT ? 1 : 2, data, 0);
	if (r)
		return r;
	r = vhostctl_vq_kick(vq);
	if (r < 0)
		return r;
	r = vhostctl_vq_wait(vq, 5000);
	if (r)
		return r;
	if (vhostctl_vq_get_used(vq, &len, &tok) != 1 || tok != data)
		return -EIO;
	return *status == BLK_S_OK ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, uopts, .log = log_line);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, sopts, .nqueues = 1,
			   .queue_size = QUEUE_SIZE,
			   .required = 1ULL << VHOSTCTL_F_VERSION_1);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, bopts, .log = log_line,
			   .size = 4 << 20, .num_queues = 1);
	struct vhostctl_vu_backend *be = NULL;
	struct vhostctl_vq *vq[1] = { NULL };
	uint64_t capacity = 0, step;
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	char path[64];
	int ok = 0, n = 0, r;

	if (argc > 1) {
		snprintf(path, sizeof(path), "%s", argv[1]);
	} else {
		/* Our own backend: a RAM disk served from a library thread. */
		snprintf(path, sizeof(path), "/tmp/vu_blk_frontend.%d.sock", (int)getpid());
		be = vhostctl_vu_blk_new(&bopts);
		if (!be || vhostctl_vu_backend_listen(be, path) || vhostctl_vu_backend_start(be)) {
			perror("block backend");
			return 1;
		}
	}

	/* Guest memory: 2 MiB of memfd at guest physical 1 MiB, shared with the backend. */
	mem = vhostctl_mem_new();
	if (!mem || vhostctl_mem_add_region(mem, 1 << 20, 2 << 20, 0) < 0) {
		perror("guest memory");
		return 1;
	}
	dev = vhostctl_vu_open(path, &uopts);
	if (!dev) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	r = vhostctl_dev_setup(dev, mem, vq, &sopts, NULL);
	if (r) {
		fprintf(stderr, "setup failed at %s: %s\n", vhostctl_dev_setup_step(dev),
			strerror(-r));
		return 1;
	}
	/* The capacity, in 512-byte sectors, is the first field of the config space. */
	r = vhostctl_dev_get_config(dev, 0, &capacity, sizeof(capacity));
	if (r || capacity < NSECTORS) {
		fprintf(stderr, "capacity: %s\n", r ? strerror(-r) : "too small");
		return 1;
	}
	printf("%s: %llu sectors\n", path, (unsigned long long)capacity);

	/* Eight requests spread from the first sector to the last ones. */
	step = (capacity - NSECTORS) / 7;
	for (uint64_t sector = 0; n < 8; sector += step, n++) {
		uint64_t wgpa, rgpa;
		uint8_t *w = vhostctl_mem_alloc(mem, NSECTORS * SECTOR, 4096, &wgpa);
		uint8_t *rd = vhostctl_mem_alloc(mem, NSECTORS * SECTOR, 4096, &rgpa);

		if (!w || !rd)
			break;
		for (unsigned int i = 0; i < NSECTORS * SECTOR; i++)
			w[i] = (uint8_t)(sector * 7 + i * 13 + 1);
		memset(rd, 0, NSECTORS * SECTOR);
		r = blk_io(vq[0], mem, BLK_T_OUT, sector, w, wgpa);
		if (!r)
			r = blk_io(vq[0], mem, BLK_T_IN, sector, rd, rgpa);
		if (r) {
			fprintf(stderr, "sector %llu: %s\n", (unsigned long long)sector,
				strerror(-r));
			break;
		}
		if (!memcmp(w, rd, NSECTORS * SECTOR))
			ok++;
	}
	printf("%d of 8 requests read back what was written\n", ok);

	vhostctl_dev_teardown(dev, vq, 1);
	vhostctl_dev_close(dev);
	vhostctl_mem_free(mem);
	if (be) {
		vhostctl_vu_backend_free(be);
		unlink(path);
	}
	return ok == 8 ? 0 : 1;
}
