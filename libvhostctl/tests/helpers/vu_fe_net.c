// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vu_fe_net: libvhostctl's vhost-user frontend plays a virtio-net guest
 * against a backend that loops packets back (DPDK testpmd's net_vhost in io
 * mode, or our loopback).
 *
 *   vu_fe_net SOCK [-l] [-P] [-e] [-n PACKETS] [-s SIZE] [-t SECONDS]
 *
 * -l listens on SOCK (the backend connects), -P packed ring, -e event-idx.
 * Sends PACKETS Ethernet frames (broadcast destination, a sequence number
 * in the payload) on TX queue 1 while keeping RX queue 0 filled, and checks
 * that every one comes back on RX exactly once, in order, with its bytes.
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

static void fill(uint8_t *b, unsigned long seq, unsigned int size)
{
	memset(b, 0, HDR);
	memset(b + HDR, 0xff, 6);			/* destination: broadcast */
	memcpy(b + HDR + 6, "\x02\x00\x00\x00\x00\x07", 6);	/* source */
	b[HDR + 12] = 0x88;				/* ethertype 0x88b5: local experimental */
	b[HDR + 13] = 0xb5;
	memcpy(b + HDR + 14, &seq, sizeof(seq));
	for (unsigned int i = 14 + sizeof(seq); i < size; i++)
		b[HDR + i] = (uint8_t)(seq + i);
}

int main(int argc, char **argv)
{
	const char *path;
	bool server = false, packed = false, event_idx = false;
	unsigned long packets = 10000, sent = 0, done_tx = 0, received = 0;
	unsigned int size = 64, num = 256;
	double limit = 20, t0;
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	struct drv_q rx, tx;
	uint64_t f, want, pf = 0;
	unsigned int base;
	int c;

	while ((c = getopt(argc, argv, "lPen:s:t:")) != -1) {
		switch (c) {
		case 'l': server = true; break;
		case 'P': packed = true; break;
		case 'e': event_idx = true; break;
		case 'n': packets = strtoul(optarg, NULL, 0); break;
		case 's': size = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': limit = strtod(optarg, NULL); break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || size < 60 || size > 1500) {
usage:
		fprintf(stderr, "usage: vu_fe_net SOCK [-l] [-P] [-e] [-n PACKETS] [-s 60..1500] [-t SECONDS]\n");
		return 2;
	}
	path = argv[optind];
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .server = server, .timeout_ms = 15000,
				   .log = fe_log, .log_level = getenv("VU_DEBUG") ? 7 : 4);

		mem = vhostctl_mem_new();
		if (!mem || vhostctl_mem_add_region(mem, 0x100000, 16 << 20, 0) < 0 ||
		    drv_q_init(&rx, mem, num, packed, 2048) || drv_q_init(&tx, mem, num, packed, 2048)) {
			fprintf(stderr, "vu_fe_net: guest memory: %s\n", strerror(errno));
			return 1;
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
	want = VU_F_VERSION_1 | (packed ? VU_F_RING_PACKED : 0) | (event_idx ? VU_F_EVENT_IDX : 0) |
	       (f & (1ull << 30)) | (f & F_MAC);
	printf("backend offers features 0x%llx, protocol features 0x%llx; acking 0x%llx\n",
	       (unsigned long long)f, (unsigned long long)pf, (unsigned long long)want);
	if ((f & want) != want) {
		fprintf(stderr, "vu_fe_net: backend lacks 0x%llx\n", (unsigned long long)(want & ~f));
		return 1;
	}
	if (vhostctl_dev_set_features(dev, want) || vhostctl_dev_set_mem_table(dev, mem) ||
	    drv_setup(dev, 0, &rx) || drv_setup(dev, 1, &tx)) {
		fprintf(stderr, "vu_fe_net: device setup: %s\n", strerror(errno));
		return 1;
	}
	if (pf & (1ull << VHOSTCTL_VU_PF_STATUS))
		vhostctl_dev_set_status(dev, 0xf);	/* ACKNOWLEDGE DRIVER DRIVER_OK FEATURES_OK */
	for (uint16_t i = 0; i < num; i++)
		drv_add(&rx, i, 2048, true);
	drv_kick(&rx);
	t0 = now();
	while (received < packets) {
		uint16_t id;
		uint32_t l;
		int progress = 0;

		if (now() - t0 > limit) {
			fprintf(stderr, "vu_fe_net: time limit: sent %lu, received %lu\n", sent, received);
			return 1;
		}
		/* At most 64 in flight: a forwarder's RX ring is small. */
		while (sent < packets && sent - received < 64 && sent - done_tx < num) {
			uint16_t slot = (uint16_t)(sent % num);

			fill(drv_buf(&tx, slot), sent, size);
			drv_add(&tx, slot, HDR + size, false);
			sent++;
			progress++;
		}
		if (progress)
			drv_kick(&tx);
		while (drv_used(&tx, &id, &l))
			done_tx++;
		progress = 0;
		while (drv_used(&rx, &id, &l)) {
			uint8_t want_b[HDR + 1500];
			uint8_t *b = drv_buf(&rx, id);
			unsigned long seq;

			if (id >= num) {
				fprintf(stderr, "vu_fe_net: RX id %u out of range\n", id);
				return 1;
			}
			memcpy(&seq, b + HDR + 14, sizeof(seq));
			fill(want_b, seq, size);
			if (l != HDR + size || seq != received ||
			    memcmp(b + HDR, want_b + HDR, size)) {
				fprintf(stderr, "vu_fe_net: packet %lu came back as seq %lu, %u bytes\n",
					received, seq, l);
				return 1;
			}
			received++;
			drv_add(&rx, id, 2048, true);
			progress++;
		}
		if (progress)
			drv_kick(&rx);
		else if (sent == received || sent - done_tx >= num)
			drv_wait(&rx, 10);
		else
			usleep(50);
	}
	t0 = now() - t0;
	if (vhostctl_dev_get_vring_base(dev, 1, &base) || vhostctl_dev_get_vring_base(dev, 0, &base)) {
		fprintf(stderr, "vu_fe_net: GET_VRING_BASE: %s\n", strerror(errno));
		return 1;
	}
	printf("%s ring: sent %lu, received %lu back in order with their bytes, %.3f s (%.0f pps)\n",
	       packed ? "packed" : "split", sent, received, t0, received / t0);
	vhostctl_dev_close(dev);
	drv_q_fini(&rx);
	drv_q_fini(&tx);
	vhostctl_mem_free(mem);
	return 0;
}
