// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Dirty logging in the vhost-user backend (LOG_SHMFD, VHOST_F_LOG_ALL): our
 * frontend against our net loopback backend over a real socket, the log a
 * memfd (at an offset that is not a page boundary).
 *
 * With LOG_ALL acknowledged and VHOST_VRING_F_LOG on both rings, packets
 * sent through the loopback dirty exactly the pages of the RX buffers
 * written and of the ring memory the device writes (split: the used rings;
 * packed: the descriptor rings and device event areas); the TX buffers (only
 * read), the split descriptor tables and every other page stay clean, and
 * the log eventfd is signalled.  With LOG_ALL off again (SET_FEATURES
 * without bit 26) no bit appears and the eventfd stays quiet.  A used-ring
 * log address beyond the log is not logged, is reported once, and the
 * traffic goes on.  A second SET_LOG_BASE unmaps the first log, the end of
 * the session the last.  Split and packed rings.  Then bad SET_LOG_BASE
 * messages (log too small for the memory table, beyond the fd, no fd) end
 * the connection with a reason; at the end no fd is left open.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test.h"
#include "vu_drv.h"
#include "vu_raw.h"

#define F_LOG_ALL (1ull << 26)
#define F_MAC (1ull << 5)
#define NUM 256u
#define PKT 200u		/* payload bytes after the 12-byte header */
#define GPA0 0x100000ull
#define MEM (16ull << 20)
#define LOG_SIZE ((GPA0 + MEM) / 4096 / 8)	/* exactly the guest memory */
#define LOG_OFF 64u
#define PAGE(gpa) ((gpa) / 4096)

static char path[64];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int beyond_reports;

static void be_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	pthread_mutex_lock(&log_lock);
	if (strstr(msg, "does not reach"))
		beyond_reports++;
	pthread_mutex_unlock(&log_lock);
	if (getenv("VU_DEBUG"))
		fprintf(stderr, "[be %d] %s\n", level, msg);
}

struct sess {
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	struct drv_q rx, tx;
	bool packed;
	uint64_t want;
	unsigned long sent;
	uint8_t *log;		/* the bitmap, in our mapping of the memfd */
	uint8_t rx_written[PAGE(GPA0 + MEM)];	/* pages the device wrote in RX buffers */
};

static void barrier(struct sess *s)
{
	uint64_t f;

	/* A reply comes after everything the backend did before reading the request. */
	t_eq(0, vhostctl_dev_get_features(s->dev, &f));
}

static void set_log_addr(struct sess *s, struct drv_q *q, unsigned int index, bool log,
			 uint64_t log_gpa)
{
	struct vhostctl_vring_addr a = {
		.index = index, .flags = log ? VHOSTCTL_VRING_F_LOG : 0, .desc = q->desc_gpa,
		.avail = q->avail_gpa, .used = q->used_gpa, .log = log_gpa,
	};

	t_eq(0, vhostctl_dev_set_vring_addr(s->dev, &a));
}

/* Send n packets through the loopback, each back on RX with its bytes. */
static void traffic(struct sess *s, unsigned int n)
{
	unsigned long got = 0, start = s->sent, tx_done = 0;

	while (got < n) {
		uint16_t id;
		uint32_t len;
		unsigned long seq;
		int added = 0;

		while (s->sent - start < n && s->sent - start - tx_done < NUM) {
			uint16_t slot = (uint16_t)(s->sent % NUM);
			uint8_t *b = drv_buf(&s->tx, slot);

			memset(b, 0, 12);
			memcpy(b + 12, &s->sent, sizeof(s->sent));
			memset(b + 12 + sizeof(s->sent), 0x5a, PKT - sizeof(s->sent));
			drv_add(&s->tx, slot, 12 + PKT, false);
			s->sent++;
			added++;
		}
		if (added)
			drv_kick(&s->tx);
		while (drv_used(&s->tx, &id, &len))
			tx_done++;
		if (!drv_used(&s->rx, &id, &len)) {
			if (drv_wait(&s->rx, 10000) == 0)
				t_fail("no packet for 10 s (%lu of %u back)", got, n);
			continue;
		}
		t_true(id < NUM && len == 12 + PKT);
		memcpy(&seq, drv_buf(&s->rx, id) + 12, sizeof(seq));
		t_eq(start + got, seq);
		for (uint64_t p = PAGE(s->rx.bufs_gpa + id * 2048ull);
		     p <= PAGE(s->rx.bufs_gpa + id * 2048ull + len - 1); p++)
			s->rx_written[p] = 1;
		got++;
		drv_add(&s->rx, id, 2048, true);
		drv_kick(&s->rx);
	}
	while (tx_done < n) {
		uint16_t id;
		uint32_t len;

		if (drv_used(&s->tx, &id, &len))
			tx_done++;
		else
			usleep(100);
	}
	barrier(s);
}

