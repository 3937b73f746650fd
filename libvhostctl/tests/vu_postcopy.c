// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Postcopy migration (PAGEFAULT) between our frontend and our net loopback
 * backend, the backend in a child process.  Guest memory is a fresh memfd
 * nobody has written: its contents are in a "migration source" image.
 * After POSTCOPY_LISTEN the backend's ring and buffer accesses fault and
 * our frontend serves them from the image (UFFDIO_COPY), in a thread:
 *  - round 1: packets and RX buffers the source guest posted before the
 *    switch come back byte for byte, and bytes the backend did not write
 *    still hold the image's (the pages came from it, not zero-filled);
 *  - round 2: packets written after the switch by this process;
 *  - round 3: after POSTCOPY_END, without a userfaultfd.
 * Faults served are counted and must be many.  Then the order rules of
 * both sides (a raw peer against the backend, our frontend against a
 * backend that answers ADVISE with a wrong fd), and no fd leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"
#include "vu_drv.h"
#include "vu_raw.h"

#define G 0x100000ull		/* guest memory: one region here */
#define MEM (1ull << 20)
#define NUM 64u
#define BSZ 2048u
#define K 16u			/* packets per round */
#define HDR 12u
#define PAYLOAD 1000u
#define F_MAC (1ull << 5)
#define F_PROTOCOL (1ull << 30)
#define PF(b) (1ull << VHOSTCTL_VU_PF_##b)
#define IDLE_MS 10000

/* Ring and buffer places, guest physical. */
#define RX_DESC (G + 0x0000)
#define RX_AVAIL (G + 0x1000)
#define RX_USED (G + 0x2000)
#define TX_DESC (G + 0x3000)
#define TX_AVAIL (G + 0x4000)
#define TX_USED (G + 0x5000)
#define RX_BUFS (G + 0x10000)
#define TX_BUFS (G + 0x40000)

static char path[64];
static uint8_t *image;		/* the source's guest memory, byte gpa - G at image[gpa - G] */

static void lg(void *ctx, int level, const char *msg)
{
	fprintf(stderr, "[%s %d] %s\n", (const char *)ctx, level, msg);
}

/* A ring seen through one view of guest memory: the image, or the memfd. */
static void q_view(struct drv_q *q, uint8_t *base, uint64_t desc, uint64_t avail, uint64_t used,
		   uint64_t bufs)
{
	q->packed = false;
	q->num = NUM;
	q->bsz = BSZ;
	q->desc = (struct drv_desc *)(base + (desc - G));
	q->avail = (uint16_t *)(base + (avail - G));
	q->used = (uint16_t *)(base + (used - G));
	q->bufs = base + (bufs - G);
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->bufs_gpa = bufs;
}

/* Switch a ring's view, keeping the driver's indexes and fds. */
static void q_move(struct drv_q *q, uint8_t *base)
{
	q_view(q, base, q->desc_gpa, q->avail_gpa, q->used_gpa, q->bufs_gpa);
}

static void payload(uint8_t *b, unsigned int seq)
{
	memset(b, 0, HDR);
	for (unsigned int i = 0; i < PAYLOAD; i++)
		b[HDR + i] = (uint8_t)(seq * 131 + i * 7 + (i >> 8));
}

/* Post K RX buffers and K packets, starting at id first. */
static void post(struct drv_q *rx, struct drv_q *tx, unsigned int first)
{
	for (unsigned int i = first; i < first + K; i++) {
		drv_add(rx, (uint16_t)i, BSZ, true);
		payload(drv_buf(tx, (uint16_t)i), i);
		drv_add(tx, (uint16_t)i, HDR + PAYLOAD, false);
	}
}

/* ---- the fault server, a thread of the frontend process ---------------- */

struct server {
	struct vhostctl_dev *dev;
	pthread_t th;
	int stop;
	long served;
	int err;
	int calls;		/* page callback: pages filled */
};

static int from_image(void *ctx, uint64_t gpa, void *page, size_t len)
{
	struct server *s = ctx;

	if (gpa < G || gpa - G + len > MEM)
		return -EFAULT;
	memcpy(page, image + (gpa - G), len);
	__atomic_add_fetch(&s->calls, 1, __ATOMIC_RELAXED);
	return 0;
}

