// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keyword values of the daemon-style commands (user serve, vduse serve):
 * decimal numbers in a range, byte sizes and MAC addresses, and the error
 * for a keyword given twice.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int arg_mac(const char *s, uint8_t *m)
{
	unsigned int b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}
