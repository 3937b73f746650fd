// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Moving a running vDPA net device to another one with the migration
 * helper, the public libvhostctl API only.  The program is the guest and
 * the control plane at once: it sets the source device up, passes frames
 * through it, suspends it in the middle of a burst with
 * vhostctl_vdpa_state_save(), restores the blob onto the destination device
 * with vhostctl_vdpa_state_restore() (same guest memory, same rings, same
 * eventfds) and goes on there.  Every frame carries a sequence number: each
 * must come back exactly once, whichever device carried it.
 *
 *   vdpa_migrate SRC DST [FRAMES]
 *
 * SRC and DST are vDPA device names (vhostctl vdpa show) bound to
 * vhost_vdpa, of the same kind and with the same MAC.  FRAMES frames go
 * through each device, plus a burst in flight at the move.  The devices'
 * own counters (vstats) are printed before and after the move.
 *
 * Exit status 0 when every frame came back once and intact.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhostctl/vhostctl.h>
#include <vhostctl/migrate.h>
#include <vhostctl/vdpa.h>

#define QSIZE 64
#define HDR_LEN 12		/* the virtio-net header with VERSION_1 */
#define BUF_LEN (HDR_LEN + 1514)
#define FRAME_LEN 128
#define BURST 8			/* kicked just before the suspend */
#define LATE 4			/* posted after the suspend */

struct guest {
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq[2];
	uint8_t *rx[QSIZE], *tx[QSIZE];
	uint64_t rxgpa[QSIZE], txgpa[QSIZE];
	uint8_t mac[6];
	unsigned int sent, received, bad;
	unsigned char *seen;
	unsigned int nseen;
};

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "libvhostctl: %s\n", msg);
}

/* /dev/vhost-vdpa-N of a vDPA device bound to vhost_vdpa. */
static int node_of(const char *name, char *node, size_t len)
{
	char dir[256];
	struct dirent *d;
	DIR *dp;
	int r = -ENODEV;

	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", name);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp)))
		if (!strncmp(d->d_name, "vhost-vdpa-", 11)) {
			snprintf(node, len, "/dev/%s", d->d_name);
			r = 0;
			break;
		}
	closedir(dp);
	return r;
}

static int print_stat(void *ctx, const char *name, uint64_t value)
{
	(void)ctx;
	printf(" %s %" PRIu64, name, value);
	return 0;
}

static void vstats(struct vhostctl_vdpa *nl, const char *name, const char *when)
{
	for (uint32_t q = 0; q < 2; q++) {
		printf("  %s %s queue %u (%s):", when, name, q, q ? "tx" : "rx");
		if (vhostctl_vdpa_dev_vstats(nl, name, q, print_stat, NULL) < 0)
			printf(" unavailable: %s", vhostctl_vdpa_error(nl));
		printf("\n");
	}
}

static int post_rx(struct guest *g, unsigned int slot)
{
	struct vhostctl_vq_buf b = { .gpa = g->rxgpa[slot], .len = BUF_LEN };

	return vhostctl_vq_add(g->vq[VHOSTCTL_NET_RX], &b, 0, 1, (void *)(uintptr_t)(slot + 1), 0);
}

/* Post frame number g->sent on TX; the caller kicks. */
static int send_frame(struct guest *g)
{
	unsigned int slot = g->sent % QSIZE, seq = g->sent;
	struct vhostctl_vq_buf b = { .gpa = g->txgpa[slot], .len = HDR_LEN + FRAME_LEN };
	uint8_t *p = g->tx[slot];
	int r;

	memset(p, 0, HDR_LEN);
	memcpy(p + HDR_LEN, g->mac, 6);
	memcpy(p + HDR_LEN + 6, g->mac, 6);
	p[HDR_LEN + 12] = 0x88;			/* local experimental ethertype */
	p[HDR_LEN + 13] = 0xb5;
	memcpy(p + HDR_LEN + 14, &seq, sizeof(seq));
	memset(p + HDR_LEN + 18, seq & 0xff, FRAME_LEN - 18);
	r = vhostctl_vq_add(g->vq[VHOSTCTL_NET_TX], &b, 1, 0, (void *)(uintptr_t)(slot + 1), 0);
	if (!r)
		g->sent++;
	return r;
}

