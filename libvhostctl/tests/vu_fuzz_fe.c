// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A hostile backend, at random, against our frontend.  The fake backend
 * answers most requests correctly with random values (features, queue
 * counts from 0 to 130, config bytes, inflight regions, device-state
 * fds) and damages the rest: replies to another request, wrong sizes and
 * flags, fds nobody asked for, silence past the timeout, hang-ups.  On
 * the backend channel it sends requests of every kind, good and bad.
 * The frontend drives random sequences of every call meanwhile.  Each call
 * must return 0 (or a count) or a negative errno from the expected set,
 * never hang, never crash (ASan/UBSan), and no fd may leak.
 *
 *   vu_fuzz_fe [SESSIONS [SEED]]
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <vhostctl/vhostctl.h>

#include "test.h"
#include "vu_raw.h"

/* Long enough for a reply on a loaded machine; the fake backend's late replies wait 1.5x. */
#define TIMEOUT_MS 300

static char path[64];
static int lfd;
static volatile bool stop;
static int memfd;

struct tally {
	unsigned long calls, ok, failed, opened, open_failed, channel_msgs;
};

static uint64_t features(void)
{
	return (rnd() & 0x3f00ffffffull) | 1ull << 32 | (pick(4) ? 1ull << 30 : 0);
}

/* The reply to one request: right most of the time, damaged otherwise. */
static bool answer(int sock, uint32_t h[3], const uint8_t *p, int *chan)
{
	uint64_t w[40] = { 0 };
	uint32_t req = h[0], flags = 5, size = 8;
	int fds[3];
	unsigned int nfds = 0;
	bool reply = true;

	switch (req) {
	case 1: w[0] = features(); break;		/* GET_FEATURES */
	case 15: w[0] = rnd() & 0xfffff; break;		/* GET_PROTOCOL_FEATURES */
	case 17: w[0] = pick(131); break;		/* GET_QUEUE_NUM */
	case 36: w[0] = pick(4) ? 8 + pick(600) : rnd(); break;	/* GET_MAX_MEM_SLOTS */
	case 40: w[0] = pick(256); break;		/* GET_STATUS */
	case 43: w[0] = pick(2); break;			/* CHECK_DEVICE_STATE */
	case 11: memcpy(w, p, 4); w[0] |= rnd() << 32; break;	/* GET_VRING_BASE */
	case 24: {					/* GET_CONFIG */
		uint32_t sz;

		memcpy(&sz, p + 4, 4);
		memcpy(w, p, 12);
		if (sz > 256)
			sz = 0;
		for (unsigned int i = 0; i < sz; i++)
			((uint8_t *)w)[12 + i] = (uint8_t)rnd();
		size = 12 + (pick(8) ? sz : (uint32_t)pick(sz + 1));
		break;
	}
	case 31:					/* GET_INFLIGHT_FD */
		w[0] = pick(4) ? 4096 * (1 + pick(16)) : rnd();
		w[1] = pick(4) ? 0 : rnd();
		memcpy(&w[2], p + 16, 4);
		size = 24;
		if (pick(8))
			fds[nfds++] = memfd;
		break;
	case 42:					/* SET_DEVICE_STATE_FD */
		w[0] = pick(3) ? 1u << 8 : pick(2) ? 0 : rnd();
		if (!pick(4))
			fds[nfds++] = memfd;
		break;
	case 21:					/* SET_BACKEND_REQ_FD */
		reply = h[1] & 8;
		w[0] = 0;
		break;
	default:
		reply = h[1] & 8;			/* REPLY_ACK asked for */
		w[0] = pick(16) ? 0 : 1;
	}
	if (!reply && pick(32))
		return true;
	switch (pick(24)) {
	case 0: req ^= 1u << pick(6); break;
	case 1: size = (uint32_t)pick(40); break;
	case 2: flags = (uint32_t)rnd() & 0xf; break;
	case 3: fds[nfds++] = memfd; break;
	case 4:						/* too late, now and then */
		if (pick(2))
			usleep(TIMEOUT_MS * 1500);
		break;
	case 5: return false;				/* hang up */
	default: break;
	}
	(void)chan;
	return raw_sendmsg(sock, req, flags, w, size, fds, nfds);
}

