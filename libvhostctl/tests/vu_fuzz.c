// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A hostile frontend, at random: hundreds of connections to one net
 * backend, each a seeded mix of well-formed set-up (memory table, rings,
 * eventfds) and damage (random requests, sizes, flags, field values, fds
 * of the wrong kind: pipes, sockets, memfds; kicks on rings whose memory
 * is scribbled on while the backend reads it).  The backend must stay up
 * (it answers a fresh connection after every batch), never touch memory
 * outside what it was given (ASan), end each bad connection with a logged
 * reason, and leak no fd.  Meanwhile another backend of the same process
 * serves a well-behaved frontend without a hitch; at the end one passes
 * traffic through the fuzzed backend too.
 *
 *   vu_fuzz [CONNECTIONS [SEED]]
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "test.h"
#include "vu_raw.h"
#include "vu_traffic.h"

#define MEM_SIZE (1u << 20)
#define MEM_UADDR 0x7f0000000000ull

static char path[64];
static uint64_t offered, offered_proto;

/* The fds a hostile frontend has to hand, of every kind. */
struct pool {
	int memfd;		/* MEM_SIZE bytes: the "guest memory" */
	uint8_t *mem;		/* our mapping of it */
	int small_memfd;	/* 4 KiB */
	int efd[4];
	int pipe[2];
	int full_pipe[2];	/* write end cannot take a byte more */
	int sock[2];
};

static void pool_init(struct pool *p)
{
	p->memfd = memfd_create("vu_fuzz", MFD_CLOEXEC);
	p->small_memfd = memfd_create("vu_fuzz_small", MFD_CLOEXEC);
	t_true(p->memfd >= 0 && p->small_memfd >= 0);
	t_true(!ftruncate(p->memfd, MEM_SIZE) && !ftruncate(p->small_memfd, 4096));
	p->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0);
	t_true(p->mem != MAP_FAILED);
	for (int i = 0; i < 4; i++) {
		p->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		t_true(p->efd[i] >= 0);
	}
	t_true(!pipe2(p->pipe, O_CLOEXEC) && !pipe2(p->full_pipe, O_CLOEXEC | O_NONBLOCK));
	while (write(p->full_pipe[1], p->mem, 4096) > 0)
		;
	t_true(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->sock));
}

static void pool_fini(struct pool *p)
{
	munmap(p->mem, MEM_SIZE);
	close(p->memfd);
	close(p->small_memfd);
	for (int i = 0; i < 4; i++)
		close(p->efd[i]);
	close(p->pipe[0]);
	close(p->pipe[1]);
	close(p->full_pipe[0]);
	close(p->full_pipe[1]);
	close(p->sock[0]);
	close(p->sock[1]);
}

static int any_fd(const struct pool *p)
{
	const int all[] = { p->memfd, p->small_memfd, p->efd[0], p->efd[1], p->efd[2],
			    p->efd[3], p->pipe[0], p->pipe[1], p->full_pipe[1], p->sock[0] };

	return all[pick(sizeof(all) / sizeof(all[0]))];
}

struct conn {
	int fd;
	bool dead;
	unsigned long sent;
};

static void drain(struct conn *c)
{
	char buf[8192];
	union { char b[CMSG_SPACE(sizeof(int) * 16)]; struct cmsghdr a; } u;

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			c->dead = true;
			return;
		}
		if (n < 0)
			return;
		/* Close every fd the backend handed us (inflight regions). */
		raw_close_fds(&mh, NULL);
	}
}

static void send_msg(struct conn *c, uint32_t req, uint32_t flags, const void *p, uint32_t size,
		     const int *fds, unsigned int nfds)
{
	if (c->dead)
		return;
	if (!raw_sendmsg(c->fd, req, flags, p, size, fds, nfds)) {
		c->dead = true;
		return;
	}
	c->sent++;
	drain(c);
}

/* A value for a 32-bit field: mostly small or on an edge. */
static uint32_t field32(void)
{
	switch (pick(8)) {
	case 0: return (uint32_t)rnd();
	case 1: return 1u << pick(17);
	case 2: return 0xffffffffu;
	case 3: return (uint32_t)pick(0x10000);
	default: return (uint32_t)pick(6);
	}
}

/* An address: in or near the memory, or anywhere. */
static uint64_t addr64(void)
{
	switch (pick(6)) {
	case 0: return rnd();
	case 1: return MEM_SIZE - pick(64);
	case 2: return MEM_UADDR + pick(MEM_SIZE + 4096);
	default: return pick(MEM_SIZE) & ~15ull;
	}
}