/* Mappings of the log memfd in this process (ours, and the backend's). */
static int log_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	t_true(f);
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "memfd:vu_log ");
	fclose(f);
	return n;
}

static bool dirty(const struct sess *s, uint64_t page)
{
	return s->log[page / 8] & (1u << (page % 8));
}

static void mark_range(uint8_t *want, uint64_t gpa, uint64_t len)
{
	for (uint64_t p = PAGE(gpa); p <= PAGE(gpa + len - 1); p++)
		want[p] = 1;
}

/* The bitmap must hold exactly the pages in want. */
static void check_exact(const struct sess *s, const uint8_t *want, const char *what)
{
	unsigned int n = 0;

	if (getenv("VU_DEBUG"))
		for (uint64_t p = 0; p < PAGE(GPA0 + MEM); p++)
			if (want[p] || dirty(s, p))
				fprintf(stderr, "page 0x%llx want %u dirty %u\n",
					(unsigned long long)p * 4096, want[p], dirty(s, p));
	for (uint64_t p = 0; p < PAGE(GPA0 + MEM); p++) {
		if (want[p] && !dirty(s, p))
			t_fail("%s: page 0x%llx was written but is not dirty", what,
			       (unsigned long long)p * 4096);
		if (!want[p] && dirty(s, p))
			t_fail("%s: page 0x%llx is dirty but was not written", what,
			       (unsigned long long)p * 4096);
		n += want[p];
	}
	printf("%s: exactly the %u pages written are dirty\n", what, n);
}

