// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-user control plane, ours against DPDK's, in one run.
 *
 * One frontend (libvhostctl's) drives two backends that run side by side:
 * our net backend (vhostctl_vu_net_new, in a child process) and DPDK
 * testpmd's net_vhost (librte_vhost, interactive mode: no forwarding, no
 * polling).  Both backends sit on one vCPU (-c); the frontend runs on the
 * same vCPU ("same") or on the other one ("cross").  Rows:
 *
 *   memtable   SET_MEM_TABLE of one region, send -> REPLY_ACK, first table
 *              of a fresh connection; 4 KiB-page memfd of 64 MiB and 1 GiB,
 *              and a 2 MiB hugetlb memfd when the system has hugepages
 *   setup Nqp  connect -> handshake, owner, features, memory table (64 MiB
 *              memfd, REPLY_ACK), 2N rings (num, base, addr, call, kick,
 *              enable) -> reply to a GET_FEATURES sent after the last
 *              SET_VRING_ENABLE (the backends handle messages in order, so
 *              that reply follows the last enable)
 *   rtt        GET_FEATURES request/reply through vhostctl_dev_get_features
 *              (it is not cached: one round trip per call), against a raw
 *              AF_UNIX floor (12-byte request, 20-byte reply, blocking
 *              read/write, a child on the backends' vCPU); the ratio is
 *              (ours - floor) / (DPDK - floor)
 *
 * Each repetition runs DPDK, ours, ours, DPDK (ABBA); the table gives the
 * median and the best of each side's samples, and the ratio column is the
 * median of the per-repetition ratios.  Both sides negotiate the same
 * protocol features (MQ, REPLY_ACK), so both get SET_MEM_TABLE.
 *
 *   vu_setup [-r REPS] [-n PINGS] [-p same|cross|both] [-c CPU] [-s] [-t]
 *
 * -s: short settings (3 repetitions, 2000 pings, "same" only) for make run.
 * -t: fault the guest memory in first (as a running guest has), not only
 * the ring pages.
 * Exit 0 with the table, 77 when dpdk-testpmd is missing, 1 on a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "bench.h"

#define MAX_QP 4
#define MAX_REPS 64
#define RING_NUM 256
#define RING_STRIDE (64u << 10)	/* one vring's desc, avail and used per 64 KiB of guest memory */
#define F_VERSION_1 (1ull << 32)
#define REQ_GET_FEATURES 1u

struct guest {
	const char *name;
	int fd;
	uint64_t size;
	void *map;
};

struct row {
	char name[48];
	double peer[MAX_REPS * 2], ours[MAX_REPS * 2], ratio[MAX_REPS];
	unsigned int n, reps;
	const char *unit;
	double scale;
};

static char tmpdir[64], dpdk_sock[128], our_sock[128], floor_sock[128], prefix[64];
static pid_t dpdk_pid = -1, our_pid = -1, floor_pid = -1;
static int dpdk_in = -1;
static int backend_cpu = 1;
static bool touch;
static volatile sig_atomic_t child_stop;

/* ---- processes ----------------------------------------------------------- */

static int pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}

static void on_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

/* A child that ends with its parent and on SIGTERM. */
static pid_t child(void)
{
	struct sigaction sa = { .sa_handler = on_term };
	pid_t p = fork();

	if (p != 0)
		return p;
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);
	if (pin(0, backend_cpu))
		_exit(1);
	return 0;
}

static void our_backend(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, o, .queue_pairs = MAX_QP);
	struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&o);

	if (!be || vhostctl_vu_backend_listen(be, our_sock)) {
		perror("vu_setup: our backend");
		_exit(1);
	}
	while (!child_stop)
		if (vhostctl_vu_backend_dispatch(be, 200) < 0)
			break;
	vhostctl_vu_backend_free(be);
	_exit(0);
}