static void send_mem_table(struct conn *c, const struct pool *p, bool good)
{
	uint64_t m[1 + 4 * 8] = { 0 };
	unsigned int n = good ? 1 : (unsigned int)pick(9);
	int fds[8];

	m[0] = n;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t *r = &m[1 + 4 * i];

		if (good) {
			r[0] = 0;
			r[1] = MEM_SIZE;
			r[2] = MEM_UADDR;
			r[3] = 0;
		} else {
			r[0] = pick(4) ? (uint64_t)i << 20 : rnd();
			r[1] = pick(4) ? (uint64_t)(1 + pick(256)) << 12 : rnd();
			r[2] = pick(2) ? MEM_UADDR + ((uint64_t)i << 20) : rnd();
			r[3] = pick(3) ? 0 : pick(4) << 12;
		}
		fds[i] = good || pick(4) ? p->memfd : any_fd(p);
	}
	/* Sometimes claim more regions than the size carries, or fewer fds. */
	send_msg(c, 5, 1 | (pick(2) ? 8 : 0), m, good || pick(4) ? 8 + 32 * n : 8 + 32 * (uint32_t)pick(9),
		 fds, good || pick(4) ? n : (unsigned int)pick(n + 1));
}

/* Set a ring up properly (or nearly): size, addresses in memory, base, call, kick. */
static void send_ring(struct conn *c, const struct pool *p, unsigned int idx, bool good)
{
	uint32_t st[2] = { idx, good ? 1u << (2 + pick(7)) : field32() };
	uint64_t base = pick(MEM_SIZE / 8) & ~4095ull;
	struct { uint32_t index, flags; uint64_t desc, used, avail, log; } a = {
		idx, good ? 0 : field32() & 1, MEM_UADDR + base, MEM_UADDR + base + 0x3000,
		MEM_UADDR + base + 0x2000, 0,
	};
	uint64_t v;

	if (!good && pick(3) == 0) {
		a.desc = addr64();
		a.used = addr64();
		a.avail = addr64();
	}
	send_msg(c, 8, 1, st, 8, NULL, 0);
	send_msg(c, 9, 1, &a, 40, NULL, 0);
	st[1] = good ? 0 : field32();
	send_msg(c, 10, 1, st, 8, NULL, 0);
	v = idx;
	send_msg(c, 13, 1, &v, 8, &p->efd[idx % 4], 1);
	send_msg(c, 12, 1, &v, 8, good ? &p->efd[(idx + 1) % 4] : (int[]){ any_fd(p) }, 1);
	st[1] = 1;
	send_msg(c, 18, 1, st, 8, NULL, 0);
}

/* One request of any kind with a mostly plausible shape. */
static void send_random(struct conn *c, const struct pool *p)
{
	static const struct { uint8_t req; uint16_t size; uint8_t nfds; } shapes[] = {
		{ 1, 0, 0 }, { 2, 8, 0 }, { 3, 0, 0 }, { 4, 0, 0 }, { 6, 16, 1 }, { 7, 0, 1 },
		{ 8, 8, 0 }, { 9, 40, 0 }, { 10, 8, 0 }, { 11, 8, 0 }, { 12, 8, 1 },
		{ 13, 8, 1 }, { 14, 8, 1 }, { 15, 0, 0 }, { 16, 8, 0 }, { 17, 0, 0 },
		{ 18, 8, 0 }, { 19, 8, 0 }, { 20, 8, 0 }, { 21, 0, 1 }, { 23, 8, 0 },
		{ 24, 12, 0 }, { 25, 12, 0 }, { 31, 24, 0 }, { 32, 24, 1 }, { 34, 0, 0 },
		{ 35, 8, 0 }, { 36, 0, 0 }, { 37, 40, 1 }, { 38, 40, 0 }, { 39, 8, 0 },
		{ 40, 0, 0 }, { 42, 8, 1 }, { 43, 0, 0 }, { 45, 8, 0 },
	};
	unsigned int s = (unsigned int)pick(sizeof(shapes) / sizeof(shapes[0]));
	uint32_t req = shapes[s].req, size = shapes[s].size, flags = 1, w[64];
	unsigned int nfds = shapes[s].nfds;
	int fds[9];

	for (unsigned int i = 0; i < 64; i++)
		w[i] = field32();
	if (req == 24 || req == 25) {
		w[0] = (uint32_t)pick(300);		/* offset */
		w[1] = (uint32_t)pick(300);		/* size */
		size = 12 + (pick(4) ? (w[1] < 244 ? w[1] : 244) : (uint32_t)pick(245));
	} else if (req == 37 || req == 38) {
		uint64_t r[5] = { 0, pick(2) ? (uint64_t)pick(8) << 20 : rnd(),
				  (uint64_t)(1 + pick(512)) << 12, MEM_UADDR + (pick(8) << 20),
				  pick(3) ? 0 : pick(512) << 12 };

		memcpy(w, r, sizeof(r));
	} else if (req == 31 || req == 32) {
		uint64_t in[3] = { pick(2) ? pick(1 << 20) : rnd(), pick(3) ? 0 : pick(8) << 12,
				   (uint64_t)pick(8) | (uint64_t)(1u << pick(16)) << 16 };

		memcpy(w, in, sizeof(in));
	} else if (req == 16 || req == 2) {
		uint64_t f = (req == 2 ? offered : offered_proto) & rnd();

		memcpy(w, &f, 8);
	}
	switch (pick(16)) {
	case 0: req = (uint32_t)pick(64); break;
	case 1: size = (uint32_t)pick(256); break;
	case 2: flags = (uint32_t)rnd() & 0x10f; break;
	case 3: nfds = (unsigned int)pick(10); break;
	default: break;
	}
	if (pick(2))
		flags |= 8;	/* NEED_REPLY */
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = any_fd(p);
	send_msg(c, req, flags, w, size, fds, nfds > 8 ? 9 : nfds);
}

