// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Guest memory for the virtqueues: regions, their fds (shareable), the
 * translations both ways at region edges, the bump allocator, bad input,
 * and no fd leaks.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

int main(void)
{
	int fds = t_count_fds();
	struct vhostctl_mem *m = vhostctl_mem_new(), *m2 = vhostctl_mem_new();
	struct vhostctl_mem_region r;
	uint64_t gpa;
	uint8_t *p, *q;

	t_true(m && m2);
	t_eq(0, vhostctl_mem_add_region(m, 0x100000, 1 << 20, 0));
	t_eq(1, vhostctl_mem_add_region(m, 0x40000000, 1 << 16, VHOSTCTL_MEM_F_PRIVATE));
	t_eq(2, vhostctl_mem_num_regions(m));
	/* Misaligned, empty, overlapping, wrapping, unknown flags. */
	t_eq(-EINVAL, vhostctl_mem_add_region(m, 0x100, 4096, 0));
	t_eq(EINVAL, errno);
	t_eq(-EINVAL, vhostctl_mem_add_region(m, 0x800000, 100, 0));
	t_eq(-EINVAL, vhostctl_mem_add_region(m, 0x800000, 0, 0));
	t_eq(-EEXIST, vhostctl_mem_add_region(m, 0x1ff000, 8192, 0));
	t_eq(-EEXIST, vhostctl_mem_add_region(m, 0, 0x101000, 0));
	t_eq(-EINVAL, vhostctl_mem_add_region(m, ~0xfffull, 8192, 0));
	t_eq(-EINVAL, vhostctl_mem_add_region(m, 0x800000, 4096, 0x80));
	t_eq(-EBADF, vhostctl_mem_add_fd(m, 0x800000, 4096, -1, 0));

	/* Regions report their fd: memfd for shared memory, -1 for private. */
	t_eq(0, vhostctl_mem_get_region(m, 0, &r));
	t_eq(0x100000, r.gpa);
	t_eq(1 << 20, r.size);
	t_true(r.fd >= 0 && r.hva);
	t_eq(0, vhostctl_mem_get_region(m, 1, &r));
	t_eq(-1, r.fd);
	t_eq(-ENOENT, vhostctl_mem_get_region(m, 2, &r));

	/* Translation, exactly at the edges. */
	p = vhostctl_mem_gpa_to_hva(m, 0x100000, 1 << 20);
	t_true(p);
	t_true(vhostctl_mem_gpa_to_hva(m, 0x1fffff, 1) == p + 0xfffff);
	t_true(!vhostctl_mem_gpa_to_hva(m, 0x1fffff, 2));
	t_eq(EFAULT, errno);
	t_true(!vhostctl_mem_gpa_to_hva(m, 0xfffff, 1));
	t_true(!vhostctl_mem_gpa_to_hva(m, 0x100000, ~0ull));
	t_eq(0, vhostctl_mem_hva_to_gpa(m, p + 0x1234, 16, &gpa));
	t_eq(0x101234, gpa);
	t_eq(-EFAULT, vhostctl_mem_hva_to_gpa(m, p + (1 << 20) - 1, 2, &gpa));
	t_eq(-EFAULT, vhostctl_mem_hva_to_gpa(m, &gpa, 8, &gpa));

	/* The same memfd mapped by a second object: the memory is shared. */
	t_eq(0, vhostctl_mem_get_region(m, 0, &r));
	t_eq(0, vhostctl_mem_add_fd(m2, 0x100000 + 4096, 4096, r.fd, 4096));
	q = vhostctl_mem_gpa_to_hva(m2, 0x101000, 4096);
	t_true(q && q != p + 4096);
	memcpy(p + 4096, "shared", 7);
	t_eq(0, memcmp(q, "shared", 7));

	/* The allocator aligns guest addresses and moves to the next region. */
	t_true(vhostctl_mem_alloc(m, 3, 0, &gpa));
	t_eq(0x100000, gpa);
	t_true(vhostctl_mem_alloc(m, 10, 4096, &gpa));
	t_eq(0x101000, gpa);
	t_true(vhostctl_mem_alloc(m, (1 << 20) - 0x2000, 16, &gpa));
	t_true(vhostctl_mem_alloc(m, 8192, 16, &gpa));
	t_eq(0x40000000, gpa);
	t_true(!vhostctl_mem_alloc(m, 1 << 20, 16, &gpa));
	t_eq(ENOMEM, errno);
	t_true(!vhostctl_mem_alloc(m, 16, 3, &gpa));
	t_eq(EINVAL, errno);

	/* Full at 64 regions. */
	for (int i = 2; i < VHOSTCTL_MEM_MAX_REGIONS; i++)
		t_eq(i, vhostctl_mem_add_region(m, 0x80000000ull + (uint64_t)i * 4096, 4096, 0));
	t_eq(-E2BIG, vhostctl_mem_add_region(m, 0x90000000ull, 4096, 0));

	vhostctl_mem_free(m);
	vhostctl_mem_free(m2);
	vhostctl_mem_free(NULL);
	t_eq(fds, t_count_fds());
	return T_EXIT_PASS;
}
