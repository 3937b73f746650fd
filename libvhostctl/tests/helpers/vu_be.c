// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vu_be: one of libvhostctl's ready backends as a process of its own, for
 * the interop scripts and the reconnect test.
 *
 *   vu_be net|blk (-l SOCK | -c SOCK) [-f FILE] [-s BYTES] [-d] [-q N]
 *         [-P] [-v] [-o STATSFILE]
 *
 * -l listens on SOCK, -c connects to a frontend listening there; -f serves
 * FILE (blk), -s a RAM disk of BYTES (blk); -d drops TX packets when RX is
 * full (net); -q queue pairs (net) or queues (blk); -P offers no packed
 * ring; -v logs every request to stderr (else ring starts and errors).  Runs until SIGTERM/SIGINT, then
 * writes its counters ("net tx N rx N dropped N" or "blk connections N
 * errors N") to stdout and to STATSFILE.  "ready" goes to stdout once the
 * socket is listening (or connected).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void be_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "[vu_be %d] %s\n", level, msg);
}

static void usage(void)
{
	fprintf(stderr, "usage: vu_be net|blk (-l SOCK | -c SOCK) [-f FILE] [-s BYTES] [-d] [-q N] "
			"[-P] [-v] [-o STATSFILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *listen_path = NULL, *connect_path = NULL, *file = NULL, *statsfile = NULL;
	struct vhostctl_vu_backend *be;
	struct vhostctl_vu_backend_stats bs;
	unsigned long long size = 64ull << 20;
	unsigned int queues = 1;
	int drop = 0, nopacked = 0, verbose = 0, c, r;
	bool net;
	char line[256];
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "net"))
		net = true;
	else if (!strcmp(argv[1], "blk"))
		net = false;
	else
		usage();
	optind = 2;
	while ((c = getopt(argc, argv, "l:c:f:s:dq:Pvo:")) != -1) {
		switch (c) {
		case 'l': listen_path = optarg; break;
		case 'c': connect_path = optarg; break;
		case 'f': file = optarg; break;
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'd': drop = 1; break;
		case 'q': queues = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'P': nopacked = 1; break;
		case 'v': verbose = 1; break;
		case 'o': statsfile = optarg; break;
		default: usage();
		}
	}
	if (!listen_path == !connect_path)
		usage();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (net) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 1 },
				   .queue_pairs = queues, .drop = drop,
				   .no_features = nopacked ? 1ull << 34 : 0,
				   .log = be_log, .log_level = verbose ? 7 : 6);

		be = vhostctl_vu_net_new(&no);
	} else {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, bo, .path = file, .size = size,
				   .num_queues = queues, .log = be_log,
				   .log_level = verbose ? 7 : 6);

		be = vhostctl_vu_blk_new(&bo);
	}
	if (!be) {
		fprintf(stderr, "vu_be: cannot create the backend: %s\n", strerror(errno));
		return 1;
	}
	if (listen_path) {
		r = vhostctl_vu_backend_listen(be, listen_path);
	} else {
		/* The frontend may not listen yet: retry for 10 s. */
		for (int i = 0; i < 1000; i++) {
			r = vhostctl_vu_backend_connect(be, connect_path);
			if (!r || stop)
				break;
			usleep(10000);
		}
	}
	if (r) {
		fprintf(stderr, "vu_be: %s %s: %s\n", listen_path ? "listen" : "connect",
			listen_path ? listen_path : connect_path, strerror(-r));
		vhostctl_vu_backend_free(be);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		r = vhostctl_vu_backend_dispatch(be, 200);
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "vu_be: dispatch: %s\n", strerror(-r));
			break;
		}
	}
	vhostctl_vu_backend_stats(be, &bs);
	if (net) {
		struct vhostctl_vu_net_stats ns;

		vhostctl_vu_net_stats(be, &ns);
		snprintf(line, sizeof(line), "net tx %llu rx %llu dropped %llu connections %llu errors %llu\n",
			 (unsigned long long)ns.tx_packets, (unsigned long long)ns.rx_packets,
			 (unsigned long long)ns.dropped, (unsigned long long)bs.connections,
			 (unsigned long long)bs.protocol_errors);
	} else {
		snprintf(line, sizeof(line), "blk connections %llu errors %llu\n",
			 (unsigned long long)bs.connections, (unsigned long long)bs.protocol_errors);
	}
	if (bs.protocol_errors)
		fprintf(stderr, "vu_be: last protocol error: %s\n", bs.last_error);
	fputs(line, stdout);
	if (statsfile) {
		FILE *f = fopen(statsfile, "w");

		if (f) {
			fputs(line, f);
			fclose(f);
		}
	}
	vhostctl_vu_backend_free(be);
	return 0;
}