static void *serve(void *arg)
{
	struct server *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		int r = vhostctl_vu_postcopy_serve(s->dev, 20);

		if (r < 0) {
			s->err = r;
			break;
		}
		__atomic_add_fetch(&s->served, r, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Wait for K packets back on RX from id first on, reading guest memory
 * only where the backend wrote (the used ring after its call), and check
 * them byte for byte; untouched: bytes past each packet must still be the
 * image's.
 */
static void reap(struct drv_q *rx, struct drv_q *tx, unsigned int first, bool untouched,
		 const char *what)
{
	unsigned int got = 0, txd = 0;
	uint8_t want[HDR + PAYLOAD];

	while (got < K || txd < K) {
		struct pollfd p[2] = { { .fd = rx->call, .events = POLLIN },
				       { .fd = tx->call, .events = POLLIN } };
		uint64_t v;
		uint16_t id;
		uint32_t len;

		if (poll(p, 2, IDLE_MS) <= 0)
			t_fail("%s: %u of %u packets back, %u of %u sent, then nothing", what, got, K,
			       txd, K);
		if ((p[0].revents && read(rx->call, &v, 8) != 8) ||
		    (p[1].revents && read(tx->call, &v, 8) != 8))
			t_fail("%s: call fd", what);
		while (txd < K && drv_used(tx, &id, &len) == 1) {
			if (id != first + txd)
				t_fail("%s: TX id %u, expected %u", what, id, first + txd);
			txd++;
		}
		while (got < K && drv_used(rx, &id, &len) == 1) {
			uint8_t *b = drv_buf(rx, id);

			if (id != first + got || len != HDR + PAYLOAD)
				t_fail("%s: RX id %u len %u, expected id %u len %u", what, id, len,
				       first + got, HDR + PAYLOAD);
			payload(want, id);
			want[10] = 1;	/* num_buffers, set by the device */
			if (memcmp(b, want, sizeof(want)))
				t_fail("%s: packet %u differs", what, id);
			if (untouched) {
				const uint8_t *src = image + (RX_BUFS - G) + (size_t)id * BSZ;

				if (memcmp(b + sizeof(want), src + sizeof(want), BSZ - sizeof(want)))
					t_fail("%s: RX buffer %u past the packet is not the source's",
					       what, id);
			}
			got++;
		}
	}
}

/* ---- the backend, a child process --------------------------------------- */

/*
 * Serve until the parent closes ctl; exit 0 if every packet came back
 * (packets ~0ul: any number) and nothing broke.
 */
static void backend_child(int ctl, unsigned long packets)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 7 },
			   .log = getenv("VU_DEBUG") ? lg : NULL, .log_ctx = (void *)"be",
			   .log_level = 7);
	struct vhostctl_vu_backend_stats st;
	struct vhostctl_vu_net_stats ns;
	struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);
	char c;
	int code = 0;

	if (!be || vhostctl_vu_backend_listen(be, path) || vhostctl_vu_backend_start(be))
		_exit(3);
	if (write(ctl, "r", 1) != 1)
		_exit(3);
	while (read(ctl, &c, 1) > 0)
		;
	vhostctl_vu_backend_stop(be);
	vhostctl_vu_backend_stats(be, &st);
	vhostctl_vu_net_stats(be, &ns);
	if (st.protocol_errors ||
	    (packets != ~0ul && (ns.rx_packets != packets || ns.tx_packets != packets))) {
		fprintf(stderr, "backend: %llu protocol errors (%s), %llu/%llu packets of %lu\n",
			(unsigned long long)st.protocol_errors, st.last_error,
			(unsigned long long)ns.tx_packets, (unsigned long long)ns.rx_packets, packets);
		code = 1;
	}
	vhostctl_vu_backend_free(be);
	_exit(code);
}

/* A ring's kick and call eventfds. */
static void q_fds(struct drv_q *q)
{
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t_true(q->kick >= 0 && q->call >= 0);
}

/*
 * The backend in a child process, listening once this returns; closing
 * *ctl stops it.  Its pid.
 */
