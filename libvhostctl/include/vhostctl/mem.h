/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Guest memory: regions of guest physical address space, each backed by a
 * shareable fd (a memfd unless the caller brings its own) and mapped into
 * this process.  Every transport translates it: VHOST_SET_MEM_TABLE for the
 * kernel, SET_MEM_TABLE with the fds for vhost-user, IOTLB updates for vDPA.
 */
#ifndef VHOSTCTL_MEM_H
#define VHOSTCTL_MEM_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostctl_mem;

/** VHOSTCTL_MEM_MAX_REGIONS - regions one memory object holds */
#define VHOSTCTL_MEM_MAX_REGIONS 64

/**
 * struct vhostctl_mem_region - one region, as vhostctl_mem_get_region() reports it
 * @gpa: first guest physical address
 * @size: bytes
 * @hva: where it is mapped in this process
 * @fd: the fd backing it (owned by the memory object), or -1 for private memory
 * @fd_offset: offset of @gpa's byte in @fd
 */
struct vhostctl_mem_region {
	uint64_t gpa;
	uint64_t size;
	void *hva;
	int fd;
	uint64_t fd_offset;
};

/**
 * vhostctl_mem_new() - create an empty memory object
 *
 * Return: the object, or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_mem *vhostctl_mem_new(void);

/**
 * vhostctl_mem_free() - unmap every region and close every fd
 * @mem: the object, or NULL
 */
VHOSTCTL_API void vhostctl_mem_free(struct vhostctl_mem *mem);

/* Flags of vhostctl_mem_add_region(). */
/** VHOSTCTL_MEM_F_PRIVATE - anonymous private memory, no fd (kernel transport only) */
#define VHOSTCTL_MEM_F_PRIVATE 0x1u

/**
 * vhostctl_mem_add_region() - add a region of new, zeroed memory
 * @mem: the object
 * @gpa: first guest physical address, page aligned
 * @size: bytes, a non-zero multiple of the page size
 * @flags: 0 (memfd, MAP_SHARED) or VHOSTCTL_MEM_F_PRIVATE
 *
 * Return: the region's index, -EINVAL for bad alignment or size, -EEXIST when
 * it overlaps another region, -E2BIG when full, or -errno.
 */
VHOSTCTL_API int vhostctl_mem_add_region(struct vhostctl_mem *mem, uint64_t gpa, uint64_t size,
					 unsigned int flags);

/**
 * vhostctl_mem_add_fd() - add a region backed by the caller's fd
 * @mem: the object
 * @gpa: first guest physical address, page aligned
 * @size: bytes, a multiple of the page size
 * @fd: the fd, mapped MAP_SHARED; the object keeps a duplicate
 * @offset: page-aligned offset in @fd
 *
 * Return: the region's index or -errno (as vhostctl_mem_add_region()).
 */
VHOSTCTL_API int vhostctl_mem_add_fd(struct vhostctl_mem *mem, uint64_t gpa, uint64_t size, int fd,
				     uint64_t offset);

/**
 * vhostctl_mem_num_regions() - how many regions there are
 * @mem: the object
 *
 * Return: the count, or -EINVAL.
 */
VHOSTCTL_API int vhostctl_mem_num_regions(const struct vhostctl_mem *mem);

/**
 * vhostctl_mem_get_region() - describe one region
 * @mem: the object
 * @i: index, below vhostctl_mem_num_regions()
 * @region: filled in; its fd stays owned by @mem
 *
 * Return: 0, or -EINVAL / -ENOENT.
 */
VHOSTCTL_API int vhostctl_mem_get_region(const struct vhostctl_mem *mem, unsigned int i,
					 struct vhostctl_mem_region *region);

/**
 * vhostctl_mem_gpa_to_hva() - translate a guest physical range
 * @mem: the object
 * @gpa: start
 * @len: bytes; the whole range must lie in one region
 *
 * Return: the address in this process, or NULL with errno EFAULT.
 */
VHOSTCTL_API void *vhostctl_mem_gpa_to_hva(const struct vhostctl_mem *mem, uint64_t gpa,
					   uint64_t len);

/**
 * vhostctl_mem_hva_to_gpa() - translate an address in this process back
 * @mem: the object
 * @hva: start
 * @len: bytes; the whole range must lie in one region
 * @gpa: where to store the guest physical address
 *
 * Return: 0, or -EFAULT when the range is not guest memory.
 */
VHOSTCTL_API int vhostctl_mem_hva_to_gpa(const struct vhostctl_mem *mem, const void *hva,
					 uint64_t len, uint64_t *gpa);

/**
 * vhostctl_mem_alloc() - carve zeroed bytes out of guest memory
 * @mem: the object
 * @size: bytes
 * @align: a power of two (0 means 16)
 * @gpa: where to store the guest physical address, or NULL
 *
 * A bump allocator over the regions in the order they were added, for rings
 * and buffers; nothing is given back before vhostctl_mem_free().
 *
 * Return: the address in this process, or NULL with errno ENOMEM / EINVAL.
 */
VHOSTCTL_API void *vhostctl_mem_alloc(struct vhostctl_mem *mem, uint64_t size, uint64_t align,
				      uint64_t *gpa);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_MEM_H */
