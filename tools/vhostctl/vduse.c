// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl vduse: libvhostctl's devices served over VDUSE, as a daemon.
 * "serve" creates the VDUSE device and answers the kernel until SIGINT or
 * SIGTERM; adding it to the vdpa bus (vdpa add ... mgmtdev vduse) and
 * binding it to a driver are left to the administrator.  On exit the vDPA
 * device, if still there, is deleted and the VDUSE device destroyed.
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
#define NAME_MAX_LEN 63
#define QSIZE_MAX 32768

struct vduse_args {
	const char *name;
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
		"       vhostctl vduse help\n"
		"where  name NAME      the VDUSE and vDPA device name (1..63 bytes, no \"/\")\n"
		"       file IMAGE     serve IMAGE, a regular file of a multiple of 512 bytes\n"
		"       size BYTES     serve a RAM disk of BYTES, a multiple of 512, K/M/G allowed\n"
		"       readonly       offer a read-only disk and refuse writes\n"
		"       queues N       request queues, 1 to 16; default 1\n"
		"       queue_size N   largest ring, a power of two up to 32768; default 256\n");
}

static bool takes_value(const char *kw)
{
	return matches(kw, "name") || matches(kw, "file") || matches(kw, "size") ||
	       matches(kw, "queues") || matches(kw, "queue_size");
}

/* 0: parsed; 1: usage shown on request; -EINVAL: error printed. */
static int serve_parse(int argc, char **argv, struct vduse_args *a)
{
	bool seen_size = false, seen_queues = false, seen_qsize = false;
	unsigned long long n;

	for (int i = 0; i < argc; i++) {
		if (matches(argv[i], "help") && (i < 1 || !takes_value(argv[i - 1]))) {
			vduse_usage(stdout);
			return 1;
		}
	}
	if (argc < 1) {
		fprintf(stderr, "Device type is expected: blk\n");
		return -EINVAL;
	}
	if (!matches(argv[0], "blk")) {
		fprintf(stderr, "Device type \"%s\" is unknown: blk\n", argv[0]);
		return -EINVAL;
	}
	a->queues = 1;
	for (int i = 1; i < argc; i++) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

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
			if (arg_num(val, 1, BLK_MAX_QUEUES, &n)) {
				fprintf(stderr, "Invalid queues \"%s\" (1 to %u)\n", val,
					BLK_MAX_QUEUES);
				return -EINVAL;
			}
			a->queues = (unsigned int)n;
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

static void print_stats(struct vhostctl_vduse *vd, const char *reason)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_stats, st);

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
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_blk_opts, o, .log = serve_log,
				   .log_level = VHOSTCTL_LOG_WARNING, .name = a.name,
				   .path = a.file, .size = a.file ? 0 : a.size,
				   .read_only = a.read_only, .num_queues = a.queues,
				   .queue_size = a.queue_size);

		vd = vhostctl_vduse_blk_new(&o);
	}
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
	fprintf(stderr, "vhostctl: serving blk %s%s%s over VDUSE; add it with "
			"\"vhostctl vdpa add name %s mgmtdev vduse\"\n",
		a.name, a.file ? " on " : "", a.file ? a.file : "", a.name);
	/* JSON: one array of records, complete once the daemon exits. */
	if (print_is_json())
		print_open_array("stats");
	r = 0;
	why = serve_loop(vd, sfd, &r);
	print_stats(vd, why ? why : "error");
	if (print_is_json())
		print_close_array();
	/* Deletes the vDPA device if it is still on the bus, then destroys ours. */
	vhostctl_vduse_free(vd);
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