static pid_t backend_fork(unsigned long packets, int *ctl)
{
	int sv[2];
	pid_t pid;
	char c;

	t_eq(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	t_true(pid >= 0);
	if (!pid) {
		close(sv[0]);
		backend_child(sv[1], packets);
	}
	close(sv[1]);
	if (read(sv[0], &c, 1) != 1)
		t_fail("backend did not start");
	*ctl = sv[0];
	return pid;
}

/*
 * One migration; callback: pages from the page callback, with every
 * protocol feature; else from opts.source, with REPLY_ACK only.
 */
static void migrate(bool callback)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 5000,
			   .protocol_features = PF(REPLY_ACK) | PF(PAGEFAULT), .queues = 2,
			   .log = getenv("VU_DEBUG") ? lg : NULL, .log_ctx = (void *)"fe",
			   .log_level = 7);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_postcopy_opts, po);
	struct server s = { 0 };
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_dev *dev;
	struct drv_q rx, tx;
	struct timespec t0, t1;
	uint8_t *dst, *source;
	uint64_t pf;
	int ctl, status, r;
	long faults12;
	pid_t pid;

	/* The page callback run with every feature: MQ, CONFIGURE_MEM_SLOTS, BACKEND_REQ... */
	if (callback)
		o.protocol_features = ~0ull;
	t_true(mem);
	t_true(vhostctl_mem_add_region(mem, G, MEM, 0) >= 0);
	/* The destination's view: mapped, never written by anyone yet. */
	dst = vhostctl_mem_gpa_to_hva(mem, G, MEM);
	t_true(dst);

	/* The source: a guest that posted K RX buffers and K packets, junk elsewhere. */
	source = malloc(G + MEM);
	t_true(source);
	image = source + G;
	for (size_t i = 0; i < MEM; i++)
		image[i] = (uint8_t)(0xa5 ^ (i * 2654435761u >> 13));
	memset(image + (RX_DESC - G), 0, 0x6000);	/* both rings: indexes 0 */
	memset(&rx, 0, sizeof(rx));
	memset(&tx, 0, sizeof(tx));
	q_view(&rx, image, RX_DESC, RX_AVAIL, RX_USED, RX_BUFS);
	q_view(&tx, image, TX_DESC, TX_AVAIL, TX_USED, TX_BUFS);
	post(&rx, &tx, 0);
	q_fds(&rx);
	q_fds(&tx);
	pid = backend_fork(3 * K, &ctl);

	dev = vhostctl_vu_open(path, &o);
	t_true(dev);
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	if (!(pf & PF(PAGEFAULT)))
		t_skip("the backend offers no PAGEFAULT: no userfaultfd here (root or "
		       "/dev/userfaultfd access needed)");
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1 | F_MAC | F_PROTOCOL));
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));

	/* Precopy ends: ADVISE, then LISTEN and the address exchange. */
	t_eq(-EPROTO, vhostctl_vu_postcopy_fd(dev));
	t_eq(0, vhostctl_vu_postcopy_advise(dev));
	t_eq(-EALREADY, vhostctl_vu_postcopy_advise(dev));
	t_true(vhostctl_vu_postcopy_fd(dev) >= 0);
	t_eq(-EPROTO, vhostctl_vu_postcopy_serve(dev, 0));
	if (callback) {
		po.page = from_image;
		po.ctx = &s;
	} else {
		po.source = source;
		po.source_size = G + MEM;
	}
	{
		/* A field this library does not know, set: refused before anything is sent. */
		struct { struct vhostctl_vu_postcopy_opts o; uint64_t later; } big = { po, 1 };

		big.o.sz = sizeof(big);
		t_eq(-E2BIG, vhostctl_vu_postcopy_listen(dev, &big.o));
	}
	t_eq(0, vhostctl_vu_postcopy_listen(dev, &po));
	t_eq(-EALREADY, vhostctl_vu_postcopy_listen(dev, &po));
	t_eq(-EBUSY, vhostctl_dev_set_mem_table(dev, mem));
	s.dev = dev;
	t_eq(0, pthread_create(&s.th, NULL, serve, &s));

	/* The rings start on pages only the source has. */
	q_move(&rx, dst);
	q_move(&tx, dst);
	r = drv_setup(dev, 0, &rx);
	if (!r)
		r = drv_setup(dev, 1, &tx);
	if (r)
		t_fail("ring setup: %s", strerror(-r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	drv_kick(&rx);
	drv_kick(&tx);
	reap(&rx, &tx, 0, true, "round 1 (posted before the switch)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	t_true(__atomic_load_n(&s.served, __ATOMIC_RELAXED) > 0);
	printf("%s: round 1: %ld pages served to the backend, %u packets back in %.2f ms\n",
	       callback ? "callback" : "source", __atomic_load_n(&s.served, __ATOMIC_RELAXED), K,
	       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);

	/* Written after the switch, here; the RX buffers are still the source's. */
	post(&rx, &tx, K);
	drv_kick(&rx);
	drv_kick(&tx);
	reap(&rx, &tx, K, false, "round 2 (written after the switch)");

	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(s.th, NULL);
	if (s.err)
		t_fail("serving faults: %s", strerror(-s.err));
	faults12 = s.served;
	/* Rings (6 pages) and 2 x 16 buffers of 2 KiB (16 pages) at least. */
	if (faults12 < 6 + 16)
		t_fail("only %ld faults served", faults12);
	if (callback)
		t_eq(faults12, s.calls);
	printf("%s: rounds 1 and 2: %ld pages served\n", callback ? "callback" : "source",
	       faults12);
	t_eq(0, vhostctl_vu_postcopy_end(dev));
	t_eq(-EPROTO, vhostctl_vu_postcopy_end(dev));
	t_eq(-EPROTO, vhostctl_vu_postcopy_fd(dev));

	/* Postcopy is over: plain memory again. */
	post(&rx, &tx, 2 * K);
	drv_kick(&rx);
	drv_kick(&tx);
	reap(&rx, &tx, 2 * K, false, "round 3 (after POSTCOPY_END)");

	vhostctl_dev_close(dev);
	close(ctl);
	t_eq(pid, waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		t_fail("backend process: status 0x%x", status);
	drv_q_fini(&rx);
	drv_q_fini(&tx);
	vhostctl_mem_free(mem);
	free(source);
}

/*
 * The frontend dies while the backend waits in a fault it never served:
 * the backend must notice the hang-up, the fault must end, and stopping
 * the backend must return.
 */
static void frontend_dies(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 5000,
			   .protocol_features = PF(REPLY_ACK) | PF(PAGEFAULT), .queues = 2,
			   .log = getenv("VU_DEBUG") ? lg : NULL, .log_ctx = (void *)"fe",
			   .log_level = 7);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_postcopy_opts, po);
	struct server s = { 0 };
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct drv_q rx, tx;
	struct vhostctl_dev *dev;
	struct pollfd p;
	uint8_t *dst, *source;
	int ctl, status = 0, r;
	pid_t pid, w;

	t_true(mem);
	t_true(vhostctl_mem_add_region(mem, G, MEM, 0) >= 0);
	dst = vhostctl_mem_gpa_to_hva(mem, G, MEM);
	t_true(dst);
	source = calloc(1, G + MEM);
	t_true(source);
	image = source + G;
	memset(&rx, 0, sizeof(rx));
	memset(&tx, 0, sizeof(tx));
	q_view(&rx, dst, RX_DESC, RX_AVAIL, RX_USED, RX_BUFS);
	q_view(&tx, dst, TX_DESC, TX_AVAIL, TX_USED, TX_BUFS);
	q_fds(&rx);
	q_fds(&tx);
	pid = backend_fork(~0ul, &ctl);
	dev = vhostctl_vu_open(path, &o);
	t_true(dev);
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1 | F_MAC | F_PROTOCOL));
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
	t_eq(0, vhostctl_vu_postcopy_advise(dev));
	po.source = source;
	po.source_size = G + MEM;
	t_eq(0, vhostctl_vu_postcopy_listen(dev, &po));

	/* Faults served while the rings are set up (zeroes: empty rings)... */
	s.dev = dev;
	t_eq(0, pthread_create(&s.th, NULL, serve, &s));
	r = drv_setup(dev, 0, &rx);
	if (!r)
		r = drv_setup(dev, 1, &tx);
	if (r)
		t_fail("ring setup: %s", strerror(-r));
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(s.th, NULL);
	if (s.err)
		t_fail("serving faults: %s", strerror(-s.err));

	/*
	 * ... then no more.  The rings and the packet are written here; the
	 * used rings and RX buffers are on pages nobody has placed, so the
	 * backend's first write waits for a fault this process never serves.
	 */
	post(&rx, &tx, 0);
	drv_kick(&rx);
	drv_kick(&tx);
	p = (struct pollfd){ .fd = vhostctl_vu_postcopy_fd(dev), .events = POLLIN };
	if (poll(&p, 1, IDLE_MS) != 1)
		t_fail("the backend took no fault");

	/* The frontend dies: its socket and its copy of the userfaultfd close. */
	vhostctl_dev_close(dev);
	close(ctl);
	for (int ms = 0; ms < IDLE_MS; ms += 20) {
		w = waitpid(pid, &status, WNOHANG);
		if (w)
			break;
		usleep(20000);
	}
	if (!w) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		t_fail("the backend still waits on a page %d ms after its frontend died",
		       IDLE_MS);
	}
	t_eq(pid, w);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		t_fail("backend process: status 0x%x", status);
	printf("frontend died in a fault: the backend stopped\n");
	drv_q_fini(&rx);
	drv_q_fini(&tx);
	vhostctl_mem_free(mem);
	free(source);
}

