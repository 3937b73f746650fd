// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Our block backend migrated mid-I/O through our frontend: backend A serves
 * a file until the ring stops with requests in flight (some completed and
 * not yet reaped by the driver, some made available and never kicked); its
 * DEVICE_STATE (config, status and the block device's own state, version 1)
 * is saved through the frontend and loaded into backend B on the same file,
 * which takes the ring at the index A answered.  Every request completes
 * exactly once, and every block reads back through B.  Split and packed.
 * Then the refusals, each with its reason in the backend's last error and
 * the device left as it was: a newer state version, a disk of another size,
 * a truncated stream.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "vu_blkdrv.h"
#include "vu_drv.h"

#define DISK (4u << 20)
#define NREQ 8u
#define BSZ 4096u
#define SEED 11u

static void be_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (getenv("VU_DEBUG"))
		fprintf(stderr, "[be %d] %s\n", level, msg);
}

static struct vhostctl_vu_backend *blk_on(const char *file, uint64_t size, const char *sock)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, o, .path = file, .size = size,
			   .log = be_log, .log_level = 7);
	struct vhostctl_vu_backend *be = vhostctl_vu_blk_new(&o);

	t_true(be);
	t_eq(0, vhostctl_vu_backend_listen(be, sock));
	t_eq(0, vhostctl_vu_backend_start(be));
	return be;
}

/* A frontend on sock with the driver's features and memory, no ring yet. */
static struct vhostctl_dev *fe_on(const char *sock, struct blkdrv *d)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 10000);
	struct vhostctl_dev *dev = vhostctl_vu_open(sock, &o);
	uint64_t f;

	t_true(dev);
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_get_features(dev, &f));
	t_eq(d->features, f & d->features);
	t_eq(0, vhostctl_dev_set_features(dev, d->features));
	t_eq(0, vhostctl_dev_set_mem_table(dev, d->mem));
	return dev;
}

static size_t state_save(struct vhostctl_dev *dev, uint8_t *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	int fd;

	t_eq(0, vhostctl_vu_device_state(dev, 0, &fd));
	while ((r = read(fd, buf + n, size - n)) > 0)
		n += (size_t)r;
	t_eq(0, r);
	close(fd);
	t_eq(0, vhostctl_vu_check_device_state(dev));
	return n;
}

/* Load: 0 or CHECK_DEVICE_STATE's -errno. */
static int state_load(struct vhostctl_dev *dev, const uint8_t *buf, size_t len)
{
	int fd;

	t_eq(0, vhostctl_vu_device_state(dev, 1, &fd));
	t_eq((long long)len, write(fd, buf, len));
	close(fd);
	return vhostctl_vu_check_device_state(dev);
}

static void last_error(struct vhostctl_vu_backend *be, const char *want)
{
	struct vhostctl_vu_backend_stats st;

	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	if (!strstr(st.last_error, want))
		t_fail("last error \"%s\", expected \"%s\"", st.last_error, want);
}

