// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl dev up: one command from a closed device node to queues that
 * carry frames, with the defaults a developer would pick, then a frame loop
 * through the device until Ctrl-C, a frame count or a duration:
 *
 *   vhost-net    the frames leave through a tap (ours, or the one named)
 *                and a packet socket on its link sends each one back in;
 *   vhost-vsock  a stream connection from a host socket to the guest end
 *                this process plays on the queues, which echoes every byte;
 *   vhost-vdpa   the device loops TX back to RX (kmod/ does).
 *
 * Every frame carries a sequence number and a pattern derived from it and
 * is checked on its way back.  The window of frames in flight never exceeds
 * the receive buffers posted, so a frame lost is one the device lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/vm_sockets.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"
#include "up.h"
#include "vsock_guest.h"

#define BURST 32			/* frames added before one kick */
#define MEM_GPA (1ULL << 20)		/* guest memory starts at 1 MiB */
#define DRAIN_MS 2000			/* what is still out may come back */
#define VSOCK_PORT 5201
#define MAX_QUEUES 16

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Arguments */

struct keyword {
	const char *name;
	bool value;
	unsigned int kinds;		/* bit per enum up_kind */
};

#define K_ALL (1u << UP_NET | 1u << UP_VSOCK | 1u << UP_VDPA)

static const struct keyword keywords[] = {
	{ "queues", true, 1u << UP_NET | 1u << UP_VDPA },
	{ "size", true, 1u << UP_NET | 1u << UP_VDPA },
	{ "packed", false, 1u << UP_NET | 1u << UP_VDPA },
	{ "event_idx", false, K_ALL },
	{ "mem", true, 1u << UP_NET | 1u << UP_VDPA },
	{ "tap", true, 1u << UP_NET },
	{ "cid", true, 1u << UP_VSOCK },
	{ "traffic", true, K_ALL },
	{ "count", true, K_ALL },
	{ "duration", true, K_ALL },
};

static const char *const kind_names[] = { "vhost-net", "vhost-vsock", "vhost-vdpa" };

int parse_size(const char *s, uint64_t *v)
{
	unsigned long long n;
	unsigned int shift = 0;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || n > (UINT64_MAX >> shift))
		return -EINVAL;
	*v = (uint64_t)n << shift;
	return 0;
}

static int parse_num(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (*end || errno || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

static int bad_value(const char *kw, const char *val, const char *what)
{
	fprintf(stderr, "Invalid value \"%s\" for \"%s\": %s is expected\n", val, kw, what);
	return -EINVAL;
}

static int kind_of(const char *path, enum up_kind *kind)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!strcmp(base, "vhost-net"))
		*kind = UP_NET;
	else if (!strcmp(base, "vhost-vsock"))
		*kind = UP_VSOCK;
	else if (!strncmp(base, "vhost-vdpa-", 11))
		*kind = UP_VDPA;
	else
		return -EINVAL;
	return 0;
}