/* ---- order and fds: a raw frontend against the backend ------------------- */

static uint64_t errors(struct vhostctl_vu_backend *be, char *last)
{
	struct vhostctl_vu_backend_stats st;

	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	if (last)
		snprintf(last, 128, "%s", st.last_error);
	return st.protocol_errors;
}

/* A fresh raw connection, served in the backend's thread, with protocol features pfs. */
static int raw_session(struct vhostctl_vu_backend *be, uint64_t pfs)
{
	uint64_t f = F_PROTOCOL;
	int sv[2];

	t_eq(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	t_eq(0, vhostctl_vu_backend_adopt(be, sv[1]));
	t_eq(0, vhostctl_vu_backend_start(be));
	t_true(raw_sendmsg(sv[0], 2, 1, &f, 8, NULL, 0));
	t_true(raw_sendmsg(sv[0], 16, 1, &pfs, 8, NULL, 0));
	return sv[0];
}

/* Expect the backend to cut fd off with a reason containing expect. */
static void cut(struct vhostctl_vu_backend *be, int fd, uint64_t *n, const char *what,
		const char *expect)
{
	uint32_t h[3];
	uint8_t p[64];
	char last[128];
	int r;

	while ((r = raw_recvmsg(fd, h, p, sizeof(p), IDLE_MS, NULL)) >= 0)
		;
	if (r == -2)
		t_fail("%s: the backend did not cut the connection", what);
	for (int i = 0; i < 500 && errors(be, NULL) == *n; i++)
		usleep(10000);
	t_eq(*n + 1, errors(be, last));
	(*n)++;
	if (!strstr(last, expect))
		t_fail("%s: reason '%s' lacks '%s'", what, last, expect);
	printf("ok: %-36s -> %s\n", what, last);
	close(fd);
	vhostctl_vu_backend_stop(be);
}

/* Send a request without payload and read its u64 reply. */
static uint64_t raw_u64(int fd, uint32_t req, uint32_t flags)
{
	uint32_t h[3];
	uint64_t v = ~0ull;

	t_true(raw_sendmsg(fd, req, flags, NULL, 0, NULL, 0));
	t_eq(8, raw_recvmsg(fd, h, &v, 8, IDLE_MS, NULL));
	t_eq(req, h[0]);
	return v;
}

/* A session with PAGEFAULT (and pfs) that ADVISE has opened; the userfaultfd checked, closed. */
static int advised(struct vhostctl_vu_backend *be, uint64_t pfs)
{
	int fd = raw_session(be, PF(PAGEFAULT) | pfs), ufd = -1;
	char l[64] = "", p[64];
	uint32_t h[3];

	t_true(raw_sendmsg(fd, 28, 1, NULL, 0, NULL, 0));
	t_eq(0, raw_recvmsg(fd, h, p, sizeof(p), IDLE_MS, &ufd));
	t_eq(28, h[0]);
	t_eq(5, h[1]);
	t_true(ufd >= 0);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", ufd);
	t_true(readlink(p, l, sizeof(l) - 1) > 0);
	t_true(!strncmp(l, "anon_inode:[userfaultfd]", 24));
	close(ufd);
	return fd;
}

/* While listening: a 64 KiB memfd region as SET_MEM_TABLE, answered with the backend's address. */
static void listening_table(int fd)
{
	uint64_t mem[5] = { 1, G, 0x10000, 0x7f0000000000ull, 0 };
	int mfd = memfd_create("pc", MFD_CLOEXEC);
	uint32_t h[3];

	t_true(raw_sendmsg(fd, 29, 1, NULL, 0, NULL, 0));
	t_true(mfd >= 0);
	t_eq(0, ftruncate(mfd, 0x10000));
	t_true(raw_sendmsg(fd, 5, 1, mem, sizeof(mem), &mfd, 1));
	close(mfd);
	t_eq(40, raw_recvmsg(fd, h, mem, sizeof(mem), IDLE_MS, NULL));
	t_eq(5, h[0]);
	t_eq(5, h[1]);
	t_eq(1, mem[0]);
	t_eq(G, mem[1]);
	t_eq(0x10000, mem[2]);
	t_true(mem[3] && mem[3] != 0x7f0000000000ull && !(mem[3] & 4095));
	printf("ok: postcopy SET_MEM_TABLE answered: region at 0x%llx in the backend\n",
	       (unsigned long long)mem[3]);
}

static void backend_order(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 8 });
	struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);
	uint64_t n = 0, zero = 0;
	int fd, efd;

	t_true(be);
	fd = raw_session(be, PF(REPLY_ACK));
	t_true(raw_sendmsg(fd, 28, 1, NULL, 0, NULL, 0));
	cut(be, fd, &n, "ADVISE without PAGEFAULT", "without protocol feature PAGEFAULT");

	fd = raw_session(be, PF(PAGEFAULT));
	t_true(raw_sendmsg(fd, 29, 1, NULL, 0, NULL, 0));
	cut(be, fd, &n, "LISTEN before ADVISE", "POSTCOPY_LISTEN before POSTCOPY_ADVISE");

	fd = raw_session(be, PF(PAGEFAULT));
	t_true(raw_sendmsg(fd, 30, 1, NULL, 0, NULL, 0));
	cut(be, fd, &n, "END before ADVISE", "POSTCOPY_END without POSTCOPY_ADVISE");

	efd = eventfd(0, EFD_CLOEXEC);
	fd = raw_session(be, PF(PAGEFAULT));
	t_true(raw_sendmsg(fd, 28, 1, NULL, 0, &efd, 1));
	cut(be, fd, &n, "ADVISE carrying an fd", "POSTCOPY_ADVISE");
	close(efd);

	fd = advised(be, PF(REPLY_ACK));
	t_true(raw_sendmsg(fd, 28, 1, NULL, 0, NULL, 0));
	cut(be, fd, &n, "ADVISE twice", "POSTCOPY_ADVISE twice");

	fd = advised(be, PF(REPLY_ACK));
	t_eq(0, raw_u64(fd, 29, 1 | 8));	/* LISTEN acknowledged with REPLY_ACK */
	t_true(raw_sendmsg(fd, 29, 1, NULL, 0, NULL, 0));
	cut(be, fd, &n, "LISTEN twice", "POSTCOPY_LISTEN twice");

	fd = advised(be, 0);
	t_true(raw_sendmsg(fd, 29, 1, NULL, 0, NULL, 0));
	t_eq(0, raw_u64(fd, 30, 1));
	t_true(raw_sendmsg(fd, 30, 1, NULL, 0, NULL, 0));
	cut(be, fd, &n, "END twice", "POSTCOPY_END without POSTCOPY_ADVISE (or twice)");

	/* While listening, SET_MEM_TABLE is answered with addresses and must be acknowledged. */
	fd = advised(be, 0);
	listening_table(fd);
	t_true(raw_sendmsg(fd, 1, 1, NULL, 0, NULL, 0));
	cut(be, fd, &n, "postcopy table acknowledged wrongly", "bad acknowledgement");

	/* Acknowledged rightly (QEMU's u64 0): the session goes on, END answers 0. */
	fd = advised(be, 0);
	listening_table(fd);
	t_true(raw_sendmsg(fd, 5, 1, &zero, 8, NULL, 0));
	raw_u64(fd, 1, 1);
	t_eq(0, raw_u64(fd, 30, 1));
	t_eq(n, errors(be, NULL));
	printf("ok: postcopy table acknowledged, session goes on, END answers 0\n");
	close(fd);
	vhostctl_vu_backend_stop(be);

	vhostctl_vu_backend_free(be);
}

