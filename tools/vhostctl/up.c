// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl dev up: one command from a closed device node to queues that
 * carry frames, with the defaults a developer would pick, then a frame loop
 * through the device until Ctrl-C, a frame count or a duration:
 *
 *   vhost-net    the frames leave through a tap (ours, or the one named)
 *                and a packet socket on its link sends each one back in;
 *   vhost-vsock  a stream connection from a host socket to the guest end
 *                this process plays on the queues, which echoes every byte;
 *   vhost-vdpa   the device loops TX back to RX (kmod/ does).
 *
 * Every frame carries a sequence number and a pattern derived from it and
 * is checked on its way back.  The window of frames in flight never exceeds
 * the receive buffers posted, so a frame lost is one the device lost.
 *
 * This file holds the test frames, the progress line and the summary;
 * up_args.c the command line; up_net.c and up_vsock.c run the traffic.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"
#include "up.h"
#include "up_run.h"
#include "vsock_guest.h"

volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Running */

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void frame_fill(uint8_t *f, uint32_t seq)
{
	memset(f, 0xff, 6);				/* broadcast */
	f[6] = 0x02;					/* locally administered */
	f[7] = 0x76;
	f[8] = 0x68;
	f[9] = 0x63;
	f[10] = 0;
	f[11] = 1;
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memcpy(f + 14, &seq, 4);
	for (unsigned int i = 18; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

/* 1: one of ours intact, 0: not ours, -1: ours but altered. */
int frame_check(const uint8_t *f, uint32_t len)
{
	uint32_t seq;

	if (len < 14 || f[12] != ETHERTYPE >> 8 || f[13] != (ETHERTYPE & 0xff))
		return 0;
	if (len != FRAME_LEN)
		return -1;
	memcpy(&seq, f + 14, 4);
	for (unsigned int i = 18; i < FRAME_LEN; i++)
		if (f[i] != (uint8_t)(seq * 7 + i))
			return -1;
	return 1;
}

void progress(const struct up_args *a, const struct up_stats *s,
	      const struct dev_counters *c, const char *unit)
{
	double t = now_s() - s->t0;

	fprintf(stderr, "\r%s: %s %llu back %llu %.0f/s lost %llu kicks %llu", a->path, unit,
		(unsigned long long)s->sent, (unsigned long long)s->back,
		t > 0 ? (double)s->back / t : 0.0,
		(unsigned long long)(s->sent - s->back - s->bad), (unsigned long long)s->kicks);
	if (c && c->valid)
		fprintf(stderr, " | device rx %llu tx %llu drops %llu",
			(unsigned long long)c->rx_packets, (unsigned long long)c->tx_packets,
			(unsigned long long)(c->rx_drops + c->tx_drops));
	fputs("\033[K", stderr);
}

void print_summary(const struct up_args *a, const struct up_stats *s, const char *unit)
{
	double t = s->t1 - s->t0;
	char key[32];

	print_string("traffic", NULL, a->loop ? "loop" : "none");
	snprintf(key, sizeof(key), "%s_sent", unit);
	print_u64(key, NULL, s->sent);
	snprintf(key, sizeof(key), "%s_back", unit);
	print_u64(key, NULL, s->back);
	snprintf(key, sizeof(key), "%s_lost", unit);
	print_u64(key, NULL, s->sent - s->back - s->bad);
	snprintf(key, sizeof(key), "%s_bad", unit);
	print_u64(key, NULL, s->bad);
	print_u64("foreign", NULL, s->foreign);
	print_u64("kicks", NULL, s->kicks);
	print_u64("msecs", NULL, (uint64_t)(t * 1000));
	print_u64("rate", NULL, t > 0 ? (uint64_t)((double)s->back / t) : 0);
}

void print_counters(const char *name, const struct dev_counters *c0,
		    const struct dev_counters *c1)
{
	if (!c0->valid || !c1->valid)
		return;
	print_open_object(name);
	print_text("%s: ", name);
	print_u64("rx_packets", NULL, c1->rx_packets - c0->rx_packets);
	print_u64("tx_packets", NULL, c1->tx_packets - c0->tx_packets);
	print_u64("rx_drops", NULL, c1->rx_drops - c0->rx_drops);
	print_u64("tx_drops", NULL, c1->tx_drops - c0->tx_drops);
	print_close_object();
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

bool time_up(const struct up_args *a, const struct up_stats *s)
{
	return a->duration && now_s() - s->t0 >= a->duration;
}

int dev_up(int argc, char **argv)
{
	struct up_args a;
	bool tty;
	int r;

	r = up_parse(argc, argv, &a);
	if (r)
		return r < 0 ? r : 0;
	install_signals();
	tty = isatty(STDERR_FILENO);
	if (a.kind == UP_VSOCK)
		r = vsock_up(&a, tty);
	else
		r = net_up(&a, tty);
	return r;
}
