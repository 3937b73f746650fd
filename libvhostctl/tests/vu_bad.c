// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Malformed input to the backend and to the frontend, over real sockets.
 * Each bad message ends that connection with a logged reason; the backend
 * keeps listening and serves the next frontend; no fd leaks.  Corrupt
 * packed inflight regions (as a crashed predecessor or the frontend might
 * leave them) are refused when the ring starts.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test.h"
#include "vu_drv.h"
#include "vu_raw.h"

static char path[64];

struct hdr {
	uint32_t req, flags, size;
};

static void raw_send(int fd, uint32_t req, uint32_t flags, const void *p, uint32_t size,
		     uint32_t claimed, const int *fds, int nfds)
{
	if (!raw_sendmsg_claim(fd, req, flags, claimed, p, size, fds, (unsigned int)nfds))
		t_fail("sendmsg: %s", strerror(errno));
}

/* Read one reply header+payload; returns payload size, or -1 on EOF. */
static int raw_recv(int fd, struct hdr *h, void *p, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pf, 1, ms) <= 0)
		t_fail("no answer from the backend");
	n = recv(fd, h, sizeof(*h), MSG_WAITALL);
	if (n <= 0)
		return -1;
	if (h->size && recv(fd, p, h->size, MSG_WAITALL) != (ssize_t)h->size)
		return -1;
	return (int)h->size;
}

static void expect_cut(int fd, const char *what)
{
	struct hdr h;
	char p[4096];

	/* The backend may answer a REPLY_ACK first; then it must hang up. */
	for (int i = 0; i < 3; i++)
		if (raw_recv(fd, &h, p, 3000) < 0) {
			close(fd);
			return;
		}
	t_fail("%s: connection not ended", what);
}

/* A session that has negotiated protocol features (REPLY_ACK, not MQ). */
static int session(uint64_t proto)
{
	int fd = raw_connect_path(path);
	uint64_t f = 1ull << 30 | VU_F_VERSION_1;

	raw_send(fd, 3, 1, NULL, 0, 0, NULL, 0);		/* SET_OWNER */
	raw_send(fd, 2, 1, &f, 8, 8, NULL, 0);			/* SET_FEATURES */
	raw_send(fd, 16, 1, &proto, 8, 8, NULL, 0);		/* SET_PROTOCOL_FEATURES */
	return fd;
}

static uint64_t errors(struct vhostctl_vu_backend *be, char *last)
{
	struct vhostctl_vu_backend_stats st;

	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	if (last)
		strcpy(last, st.last_error);
	return st.protocol_errors;
}

/* Connections the backend has cut off so far. */
static uint64_t ncut;

static void bad(struct vhostctl_vu_backend *be, const char *what, int fd, const char *expect)
{
	char last[128];

	expect_cut(fd, what);
	for (int i = 0; i < 100 && errors(be, NULL) == ncut; i++)
		usleep(10000);
	t_eq(ncut + 1, errors(be, last));
	ncut++;
	if (!strstr(last, expect))
		t_fail("%s: reason '%s' lacks '%s'", what, last, expect);
	printf("ok: %-34s -> %s\n", what, last);
}

/* The packed inflight layout (vhost-user.rst "Inflight I/O tracking"), for a ring of 16. */
struct ipd {
	uint8_t inflight, pad;
	uint16_t next, last, num;
	uint64_t counter;
	uint16_t id, flags;
	uint32_t len;
	uint64_t addr;
};

struct iph {
	uint64_t features;
	uint16_t version, desc_num, free_head, old_free_head, used_idx, old_used_idx;
	uint8_t wrap, old_wrap, pad[7];
	struct ipd desc[16];
};

/* One request of two descriptors in flight at entries 0-1 (buffer id 3); 2..15 free. */
static void infl_region(struct iph *r)
{
	memset(r, 0, sizeof(*r));
	r->version = 1;
	r->desc_num = 16;
	r->free_head = r->old_free_head = 2;
	r->wrap = r->old_wrap = 1;
	for (uint16_t i = 0; i < 16; i++)
		r->desc[i].next = i + 1;
	r->desc[0] = (struct ipd){ .inflight = 1, .next = 1, .last = 1, .num = 2, .counter = 7,
				   .id = 3, .flags = 1, .len = 16, .addr = 0x8000 };
	r->desc[1] = (struct ipd){ .next = 2, .id = 3, .flags = 2, .len = 1, .addr = 0x9000 };
}

