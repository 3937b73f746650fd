/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhostctl dev up: the command line it takes, parsed apart from running it
 * so that every usage error is caught before a device is touched.
 */
#ifndef VHOSTCTL_CLI_UP_H
#define VHOSTCTL_CLI_UP_H

#include <stdbool.h>
#include <stdint.h>

/* What a device node is, from its name: the keywords allowed depend on it. */
enum up_kind {
	UP_NET,
	UP_VSOCK,
	UP_VDPA,
};

struct up_args {
	const char *path;
	enum up_kind kind;
	unsigned int queues;
	unsigned int size;
	bool packed;
	bool event_idx;
	uint64_t mem;			/* net and vDPA: what the rings need, unless given */
	const char *tap;
	uint64_t cid;
	bool loop;			/* traffic loop (else none) */
	uint64_t count;			/* frames, 0: no limit */
	unsigned int duration;		/* seconds, 0: no limit */
};

/* Parse "DEV [ KEYWORD VALUE ]..."; prints the error line.  0, 1 when "help"
 * printed the usage (nothing to run), or -EINVAL. */
int up_parse(int argc, char **argv, struct up_args *a);

/* Parse a size with an optional K, M or G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *v);

/* Test frames: broadcast, ethertype 0x88b5, a sequence number, a pattern. */
#define FRAME_LEN 128			/* Ethernet frame, no FCS */
#define ETHERTYPE 0x88b5		/* local experimental */
void frame_fill(uint8_t *f, uint32_t seq);
/* 1: a test frame, intact; 0: not a test frame; -1: a test frame, altered. */
int frame_check(const uint8_t *f, uint32_t len);

/* Attach @queues fds to tap @name (created if missing; "%d" names pick a
 * free number), with a vnet header of @vnet_hdr bytes; the name is stored
 * in @out_name.  0 or -errno. */
int tap_attach(const char *name, unsigned int queues, int vnet_hdr, int *fds, char *out_name);
/* Set a link up or down; @was_up (or NULL) tells how it was.  0 or -errno. */
int link_flags(const char *name, bool set_up, bool *was_up);
/* Disable IPv6 on a link, so that the kernel sends nothing of its own there. */
void no_ipv6(const char *name);

#endif
