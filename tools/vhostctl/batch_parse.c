// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl -batch: the step grammar and its parser.  One pattern per step,
 * matched word by word; the error comes from the pattern that matched the
 * most words, so that it names the word that went wrong.  Nothing here
 * touches a device: a file is parsed whole before its first step runs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "up.h"

static const struct step_def steps[] = {
	{ OP_OPEN, "open %n %s", NULL },
	{ OP_SLEEP, "sleep %m", NULL },
	{ OP_CLOSE, "%n close", NULL },
	{ OP_OWNER, "%n owner", NULL },
	{ OP_RESET_OWNER, "%n reset_owner", NULL },
	{ OP_FEAT_GET, "%n features get", NULL },
	{ OP_FEAT_SET, "%n features set %x", NULL },
	{ OP_BFEAT_GET, "%n backend_features get", NULL },
	{ OP_BFEAT_SET, "%n backend_features set %x", NULL },
	{ OP_MEM_ADD, "%n mem add %x %z", NULL },
	{ OP_MEM_TABLE, "%n mem table", NULL },
	{ OP_NUM, "%n vring %i num %u", NULL },
	{ OP_ADDR_AUTO, "%n vring %i addr auto", NULL },
	{ OP_ADDR, "%n vring %i addr %x %x %x", NULL },
	{ OP_BASE_GET, "%n vring %i base get", NULL },
	{ OP_BASE, "%n vring %i base %u", NULL },
	{ OP_KICK, "%n vring %i kick %k", NULL },
	{ OP_CALL, "%n vring %i call %k", NULL },
	{ OP_ENABLE, "%n vring %i enable %b", NULL },
	{ OP_SEND, "%n vring %i send", "count" },
	{ OP_POST, "%n vring %i post %u", "len" },
	{ OP_USED, "%n vring %i used", "wait" },
	{ OP_GROUP, "%n vring %i group", NULL },
	{ OP_BACKEND, "%n net backend %i tap %s", NULL },
	{ OP_CID, "%n vsock cid %x", NULL },
	{ OP_RUNNING, "%n vsock running %b", NULL },
	{ OP_STATUS_GET, "%n status get", NULL },
	{ OP_STATUS_SET, "%n status set %c", NULL },
	{ OP_CONFIG_GET, "%n config get %u %l", NULL },
	{ OP_CONFIG_SET, "%n config set %u %h", NULL },
	{ OP_ASID, "%n group %u asid %u", NULL },
	{ OP_SUSPEND, "%n suspend", NULL },
	{ OP_RESUME, "%n resume", NULL },
	{ OP_RESET, "%n reset", NULL },
};

static int tokenize(char *line, char **tok)
{
	int n = 0;

	for (char *p = strtok(line, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
		if (*p == '#')
			break;
		if (n == MAX_TOKENS)
			return -E2BIG;
		tok[n++] = p;
	}
	return n;
}

/* A letter or '_' first, then letters, digits, '_' or '-'; not a step's first word. */
static bool valid_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	return !matches(s, "open") && !matches(s, "sleep");
}

static int num(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long n;
	char *end;

	/* strtoull() would skip blanks and take a sign: " -1" is not a number here. */
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (*end || errno || n > max)
		return -EINVAL;
	*v = n;
	return 0;
}

