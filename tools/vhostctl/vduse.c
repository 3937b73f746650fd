// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl vduse: libvhostctl's devices served over VDUSE, as a daemon.
 * "serve" creates the VDUSE device and answers the kernel until SIGINT or
 * SIGTERM; adding it to the vdpa bus (vdpa add ... mgmtdev vduse) and
 * binding it to a driver are left to the administrator.  On exit the vDPA
 * device, if still there, is deleted and the VDUSE device destroyed.  A
 * device of the same name left by a server that died is taken over
 * (VHOSTCTL_VDUSE_F_RECONNECT): its in-flight requests are served.
 *
 * Every keyword is checked before /dev/vduse is touched.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"

#define BLK_MAX_QUEUES 16
#define NET_MAX_QUEUES 32	/* queue pairs: 64 queues */
#define NAME_MAX_LEN 63
#define QSIZE_MAX 32768

struct vduse_args {
	bool net;
	const char *name;
	uint8_t mac[6];
	const char *file;
	unsigned long long size;
	unsigned int queues;
	unsigned int queue_size;
	bool read_only;
};

static void vduse_usage(FILE *f)
{
	fprintf(f,
		"Usage: vhostctl vduse serve blk name NAME { file IMAGE | size BYTES } [ readonly ]\n"
		"                      [ queues N ] [ queue_size N ]\n"
		"       vhostctl vduse serve net name NAME [ mac MAC ] [ queues N ] [ queue_size N ]\n"
		"       vhostctl vduse help\n"
		"where  name NAME      the VDUSE and vDPA device name (1..63 bytes, no \"/\")\n"
		"       file IMAGE     blk: serve IMAGE, a regular file of a multiple of 512 bytes\n"
		"       size BYTES     blk: serve a RAM disk of BYTES, a multiple of 512, K/M/G\n"
		"       readonly       blk: offer a read-only disk and refuse writes\n"
		"       mac MAC        net: the MAC address in config space; default 02:00:00:00:00:01\n"
		"       queues N       blk: request queues, 1 to 16; net: queue pairs, 1 to 32\n"
		"                      (virtio_vdpa takes 1 pair: VDUSE has no control queue);\n"
		"                      default 1\n"
		"       queue_size N   largest ring, a power of two up to 32768; default 256\n"
		"A net device is a loopback: every frame sent on a TX queue comes back on its\n"
		"RX queue.\n");
}

static bool takes_value(const char *kw)
{
	return matches(kw, "name") || matches(kw, "file") || matches(kw, "size") ||
	       matches(kw, "queues") || matches(kw, "queue_size") || matches(kw, "mac");
}

