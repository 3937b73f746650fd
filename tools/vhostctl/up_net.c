// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl dev up on a net device: vhost-net, whose frames leave through a
 * tap (ours, or the one named) and come back in through a packet socket on
 * its link, and vhost-vdpa, whose device loops TX back to RX (kmod/ does).
 * One guest side per queue pair; the device's own counters (the tap's link,
 * the vDPA vendor stats) are read before and after.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"
#include "up.h"
#include "up_run.h"

/* Net (vhost-net and vhost-vdpa): one queue pair's guest side. */

struct pair {
	struct vhostctl_dev *dev;	/* vhost-net: one device per pair */
	struct vhostctl_vq *vq[2];	/* RX, TX */
	int tap;			/* vhost-net: this pair's tap queue */
	uint8_t *rxb, *txb;
	uint64_t rxb_gpa, txb_gpa;
	unsigned int rxlen, txlen;
	unsigned int *tx_free, ntx_free;
};

struct net_run {
	const struct up_args *a;
	struct vhostctl_mem *mem;
	struct vhostctl_dev *vdpa_dev;	/* vhost-vdpa: the one device */
	struct pair p[MAX_QUEUES];
	unsigned int npairs;
	uint64_t features;
	unsigned int hs;		/* virtio-net header bytes */
	/* vhost-net: the tap and the packet socket that sends frames back */
	char tap_name[IFNAMSIZ];
	int ifindex;
	int pkt;
	bool tap_ours, tap_was_up;
	/* vhost-vdpa: where the vendor stats are read */
	struct vhostctl_vdpa *nl;
	char vdpa_name[64];
};

int tap_attach(const char *name, unsigned int queues, int vnet_hdr, int *fds,
		      char *out_name)
{
	struct ifreq ifr;

	for (unsigned int i = 0; i < queues; i++)
		fds[i] = -1;
	for (unsigned int i = 0; i < queues; i++) {
		fds[i] = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
		if (fds[i] < 0)
			goto err;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (queues > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", i ? out_name : name);
		if (ioctl(fds[i], TUNSETIFF, &ifr) < 0 ||
		    ioctl(fds[i], TUNSETVNETHDRSZ, &vnet_hdr) < 0)
			goto err;
		if (!i)
			snprintf(out_name, IFNAMSIZ, "%s", ifr.ifr_name);
	}
	return 0;
err:
	{
		int r = -errno;

		for (unsigned int i = 0; i < queues; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return r;
	}
}

int link_flags(const char *name, bool set_up, bool *was_up)
{
	struct ifreq ifr;
	int s, r = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	if (was_up)
		*was_up = ifr.ifr_flags & IFF_UP;
	if (!!(ifr.ifr_flags & IFF_UP) != set_up) {
		ifr.ifr_flags = set_up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
out:
	close(s);
	return r;
}

/* The kernel sends nothing of its own on a link without IPv6 (no address, no ARP). */
void no_ipv6(const char *name)
{
	char p[96];
	int fd;

	snprintf(p, sizeof(p), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1)
		fprintf(stderr, "Warning: %s: IPv6 stays on: %s\n", name, strerror(errno));
	close(fd);
}

static int pkt_open(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETHERTYPE),
		.sll_ifindex = ifindex,
	};
	int one = 1, rcvbuf = 8 << 20, fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETHERTYPE));
	if (fd < 0)
		return -errno;
	/*
	 * A full window of frames waits here at once; the default receive
	 * buffer holds about 200 of them and drops the rest.  Root may go past
	 * rmem_max; otherwise take what is allowed.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* What we send back out of the link is not to be read again. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static uint64_t read_u64_file(const char *path, bool *ok)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*ok = false;
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		*ok = false;
		return 0;
	}
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

static void tap_counters(const struct net_run *nr, struct dev_counters *c)
{
	static const char *const f[] = { "rx_packets", "tx_packets", "rx_dropped", "tx_dropped" };
	uint64_t *v[] = { &c->rx_packets, &c->tx_packets, &c->rx_drops, &c->tx_drops };
	char p[128];
	bool ok = true;

	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "/sys/class/net/%s/statistics/%s", nr->tap_name, f[i]);
		*v[i] = read_u64_file(p, &ok);
	}
	c->valid = ok;
}

/* The vDPA device's name, from the sysfs directory that holds its node. */
static int vdpa_name_of(const char *path, char *name, size_t size)
{
	const char *node = strrchr(path, '/');
	struct dirent *d;
	char p[512];
	DIR *dir;
	int r = -ENOENT;

	node = node ? node + 1 : path;
	dir = opendir("/sys/bus/vdpa/devices");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/vdpa/devices/%s/%s", d->d_name, node);
		if (!access(p, F_OK) && strlen(d->d_name) < size) {
			snprintf(name, size, "%s", d->d_name);
			r = 0;
			break;
		}
	}
	closedir(dir);
	return r;
}

