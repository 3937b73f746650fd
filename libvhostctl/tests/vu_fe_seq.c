// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The messages of vhostctl_dev_setup(), vhostctl_dev_teardown() and of a
 * failed set-up's rollback, as a vhost-user backend sees them: a scripted
 * peer on a real socket records every request.  Checked, with and without
 * REPLY_ACK:
 *  - per ring, SET_VRING_CALL comes before SET_VRING_KICK;
 *  - with REPLY_ACK every ring fd message (SET_VRING_ERR too) asks for an
 *    acknowledgement;
 *    without it a request that has a reply follows each kick before the
 *    ring is the caller's;
 *  - teardown stops each ring with GET_VRING_BASE and never sends the
 *    "no fd" flag (which asks a backend to poll);
 *  - rollback (2 queues asked of a backend without MQ that has 1) stops the
 *    ring it started with GET_VRING_BASE, and sends no "no fd" either.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"
#include "vu_raw.h"
#include "vu.h"

#define MAXLOG 256
#define F_VERSION_1 (1ull << 32)
#define F_PROTOCOL_FEATURES (1ull << 30)

struct rec {
	uint32_t req, flags;
	uint64_t arg;		/* the u64 or the state's index */
};

struct peer {
	int lfd;
	uint64_t proto;		/* protocol features offered */
	struct rec log[MAXLOG];
	unsigned int n;
};

static void reply_u64(int s, uint32_t req, uint64_t v)
{
	raw_sendmsg(s, req, VHC_VU_VERSION | VHC_VU_REPLY, &v, 8, NULL, 0);
}

/* The backend: answer what needs an answer, record everything until EOF. */
static void *peer_main(void *arg)
{
	struct peer *p = arg;
	int s = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (s < 0)
		return NULL;
	for (;;) {
		uint8_t buf[4096];
		uint32_t h[3];
		uint64_t u = 0;
		int n = raw_recvmsg(s, h, buf, sizeof(buf), 10000, NULL);

		if (n < 0)
			break;
		if (n >= 8)
			memcpy(&u, buf, 8);
		if (p->n < MAXLOG)
			p->log[p->n++] = (struct rec){ .req = h[0], .flags = h[1], .arg = u };
		switch (h[0]) {
		case VHC_VU_GET_FEATURES:
			reply_u64(s, h[0], F_VERSION_1 | F_PROTOCOL_FEATURES);
			continue;
		case VHC_VU_GET_PROTOCOL_FEATURES:
			reply_u64(s, h[0], p->proto);
			continue;
		case VHC_VU_GET_VRING_BASE: {
			uint32_t st[2] = { (uint32_t)u, 0 };

			raw_sendmsg(s, h[0], VHC_VU_VERSION | VHC_VU_REPLY, st, 8, NULL, 0);
			continue;
		}
		}
		if (h[1] & VHC_VU_NEED_REPLY)
			reply_u64(s, h[0], 0);
	}
	close(s);
	return NULL;
}

static bool is_ring_fd(uint32_t req)
{
	return req == VHC_VU_SET_VRING_KICK || req == VHC_VU_SET_VRING_CALL ||
	       req == VHC_VU_SET_VRING_ERR;
}

/* Position of the first request req for ring q at or after from, or -1. */
static int find(const struct peer *p, unsigned int from, uint32_t req, unsigned int q)
{
	for (unsigned int i = from; i < p->n; i++)
		if (p->log[i].req == req && (p->log[i].arg & VHC_VU_VRING_IDX_MASK) == q)
			return (int)i;
	return -1;
}

static void no_nofd(const struct peer *p, const char *what)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (is_ring_fd(p->log[i].req) && p->log[i].arg & VHC_VU_VRING_NOFD)
			t_fail("%s: %s of ring %u with the no-fd flag (message %u)", what,
			       vhostctl_vu_request_name(p->log[i].req, 0),
			       (unsigned int)(p->log[i].arg & 0xff), i);
}