static void scribble_and_kick(const struct pool *p)
{
	uint64_t off = pick(MEM_SIZE / 8), one = 1;

	for (unsigned int k = 0; k < 64; k++)
		p->mem[(off + pick(0x4000)) % MEM_SIZE] = (uint8_t)rnd();
	if (write(p->efd[pick(4)], &one, 8) < 0) {
		/* the counter is full: the backend has kicks to read */
	}
}

/*
 * A connection that keeps to the rules for a while: rings set up, stopped,
 * moved, enabled and disabled, memory replaced, kicks on scribbled rings;
 * then one random request.
 */
static void gentle_connection(const struct pool *p)
{
	struct conn c = { .fd = raw_connect_path(path) };
	uint64_t f = offered & (rnd() | 1ull << 32 | 1ull << 30);
	uint64_t pf = offered_proto & (rnd() | 1ull << 3);
	unsigned int n = 1 + (unsigned int)pick(60);

	send_msg(&c, 3, 1, NULL, 0, NULL, 0);
	send_msg(&c, 2, 1, &f, 8, NULL, 0);
	send_msg(&c, 16, 1, &pf, 8, NULL, 0);
	send_mem_table(&c, p, true);
	for (unsigned int q = 0; q < 4; q++)
		send_ring(&c, p, q, true);
	for (unsigned int i = 0; i < n && !c.dead; i++) {
		uint32_t st[2] = { (uint32_t)pick(4), (uint32_t)pick(2) };

		switch (pick(10)) {
		case 0: case 1: case 2: case 3:
			scribble_and_kick(p);
			break;
		case 4: case 5:
			send_msg(&c, 11, 1, st, 8, NULL, 0);	/* GET_VRING_BASE: stops it */
			send_ring(&c, p, st[0], true);
			break;
		case 6:
			send_msg(&c, 11, 1, st, 8, NULL, 0);
			break;
		case 7:
			send_msg(&c, 18, 1 | 8, st, 8, NULL, 0);	/* SET_VRING_ENABLE */
			break;
		case 8:
			send_mem_table(&c, p, true);
			break;
		default:
			usleep(200);
		}
	}
	send_random(&c, p);
	drain(&c);
	close(c.fd);
}

static void one_connection(const struct pool *p)
{
	struct conn c = { .fd = raw_connect_path(path) };
	bool setup = pick(4) != 0;
	unsigned int n = 1 + (unsigned int)pick(40);

	if (setup) {
		uint64_t f = offered & (rnd() | 1ull << 32 | 1ull << 30);
		uint64_t pf = offered_proto & (rnd() | 1ull << 3);

		send_msg(&c, 3, 1, NULL, 0, NULL, 0);
		send_msg(&c, 2, 1, &f, 8, NULL, 0);
		send_msg(&c, 16, 1, &pf, 8, NULL, 0);
		send_mem_table(&c, p, pick(4) != 0);
		for (unsigned int q = 0, nq = 1 + (unsigned int)pick(4); q < nq; q++)
			send_ring(&c, p, q, pick(3) != 0);
	}
	for (unsigned int i = 0; i < n && !c.dead; i++) {
		switch (pick(6)) {
		case 0:
			/* Scribble on the rings while the backend may be reading them. */
			scribble_and_kick(p);
			break;
		case 1:
			send_ring(&c, p, (unsigned int)pick(5), pick(2));
			break;
		default:
			send_random(&c, p);
		}
	}
	if (pick(4) == 0)
		usleep(1000);	/* let the backend run the rings a little */
	drain(&c);
	close(c.fd);
}