static void run(bool packed, int lfd, uint8_t *logmap)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .log = be_log, .log_level = 6);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 5000);
	const char *ring = packed ? "packed" : "split";
	struct vhostctl_log log = { .fd = lfd, .size = LOG_SIZE, .offset = LOG_OFF };
	struct vhostctl_vu_backend_stats st;
	struct vhostctl_vu_backend *be;
	static uint8_t want[PAGE(GPA0 + MEM)];
	static struct sess s;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t f, pf, v;
	char what[64];

	memset(&s, 0, sizeof(s));
	s.packed = packed;
	s.log = logmap + LOG_OFF;
	memset(logmap, 0, 8192);
	be = vhostctl_vu_net_new(&no);
	t_true(be && efd >= 0);
	t_eq(0, vhostctl_vu_backend_listen(be, path));
	t_eq(0, vhostctl_vu_backend_start(be));
	s.mem = vhostctl_mem_new();
	t_true(s.mem && vhostctl_mem_add_region(s.mem, GPA0, MEM, 0) >= 0);
	t_eq(0, drv_q_init(&s.rx, s.mem, NUM, packed, 2048));
	t_eq(0, drv_q_init(&s.tx, s.mem, NUM, packed, 2048));
	s.dev = vhostctl_vu_open(path, &o);
	t_true(s.dev);
	t_eq(0, vhostctl_dev_set_owner(s.dev));
	t_eq(0, vhostctl_dev_get_features(s.dev, &f));
	t_eq(0, vhostctl_vu_protocol_features(s.dev, &pf));
	if (!(f & F_LOG_ALL) || !(pf & (1ull << VHOSTCTL_VU_PF_LOG_SHMFD)))
		t_fail("backend offers features 0x%llx protocol 0x%llx: no LOG_ALL / LOG_SHMFD",
		       (unsigned long long)f, (unsigned long long)pf);
	s.want = VU_F_VERSION_1 | F_MAC | (packed ? VU_F_RING_PACKED : 0);
	t_eq(0, vhostctl_dev_set_features(s.dev, s.want));
	t_eq(0, vhostctl_dev_set_mem_table(s.dev, s.mem));
	t_eq(0, drv_setup(s.dev, 0, &s.rx));
	t_eq(0, drv_setup(s.dev, 1, &s.tx));
	for (uint16_t i = 0; i < NUM; i++)
		drv_add(&s.rx, i, 2048, true);
	drv_kick(&s.rx);
	traffic(&s, 16);	/* before logging: nothing may be marked */
	for (unsigned int i = 0; i < 8192; i++)
		if (logmap[i])
			t_fail("%s: byte %u of the log set before SET_LOG_BASE", ring, i);
	memset(s.rx_written, 0, sizeof(s.rx_written));

	/* Migration starts: the log, its eventfd, LOG_ALL, and F_LOG on the rings. */
	t_eq(1, log_mappings());
	t_eq(0, vhostctl_dev_set_log_base(s.dev, &log));
	t_eq(2, log_mappings());
	/* A new log replaces the old: its mapping goes. */
	t_eq(0, vhostctl_dev_set_log_base(s.dev, &log));
	t_eq(2, log_mappings());
	t_eq(0, vhostctl_dev_set_log_fd(s.dev, efd));
	t_eq(0, vhostctl_dev_set_features(s.dev, s.want | F_LOG_ALL));
	set_log_addr(&s, &s.rx, 0, true, s.rx.used_gpa);
	set_log_addr(&s, &s.tx, 1, true, s.tx.used_gpa);
	barrier(&s);
	traffic(&s, 300);	/* more than the ring: every slot written, some twice */
	memset(want, 0, sizeof(want));
	for (uint64_t p = 0; p < PAGE(GPA0 + MEM); p++)
		want[p] = s.rx_written[p];
	for (int k = 0; k < 2; k++) {
		struct drv_q *q = k ? &s.tx : &s.rx;

		if (packed) {
			mark_range(want, q->desc_gpa, 16ull * NUM);	/* used descriptors */
			mark_range(want, q->used_gpa, 4);		/* device event area */
		} else {
			mark_range(want, q->used_gpa, 6 + 8ull * NUM);
		}
	}
	snprintf(what, sizeof(what), "%s, LOG_ALL on", ring);
	check_exact(&s, want, what);
	/* What the device only read is clean: TX buffers, split descriptor tables. */
	t_true(!dirty(&s, PAGE(s.tx.bufs_gpa)));
	t_true(!dirty(&s, PAGE(s.tx.bufs_gpa + 2048ull * NUM - 1)));
	if (!packed)
		t_true(!dirty(&s, PAGE(s.rx.desc_gpa)) && !dirty(&s, PAGE(s.tx.desc_gpa)));
	t_eq(8, read(efd, &v, 8));
	t_true(v > 0);
	printf("%s: log eventfd signalled %llu times\n", ring, (unsigned long long)v);

	if (!packed) {
		/*
		 * The backend restarts during the migration: the reconnect gives the
		 * new session the log and its eventfd, and logging goes on.
		 */
		t_eq(0, vhostctl_vu_backend_stop(be));
		t_eq(0, vhostctl_vu_backend_disconnect(be));
		t_eq(0, vhostctl_vu_backend_start(be));
		t_eq(0, vhostctl_vu_reconnect(s.dev));
		t_eq(2, log_mappings());
		memset(logmap, 0, 8192);
		memset(s.rx_written, 0, sizeof(s.rx_written));
		traffic(&s, 50);
		for (uint64_t p = 0; p < PAGE(GPA0 + MEM); p++)
			if (s.rx_written[p] && !dirty(&s, p))
				t_fail("split, after a reconnect: RX page 0x%llx written, not logged",
				       (unsigned long long)p);
		t_true(dirty(&s, PAGE(s.rx.used_gpa)) && dirty(&s, PAGE(s.tx.used_gpa)));
		t_eq(8, read(efd, &v, 8));
		t_true(v > 0);
		printf("split: the backend restarted mid-migration, the reconnect handed it the "
		       "log; 50 packets logged\n");
	}

	/* Migration ends: LOG_ALL off, F_LOG off; nothing is marked any more. */
	t_eq(0, vhostctl_dev_set_features(s.dev, s.want));
	barrier(&s);
	memset(logmap, 0, 8192);
	traffic(&s, 100);
	set_log_addr(&s, &s.rx, 0, false, 0);
	set_log_addr(&s, &s.tx, 1, false, 0);
	traffic(&s, 100);
	for (unsigned int i = 0; i < 8192; i++)
		if (logmap[i])
			t_fail("%s: byte %u of the log set with LOG_ALL off", ring, i);
	t_eq(-1, read(efd, &v, 8));
	printf("%s, LOG_ALL off: 200 packets, no page marked, eventfd quiet\n", ring);

	if (!packed) {
		/* A used-ring log address beyond the log: not logged, reported once. */
		uint64_t far = 1ull << 40;

		pthread_mutex_lock(&log_lock);
		beyond_reports = 0;
		pthread_mutex_unlock(&log_lock);
		t_eq(0, vhostctl_dev_set_features(s.dev, s.want | F_LOG_ALL));
		set_log_addr(&s, &s.rx, 0, true, far);
		set_log_addr(&s, &s.tx, 1, true, s.tx.used_gpa);
		barrier(&s);
		memset(s.rx_written, 0, sizeof(s.rx_written));
		traffic(&s, 100);
		memset(want, 0, sizeof(want));
		for (uint64_t p = 0; p < PAGE(GPA0 + MEM); p++)
			want[p] = s.rx_written[p];
		mark_range(want, s.tx.used_gpa, 6 + 8ull * NUM);
		check_exact(&s, want, "split, RX used ring logged beyond the log");
		pthread_mutex_lock(&log_lock);
		t_eq(1, beyond_reports);
		pthread_mutex_unlock(&log_lock);
		t_eq(0, vhostctl_vu_backend_stats(be, &st));
		t_eq(0, st.protocol_errors);
		t_true(st.connected);
		printf("split: writes beyond the log reported once, traffic goes on\n");
	}
	t_eq(0, vhostctl_vu_backend_stats(be, &st));
	t_eq(0, st.protocol_errors);
	vhostctl_dev_close(s.dev);
	vhostctl_vu_backend_free(be);
	t_eq(1, log_mappings());
	drv_q_fini(&s.rx);
	drv_q_fini(&s.tx);
	vhostctl_mem_free(s.mem);
	close(efd);
}