int up_parse(int argc, char **argv, struct up_args *a)
{
	unsigned int seen = 0;
	unsigned long long n;

	memset(a, 0, sizeof(*a));
	if (argc < 1) {
		fprintf(stderr, "Device path is expected.\n");
		return -EINVAL;
	}
	a->path = argv[0];
	if (kind_of(a->path, &a->kind)) {
		fprintf(stderr, "Device \"%s\" is not a vhost-net, vhost-vsock or vhost-vdpa node\n",
			a->path);
		return -EINVAL;
	}
	a->queues = 1;
	a->loop = true;
	a->cid = 3;
	for (int i = 1; i < argc; i++) {
		const char *kw = argv[i], *val;
		unsigned int k;

		for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
			if (matches(kw, keywords[k].name))
				break;
		if (k == sizeof(keywords) / sizeof(keywords[0])) {
			fprintf(stderr, "Unknown option \"%s\"\n", kw);
			return -EINVAL;
		}
		if (seen & (1u << k)) {
			fprintf(stderr, "Option \"%s\" is repeated\n", kw);
			return -EINVAL;
		}
		seen |= 1u << k;
		if (!(keywords[k].kinds & (1u << a->kind))) {
			fprintf(stderr, "Option \"%s\" does not apply to a %s device\n", kw,
				kind_names[a->kind]);
			return -EINVAL;
		}
		val = NULL;
		if (keywords[k].value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "Option \"%s\" needs a value\n", kw);
				return -EINVAL;
			}
			val = argv[++i];
		}
		if (matches(kw, "queues")) {
			/* Queue pairs: one vhost-net fd each, on a multiqueue tap. */
			if (parse_num(val, 1, a->kind == UP_NET ? MAX_QUEUES : 1, &n))
				return bad_value(kw, val, a->kind == UP_NET ?
					"a number from 1 to 16" : "1 (one queue pair)");
			a->queues = (unsigned int)n;
		} else if (matches(kw, "size")) {
			if (parse_num(val, 1, 32768, &n))
				return bad_value(kw, val, "a ring size from 1 to 32768");
			a->size = (unsigned int)n;
		} else if (matches(kw, "packed")) {
			a->packed = true;
		} else if (matches(kw, "event_idx")) {
			a->event_idx = true;
		} else if (matches(kw, "mem")) {
			if (parse_size(val, &a->mem) || a->mem < (1u << 20) || a->mem > (1ULL << 32) ||
			    a->mem % 4096)
				return bad_value(kw, val, "a size from 1M to 4G in 4K pages");
		} else if (matches(kw, "tap")) {
			if (!*val || strlen(val) >= IFNAMSIZ || strchr(val, '/') || strchr(val, ' '))
				return bad_value(kw, val, "an interface name");
			a->tap = val;
		} else if (matches(kw, "cid")) {
			if (parse_num(val, 3, 0xfffffffeULL, &n))
				return bad_value(kw, val, "a CID from 3 to 4294967294");
			a->cid = n;
		} else if (matches(kw, "traffic")) {
			if (matches(val, "loop"))
				a->loop = true;
			else if (matches(val, "none"))
				a->loop = false;
			else
				return bad_value(kw, val, "\"loop\" or \"none\"");
		} else if (matches(kw, "count")) {
			if (parse_num(val, 1, UINT64_MAX, &n))
				return bad_value(kw, val, "a positive number");
			a->count = n;
		} else if (matches(kw, "duration")) {
			if (parse_num(val, 1, 86400 * 365, &n))
				return bad_value(kw, val, "a number of seconds");
			a->duration = (unsigned int)n;
		}
	}
	if (!a->size)
		a->size = a->kind == UP_VSOCK ? VG_NUM : 256;
	if (a->size && !a->packed && (a->size & (a->size - 1))) {
		fprintf(stderr, "Invalid value \"%u\" for \"size\": a split ring's size is a power of two\n",
			a->size);
		return -EINVAL;
	}
	if (a->count && !a->loop) {
		fprintf(stderr, "Option \"count\" needs \"traffic loop\"\n");
		return -EINVAL;
	}
	return 0;
}

/* Running */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct up_stats {
	uint64_t sent;		/* frames (vsock: messages) sent */
	uint64_t back;		/* came back intact */
	uint64_t bad;		/* came back altered */
	uint64_t foreign;	/* received, not ours */
	uint64_t kicks;
	double t0, t1;
};

/* What the device itself counts: the tap's link or the vDPA vendor stats. */
struct dev_counters {
	bool valid;
	uint64_t rx_packets, tx_packets, rx_drops, tx_drops;
};

