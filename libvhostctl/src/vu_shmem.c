// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * VIRTIO shared memory regions over vhost-user (protocol feature SHMEM).
 *
 * Frontend: GET_SHMEM_CONFIG when the connection is made, one PROT_NONE
 * reservation per region, and the backend's BACKEND_SHMEM_MAP / _UNMAP
 * requests: every field is checked (region, alignment, range inside the
 * region, overflow, flags, overlap with a mapping, the file's size) before
 * the file range is mapped over the reservation, and an unmapped range is
 * reserved again.  A refused request gets a failure answer; its fd is closed.
 *
 * The backend's side: vu_share_be.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vu_fe.h"
#include "vu_shpriv.h"

#define SHM_MAX_TOTAL VHC_SHM_MAX_TOTAL

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* An inaccessible reservation at addr (MAP_FIXED) or anywhere (addr NULL). */
static void *reserve(void *addr, uint64_t len)
{
	return mmap(addr, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (addr ? MAP_FIXED : 0), -1, 0);
}

struct vhc_fe_shared *vhc_fe_shared_get(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	if (!fe->shared)
		fe->shared = calloc(1, sizeof(*fe->shared));
	return fe->shared;
}

static void shm_unreserve(struct vhc_fe_shared *sh, unsigned int i)
{
	if (sh->shm[i].base)
		munmap(sh->shm[i].base, sh->shm[i].resv);
	sh->shm[i].base = NULL;
	sh->shm[i].size = sh->shm[i].resv = 0;
}

/*
 * Ask the backend for its regions and reserve them.  Called on every
 * connection: mappings of an earlier backend go (a reservation of the same
 * size is kept in place, so the caller's pointers stay good).
 */
int vhc_fe_shmem_setup(struct vhostctl_dev *dev)
{
	static const struct vhc_vu_shmem_config none;
	const struct vhc_vu_shmem_config *cfg = &none;
	struct vu_fe *fe = dev->priv;
	uint64_t pg = page_size(), total = 0;
	struct vhc_fe_shared *sh;
	struct vhc_vu_msg m;
	unsigned int i;
	int r;

	/* Without SHMEM: no regions, and none left from an earlier backend. */
	if (!pf(fe, VHOSTCTL_VU_PF_SHMEM) && !fe->shared)
		return 0;
	sh = vhc_fe_shared_get(dev);
	if (!sh)
		return -ENOMEM;
	m.hdr.size = 8;
	if (pf(fe, VHOSTCTL_VU_PF_SHMEM)) {
		vhc_vu_msg_init(&m, VHC_VU_GET_SHMEM_CONFIG, 0, 0);
		r = vhc_fe_send(dev, &m, NULL, 0) ?:
		    vhc_fe_reply(dev, &m, VHC_VU_GET_SHMEM_CONFIG, false);
		if (r)
			return r;
		cfg = (const struct vhc_vu_shmem_config *)m.p.raw;
	}
	if (m.hdr.size < 8 || cfg->nregions > VHOSTCTL_VU_SHMEM_MAX_REGIONS ||
	    m.hdr.size < 8 + 8ull * cfg->nregions) {
		vhc_log(dev, VHOSTCTL_LOG_ERR,
			"vhost-user GET_SHMEM_CONFIG: %u regions in a reply of %u bytes",
			m.hdr.size >= 8 ? cfg->nregions : 0, m.hdr.size);
		return -EPROTO;
	}
	for (i = 0; i < cfg->nregions; i++) {
		if (cfg->sizes[i] > SHM_MAX_TOTAL - total) {
			vhc_log(dev, VHOSTCTL_LOG_ERR,
				"vhost-user GET_SHMEM_CONFIG: regions of more than %llu bytes",
				SHM_MAX_TOTAL);
			return -EPROTO;
		}
		total += cfg->sizes[i];
	}
	sh->nmaps = 0;
	for (i = 0; i < VHOSTCTL_VU_SHMEM_MAX_REGIONS; i++) {
		uint64_t size = i < cfg->nregions ? cfg->sizes[i] : 0;
		uint64_t resv = (size + pg - 1) & ~(pg - 1);
		void *p;

		if (sh->shm[i].base && sh->shm[i].resv == resv && resv) {
			/* Same size: drop what is mapped, keep the address. */
			if (reserve(sh->shm[i].base, resv) == MAP_FAILED)
				return -errno;
			sh->shm[i].size = size;
			continue;
		}
		shm_unreserve(sh, i);
		if (!resv)
			continue;
		p = reserve(NULL, resv);
		if (p == MAP_FAILED)
			return -errno;
		sh->shm[i].base = p;
		sh->shm[i].size = size;
		sh->shm[i].resv = resv;
	}
	sh->nshm = cfg->nregions;
	vhc_log(dev, VHOSTCTL_LOG_DEBUG, "vhost-user: %u shared memory regions, %llu bytes",
		sh->nshm, (unsigned long long)total);
	return 0;
}

void vhc_fe_shared_free(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	if (!fe->shared)
		return;
	vhostctl_vu_set_objects(dev, NULL);
	for (unsigned int i = 0; i < VHOSTCTL_VU_SHMEM_MAX_REGIONS; i++)
		shm_unreserve(fe->shared, i);
	free(fe->shared);
	fe->shared = NULL;
}

static bool refuse(struct vhostctl_dev *dev, const struct vhc_vu_msg *m, const char *why)
{
	const struct vhc_vu_mmap *mm = (const struct vhc_vu_mmap *)m->p.raw;

	vhc_log(dev, VHOSTCTL_LOG_WARNING,
		"vhost-user backend %s of region %u [0x%llx, +0x%llx) file offset 0x%llx "
		"flags 0x%llx refused: %s", vhc_vu_be_req_name(m->hdr.request), mm->shmid,
		(unsigned long long)mm->shm_offset, (unsigned long long)mm->len,
		(unsigned long long)mm->fd_offset, (unsigned long long)mm->flags, why);
	return false;
}

/* The region and range of a request, checked; false (logged) if bad. */
static bool shm_range_ok(struct vhostctl_dev *dev, struct vhc_fe_shared *sh,
			 const struct vhc_vu_msg *m)
{
	const struct vhc_vu_mmap *mm = (const struct vhc_vu_mmap *)m->p.raw;
	uint64_t pg = page_size();

	if (mm->shmid >= sh->nshm || !sh->shm[mm->shmid].base)
		return refuse(dev, m, "no such region");
	if (!mm->len || (mm->len | mm->shm_offset) & (pg - 1))
		return refuse(dev, m, "offset or length not page aligned, or empty");
	if (mm->shm_offset > sh->shm[mm->shmid].resv ||
	    mm->len > sh->shm[mm->shmid].resv - mm->shm_offset)
		return refuse(dev, m, "outside the region");
	return true;
}

static int shm_map(struct vhostctl_dev *dev, struct vhc_fe_shared *sh, struct vhc_vu_msg *m)
{
	const struct vhc_vu_mmap *mm = (const struct vhc_vu_mmap *)m->p.raw;
	uint64_t pg = page_size();
	struct stat st;
	uint8_t *at;
	int prot;

	if (m->nfds != 1)
		return refuse(dev, m, "no fd");
	if (!shm_range_ok(dev, sh, m))
		return false;
	if (mm->flags & ~(uint64_t)VHOSTCTL_VU_SHMEM_MAP_RW)
		return refuse(dev, m, "unknown flags");
	if (mm->fd_offset & (pg - 1) || mm->fd_offset > (uint64_t)INT64_MAX - mm->len)
		return refuse(dev, m, "file offset not page aligned or too large");
	if (fstat(m->fds[0], &st) < 0)
		return refuse(dev, m, "fd cannot be examined");
	/* A page past the end of a file would kill this process with SIGBUS on access. */
	if (S_ISREG(st.st_mode) && mm->fd_offset + mm->len > (uint64_t)st.st_size)
		return refuse(dev, m, "range beyond the end of the file");
	for (unsigned int i = 0; i < sh->nmaps; i++) {
		const struct vhc_shm_map *o = &sh->maps[i];

		if (o->shmid == mm->shmid && o->off < mm->shm_offset + mm->len &&
		    mm->shm_offset < o->off + o->len)
			return refuse(dev, m, "overlaps a mapping");
	}
	if (sh->nmaps == VHC_SHM_MAX_MAPS)
		return refuse(dev, m, "too many mappings");
	at = sh->shm[mm->shmid].base + mm->shm_offset;
	prot = PROT_READ | (mm->flags & VHOSTCTL_VU_SHMEM_MAP_RW ? PROT_WRITE : 0);
	if (mmap(at, mm->len, prot, MAP_SHARED | MAP_FIXED, m->fds[0], (off_t)mm->fd_offset) ==
	    MAP_FAILED) {
		int e = errno;

		/* A failed MAP_FIXED may have taken the reservation away: put it back. */
		reserve(at, mm->len);
		errno = e;
		return refuse(dev, m, "mmap failed");
	}
	sh->maps[sh->nmaps++] = (struct vhc_shm_map){ mm->shmid, mm->shm_offset, mm->len };
	return true;
}

static int shm_unmap(struct vhostctl_dev *dev, struct vhc_fe_shared *sh, struct vhc_vu_msg *m)
{
	const struct vhc_vu_mmap *mm = (const struct vhc_vu_mmap *)m->p.raw;

	if (!shm_range_ok(dev, sh, m))
		return false;
	for (unsigned int i = 0; i < sh->nmaps; i++) {
		struct vhc_shm_map *o = &sh->maps[i];

		if (o->shmid != mm->shmid || o->off != mm->shm_offset || o->len != mm->len)
			continue;
		if (reserve(sh->shm[mm->shmid].base + mm->shm_offset, mm->len) == MAP_FAILED)
			return refuse(dev, m, "cannot reserve the range again");
		*o = sh->maps[--sh->nmaps];
		return true;
	}
	return refuse(dev, m, "not exactly one mapping");
}

/* BACKEND_SHMEM_MAP / _UNMAP: true when done, false when refused. */
int vhc_fe_shmem_req(struct vhostctl_dev *dev, struct vhc_fe_shared *sh, struct vhc_vu_msg *m)
{
	struct vu_fe *fe = dev->priv;

	if (!pf(fe, VHOSTCTL_VU_PF_SHMEM))
		return refuse(dev, m, "SHMEM not negotiated");
	if (m->hdr.request == VHC_VU_BE_SHMEM_MAP)
		return shm_map(dev, sh, m);
	return shm_unmap(dev, sh, m);
}

VHC_EXPORT int vhostctl_vu_shmem_region(struct vhostctl_dev *dev, unsigned int shmid, void **addr,
					uint64_t *size)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_fe_shared *sh;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_SHMEM))
		return vhc_err(EOPNOTSUPP);
	sh = fe->shared;
	if (!sh || shmid >= sh->nshm || !sh->shm[shmid].base)
		return vhc_err(ENOENT);
	if (addr)
		*addr = sh->shm[shmid].base;
	if (size)
		*size = sh->shm[shmid].size;
	return 0;
}
