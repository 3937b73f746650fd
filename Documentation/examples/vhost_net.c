// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A vhost-net device with traffic both ways, with the public libvhostctl API
 * only: a tap interface is the device's backend; the program is the guest
 * on the RX and TX queues and, through a packet socket on the tap, the
 * host's network.  Frames the guest sends on TX arrive on the tap; frames
 * sent out of the tap arrive on RX.
 *
 *   vhost_net [FRAMES]
 *
 * Needs root, /dev/vhost-net and /dev/net/tun (the vhost_net and tun
 * modules).  Exit status 0 when every frame arrived intact both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <vhostctl/vhostctl.h>

#define QUEUE_SIZE 64
#define HDR_LEN 12		/* the virtio-net header with VERSION_1 */
#define BUF_LEN (HDR_LEN + 1514)
#define ETHERTYPE 0x88b5	/* local experimental: nothing else sends it */

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "libvhostctl: %s\n", msg);
}

/* A tap with a 12-byte virtio-net header, up, and a packet socket on it. */
static int open_tap(char *name, int *psock)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE) };
	struct timeval tmo = { .tv_sec = 5 };	/* a frame that never comes */
	int hdr = HDR_LEN, fd, s;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return -1;
	snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE));
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	sll.sll_ifindex = (int)if_nametoindex(name);
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	*psock = s;
	return fd;
}

static void fill_frame(uint8_t *f, unsigned int len, int seq)
{
	memset(f, 0xff, 6);				/* broadcast */
	memcpy(f + 6, "\x02\0\0\0\0\x01", 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memset(f + 14, seq, len - 14);
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, sopts, .nqueues = 2,
			   .queue_size = QUEUE_SIZE, .flags = VHOSTCTL_SETUP_NET_BACKEND,
			   .required = 1ULL << VHOSTCTL_F_VERSION_1);
	VHOSTCTL_OPTS_INIT(struct vhostctl_dev_opts, dopts, .log = log_line);
	int frames = argc > 1 ? atoi(argv[1]) : 8, tx_ok = 0, rx_ok = 0, psock = -1;
	struct vhostctl_vq *vq[2] = { NULL, NULL };
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	char tap[IFNAMSIZ];
	uint8_t pkt[1600];
	int r;

	sopts.net_backend_fd = open_tap(tap, &psock);
	if (sopts.net_backend_fd < 0) {
		perror("tap");
		return 1;
	}
	mem = vhostctl_mem_new();
	if (!mem || vhostctl_mem_add_region(mem, 1 << 20, 4 << 20, 0) < 0) {
		perror("guest memory");
		return 1;
	}
	dev = vhostctl_dev_open("/dev/vhost-net", &dopts);
	if (!dev) {
		perror("/dev/vhost-net");
		return 1;
	}
	r = vhostctl_dev_setup(dev, mem, vq, &sopts, NULL);
	if (r) {
		fprintf(stderr, "setup failed at %s: %s\n", vhostctl_dev_setup_step(dev),
			strerror(-r));
		return 1;
	}

	for (int i = 0; i < frames; i++) {
		struct vhostctl_vq_buf rx = { .len = BUF_LEN }, tx;
		unsigned int flen = 60 + 70 * i % 1400;
		uint8_t *rxp = vhostctl_mem_alloc(mem, BUF_LEN, 64, &rx.gpa);
		uint8_t *txp = vhostctl_mem_alloc(mem, HDR_LEN + flen, 64, &tx.gpa);
		uint32_t len = 0;
		void *tok;
		ssize_t n;

		if (!rxp || !txp)
			break;
		/* Guest to host: TX, then the frame is read from the packet socket. */
		tx.len = HDR_LEN + flen;
		memset(txp, 0, HDR_LEN);
		fill_frame(txp + HDR_LEN, flen, i);
		if (vhostctl_vq_add(vq[VHOSTCTL_NET_TX], &tx, 1, 0, txp, 0) ||
		    vhostctl_vq_kick(vq[VHOSTCTL_NET_TX]) < 0)
			break;
		n = recv(psock, pkt, sizeof(pkt), 0);
		if (n == (ssize_t)flen && !memcmp(pkt, txp + HDR_LEN, flen))
			tx_ok++;
		if (vhostctl_vq_wait(vq[VHOSTCTL_NET_TX], 5000) == 0)
			vhostctl_vq_get_used(vq[VHOSTCTL_NET_TX], NULL, &tok);

		/* Host to guest: out of the tap, into the RX buffer. */
		if (vhostctl_vq_add(vq[VHOSTCTL_NET_RX], &rx, 0, 1, rxp, 0) ||
		    vhostctl_vq_kick(vq[VHOSTCTL_NET_RX]) < 0)
			break;
		fill_frame(pkt, flen, 0x80 + i);
		if (send(psock, pkt, flen, 0) != (ssize_t)flen) {
			perror("send");
			break;
		}
		/* The host's own frames (IPv6 neighbour discovery) may come first. */
		for (int tries = 0; tries < 16; tries++) {
			if (vhostctl_vq_wait(vq[VHOSTCTL_NET_RX], 5000) ||
			    vhostctl_vq_get_used(vq[VHOSTCTL_NET_RX], &len, &tok) != 1) {
				fprintf(stderr, "frame %d did not reach RX\n", i);
				break;
			}
			if (len >= HDR_LEN + 14 && rxp[HDR_LEN + 12] == ETHERTYPE >> 8 &&
			    rxp[HDR_LEN + 13] == (ETHERTYPE & 0xff)) {
				if (len == HDR_LEN + flen && !memcmp(rxp + HDR_LEN, pkt, flen))
					rx_ok++;
				break;
			}
			if (vhostctl_vq_add(vq[VHOSTCTL_NET_RX], &rx, 0, 1, rxp, 0) ||
			    vhostctl_vq_kick(vq[VHOSTCTL_NET_RX]) < 0)
				break;
		}
	}
	printf("%s: %d of %d frames guest to host, %d of %d host to guest\n", tap, tx_ok,
	       frames, rx_ok, frames);

	vhostctl_dev_teardown(dev, vq, 2);
	vhostctl_dev_close(dev);
	vhostctl_mem_free(mem);
	close(psock);
	close(sopts.net_backend_fd);
	return tx_ok == frames && rx_ok == frames ? 0 : 1;
}
