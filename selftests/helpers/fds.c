// SPDX-License-Identifier: GPL-2.0-only
/*
 * Leak checks for the selftests.
 */
#include <dirent.h>

#include "fds.h"

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}
