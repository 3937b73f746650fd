/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhostctl -batch: the step grammar, shared by the parser (batch_parse.c)
 * and the steps' runner (batch.c).
 */
#ifndef VHOSTCTL_CLI_BATCH_H
#define VHOSTCTL_CLI_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define MAX_HANDLES 16
#define MAX_VRINGS 64
#define MAX_TOKENS 16
#define MAX_LINE 1024
#define MAX_CONFIG 256
#define NAME_LEN 32			/* a handle's name, with its NUL */

enum op {
	OP_OPEN, OP_CLOSE, OP_SLEEP, OP_OWNER, OP_RESET_OWNER, OP_FEAT_GET, OP_FEAT_SET,
	OP_BFEAT_GET, OP_BFEAT_SET, OP_MEM_ADD, OP_MEM_TABLE, OP_NUM, OP_ADDR_AUTO, OP_ADDR,
	OP_BASE_GET, OP_BASE, OP_KICK, OP_CALL, OP_ENABLE, OP_SEND, OP_POST, OP_USED, OP_GROUP,
	OP_BACKEND, OP_CID, OP_RUNNING, OP_STATUS_GET, OP_STATUS_SET, OP_CONFIG_GET,
	OP_CONFIG_SET, OP_ASID, OP_SUSPEND, OP_RESUME, OP_RESET,
};

/*
 * The grammar, one pattern per step.  Placeholders: %n a handle name, %i a
 * vring index, %u a 32-bit number, %x a 64-bit number, %c a byte, %l a
 * config length, %m milliseconds, %z a size (K, M, G), %b 0 or 1, %k "new" or "none", %s a
 * word, %h hexadecimal bytes (see placeholders[] in batch_parse.c).
 * Options after the pattern ("len N") come from @opts, each at most once.
 */
struct step_def {
	enum op op;
	const char *pattern;
	const char *opts;
};

/* One parsed line. */
struct step {
	const struct step_def *def;
	char *tok[MAX_TOKENS];
	int ntok;
	const char *name;
	const char *str;		/* %s or %h */
	unsigned int vring;
	uint64_t v[3];			/* numbers, in order */
	int nv;
	uint64_t count, len, wait;	/* options; 0 when not given */
	char text[MAX_LINE];		/* the step as written, for messages */
};

/*
 * Parse one line in place; @names holds the names open before it and is
 * updated for "open" and "close", so that a whole file is checked before
 * anything runs.  0, 1 for a line without a step, or -EINVAL with the
 * reason in @why.
 */
int parse_step(char *line, struct step *st, char names[][NAME_LEN], char *why, size_t whylen);

#endif
