// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A vhost-vdpa net device driven from userspace, the way a hypervisor's
 * control plane does it, with the public libvhostctl API only: open the
 * node, set the device up with vhostctl_dev_setup() on memfd guest memory
 * (mapped through the device's IOTLB), act as the guest on the RX and TX
 * queues, and send frames to the device's own MAC.  A device that loops TX
 * back to RX (vhostctl_sim) returns each one.
 *
 *   vdpa_net /dev/vhost-vdpa-0 [FRAMES [hold]]
 *
 * With "hold", the device stays set up after the frames until a line comes
 * on standard input, so its counters can be read meanwhile.
 *
 * Exit status 0 when every frame came back intact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhostctl/vhostctl.h>

#define QUEUE_SIZE 64
#define HDR_LEN 12		/* the virtio-net header with VERSION_1 */
#define BUF_LEN (HDR_LEN + 1514)

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "libvhostctl: %s\n", msg);
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_dev_opts, dopts, .log = log_line);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, sopts, .nqueues = 2,
			   .queue_size = QUEUE_SIZE,
			   .required = 1ULL << VHOSTCTL_F_VERSION_1,
			   .features = 1ULL << 5 /* VIRTIO_NET_F_MAC */);
	int frames = argc > 2 ? atoi(argv[2]) : 8, ok = 0;
	struct vhostctl_vq *vq[2] = { NULL, NULL };
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	uint8_t mac[6];
	uint32_t id = 0;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: %s /dev/vhost-vdpa-N [FRAMES]\n", argv[0]);
		return 2;
	}
	/* Guest memory: 4 MiB of memfd at guest physical 1 MiB. */
	mem = vhostctl_mem_new();
	if (!mem || vhostctl_mem_add_region(mem, 1 << 20, 4 << 20, 0) < 0) {
		perror("guest memory");
		return 1;
	}
	dev = vhostctl_dev_open(argv[1], &dopts);
	if (!dev) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (vhostctl_dev_vdpa_device_id(dev, &id) < 0 || id != 1) {
		fprintf(stderr, "%s: not a vDPA net device\n", argv[1]);
		return 1;
	}
	r = vhostctl_dev_setup(dev, mem, vq, &sopts, NULL);
	if (r) {
		fprintf(stderr, "setup failed at %s: %s\n", vhostctl_dev_setup_step(dev),
			strerror(-r));
		return 1;
	}
	vhostctl_dev_get_config(dev, 0, mac, sizeof(mac));

	for (int i = 0; i < frames; i++) {
		struct vhostctl_vq_buf rx = { .len = BUF_LEN }, tx;
		unsigned int flen = 60 + 50 * i % 1400;
		uint8_t *rxp = vhostctl_mem_alloc(mem, BUF_LEN, 64, &rx.gpa);
		uint8_t *txp = vhostctl_mem_alloc(mem, HDR_LEN + flen, 64, &tx.gpa);
		uint32_t len = 0;
		void *tok;

		if (!rxp || !txp)
			break;
		tx.len = HDR_LEN + flen;
		memset(txp, 0, HDR_LEN);		/* no offloads */
		memcpy(txp + HDR_LEN, mac, 6);		/* to the device's own MAC */
		memcpy(txp + HDR_LEN + 6, mac, 6);
		txp[HDR_LEN + 12] = 0x88;		/* local experimental ethertype */
		txp[HDR_LEN + 13] = 0xb5;
		memset(txp + HDR_LEN + 14, i, flen - 14);

		/* An RX buffer first, then the frame on TX; each kick wakes the device. */
		if (vhostctl_vq_add(vq[VHOSTCTL_NET_RX], &rx, 0, 1, rxp, 0) ||
		    vhostctl_vq_kick(vq[VHOSTCTL_NET_RX]) < 0 ||
		    vhostctl_vq_add(vq[VHOSTCTL_NET_TX], &tx, 1, 0, txp, 0) ||
		    vhostctl_vq_kick(vq[VHOSTCTL_NET_TX]) < 0)
			break;
		if (vhostctl_vq_wait(vq[VHOSTCTL_NET_RX], 5000) ||
		    vhostctl_vq_get_used(vq[VHOSTCTL_NET_RX], &len, &tok) != 1) {
			fprintf(stderr, "frame %d did not come back\n", i);
			break;
		}
		if (len == HDR_LEN + flen && !memcmp(rxp + HDR_LEN, txp + HDR_LEN, flen))
			ok++;
		/* Reap the TX buffer too: the device is done with it. */
		if (vhostctl_vq_wait(vq[VHOSTCTL_NET_TX], 5000) == 0)
			vhostctl_vq_get_used(vq[VHOSTCTL_NET_TX], NULL, &tok);
	}
	printf("%d of %d frames came back intact\n", ok, frames);
	if (argc > 3 && !strcmp(argv[3], "hold")) {
		char line[16];

		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			line[0] = 0;
	}

	vhostctl_dev_teardown(dev, vq, 2);
	vhostctl_dev_close(dev);
	vhostctl_mem_free(mem);
	return ok == frames ? 0 : 1;
}
