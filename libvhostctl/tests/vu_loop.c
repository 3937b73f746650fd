// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The backend in the application's own event loop: poll() on
 * vhostctl_vu_backend_fd(), then vhostctl_vu_backend_dispatch(be, 0).
 * The queue handler moves one packet per call and asks to be called again,
 * so the traffic only flows if work a handler leaves pending keeps the fd
 * readable.  Also: dispatch refuses to run beside the library's thread.
 */
#include <poll.h>

#include "test.h"
#include "vu_sess.h"

#define NUM 64u
#define SIZE 80u
#define PACKETS 3000ul

static char path[64];
static volatile bool stop;
static unsigned long handler_calls;

/* Move at most one packet from TX (queue 1) to RX (queue 0). */
static int trickle(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		   void *ctx)
{
	struct vhostctl_devq *rxq = vhc_vu_backend_queue(be, 0), *txq = vhc_vu_backend_queue(be, 1);
	struct iovec tv[4], rv[4];
	struct vhostctl_devq_elem t, r;
	uint8_t buf[SESS_HDR + SIZE];
	int n;

	(void)index;
	(void)q;
	(void)ctx;
	handler_calls++;
	if (!rxq || !txq)
		return 0;
	n = vhostctl_devq_pop(txq, &t, tv, 4);
	if (n <= 0)
		return n;
	n = vhostctl_devq_pop(rxq, &r, rv, 4);
	if (n <= 0) {
		vhostctl_devq_unpop(txq, &t);
		if (n < 0)
			return n;
		n = vhostctl_devq_notify_enable(rxq, 1);
		return n < 0 ? n : n > 0;
	}
	if (t.out_len > sizeof(buf) || r.in_len < t.out_len)
		return -EIO;
	vhostctl_devq_copy_from(&t, 0, buf, t.out_len);
	buf[10] = 1;	/* num_buffers */
	vhostctl_devq_copy_to(&r, 0, buf, t.out_len);
	if (vhostctl_devq_push(rxq, &r, t.out_len) || vhostctl_devq_push(txq, &t, 0) ||
	    vhostctl_devq_flush(txq) < 0 || vhostctl_devq_flush(rxq) < 0)
		return -EIO;
	return 1;	/* more may be waiting: call again soon */
}

/* The application's loop: wait on the backend's fd only. */
static void *app_loop(void *arg)
{
	struct vhostctl_vu_backend *be = arg;
	struct pollfd pfd = { .fd = vhostctl_vu_backend_fd(be), .events = POLLIN };

	while (!stop) {
		int n = poll(&pfd, 1, 100);

		if (n == 0)
			continue;
		if (n < 0 || vhostctl_vu_backend_dispatch(be, 0) < 0)
			break;
	}
	return NULL;
}

int main(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo, .num_queues = 2, .queue = trickle,
			   .features = 1ull << 5,
			   .log = getenv("VU_DEBUG") ? sess_log : NULL, .log_ctx = (void *)"be",
			   .log_level = 7);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct vhostctl_mem *mem = vhostctl_mem_new();
	int fds = t_count_fds();
	struct vhostctl_dev *dev;
	char err[200];
	struct sess s;
	struct pair p;
	pthread_t th;

	snprintf(path, sizeof(path), "/tmp/vu_loop.%d.sock", getpid());
	s = (struct sess){ .path = path, .be = vhostctl_vu_backend_new(&bo) };
	t_true(s.be);

	/* Beside the library's own thread, the application may not dispatch. */
	t_eq(0, vhostctl_vu_backend_start(s.be));
	t_eq(-EBUSY, vhostctl_vu_backend_dispatch(s.be, 0));
	t_eq(0, vhostctl_vu_backend_stop(s.be));

	t_eq(0, vhostctl_vu_backend_listen(s.be, path));
	s.listening = true;
	s.running = true;	/* the loop below is the application's, not the library's */
	t_eq(0, pthread_create(&th, NULL, app_loop, s.be));
	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	memset(&p, 0, sizeof(p));
	t_eq(0, drv_q_init(&p.rx, mem, NUM, false, 512) ?: drv_q_init(&p.tx, mem, NUM, false, 512));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1 | 1ull << 5));
	t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
	t_eq(0, ring_setup(dev, 0, &p.rx, 0) ?: ring_setup(dev, 1, &p.tx, 0));
	pair_fill_rx(&p);
	/*
	 * A burst with a single kick, and nothing more from the driver: the
	 * handler moves one packet per call, so the rest only comes back if
	 * the pending work keeps the backend's fd readable.
	 */
	{
		unsigned int got = 0;
		uint16_t id;
		uint32_t l;

		for (uint16_t i = 0; i < NUM - 1; i++) {
			pkt_fill(drv_buf(&p.tx, i), 0, i, SIZE);
			drv_add(&p.tx, i, SESS_HDR + SIZE, false);
		}
		drv_kick(&p.tx);
		for (int ms = 0; ms < 5000 && got < NUM - 1; ms++) {
			while (drv_used(&p.rx, &id, &l)) {
				uint8_t want[SESS_HDR + SIZE];

				pkt_fill(want, 0, got, SIZE);
				t_eq(SESS_HDR + SIZE, l);
				t_eq(0, memcmp(drv_buf(&p.rx, id) + SESS_HDR, want + SESS_HDR, SIZE));
				got++;
			}
			usleep(1000);
		}
		if (got != NUM - 1)
			t_fail("one kick for %u packets: %u came back", NUM - 1, got);
		while (drv_used(&p.tx, &id, &l))
			;
		/* Back to a clean state for the paced traffic below. */
		for (uint16_t i = 0; i < NUM - 1; i++)
			drv_add(&p.rx, i, p.rx.bsz, true);
		drv_kick(&p.rx);
		p.sent = p.done_tx = p.received = p.to_send = p.expect = NUM - 1;
		printf("ok: %u packets after one kick, one per handler call\n", got);
	}
	if (pairs_more(&p, 1, PACKETS, SIZE, err, sizeof(err)))
		t_fail("traffic through the application's loop: %s", err);
	printf("ok: %lu more packets, paced by the driver (%lu handler calls in all), through "
	       "poll() on the backend's fd and dispatch(be, 0)\n", p.received - (NUM - 1),
	       handler_calls);
	t_true(handler_calls >= PACKETS);
	vhostctl_dev_close(dev);
	stop = true;
	pthread_join(th, NULL);
	vhostctl_vu_backend_free(s.be);
	drv_q_fini(&p.rx);
	drv_q_fini(&p.tx);
	vhostctl_mem_free(mem);
	t_eq(fds, t_count_fds());
	return 0;
}