static int add_stat(void *ctx, const char *name, uint64_t value)
{
	struct dev_counters *c = ctx;

	if (!strcmp(name, "rx packets"))
		c->rx_packets += value;
	else if (!strcmp(name, "tx packets"))
		c->tx_packets += value;
	else if (!strcmp(name, "rx drops"))
		c->rx_drops += value;
	else if (!strcmp(name, "tx drops"))
		c->tx_drops += value;
	return 0;
}

static void vdpa_counters(struct net_run *nr, struct dev_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (!nr->nl)
		return;
	for (unsigned int q = 0; q < 2 * nr->npairs; q++)
		if (vhostctl_vdpa_dev_vstats(nr->nl, nr->vdpa_name, q, add_stat, c) < 0)
			return;
	c->valid = true;
}

static void counters(struct net_run *nr, struct dev_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (nr->a->kind == UP_VDPA)
		vdpa_counters(nr, c);
	else
		tap_counters(nr, c);
}

static int post_rx(struct pair *p, unsigned int slot)
{
	struct vhostctl_vq_buf b = { p->rxb_gpa + (uint64_t)slot * p->rxlen, p->rxlen };

	return vhostctl_vq_add(p->vq[VHOSTCTL_NET_RX], &b, 0, 1, (void *)(uintptr_t)(slot + 1), 0);
}

static int pair_buffers(struct net_run *nr, struct pair *p)
{
	unsigned int n = nr->a->size;
	int r;

	p->rxlen = nr->hs + 1518;
	p->txlen = nr->hs + FRAME_LEN;
	p->rxb = vhostctl_mem_alloc(nr->mem, (uint64_t)n * p->rxlen, 64, &p->rxb_gpa);
	p->txb = vhostctl_mem_alloc(nr->mem, (uint64_t)n * p->txlen, 64, &p->txb_gpa);
	p->tx_free = calloc(n, sizeof(*p->tx_free));
	if (!p->rxb || !p->txb)
		return -ENOMEM;
	if (!p->tx_free)
		return -errno;
	for (unsigned int i = 0; i < n; i++) {
		p->tx_free[i] = i;
		r = post_rx(p, i);
		if (r)
			return r;
	}
	p->ntx_free = n;
	r = vhostctl_vq_kick(p->vq[VHOSTCTL_NET_RX]);
	return r < 0 ? r : 0;
}

static void net_close(struct net_run *nr)
{
	for (unsigned int i = 0; i < nr->npairs; i++) {
		struct pair *p = &nr->p[i];
		struct vhostctl_dev *dev = nr->vdpa_dev ? nr->vdpa_dev : p->dev;

		if (dev && p->vq[0]) {
			if (vhostctl_dev_teardown(dev, p->vq, 2))
				fprintf(stderr, "Warning: tear-down failed at %s\n",
					vhostctl_dev_setup_step(dev));
		}
		vhostctl_dev_close(p->dev);
		if (p->tap >= 0)
			close(p->tap);
		free(p->tx_free);
	}
	vhostctl_dev_close(nr->vdpa_dev);
	if (nr->pkt >= 0)
		close(nr->pkt);
	/* A tap we were given goes back the way it was; ours goes with its fds. */
	if (!nr->tap_ours && nr->tap_name[0] && !nr->tap_was_up)
		link_flags(nr->tap_name, false, NULL);
	vhostctl_vdpa_close(nr->nl);
	vhostctl_mem_free(nr->mem);
}

static int setup_error(const char *path, struct vhostctl_dev *dev, int r)
{
	fprintf(stderr, "Error: %s: set-up failed at %s: %s\n", path, vhostctl_dev_setup_step(dev),
		strerror(-r));
	return r;
}

