// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vu_fe_net: libvhostctl's vhost-user frontend plays a virtio-net guest
 * against a backend that loops packets back (DPDK testpmd's net_vhost in io
 * mode, or our loopback).
 *
 *   vu_fe_net SOCK [-l] [-P] [-e] [-n PACKETS] [-s SIZE] [-t SECONDS] [-q PAIRS]
 *
 * -l listens on SOCK (the backend connects), -P packed ring, -e event-idx,
 * -q queue pairs to drive (VIRTIO_NET_F_MQ when more than one).  Sends
 * PACKETS Ethernet frames per pair (broadcast destination, a sequence
 * number and the pair in the payload) on the TX queue of each pair (2k+1)
 * while keeping its RX queue (2k) filled, and checks that every one comes
 * back on the RX queue of its own pair exactly once, in order, with its
 * bytes.
 * The 12-byte virtio-net header the backend writes is not checked beyond
 * its size.  Prints the negotiated features and the counts; exit 0 when all
 * came back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "vu_drv.h"

#define HDR 12
#define F_MAC (1ull << 5)
#define F_MQ (1ull << 22)
#define MAX_PAIRS 8u

static void fe_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "[vu_fe_net %d] %s\n", level, msg);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill(uint8_t *b, unsigned int pair, unsigned long seq, unsigned int size)
{
	memset(b, 0, HDR);
	memset(b + HDR, 0xff, 6);			/* destination: broadcast */
	memcpy(b + HDR + 6, "\x02\x00\x00\x00\x00\x07", 6);	/* source */
	b[HDR + 12] = 0x88;				/* ethertype 0x88b5: local experimental */
	b[HDR + 13] = 0xb5;
	memcpy(b + HDR + 14, &seq, sizeof(seq));
	b[HDR + 14 + sizeof(seq)] = (uint8_t)pair;
	for (unsigned int i = 15 + sizeof(seq); i < size; i++)
		b[HDR + i] = (uint8_t)(seq + i + 13 * pair);
}

struct qpair {
	struct drv_q rx, tx;
	unsigned long sent, done_tx, received;
};

