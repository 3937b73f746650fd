/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * What a vhost-vdpa handle remembers of the rings as the caller set them up:
 * vhost has no call to read a ring's size, addresses or enabled state back,
 * and a migration needs all three.  vhost_vdpa.c owns one record per handle
 * and feeds it after every successful call (the hooks below); vdpa_migrate.c
 * reads it.  Transport-independent, so the kernel and vhost-user handles
 * could keep one too.
 */
#ifndef VHOSTCTL_VDPA_REC_H
#define VHOSTCTL_VDPA_REC_H

#include <stdbool.h>
#include <stdint.h>

struct vhostctl_dev;
struct vhostctl_vring_addr;

/* One vring; has_num/has_addr say whether the caller set them since the last reset. */
struct vhc_vring_rec {
	bool has_num;
	bool has_addr;
	bool enabled;
	uint32_t num;
	uint32_t addr_flags;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
};

/* Grows on demand; indexes at or above VHC_VRING_REC_MAX are not recorded. */
struct vhc_vring_recs {
	unsigned int n;
	struct vhc_vring_rec *ring;
};

#define VHC_VRING_REC_MAX 65536u

/* The hooks: called by the transport after the device accepted the call. */
void vhc_vring_rec_num(struct vhc_vring_recs *r, unsigned int index, unsigned int num);
void vhc_vring_rec_addr(struct vhc_vring_recs *r, const struct vhostctl_vring_addr *a);
void vhc_vring_rec_enable(struct vhc_vring_recs *r, unsigned int index, int enable);
/* The device was reset: it forgot every ring. */
void vhc_vring_rec_reset(struct vhc_vring_recs *r);
void vhc_vring_rec_fini(struct vhc_vring_recs *r);

/*
 * vhost_vdpa.c: the record of a vDPA handle and the backend features it
 * acknowledged (0 before any were), or NULL for another transport.
 */
const struct vhc_vring_recs *vhc_vdpa_recs(struct vhostctl_dev *dev, uint64_t *acked_bf);

#endif /* VHOSTCTL_VDPA_REC_H */