static int net_open(struct net_run *nr)
{
	const struct up_args *a = nr->a;
	uint64_t want = 1ULL << VHOSTCTL_F_VERSION_1, offered = 0;
	int taps[MAX_QUEUES];
	int r;

	if (a->event_idx)
		want |= 1ULL << VHOSTCTL_F_EVENT_IDX;
	if (a->packed)
		want |= 1ULL << 34;	/* VIRTIO_F_RING_PACKED */
	nr->pkt = -1;
	nr->npairs = a->queues;
	for (unsigned int i = 0; i < MAX_QUEUES; i++)
		nr->p[i].tap = -1;
	nr->mem = vhostctl_mem_new();
	if (!nr->mem)
		return -errno;
	r = vhostctl_mem_add_region(nr->mem, MEM_GPA, a->mem, 0);
	if (r < 0) {
		fprintf(stderr, "Error: guest memory: %s\n", strerror(-r));
		return r;
	}
	nr->hs = vhostctl_net_hdr_size(want);

	if (a->kind == UP_VDPA) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2,
				   .queue_size = a->size, .features = want, .required = want);
		uint32_t id = 0;

		nr->vdpa_dev = vhostctl_dev_open(a->path, NULL);
		if (!nr->vdpa_dev) {
			r = -errno;
			fprintf(stderr, "Error: %s: %s\n", a->path, strerror(errno));
			return r;
		}
		r = vhostctl_dev_vdpa_device_id(nr->vdpa_dev, &id);
		if (r < 0 || id != 1) {
			fprintf(stderr, "Error: %s: not a vDPA net device (device id %u)\n", a->path,
				id);
			return r < 0 ? r : -ENODEV;
		}
		r = vhostctl_dev_setup(nr->vdpa_dev, nr->mem, nr->p[0].vq, &o, &nr->features);
		if (r)
			return setup_error(a->path, nr->vdpa_dev, r);
		nr->hs = vhostctl_net_hdr_size(nr->features);
		/* The vendor stats are a bonus: a kernel without vdpa netlink still loops. */
		if (!vdpa_name_of(a->path, nr->vdpa_name, sizeof(nr->vdpa_name)))
			nr->nl = vhostctl_vdpa_open();
		return pair_buffers(nr, &nr->p[0]);
	}

	/* vhost-net: a device per pair, opened before anything is created. */
	for (unsigned int i = 0; i < a->queues; i++) {
		nr->p[i].dev = vhostctl_dev_open(a->path, NULL);
		if (!nr->p[i].dev) {
			r = -errno;
			fprintf(stderr, "Error: %s: %s\n", a->path, strerror(errno));
			return r;
		}
	}
	r = vhostctl_dev_get_features(nr->p[0].dev, &offered);
	if (r) {
		fprintf(stderr, "Error: %s: cannot read features: %s\n", a->path, strerror(-r));
		return r;
	}
	if (want & ~offered) {
		fprintf(stderr, "Error: %s does not offer %s\n", a->path,
			want & ~offered & (1ULL << 34) ? "packed rings" : "EVENT_IDX");
		return -EOPNOTSUPP;
	}
	/* A tap queue per pair; the tap's vnet header is the guest's. */
	r = tap_attach(a->tap ? a->tap : "vhostctl%d", a->queues, (int)nr->hs, taps, nr->tap_name);
	if (r) {
		fprintf(stderr, "Error: tap %s: %s\n", a->tap ? a->tap : "", strerror(-r));
		return r;
	}
	for (unsigned int i = 0; i < a->queues; i++)
		nr->p[i].tap = taps[i];
	nr->tap_ours = !a->tap;
	nr->ifindex = (int)if_nametoindex(nr->tap_name);
	if (nr->tap_ours)
		no_ipv6(nr->tap_name);
	r = link_flags(nr->tap_name, true, &nr->tap_was_up);
	if (r) {
		fprintf(stderr, "Error: %s: cannot set the link up: %s\n", nr->tap_name,
			strerror(-r));
		return r;
	}
	if (a->loop) {
		nr->pkt = pkt_open(nr->ifindex);
		if (nr->pkt < 0) {
			r = nr->pkt;
			fprintf(stderr, "Error: packet socket on %s: %s\n", nr->tap_name,
				strerror(-r));
			return r;
		}
	}
	for (unsigned int i = 0; i < a->queues; i++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, o, .nqueues = 2,
				   .queue_size = a->size, .features = want, .required = want,
				   .flags = VHOSTCTL_SETUP_NET_BACKEND, .net_backend_fd = taps[i]);
		struct pair *p = &nr->p[i];

		r = vhostctl_dev_setup(p->dev, nr->mem, p->vq, &o, &nr->features);
		if (r)
			return setup_error(a->path, p->dev, r);
		r = pair_buffers(nr, p);
		if (r)
			return r;
	}
	return 0;
}