/* Bad SET_LOG_BASE: the connection ends with the reason in last_error. */
static void wait_error(struct vhostctl_vu_backend *be, uint64_t n, const char *expect,
		       const char *what)
{
	struct vhostctl_vu_backend_stats st;

	for (int i = 0; i < 200; i++) {
		t_eq(0, vhostctl_vu_backend_stats(be, &st));
		if (st.protocol_errors == n && !st.connected)
			break;
		usleep(10000);
	}
	t_eq(n, st.protocol_errors);
	if (!strstr(st.last_error, expect))
		t_fail("%s: last error '%s' lacks '%s'", what, st.last_error, expect);
	printf("ok: %-26s -> %s\n", what, st.last_error);
}

static void bad_cases(int lfd)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .log = be_log);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 3000);
	struct vhostctl_log logs[2] = {
		{ .fd = lfd, .size = LOG_SIZE - 1 },		/* one byte short */
		{ .fd = lfd, .size = 4096, .offset = 1 << 20 },	/* the memfd has 8 KiB */
	};
	static const char *expect[2] = { "needs 544", "beyond the fd" };
	static const char *what[2] = { "SET_LOG_BASE too small", "SET_LOG_BASE past the fd" };
	struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);
	struct vhostctl_mem *mem = vhostctl_mem_new();

	t_true(be && mem && vhostctl_mem_add_region(mem, GPA0, MEM, 0) >= 0);
	t_eq(0, vhostctl_vu_backend_listen(be, path));
	t_eq(0, vhostctl_vu_backend_start(be));
	for (int k = 0; k < 2; k++) {
		struct vhostctl_dev *dev = vhostctl_vu_open(path, &o);

		t_true(dev);
		t_eq(0, vhostctl_dev_set_owner(dev));
		t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1 | F_LOG_ALL));
		t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
		t_true(vhostctl_dev_set_log_base(dev, &logs[k]) < 0);
		wait_error(be, (uint64_t)k + 1, expect[k], what[k]);
		vhostctl_dev_close(dev);
	}
	/* No fd at all: only a raw message can say that. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		uint32_t hdr[3];
		uint64_t body[2] = { 4096, 0 }, f = 1ull << 30 | VU_F_VERSION_1;
		uint64_t proto = 1ull << VHOSTCTL_VU_PF_LOG_SHMFD;
		char buf[64];
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		strcpy(sa.sun_path, path);
		t_eq(0, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
		hdr[0] = 2, hdr[1] = 1, hdr[2] = 8;		/* SET_FEATURES */
		memcpy(buf, hdr, 12);
		memcpy(buf + 12, &f, 8);
		t_eq(20, write(fd, buf, 20));
		hdr[0] = 16;					/* SET_PROTOCOL_FEATURES */
		memcpy(buf, hdr, 12);
		memcpy(buf + 12, &proto, 8);
		t_eq(20, write(fd, buf, 20));
		hdr[0] = 6, hdr[2] = 16;			/* SET_LOG_BASE, no fd */
		memcpy(buf, hdr, 12);
		memcpy(buf + 12, body, 16);
		t_eq(28, write(fd, buf, 28));
		wait_error(be, 3, "without a log fd", "SET_LOG_BASE without fd");
		/* The backend hung up without answering. */
		t_eq(0, read(fd, buf, sizeof(buf)));
		close(fd);
	}
	vhostctl_vu_backend_free(be);
	vhostctl_mem_free(mem);
}