/*
 * A session with a packed ring of 16 on vring 0 over 1 MiB of guest memory
 * (memfd), the inflight region in regfd, started by its kick.
 */
static int infl_session(int memfd, int regfd)
{
	struct { uint32_t index, flags; uint64_t desc, used, avail, log; } a = {
		0, 0, 0x10000000, 0x10001000, 0x10002000, 0 };
	struct { uint64_t size, offset; uint16_t nq, qs; uint32_t pad; } in = { 4096, 0, 1, 16, 0 };
	uint64_t f = 1ull << 30 | VU_F_VERSION_1 | VU_F_RING_PACKED, proto = 1u << 3 | 1u << 12;
	uint64_t mem[1 + 4] = { 1, 0, 1 << 20, 0x10000000, 0 }, k = 0;
	uint32_t num[2] = { 0, 16 }, base[2] = { 0, 0x8000 };
	int fd = raw_connect_path(path), kfd = eventfd(0, EFD_CLOEXEC);

	t_true(kfd >= 0);
	raw_send(fd, 3, 1, NULL, 0, 0, NULL, 0);		/* SET_OWNER */
	raw_send(fd, 2, 1, &f, 8, 8, NULL, 0);			/* SET_FEATURES */
	raw_send(fd, 16, 1, &proto, 8, 8, NULL, 0);		/* SET_PROTOCOL_FEATURES */
	raw_send(fd, 5, 1, mem, sizeof(mem), sizeof(mem), &memfd, 1);
	raw_send(fd, 32, 1, &in, 24, 24, &regfd, 1);		/* SET_INFLIGHT_FD */
	raw_send(fd, 8, 1, num, 8, 8, NULL, 0);
	raw_send(fd, 10, 1, base, 8, 8, NULL, 0);
	raw_send(fd, 9, 1, &a, sizeof(a), sizeof(a), NULL, 0);
	raw_send(fd, 12, 1, &k, 8, 8, &kfd, 1);		/* SET_VRING_KICK: the ring starts */
	close(kfd);
	return fd;
}

