// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl dev up on vhost-vsock: this process plays the guest end on the
 * device's queues (selftests/helpers/vsock_guest.c), and a host socket in a
 * second thread sends messages to it over a stream connection; the guest
 * end echoes every byte, which the host thread checks.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"
#include "up.h"
#include "up_run.h"
#include "vsock_guest.h"

struct vsock_run {
	const struct up_args *a;
	struct vguest g;
	int sock;
	_Atomic uint64_t sent, back, bad;
	atomic_bool done;		/* the host side has finished */
	atomic_bool no_more;		/* send nothing new, wait for what is out */
	atomic_bool stop;		/* the main thread asks it to */
	int err;
};

static void *vsock_host(void *arg)
{
	struct vsock_run *v = arg;
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = (unsigned int)v->a->cid,
		.svm_port = VSOCK_PORT,
	};
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	uint8_t out[FRAME_LEN], in[FRAME_LEN];

	if (connect(v->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		v->err = -errno;
		goto out;
	}
	setsockopt(v->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!atomic_load(&v->stop) && !atomic_load(&v->no_more) &&
	       (!v->a->count || v->sent < v->a->count)) {
		size_t got = 0;

		frame_fill(out, (uint32_t)v->sent);
		if (send(v->sock, out, sizeof(out), MSG_NOSIGNAL) != (ssize_t)sizeof(out)) {
			v->err = -errno;
			break;
		}
		v->sent++;
		while (got < sizeof(in) && !atomic_load(&v->stop)) {
			ssize_t n = recv(v->sock, in + got, sizeof(in) - got, 0);

			if (n < 0 && errno == EAGAIN)
				continue;
			if (n <= 0) {
				v->err = n ? -errno : -ECONNRESET;
				goto out;
			}
			got += (size_t)n;
		}
		if (got < sizeof(in))
			break;
		if (frame_check(in, sizeof(in)) > 0 && !memcmp(in, out, sizeof(in)))
			v->back++;
		else
			v->bad++;
	}
out:
	atomic_store(&v->done, true);
	return NULL;
}

static uint64_t vsock_kicks(struct vguest *g)
{
	struct vhostctl_vq_stats st;
	uint64_t k = 0;

	for (int q = 0; q < 2; q++)
		if (g->vq[q] && !vhostctl_vq_get_stats(g->vq[q], &st))
			k += st.kicks;
	return k;
}

int vsock_up(const struct up_args *a, bool tty)
{
	uint64_t want = 1ULL << VHOSTCTL_F_VERSION_1;
	double next_progress;
	struct vsock_run v;
	struct up_stats s;
	const char *step = "";
	pthread_t th;
	sigset_t all, old;
	bool started = false;
	uint8_t *echo = NULL;
	int r;

	memset(&v, 0, sizeof(v));
	memset(&s, 0, sizeof(s));
	v.a = a;
	v.sock = -1;
	if (a->event_idx)
		want |= 1ULL << VHOSTCTL_F_EVENT_IDX;
	r = vg_open(&v.g, a->cid, want, 1 << 20, &step);
	if (r) {
		fprintf(stderr, "Error: %s: set-up failed at %s: %s\n", a->path, step, strerror(-r));
		goto out;
	}
	if (!a->loop) {
		s.t0 = now_s();
		while (!stop_signal && !time_up(a, &s)) {
			r = vg_poll(&v.g, 500);
			if (r < 0 && r != -ETIMEDOUT && r != -EINTR)
				break;
			r = 0;
		}
		goto summary;
	}
	echo = malloc(1 << 20);
	v.sock = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!echo || v.sock < 0) {
		r = -errno;
		fprintf(stderr, "Error: vsock socket: %s\n", strerror(errno));
		goto out;
	}
	/* The host side takes no signal: Ctrl-C is the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&th, NULL, vsock_host, &v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		fprintf(stderr, "Error: thread: %s\n", strerror(-r));
		goto out;
	}
	started = true;
	s.t0 = now_s();
	next_progress = s.t0 + 1;
	r = vg_accept(&v.g, VSOCK_PORT, 5000);
	if (r) {
		fprintf(stderr, "Error: %s: no connection from the host: %s\n", a->path,
			strerror(-r));
		goto stop;
	}
	for (double drain_end = 0; !atomic_load(&v.done);) {
		size_t n;

		/* Out of time or interrupted: what is out gets its chance to come back. */
		if ((stop_signal || time_up(a, &s)) && !drain_end) {
			atomic_store(&v.no_more, true);
			drain_end = now_s() + DRAIN_MS / 1000.0;
		}
		if (drain_end && now_s() >= drain_end)
			break;

		r = vg_poll(&v.g, 100);
		if (r == -ETIMEDOUT || r == -EINTR)
			r = 0;
		if (r < 0)
			break;
		/* Echo what arrived; vg_send() may receive more meanwhile. */
		n = v.g.len;
		if (n) {
			memcpy(echo, v.g.data, n);
			v.g.len = 0;
			r = vg_send(&v.g, echo, n, 3000);
			if (r)
				break;
		}
		if (tty && now_s() >= next_progress) {
			s.sent = v.sent;
			s.back = v.back;
			s.bad = v.bad;
			s.kicks = vsock_kicks(&v.g);
			progress(a, &s, NULL, "messages");
			next_progress += 1;
		}
		r = 0;
	}
	if (r)
		fprintf(stderr, "%sError: %s: %s\n", tty ? "\n" : "", a->path, strerror(-r));
stop:
	atomic_store(&v.stop, true);
	shutdown(v.sock, SHUT_RDWR);
	pthread_join(th, NULL);
	started = false;
	if (!r && v.err && !atomic_load(&v.no_more)) {
		r = v.err;
		fprintf(stderr, "Error: host socket: %s\n", strerror(-r));
	}
summary:
	s.t1 = now_s();
	s.sent = v.sent;
	s.back = v.back;
	s.bad = v.bad;
	if (tty)
		fputs("\r\033[K", stderr);
	s.kicks = vsock_kicks(&v.g);
	print_open_object("up");
	print_open_object(a->path);
	print_text("%s: ", a->path);
	print_hex("features", NULL, v.g.features);
	print_u64("cid", NULL, a->cid);
	print_summary(a, &s, "messages");
	print_open_object("guest");
	print_text("%s: ", "guest");
	print_u64("packets_rx", NULL, v.g.pkts_rx);
	print_u64("packets_tx", NULL, v.g.pkts_tx);
	print_close_object();
	if (stop_signal)
		print_string("stopped_by", NULL, stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	print_close_object();
	print_close_object();
	print_nl();
	if (!r && a->loop && s.sent != s.back) {
		fprintf(stderr, "Error: %s: %llu messages lost, %llu altered\n", a->path,
			(unsigned long long)(s.sent - s.back - s.bad), (unsigned long long)s.bad);
		r = -EIO;
	}
out:
	if (started) {
		atomic_store(&v.stop, true);
		shutdown(v.sock, SHUT_RDWR);
		pthread_join(th, NULL);
	}
	if (v.sock >= 0)
		close(v.sock);
	free(echo);
	vg_close(&v.g);
	return r;
}