/* Take what came back on pair k: -1 (with a message) for a wrong packet. */
static int reap(struct qpair *qp, unsigned int k, unsigned int size, unsigned int num,
		int *progress)
{
	struct qpair *q = &qp[k];
	uint16_t id;
	uint32_t l;
	int got = 0;

	while (drv_used(&q->tx, &id, &l))
		q->done_tx++;
	while (drv_used(&q->rx, &id, &l)) {
		uint8_t want_b[HDR + 1500];
		uint8_t *b;
		unsigned long seq;

		if (id >= num) {
			fprintf(stderr, "vu_fe_net: pair %u: RX id %u out of range\n", k, id);
			return -1;
		}
		b = drv_buf(&q->rx, id);
		memcpy(&seq, b + HDR + 14, sizeof(seq));
		if (b[HDR + 14 + sizeof(seq)] != k) {
			fprintf(stderr, "vu_fe_net: pair %u: got packet %lu of pair %u\n", k, seq,
				b[HDR + 14 + sizeof(seq)]);
			return -1;
		}
		fill(want_b, k, seq, size);
		if (l != HDR + size || seq != q->received || memcmp(b + HDR, want_b + HDR, size)) {
			fprintf(stderr, "vu_fe_net: pair %u: packet %lu came back as seq %lu, "
				"%u bytes\n", k, q->received, seq, l);
			return -1;
		}
		q->received++;
		drv_add(&q->rx, id, 2048, true);
		got++;
	}
	if (got)
		drv_kick(&q->rx);
	*progress += got;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path;
	bool server = false, packed = false, event_idx = false;
	unsigned long packets = 10000, received = 0;
	unsigned int size = 64, num = 256, pairs = 1;
	double limit = 20, t0;
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	struct qpair qp[MAX_PAIRS];
	uint64_t f, want, pf = 0;
	unsigned int base;
	int c, nq;

	while ((c = getopt(argc, argv, "lPen:s:t:q:")) != -1) {
		switch (c) {
		case 'l': server = true; break;
		case 'P': packed = true; break;
		case 'e': event_idx = true; break;
		case 'n': packets = strtoul(optarg, NULL, 0); break;
		case 's': size = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': limit = strtod(optarg, NULL); break;
		case 'q': pairs = (unsigned int)strtoul(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || size < 60 || size > 1500 || !pairs || pairs > MAX_PAIRS) {
usage:
		fprintf(stderr, "usage: vu_fe_net SOCK [-l] [-P] [-e] [-n PACKETS] [-s 60..1500] "
				"[-t SECONDS] [-q 1..%u]\n", MAX_PAIRS);
		return 2;
	}
	path = argv[optind];
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .server = server, .timeout_ms = 15000,
				   .log = fe_log, .log_level = getenv("VU_DEBUG") ? 7 : 4);

		mem = vhostctl_mem_new();
		if (!mem || vhostctl_mem_add_region(mem, 0x100000, 8u * pairs << 20, 0) < 0) {
			fprintf(stderr, "vu_fe_net: guest memory: %s\n", strerror(errno));
			return 1;
		}
		memset(qp, 0, sizeof(qp));
		for (unsigned int k = 0; k < pairs; k++) {
			if (drv_q_init(&qp[k].rx, mem, num, packed, 2048) ||
			    drv_q_init(&qp[k].tx, mem, num, packed, 2048)) {
				fprintf(stderr, "vu_fe_net: rings: %s\n", strerror(errno));
				return 1;
			}
		}
		dev = vhostctl_vu_open(path, &o);
	}
	if (!dev) {
		fprintf(stderr, "vu_fe_net: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (vhostctl_dev_set_owner(dev) || vhostctl_dev_get_features(dev, &f)) {
		fprintf(stderr, "vu_fe_net: owner/features: %s\n", strerror(errno));
		return 1;
	}
	vhostctl_vu_protocol_features(dev, &pf);
	nq = vhostctl_vu_queue_count(dev);
	want = VU_F_VERSION_1 | (packed ? VU_F_RING_PACKED : 0) | (event_idx ? VU_F_EVENT_IDX : 0) |
	       (f & (1ull << 30)) | (f & F_MAC) | (pairs > 1 ? F_MQ : 0);
	printf("backend offers features 0x%llx, protocol features 0x%llx, %d queues; "
	       "acking 0x%llx\n", (unsigned long long)f, (unsigned long long)pf, nq,
	       (unsigned long long)want);
	if ((f & want) != want) {
		fprintf(stderr, "vu_fe_net: backend lacks 0x%llx\n", (unsigned long long)(want & ~f));
		return 1;
	}
	if (nq < 0 || (unsigned int)nq < 2 * pairs) {
		fprintf(stderr, "vu_fe_net: backend has %d queues, %u pairs wanted\n", nq, pairs);
		return 1;
	}
	if (vhostctl_dev_set_features(dev, want) || vhostctl_dev_set_mem_table(dev, mem)) {
		fprintf(stderr, "vu_fe_net: device setup: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned int k = 0; k < pairs; k++) {
		if (drv_setup(dev, 2 * k, &qp[k].rx) || drv_setup(dev, 2 * k + 1, &qp[k].tx)) {
			fprintf(stderr, "vu_fe_net: ring setup, pair %u: %s\n", k, strerror(errno));
			return 1;
		}
	}
	if (pf & (1ull << VHOSTCTL_VU_PF_STATUS))
		vhostctl_dev_set_status(dev, 0xf);	/* ACKNOWLEDGE DRIVER DRIVER_OK FEATURES_OK */
	for (unsigned int k = 0; k < pairs; k++) {
		for (uint16_t i = 0; i < num; i++)
			drv_add(&qp[k].rx, i, 2048, true);
		drv_kick(&qp[k].rx);
	}
	t0 = now();
	while (received < packets * pairs) {
		int progress = 0;
		bool idle = true;

		if (now() - t0 > limit) {
			fprintf(stderr, "vu_fe_net: time limit: received %lu of %lu\n", received,
				packets * pairs);
			for (unsigned int k = 0; k < pairs; k++)
				fprintf(stderr, "vu_fe_net: pair %u: sent %lu, received %lu\n", k,
					qp[k].sent, qp[k].received);
			return 1;
		}
		for (unsigned int k = 0; k < pairs; k++) {
			struct qpair *q = &qp[k];
			int added = 0;

			/* At most 64 in flight per pair: a forwarder's RX ring is small. */
			while (q->sent < packets && q->sent - q->received < 64 &&
			       q->sent - q->done_tx < num) {
				uint16_t slot = (uint16_t)(q->sent % num);

				fill(drv_buf(&q->tx, slot), k, q->sent, size);
				drv_add(&q->tx, slot, HDR + size, false);
				q->sent++;
				added++;
			}
			if (added)
				drv_kick(&q->tx);
		}
		for (unsigned int k = 0; k < pairs; k++) {
			int got = 0;

			if (reap(qp, k, size, num, &got))
				return 1;
			received += (unsigned long)got;
			progress += got;
			idle &= qp[k].sent == qp[k].received || qp[k].sent - qp[k].done_tx >= num;
		}
		if (progress)
			continue;
		if (idle)
			drv_wait(&qp[0].rx, 10);
		else
			usleep(50);
	}
	t0 = now() - t0;
	for (unsigned int k = 0; k < pairs; k++) {
		if (vhostctl_dev_get_vring_base(dev, 2 * k + 1, &base) ||
		    vhostctl_dev_get_vring_base(dev, 2 * k, &base)) {
			fprintf(stderr, "vu_fe_net: GET_VRING_BASE: %s\n", strerror(errno));
			return 1;
		}
		if (pairs > 1)
			printf("pair %u: sent %lu, received %lu back in order with their bytes\n",
			       k, qp[k].sent, qp[k].received);
	}
	printf("%s ring: sent %lu, received %lu back in order with their bytes, %.3f s (%.0f pps)\n",
	       packed ? "packed" : "split", packets * pairs, received, t0, received / t0);
	vhostctl_dev_close(dev);
	for (unsigned int k = 0; k < pairs; k++) {
		drv_q_fini(&qp[k].rx);
		drv_q_fini(&qp[k].tx);
	}
	vhostctl_mem_free(mem);
	return 0;
}
