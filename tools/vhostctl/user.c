// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl user: libvhostctl's vhost-user backends as a daemon (serve), and
 * what a backend offers, asked as a frontend (probe; also dev show unix:PATH).
 *
 * Every keyword is checked before a socket is touched: a usage error never
 * leaves a socket file behind or a backend half-configured.
 */
#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"

#define NET_MAX_PAIRS 32
#define BLK_MAX_QUEUES 16
#define STATS_MAX_SECS 86400
/* sizeof(struct virtio_blk_config) as QEMU and qemu-storage-daemon serve it. */
#define BLK_CONFIG_SIZE 60
/* Virtio-net config up to mtu: mac, status, max_virtqueue_pairs, mtu. */
#define NET_CONFIG_SIZE 12

/* Virtio feature bits the config decoding depends on. */
#define NET_F_CSUM 0
#define NET_F_MTU 3
#define NET_F_MAC 5
#define NET_F_MRG_RXBUF 15
#define NET_F_STATUS 16
#define NET_F_MQ 22
#define BLK_F_SIZE_MAX 1
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_MQ 12

static void user_usage(FILE *f)
{
	fprintf(f,
		"Usage: vhostctl user serve { net | blk } unix:PATH [ queues N ] [ listen | connect ]\n"
		"                     [ stats SECS ] [ mac MAC ] [ file IMAGE ] [ size BYTES ]\n"
		"                     [ readonly ]\n"
		"       vhostctl user probe unix:PATH\n"
		"       vhostctl user help\n");
}

static void serve_usage(FILE *f)
{
	fprintf(f,
		"Usage: vhostctl user serve { net | blk } unix:PATH [ queues N ] [ listen | connect ]\n"
		"                     [ stats SECS ] [ mac MAC ] [ file IMAGE ] [ size BYTES ]\n"
		"                     [ readonly ]\n"
		"where  queues N     queue pairs (net, 1..32) or queues (blk, 1..16); default 1\n"
		"       listen       wait for frontends on PATH, one at a time (default)\n"
		"       connect      connect to a frontend listening on PATH, again when it goes\n"
		"       stats SECS   a statistics line every SECS seconds (also on SIGUSR1)\n"
		"       mac MAC      net: the MAC address in config space\n"
		"       file IMAGE   blk: serve IMAGE (else a RAM disk)\n"
		"       size BYTES   blk: the RAM disk's size, a multiple of 512, K/M/G allowed\n"
		"       readonly     blk: refuse writes\n");
}

static void probe_usage(FILE *f)
{
	fprintf(f, "Usage: vhostctl user probe unix:PATH\n");
}

/* "unix:PATH" to PATH; NULL, with the error printed, for anything else. */
static const char *socket_path(const char *arg)
{
	const char *p;

	if (strncmp(arg, "unix:", 5)) {
		fprintf(stderr, "Socket \"%s\" must be given as unix:PATH\n", arg);
		return NULL;
	}
	p = arg + 5;
	if (!*p) {
		fprintf(stderr, "Socket \"%s\" has an empty path\n", arg);
		return NULL;
	}
	if (strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "Socket path \"%s\" is too long (at most %zu bytes)\n", p,
			sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return NULL;
	}
	return p;
}

static void mac_string(char *buf, size_t n, const uint8_t *m)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* ---- probe ------------------------------------------------------------ */

static void quiet_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= VHOSTCTL_LOG_ERR)
		fprintf(stderr, "vhostctl: %s\n", msg);
}

static void print_protocol_features(const char *name, uint64_t f)
{
	char buf[16];

	print_open_array(name);
	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *n;

		if (!(f & (1ULL << bit)))
			continue;
		n = vhostctl_vu_protocol_feature_name(bit);
		if (!n) {
			snprintf(buf, sizeof(buf), "bit_%u", bit);
			n = buf;
		}
		print_string(NULL, "%s ", n);
	}
	print_close_array();
}

/*
 * vhost-user carries no device id.  A backend answers GET_CONFIG for at
 * most its config size and refuses a larger read, so the largest read
 * accepted tells the class: virtio_blk_config is 60 bytes, a net device's
 * config up to its mtu 12.  Nothing is written.
 *
 * Return: the virtio device id (0 when no read was accepted), or -errno
 * when the backend broke the protocol (a refusal, -EIO, is not an error).
 */