static void reap_tx(struct pair *p)
{
	void *tok;

	while (vhostctl_vq_get_used(p->vq[VHOSTCTL_NET_TX], NULL, &tok) == 1)
		p->tx_free[p->ntx_free++] = (unsigned int)(uintptr_t)tok - 1;
}

/* Receive what came back on a pair; re-post each buffer. */
static int reap_rx(struct net_run *nr, struct pair *p, struct up_stats *s)
{
	unsigned int n = 0;
	uint32_t len;
	void *tok;
	int r;

	while ((r = vhostctl_vq_get_used(p->vq[VHOSTCTL_NET_RX], &len, &tok)) == 1) {
		unsigned int slot = (unsigned int)(uintptr_t)tok - 1;
		int c;

		/* The library checked len against the buffer; the header must be there. */
		c = len < nr->hs ? -1 : frame_check(p->rxb + (size_t)slot * p->rxlen + nr->hs,
						  len - nr->hs);
		if (c > 0) {
			s->back++;
		} else if (c < 0) {
			s->bad++;
		} else {
			s->foreign++;
		}
		r = post_rx(p, slot);
		if (r)
			return r;
		n++;
	}
	if (r < 0)
		return r;
	if (n) {
		r = vhostctl_vq_kick(p->vq[VHOSTCTL_NET_RX]);
		if (r < 0)
			return r;
	}
	return (int)n;
}

/*
 * Send up to a burst on a pair, within the RX buffers posted: a multiqueue
 * tap may hand a frame back on any pair, so the window is over all of them
 * and never above one pair's RX buffers.
 */
static int send_burst(struct net_run *nr, struct pair *p, struct up_stats *s, bool more)
{
	unsigned int n = 0;
	int r;

	reap_tx(p);
	while (more && n < BURST && p->ntx_free && s->sent - s->back - s->bad < nr->a->size &&
	       (!nr->a->count || s->sent < nr->a->count)) {
		unsigned int slot = p->tx_free[p->ntx_free - 1];
		struct vhostctl_vq_buf b = { p->txb_gpa + (uint64_t)slot * p->txlen, p->txlen };
		uint8_t *f = p->txb + (size_t)slot * p->txlen;

		memset(f, 0, nr->hs);			/* no offloads */
		frame_fill(f + nr->hs, (uint32_t)s->sent);
		r = vhostctl_vq_add(p->vq[VHOSTCTL_NET_TX], &b, 1, 0, (void *)(uintptr_t)(slot + 1),
				    0);
		if (r == -ENOSPC)
			break;
		if (r)
			return r;
		p->ntx_free--;
		s->sent++;
		n++;
	}
	if (n) {
		r = vhostctl_vq_kick(p->vq[VHOSTCTL_NET_TX]);
		if (r < 0)
			return r;
	}
	return (int)n;
}