static bool hex_bytes(const char *s)
{
	size_t n = strlen(s);

	if (!n || n % 2 || n / 2 > MAX_CONFIG)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

/* Each placeholder: what it stands for, and for a number its range. */
static const struct placeholder {
	char c;
	const char *what;
	uint64_t min, max;
} placeholders[] = {
	{ 'n', "a device name", 0, 0 },
	{ 'i', "a vring index (0-63)", 0, MAX_VRINGS - 1 },
	{ 'u', "a number below 2^32", 0, UINT32_MAX },
	{ 'x', "a number", 0, UINT64_MAX },
	{ 'c', "a number from 0 to 0xff", 0, 0xff },
	{ 'l', "a length from 1 to 256", 1, MAX_CONFIG },
	{ 'm', "milliseconds, 0 to 60000", 0, 60000 },
	{ 'z', "a size", 0, 0 },
	{ 'b', "0 or 1", 0, 1 },
	{ 'k', "\"new\" or \"none\"", 0, 0 },
	{ 'h', "a hexadecimal string of 1 to 256 bytes", 0, 0 },
	{ 's', "a word", 0, 0 },
};

static const struct placeholder *placeholder(const char *ph)
{
	size_t i = 0;

	while (i < sizeof(placeholders) / sizeof(placeholders[0]) - 1 && placeholders[i].c != ph[1])
		i++;
	return &placeholders[i];
}

/*
 * Match the tokens against one pattern.  Returns 0 on a match, else how far
 * it got (tokens matched + 1) with *why set, so that the error comes from
 * the pattern that went furthest.
 */
static int match(struct step *st, const struct step_def *d, char *why, size_t whylen)
{
	char pat[128], *save = NULL;
	const char *prev = NULL;
	int i = 0;

	snprintf(pat, sizeof(pat), "%s", d->pattern);
	st->nv = 0;
	st->name = st->str = NULL;
	for (char *w = strtok_r(pat, " ", &save); w; w = strtok_r(NULL, " ", &save), i++) {
		const char *t = i < st->ntok ? st->tok[i] : NULL;
		uint64_t v;

		if (w[0] != '%') {
			if (!t) {
				snprintf(why, whylen, "incomplete step: \"%s\" is expected after \"%s\"",
					 w, prev);
				return i + 1;
			}
			if (!matches(t, w)) {
				snprintf(why, whylen, "unknown step \"%s\"", t);
				return i + 1;
			}
			prev = t;
			continue;
		}
		if (!t) {
			snprintf(why, whylen, "incomplete step: %s is expected after \"%s\"",
				 placeholder(w)->what, prev);
			return i + 1;
		}
		switch (w[1]) {
		case 'n':
			if (!valid_name(t) || strlen(t) >= NAME_LEN) {
				snprintf(why, whylen, "invalid device name \"%s\"", t);
				return i + 1;
			}
			st->name = t;
			break;
		case 'i':
		case 'u':
		case 'x':
		case 'c':
		case 'l':
		case 'm':
		case 'b':
			if (num(t, placeholder(w)->max, &v) || v < placeholder(w)->min)
				goto bad;
			if (w[1] == 'i')
				st->vring = (unsigned int)v;
			else
				st->v[st->nv++] = v;
			break;
		case 'z':
			if (parse_size(t, &v))
				goto bad;
			st->v[st->nv++] = v;
			break;
		case 'k':
			if (!matches(t, "new") && !matches(t, "none"))
				goto bad;
			st->str = t;
			break;
		case 'h':
			if (!hex_bytes(t))
				goto bad;
			st->str = t;
			break;
		default:
			st->str = t;
			break;
		}
		prev = t;
		continue;
bad:
		/* A long value is cut short, so that the message still says what is expected. */
		snprintf(why, whylen, "invalid value \"%.24s%s\" after \"%s\": %s is expected", t,
			 strlen(t) > 24 ? "..." : "", prev, placeholder(w)->what);
		return i + 1;
	}
	st->count = st->len = st->wait = 0;
	for (bool seen = false; i < st->ntok; i += 2) {
		const char *t = st->tok[i];
		unsigned int max;
		uint64_t v;

		if (!d->opts || !matches(t, d->opts)) {
			snprintf(why, whylen, "unexpected \"%s\"", t);
			return i + 1;
		}
		if (seen) {
			snprintf(why, whylen, "\"%s\" is repeated", t);
			return i + 1;
		}
		seen = true;
		if (i + 1 >= st->ntok) {
			snprintf(why, whylen, "\"%s\" needs a value", t);
			return i + 1;
		}
		max = matches(t, "wait") ? 60000 : matches(t, "len") ? 65536 : 4096;
		if (num(st->tok[i + 1], max, &v) || !v) {
			snprintf(why, whylen, "invalid value \"%s\" for \"%s\": a number from 1 to %u is expected",
				 st->tok[i + 1], t, max);
			return i + 2;
		}
		if (matches(t, "count"))
			st->count = v;
		else if (matches(t, "len"))
			st->len = v;
		else
			st->wait = v;
	}
	return 0;
}

static int name_slot(char names[][NAME_LEN], const char *name)
{
	for (int i = 0; i < MAX_HANDLES; i++)
		if (names[i][0] && !strcmp(names[i], name))
			return i;
	return -1;
}

int parse_step(char *line, struct step *st, char names[][NAME_LEN], char *why, size_t whylen)
{
	int best = -1, n;

	n = tokenize(line, st->tok);
	if (n == -E2BIG) {
		snprintf(why, whylen, "too many words");
		return -EINVAL;
	}
	st->ntok = n;
	if (!n)
		return 1;
	st->text[0] = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(st->text);

		snprintf(st->text + l, sizeof(st->text) - l, "%s%s", i ? " " : "", st->tok[i]);
	}
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		char w[160];
		int r = match(st, &steps[k], w, sizeof(w));

		if (!r) {
			st->def = &steps[k];
			best = 0;
			break;
		}
		if (r > best) {
			best = r;
			snprintf(why, whylen, "%s", w);
		}
	}
	if (best)
		return -EINVAL;
	if (st->def->op == OP_OPEN) {
		int free_slot = name_slot(names, "");

		if (name_slot(names, st->name) >= 0) {
			snprintf(why, whylen, "device \"%s\" is open already", st->name);
			return -EINVAL;
		}
		for (free_slot = 0; free_slot < MAX_HANDLES && names[free_slot][0]; free_slot++)
			;
		if (free_slot == MAX_HANDLES) {
			snprintf(why, whylen, "too many open devices");
			return -EINVAL;
		}
		snprintf(names[free_slot], NAME_LEN, "%s", st->name);
	} else if (st->name) {
		int s = name_slot(names, st->name);

		if (s < 0) {
			snprintf(why, whylen, "no device \"%s\" is open", st->name);
			return -EINVAL;
		}
		if (st->def->op == OP_CLOSE)
			names[s][0] = 0;
	}
	return 0;
}
