// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keyword values of the daemon-style commands (user serve, vduse serve):
 * decimal numbers in a range and byte sizes, and the error for a keyword
 * given twice.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int arg_num(const char *s, unsigned long long min, unsigned long long max,
	    unsigned long long *v)
{
	char *end;

	/* strtoull() would skip blanks and take a sign: " -1" is not a number here. */
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (*end || errno || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

int arg_size(const char *s, unsigned long long *v)
{
	unsigned int shift = 0;
	char *end;

	/* strtoull() would skip blanks and take a sign: " -1" is not a number here. */
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	else if (*end)
		return -EINVAL;
	if (shift && end[1])
		return -EINVAL;
	if (*v > (~0ULL >> shift))
		return -EINVAL;
	*v <<= shift;
	return 0;
}

int arg_duplicate(const char *kw, const char *val)
{
	fprintf(stderr, "Error: duplicate \"%s\": \"%s\" is the second value.\n", kw, val);
	return -EINVAL;
}
