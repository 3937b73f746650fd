// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A vhost-user net backend with the public libvhostctl API only: a loopback
 * virtio-net device (what the guest sends on a TX queue comes back on its
 * RX queue) served on a Unix socket to a VMM such as QEMU
 * (-chardev socket,path=SOCKET -netdev vhost-user,chardev=...).
 *
 *   vu_net_backend SOCKET    serve frontends until SIGINT or SIGTERM, in
 *                            this program's own event loop
 *   vu_net_backend -c SOCKET be the guest of a backend serving SOCKET:
 *                            frames sent on TX must come back on RX
 *   vu_net_backend           both: serve on a socket in /tmp from a thread
 *                            of the library and drive it from here
 *
 * Needs no kernel: everything runs in userspace.  Exit status 0 on a clean
 * stop, or when every frame came back intact.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#define QUEUE_SIZE 64
#define HDR_LEN 12		/* the virtio-net header with VERSION_1 */
#define BUF_LEN (HDR_LEN + 1514)
#define FRAMES 16

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "libvhostctl: %s\n", msg);
}

static void print_stats(struct vhostctl_vu_backend *be)
{
	struct vhostctl_vu_net_stats st;

	if (!vhostctl_vu_net_stats(be, &st))
		printf("tx %llu packets (%llu bytes), rx %llu packets, %llu dropped\n",
		       (unsigned long long)st.tx_packets, (unsigned long long)st.tx_bytes,
		       (unsigned long long)st.rx_packets, (unsigned long long)st.dropped);
}

/* The application's own loop: the backend's one fd, then dispatch. */
static int serve(struct vhostctl_vu_backend *be, const char *path)
{
	struct pollfd pfd = { .fd = vhostctl_vu_backend_fd(be), .events = POLLIN };
	struct sigaction sa = { .sa_handler = on_signal };
	int r = vhostctl_vu_backend_listen(be, path);

	if (r) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("serving a loopback virtio-net device on %s\n", path);
	fflush(stdout);
	while (!stop) {
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		r = vhostctl_vu_backend_dispatch(be, 0);
		if (r < 0) {
			fprintf(stderr, "dispatch: %s\n", strerror(-r));
			return 1;
		}
	}
	print_stats(be);
	unlink(path);
	return 0;
}

/* The guest's side, over the same library: frames out on TX, back on RX. */
static int drive(const char *path)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, uopts, .log = log_line);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, sopts, .nqueues = 2,
			   .queue_size = QUEUE_SIZE,
			   .required = 1ULL << VHOSTCTL_F_VERSION_1);
	struct vhostctl_vq *vq[2] = { NULL, NULL };
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	int ok = 0, r;

	mem = vhostctl_mem_new();
	if (!mem || vhostctl_mem_add_region(mem, 1 << 20, 2 << 20, 0) < 0)
		return -ENOMEM;
	dev = vhostctl_vu_open(path, &uopts);
	if (!dev)
		return -errno;
	r = vhostctl_dev_setup(dev, mem, vq, &sopts, NULL);
	if (r) {
		fprintf(stderr, "setup failed at %s\n", vhostctl_dev_setup_step(dev));
		return r;
	}
	for (int i = 0; i < FRAMES; i++) {
		struct vhostctl_vq_buf rx = { .len = BUF_LEN }, tx;
		unsigned int flen = 60 + 90 * i;
		uint8_t *rxp = vhostctl_mem_alloc(mem, BUF_LEN, 64, &rx.gpa);
		uint8_t *txp = vhostctl_mem_alloc(mem, HDR_LEN + flen, 64, &tx.gpa);
		uint32_t len = 0;
		void *tok;

		if (!rxp || !txp)
			break;
		tx.len = HDR_LEN + flen;
		memset(txp, 0, HDR_LEN);		/* no offloads */
		memset(txp + HDR_LEN, 0xff, 6);		/* broadcast */
		memcpy(txp + HDR_LEN + 6, "\x02\0\0\0\0\x01", 6);
		txp[HDR_LEN + 12] = 0x88;		/* local experimental ethertype */
		txp[HDR_LEN + 13] = 0xb5;
		memset(txp + HDR_LEN + 14, i, flen - 14);
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
		if (vhostctl_vq_wait(vq[VHOSTCTL_NET_TX], 5000) == 0)
			vhostctl_vq_get_used(vq[VHOSTCTL_NET_TX], NULL, &tok);
	}
	printf("%d of %d frames came back intact\n", ok, FRAMES);
	vhostctl_dev_teardown(dev, vq, 2);
	vhostctl_dev_close(dev);
	vhostctl_mem_free(mem);
	return ok;
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, nopts, .log = log_line,
			   .mac = { 0x02, 0, 0, 0, 0, 0x02 }, .queue_pairs = 1);
	struct vhostctl_vu_backend *be;
	char path[64];
	int r;

	be = vhostctl_vu_net_new(&nopts);
	if (!be) {
		perror("vhostctl_vu_net_new");
		return 1;
	}
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		vhostctl_vu_backend_free(be);
		r = drive(argv[2]);
		if (r < 0)
			fprintf(stderr, "%s: %s\n", argv[2], strerror(-r));
		return r == FRAMES ? 0 : 1;
	}
	if (argc > 1) {
		r = serve(be, argv[1]);
		vhostctl_vu_backend_free(be);
		return r;
	}

	snprintf(path, sizeof(path), "/tmp/vu_net_backend.%d.sock", (int)getpid());
	r = vhostctl_vu_backend_listen(be, path);
	if (!r)
		r = vhostctl_vu_backend_start(be);
	if (r) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return 1;
	}
	r = drive(path);
	vhostctl_vu_backend_stop(be);
	print_stats(be);
	vhostctl_vu_backend_free(be);
	unlink(path);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
	return r == FRAMES ? 0 : 1;
}