static void inflight_cases(struct vhostctl_vu_backend *be)
{
	static const struct {
		const char *what, *expect;
		int mode;
	} c[] = {
		{ "inflight: free list next 40000", "free list links to entry 40000", 1 },
		{ "inflight: free list loop", "free list loops at entry 4", 2 },
		{ "inflight: free list head 300", "free list head 300", 3 },
		{ "inflight: chain next 999", "links to entry 999", 4 },
		{ "inflight: chain of 17 entries", "17 descriptors", 5 },
		{ "inflight: chain last 5", "not at its last 5", 6 },
		{ "inflight: used index 16", "used index 16", 7 },
		{ "inflight: wrap counter 2", "wrap 2", 8 },
		{ "inflight: descriptor outside memory", "outside guest memory", 9 },
		{ "inflight: buffer id 99", "buffer id 99", 10 },
		{ "inflight: version 7", "version 7", 11 },
		{ "inflight: entries lost", "5 lost", 12 },
		{ "inflight: same counter twice", "same counter 7", 13 },
		{ "inflight: chain into the free list", "in two lists", 14 },
	};
	int memfd = memfd_create("vu_bad_mem", MFD_CLOEXEC), regfd, fd;
	struct vhostctl_vu_backend_stats st;
	struct iph *r;
	struct hdr h;
	char p[64];

	t_true(memfd >= 0 && ftruncate(memfd, 1 << 20) == 0);
	regfd = memfd_create("vu_bad_inflight", MFD_CLOEXEC);
	t_true(regfd >= 0 && ftruncate(regfd, 4096) == 0);
	r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, regfd, 0);
	t_true(r != MAP_FAILED);

	/* The region as written is valid: the ring starts and the session goes on. */
	infl_region(r);
	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	fd = infl_session(memfd, regfd);
	raw_send(fd, 1, 1, NULL, 0, 0, NULL, 0);
	t_eq(8, raw_recv(fd, &h, p, 3000));
	{
		struct vhostctl_vu_backend_stats st2;

		t_eq(0, vhostctl_vu_backend_stats(be, &st2));
		t_eq(st.protocol_errors, st2.protocol_errors);
	}
	t_eq(1, r->desc[0].inflight);	/* still in flight: to resubmit, not completed */
	t_eq(2, r->free_head);
	close(fd);
	printf("ok: %-34s -> ring started, request kept in flight\n",
	       "inflight: valid packed region");

	/*
	 * A predecessor died inside a push: the request's entries were back on
	 * the free list and the used index moved, uncommitted.  The descriptor
	 * at the old used index tells whether the driver had been handed the
	 * buffer: still available -> roll back (in flight); used -> commit.
	 */
	for (int published = 0; published < 2; published++) {
		uint16_t *ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);

		t_true(ring != MAP_FAILED);
		infl_region(r);
		r->free_head = 0;
		r->used_idx = 2;
		ring[7] = published ? (1u << 7 | 1u << 15) : 1u << 7;	/* slot 0 flags */
		fd = infl_session(memfd, regfd);
		raw_send(fd, 1, 1, NULL, 0, 0, NULL, 0);
		t_eq(8, raw_recv(fd, &h, p, 3000));
		t_eq(published ? 0 : 1, r->desc[0].inflight);
		t_eq(published ? 0 : 2, r->free_head);
		t_eq(r->free_head, r->old_free_head);
		t_eq(published ? 2 : 0, r->used_idx);
		t_eq(r->used_idx, r->old_used_idx);
		close(fd);
		ring[7] = 0;
		munmap(ring, 4096);
		printf("ok: %-34s -> %s\n", published ? "inflight: push published, uncommitted" :
			"inflight: push not published", published ? "committed, request done" :
			"rolled back, request in flight");
	}

	for (unsigned int i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		infl_region(r);
		switch (c[i].mode) {
		case 1: r->desc[5].next = 40000; break;
		case 2: r->desc[9].next = 4; break;
		case 3: r->free_head = r->old_free_head = 300; break;
		case 4: r->desc[0].next = 999; break;
		case 5: r->desc[0].num = 17; break;
		case 6: r->desc[0].last = 5; break;
		case 7: r->used_idx = r->old_used_idx = 16; break;
		case 8: r->wrap = r->old_wrap = 2; break;
		case 9: r->desc[1].addr = 0x40000000; break;
		case 10: r->desc[1].id = 99; break;
		case 11: r->version = 7; break;
		case 12: r->desc[10].next = 16; break;
		case 13:
			r->desc[2] = (struct ipd){ .inflight = 1, .next = 3, .last = 2,
						   .num = 1, .counter = 7, .id = 4,
						   .len = 64, .addr = 0xa000 };
			r->free_head = r->old_free_head = 3;
			break;
		case 14: r->desc[0].next = 5; break;
		}
		fd = infl_session(memfd, regfd);
		bad(be, c[i].what, fd, c[i].expect);
	}
	munmap(r, 4096);
	close(regfd);
	close(memfd);
}

struct fake {
	int lfd;
	int mode;
};

/* A fake backend that answers GET_FEATURES wrongly, in several ways. */
static void *fake_backend(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	struct hdr h;
	char p[64];
	uint64_t v = 0;

	if (fd < 0 || raw_recv(fd, &h, p, 3000) < 0)
		return NULL;
	if (f->mode >= 5) {
		/* MQ only; GET_QUEUE_NUM answers 128 (DPDK's answer) or 0. */
		do {
			if (h.req == 1)
				v = 1ull << 30;
			else if (h.req == 15)
				v = 1;
			else if (h.req == 17)
				v = f->mode == 5 ? 128 : 0;
			else
				continue;
			raw_send(fd, h.req, 5, &v, 8, 8, NULL, 0);
		} while (raw_recv(fd, &h, p, 3000) >= 0);
		close(fd);
		return NULL;
	}
	switch (f->mode) {
	case 0: /* flags without REPLY */
		raw_send(fd, h.req, 1, &v, 8, 8, NULL, 0);
		break;
	case 1: /* wrong size */
		raw_send(fd, h.req, 5, &v, 4, 4, NULL, 0);
		break;
	case 2: /* another request's reply */
		raw_send(fd, h.req + 1, 5, &v, 8, 8, NULL, 0);
		break;
	case 3: /* hang up */
		break;
	case 4: /* an fd nobody asked for */
		raw_send(fd, h.req, 5, &v, 8, 8, &fd, 1);
		break;
	}
	usleep(100000);
	close(fd);
	return NULL;
}