/* 0: parsed; 1: usage shown on request; -EINVAL: error printed. */
static int serve_parse(int argc, char **argv, struct vduse_args *a)
{
	bool seen_size = false, seen_queues = false, seen_qsize = false, seen_mac = false;
	unsigned int max_queues;
	unsigned long long n;

	for (int i = 0; i < argc; i++) {
		if (matches(argv[i], "help") && (i < 1 || !takes_value(argv[i - 1]))) {
			vduse_usage(stdout);
			return 1;
		}
	}
	if (argc < 1) {
		fprintf(stderr, "Device type is expected: blk, net\n");
		return -EINVAL;
	}
	if (!matches(argv[0], "blk") && !matches(argv[0], "net")) {
		fprintf(stderr, "Device type \"%s\" is unknown: blk, net\n", argv[0]);
		return -EINVAL;
	}
	a->net = matches(argv[0], "net");
	max_queues = a->net ? NET_MAX_QUEUES : BLK_MAX_QUEUES;
	a->queues = 1;
	a->mac[0] = 0x02;	/* locally administered */
	a->mac[5] = 0x01;
	for (int i = 1; i < argc; i++) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		/* a keyword of the other device type */
		if (a->net ? matches(kw, "readonly") || matches(kw, "file") || matches(kw, "size")
			   : matches(kw, "mac")) {
			fprintf(stderr, "Option \"%s\" is not for a %s device\n", kw, argv[0]);
			return -EINVAL;
		}
		if (matches(kw, "readonly")) {
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
		if (matches(kw, "name")) {
			if (a->name)
				return arg_duplicate(kw, val);
			if (!*val || strlen(val) > NAME_MAX_LEN || strchr(val, '/') ||
			    val[0] == '.' || !strcmp(val, "control")) {
				fprintf(stderr, "Invalid name \"%s\" (1 to %u bytes, no \"/\", "
						"not \"control\")\n", val, NAME_MAX_LEN);
				return -EINVAL;
			}
			a->name = val;
		} else if (matches(kw, "file")) {
			if (a->file)
				return arg_duplicate(kw, val);
			if (!*val) {
				fprintf(stderr, "Invalid file \"\"\n");
				return -EINVAL;
			}
			a->file = val;
		} else if (matches(kw, "size")) {
			if (seen_size)
				return arg_duplicate(kw, val);
			seen_size = true;
			if (arg_size(val, &n) || !n || n % 512) {
				fprintf(stderr, "Invalid size \"%s\" (bytes, a multiple of 512)\n",
					val);
				return -EINVAL;
			}
			a->size = n;
		} else if (matches(kw, "queues")) {
			if (seen_queues)
				return arg_duplicate(kw, val);
			seen_queues = true;
			if (arg_num(val, 1, max_queues, &n)) {
				fprintf(stderr, "Invalid queues \"%s\" (1 to %u)\n", val,
					max_queues);
				return -EINVAL;
			}
			a->queues = (unsigned int)n;
		} else if (matches(kw, "mac")) {
			if (seen_mac)
				return arg_duplicate(kw, val);
			seen_mac = true;
			if (arg_mac(val, a->mac)) {
				fprintf(stderr, "Invalid mac \"%s\" (xx:xx:xx:xx:xx:xx)\n", val);
				return -EINVAL;
			}
		} else {
			if (seen_qsize)
				return arg_duplicate(kw, val);
			seen_qsize = true;
			if (arg_num(val, 4, QSIZE_MAX, &n) || (n & (n - 1))) {
				fprintf(stderr, "Invalid queue_size \"%s\" (a power of two, "
						"4 to %u)\n", val, QSIZE_MAX);
				return -EINVAL;
			}
			a->queue_size = (unsigned int)n;
		}
	}
	if (!a->name) {
		fprintf(stderr, "Option \"name\" is required\n");
		return -EINVAL;
	}
	if (a->net)
		return 0;
	if (a->file && seen_size) {
		fprintf(stderr, "Options \"file\" and \"size\" are exclusive\n");
		return -EINVAL;
	}
	if (!a->file && !seen_size) {
		fprintf(stderr, "Option \"file\" or \"size\" is required\n");
		return -EINVAL;
	}
	return 0;
}

static void serve_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "vhostctl: %s\n", msg);
}

/*
 * The device: blk through vhostctl_vduse_blk_new() (file, SEG_MAX), net as
 * the vhost-user loopback served with vhostctl_vduse_serve(), its backend
 * in *be.  NULL with errno set.
 */
static struct vhostctl_vduse *serve_new(const struct vduse_args *a,
					struct vhostctl_vu_backend **be)
{
	struct vhostctl_vduse *vd;
	int e;

	if (!a->net) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_blk_opts, o, .log = serve_log,
				   .log_level = VHOSTCTL_LOG_WARNING, .name = a->name,
				   .path = a->file, .size = a->file ? 0 : a->size,
				   .read_only = a->read_only, .num_queues = a->queues,
				   .queue_size = a->queue_size,
				   .flags = VHOSTCTL_VDUSE_F_RECONNECT);

		return vhostctl_vduse_blk_new(&o);
	}
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, o, .log = serve_log,
				   .log_level = VHOSTCTL_LOG_WARNING, .queue_pairs = a->queues);

		memcpy(o.mac, a->mac, sizeof(o.mac));
		*be = vhostctl_vu_net_new(&o);
	}
	if (!*be)
		return NULL;
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_serve_opts, so, .name = a->name,
				   .queue_size = a->queue_size,
				   .flags = VHOSTCTL_VDUSE_F_RECONNECT);

		vd = vhostctl_vduse_serve(*be, &so);
	}
	if (!vd) {
		e = errno;
		vhostctl_vu_backend_free(*be);
		*be = NULL;
		errno = e;
	}
	return vd;
}