/* ---- our frontend against a backend that answers ADVISE wrongly --------- */

struct fake {
	int lsock;		/* listening; the connection is served */
	int mode;		/* 0: an eventfd, 1: no fd */
};

static void *fake_backend(void *arg)
{
	struct fake *f = arg;
	uint32_t h[3];
	uint8_t p[512];
	int sock = accept4(f->lsock, NULL, NULL, SOCK_CLOEXEC);

	if (sock < 0)
		return NULL;
	while (raw_recvmsg(sock, h, p, sizeof(p), IDLE_MS, NULL) >= 0) {
		uint64_t v = 0;
		int efd;

		switch (h[0]) {
		case 1:		/* GET_FEATURES */
			v = VU_F_VERSION_1 | F_PROTOCOL;
			raw_sendmsg(sock, 1, 5, &v, 8, NULL, 0);
			break;
		case 15:	/* GET_PROTOCOL_FEATURES: PAGEFAULT only */
			v = PF(PAGEFAULT);
			raw_sendmsg(sock, 15, 5, &v, 8, NULL, 0);
			break;
		case 28:
			efd = eventfd(0, EFD_CLOEXEC);
			raw_sendmsg(sock, 28, 5, NULL, 0, &efd, f->mode ? 0 : 1);
			close(efd);
			break;
		default:
			break;
		}
	}
	close(sock);
	return NULL;
}