static int full_io(int fd, void *buf, size_t len, int wr)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = wr ? write(fd, (char *)buf + off, len - off) :
				 read(fd, (char *)buf + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* The floor: read a 12-byte request, write a 20-byte reply, nothing else. */
static void floor_server(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;
	uint32_t req[3], rep[5] = { REQ_GET_FEATURES, 0x5, 8, 0, 0 };

	strcpy(sa.sun_path, floor_sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		perror("vu_setup: floor server");
		_exit(1);
	}
	while (!child_stop && (fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		while (!full_io(fd, req, sizeof(req), 0) && !full_io(fd, rep, sizeof(rep), 1))
			;
		close(fd);
	}
	_exit(0);
}

static char *dpdk_runtime_dir(char *buf, size_t len)
{
	const char *base = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");

	snprintf(buf, len, "%s/dpdk/%s", base ? base : "/tmp", prefix);
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/*
 * testpmd under timeout, commands on a pipe.  It wants a forwarding lcore
 * (idle in interactive mode); its control threads, vhost-events among them,
 * run where the main lcore does: the backends' vCPU.
 */
static int start_dpdk(unsigned int seconds)
{
	char cpu[16], tmo[16], vdev[192], fp[96], log[128];
	int pfd[2], lfd;

	snprintf(cpu, sizeof(cpu), "%d", backend_cpu);
	snprintf(tmo, sizeof(tmo), "%u", seconds);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=%d", dpdk_sock, MAX_QP);
	snprintf(fp, sizeof(fp), "--file-prefix=%s", prefix);
	snprintf(log, sizeof(log), "%s/testpmd.log", tmpdir);
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (lfd < 0)
		return -1;
	dpdk_pid = fork();
	if (dpdk_pid == 0) {
		dup2(pfd[0], 0);
		dup2(lfd, 1);
		dup2(lfd, 2);
		execlp("timeout", "timeout", "-s", "INT", "-k", "5", tmo, "taskset", "-c", cpu,
		       "dpdk-testpmd", "-l", "0,1", "--main-lcore", cpu, "--no-pci", "--no-huge", "-m", "512", fp,
		       "--log-level=lib.vhost.config:warning", "--log-level=lib.vhost.data:warning",
		       "--vdev", vdev, "--", "-i", "--no-mlockall", "--total-num-mbufs=2048",
		       (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	close(lfd);
	dpdk_in = pfd[1];
	return dpdk_pid < 0 ? -1 : 0;
}

static void stop_child(pid_t *p, int sig)
{
	if (*p <= 0)
		return;
	kill(*p, sig);
	for (int i = 0; i < 100; i++) {
		if (waitpid(*p, NULL, WNOHANG) == *p) {
			*p = -1;
			return;
		}
		usleep(100000);
	}
	kill(*p, SIGKILL);
	waitpid(*p, NULL, 0);
	*p = -1;
}

static void cleanup(void)
{
	char dir[192];

	if (dpdk_in >= 0) {
		if (write(dpdk_in, "quit\n", 5) != 5) {
			/* testpmd is gone already */
		}
		close(dpdk_in);
		dpdk_in = -1;
		for (int i = 0; i < 50 && dpdk_pid > 0; i++) {
			if (waitpid(dpdk_pid, NULL, WNOHANG) == dpdk_pid)
				dpdk_pid = -1;
			else
				usleep(100000);
		}
	}
	stop_child(&dpdk_pid, SIGTERM);	/* timeout passes it on */
	stop_child(&our_pid, SIGTERM);
	stop_child(&floor_pid, SIGTERM);
	if (prefix[0])
		nftw(dpdk_runtime_dir(dir, sizeof(dir)), rm_one, 8, FTW_DEPTH | FTW_PHYS);
	if (tmpdir[0])
		nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static int wait_socket(const char *path, pid_t *owner, double seconds)
{
	double end = bench_now() + seconds;
	struct stat st;

	while (bench_now() < end) {
		if (!stat(path, &st) && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(*owner, NULL, WNOHANG) == *owner) {
			*owner = -1;	/* reaped: never signal that pid again */
			return -1;
		}
		usleep(20000);
	}
	return -1;
}

/* ---- frontend ------------------------------------------------------------ */

static struct vhostctl_dev *fe_open(const char *sock)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 15000,
			   .protocol_features = (1ull << VHOSTCTL_VU_PF_MQ) |
						(1ull << VHOSTCTL_VU_PF_REPLY_ACK));

	return vhostctl_vu_open(sock, &o);
}

static int fe_init(struct vhostctl_dev *dev)
{
	uint64_t f;

	return vhostctl_dev_set_owner(dev) ?: vhostctl_dev_get_features(dev, &f) ?:
	       vhostctl_dev_set_features(dev, f & F_VERSION_1);
}

static int fe_table(struct vhostctl_dev *dev, const struct guest *g)
{
	struct vhostctl_vu_region r = {
		.gpa = 0, .size = g->size, .uaddr = (uintptr_t)g->map, .fd = g->fd,
	};

	return vhostctl_vu_set_mem_table(dev, &r, 1);
}

/* Seconds for the first SET_MEM_TABLE of a fresh connection, or < 0. */
static double t_memtable(const char *sock, const struct guest *g)
{
	struct vhostctl_dev *dev = fe_open(sock);
	double t0, t;
	int r;

	if (!dev)
		return -1;
	r = fe_init(dev);
	t0 = bench_now();
	r = r ?: fe_table(dev, g);
	t = bench_now() - t0;
	vhostctl_dev_close(dev);
	usleep(20000);	/* let the backend take the connection down, untimed */
	return r ? -1 : t;
}

/* Seconds from connect to the reply that follows the last SET_VRING_ENABLE. */
static double t_setup(const char *sock, const struct guest *g, unsigned int nqp, const int *efd)
{
	struct vhostctl_dev *dev;
	double t0 = bench_now(), t;
	uint64_t f;
	int r;

	dev = fe_open(sock);
	if (!dev)
		return -1;
	r = fe_init(dev) ?: fe_table(dev, g);
	for (unsigned int i = 0; i < 2 * nqp && !r; i++) {
		uint64_t base = (uint64_t)i * RING_STRIDE;
		struct vhostctl_vring_addr a = {
			.index = i, .desc = base, .avail = base + 4096, .used = base + 8192,
		};

		r = vhostctl_dev_set_vring_num(dev, i, RING_NUM) ?:
		    vhostctl_dev_set_vring_base(dev, i, 0) ?: vhostctl_dev_set_vring_addr(dev, &a) ?:
		    vhostctl_dev_set_vring_call(dev, i, efd[2 * i]) ?:
		    vhostctl_dev_set_vring_kick(dev, i, efd[2 * i + 1]) ?:
		    vhostctl_dev_set_vring_enable(dev, i, 1);
	}
	r = r ?: vhostctl_dev_get_features(dev, &f);
	t = bench_now() - t0;
	vhostctl_dev_close(dev);
	usleep(20000);
	return r ? -1 : t;
}

/* Mean seconds per GET_FEATURES round trip on an open connection. */
static double t_rtt(struct vhostctl_dev *dev, unsigned int n)
{
	double t0 = bench_now();
	uint64_t f;

	for (unsigned int i = 0; i < n; i++)
		if (vhostctl_dev_get_features(dev, &f))
			return -1;
	return (bench_now() - t0) / n;
}

static double t_floor(int fd, unsigned int n)
{
	uint32_t req[3] = { REQ_GET_FEATURES, 0x1, 0 }, rep[5];
	double t0 = bench_now();

	for (unsigned int i = 0; i < n; i++)
		if (full_io(fd, req, sizeof(req), 1) || full_io(fd, rep, sizeof(rep), 0))
			return -1;
	return (bench_now() - t0) / n;
}

/* ---- figures ------------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned int n)
{
	double s[MAX_REPS * 2];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_d);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double lowest(const double *v, unsigned int n)
{
	double m = v[0];

	for (unsigned int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static void row_print(const struct row *r, const char *placement)
{
	printf("%-26s %-5s %10.3f %10.3f %10.3f %10.3f %9.3f\n", r->name, placement,
	       median(r->peer, r->n) * r->scale, median(r->ours, r->n) * r->scale,
	       lowest(r->peer, r->n) * r->scale, lowest(r->ours, r->n) * r->scale,
	       median(r->ratio, r->reps));
}

static int fail(const char *what)
{
	fprintf(stderr, "vu_setup: %s failed\n", what);
	cleanup();
	exit(1);
}

/* One ABBA repetition of a two-sided row: DPDK, ours, ours, DPDK. */
static void abba(struct row *r, double (*fn)(const char *, const void *), const void *arg)
{
	double p1 = fn(dpdk_sock, arg), o1 = fn(our_sock, arg);
	double o2 = fn(our_sock, arg), p2 = fn(dpdk_sock, arg);

	if (p1 < 0 || p2 < 0)
		fail(r->name);
	if (o1 < 0 || o2 < 0)
		fail(r->name);
	r->peer[r->n] = p1;
	r->ours[r->n++] = o1;
	r->peer[r->n] = p2;
	r->ours[r->n++] = o2;
	r->ratio[r->reps++] = (o1 + o2) / (p1 + p2);
}

static double mt_fn(const char *sock, const void *arg)
{
	return t_memtable(sock, arg);
}

struct setup_arg {
	const struct guest *g;
	unsigned int nqp;
	const int *efd;
};

static double setup_fn(const char *sock, const void *arg)
{
	const struct setup_arg *a = arg;

	return t_setup(sock, a->g, a->nqp, a->efd);
}

static int guest_new(struct guest *g, const char *name, uint64_t size, unsigned int flags)
{
	int e;

	g->name = name;
	g->size = size;
	g->fd = memfd_create(name, MFD_CLOEXEC | flags);
	if (g->fd < 0 || ftruncate(g->fd, (off_t)size))
		goto out;
	g->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (g->map == MAP_FAILED)
		goto out;
	if (touch)
		memset(g->map, 0, size);	/* fault every page in, like a running guest */
	return 0;
out:
	e = errno;
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	errno = e;
	return -1;
}

static void run_placement(const char *pl, int fe_cpu, unsigned int reps, unsigned int pings,
			  struct guest *gs, unsigned int ng, const int *efd)
{
	struct vhostctl_dev *pd, *od;
	struct row r;
	int ffd;

	if (pin(0, fe_cpu))
		fail("sched_setaffinity");
	for (unsigned int i = 0; i < ng; i++) {
		if (gs[i].fd < 0)
			continue;
		memset(&r, 0, sizeof(r));
		snprintf(r.name, sizeof(r.name), "memtable %s (ms)", gs[i].name);
		r.scale = 1e3;
		for (unsigned int k = 0; k < reps; k++)
			abba(&r, mt_fn, &gs[i]);
		row_print(&r, pl);
	}
	for (unsigned int nqp = 1; nqp <= MAX_QP; nqp *= 2) {
		struct setup_arg a = { .g = &gs[0], .nqp = nqp, .efd = efd };

		memset(&r, 0, sizeof(r));
		snprintf(r.name, sizeof(r.name), "setup %uqp, %s (ms)", nqp, gs[0].name);
		r.scale = 1e3;
		for (unsigned int k = 0; k < reps; k++)
			abba(&r, setup_fn, &a);
		row_print(&r, pl);
	}
	/* Round trips on long-lived connections; the floor brackets each repetition. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		double fl[MAX_REPS * 2], plain[MAX_REPS];
		unsigned int nf = 0;

		pd = fe_open(dpdk_sock);
		od = fe_open(our_sock);
		ffd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		strcpy(sa.sun_path, floor_sock);
		if (!pd || !od || fe_init(pd) || fe_init(od) || ffd < 0 ||
		    connect(ffd, (struct sockaddr *)&sa, sizeof(sa)))
			fail("rtt connections");
		memset(&r, 0, sizeof(r));
		snprintf(r.name, sizeof(r.name), "GET_FEATURES rtt (us)");
		r.scale = 1e6;
		for (unsigned int k = 0; k < reps; k++) {
			double f1 = t_floor(ffd, pings), p1 = t_rtt(pd, pings);
			double o1 = t_rtt(od, pings), o2 = t_rtt(od, pings);
			double p2 = t_rtt(pd, pings), f2 = t_floor(ffd, pings), f;

			if (f1 < 0 || f2 < 0 || p1 < 0 || p2 < 0 || o1 < 0 || o2 < 0)
				fail("rtt");
			fl[nf++] = f1;
			fl[nf++] = f2;
			f = (f1 + f2) / 2;
			r.peer[r.n] = p1;
			r.ours[r.n++] = o1;
			r.peer[r.n] = p2;
			r.ours[r.n++] = o2;
			plain[r.reps] = (o1 + o2) / (p1 + p2);
			r.ratio[r.reps++] = ((o1 + o2) / 2 - f) / ((p1 + p2) / 2 - f);
		}
		printf("%-26s %-5s %10.3f %10s %10.3f\n", "AF_UNIX floor rtt (us)", pl,
		       median(fl, nf) * 1e6, "", lowest(fl, nf) * 1e6);
		row_print(&r, pl);
		printf("%-26s %-5s %54.3f\n", "GET_FEATURES rtt, plain", pl, median(plain, r.reps));
		vhostctl_dev_close(pd);
		vhostctl_dev_close(od);
		close(ffd);
	}
}

int main(int argc, char **argv)
{
	unsigned int reps = 5, pings = 10000;
	const char *placement = "both";
	struct guest gs[3] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
	int efd[4 * MAX_QP], c;
	bool huge;

	while ((c = getopt(argc, argv, "r:n:p:c:st")) != -1) {
		switch (c) {
		case 'r': reps = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'n': pings = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'p': placement = optarg; break;
		case 'c': backend_cpu = atoi(optarg); break;
		case 's': reps = 3; pings = 2000; placement = "same"; break;
		case 't': touch = true; break;
		default: goto usage;
		}
	}
	if (optind != argc || !reps || reps > MAX_REPS || !pings ||
	    (strcmp(placement, "same") && strcmp(placement, "cross") && strcmp(placement, "both"))) {
usage:
		fprintf(stderr, "usage: vu_setup [-r REPS] [-n PINGS] [-p same|cross|both] [-c CPU] [-s] [-t]\n");
		return 2;
	}
	if (system("command -v dpdk-testpmd >/dev/null 2>&1")) {
		printf("SKIP: dpdk-testpmd is not installed (Debian package dpdk-dev)\n");
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* testpmd may be gone when we send it "quit": a failed write, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 && backend_cpu)
		backend_cpu = 0;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vu_setup.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(dpdk_sock, sizeof(dpdk_sock), "%s/dpdk.sock", tmpdir);
	snprintf(our_sock, sizeof(our_sock), "%s/ours.sock", tmpdir);
	snprintf(floor_sock, sizeof(floor_sock), "%s/floor.sock", tmpdir);
	snprintf(prefix, sizeof(prefix), "vu_setup%d", (int)getpid());

	if (guest_new(&gs[0], "64MiB 4K", 64ull << 20, 0) ||
	    guest_new(&gs[1], "1GiB 4K", 1ull << 30, 0))
		fail("memfd");
	huge = !guest_new(&gs[2], "64MiB 2M", 64ull << 20, MFD_HUGETLB);
	for (unsigned int i = 0; i < 4 * MAX_QP; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd[i] < 0)
			fail("eventfd");
	}

	our_pid = child();
	if (our_pid == 0)
		our_backend();
	floor_pid = child();
	if (floor_pid == 0)
		floor_server();
	if (our_pid < 0 || floor_pid < 0 || start_dpdk(120 + reps * 60 + reps * pings / 500))
		fail("starting the backends");
	if (wait_socket(dpdk_sock, &dpdk_pid, 60) || wait_socket(our_sock, &our_pid, 10) ||
	    wait_socket(floor_sock, &floor_pid, 10)) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "tail -n 20 %s/testpmd.log >&2", tmpdir);
		if (system(cmd)) {
			/* the log is only a hint */
		}
		fail("waiting for the backends' sockets");
	}

	printf("vhost-user control plane: libvhostctl frontend -> our net backend vs DPDK 22.11 "
	       "testpmd net_vhost\n");
	printf("backends on cpu%d; %u repetitions of DPDK,ours,ours,DPDK; %u pings per slice\n",
	       backend_cpu, reps, pings);
	if (!huge)
		printf("note: no 2 MiB hugetlb memfd here (MFD_HUGETLB: %s; no hugepages "
		       "reserved?): that row is skipped\n", strerror(errno));
	printf("%-26s %-5s %10s %10s %10s %10s %9s\n", "row", "fe", "DPDK med", "ours med",
	       "DPDK best", "ours best", "ours/DPDK");
	if (strcmp(placement, "cross"))
		run_placement("same", backend_cpu, reps, pings, gs, 3, efd);
	if (strcmp(placement, "same"))
		run_placement("cross", !backend_cpu, reps, pings, gs, 3, efd);
	printf("rtt ratio: (ours - floor) / (DPDK - floor) (\"plain\": ours / DPDK); setup ends "
	       "at the reply to a GET_FEATURES sent after the last SET_VRING_ENABLE\n");
	cleanup();
	return 0;
}
