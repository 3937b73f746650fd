/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Shared memory regions, shared objects and the GPU socket, both sides
 * (vu_shmem.c, vu_shobj.c): the little the frontend and backend files call.
 */
#ifndef VHOSTCTL_VU_SHPRIV_H
#define VHOSTCTL_VU_SHPRIV_H

#include <vhostctl/vu_share.h>

#include "vu.h"

/* The most address space a backend may have the frontend reserve. */
#define VHC_SHM_MAX_TOTAL (1ull << 40)
/* The most mappings a frontend keeps in all its regions: each is a VMA. */
#define VHC_SHM_MAX_MAPS 256u

/* BACKEND_SHMEM_MAP / _UNMAP payload. */
struct vhc_vu_mmap {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset;
	uint64_t shm_offset;
	uint64_t len;
	uint64_t flags;
};

/* GET_SHMEM_CONFIG reply. */
struct vhc_vu_shmem_config {
	uint32_t nregions;
	uint32_t padding;
	uint64_t sizes[VHOSTCTL_VU_SHMEM_MAX_REGIONS];
};

_Static_assert(sizeof(struct vhc_vu_mmap) == 40, "MMAP request layout");
_Static_assert(sizeof(struct vhc_vu_shmem_config) == 2056, "ShMemConfig layout");
_Static_assert(sizeof(struct vhc_vu_shmem_config) <= VHC_VU_MAX_PAYLOAD, "fits a message");

struct vhc_shm_map {
	uint8_t shmid;
	uint64_t off, len;
};

/* A frontend's regions, mappings and shared object table; NULL until needed. */
struct vhc_fe_shared {
	unsigned int nshm;
	struct {
		uint8_t *base;
		uint64_t size;	/* as declared */
		uint64_t resv;	/* reserved: size rounded up to pages */
	} shm[VHOSTCTL_VU_SHMEM_MAX_REGIONS];
	unsigned int nmaps;
	struct vhc_shm_map maps[VHC_SHM_MAX_MAPS];
	struct vhostctl_vu_objects *objs;	/* attached, not owned */
};

/* A backend's regions and callbacks; NULL until one is set. */
struct vhc_be_shared {
	unsigned int nshm;
	uint64_t shm_size[VHOSTCTL_VU_SHMEM_MAX_REGIONS];
	vhostctl_vu_object_fn obj_fn;
	vhostctl_vu_gpu_socket_fn gpu_fn;
};

int vhc_fe_shmem_req(struct vhostctl_dev *dev, struct vhc_fe_shared *sh, struct vhc_vu_msg *m);
int vhc_fe_shobj_req(struct vhostctl_dev *dev, struct vhc_fe_shared *sh, struct vhc_vu_msg *m,
		     uint64_t *result, int *reply_fd);
struct vhc_fe_shared *vhc_fe_shared_get(struct vhostctl_dev *dev);

/* vu_shobj.c, backend: a request on the backend channel and its answer. */
struct vhostctl_vu_backend;
int vhc_be_chan_call(struct vhostctl_vu_backend *be, uint32_t req, const void *payload,
		     uint32_t size, int fd, bool always_reply, int *reply_fd);
struct vhc_be_shared *vhc_be_shared_get(struct vhostctl_vu_backend *be);
void vhc_be_offer(struct vhostctl_vu_backend *be, int bit, bool on);

#endif /* VHOSTCTL_VU_SHPRIV_H */
