// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl dev up: its command line, parsed apart from running it (up.c),
 * so that every usage error is caught before a device is touched, and so
 * that the parser can be driven alone (fuzz/fuzz_cli.c).
 */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "up.h"
#include "up_run.h"
#include "vsock_guest.h"

struct keyword {
	const char *name;
	bool value;
	unsigned int kinds;		/* bit per enum up_kind */
};

#define K_ALL (1u << UP_NET | 1u << UP_VSOCK | 1u << UP_VDPA)

static const struct keyword keywords[] = {
	{ "queues", true, 1u << UP_NET | 1u << UP_VDPA },
	{ "size", true, 1u << UP_NET | 1u << UP_VDPA },
	{ "packed", false, 1u << UP_NET | 1u << UP_VDPA },
	{ "event_idx", false, K_ALL },
	{ "mem", true, 1u << UP_NET | 1u << UP_VDPA },
	{ "tap", true, 1u << UP_NET },
	{ "cid", true, 1u << UP_VSOCK },
	{ "traffic", true, K_ALL },
	{ "count", true, K_ALL },
	{ "duration", true, K_ALL },
};

static const char *const kind_names[] = { "vhost-net", "vhost-vsock", "vhost-vdpa" };

int parse_size(const char *s, uint64_t *v)
{
	unsigned long long n;
	unsigned int shift = 0;
	char *end;

	/* strtoull() would skip blanks and take a sign: " -1" is not a number here. */
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || n > (UINT64_MAX >> shift))
		return -EINVAL;
	*v = (uint64_t)n << shift;
	return 0;
}

static int parse_num(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *v)
{
	char *end;

	/* strtoull() would skip blanks and take a sign: " -1" is not a number here. */
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (*end || errno || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

static int bad_value(const char *kw, const char *val, const char *what)
{
	fprintf(stderr, "Invalid value \"%s\" for \"%s\": %s is expected\n", val, kw, what);
	return -EINVAL;
}

static int kind_of(const char *path, enum up_kind *kind)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!strcmp(base, "vhost-net"))
		*kind = UP_NET;
	else if (!strcmp(base, "vhost-vsock"))
		*kind = UP_VSOCK;
	else if (!strncmp(base, "vhost-vdpa-", 11))
		*kind = UP_VDPA;
	else
		return -EINVAL;
	return 0;
}

static void up_usage(void)
{
	printf("Usage: vhostctl dev up PATH [ queues N ] [ size N ] [ packed ] [ event_idx ]\n"
	       "                        [ mem SIZE ] [ tap IFNAME ] [ cid N ] [ traffic loop|none ]\n"
	       "                        [ count N ] [ duration SECS ]\n"
	       "where  PATH := { /dev/vhost-net | /dev/vhost-vsock | /dev/vhost-vdpa-N }\n");
}

static bool takes_value(const char *kw)
{
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
		if (matches(kw, keywords[k].name))
			return keywords[k].value;
	return false;
}

