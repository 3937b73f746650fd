// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Guest memory: regions mapped into this process, each with its fd, and the
 * translations between guest physical and host virtual addresses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

struct vhc_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	int fd;			/* owned; -1 for private memory */
	uint64_t fd_offset;
	uint64_t used;		/* bytes handed out by vhostctl_mem_alloc() */
};

/* Used by one thread at a time, like the device handle. */
struct vhostctl_mem {
	unsigned int n;
	struct vhc_region r[VHOSTCTL_MEM_MAX_REGIONS];
};

VHC_EXPORT struct vhostctl_mem *vhostctl_mem_new(void)
{
	return calloc(1, sizeof(struct vhostctl_mem));
}

VHC_EXPORT void vhostctl_mem_free(struct vhostctl_mem *mem)
{
	int e = errno;

	if (!mem)
		return;
	for (unsigned int i = 0; i < mem->n; i++) {
		munmap(mem->r[i].hva, mem->r[i].size);
		if (mem->r[i].fd >= 0)
			close(mem->r[i].fd);
	}
	free(mem);
	errno = e;
}

static int vhc_mem_check(const struct vhostctl_mem *mem, uint64_t gpa, uint64_t size)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (!mem || !size || (gpa | size) & (page - 1) || gpa + size < gpa)
		return -EINVAL;
	if (mem->n == VHOSTCTL_MEM_MAX_REGIONS)
		return -E2BIG;
	for (unsigned int i = 0; i < mem->n; i++)
		if (gpa < mem->r[i].gpa + mem->r[i].size && mem->r[i].gpa < gpa + size)
			return -EEXIST;
	return 0;
}

/* Takes ownership of fd (closed on failure). */
static int vhc_mem_insert(struct vhostctl_mem *mem, uint64_t gpa, uint64_t size, int fd,
			  uint64_t offset)
{
	struct vhc_region *r;
	void *p;

	if (fd >= 0)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	else
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return -e;
	}
	r = &mem->r[mem->n];
	r->gpa = gpa;
	r->size = size;
	r->hva = p;
	r->fd = fd;
	r->fd_offset = offset;
	r->used = 0;
	return (int)mem->n++;
}

VHC_EXPORT int vhostctl_mem_add_region(struct vhostctl_mem *mem, uint64_t gpa, uint64_t size,
				       unsigned int flags)
{
	int r = vhc_mem_check(mem, gpa, size);
	int fd = -1;

	if (r)
		return vhc_err(-r);
	if (flags & ~VHOSTCTL_MEM_F_PRIVATE)
		return vhc_err(EINVAL);
	if (!(flags & VHOSTCTL_MEM_F_PRIVATE)) {
		fd = memfd_create("vhostctl-guest", MFD_CLOEXEC);
		if (fd < 0)
			return vhc_err(errno);
		if (ftruncate(fd, (off_t)size) < 0) {
			r = errno;
			close(fd);
			return vhc_err(r);
		}
	}
	return vhc_ret(vhc_mem_insert(mem, gpa, size, fd, 0));
}

VHC_EXPORT int vhostctl_mem_add_fd(struct vhostctl_mem *mem, uint64_t gpa, uint64_t size, int fd,
				   uint64_t offset)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int r = vhc_mem_check(mem, gpa, size);
	int dfd;

	if (r)
		return vhc_err(-r);
	if (fd < 0)
		return vhc_err(EBADF);
	if (offset & (page - 1))
		return vhc_err(EINVAL);
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return vhc_err(errno);
	return vhc_ret(vhc_mem_insert(mem, gpa, size, dfd, offset));
}

VHC_EXPORT int vhostctl_mem_num_regions(const struct vhostctl_mem *mem)
{
	return mem ? (int)mem->n : vhc_err(EINVAL);
}

VHC_EXPORT int vhostctl_mem_get_region(const struct vhostctl_mem *mem, unsigned int i,
				       struct vhostctl_mem_region *region)
{
	if (!mem || !region)
		return vhc_err(EINVAL);
	if (i >= mem->n)
		return vhc_err(ENOENT);
	region->gpa = mem->r[i].gpa;
	region->size = mem->r[i].size;
	region->hva = mem->r[i].hva;
	region->fd = mem->r[i].fd;
	region->fd_offset = mem->r[i].fd_offset;
	return 0;
}

void *vhc_mem_gpa_to_hva(const struct vhostctl_mem *mem, uint64_t gpa, uint64_t len)
{
	if (!mem)
		return NULL;
	for (unsigned int i = 0; i < mem->n; i++) {
		const struct vhc_region *r = &mem->r[i];

		/* Written so that no sum can wrap. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

VHC_EXPORT void *vhostctl_mem_gpa_to_hva(const struct vhostctl_mem *mem, uint64_t gpa,
					 uint64_t len)
{
	void *p = vhc_mem_gpa_to_hva(mem, gpa, len);

	if (!p)
		errno = EFAULT;
	return p;
}

VHC_EXPORT int vhostctl_mem_hva_to_gpa(const struct vhostctl_mem *mem, const void *hva,
				       uint64_t len, uint64_t *gpa)
{
	uintptr_t a = (uintptr_t)hva;

	if (!mem || !gpa)
		return vhc_err(EINVAL);
	for (unsigned int i = 0; i < mem->n; i++) {
		const struct vhc_region *r = &mem->r[i];
		uintptr_t b = (uintptr_t)r->hva;

		if (a >= b && a - b < r->size && len <= r->size - (a - b)) {
			*gpa = r->gpa + (a - b);
			return 0;
		}
	}
	return vhc_err(EFAULT);
}

VHC_EXPORT void *vhostctl_mem_alloc(struct vhostctl_mem *mem, uint64_t size, uint64_t align,
				    uint64_t *gpa)
{
	if (!align)
		align = 16;
	if (!mem || !size || align & (align - 1)) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned int i = 0; i < mem->n; i++) {
		struct vhc_region *r = &mem->r[i];
		/* Align the guest physical address: that is what rings care about. */
		uint64_t off = ((r->gpa + r->used + align - 1) & ~(align - 1)) - r->gpa;

		if (off > r->size || size > r->size - off)
			continue;
		r->used = off + size;
		if (gpa)
			*gpa = r->gpa + off;
		memset(r->hva + off, 0, size);
		return r->hva + off;
	}
	errno = ENOMEM;
	return NULL;
}