/*
 * Our frontend against a backend that answers ADVISE with an eventfd (mode
 * 0) or no fd (1), and, without PAGEFAULT named in its options (2), the
 * calls out of order, refused before anything is sent.
 */
static void frontend_bad_fd(void)
{
	for (int mode = 0; mode < 3; mode++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 5000,
				   .protocol_features = mode < 2 ? PF(PAGEFAULT) : 0);
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_postcopy_opts, po);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct fake f = { .mode = mode };
		int before = t_count_fds();
		struct vhostctl_dev *dev;
		pthread_t th;

		strcpy(sa.sun_path, path);
		unlink(path);
		f.lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		t_true(f.lsock >= 0);
		t_eq(0, bind(f.lsock, (struct sockaddr *)&sa, sizeof(sa)));
		t_eq(0, listen(f.lsock, 1));
		t_eq(0, pthread_create(&th, NULL, fake_backend, &f));
		dev = vhostctl_vu_open(path, &o);
		t_true(dev);
		if (mode == 2) {
			t_eq(-EOPNOTSUPP, vhostctl_vu_postcopy_advise(dev));
			t_eq(-EINVAL, vhostctl_vu_postcopy_listen(dev, NULL));
			t_eq(-EINVAL, vhostctl_vu_postcopy_listen(dev, &po));	/* no table */
			t_eq(-EPROTO, vhostctl_vu_postcopy_serve(dev, 0));
			t_eq(-EPROTO, vhostctl_vu_postcopy_end(dev));
			t_eq(-EINVAL, vhostctl_vu_postcopy_fd(NULL));
			printf("ok: without PAGEFAULT, or out of order: refused before sending\n");
		} else {
			t_eq(-EPROTO, vhostctl_vu_postcopy_advise(dev));
			t_eq(EPROTO, errno);
			printf("ok: ADVISE answered with %s: refused, no fd kept\n",
			       mode ? "no fd" : "an eventfd");
		}
		t_eq(-EPROTO, vhostctl_vu_postcopy_fd(dev));
		vhostctl_dev_close(dev);
		pthread_join(th, NULL);
		close(f.lsock);
		unlink(path);
		t_no_fd_leak(before);
	}
}

int main(void)
{
	int fds = t_count_fds();

	snprintf(path, sizeof(path), "/tmp/vu_postcopy.%d.sock", getpid());
	signal(SIGPIPE, SIG_IGN);
	migrate(false);
	migrate(true);
	t_no_fd_leak(fds);
	frontend_dies();
	t_no_fd_leak(fds);
	backend_order();
	t_no_fd_leak(fds);
	frontend_bad_fd();
	t_no_fd_leak(fds);
	unlink(path);
	return 0;
}