/* Something on the backend channel: known requests and nonsense. */
static void channel_noise(int chan, struct tally *t)
{
	uint64_t w[4] = { rnd(), rnd(), rnd(), rnd() };
	uint32_t req = (uint32_t)(pick(4) ? 2 : pick(14)), flags = 1 | (pick(2) ? 8 : 0);
	uint32_t size = req == 2 ? 0 : (uint32_t)pick(33);
	int fds[9];
	unsigned int nfds = pick(6) ? 0 : (unsigned int)pick(10);

	if (pick(16) == 0)
		flags = (uint32_t)rnd() & 0xf;
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = memfd;
	if (raw_sendmsg(chan, req, flags, w, size, fds, nfds))
		t->channel_msgs++;
}

struct backend {
	struct tally *t;
	pthread_t th;
};

static void *fake_backend(void *arg)
{
	struct backend *b = arg;

	while (!stop) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int sock, chan = -1;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (sock < 0)
			continue;
		for (;;) {
			uint32_t h[3];
			uint8_t p[4096];
			int got = -1;
			int n = raw_recvmsg(sock, h, p, sizeof(p), 1000, &got);

			if (got >= 0 && n >= 0 && h[0] == 21 && chan < 0)
				chan = got;	/* SET_BACKEND_REQ_FD: keep the channel */
			else if (got >= 0)
				close(got);
			if (n == -2 && !stop)
				continue;
			if (n < 0)
				break;
			if (!answer(sock, h, p, &chan))
				break;
			if (chan >= 0 && pick(3) == 0)
				channel_noise(chan, b->t);
		}
		if (chan >= 0)
			close(chan);
		close(sock);
	}
	return NULL;
}

/* Every call ends in one of these; anything else is a finding. */
static void check(struct tally *t, const char *call, int r)
{
	static const int allowed[] = {
		EPROTO, ECONNRESET, ENOTCONN, ETIMEDOUT, EIO, EOPNOTSUPP, EINVAL, E2BIG, ENOENT,
		EPIPE, EBUSY, ERANGE, EBADMSG, ENOSPC, EFAULT, EAGAIN, EMSGSIZE,
		ENOBUFS,	/* a vring index past the queue count */
	};

	t->calls++;
	if (r >= 0) {
		t->ok++;
		return;
	}
	t->failed++;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (-r == allowed[i])
			return;
	t_fail("%s returned %d (%s)", call, r, strerror(-r));
}

static void fe_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "[fe %d] %s\n", level, msg);
}

