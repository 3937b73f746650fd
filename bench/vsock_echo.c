// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-vsock echo: our process is the guest (driver side of the vsock
 * queues through libvhostctl) and connects to an echo server listening on
 * CID 2 in this kernel; every byte sent comes back and is checked.  Prints
 * counts and rates.
 *
 *   vsock_echo [-s BYTES] [-c CID] [-p PORT]
 */
#include <errno.h>
#include <getopt.h>
#include <linux/vm_sockets.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "bench.h"
#include "vsock_guest.h"

static int lfd;
static unsigned long echoed;

static void *echo_server(void *arg)
{
	char buf[65536];
	ssize_t n;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	(void)arg;
	if (fd < 0)
		return NULL;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

			if (w <= 0)
				goto out;
			off += w;
		}
		echoed += (unsigned long)n;
	}
out:
	close(fd);
	return NULL;
}

static int die(const char *what, int r)
{
	fprintf(stderr, "vsock_echo: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

int main(int argc, char **argv)
{
	unsigned long size = 4 << 20, cid = 4242, port = 9000;
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
	struct vguest g;
	const char *step;
	pthread_t t;
	uint8_t *buf;
	double t0, el;
	int c, r;

	while ((c = getopt(argc, argv, "s:c:p:")) != -1) {
		switch (c) {
		case 's': size = strtoul(optarg, NULL, 0); break;
		case 'c': cid = strtoul(optarg, NULL, 0); break;
		case 'p': port = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: vsock_echo [-s BYTES] [-c CID] [-p PORT]\n");
			return 2;
		}
	}
	a.svm_port = (unsigned int)port;
	lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0)
		die("listen", -errno);
	if (pthread_create(&t, NULL, echo_server, NULL))
		die("thread", EAGAIN);
	r = vg_open(&g, cid, 1ULL << VHOSTCTL_F_VERSION_1, size, &step);
	if (r)
		die(step, r);
	buf = malloc(size);
	for (unsigned long i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 10));
	t0 = bench_now();
	r = vg_connect(&g, (uint32_t)port, 50000, 10000);
	if (r)
		die("connect", r);
	/* Send in 64 KiB steps and keep the echo flowing back meanwhile. */
	for (unsigned long off = 0; off < size; off += 65536) {
		unsigned long n = size - off < 65536 ? size - off : 65536;

		if ((r = vg_send(&g, buf + off, n, 10000)))
			die("send", r);
	}
	if ((r = vg_recv_until(&g, size, 30000)))
		die("echo incomplete", r);
	el = bench_now() - t0;
	if (g.len != size || memcmp(g.data, buf, size))
		die("echo differs", EBADMSG);
	if ((r = vg_shutdown(&g, 10000)))
		die("shutdown", r);
	pthread_join(t, NULL);
	printf("vsock echo, guest CID %lu -> host CID 2 port %lu: %lu bytes sent, %lu echoed back, "
	       "all checked\n", cid, port, size, (unsigned long)g.len);
	printf("  %.3f s: %.2f MiB/s each way; %lu packets out, %lu in; clean shutdown\n",
	       el, (double)size / el / (1 << 20), g.pkts_tx, g.pkts_rx);
	vg_close(&g);
	close(lfd);
	free(buf);
	return echoed == size ? 0 : 1;
}
