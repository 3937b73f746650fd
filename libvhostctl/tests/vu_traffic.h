/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Our vhost-user frontend against our net loopback backend over a real Unix
 * socket: set the device up through the generic device calls, push packets
 * on TX, check each comes back on RX with its bytes, and time it.
 */
#ifndef VU_TRAFFIC_H
#define VU_TRAFFIC_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vhostctl/vhostctl.h>

#include "vu_drv.h"

struct traffic {
	bool packed;
	bool server;		/* frontend listens, backend connects */
	bool event_idx;
	bool serving;		/* the backend already listens in its thread */
	unsigned int num;	/* ring size */
	unsigned long packets;
	unsigned int size;	/* payload bytes after the 12-byte header */
	const char *path;
	/* results */
	double seconds;
	unsigned long received;
	char err[160];
};

static void tr_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "[%s %d] %s\n", ctx ? (const char *)ctx : "lib", level, msg);
}

#define TR_FAIL(...) do { snprintf(t->err, sizeof(t->err), __VA_ARGS__); goto out; } while (0)

static inline double tr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run one traffic session; 0 on success, else -1 with t->err. */
static inline int traffic_run(struct traffic *t, struct vhostctl_vu_backend *be)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .server = t->server, .timeout_ms = 5000,
			   .log = getenv("VU_DEBUG") ? tr_log : NULL, .log_ctx = (void *)"fe", .log_level = 7);
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_dev *dev = NULL;
	struct drv_q rx, tx;
	struct drv_connector c = { .be = be, .path = t->path };
	pthread_t th;
	bool thread = false;
	unsigned long sent = 0, done_tx = 0;
	uint32_t len = 12 + t->size;
	uint64_t f, want;
	unsigned int base;
	int ret = -1;
	double t0;

	t->err[0] = 0;
	t->received = 0;
	if (!mem || vhostctl_mem_add_region(mem, 0x100000, 16 << 20, 0) < 0)
		TR_FAIL("guest memory: %s", strerror(errno));
	if (drv_q_init(&rx, mem, t->num, t->packed, 2048) || drv_q_init(&tx, mem, t->num, t->packed, 2048))
		TR_FAIL("rings: out of guest memory");
	if (t->server) {
		pthread_create(&th, NULL, drv_connect_later, &c);
		thread = true;
	} else if (!t->serving &&
		   (vhostctl_vu_backend_listen(be, t->path) || vhostctl_vu_backend_start(be))) {
		TR_FAIL("backend: %s", strerror(errno));
	}
	dev = vhostctl_vu_open(t->path, &o);
	if (!dev)
		TR_FAIL("vhostctl_vu_open: %s", strerror(errno));
	if (thread) {
		pthread_join(th, NULL);
		thread = false;
		if (c.r)
			TR_FAIL("backend connect: %s", strerror(-c.r));
	}
	if (vhostctl_dev_set_owner(dev) || vhostctl_dev_get_features(dev, &f))
		TR_FAIL("owner/features: %s", strerror(errno));
	want = VU_F_VERSION_1 | (1ull << 5) | (t->packed ? VU_F_RING_PACKED : 0) |
	       (t->event_idx ? VU_F_EVENT_IDX : 0);
	if ((f & want) != want)
		TR_FAIL("backend lacks features 0x%llx", (unsigned long long)(want & ~f));
	if (vhostctl_dev_set_features(dev, want) || vhostctl_dev_set_mem_table(dev, mem))
		TR_FAIL("features/mem table: %s", strerror(errno));
	if (drv_setup(dev, 0, &rx) || drv_setup(dev, 1, &tx))
		TR_FAIL("ring setup: %s", strerror(errno));
	/* Fill RX. */
	for (uint16_t i = 0; i < t->num; i++)
		drv_add(&rx, i, 2048, true);
	drv_kick(&rx);
	t0 = tr_now();
	while (t->received < t->packets) {
		uint16_t id;
		uint32_t l;
		int progress = 0;

		/* Transmit while TX has room. */
		while (sent < t->packets && sent - done_tx < t->num) {
			uint16_t slot = (uint16_t)(sent % t->num);
			uint8_t *b = drv_buf(&tx, slot);

			memset(b, 0, 12);
			memcpy(b + 12, &sent, sizeof(sent));
			if (t->size > sizeof(sent))
				memset(b + 12 + sizeof(sent), (int)(sent & 0xff), t->size - sizeof(sent));
			drv_add(&tx, slot, len, false);
			sent++;
			progress++;
		}
		if (progress)
			drv_kick(&tx);
		while (drv_used(&tx, &id, &l))
			done_tx++;
		progress = 0;
		while (drv_used(&rx, &id, &l)) {
			uint8_t *b = drv_buf(&rx, id);
			unsigned long seq;

			memcpy(&seq, b + 12, sizeof(seq));
			if (l != len || seq != t->received || b[10] != 1 ||
			    (t->size > 8 && b[12 + t->size - 1] != (uint8_t)(seq & 0xff)))
				TR_FAIL("packet %lu came back as seq %lu len %u", t->received, seq, l);
			t->received++;
			drv_add(&rx, id, 2048, true);
			progress++;
		}
		if (progress)
			drv_kick(&rx);
		else if (drv_wait(&rx, 10000) == 0)
			/* A lost wakeup stalls for ever; a loaded machine only for a while. */
			TR_FAIL("no traffic for 10 s after %lu packets", t->received);
	}
	t->seconds = tr_now() - t0;
	/* Stop both rings: the backend reports where it stopped. */
	if (vhostctl_dev_get_vring_base(dev, 1, &base))
		TR_FAIL("GET_VRING_BASE: %s", strerror(errno));
	if (!t->packed && base != (uint16_t)sent)
		TR_FAIL("TX base %u after %lu packets", base, sent);
	if (vhostctl_dev_get_vring_base(dev, 0, &base))
		TR_FAIL("GET_VRING_BASE: %s", strerror(errno));
	ret = 0;
out:
	if (thread)
		pthread_join(th, NULL);
	vhostctl_dev_close(dev);
	vhostctl_vu_backend_stop(be);
	drv_q_fini(&rx);
	drv_q_fini(&tx);
	vhostctl_mem_free(mem);
	return ret;
}

#endif