static void session(struct vhostctl_mem *mem, struct tally *t)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = TIMEOUT_MS,
			   .log = getenv("VU_DEBUG") ? fe_log : NULL, .log_level = 7,
			   .queues = 1 + (unsigned int)pick(4),
			   .protocol_features = pick(2) ? 0 : rnd() & 0xfffff);
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), call = eventfd(0, EFD_CLOEXEC);
	struct vhostctl_dev *dev;
	uint64_t f = 0;
	uint8_t cfg[300];

	t_true(kick >= 0 && call >= 0);
	dev = vhostctl_vu_open(path, &o);
	if (!dev) {
		t->open_failed++;
		check(t, "vhostctl_vu_open", -errno);
		goto out;
	}
	t->opened++;
	for (unsigned int i = 0, n = 1 + (unsigned int)pick(40); i < n; i++) {
		unsigned int q = (unsigned int)pick(5), v;
		uint8_t st;
		int fd;

		switch (pick(20)) {
		case 0: check(t, "set_owner", vhostctl_dev_set_owner(dev)); break;
		case 1: check(t, "get_features", vhostctl_dev_get_features(dev, &f)); break;
		case 2: check(t, "set_features", vhostctl_dev_set_features(dev, f & rnd())); break;
		case 3: check(t, "set_mem_table", vhostctl_dev_set_mem_table(dev, mem)); break;
		case 4: check(t, "set_vring_num", vhostctl_dev_set_vring_num(dev, q, 1u << pick(16))); break;
		case 5: {
			struct vhostctl_vring_addr a = { .index = q, .desc = 0x100000,
							 .avail = 0x101000, .used = 0x102000 };

			if (pick(4) == 0)
				a.used = rnd();
			check(t, "set_vring_addr", vhostctl_dev_set_vring_addr(dev, &a));
			break;
		}
		case 6:
			v = (unsigned int)pick(70000);
			check(t, "set_vring_base", vhostctl_dev_set_vring_base(dev, q, v));
			break;
		case 7: check(t, "get_vring_base", vhostctl_dev_get_vring_base(dev, q, &v)); break;
		case 8: check(t, "set_vring_kick", vhostctl_dev_set_vring_kick(dev, q, kick)); break;
		case 9: check(t, "set_vring_call", vhostctl_dev_set_vring_call(dev, q, call)); break;
		case 10: check(t, "set_vring_enable", vhostctl_dev_set_vring_enable(dev, q, (int)pick(2))); break;
		case 11: check(t, "get_config", vhostctl_dev_get_config(dev, (unsigned int)pick(64),
									  cfg, 1 + (unsigned int)pick(290))); break;
		case 12: check(t, "set_config", vhostctl_dev_set_config(dev, (unsigned int)pick(64),
									  cfg, 1 + (unsigned int)pick(290))); break;
		case 13: check(t, "get_status", vhostctl_dev_get_status(dev, &st)); break;
		case 14: check(t, "set_status", vhostctl_dev_set_status(dev, (uint8_t)rnd())); break;
		case 15:
			v = 1 + (unsigned int)pick(4);
			check(t, "get_inflight", vhostctl_vu_get_inflight(dev, v, 256));
			break;
		case 16:
			fd = -1;
			check(t, "device_state", vhostctl_vu_device_state(dev, (int)pick(2), &fd));
			if (fd >= 0)
				close(fd);
			check(t, "check_device_state", vhostctl_vu_check_device_state(dev));
			break;
		case 17:
			if (vhostctl_vu_backend_channel_fd(dev) >= 0)
				check(t, "serve_backend", vhostctl_vu_serve_backend(dev));
			check(t, "config_changes", vhostctl_vu_config_changes(dev));
			break;
		case 18: check(t, "reset", vhostctl_dev_reset(dev)); break;
		default: check(t, "reconnect", vhostctl_vu_reconnect(dev)); break;
		}
	}
	vhostctl_dev_close(dev);
out:
	close(kick);
	close(call);
}

/*
 * The backend channel, exactly: CONFIG_CHANGE_MSG is acknowledged with 0,
 * requests needing features never negotiated get 1, a malformed one
 * closes the channel but not the connection.
 */
static void *channel_backend(void *arg)
{
	uint64_t *replies = arg;
	int sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), chan = -1;
	bool replied = false;

	for (int served = 0; sock >= 0 && served < 8;) {
		uint32_t h[3];
		uint8_t p[64];
		uint64_t v = 0;
		int got = -1;

		if (raw_recvmsg(sock, h, p, sizeof(p), 3000, &got) < 0)
			break;
		served++;
		if (h[0] == 21) {
			chan = got;
		} else if (got >= 0) {
			close(got);
		}
		if (h[0] == 1)
			v = 1ull << 30 | 1ull << 32;
		else if (h[0] == 15)
			v = 1u << 3 | 1u << 5 | 1u << 9;	/* REPLY_ACK BACKEND_REQ CONFIG */
		else if (!(h[1] & 8))
			continue;
		raw_sendmsg(sock, h[0], 5, &v, 8, NULL, 0);
		if (h[0] == 1 && replied) {
			/* After the requests were served: a reply flag on a request. */
			raw_sendmsg(chan, 2, 7, NULL, 0, NULL, 0);
			replied = false;
		}
		if (h[0] != 21)
			continue;
		/* The channel is ours: three requests, each asking for a reply. */
		{
			uint32_t state[2] = { 0, 0 };
			uint8_t uuid[16] = { 1 };

			raw_sendmsg(chan, 2, 1 | 8, NULL, 0, NULL, 0);		/* CONFIG_CHANGE_MSG */
			raw_sendmsg(chan, 4, 1 | 8, state, 8, NULL, 0);		/* VRING_CALL */
			raw_sendmsg(chan, 6, 1 | 8, uuid, 16, NULL, 0);		/* SHARED_OBJECT_ADD */
			for (int i = 0; i < 3; i++) {
				uint32_t rh[3];
				uint64_t rv = ~0ull;

				if (raw_recvmsg(chan, rh, &rv, 8, 3000, NULL) != 8 || rh[1] != 5)
					rv = ~0ull;
				replies[i] = rv;
			}
			replied = true;
		}
	}
	if (chan >= 0)
		close(chan);
	if (sock >= 0)
		close(sock);
	return NULL;
}

