/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhostctl dev up, inside: what the argument and progress part (up.c)
 * shares with the two ways of running traffic, through a net device
 * (up_net.c: vhost-net and vhost-vdpa) and through vhost-vsock
 * (up_vsock.c).
 */
#ifndef VHOSTCTL_CLI_UP_RUN_H
#define VHOSTCTL_CLI_UP_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "up.h"

#define BURST 32			/* frames added before one kick */
#define MEM_GPA (1ULL << 20)		/* guest memory starts at 1 MiB */
#define DRAIN_MS 2000			/* what is still out may come back */
#define VSOCK_PORT 5201
#define MAX_QUEUES 16

/* SIGINT or SIGTERM once one has come, else 0: every loop polls it. */
extern volatile sig_atomic_t stop_signal;

struct up_stats {
	uint64_t sent;		/* frames (vsock: messages) sent */
	uint64_t back;		/* came back intact */
	uint64_t bad;		/* came back altered */
	uint64_t foreign;	/* received, not ours */
	uint64_t kicks;
	double t0, t1;
};

/* What the device itself counts: the tap's link or the vDPA vendor stats. */
struct dev_counters {
	bool valid;
	uint64_t rx_packets, tx_packets, rx_drops, tx_drops;
};

/* Seconds on the monotonic clock. */
double now_s(void);
/* Whether the run's duration (if any) has passed since @s->t0. */
bool time_up(const struct up_args *a, const struct up_stats *s);
/* The one-line progress display on stderr; @c (or NULL) the device's counters. */
void progress(const struct up_args *a, const struct up_stats *s,
	      const struct dev_counters *c, const char *unit);
/* The final summary's traffic fields, @unit naming what was counted. */
void print_summary(const struct up_args *a, const struct up_stats *s, const char *unit);
/* The device's counters as the run moved them, from @c0 to @c1. */
void print_counters(const char *name, const struct dev_counters *c0,
		    const struct dev_counters *c1);

/* Set up, run and tear down: 0 or -errno, the error line printed. */
int net_up(const struct up_args *a, bool tty);
int vsock_up(const struct up_args *a, bool tty);

#endif