static int read_config(struct vhostctl_dev *dev, uint8_t *c, unsigned int *len)
{
	static const struct {
		unsigned int len, id;
	} tries[] = { { BLK_CONFIG_SIZE, 2 }, { NET_CONFIG_SIZE, 1 }, { 8, 1 }, { 6, 1 } };
	int r;

	*len = 0;
	for (unsigned int i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		r = vhostctl_dev_get_config(dev, 0, c, tries[i].len);
		if (r == 0) {
			*len = tries[i].len;
			return (int)tries[i].id;
		}
		if (r != -EIO)
			return r;
	}
	return 0;
}

static void print_config(const uint8_t *c, unsigned int len, unsigned int id, uint64_t f)
{
	char mac[18];

	print_open_object("config");
	print_u64("config_size", NULL, len);
	if (id == 1) {
		if (f & (1ULL << NET_F_MAC) && len >= 6) {
			mac_string(mac, sizeof(mac), c);
			print_string("mac", "mac %s ", mac);
		}
		if (f & (1ULL << NET_F_STATUS) && len >= 8)
			print_string("link", "link %s ", le(c + 6, 2) & 1 ? "up" : "down");
		if (f & (1ULL << NET_F_MQ) && len >= 10)
			print_u64("max_vq_pairs", NULL, le(c + 8, 2));
		if (f & (1ULL << NET_F_MTU) && len >= 12)
			print_u64("mtu", NULL, le(c + 10, 2));
	} else if (id == 2) {
		print_u64("capacity", NULL, le(c, 8));
		if (f & (1ULL << BLK_F_SIZE_MAX))
			print_u64("size_max", NULL, le(c + 8, 4));
		if (f & (1ULL << BLK_F_SEG_MAX))
			print_u64("seg_max", NULL, le(c + 12, 4));
		if (f & (1ULL << BLK_F_BLK_SIZE))
			print_u64("blk_size", NULL, le(c + 20, 4));
		if (f & (1ULL << BLK_F_MQ))
			print_u64("num_queues", NULL, le(c + 34, 2));
		print_bool("read_only", "read_only %s ", f & (1ULL << BLK_F_RO));
	}
	print_close_object();
}

static const char *class_of(unsigned int id)
{
	return id == 1 ? "net" : id == 2 ? "block" : "unknown";
}

/*
 * Connect as a frontend, read what the backend offers, disconnect.  Only
 * requests that read are sent, beyond the handshake's SET_PROTOCOL_FEATURES
 * and backend channel, which end with the connection: no owner is taken, no
 * feature is acked, no ring is set up.
 */
int user_show(const char *arg)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .log = quiet_log);
	uint8_t config[BLK_CONFIG_SIZE];
	struct vhostctl_dev *dev;
	unsigned int id = 0, clen = 0;
	uint64_t f, pf;
	int queues, slots, r;
	const char *path;
	struct stat st;

	path = socket_path(arg);
	if (!path)
		return -EINVAL;
	/* Fail at once rather than after the connect retries of a starting backend. */
	if (stat(path, &st) < 0) {
		r = -errno;
		fprintf(stderr, "Error: %s: %s\n", arg, strerror(errno));
		return r;
	}
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "Error: %s: not a socket\n", arg);
		return -ENOTSOCK;
	}
	dev = vhostctl_vu_open(path, &o);
	if (!dev) {
		r = -errno;
		fprintf(stderr, "Error: %s: cannot connect as a vhost-user frontend: %s\n", arg,
			strerror(errno));
		return r;
	}
	r = vhostctl_dev_get_features(dev, &f);
	if (!r)
		r = vhostctl_vu_protocol_features(dev, &pf);
	queues = r ? r : vhostctl_vu_queue_count(dev);
	slots = queues < 0 ? queues : vhostctl_vu_max_mem_slots(dev);
	if (r || queues < 0 || slots < 0) {
		r = r ? r : queues < 0 ? queues : slots;
		fprintf(stderr, "Error: %s: the backend did not answer: %s\n", arg, strerror(-r));
		vhostctl_dev_close(dev);
		return r;
	}
	if (pf & (1ULL << VHOSTCTL_VU_PF_CONFIG)) {
		r = read_config(dev, config, &clen);
		if (r < 0) {
			fprintf(stderr, "Error: %s: GET_CONFIG: %s\n", arg, strerror(-r));
			vhostctl_dev_close(dev);
			return r;
		}
		id = (unsigned int)r;
	}
	/*
	 * Without a config to tell, CSUM and MRG_RXBUF say net: their bits are
	 * a legacy barrier and a wear-life report for block, never offered
	 * without a config.
	 */
	if (!id && f & (1ULL << NET_F_CSUM | 1ULL << NET_F_MRG_RXBUF))
		id = 1;
	vhostctl_dev_close(dev);

	print_open_object(arg);
	print_text("%s: ", arg);
	print_string("transport", NULL, "vhost-user");
	print_string("class", NULL, class_of(id));
	print_hex("features", NULL, f);
	print_features("feature_names", f, id);
	print_hex("protocol_features", NULL, pf);
	print_protocol_features("protocol_feature_names", pf);
	print_u64("queues", NULL, (unsigned int)queues);
	print_u64("max_mem_slots", NULL, (unsigned int)slots);
	if (clen)
		print_config(config, clen, id, f);
	print_close_object();
	print_nl();
	return 0;
}

