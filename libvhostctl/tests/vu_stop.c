// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A ring stopped (GET_VRING_BASE) while the device holds requests it
 * popped, then started again from the index it answered: every request
 * completes exactly once.  The device here is a block device on the generic
 * backend that holds every write until the ring stops; its stop callback
 * either completes them (the answer comes after their used entries) or
 * gives them back (the driver sees none complete before the restart, and
 * all after it).  Split and packed, with and without an inflight region.
 * The device counts how often it executes each request: 1 each, with the
 * data read back through the ring.  A device without a stop callback and
 * without an inflight region is reported: the requests it holds are lost.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "vu_blkdrv.h"
#include "vu_drv.h"

#define DISK (1u << 20)
#define NREQ 8u
#define BSZ 4096u
#define SEED 5u

enum { STOP_COMPLETE, STOP_GIVE_BACK, STOP_NONE };

struct holder {
	uint8_t *disk;
	bool pass;		/* complete at once instead of holding */
	int on_stop;
	unsigned int nheld;	/* read by the test thread: atomics */
	struct {
		struct vhostctl_devq_elem e;
		struct iovec iov[4];
	} held[NREQ];
	unsigned int exec[NREQ];	/* writes executed, per slot (sector / 8) */
	unsigned int stops;
};

static void be_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (getenv("VU_DEBUG"))
		fprintf(stderr, "[be %d] %s\n", level, msg);
}

/* Execute one request on the RAM disk; the status byte goes last. */
static uint32_t execute(struct holder *h, const struct vhostctl_devq_elem *e)
{
	struct { uint32_t type, ioprio; uint64_t sector; } hd;
	uint32_t written = 0;
	uint8_t st = BLK_S_OK;
	uint64_t off, len;

	if (vhostctl_devq_copy_from(e, 0, &hd, sizeof(hd)) != sizeof(hd) || hd.sector >= DISK / 512)
		st = BLK_S_IOERR;
	off = hd.sector * 512;
	if (st == BLK_S_OK && hd.type == BLK_T_OUT) {
		len = e->out_len - sizeof(hd);
		if (len > DISK - off)
			st = BLK_S_IOERR;
		else
			vhostctl_devq_copy_from(e, sizeof(hd), h->disk + off, len);
		if (hd.sector / 8 < NREQ)
			h->exec[hd.sector / 8]++;
	} else if (st == BLK_S_OK && hd.type == BLK_T_IN) {
		len = e->in_len - 1;
		if (len > DISK - off)
			st = BLK_S_IOERR;
		else
			written = (uint32_t)vhostctl_devq_copy_to(e, 0, h->disk + off, len);
	} else if (st == BLK_S_OK) {
		st = BLK_S_UNSUPP;
	}
	vhostctl_devq_copy_to(e, e->in_len - 1, &st, 1);
	return written + 1;
}