/* A fresh connection gets an answer: the backend is alive and serving. */
static void alive(void)
{
	struct conn c = { .fd = raw_connect_path(path) };
	struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
	uint32_t h[3] = { 1, 1, 0 }, r[5];

	t_true(send(c.fd, h, 12, MSG_NOSIGNAL) == 12);
	/* The backend finishes the previous connection first. */
	t_eq(1, poll(&pfd, 1, 10000));
	t_eq(20, recv(c.fd, r, 20, MSG_WAITALL));
	t_eq(1, r[0]);
	t_eq(5, r[1]);
	memcpy(&offered, &r[3], 8);
	close(c.fd);
}

/* Meanwhile a second backend in this process serves a well-behaved frontend. */
struct bystander {
	pthread_t th;
	volatile bool stop;
	unsigned long sessions, packets;
	char err[160];
};

static void *bystander_run(void *arg)
{
	struct bystander *b = arg;
	char bpath[64];

	snprintf(bpath, sizeof(bpath), "/tmp/vu_fuzz_ok.%d.sock", getpid());
	while (!b->stop && !b->err[0]) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 8 });
		struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);
		struct traffic t = { .num = 128, .packets = 20000, .size = 64, .path = bpath,
				     .packed = b->sessions & 1, .event_idx = true };

		if (!be) {
			snprintf(b->err, sizeof(b->err), "backend: %s", strerror(errno));
			break;
		}
		if (traffic_run(&t, be))
			snprintf(b->err, sizeof(b->err), "%s", t.err);
		b->packets += t.received;
		b->sessions++;
		vhostctl_vu_backend_free(be);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long conns = argc > 1 ? strtoul(argv[1], NULL, 0) : 600;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 20261121;
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 9 },
			   .queue_pairs = 2, .log = getenv("VU_DEBUG") ? tr_log : NULL,
			   .log_ctx = (void *)"be", .log_level = 7);
	struct vhostctl_vu_backend_stats st0, st;
	struct bystander by = { 0 };
	struct vhostctl_vu_backend *be;
	int fds0 = t_count_fds();
	struct pool p;

	raw_seed(seed);
	printf("seed %llu, %lu connections\n", (unsigned long long)seed, conns);
	snprintf(path, sizeof(path), "/tmp/vu_fuzz.%d.sock", getpid());
	be = vhostctl_vu_net_new(&no);
	t_true(be);
	t_eq(0, vhostctl_vu_backend_listen(be, path));
	t_eq(0, vhostctl_vu_backend_start(be));
	pool_init(&p);
	alive();
	{
		struct conn c = { .fd = raw_connect_path(path) };
		uint32_t h[3] = { 15, 1, 0 }, r[5];

		t_true(send(c.fd, h, 12, MSG_NOSIGNAL) == 12);
		t_eq(20, recv(c.fd, r, 20, MSG_WAITALL));
		memcpy(&offered_proto, &r[3], 8);
		close(c.fd);
	}
	t_eq(0, vhostctl_vu_backend_stats(be, &st0));
	t_eq(0, pthread_create(&by.th, NULL, bystander_run, &by));
	for (unsigned long i = 0; i < conns; i++) {
		if (pick(2))
			gentle_connection(&p);
		else
			one_connection(&p);
		if (i % 50 == 49)
			alive();
	}
	alive();
	by.stop = true;
	pthread_join(by.th, NULL);
	if (by.err[0])
		t_fail("the other backend's frontend: %s", by.err);
	t_true(by.sessions > 0);
	printf("ok: meanwhile another backend in this process looped %lu packets back in %lu "
	       "sessions, every one intact\n", by.packets, by.sessions);
	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	printf("backend: %llu connections, %llu requests handled, %llu kicks, %llu cut off "
	       "(last: %s)\n", (unsigned long long)(st.connections - st0.connections),
	       (unsigned long long)(st.messages - st0.messages),
	       (unsigned long long)(st.kicks - st0.kicks),
	       (unsigned long long)(st.protocol_errors - st0.protocol_errors), st.last_error);
	/* The mix must have reached both outcomes and real ring work. */
	t_true(st.protocol_errors - st0.protocol_errors > conns / 8);
	t_true(st.protocol_errors - st0.protocol_errors < st.connections - st0.connections);
	t_true(st.messages - st0.messages > conns * 5);
	t_true(st.kicks > st0.kicks);

	/* A well-behaved frontend is served by the same backend afterwards. */
	{
		struct traffic t = { .serving = true, .num = 64, .packets = 2000, .size = 64,
				     .path = path, .event_idx = true };

		if (traffic_run(&t, be))
			t_fail("traffic after the fuzz: %s", t.err);
		printf("ok: %lu packets looped back after the fuzz\n", t.received);
	}
	vhostctl_vu_backend_free(be);
	pool_fini(&p);
	t_no_fd_leak(fds0);
	return 0;
}