/* vhost-net: the host end sends every frame of ours straight back into the tap. */
static int reflect(struct net_run *nr)
{
	uint8_t buf[2048];
	int n = 0;

	for (;;) {
		struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = nr->ifindex,
					  .sll_halen = 6 };
		ssize_t len = recv(nr->pkt, buf, sizeof(buf), 0);

		if (len < 0)
			return errno == EAGAIN ? n : -errno;
		memcpy(to.sll_addr, buf, 6);
		to.sll_protocol = htons(ETHERTYPE);
		if (sendto(nr->pkt, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			return -errno;
		n++;
	}
}

/* Sleep until a call eventfd or the packet socket has something, or timeout. */
static int net_wait(struct net_run *nr, int timeout_ms)
{
	struct pollfd pfd[2 * MAX_QUEUES + 1];
	unsigned int n = 0;
	uint64_t v;

	for (unsigned int i = 0; i < nr->npairs; i++) {
		for (int q = 0; q < 2; q++) {
			if (vhostctl_vq_enable_cb(nr->p[i].vq[q]) == 1)
				timeout_ms = 0;
			pfd[n].fd = vhostctl_vq_call_fd(nr->p[i].vq[q]);
			pfd[n++].events = POLLIN;
		}
	}
	if (nr->pkt >= 0) {
		pfd[n].fd = nr->pkt;
		pfd[n++].events = POLLIN;
	}
	if (poll(pfd, n, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned int i = 0; i < 2 * nr->npairs; i++)
		if ((pfd[i].revents & POLLIN) && read(pfd[i].fd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			return -errno;
	return 0;
}

static uint64_t kicks_of(struct net_run *nr)
{
	struct vhostctl_vq_stats st;
	uint64_t k = 0;

	for (unsigned int i = 0; i < nr->npairs; i++)
		for (int q = 0; q < 2; q++)
			if (!vhostctl_vq_get_stats(nr->p[i].vq[q], &st))
				k += st.kicks;
	return k;
}

static int net_loop(struct net_run *nr, struct up_stats *s, bool tty)
{
	const struct up_args *a = nr->a;
	double next_progress = s->t0 + 1, drain_end = 0;
	struct dev_counters c;
	int r = 0;

	for (;;) {
		bool sending = a->loop && !stop_signal && !time_up(a, s) &&
			       (!a->count || s->sent < a->count);
		uint64_t inflight = s->sent - s->back - s->bad;
		int busy = 0;

		if (!a->loop) {
			if (stop_signal || time_up(a, s))
				break;
		} else if (!sending) {
			if (!inflight)
				break;
			/* What is still out gets its chance to come back. */
			if (!drain_end)
				drain_end = now_s() + DRAIN_MS / 1000.0;
			else if (now_s() >= drain_end)
				break;
		}
		for (unsigned int i = 0; i < nr->npairs; i++) {
			r = send_burst(nr, &nr->p[i], s, sending);
			if (r < 0)
				goto out;
			busy += r;
			r = reap_rx(nr, &nr->p[i], s);
			if (r < 0)
				goto out;
			busy += r;
		}
		if (nr->pkt >= 0) {
			r = reflect(nr);
			if (r < 0)
				goto out;
			busy += r;
		}
		if (tty && now_s() >= next_progress) {
			s->kicks = kicks_of(nr);
			counters(nr, &c);
			progress(a, s, &c, "frames");
			next_progress += 1;
		}
		if (!busy) {
			r = net_wait(nr, a->loop ? 100 : 500);
			if (r < 0)
				goto out;
		}
	}
	r = 0;
out:
	s->kicks = kicks_of(nr);
	if (r < 0)
		fprintf(stderr, "%sError: %s: %s\n", tty ? "\n" : "", a->path, strerror(-r));
	return r;
}

int net_up(const struct up_args *a, bool tty)
{
	struct dev_counters c0, c1;
	struct net_run nr;
	struct up_stats s;
	int r;

	memset(&nr, 0, sizeof(nr));
	memset(&s, 0, sizeof(s));
	nr.a = a;
	r = net_open(&nr);
	if (r)
		goto out;
	counters(&nr, &c0);
	s.t0 = now_s();
	r = net_loop(&nr, &s, tty);
	s.t1 = now_s();
	counters(&nr, &c1);
	if (tty)
		fputs("\r\033[K", stderr);
	print_open_object("up");
	print_open_object(a->path);
	print_text("%s: ", a->path);
	print_hex("features", NULL, nr.features);
	print_u64("queues", NULL, nr.npairs);
	print_u64("size", NULL, a->size);
	if (a->kind == UP_NET)
		print_string("tap", NULL, nr.tap_name);
	else if (nr.vdpa_name[0])
		print_string("vdpa", NULL, nr.vdpa_name);
	print_summary(a, &s, "frames");
	print_counters(a->kind == UP_NET ? "link" : "vstats", &c0, &c1);
	if (stop_signal)
		print_string("stopped_by", NULL, stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	print_close_object();
	print_close_object();
	print_nl();
	/* A frame lost or altered is a failure of the device under test. */
	if (!r && a->loop && s.sent != s.back) {
		fprintf(stderr, "Error: %s: %llu frames lost, %llu altered\n", a->path,
			(unsigned long long)(s.sent - s.back - s.bad), (unsigned long long)s.bad);
		r = -EIO;
	}
out:
	net_close(&nr);
	return r;
}