int up_parse(int argc, char **argv, struct up_args *a)
{
	const char *mem_val = NULL;
	unsigned int seen = 0;
	unsigned long long n;

	memset(a, 0, sizeof(*a));
	/* "help" where a keyword may stand shows the usage, as in iproute2. */
	for (int i = 0; i < argc; i++) {
		if (matches(argv[i], "help") && (i < 1 || !takes_value(argv[i - 1]))) {
			up_usage();
			return 1;
		}
	}
	if (argc < 1) {
		fprintf(stderr, "Device path is expected, try \"vhostctl dev up help\".\n");
		return -EINVAL;
	}
	a->path = argv[0];
	if (kind_of(a->path, &a->kind)) {
		fprintf(stderr, "Device \"%s\" is not a vhost-net, vhost-vsock or vhost-vdpa node\n",
			a->path);
		return -EINVAL;
	}
	a->queues = 1;
	a->loop = true;
	a->cid = 3;
	for (int i = 1; i < argc; i++) {
		const char *kw = argv[i], *val;
		unsigned int k;

		for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
			if (matches(kw, keywords[k].name))
				break;
		if (k == sizeof(keywords) / sizeof(keywords[0])) {
			fprintf(stderr, "Unknown option \"%s\"\n", kw);
			return -EINVAL;
		}
		if (seen & (1u << k)) {
			fprintf(stderr, "Option \"%s\" is repeated\n", kw);
			return -EINVAL;
		}
		seen |= 1u << k;
		if (!(keywords[k].kinds & (1u << a->kind))) {
			fprintf(stderr, "Option \"%s\" does not apply to a %s device\n", kw,
				kind_names[a->kind]);
			return -EINVAL;
		}
		val = NULL;
		if (keywords[k].value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "Option \"%s\" needs a value\n", kw);
				return -EINVAL;
			}
			val = argv[++i];
		}
		if (matches(kw, "queues")) {
			/* Queue pairs: one vhost-net fd each, on a multiqueue tap. */
			if (parse_num(val, 1, a->kind == UP_NET ? MAX_QUEUES : 1, &n))
				return bad_value(kw, val, a->kind == UP_NET ?
					"a number from 1 to 16" : "1 (one queue pair)");
			a->queues = (unsigned int)n;
		} else if (matches(kw, "size")) {
			if (parse_num(val, 1, 32768, &n))
				return bad_value(kw, val, "a ring size from 1 to 32768");
			a->size = (unsigned int)n;
		} else if (matches(kw, "packed")) {
			a->packed = true;
		} else if (matches(kw, "event_idx")) {
			a->event_idx = true;
		} else if (matches(kw, "mem")) {
			if (parse_size(val, &a->mem) || a->mem < (1u << 20) || a->mem > (1ULL << 32) ||
			    a->mem % 4096)
				return bad_value(kw, val, "a size from 1M to 4G in 4K pages");
			mem_val = val;
		} else if (matches(kw, "tap")) {
			if (!*val || strlen(val) >= IFNAMSIZ || strchr(val, '/') || strchr(val, ' '))
				return bad_value(kw, val, "an interface name");
			a->tap = val;
		} else if (matches(kw, "cid")) {
			if (parse_num(val, 3, 0xfffffffeULL, &n))
				return bad_value(kw, val, "a CID from 3 to 4294967294");
			a->cid = n;
		} else if (matches(kw, "traffic")) {
			if (matches(val, "loop"))
				a->loop = true;
			else if (matches(val, "none"))
				a->loop = false;
			else
				return bad_value(kw, val, "\"loop\" or \"none\"");
		} else if (matches(kw, "count")) {
			if (parse_num(val, 1, UINT64_MAX, &n))
				return bad_value(kw, val, "a positive number");
			a->count = n;
		} else if (matches(kw, "duration")) {
			if (parse_num(val, 1, 86400 * 365, &n))
				return bad_value(kw, val, "a number of seconds");
			a->duration = (unsigned int)n;
		}
	}
	if (!a->size)
		a->size = a->kind == UP_VSOCK ? VG_NUM : 256;
	if (a->size && !a->packed && (a->size & (a->size - 1))) {
		fprintf(stderr, "Invalid value \"%u\" for \"size\": a split ring's size is a power of two\n",
			a->size);
		return -EINVAL;
	}
	if (a->kind != UP_VSOCK) {
		/* Rings, RX and TX buffers of every pair, and room for what the rings round to. */
		uint64_t need = (uint64_t)a->queues * a->size * (2 * 12 + 1518 + FRAME_LEN + 64) +
				(1 << 20);

		need = (need + (1 << 20) - 1) & ~((1ULL << 20) - 1);
		if (a->mem && a->mem < need) {
			fprintf(stderr, "Invalid value \"%s\" for \"mem\": %llu bytes are needed\n",
				mem_val, (unsigned long long)need);
			return -EINVAL;
		}
		if (!a->mem)
			a->mem = need;
	}
	if (a->count && !a->loop) {
		fprintf(stderr, "Option \"count\" needs \"traffic loop\"\n");
		return -EINVAL;
	}
	return 0;
}