/*
 * The interleaving that once made a written page look clean: a kick and a
 * request read by the backend in one batch.  Its reply went out first and
 * the kick's ring work (here the RX device event area, written and logged
 * when the ring's notifications are turned back on) came after it, so a
 * frontend reading the log on the reply missed the page.  Here the backend
 * runs in this thread, so nothing moves until the test says: the RX kick
 * and a GET_FEATURES request are both written, then one dispatch takes the
 * batch.  The queue handler notes whether the reply was already waiting on
 * the frontend's socket when it ran; it must not have been, and the page
 * must be dirty once the reply is in.
 */
struct order {
	int fe_fd;		/* the frontend's socket */
	bool armed;
	unsigned int runs;
	int reply_bytes;	/* waiting on fe_fd when the RX handler ran */
	volatile bool stop;
	struct vhostctl_vu_backend *be;
};

static int order_queue(struct vhostctl_vu_backend *be, unsigned int index,
		       struct vhostctl_devq *q, void *ctx)
{
	struct order *o = ctx;

	(void)be;
	if (!o->armed || index != 0)
		return 0;
	o->armed = false;
	o->runs++;
	t_eq(0, ioctl(o->fe_fd, FIONREAD, &o->reply_bytes));
	/* What the net device does when it waits for RX buffers: notify me. */
	t_true(vhostctl_devq_notify_enable(q, 1) >= 0);
	return 0;
}

static void *order_dispatch(void *arg)
{
	struct order *o = arg;

	while (!o->stop)
		t_true(vhostctl_vu_backend_dispatch(o->be, 20) >= 0);
	return NULL;
}

