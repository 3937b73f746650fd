// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vu_be: one of libvhostctl's ready backends as a process of its own, for
 * the interop scripts and the reconnect test.
 *
 *   vu_be net|blk|slowblk (-l SOCK | -c SOCK) [-f FILE] [-s BYTES] [-d] [-q N]
 *         [-P] [-v] [-o STATSFILE] [-H MS]
 *
 * -l listens on SOCK, -c connects to a frontend listening there; -f serves
 * FILE (blk), -s a RAM disk of BYTES (blk); -d drops TX packets when RX is
 * full (net); -q queue pairs (net) or queues (blk); -P offers no packed
 * ring; -v logs every request to stderr (else ring starts and errors).  Runs until SIGTERM/SIGINT, then
 * writes its counters ("net tx N rx N dropped N" or "blk connections N
 * errors N") to stdout and to STATSFILE.  "ready" goes to stdout once the
 * socket is listening (or connected).
 *
 * slowblk is a virtio-blk device on FILE written here on the library's
 * generic backend: it keeps each request it pops for -H milliseconds (5)
 * before completing it, so that many requests are in flight whenever it is
 * killed; the reconnect test needs that.  When a ring stops it completes
 * what it holds at once.  "served N" in its counters is the number of
 * requests it completed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
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

/* ---- slowblk ---------------------------------------------------------- */

#define SB_HOLD_MAX 64
#define SB_IOV 8

struct slowblk {
	uint8_t *data;
	uint64_t size;
	double hold;
	unsigned int nheld;
	struct {
		struct vhostctl_devq_elem e;
		struct iovec iov[SB_IOV];
		double t;
	} held[SB_HOLD_MAX];
	unsigned long long served;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t sb_do(struct slowblk *b, const struct vhostctl_devq_elem *e, uint32_t *written)
{
	struct { uint32_t type, ioprio; uint64_t sector; } h;
	uint64_t off, len;

	*written = 0;
	if (vhostctl_devq_copy_from(e, 0, &h, sizeof(h)) != sizeof(h) || h.sector > UINT64_MAX / 512)
		return 1;
	off = h.sector * 512;
	if (h.type == 0) {
		len = e->in_len - 1;
		if (off > b->size || len > b->size - off)
			return 1;
		*written = (uint32_t)vhostctl_devq_copy_to(e, 0, b->data + off, len);
		return 0;
	}
	if (h.type == 1) {
		len = e->out_len - sizeof(h);
		if (off > b->size || len > b->size - off)
			return 1;
		vhostctl_devq_copy_from(e, sizeof(h), b->data + off, len);
		return 0;
	}
	return h.type == 4 ? 0 : 2;
}

static int sb_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		    void *ctx)
{
	struct slowblk *b = ctx;
	double t = mono();
	unsigned int done = 0;
	int r;

	(void)be;
	(void)index;
	/* Complete, oldest first, what was held long enough. */
	while (done < b->nheld && t - b->held[done].t >= b->hold) {
		struct vhostctl_devq_elem *e = &b->held[done].e;
		uint32_t written;
		uint8_t st = sb_do(b, e, &written);

		vhostctl_devq_copy_to(e, e->in_len - 1, &st, 1);
		r = vhostctl_devq_push(q, e, written + 1);
		if (r)
			return r;
		done++;
		b->served++;
	}
	if (done) {
		b->nheld -= done;
		for (unsigned int i = 0; i < b->nheld; i++) {
			b->held[i].e = b->held[i + done].e;
			memcpy(b->held[i].iov, b->held[i + done].iov, sizeof(b->held[i].iov));
			b->held[i].t = b->held[i + done].t;
			b->held[i].e.iov = b->held[i].iov;
		}
		r = vhostctl_devq_flush(q);
		if (r < 0)
			return r;
	}
	while (b->nheld < SB_HOLD_MAX) {
		unsigned int k = b->nheld;

		r = vhostctl_devq_pop(q, &b->held[k].e, b->held[k].iov, SB_IOV);
		if (r < 0)
			return r;
		if (!r)
			break;
		if (b->held[k].e.out_len < 16 || !b->held[k].e.in_len)
			return -EIO;
		b->held[k].t = t;
		b->nheld++;
	}
	if (!b->nheld)
		return 0;
	usleep(200);
	return 1;
}

/* The ring stops (or the memory changes): complete what is held, now. */
static void sb_stop(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		    void *ctx)
{
	struct slowblk *b = ctx;

	(void)be;
	(void)index;
	for (unsigned int i = 0; i < b->nheld; i++) {
		struct vhostctl_devq_elem *e = &b->held[i].e;
		uint32_t written;
		uint8_t st = sb_do(b, e, &written);

		vhostctl_devq_copy_to(e, e->in_len - 1, &st, 1);
		if (vhostctl_devq_push(q, e, written + 1) == 0)
			b->served++;
	}
	b->nheld = 0;
}

static void sb_reset(struct vhostctl_vu_backend *be, void *ctx)
{
	struct slowblk *b = ctx;

	(void)be;
	b->nheld = 0;	/* the frontend went away: its requests are its inflight region's now */
}

static struct vhostctl_vu_backend *slowblk_new(const char *file, double hold_ms, int verbose,
					       struct slowblk **out)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo);
	struct slowblk *b = calloc(1, sizeof(*b));
	uint8_t config[60] = { 0 };
	struct stat st;
	uint64_t cap;
	int fd;

	if (!b || !file)
		return NULL;
	fd = open(file, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 4096)
		return NULL;
	b->size = (uint64_t)st.st_size & ~511ull;
	b->data = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (b->data == MAP_FAILED)
		return NULL;
	b->hold = hold_ms / 1000;
	cap = b->size / 512;
	memcpy(config, &cap, 8);
	bo.features = 1ull << 9;	/* FLUSH */
	bo.num_queues = 1;
	bo.config = config;
	bo.config_len = sizeof(config);
	bo.queue = sb_queue;
	bo.reset = sb_reset;
	bo.stop = sb_stop;
	bo.ctx = b;
	bo.log = be_log;
	bo.log_level = verbose ? 7 : 6;
	*out = b;
	return vhostctl_vu_backend_new(&bo);
}

static void usage(void)
{
	fprintf(stderr, "usage: vu_be net|blk|slowblk (-l SOCK | -c SOCK) [-f FILE] [-s BYTES] [-d] [-q N] "
			"[-P] [-v] [-o STATSFILE] [-H MS]\n");
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
	bool net, slow = false;
	struct slowblk *sb = NULL;
	double hold = 5;
	char line[256];
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "net"))
		net = true;
	else if (!strcmp(argv[1], "blk"))
		net = false;
	else if (!strcmp(argv[1], "slowblk"))
		net = false, slow = true;
	else
		usage();
	optind = 2;
	while ((c = getopt(argc, argv, "l:c:f:s:dq:Pvo:H:")) != -1) {
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
		case 'H': hold = strtod(optarg, NULL); break;
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
	} else if (slow) {
		be = slowblk_new(file, hold, verbose, &sb);
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
	/* The application's event loop: wait on the backend's fd, then dispatch. */
	while (!stop) {
		struct pollfd pfd = { .fd = vhostctl_vu_backend_fd(be), .events = POLLIN };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = vhostctl_vu_backend_dispatch(be, 0);
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
	} else if (sb) {
		snprintf(line, sizeof(line), "slowblk served %llu connections %llu errors %llu\n",
			 sb->served, (unsigned long long)bs.connections,
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
	if (sb) {
		munmap(sb->data, sb->size);
		free(sb);
	}
	return 0;
}