static int user_probe(int argc, char **argv)
{
	int r;

	if (argc < 1) {
		fprintf(stderr, "Socket is expected, try \"vhostctl user probe help\".\n");
		return -EINVAL;
	}
	if (matches(argv[0], "help") || (argc == 2 && matches(argv[1], "help"))) {
		probe_usage(stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "Unknown option \"%s\"\n", argv[1]);
		return -EINVAL;
	}
	print_open_object("user");
	r = user_show(argv[0]);
	print_close_object();
	return r;
}

/* ---- serve ------------------------------------------------------------ */

struct serve_args {
	bool net;
	const char *arg;	/* unix:PATH as given */
	const char *path;
	unsigned int queues;
	bool connect;
	unsigned int stats_secs;
	uint8_t mac[6];
	const char *file;
	unsigned long long size;
	bool read_only;
};

static int only_for(const char *kw, const char *type)
{
	fprintf(stderr, "Option \"%s\" is valid only for %s\n", kw, type);
	return -EINVAL;
}

static bool takes_value(const char *kw)
{
	return matches(kw, "queues") || matches(kw, "stats") || matches(kw, "mac") ||
	       matches(kw, "file") || matches(kw, "size");
}

/* 0: parsed; 1: usage shown on request; -EINVAL: error printed. */
static int serve_parse(int argc, char **argv, struct serve_args *a)
{
	bool seen_queues = false, seen_role = false, seen_stats = false, seen_mac = false;
	bool seen_size = false;
	unsigned long long n;

	if (argc < 1) {
		fprintf(stderr, "Device type is expected: net or blk\n");
		return -EINVAL;
	}
	/* "help" where a keyword may stand shows the usage, as in iproute2. */
	for (int i = 0; i < argc; i++) {
		if (matches(argv[i], "help") && (i < 2 || !takes_value(argv[i - 1]))) {
			serve_usage(stdout);
			return 1;
		}
	}
	if (matches(argv[0], "net")) {
		a->net = true;
	} else if (!matches(argv[0], "blk")) {
		fprintf(stderr, "Device type \"%s\" is unknown: net or blk\n", argv[0]);
		return -EINVAL;
	}
	if (argc < 2) {
		fprintf(stderr, "Socket is expected, try \"vhostctl user serve help\".\n");
		return -EINVAL;
	}
	a->arg = argv[1];
	a->path = socket_path(argv[1]);
	if (!a->path)
		return -EINVAL;
	a->queues = 1;
	a->mac[0] = 0x02;	/* locally administered */
	a->mac[5] = 0x01;
	a->size = 64ULL << 20;
	for (int i = 2; i < argc; i++) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (matches(kw, "listen") || matches(kw, "connect")) {
			if (seen_role) {
				fprintf(stderr, "Options \"listen\" and \"connect\" are exclusive, "
						"given once each\n");
				return -EINVAL;
			}
			seen_role = true;
			a->connect = matches(kw, "connect");
			continue;
		}
		if (matches(kw, "readonly")) {
			if (a->net)
				return only_for(kw, "blk");
			if (a->read_only) {
				fprintf(stderr, "Error: duplicate \"readonly\".\n");
				return -EINVAL;
			}
			a->read_only = true;
			continue;
		}
		if (!takes_value(kw)) {
			fprintf(stderr, "Unknown option \"%s\"\n", kw);
			return -EINVAL;
		}
		if (!val) {
			fprintf(stderr, "Option \"%s\" needs a value\n", kw);
			return -EINVAL;
		}
		i++;
		if (matches(kw, "queues")) {
			unsigned int max = a->net ? NET_MAX_PAIRS : BLK_MAX_QUEUES;

			if (seen_queues)
				return arg_duplicate(kw, val);
			seen_queues = true;
			if (arg_num(val, 1, max, &n)) {
				fprintf(stderr, "Invalid queues \"%s\" (%s: 1 to %u)\n", val,
					a->net ? "net" : "blk", max);
				return -EINVAL;
			}
			a->queues = (unsigned int)n;
		} else if (matches(kw, "stats")) {
			if (seen_stats)
				return arg_duplicate(kw, val);
			seen_stats = true;
			if (arg_num(val, 1, STATS_MAX_SECS, &n)) {
				fprintf(stderr, "Invalid stats \"%s\" (seconds, 1 to %u)\n", val,
					STATS_MAX_SECS);
				return -EINVAL;
			}
			a->stats_secs = (unsigned int)n;
		} else if (matches(kw, "mac")) {
			if (!a->net)
				return only_for(kw, "net");
			if (seen_mac)
				return arg_duplicate(kw, val);
			seen_mac = true;
			if (arg_mac(val, a->mac)) {
				fprintf(stderr, "Invalid MAC address \"%s\"\n", val);
				return -EINVAL;
			}
		} else if (matches(kw, "file")) {
			if (a->net)
				return only_for(kw, "blk");
			if (a->file)
				return arg_duplicate(kw, val);
			if (!*val) {
				fprintf(stderr, "Invalid file \"\"\n");
				return -EINVAL;
			}
			a->file = val;
		} else {
			if (a->net)
				return only_for(kw, "blk");
			if (seen_size)
				return arg_duplicate(kw, val);
			seen_size = true;
			if (arg_size(val, &n) || !n || n % 512) {
				fprintf(stderr, "Invalid size \"%s\" (bytes, a multiple of 512)\n",
					val);
				return -EINVAL;
			}
			a->size = n;
		}
	}
	if (a->file && seen_size) {
		fprintf(stderr, "Options \"file\" and \"size\" are exclusive\n");
		return -EINVAL;
	}
	return 0;
}

