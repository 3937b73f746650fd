// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the CLI's parsers of what a user types or a batch file
 * holds, without running anything: the -batch step grammar
 * (tools/vhostctl/batch_parse.c, a whole file checked as batch_run() does
 * before its first step runs), dev up's command line (up_args.c) and the
 * keyword values of user serve and vduse serve (args.c).
 *
 * Input: a u8 mode, then
 *   0  a batch file: lines split at '\n', each at most MAX_LINE - 1 bytes
 *      (batch_run() refuses a longer one before parsing);
 *   1  dev up's arguments, split at NUL (at most 32);
 *   2  u8 which, u64 min, u64 max, then a NUL-free string: arg_num(),
 *      arg_size() and parse_size() on it.
 * Beyond no crash and no sanitizer report, what the parsers promise is
 * checked: a step's numbers within its placeholders' ranges, its name open,
 * dev up's values within theirs, and a parsed size equal to its digits
 * times its suffix.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "up.h"
#include "up_run.h"

#define MAX_ARGS 32

static void must(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_cli: broken promise: %s\n", what);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The parsers print their usage and errors: keep the fuzzer's output readable. */
	if (!getenv("FUZZ_CLI_VERBOSE")) {
		freopen("/dev/null", "w", stdout);
		setvbuf(stderr, NULL, _IONBF, 0);
	}
	return 0;
}

static bool is_open(char names[][NAME_LEN], const char *name)
{
	for (int i = 0; i < MAX_HANDLES; i++)
		if (names[i][0] && !strcmp(names[i], name))
			return true;
	return false;
}

static void batch(const uint8_t *p, size_t n)
{
	char names[MAX_HANDLES][NAME_LEN], why[256], line[MAX_LINE];
	struct step st;

	memset(names, 0, sizeof(names));
	while (n) {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t l = nl ? (size_t)(nl - p) + 1 : n;
		int r;

		if (l > MAX_LINE - 1)
			return;
		/* A NUL ends the line for fgets()'s reader too. */
		memcpy(line, p, l);
		line[l] = 0;
		p += l;
		n -= l;
		why[0] = 0;
		r = parse_step(line, &st, names, why, sizeof(why));
		must(r == 0 || r == 1 || r == -EINVAL, "parse_step() returns 0, 1 or -EINVAL");
		if (r == -EINVAL) {
			must(why[0], "a refused step says why");
			continue;
		}
		if (r == 1)
			continue;
		must(st.def && st.ntok > 0 && st.ntok <= MAX_TOKENS, "a step has its words");
		must(st.nv >= 0 && st.nv <= 3, "at most 3 numbers");
		if (strstr(st.def->pattern, "%i"))
			must(st.vring < MAX_VRINGS, "vring index in range");
		must(st.count <= 4096 && st.len <= 65536 && st.wait <= 60000, "options in range");
		if (st.name && st.def->op != OP_CLOSE)
			must(is_open(names, st.name), "the step's device is open");
		if (st.def->op == OP_CLOSE)
			must(!is_open(names, st.name), "a closed device is gone");
		if (st.def->op == OP_SLEEP)
			must(st.nv == 1 && st.v[0] <= 60000, "sleep bounded");
		if (st.def->op == OP_CONFIG_GET)
			must(st.v[1] >= 1 && st.v[1] <= MAX_CONFIG, "config length in range");
		if (st.def->op == OP_CONFIG_SET)
			must(strlen(st.str) % 2 == 0 && strlen(st.str) / 2 <= MAX_CONFIG,
			     "config bytes in range");
	}
}

static void up(const uint8_t *p, size_t n)
{
	char *buf = malloc(n + 1), *argv[MAX_ARGS];
	struct up_args a;
	int argc = 0, r;

	if (!buf)
		return;
	memcpy(buf, p, n);
	buf[n] = 0;
	/* No bytes, no arguments: "vhostctl dev up" alone. */
	for (char *s = buf; n && argc < MAX_ARGS && s <= buf + n; s += strlen(s) + 1)
		argv[argc++] = s;
	r = up_parse(argc, argv, &a);
	must(r == 0 || r == 1 || r == -EINVAL, "up_parse() returns 0, 1 or -EINVAL");
	if (!r) {
		must(a.path == argv[0], "the device is the first word");
		must(a.queues >= 1 && a.queues <= MAX_QUEUES, "queues in range");
		must(a.size >= 1 && a.size <= 32768 && (a.packed || !(a.size & (a.size - 1))),
		     "ring size in range, a power of 2 for a split ring");
		must(a.kind == UP_VSOCK || a.mem > 0, "memory for the rings");
		must(!a.count || a.loop, "a count only with traffic");
	}
	free(buf);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* What a size string means, computed apart: digits (no overflow), then K, M or G. */
static bool size_model(const char *s, bool lower_mg, uint64_t *v)
{
	unsigned int shift = 0;
	uint64_t n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return false;
	if (*p == 'K' || *p == 'k')
		shift = 10;
	else if (*p == 'M' || (lower_mg && *p == 'm'))
		shift = 20;
	else if (*p == 'G' || (lower_mg && *p == 'g'))
		shift = 30;
	if (shift)
		p++;
	if (*p || n > (UINT64_MAX >> shift))
		return false;
	*v = n << shift;
	return true;
}

static void values(const uint8_t *p, size_t n)
{
	unsigned long long v, min, max;
	uint64_t u, want;
	char *s;
	bool ok;

	if (n < 17)
		return;
	min = rd64(p + 1);
	max = rd64(p + 9);
	s = strndup((const char *)p + 17, n - 17);
	if (!s)
		return;
	if (arg_num(s, min, max, &v) == 0)
		must(v >= min && v <= max, "arg_num() within its range");
	ok = size_model(s, false, &want);
	must((arg_size(s, &v) == 0) == ok && (!ok || v == want), "arg_size() as its model");
	ok = size_model(s, true, &want);
	must((parse_size(s, &u) == 0) == ok && (!ok || u == want), "parse_size() as its model");
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		batch(data + 1, size - 1);
		break;
	case 1:
		up(data + 1, size - 1);
		break;
	default:
		values(data, size);
		break;
	}
	return 0;
}
