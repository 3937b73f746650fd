/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SELFTEST_FDS_H
#define SELFTEST_FDS_H

/* Open fds of this process (/proc/self/fd), to catch leaks. */
int count_fds(void);

#endif