static void serve_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "vhostctl: %s\n", msg);
	(void)level;
}

static void print_stats(struct vhostctl_vu_backend *be, const struct serve_args *a,
			const char *reason)
{
	struct vhostctl_vu_backend_stats bs;
	struct vhostctl_vu_net_stats ns;

	if (vhostctl_vu_backend_stats(be, &bs))
		return;
	print_open_object(NULL);
	print_text("%s: ", reason);
	print_string("reason", "", reason);
	if (a->net && vhostctl_vu_net_stats(be, &ns) == 0) {
		print_u64("tx_packets", NULL, ns.tx_packets);
		print_u64("rx_packets", NULL, ns.rx_packets);
		print_u64("tx_bytes", NULL, ns.tx_bytes);
		print_u64("dropped", NULL, ns.dropped);
	}
	print_u64("connections", NULL, bs.connections);
	print_bool("connected", NULL, bs.connected);
	print_u64("messages", NULL, bs.messages);
	print_u64("kicks", NULL, bs.kicks);
	print_u64("protocol_errors", NULL, bs.protocol_errors);
	if (bs.protocol_errors) {
		bs.last_error[sizeof(bs.last_error) - 1] = '\0';
		print_string("last_error", "last_error \"%s\" ", bs.last_error);
	}
	print_close_object();
	print_nl();
	fflush(stdout);
}

static struct vhostctl_vu_backend *serve_new(const struct serve_args *a)
{
	if (a->net) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, o, .log = serve_log,
				   .log_level = VHOSTCTL_LOG_WARNING, .queue_pairs = a->queues);

		memcpy(o.mac, a->mac, sizeof(o.mac));
		return vhostctl_vu_net_new(&o);
	} else {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, o, .log = serve_log,
				   .log_level = VHOSTCTL_LOG_WARNING, .path = a->file,
				   .size = a->file ? 0 : a->size, .read_only = a->read_only,
				   .num_queues = a->queues);

		return vhostctl_vu_blk_new(&o);
	}
}

/*
 * The event loop: the backend's fd, the signals (blocked, read through a
 * signalfd so none is lost between two polls) and the statistics timer.
 * In connect mode a frontend that goes away is connected to again, every
 * 100 ms, until a signal ends the daemon.
 */