static int hold_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		      void *ctx)
{
	struct holder *h = ctx;
	int r = 0;

	(void)be;
	(void)index;
	for (;;) {
		unsigned int k = __atomic_load_n(&h->nheld, __ATOMIC_RELAXED);
		struct vhostctl_devq_elem e;
		struct iovec iov[4];

		if (h->pass) {
			r = vhostctl_devq_pop(q, &e, iov, 4);
			if (r <= 0)
				break;
			r = vhostctl_devq_push(q, &e, execute(h, &e));
		} else {
			if (k == NREQ)
				break;
			r = vhostctl_devq_pop(q, &h->held[k].e, h->held[k].iov, 4);
			if (r <= 0)
				break;
			__atomic_store_n(&h->nheld, k + 1, __ATOMIC_RELEASE);
		}
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return vhostctl_devq_flush(q) < 0 ? -EIO : 0;
}

static void hold_stop(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		      void *ctx)
{
	struct holder *h = ctx;
	unsigned int n = __atomic_load_n(&h->nheld, __ATOMIC_RELAXED);

	(void)be;
	(void)index;
	h->stops++;
	if (h->on_stop == STOP_NONE)
		return;
	/* Given back most recent first: the index goes back over each. */
	for (unsigned int i = n; i-- > 0;) {
		struct vhostctl_devq_elem *e = &h->held[i].e;

		if (h->on_stop == STOP_COMPLETE)
			t_eq(0, vhostctl_devq_push(q, e, execute(h, e)));
		else
			t_eq(0, vhostctl_devq_unpop(q, e));
	}
	__atomic_store_n(&h->nheld, 0, __ATOMIC_RELEASE);
}

/* Reap what completes within ms; each slot may complete once. */
static unsigned int reap(struct blkdrv *d, unsigned int *done, int ms)
{
	unsigned int slot, n = 0;
	uint32_t len;
	int r;

	while ((r = blkdrv_reap(d, &slot, &len, ms)) > 0) {
		t_true(slot < NREQ);
		if (done[slot]++)
			t_fail("slot %u completed twice", slot);
		t_eq(BLK_S_OK, blkdrv_status(d, slot));
		n++;
		ms = 50;
	}
	if (r < 0)
		t_fail("reap: %s", strerror(-r));
	return n;
}

static void run(bool packed, bool inflight, int on_stop)
{
	static const char *const how[] = { "completes", "gives back", "no stop callback" };
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo, .num_queues = 1,
			   .features = BLK_F_FLUSH, .log = be_log, .log_level = 7);
	struct blkdrv_opts o = { .packed = packed, .inflight = inflight, .num = 64 };
	struct vhostctl_vu_backend_stats st;
	struct vhostctl_vu_backend *be;
	unsigned int done[NREQ] = { 0 }, base, n;
	struct holder *h = calloc(1, sizeof(*h));
	uint8_t want[BSZ], got[BSZ];
	uint64_t cap = DISK / 512;
	uint8_t config[60] = { 0 };
	struct blkdrv d;
	char path[64];
	int kick;

	t_true(h);
	h->disk = calloc(1, DISK);
	h->on_stop = on_stop;
	t_true(h->disk);
	memcpy(config, &cap, 8);
	bo.config = config;
	bo.config_len = sizeof(config);
	bo.queue = hold_queue;
	bo.stop = on_stop == STOP_NONE ? NULL : hold_stop;
	bo.ctx = h;
	be = vhostctl_vu_backend_new(&bo);
	if (!be)
		t_fail("vhostctl_vu_backend_new: %s", strerror(errno));
	snprintf(path, sizeof(path), "/tmp/vu_stop.%d.sock", getpid());
	t_eq(0, vhostctl_vu_backend_listen(be, path));
	t_eq(0, vhostctl_vu_backend_start(be));
	if (blkdrv_open(&d, path, &o))
		t_fail("open: %s", d.err);

	/* NREQ writes in flight, all popped and held by the device. */
	for (unsigned int k = 0; k < NREQ; k++) {
		blkdrv_pattern(blkdrv_data(&d, k), BSZ, k * 8, SEED);
		t_eq(0, blkdrv_submit(&d, k, BLK_T_OUT, k * 8, BSZ));
	}
	blkdrv_kick(&d);
	for (int i = 0; i < 500 && __atomic_load_n(&h->nheld, __ATOMIC_ACQUIRE) < NREQ; i++)
		usleep(10000);
	t_eq(NREQ, __atomic_load_n(&h->nheld, __ATOMIC_ACQUIRE));
	t_eq(0, reap(&d, done, 50));

	/* Stop: completed buffers are used before the answer, given-back ones are not. */
	t_eq(0, vhostctl_dev_get_vring_base(d.dev, 0, &base));
	t_eq(on_stop == STOP_NONE ? 0 : 1, h->stops);
	n = reap(&d, done, 0);
	if (on_stop == STOP_COMPLETE)
		t_eq(NREQ, n);
	else
		t_eq(0, n);
	if (on_stop == STOP_NONE) {
		t_eq(0, vhostctl_vu_backend_stats(be, &st));
		t_eq(1, st.protocol_errors);
		t_true(strstr(st.last_error, "8 buffers the device holds and no inflight region"));
		printf("%s, no inflight region, no stop callback: 8 held requests reported lost: "
		       "\"%s\"\n", packed ? "packed" : "split", st.last_error);
		goto out;
	}

	/* Start again from that index; the device now completes at once. */
	h->pass = true;
	kick = packed ? d.kick : vhostctl_vq_kick_fd(d.vq);
	t_eq(0, vhostctl_dev_set_vring_base(d.dev, 0, base));
	t_eq(0, vhostctl_dev_set_vring_kick(d.dev, 0, kick));
	blkdrv_kick(&d);
	if (n < NREQ)
		n += reap(&d, done, 2000);
	/* A request completed twice would show here (or fail reap()). */
	n += reap(&d, done, 200);
	t_eq(NREQ, n);
	for (unsigned int k = 0; k < NREQ; k++) {
		t_eq(1, done[k]);
		t_eq(1, h->exec[k]);
	}

	/* The data, read back through the ring. */
	for (unsigned int k = 0; k < NREQ; k++) {
		blkdrv_pattern(want, BSZ, k * 8, SEED);
		t_eq(BLK_S_OK, blkdrv_rw(&d, BLK_T_IN, k * 8, got, BSZ, NULL));
		if (memcmp(want, got, BSZ))
			t_fail("slot %u: data read back differs", k);
	}
	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	t_eq(0, st.protocol_errors);
	printf("%s, %s inflight region, stop callback %s: %u held writes completed once each "
	       "(%s the restart at base 0x%x), read back\n", packed ? "packed" : "split",
	       inflight ? "with an" : "no", how[on_stop], NREQ,
	       on_stop == STOP_COMPLETE ? "before" : "after", base);
out:
	blkdrv_close(&d);
	t_eq(0, vhostctl_vu_backend_stop(be));
	vhostctl_vu_backend_free(be);
	unlink(path);
	free(h->disk);
	free(h);
}

int main(void)
{
	int fds = t_count_fds();

	for (int packed = 0; packed < 2; packed++) {
		for (int inflight = 0; inflight < 2; inflight++) {
			run(packed, inflight, STOP_COMPLETE);
			run(packed, inflight, STOP_GIVE_BACK);
		}
		run(packed, false, STOP_NONE);
	}
	t_eq(fds, t_count_fds());
	return 0;
}