static void kick_before_reply(int lfd, uint8_t *logmap)
{
	static struct order o = { .fe_fd = -1 };
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo, .features = F_MAC,
			   .num_queues = 2, .queue = order_queue, .ctx = &o);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, fo, .timeout_ms = 5000);
	struct vhostctl_log log = { .fd = lfd, .size = LOG_SIZE, .offset = LOG_OFF };
	static struct sess s;
	uint64_t want = VU_F_VERSION_1 | F_MAC | VU_F_RING_PACKED | F_LOG_ALL, f;
	uint32_t h[3];
	pthread_t t;

	memset(&s, 0, sizeof(s));
	s.log = logmap + LOG_OFF;
	o.be = vhostctl_vu_backend_new(&bo);
	t_true(o.be);
	t_eq(0, vhostctl_vu_backend_listen(o.be, path));
	t_eq(0, pthread_create(&t, NULL, order_dispatch, &o));
	s.mem = vhostctl_mem_new();
	t_true(s.mem && vhostctl_mem_add_region(s.mem, GPA0, MEM, 0) >= 0);
	t_eq(0, drv_q_init(&s.rx, s.mem, NUM, true, 2048));
	t_eq(0, drv_q_init(&s.tx, s.mem, NUM, true, 2048));
	s.dev = vhostctl_vu_open(path, &fo);
	t_true(s.dev);
	t_eq(0, vhostctl_dev_set_owner(s.dev));
	t_eq(0, vhostctl_dev_set_features(s.dev, want));
	t_eq(0, vhostctl_dev_set_mem_table(s.dev, s.mem));
	t_eq(0, vhostctl_dev_set_log_base(s.dev, &log));
	t_eq(0, drv_setup(s.dev, 0, &s.rx));
	t_eq(0, drv_setup(s.dev, 1, &s.tx));
	set_log_addr(&s, &s.rx, 0, true, s.rx.used_gpa);
	set_log_addr(&s, &s.tx, 1, true, s.tx.used_gpa);
	barrier(&s);
	o.stop = true;
	t_eq(0, pthread_join(t, NULL));

	/* The backend is still: write the kick, then the request, then let it run. */
	memset(logmap, 0, 8192);
	o.fe_fd = vhostctl_dev_fd(s.dev);
	o.armed = true;
	drv_kick(&s.rx);
	t_true(raw_sendmsg(o.fe_fd, 1 /* GET_FEATURES */, 1, NULL, 0, NULL, 0));
	t_true(vhostctl_vu_backend_dispatch(o.be, 1000) > 0);
	t_eq(1, o.runs);
	if (o.reply_bytes)
		t_fail("the reply (%d bytes) went out before the kick written ahead of its "
		       "request was served", o.reply_bytes);
	t_eq(8, raw_recvmsg(o.fe_fd, h, &f, sizeof(f), 1000, NULL));
	t_eq(1, h[0]);
	if (!dirty(&s, PAGE(s.rx.used_gpa)))
		t_fail("the RX device event area, written for a kick before the request, is "
		       "not dirty when the reply comes");
	printf("packed: a kick written before a request is served, and logged, before its "
	       "reply\n");
	vhostctl_dev_close(s.dev);
	vhostctl_vu_backend_free(o.be);
	drv_q_fini(&s.rx);
	drv_q_fini(&s.tx);
	vhostctl_mem_free(s.mem);
}

int main(void)
{
	int fds0 = t_count_fds(), lfd;
	uint8_t *logmap;

	snprintf(path, sizeof(path), "/tmp/vu_log.%d.sock", getpid());
	lfd = memfd_create("vu_log", MFD_CLOEXEC);
	t_true(lfd >= 0 && ftruncate(lfd, 8192) == 0);
	logmap = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	t_true(logmap != MAP_FAILED);
	run(false, lfd, logmap);
	run(true, lfd, logmap);
	kick_before_reply(lfd, logmap);
	bad_cases(lfd);
	munmap(logmap, 8192);
	close(lfd);
	t_eq(fds0, t_count_fds());
	return 0;
}