static int serve_loop(struct vhostctl_vu_backend *be, const struct serve_args *a, int sfd,
		      int tfd)
{
	struct vhostctl_vu_backend_stats bs;
	bool waiting = false;
	int r;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = vhostctl_vu_backend_fd(be), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = tfd, .events = POLLIN },
		};
		int timeout = -1;

		if (a->connect && vhostctl_vu_backend_stats(be, &bs) == 0 && !bs.connected) {
			r = vhostctl_vu_backend_connect(be, a->path);
			if (r == 0) {
				fprintf(stderr, "vhostctl: connected to %s\n", a->arg);
				waiting = false;
			} else if (r == -ECONNREFUSED || r == -ENOENT) {
				if (!waiting)
					fprintf(stderr, "vhostctl: waiting for a frontend on %s\n",
						a->arg);
				waiting = true;
				timeout = 100;
			} else {
				fprintf(stderr, "Error: %s: cannot connect: %s\n", a->arg,
					strerror(-r));
				return r;
			}
		}
		r = poll(p, tfd >= 0 ? 3 : 2, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			fprintf(stderr, "Error: poll: %s\n", strerror(errno));
			return r;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					print_stats(be, a, "signal");
				else
					return 0;
			}
		}
		if (tfd >= 0 && p[2].revents & POLLIN) {
			uint64_t ticks;

			if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
				print_stats(be, a, "periodic");
		}
		if (p[0].revents & POLLIN) {
			r = vhostctl_vu_backend_dispatch(be, 0);
			if (r < 0 && r != -EINTR && r != -EAGAIN) {
				fprintf(stderr, "Error: %s: %s\n", a->arg, strerror(-r));
				return r;
			}
		}
	}
}

static int user_serve(int argc, char **argv)
{
	struct serve_args a = { 0 };
	struct vhostctl_vu_backend *be;
	sigset_t mask;
	int sfd, tfd = -1, r;

	r = serve_parse(argc, argv, &a);
	if (r)
		return r < 0 ? r : 0;

	/* Blocked before anything is set up, so a signal always means a clean exit. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = -errno;
		fprintf(stderr, "Error: signalfd: %s\n", strerror(errno));
		return r;
	}
	if (a.stats_secs) {
		struct itimerspec its = {
			.it_interval = { .tv_sec = a.stats_secs },
			.it_value = { .tv_sec = a.stats_secs },
		};

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
			r = -errno;
			fprintf(stderr, "Error: timerfd: %s\n", strerror(errno));
			goto out_close_timer;
		}
	}
	be = serve_new(&a);
	if (!be) {
		r = -errno;
		if (a.file)
			fprintf(stderr, "Error: cannot serve %s: %s\n", a.file, strerror(errno));
		else
			fprintf(stderr, "Error: cannot create the %s backend: %s\n",
				a.net ? "net" : "blk", strerror(errno));
		goto out_close_timer;
	}
	if (!a.connect) {
		r = vhostctl_vu_backend_listen(be, a.path);
		if (r) {
			fprintf(stderr, "Error: %s: cannot listen: %s\n", a.arg, strerror(-r));
			goto out_free;
		}
		fprintf(stderr, "vhostctl: serving %s on %s\n", a.net ? "net" : "blk", a.arg);
	}
	/* JSON: one array of records, complete once the daemon exits. */
	if (print_is_json())
		print_open_array("stats");
	r = serve_loop(be, &a, sfd, tfd);
	print_stats(be, &a, "exit");
	if (print_is_json())
		print_close_array();
out_free:
	/* Closes the connection and removes the listening socket's file. */
	vhostctl_vu_backend_free(be);
out_close_timer:
	if (tfd >= 0)
		close(tfd);
	close(sfd);
	/*
	 * The signals stay blocked: one more SIGTERM arriving now must not kill
	 * the process before the JSON is closed and the exit status is set.
	 */
	return r;
}

int cmd_user(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "Command is expected, try \"vhostctl user help\".\n");
		return -EINVAL;
	}
	if (matches(argv[0], "help")) {
		user_usage(stdout);
		return 0;
	}
	if (matches(argv[0], "serve"))
		return user_serve(argc - 1, argv + 1);
	if (matches(argv[0], "probe"))
		return user_probe(argc - 1, argv + 1);
	fprintf(stderr, "Command \"%s\" not found\n", argv[0]);
	return -ENOENT;
}