static void migrate(const char *file, bool packed, uint8_t *state, size_t *state_len)
{
	char sa[64], sb[64];
	struct vhostctl_vu_backend *a, *b;
	struct blkdrv_opts o = { .packed = packed, .num = 64 };
	struct vhostctl_vring_addr addr = { .index = 0 };
	struct vhostctl_vu_backend_stats st;
	unsigned int done[NREQ] = { 0 }, base, n = 0, slot;
	uint8_t want[BSZ], got[BSZ];
	struct vhostctl_dev *devb;
	struct blkdrv d;
	uint32_t len;
	int r;

	snprintf(sa, sizeof(sa), "/tmp/vu_migrate_blk.%d.a", getpid());
	snprintf(sb, sizeof(sb), "/tmp/vu_migrate_blk.%d.b", getpid());
	a = blk_on(file, 0, sa);
	b = blk_on(file, 0, sb);
	if (blkdrv_open(&d, sa, &o))
		t_fail("open: %s", d.err);

	/* Half the writes served by A, not reaped; half available, never kicked. */
	for (unsigned int k = 0; k < NREQ; k++) {
		blkdrv_pattern(blkdrv_data(&d, k), BSZ, k * 16 + packed * 8, SEED);
		t_eq(0, blkdrv_submit(&d, k, BLK_T_OUT, k * 16 + packed * 8, BSZ));
		if (k == NREQ / 2 - 1) {
			blkdrv_kick(&d);
			for (int i = 0; i < 500 && blkdrv_status(&d, k) == 0xff; i++)
				usleep(10000);
			t_eq(BLK_S_OK, blkdrv_status(&d, k));
		}
	}
	for (unsigned int k = NREQ / 2; k < NREQ; k++)
		t_eq(0xff, blkdrv_status(&d, k));
	t_eq(0, vhostctl_dev_get_vring_base(d.dev, 0, &base));
	*state_len = state_save(d.dev, state, 4096);

	/* B: the state, then the ring at A's index; A's connection goes. */
	devb = fe_on(sb, &d);
	t_eq(0, state_load(devb, state, *state_len));
	if (packed) {
		addr.desc = d.ring_gpa;
		addr.avail = d.drv_evt_gpa;
		addr.used = d.dev_evt_gpa;
	} else {
		t_eq(0, vhostctl_vq_get_addr(d.vq, &addr));
	}
	t_eq(0, vhostctl_dev_set_vring_num(devb, 0, o.num));
	t_eq(0, vhostctl_dev_set_vring_base(devb, 0, base));
	t_eq(0, vhostctl_dev_set_vring_addr(devb, &addr));
	t_eq(0, vhostctl_dev_set_vring_call(devb, 0, packed ? d.call : vhostctl_vq_call_fd(d.vq)));
	t_eq(0, vhostctl_dev_set_vring_kick(devb, 0, packed ? d.kick : vhostctl_vq_kick_fd(d.vq)));
	t_eq(0, vhostctl_dev_set_vring_enable(devb, 0, 1));
	vhostctl_dev_close(d.dev);
	d.dev = devb;
	blkdrv_kick(&d);

	while (n < NREQ && (r = blkdrv_reap(&d, &slot, &len, 2000)) > 0) {
		t_true(slot < NREQ);
		if (done[slot]++)
			t_fail("slot %u completed twice", slot);
		t_eq(BLK_S_OK, blkdrv_status(&d, slot));
		n++;
	}
	t_eq(NREQ, n);
	t_eq(0, blkdrv_reap(&d, &slot, &len, 200));
	for (unsigned int k = 0; k < NREQ; k++) {
		blkdrv_pattern(want, BSZ, k * 16 + packed * 8, SEED);
		t_eq(BLK_S_OK, blkdrv_rw(&d, BLK_T_IN, k * 16 + packed * 8, got, BSZ, NULL));
		if (memcmp(want, got, BSZ))
			t_fail("block %u read back through B differs", k);
	}
	t_eq(0, vhostctl_vu_backend_stats(b, &st));
	t_eq(0, st.protocol_errors);
	printf("%s: %u writes in flight (%u done by A, unreaped; %u never kicked), state of %zu "
	       "bytes moved A -> B, ring at 0x%x: each completed once, read back through B\n",
	       packed ? "packed" : "split", NREQ, NREQ / 2, NREQ / 2, *state_len, base);
	blkdrv_close(&d);
	t_eq(0, vhostctl_vu_backend_stop(a));
	t_eq(0, vhostctl_vu_backend_stop(b));
	vhostctl_vu_backend_free(a);
	vhostctl_vu_backend_free(b);
}

int main(void)
{
	char file[64], sc[64];
	uint8_t state[4096], bad[4096];
	struct vhostctl_vu_backend *c;
	struct vhostctl_dev *devc;
	size_t len, at;
	struct blkdrv d;
	int fds = t_count_fds(), fd;

	snprintf(file, sizeof(file), "/tmp/vu_migrate_blk.%d.img", getpid());
	snprintf(sc, sizeof(sc), "/tmp/vu_migrate_blk.%d.c", getpid());
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	t_true(fd >= 0);
	t_eq(0, ftruncate(fd, DISK));
	close(fd);

	migrate(file, false, state, &len);
	migrate(file, true, state, &len);

	/* The block device's own state follows config (256 bytes) and status: version 1. */
	at = 8 + 256 + 1;
	t_eq(at + 8 + 16, len);
	memcpy(bad, state, len);
	bad[at] = 2;
	memset(&d, 0, sizeof(d));
	d.mem = vhostctl_mem_new();
	t_true(d.mem && vhostctl_mem_add_region(d.mem, 0x100000, 1 << 20, 0) == 0);
	d.features = 1ull << 32;

	c = blk_on(file, 0, sc);
	devc = fe_on(sc, &d);
	t_eq(-EIO, state_load(devc, bad, len));
	last_error(c, "version 2; this device reads versions 1 to 1");
	t_eq(-EIO, state_load(devc, state, len - 3));
	last_error(c, "device state of 16 bytes, 13 in the stream");
	t_eq(0, state_load(devc, state, len));
	printf("refused: state version 2 (device reads 1), a truncated stream; the saved one "
	       "loads\n");
	vhostctl_dev_close(devc);
	t_eq(0, vhostctl_vu_backend_stop(c));
	vhostctl_vu_backend_free(c);

	c = blk_on(NULL, DISK / 2, sc);
	devc = fe_on(sc, &d);
	t_eq(-EIO, state_load(devc, state, len));
	last_error(c, "version 1 of 16 bytes refused by the device");
	printf("refused: the state of a 4 MiB disk on a 2 MiB one\n");
	vhostctl_dev_close(devc);
	t_eq(0, vhostctl_vu_backend_stop(c));
	vhostctl_vu_backend_free(c);
	vhostctl_mem_free(d.mem);

	unlink(file);
	unlink(sc);
	t_eq(fds, t_count_fds());
	return 0;
}