/* Set-up order and synchronisation of ring q. */
static void check_ring(const struct peer *p, unsigned int q, bool ack)
{
	int call = find(p, 0, VHC_VU_SET_VRING_CALL, q);
	int kick = find(p, 0, VHC_VU_SET_VRING_KICK, q);

	t_true(call >= 0 && kick >= 0);
	if (call > kick)
		t_fail("ring %u: kick (message %d) before call (message %d)", q, kick, call);
	if (ack) {
		if (!(p->log[call].flags & VHC_VU_NEED_REPLY) ||
		    !(p->log[kick].flags & VHC_VU_NEED_REPLY))
			t_fail("ring %u: fd messages not acknowledged with REPLY_ACK", q);
	} else if ((unsigned int)kick + 1 >= p->n || p->log[kick + 1].req != VHC_VU_GET_FEATURES) {
		t_fail("ring %u: no request with a reply right after the kick", q);
	}
}

static struct peer *peer_start(const char *path, uint64_t proto, pthread_t *th)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct peer *p = calloc(1, sizeof(*p));

	t_true(p);
	p->proto = proto;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	t_true(p->lfd >= 0);
	t_true(!bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(p->lfd, 1));
	t_true(!pthread_create(th, NULL, peer_main, p));
	return p;
}

static void peer_end(struct peer *p, pthread_t th, const char *path)
{
	pthread_join(th, NULL);
	close(p->lfd);
	unlink(path);
}

static void run(bool ack, bool rollback)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .queues = rollback ? 0 : 2);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, so, .features = F_VERSION_1, .nqueues = 2,
			   .queue_size = 64);
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vqs[2];
	struct vhostctl_dev *dev;
	char path[64];
	struct peer *p;
	pthread_t th;
	int fds = t_count_fds(), efd, r;

	snprintf(path, sizeof(path), "/tmp/vu_fe_seq.%d.sock", getpid());
	p = peer_start(path, ack ? 1ull << VHOSTCTL_VU_PF_REPLY_ACK : 0, &th);
	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 1 << 20, 0) >= 0);
	dev = vhostctl_vu_open(path, &o);
	t_true(dev);
	r = vhostctl_dev_setup(dev, mem, vqs, &so, NULL);
	if (rollback) {
		t_eq(-ENOBUFS, r);
		t_true(!vqs[0] && !vqs[1]);
	} else {
		t_eq(0, r);
		efd = eventfd(0, EFD_CLOEXEC);
		t_true(efd >= 0);
		t_eq(0, vhostctl_dev_set_vring_err(dev, 1, efd));
		close(efd);
		t_eq(0, vhostctl_dev_teardown(dev, vqs, 2));
	}
	vhostctl_dev_close(dev);
	peer_end(p, th, path);

	check_ring(p, 0, ack);
	if (rollback) {
		int kick = find(p, 0, VHC_VU_SET_VRING_KICK, 0);

		if (find(p, (unsigned int)kick, VHC_VU_GET_VRING_BASE, 0) < 0)
			t_fail("rollback: ring 0 not stopped with GET_VRING_BASE");
		t_true(find(p, 0, VHC_VU_SET_VRING_NUM, 1) < 0);
		no_nofd(p, "rollback");
	} else {
		check_ring(p, 1, ack);
		r = find(p, 0, VHC_VU_SET_VRING_ERR, 1);
		t_true(r >= 0 && !(p->log[r].arg & VHC_VU_VRING_NOFD));
		if (ack && !(p->log[r].flags & VHC_VU_NEED_REPLY))
			t_fail("SET_VRING_ERR not acknowledged with REPLY_ACK");
		for (unsigned int q = 0; q < 2; q++)
			if (find(p, (unsigned int)find(p, 0, VHC_VU_SET_VRING_KICK, q),
				 VHC_VU_GET_VRING_BASE, q) < 0)
				t_fail("teardown: ring %u not stopped with GET_VRING_BASE", q);
		no_nofd(p, "teardown");
	}
	printf("%s, %s: %u messages in order\n", ack ? "REPLY_ACK" : "no REPLY_ACK",
	       rollback ? "rollback" : "setup+teardown", p->n);
	free(p);
	vhostctl_mem_free(mem);
	t_eq(fds, t_count_fds());
}

int main(void)
{
	run(true, false);
	run(false, false);
	run(true, true);
	run(false, true);
	return T_EXIT_PASS;
}