static void print_stats(struct vhostctl_vduse *vd, struct vhostctl_vu_backend *be,
			const char *reason)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_stats, st);
	struct vhostctl_vu_net_stats ns;

	if (vhostctl_vduse_stats(vd, &st))
		return;
	print_open_object(NULL);
	print_text("%s: ", reason);
	print_string("reason", "", reason);
	print_string("name", "name %s ", vhostctl_vduse_name(vd));
	print_u64("requests", NULL, st.requests);
	print_u64("failed", NULL, st.failed);
	print_u64("kicks", NULL, st.kicks);
	print_u64("irqs", NULL, st.irqs);
	print_u64("maps", NULL, st.maps);
	print_hex("status", NULL, st.status);
	print_hex("features", NULL, st.features);
	if (be && !vhostctl_vu_net_stats(be, &ns)) {
		print_u64("tx_packets", NULL, ns.tx_packets);
		print_u64("rx_packets", NULL, ns.rx_packets);
		print_u64("dropped", NULL, ns.dropped);
	}
	print_close_object();
	print_nl();
	fflush(stdout);
}

/* Dispatches until a signal; the signal's name, or NULL with the error printed. */
static const char *serve_loop(struct vhostctl_vduse *vd, int sfd, int *err)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = vhostctl_vduse_fd(vd), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int r = poll(p, 2, -1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = -errno;
			fprintf(stderr, "Error: poll: %s\n", strerror(errno));
			return NULL;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				return si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
		}
		if (p[0].revents & POLLIN) {
			r = vhostctl_vduse_dispatch(vd, 0);
			if (r < 0) {
				*err = r;
				fprintf(stderr, "Error: %s: %s\n", vhostctl_vduse_name(vd),
					strerror(-r));
				return NULL;
			}
		}
	}
}

static int vduse_serve(int argc, char **argv)
{
	struct vduse_args a = { 0 };
	struct vhostctl_vu_backend *be = NULL;
	struct vhostctl_vduse *vd;
	const char *why;
	sigset_t mask;
	int sfd, r;

	r = serve_parse(argc, argv, &a);
	if (r)
		return r < 0 ? r : 0;

	/* Blocked before the device exists, so a signal always means a clean exit. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = -errno;
		fprintf(stderr, "Error: signalfd: %s\n", strerror(errno));
		return r;
	}
	vd = serve_new(&a, &be);
	if (!vd) {
		r = -errno;
		if (errno == EEXIST)
			fprintf(stderr, "Error: VDUSE device \"%s\" exists\n", a.name);
		else if (a.file && (errno == ENOENT || errno == EACCES || errno == EISDIR) &&
			 access(a.file, F_OK | R_OK))
			fprintf(stderr, "Error: file \"%s\": %s\n", a.file, strerror(errno));
		else
			fprintf(stderr, "Error: cannot create VDUSE device \"%s\"%s%s: %s\n",
				a.name, a.file ? " on " : "", a.file ? a.file : "",
				strerror(errno));
		close(sfd);
		return r;
	}
	fprintf(stderr, "vhostctl: serving %s %s%s%s over VDUSE; add it with "
			"\"vhostctl vdpa add name %s mgmtdev vduse\"\n",
		a.net ? "net" : "blk", a.name, a.file ? " on " : "", a.file ? a.file : "", a.name);
	/* JSON: one array of records, complete once the daemon exits. */
	if (print_is_json())
		print_open_array("stats");
	r = 0;
	why = serve_loop(vd, sfd, &r);
	print_stats(vd, be, why ? why : "error");
	if (print_is_json())
		print_close_array();
	/* Deletes the vDPA device if it is still on the bus, then destroys ours. */
	vhostctl_vduse_free(vd);
	vhostctl_vu_backend_free(be);
	close(sfd);
	return r;
}

int cmd_vduse(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "Command is expected, try \"vhostctl vduse help\".\n");
		return -EINVAL;
	}
	if (matches(argv[0], "help")) {
		vduse_usage(stdout);
		return 0;
	}
	if (matches(argv[0], "serve"))
		return vduse_serve(argc - 1, argv + 1);
	fprintf(stderr, "Command \"%s\" not found\n", argv[0]);
	return -ENOENT;
}
