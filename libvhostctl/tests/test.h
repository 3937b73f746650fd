/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Helpers for the host tests: each test is one program that exits 0 (pass),
 * 1 (fail) or 77 (skip, with the reason printed).
 */
#ifndef VHOSTCTL_TEST_H
#define VHOSTCTL_TEST_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

#define t_fail(...)                                                            \
	do {                                                                   \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		exit(T_EXIT_FAIL);                                             \
	} while (0)

#define t_skip(...)                                                            \
	do {                                                                   \
		fprintf(stderr, "SKIP: ");                                     \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		exit(T_EXIT_SKIP);                                             \
	} while (0)

/* Check that an expression equals an expected value (both as long long). */
#define t_eq(expected, seen)                                                   \
	do {                                                                   \
		long long _e = (long long)(expected), _s = (long long)(seen);  \
		if (_e != _s)                                                  \
			t_fail("%s == %s: expected %lld, got %lld", #expected, \
			       #seen, _e, _s);                                 \
	} while (0)

#define t_true(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			t_fail("%s", #cond);                                   \
	} while (0)

/* Number of open fds: tests compare it before and after to catch leaks. */
static inline int t_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		t_fail("opendir /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* List the open fds on stderr: what a leak check that failed found. */
static inline void t_show_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[300], l[256];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		n = readlink(p, l, sizeof(l) - 1);
		l[n > 0 ? n : 0] = 0;
		fprintf(stderr, "  fd %s -> %s\n", e->d_name, l);
	}
	closedir(d);
}

/* The fd count is back where it was, or fail listing what is open. */
#define t_no_fd_leak(before)                                                   \
	do {                                                                   \
		int _n = t_count_fds();                                        \
		if (_n != (before)) {                                          \
			t_show_fds();                                          \
			t_fail("%d fds open, %d before", _n, (int)(before));   \
		}                                                              \
	} while (0)

#endif