static void frontend_cases(void)
{
	static const char *names[] = { "no reply flag", "short reply", "wrong request",
				       "hang-up", "unexpected fd" };
	char fpath[64];

	snprintf(fpath, sizeof(fpath), "/tmp/vu_bad_fe.%d.sock", getpid());
	for (int mode = 0; mode < 5; mode++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 2000);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct fake f = { .mode = mode };
		pthread_t th;

		strcpy(sa.sun_path, fpath);
		unlink(fpath);
		f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		t_true(bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		t_true(listen(f.lfd, 1) == 0);
		pthread_create(&th, NULL, fake_backend, &f);
		errno = 0;
		t_true(vhostctl_vu_open(fpath, &o) == NULL);
		t_true(errno == EPROTO || errno == ECONNRESET);
		printf("ok: frontend refuses a backend's %s (%s)\n", names[mode], strerror(errno));
		pthread_join(th, NULL);
		close(f.lfd);
		unlink(fpath);
	}
	/* GET_QUEUE_NUM is a maximum: 128 is clamped to what we drive, 0 refused. */
	for (int mode = 5; mode < 7; mode++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 2000);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct fake f = { .mode = mode };
		struct vhostctl_dev *dev;
		pthread_t th;

		strcpy(sa.sun_path, fpath);
		unlink(fpath);
		f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		t_true(bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		t_true(listen(f.lfd, 1) == 0);
		pthread_create(&th, NULL, fake_backend, &f);
		errno = 0;
		dev = vhostctl_vu_open(fpath, &o);
		if (mode == 5) {
			t_true(dev);
			t_eq(64, vhostctl_vu_queue_count(dev));
			printf("ok: frontend drives 64 of a backend's 128 queues\n");
			vhostctl_dev_close(dev);
		} else {
			t_true(!dev && errno == EPROTO);
			printf("ok: frontend refuses a backend's 0 queues\n");
		}
		pthread_join(th, NULL);
		close(f.lfd);
		unlink(fpath);
	}
}

