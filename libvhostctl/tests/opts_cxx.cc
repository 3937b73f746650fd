// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * VHOSTCTL_OPTS_INIT() from C++11, which has no designated initialisers:
 * the struct is zeroed, its size filled in, fields assigned after.
 */
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <vhostctl/vhostctl.h>

static int fails;

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			fails++;                                                \
		}                                                               \
	} while (0)

static __attribute__((noinline)) void dirty_stack()
{
	volatile unsigned char junk[4096];

	std::memset((void *)junk, 0xff, sizeof(junk));
}

static __attribute__((noinline)) void check()
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o);
	const unsigned char *p = reinterpret_cast<const unsigned char *>(&o);

	CHECK(o.sz == sizeof(o));
	for (size_t i = sizeof(o.sz); i < sizeof(o); i++)
		CHECK(p[i] == 0);
	o.num = 8;
	errno = 0;
	/* No memory regions: refused for that (EINVAL), not for the struct (E2BIG). */
	CHECK(vhostctl_devq_new(&o) == NULL);
	CHECK(errno == EINVAL);
	/* One byte past the struct set, as a later caller's field: refused. */
	{
		union {
			struct vhostctl_devq_opts o;
			unsigned char b[sizeof(struct vhostctl_devq_opts) + 8];
		} big;

		std::memset(&big, 0, sizeof(big));
		std::memcpy(&big.o, &o, sizeof(o));
		big.b[sizeof(o)] = 1;
		big.o.sz = sizeof(big.b);
		errno = 0;
		CHECK(vhostctl_devq_new(&big.o) == NULL);
		CHECK(errno == E2BIG);
	}
}

int main()
{
#if __cplusplus != 201103L
	std::fprintf(stderr, "FAIL: built as C++ %ld, not C++11\n", (long)__cplusplus);
	return 1;
#endif
	dirty_stack();
	check();
	return fails ? 1 : 0;
}