/* Take every returned frame, check it, count its number, post its buffer again. */
static int collect(struct guest *g)
{
	uint32_t len;
	void *tok;
	int n = 0;

	while (vhostctl_vq_get_used(g->vq[VHOSTCTL_NET_RX], &len, &tok) == 1) {
		unsigned int slot = (unsigned int)(uintptr_t)tok - 1, seq;
		const uint8_t *p = g->rx[slot] + HDR_LEN;

		memcpy(&seq, p + 14, sizeof(seq));
		if (len != HDR_LEN + FRAME_LEN || seq >= g->nseen || p[FRAME_LEN - 1] != (seq & 0xff))
			g->bad++;
		else
			g->seen[seq]++;
		g->received++;
		if (post_rx(g, slot))
			return -1;
		n++;
	}
	while (vhostctl_vq_get_used(g->vq[VHOSTCTL_NET_TX], NULL, &tok) == 1)
		;
	if (n)
		vhostctl_vq_kick(g->vq[VHOSTCTL_NET_RX]);
	return n;
}

/* Wait until @want frames came back in all, or 5 s without progress. */
static int wait_for(struct guest *g, unsigned int want)
{
	while (g->received < want) {
		if (vhostctl_vq_wait(g->vq[VHOSTCTL_NET_RX], 5000))
			return -1;
		if (collect(g) < 0)
			return -1;
	}
	return 0;
}