static void channel_exact(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 3000,
			   .log = getenv("VU_DEBUG") ? fe_log : NULL, .log_level = 7);
	uint64_t replies[3] = { 7, 7, 7 }, f;
	struct vhostctl_dev *dev;
	struct pollfd pfd;
	pthread_t th;
	int n;

	t_eq(0, pthread_create(&th, NULL, channel_backend, replies));
	dev = vhostctl_vu_open(path, &o);
	t_true(dev);
	pfd = (struct pollfd){ .fd = vhostctl_vu_backend_channel_fd(dev), .events = POLLIN };
	t_true(pfd.fd >= 0);
	for (n = 0; n < 3;) {
		int r;

		t_eq(1, poll(&pfd, 1, 3000));
		r = vhostctl_vu_serve_backend(dev);
		t_true(r >= 0);
		n += r;
	}
	t_eq(3, n);
	t_eq(1, vhostctl_vu_config_changes(dev));
	/* Answered after the replies came back: then a malformed request. */
	t_eq(0, vhostctl_dev_get_features(dev, &f));
	t_eq(1, poll(&pfd, 1, 3000));
	t_eq(-EPROTO, vhostctl_vu_serve_backend(dev));
	t_eq(-ENOENT, vhostctl_vu_backend_channel_fd(dev));
	t_eq(0, vhostctl_dev_get_features(dev, &f));
	t_eq(1ull << 30 | 1ull << 32, f);
	vhostctl_dev_close(dev);
	pthread_join(th, NULL);
	t_eq(0, replies[0]);
	t_eq(1, replies[1]);
	t_eq(1, replies[2]);
	printf("ok: backend channel: CONFIG_CHANGE_MSG acknowledged, VRING_CALL and "
	       "SHARED_OBJECT_ADD refused, a malformed request closes the channel only\n");
}

int main(int argc, char **argv)
{
	unsigned long sessions = argc > 1 ? strtoul(argv[1], NULL, 0) : 300;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 20261121;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vhostctl_mem *mem;
	struct tally t = { 0 };
	struct backend b = { .t = &t };
	int fds0 = t_count_fds();

	raw_seed(seed);
	printf("seed %llu, %lu sessions\n", (unsigned long long)seed, sessions);
	snprintf(path, sizeof(path), "/tmp/vu_fuzz_fe.%d.sock", getpid());
	strcpy(sa.sun_path, path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	t_true(lfd >= 0 && !bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(lfd, 4));
	memfd = memfd_create("vu_fuzz_fe", MFD_CLOEXEC);
	t_true(memfd >= 0 && !ftruncate(memfd, 1 << 16));
	mem = vhostctl_mem_new();
	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 1 << 20, 0) >= 0);
	channel_exact();
	t_eq(0, pthread_create(&b.th, NULL, fake_backend, &b));
	for (unsigned long i = 0; i < sessions; i++)
		session(mem, &t);
	stop = true;
	pthread_join(b.th, NULL);
	printf("frontend: %lu sessions opened, %lu refused at open; %lu calls: %lu succeeded, "
	       "%lu failed with an expected errno; backend channel: %lu requests sent\n",
	       t.opened, t.open_failed, t.calls, t.ok, t.failed, t.channel_msgs);
	/* The mix reached both outcomes, deep enough to matter. */
	t_true(t.opened > sessions / 4 && t.open_failed > 0);
	t_true(t.ok > sessions && t.failed > sessions / 4 && t.channel_msgs > 0);
	vhostctl_mem_free(mem);
	close(memfd);
	close(lfd);
	unlink(path);
	t_eq(fds0, t_count_fds());
	return 0;
}