int main(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no);
	struct vhostctl_vu_backend *be;
	uint64_t v, ack = 1u << 3, ack_mq = ack | 1, ack_slots = ack | 1u << 15;
	int fds0 = t_count_fds(), fd, mfd[9], r;
	struct hdr h;
	char p[4096];

	snprintf(path, sizeof(path), "/tmp/vu_bad.%d.sock", getpid());
	be = vhostctl_vu_net_new(&no);
	t_true(be);
	t_eq(0, vhostctl_vu_backend_listen(be, path));
	t_eq(0, vhostctl_vu_backend_start(be));
	for (int i = 0; i < 9; i++) {
		mfd[i] = memfd_create("vu_bad", MFD_CLOEXEC);
		t_true(mfd[i] >= 0 && ftruncate(mfd[i], 1 << 20) == 0);
	}

	fd = raw_connect_path(path);
	raw_send(fd, 99, 1, NULL, 0, 0, NULL, 0);
	bad(be, "unknown request 99", fd, "unsupported request 99");

	fd = raw_connect_path(path);
	raw_send(fd, 2, 1, &v, 4, 4, NULL, 0);
	bad(be, "SET_FEATURES of 4 bytes", fd, "SET_FEATURES: payload of 4 bytes");

	fd = raw_connect_path(path);
	raw_send(fd, 1, 1, NULL, 0, 8, NULL, 0);
	raw_send(fd, 1, 1, &v, 8, 8, NULL, 0);
	bad(be, "GET_FEATURES with a payload", fd, "expected none");

	fd = raw_connect_path(path);
	v = 0;
	raw_send(fd, 13, 1, &v, 8, 8, mfd, 9);
	bad(be, "SET_VRING_CALL with 9 fds", fd, "more than 8 fds");

	fd = raw_connect_path(path);
	raw_send(fd, 13, 1, &v, 8, 8, mfd, 2);
	bad(be, "SET_VRING_CALL with 2 fds", fd, "2 fds, expected 1");

	fd = raw_connect_path(path);
	raw_send(fd, 12, 1, &v, 8, 8, NULL, 0);
	bad(be, "SET_VRING_KICK without fd or NOFD", fd, "0 fds, expected 1");

	/* An optional fd is one fd at most: a second would be kept by nobody. */
	fd = raw_connect_path(path);
	raw_send(fd, 7, 1, NULL, 0, 0, mfd, 2);
	bad(be, "SET_LOG_FD with 2 fds", fd, "2 fds, expected at most 1");

	fd = raw_connect_path(path);
	raw_send(fd, 1, 1 | 4, NULL, 0, 0, NULL, 0);
	bad(be, "reply flag on a request", fd, "reply flag");

	fd = raw_connect_path(path);
	raw_send(fd, 1, 2, NULL, 0, 0, NULL, 0);
	bad(be, "version 2", fd, "bad header flags");

	fd = raw_connect_path(path);
	raw_send(fd, 1, 1 | 0x100, NULL, 0, 0, NULL, 0);
	bad(be, "reserved flag bit", fd, "bad header flags");

	fd = raw_connect_path(path);
	raw_send(fd, 24, 1, p, 0, 5000, NULL, 0);
	bad(be, "payload of 5000 bytes", fd, "too large");

	fd = raw_connect_path(path);
	raw_send(fd, 2, 1, &v, 8, 8, NULL, 0);
	raw_send(fd, 16, 1, &v, 4, 8, NULL, 0);	/* 4 of 8 bytes, then silence */
	bad(be, "short payload", fd, "short payload");

	fd = session(ack);
	{
		uint32_t st[2] = { 99, 256 };

		raw_send(fd, 8, 1, st, 8, 8, NULL, 0);
	}
	bad(be, "SET_VRING_NUM on vring 99", fd, "vring 99 of 2");

	fd = session(ack);
	{
		uint32_t st[2] = { 0, 65536 };

		raw_send(fd, 8, 1, st, 8, 8, NULL, 0);
	}
	bad(be, "SET_VRING_NUM 65536", fd, "SET_VRING_NUM 65536");

	fd = session(ack);
	raw_send(fd, 17, 1, NULL, 0, 0, NULL, 0);
	bad(be, "GET_QUEUE_NUM without MQ", fd, "without protocol feature MQ");

	fd = session(ack_mq | 1ull << 40);
	bad(be, "SET_PROTOCOL_FEATURES bit 40", fd, "bits not offered");

	fd = session(ack);
	{
		uint64_t mem[1 + 4 * 2] = { 2, 0x0, 1 << 20, 0x10000000, 0,
					    0x80000, 1 << 20, 0x20000000, 0 };

		raw_send(fd, 5, 1 | 8, mem, sizeof(mem), sizeof(mem), mfd, 2);
	}
	bad(be, "overlapping regions", fd, "overlaps");

	fd = session(ack);
	{
		/* 2 MiB claimed on a 1 MiB memfd: its second half would SIGBUS. */
		uint64_t mem[1 + 4] = { 1, 0x0, 2 << 20, 0x10000000, 0 };

		raw_send(fd, 5, 1, mem, sizeof(mem), sizeof(mem), mfd, 1);
	}
	bad(be, "region larger than its memfd", fd, "past the end of its fd");

	fd = session(ack);
	{
		uint64_t mem[1 + 4 * 8] = { 9 };

		raw_send(fd, 5, 1, mem, sizeof(mem), sizeof(mem), mfd, 8);
	}
	bad(be, "SET_MEM_TABLE of 9 regions", fd, "9 regions");

	fd = session(ack);
	{
		uint64_t mem[1 + 4] = { 2, 0, 1 << 20, 0x10000000, 0 };

		raw_send(fd, 5, 1, mem, sizeof(mem), sizeof(mem), mfd, 1);
	}
	bad(be, "2 regions in the size of 1", fd, "2 regions in 40 bytes");

	fd = session(ack_slots);
	{
		uint64_t one[5] = { 0, 0, 0, 0x10000000, 0 };

		raw_send(fd, 37, 1, one, sizeof(one), sizeof(one), mfd, 1);
	}
	bad(be, "ADD_MEM_REG of size 0", fd, "ADD_MEM_REG");

	inflight_cases(be);

	/* A ring whose descriptor points outside guest memory breaks the connection. */
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
		struct vhostctl_mem *mem = vhostctl_mem_new();
		uint64_t before = errors(be, NULL);
		struct vhostctl_dev *dev;
		struct drv_q rx, tx;

		t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
		t_eq(0, drv_q_init(&rx, mem, 64, false, 2048));
		t_eq(0, drv_q_init(&tx, mem, 64, false, 2048));
		dev = vhostctl_vu_open(path, &o);
		t_true(dev);
		t_eq(0, vhostctl_dev_set_owner(dev));
		t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1));
		t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
		t_eq(0, drv_setup(dev, 0, &rx));
		t_eq(0, drv_setup(dev, 1, &tx));
		drv_add(&rx, 0, 2048, true);
		drv_add(&tx, 0, 64, false);
		tx.desc[0].addr = 0x40000000;	/* nothing is mapped there */
		drv_kick(&tx);
		for (int i = 0; i < 100 && errors(be, NULL) == before; i++)
			usleep(10000);
		{
			char last[128];

			t_eq(before + 1, errors(be, last));
			ncut = before + 1;
			t_true(strstr(last, "broken ring"));
			printf("ok: %-34s -> %s\n", "descriptor outside memory", last);
		}
		/* The frontend sees the hang-up on its next call. */
		r = vhostctl_dev_get_vring_base(dev, 0, (unsigned int *)&v);
		t_true(r < 0);
		vhostctl_dev_close(dev);
		drv_q_fini(&rx);
		drv_q_fini(&tx);
		vhostctl_mem_free(mem);
	}

	/*
	 * The same broken ring with an error eventfd (SET_VRING_ERR): that ring
	 * alone stops and its fd is signalled; the connection stays up, the
	 * frontend takes the ring back with GET_VRING_BASE, starts a new one in
	 * its place, and a frame goes through it to the receive ring, which ran
	 * on all along.
	 */
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
		struct vhostctl_mem *mem = vhostctl_mem_new();
		uint64_t before = errors(be, NULL), n = 0;
		int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct pollfd pe = { .fd = efd, .events = POLLIN };
		struct vhostctl_dev *dev;
		struct drv_q rx, tx, tx2;
		unsigned int base = ~0u;
		uint16_t id;
		uint32_t len;
		char last[128];

		t_true(efd >= 0);
		t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
		t_eq(0, drv_q_init(&rx, mem, 64, false, 2048));
		t_eq(0, drv_q_init(&tx, mem, 64, false, 2048));
		t_eq(0, drv_q_init(&tx2, mem, 64, false, 2048));
		dev = vhostctl_vu_open(path, &o);
		t_true(dev);
		t_eq(0, vhostctl_dev_set_owner(dev));
		t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1));
		t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
		t_eq(0, drv_setup(dev, 0, &rx));
		t_eq(0, drv_setup(dev, 1, &tx));
		t_eq(0, vhostctl_dev_set_vring_err(dev, 1, efd));
		drv_add(&rx, 0, 2048, true);
		drv_add(&tx, 0, 64, false);
		tx.desc[0].addr = 0x40000000;	/* nothing is mapped there */
		drv_kick(&tx);
		t_eq(1, poll(&pe, 1, 5000));
		t_eq(8, read(efd, &n, sizeof(n)));
		t_eq(1, n);
		t_eq(before + 1, errors(be, last));
		t_true(strstr(last, "vring 1: broken ring") && strstr(last, "error fd signalled"));
		/* More kicks on the stopped ring: nothing more is said. */
		drv_kick(&tx);
		usleep(100000);
		t_eq(before + 1, errors(be, NULL));
		t_eq(0, poll(&pe, 1, 0));
		/* The connection is up: the ring comes back, a new one replaces it. */
		t_eq(0, vhostctl_dev_get_vring_base(dev, 1, &base));
		t_eq(0, drv_setup(dev, 1, &tx2));
		memset(drv_buf(&tx2, 0), 0, 12);	/* virtio-net header */
		memset(drv_buf(&tx2, 0) + 12, 0x5a, 52);
		drv_add(&tx2, 0, 64, false);
		drv_kick(&tx2);
		t_eq(1, drv_wait(&rx, 5000));
		t_eq(1, drv_used(&rx, &id, &len));
		t_eq(0, id);
		t_eq(64, len);
		t_eq(0x5a, drv_buf(&rx, 0)[63]);
		printf("ok: %-34s -> %s; GET_VRING_BASE %u, a new ring took a frame "
		       "through\n", "broken ring with SET_VRING_ERR", last, base);
		ncut = errors(be, NULL);
		vhostctl_dev_close(dev);
		drv_q_fini(&rx);
		drv_q_fini(&tx);
		drv_q_fini(&tx2);
		close(efd);
		vhostctl_mem_free(mem);
	}

	/* After all that, a well-behaved frontend is still served. */
	fd = raw_connect_path(path);
	raw_send(fd, 1, 1, NULL, 0, 0, NULL, 0);
	t_eq(8, raw_recv(fd, &h, p, 3000));
	t_eq(5, h.flags);
	t_eq(1, h.req);
	close(fd);

	frontend_cases();

	for (int i = 0; i < 9; i++)
		close(mfd[i]);
	vhostctl_vu_backend_free(be);
	t_eq(fds0, t_count_fds());
	return 0;
}