/* @frames round trips, one frame in flight at a time. */
static int traffic(struct guest *g, unsigned int frames)
{
	for (unsigned int i = 0; i < frames; i++)
		if (send_frame(g) || vhostctl_vq_kick(g->vq[VHOSTCTL_NET_TX]) < 0 ||
		    wait_for(g, g->sent))
			return -1;
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_dev_opts, dopts, .log = log_line);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, sopts, .nqueues = 2, .queue_size = QSIZE,
			   .required = 1ULL << VHOSTCTL_F_VERSION_1,
			   .features = 1ULL << 5 /* VIRTIO_NET_F_MAC */);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_restore_opts, ropts);
	unsigned int frames = argc > 3 ? (unsigned int)atoi(argv[3]) : 100, lost = 0, twice = 0;
	struct vhostctl_dev *src, *dst;
	struct vhostctl_vdpa_state_info info;
	struct guest g = { 0 };
	char snode[272], dnode[272];
	struct vhostctl_vdpa *nl;
	unsigned int pending;
	int kick[2], call[2], len, r;
	uint8_t *blob;

	if (argc < 3 || frames > 1000000) {
		fprintf(stderr, "usage: %s SRC DST [FRAMES]\n", argv[0]);
		return 2;
	}
	g.nseen = 2 * frames + BURST + LATE;
	g.seen = calloc(g.nseen, 1);
	nl = vhostctl_vdpa_open();
	if (!g.seen || !nl)
		return fail("start", errno);
	r = node_of(argv[1], snode, sizeof(snode));
	if (!r)
		r = node_of(argv[2], dnode, sizeof(dnode));
	if (r)
		return fail("vhost-vdpa node", r);

	/* Guest memory: 1 MiB of memfd at guest physical 1 MiB, buffers in it. */
	g.mem = vhostctl_mem_new();
	if (!g.mem || vhostctl_mem_add_region(g.mem, 1 << 20, 1 << 20, 0) < 0)
		return fail("guest memory", errno);
	for (int i = 0; i < QSIZE; i++) {
		g.rx[i] = vhostctl_mem_alloc(g.mem, BUF_LEN, 64, &g.rxgpa[i]);
		g.tx[i] = vhostctl_mem_alloc(g.mem, HDR_LEN + FRAME_LEN, 64, &g.txgpa[i]);
		if (!g.rx[i] || !g.tx[i])
			return fail("guest buffers", ENOMEM);
	}

	src = vhostctl_dev_open(snode, &dopts);
	dst = vhostctl_dev_open(dnode, &dopts);
	if (!src || !dst)
		return fail(src ? dnode : snode, errno);
	r = vhostctl_dev_setup(src, g.mem, g.vq, &sopts, NULL);
	if (r) {
		fprintf(stderr, "setup failed at %s: %s\n", vhostctl_dev_setup_step(src),
			strerror(-r));
		return 1;
	}
	vhostctl_dev_get_config(src, 0, g.mac, sizeof(g.mac));
	for (unsigned int i = 0; i < QSIZE; i++)
		if (post_rx(&g, i))
			return fail("RX buffers", EIO);
	vhostctl_vq_kick(g.vq[VHOSTCTL_NET_RX]);

	if (traffic(&g, frames))
		return fail("traffic through the source", EIO);
	printf("source %s (%s): %u frames sent, %u back\n", argv[1], snode, g.sent, g.received);

	/* A burst kicked, and the device suspended while it may be taking it. */
	for (int i = 0; i < BURST; i++)
		if (send_frame(&g))
			return fail("burst", EIO);
	vhostctl_vq_kick(g.vq[VHOSTCTL_NET_TX]);
	len = vhostctl_vdpa_state_save(src, NULL, 0);
	blob = len > 0 ? malloc((size_t)len) : NULL;
	if (!blob)
		return fail("state size", len < 0 ? len : ENOMEM);
	len = vhostctl_vdpa_state_save(src, blob, (size_t)len);
	if (len < 0)
		return fail("vhostctl_vdpa_state_save", len);
	/* The guest runs on: frames posted now wait for the destination. */
	for (int i = 0; i < LATE; i++)
		if (send_frame(&g))
			return fail("late frames", EIO);
	vhostctl_vq_kick(g.vq[VHOSTCTL_NET_TX]);
	collect(&g);
	if (vhostctl_vdpa_state_check(blob, (size_t)len, &info))
		return fail("vhostctl_vdpa_state_check", EINVAL);
	printf("saved: %d-byte blob, device id %u, %u rings, status 0x%02x, features 0x%" PRIx64
	       "; at the move %u sent, %u back\n", len, info.device_id, info.nrings, info.status,
	       info.features, g.sent, g.received);
	vstats(nl, argv[1], "before the move");

	/* The source goes; the destination takes the same rings and eventfds. */
	vhostctl_dev_close(src);
	for (int i = 0; i < 2; i++) {
		kick[i] = vhostctl_vq_kick_fd(g.vq[i]);
		call[i] = vhostctl_vq_call_fd(g.vq[i]);
	}
	ropts.mem = g.mem;
	ropts.nfds = 2;
	ropts.kick_fds = kick;
	ropts.call_fds = call;
	r = vhostctl_vdpa_state_restore(dst, blob, (size_t)len, &ropts);
	free(blob);
	if (r)
		return fail("vhostctl_vdpa_state_restore", r);
	pending = g.sent - g.received;
	if (wait_for(&g, g.sent))
		return fail("frames in flight at the move", EIO);
	printf("destination %s (%s): the %u frames not back at the move came back\n", argv[2],
	       dnode, pending);
	if (traffic(&g, frames))
		return fail("traffic through the destination", EIO);

	for (unsigned int i = 0; i < g.sent; i++) {
		lost += !g.seen[i];
		twice += g.seen[i] > 1;
	}
	printf("after the move: %u frames sent, %u back, %u lost, %u twice, %u damaged\n",
	       g.sent, g.received, lost, twice, g.bad);
	vstats(nl, argv[2], "after the move");

	vhostctl_dev_teardown(dst, g.vq, 2);
	vhostctl_dev_close(dst);
	vhostctl_mem_free(g.mem);
	vhostctl_vdpa_close(nl);
	free(g.seen);
	return lost || twice || g.bad || g.received != g.sent ? 1 : 0;
}
