// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The options ABI: VHOSTCTL_OPTS_INIT() zeroes the whole struct (padding
 * too) and fills in its size, in C11 (this file) and C++11 (opts_cxx.cc);
 * the library reads up to the last field it knows and refuses a non-zero
 * byte past it, in a later caller's field or in tail padding.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Leave the stack below us full of 0xff, so that padding left alone shows. */
static __attribute__((noinline)) void dirty_stack(void)
{
	volatile unsigned char junk[4096];

	memset((void *)junk, 0xff, sizeof(junk));
}

static __attribute__((noinline)) void check_init(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_dev_opts, o, .log_level = VHOSTCTL_LOG_DEBUG);
	const unsigned char *p = (const unsigned char *)&o;
	size_t end = END_OF(struct vhostctl_dev_opts, log_level);

	t_eq(sizeof(o), o.sz);
	t_eq(VHOSTCTL_LOG_DEBUG, o.log_level);
	t_eq(1, o.sz > end);	/* the struct this test is about has tail padding */
	for (size_t i = end; i < sizeof(o); i++)
		if (p[i])
			t_fail("padding byte %zu is 0x%02x", i, p[i]);
}

static __attribute__((noinline)) void check_empty(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o);
	const unsigned char *p = (const unsigned char *)&o;

	t_eq(sizeof(o), o.sz);
	for (size_t i = sizeof(o.sz); i < sizeof(o); i++)
		if (p[i])
			t_fail("byte %zu is 0x%02x", i, p[i]);
}

/* vhostctl_dev_open() of /dev/null with @o: the errno of a refusal, or 0. */
static int open_with(const struct vhostctl_dev_opts *o)
{
	struct vhostctl_dev *dev;

	errno = 0;
	dev = vhostctl_dev_open("/dev/null", o);
	if (dev) {
		vhostctl_dev_close(dev);
		return 0;
	}
	return errno;
}

int main(void)
{
	union {
		struct vhostctl_dev_opts o;
		unsigned char b[sizeof(struct vhostctl_dev_opts) + 16];
	} u;
	size_t end = END_OF(struct vhostctl_dev_opts, log_level);
	int base;

	dirty_stack();
	check_init();
	dirty_stack();
	check_empty();

	/* Zeroed: whatever /dev/null gets, it is not a refusal of the options. */
	memset(&u, 0, sizeof(u));
	u.o.sz = sizeof(u.o);
	base = open_with(&u.o);
	t_eq(1, base != E2BIG && base != EINVAL);

	/* A non-zero byte in the tail padding: a field this library does not know. */
	u.b[end] = 1;
	t_eq(E2BIG, open_with(&u.o));
	u.b[end] = 0;

	/* A later caller's struct: larger, its new field set. */
	u.o.sz = sizeof(u.b);
	u.b[sizeof(u.b) - 1] = 1;
	t_eq(E2BIG, open_with(&u.o));

	/* The same, its new field zero: read as far as this library knows. */
	u.b[sizeof(u.b) - 1] = 0;
	t_eq(base, open_with(&u.o));

	/* Smaller than its size field: refused. */
	u.o.sz = 4;
	t_eq(EINVAL, open_with(&u.o));
	return T_EXIT_PASS;
}