void frame_fill(uint8_t *f, uint32_t seq)
{
	memset(f, 0xff, 6);				/* broadcast */
	f[6] = 0x02;					/* locally administered */
	f[7] = 0x76;
	f[8] = 0x68;
	f[9] = 0x63;
	f[10] = 0;
	f[11] = 1;
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memcpy(f + 14, &seq, 4);
	for (unsigned int i = 18; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

/* 1: one of ours intact, 0: not ours, -1: ours but altered. */
int frame_check(const uint8_t *f, uint32_t len)
{
	uint32_t seq;

	if (len < 14 || f[12] != ETHERTYPE >> 8 || f[13] != (ETHERTYPE & 0xff))
		return 0;
	if (len != FRAME_LEN)
		return -1;
	memcpy(&seq, f + 14, 4);
	for (unsigned int i = 18; i < FRAME_LEN; i++)
		if (f[i] != (uint8_t)(seq * 7 + i))
			return -1;
	return 1;
}

static void progress(const struct up_args *a, const struct up_stats *s,
		     const struct dev_counters *c, const char *unit)
{
	double t = now_s() - s->t0;

	fprintf(stderr, "\r%s: %s %llu back %llu %.0f/s lost %llu kicks %llu", a->path, unit,
		(unsigned long long)s->sent, (unsigned long long)s->back,
		t > 0 ? (double)s->back / t : 0.0,
		(unsigned long long)(s->sent - s->back - s->bad), (unsigned long long)s->kicks);
	if (c && c->valid)
		fprintf(stderr, " | device rx %llu tx %llu drops %llu",
			(unsigned long long)c->rx_packets, (unsigned long long)c->tx_packets,
			(unsigned long long)(c->rx_drops + c->tx_drops));
	fputs("\033[K", stderr);
}

static void print_summary(const struct up_args *a, const struct up_stats *s, const char *unit)
{
	double t = s->t1 - s->t0;
	char key[32];

	print_string("traffic", NULL, a->loop ? "loop" : "none");
	snprintf(key, sizeof(key), "%s_sent", unit);
	print_u64(key, NULL, s->sent);
	snprintf(key, sizeof(key), "%s_back", unit);
	print_u64(key, NULL, s->back);
	snprintf(key, sizeof(key), "%s_lost", unit);
	print_u64(key, NULL, s->sent - s->back - s->bad);
	snprintf(key, sizeof(key), "%s_bad", unit);
	print_u64(key, NULL, s->bad);
	print_u64("foreign", NULL, s->foreign);
	print_u64("kicks", NULL, s->kicks);
	print_u64("msecs", NULL, (uint64_t)(t * 1000));
	print_u64("rate", NULL, t > 0 ? (uint64_t)((double)s->back / t) : 0);
}

static void print_counters(const char *name, const struct dev_counters *c0,
			   const struct dev_counters *c1)
{
	if (!c0->valid || !c1->valid)
		return;
	print_open_object(name);
	print_text("%s: ", name);
	print_u64("rx_packets", NULL, c1->rx_packets - c0->rx_packets);
	print_u64("tx_packets", NULL, c1->tx_packets - c0->tx_packets);
	print_u64("rx_drops", NULL, c1->rx_drops - c0->rx_drops);
	print_u64("tx_drops", NULL, c1->tx_drops - c0->tx_drops);
	print_close_object();
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static bool time_up(const struct up_args *a, const struct up_stats *s)
{
	return a->duration && now_s() - s->t0 >= a->duration;
}

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
	uint64_t want = 1ULL << VHOSTCTL_F_VERSION_1, need, offered = 0;
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
	/* Rings, RX and TX buffers of every pair, and room for what the rings round to. */
	need = (uint64_t)a->queues * a->size * (2 * 12 + 1518 + FRAME_LEN + 64) + (1 << 20);
	need = (need + (1 << 20) - 1) & ~((1ULL << 20) - 1);
	if (a->mem && a->mem < need) {
		fprintf(stderr, "Error: mem %llu is too small: %llu bytes are needed\n",
			(unsigned long long)a->mem, (unsigned long long)need);
		return -EINVAL;
	}
	nr->mem = vhostctl_mem_new();
	if (!nr->mem)
		return -errno;
	r = vhostctl_mem_add_region(nr->mem, MEM_GPA, a->mem ? a->mem : need, 0);
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

static int net_up(const struct up_args *a, bool tty)
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
	if (!r && a->loop && s.sent != s.back)
		r = -EIO;
out:
	net_close(&nr);
	return r;
}

/* vhost-vsock: a host socket talks to the guest end we play on the queues. */

struct vsock_run {
	const struct up_args *a;
	struct vguest g;
	int sock;
	_Atomic uint64_t sent, back, bad;
	atomic_bool done;		/* the host side has finished */
	atomic_bool no_more;		/* send nothing new, wait for what is out */
	atomic_bool stop;		/* the main thread asks it to */
	int err;
};

static void *vsock_host(void *arg)
{
	struct vsock_run *v = arg;
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = (unsigned int)v->a->cid,
		.svm_port = VSOCK_PORT,
	};
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	uint8_t out[FRAME_LEN], in[FRAME_LEN];

	if (connect(v->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		v->err = -errno;
		goto out;
	}
	setsockopt(v->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!atomic_load(&v->stop) && !atomic_load(&v->no_more) &&
	       (!v->a->count || v->sent < v->a->count)) {
		size_t got = 0;

		frame_fill(out, (uint32_t)v->sent);
		if (send(v->sock, out, sizeof(out), MSG_NOSIGNAL) != (ssize_t)sizeof(out)) {
			v->err = -errno;
			break;
		}
		v->sent++;
		while (got < sizeof(in) && !atomic_load(&v->stop)) {
			ssize_t n = recv(v->sock, in + got, sizeof(in) - got, 0);

			if (n < 0 && errno == EAGAIN)
				continue;
			if (n <= 0) {
				v->err = n ? -errno : -ECONNRESET;
				goto out;
			}
			got += (size_t)n;
		}
		if (got < sizeof(in))
			break;
		if (frame_check(in, sizeof(in)) > 0 && !memcmp(in, out, sizeof(in)))
			v->back++;
		else
			v->bad++;
	}
out:
	atomic_store(&v->done, true);
	return NULL;
}

static uint64_t vsock_kicks(struct vguest *g)
{
	struct vhostctl_vq_stats st;
	uint64_t k = 0;

	for (int q = 0; q < 2; q++)
		if (g->vq[q] && !vhostctl_vq_get_stats(g->vq[q], &st))
			k += st.kicks;
	return k;
}

static int vsock_up(const struct up_args *a, bool tty)
{
	uint64_t want = 1ULL << VHOSTCTL_F_VERSION_1;
	double next_progress;
	struct vsock_run v;
	struct up_stats s;
	const char *step = "";
	pthread_t th;
	sigset_t all, old;
	bool started = false;
	uint8_t *echo = NULL;
	int r;

	memset(&v, 0, sizeof(v));
	memset(&s, 0, sizeof(s));
	v.a = a;
	v.sock = -1;
	if (a->event_idx)
		want |= 1ULL << VHOSTCTL_F_EVENT_IDX;
	r = vg_open(&v.g, a->cid, want, 1 << 20, &step);
	if (r) {
		fprintf(stderr, "Error: %s: set-up failed at %s: %s\n", a->path, step, strerror(-r));
		goto out;
	}
	if (!a->loop) {
		s.t0 = now_s();
		while (!stop_signal && !time_up(a, &s)) {
			r = vg_poll(&v.g, 500);
			if (r < 0 && r != -ETIMEDOUT && r != -EINTR)
				break;
			r = 0;
		}
		goto summary;
	}
	echo = malloc(1 << 20);
	v.sock = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!echo || v.sock < 0) {
		r = -errno;
		fprintf(stderr, "Error: vsock socket: %s\n", strerror(errno));
		goto out;
	}
	/* The host side takes no signal: Ctrl-C is the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&th, NULL, vsock_host, &v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		fprintf(stderr, "Error: thread: %s\n", strerror(-r));
		goto out;
	}
	started = true;
	s.t0 = now_s();
	next_progress = s.t0 + 1;
	r = vg_accept(&v.g, VSOCK_PORT, 5000);
	if (r) {
		fprintf(stderr, "Error: %s: no connection from the host: %s\n", a->path,
			strerror(-r));
		goto stop;
	}
	for (double drain_end = 0; !atomic_load(&v.done);) {
		size_t n;

		/* Out of time or interrupted: what is out gets its chance to come back. */
		if ((stop_signal || time_up(a, &s)) && !drain_end) {
			atomic_store(&v.no_more, true);
			drain_end = now_s() + DRAIN_MS / 1000.0;
		}
		if (drain_end && now_s() >= drain_end)
			break;

		r = vg_poll(&v.g, 100);
		if (r == -ETIMEDOUT || r == -EINTR)
			r = 0;
		if (r < 0)
			break;
		/* Echo what arrived; vg_send() may receive more meanwhile. */
		n = v.g.len;
		if (n) {
			memcpy(echo, v.g.data, n);
			v.g.len = 0;
			r = vg_send(&v.g, echo, n, 3000);
			if (r)
				break;
		}
		if (tty && now_s() >= next_progress) {
			s.sent = v.sent;
			s.back = v.back;
			s.bad = v.bad;
			s.kicks = vsock_kicks(&v.g);
			progress(a, &s, NULL, "messages");
			next_progress += 1;
		}
		r = 0;
	}
	if (r)
		fprintf(stderr, "%sError: %s: %s\n", tty ? "\n" : "", a->path, strerror(-r));
stop:
	atomic_store(&v.stop, true);
	shutdown(v.sock, SHUT_RDWR);
	pthread_join(th, NULL);
	started = false;
	if (!r && v.err && !atomic_load(&v.no_more)) {
		r = v.err;
		fprintf(stderr, "Error: host socket: %s\n", strerror(-r));
	}
summary:
	s.t1 = now_s();
	s.sent = v.sent;
	s.back = v.back;
	s.bad = v.bad;
	if (tty)
		fputs("\r\033[K", stderr);
	s.kicks = vsock_kicks(&v.g);
	print_open_object("up");
	print_open_object(a->path);
	print_text("%s: ", a->path);
	print_hex("features", NULL, v.g.features);
	print_u64("cid", NULL, a->cid);
	print_summary(a, &s, "messages");
	print_open_object("guest");
	print_text("%s: ", "guest");
	print_u64("packets_rx", NULL, v.g.pkts_rx);
	print_u64("packets_tx", NULL, v.g.pkts_tx);
	print_close_object();
	if (stop_signal)
		print_string("stopped_by", NULL, stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	print_close_object();
	print_close_object();
	print_nl();
	if (!r && a->loop && s.sent != s.back)
		r = -EIO;
out:
	if (started) {
		atomic_store(&v.stop, true);
		shutdown(v.sock, SHUT_RDWR);
		pthread_join(th, NULL);
	}
	if (v.sock >= 0)
		close(v.sock);
	free(echo);
	vg_close(&v.g);
	return r;
}

int dev_up(int argc, char **argv)
{
	struct up_args a;
	bool tty;
	int r;

	r = up_parse(argc, argv, &a);
	if (r)
		return r;
	install_signals();
	tty = isatty(STDERR_FILENO);
	if (a.kind == UP_VSOCK)
		r = vsock_up(&a, tty);
	else
		r = net_up(&a, tty);
	return r;
}
