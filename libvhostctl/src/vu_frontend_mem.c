// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user frontend, guest memory: the memory table (whole with
 * SET_MEM_TABLE, or region by region with CONFIGURE_MEM_SLOTS), the dirty
 * log and the inflight region, each remembered for vhostctl_vu_reconnect().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vu_fe.h"

/* ---- memory ----------------------------------------------------------- */

static void region_msg(struct vhc_vu_region *out, const struct vhostctl_vu_region *r)
{
	out->gpa = r->gpa;
	out->size = r->size;
	out->uaddr = r->uaddr;
	out->mmap_offset = r->offset;
}

static bool region_eq(const struct vhostctl_vu_region *a, const struct vhostctl_vu_region *b)
{
	return a->gpa == b->gpa && a->size == b->size && a->uaddr == b->uaddr &&
	       a->fd == b->fd && a->offset == b->offset;
}

static int send_table(struct vhostctl_dev *dev, const struct vhostctl_vu_region *regs,
		      unsigned int n, const struct vhostctl_vu_region *old, unsigned int nold)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (pf(fe, VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS)) {
		struct vhc_vu_mem_one one = { 0 };

		/* Changes only: remove what went away, then add what is new. */
		for (unsigned int i = 0; i < nold; i++) {
			bool keep = false;

			for (unsigned int j = 0; j < n && !keep; j++)
				keep = region_eq(&old[i], &regs[j]);
			if (keep)
				continue;
			region_msg(&one.r, &old[i]);
			r = vhc_fe_call(dev, VHC_VU_REM_MEM_REG, &one, sizeof(one), NULL, 0, true);
			if (r)
				return r;
		}
		for (unsigned int j = 0; j < n; j++) {
			bool have = false;

			for (unsigned int i = 0; i < nold && !have; i++)
				have = region_eq(&old[i], &regs[j]);
			if (have)
				continue;
			region_msg(&one.r, &regs[j]);
			r = vhc_fe_call(dev, VHC_VU_ADD_MEM_REG, &one, sizeof(one), &regs[j].fd, 1, true);
			if (r)
				return r;
		}
		return 0;
	}
	{
		struct vhc_vu_mem mem = { .nregions = n };
		int fds[VHC_VU_MEM_REGIONS];

		if (n > VHC_VU_MEM_REGIONS)
			return -E2BIG;
		for (unsigned int i = 0; i < n; i++) {
			region_msg(&mem.r[i], &regs[i]);
			fds[i] = regs[i].fd;
		}
		return vhc_fe_call(dev, VHC_VU_SET_MEM_TABLE, &mem, 8 + n * sizeof(mem.r[0]), fds, n, true);
	}
}

static int fe_max_slots(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS))
		return VHC_VU_MEM_REGIONS;
	r = vhc_fe_get_u64(dev, VHC_VU_GET_MAX_MEM_SLOTS, &v);
	if (r)
		return r;
	return v > VHC_VU_MAX_MEM_SLOTS ? (int)VHC_VU_MAX_MEM_SLOTS : (int)v;
}

int vhc_fe_set_regions(struct vhostctl_dev *dev, const struct vhostctl_vu_region *regs,
		       unsigned int n)
{
	struct vu_fe *fe = dev->priv;
	struct vhostctl_vu_region *copy;
	int r, max;

	for (unsigned int i = 0; i < n; i++)
		if (regs[i].fd < 0 || !regs[i].size)
			return -EINVAL;
	/* The backend's addresses recorded for postcopy hold until POSTCOPY_END. */
	if (vhc_fe_postcopy_listening(fe))
		return -EBUSY;
	max = fe_max_slots(dev);
	if (max < 0)
		return max;
	if (n > (unsigned int)max)
		return -E2BIG;
	copy = calloc(n ? n : 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, regs, n * sizeof(*copy));
	r = send_table(dev, regs, n, fe->regions, fe->nregions);
	if (r) {
		free(copy);
		return r;
	}
	free(fe->regions);
	fe->regions = copy;
	fe->nregions = n;
	return 0;
}

uint64_t vhc_fe_gpa_to_uaddr(const struct vu_fe *fe, uint64_t gpa, bool *ok)
{
	for (unsigned int i = 0; i < fe->nregions; i++) {
		const struct vhostctl_vu_region *r = &fe->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*ok = true;
			return r->uaddr + (gpa - r->gpa);
		}
	}
	*ok = false;
	return 0;
}

int vhc_fe_set_mem_table(struct vhostctl_dev *dev, const struct vhostctl_mem *mem)
{
	struct vhostctl_vu_region regs[VHOSTCTL_MEM_MAX_REGIONS];
	int n = vhostctl_mem_num_regions(mem);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct vhostctl_mem_region mr;
		int r = vhostctl_mem_get_region(mem, (unsigned int)i, &mr);

		if (r)
			return r;
		if (mr.fd < 0)
			return -EINVAL;	/* private memory cannot be shared */
		regs[i].gpa = mr.gpa;
		regs[i].size = mr.size;
		regs[i].uaddr = (uint64_t)(uintptr_t)mr.hva;
		regs[i].fd = mr.fd;
		regs[i].offset = mr.fd_offset;
	}
	return vhc_fe_set_regions(dev, regs, (unsigned int)n);
}

int vhc_fe_set_log_base(struct vhostctl_dev *dev, const struct vhostctl_log *log)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_log l = { .size = log->size, .offset = log->offset };
	struct vhc_vu_msg m;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_LOG_SHMFD))
		return -EOPNOTSUPP;
	if (log->fd < 0)
		return -EINVAL;
	vhc_vu_msg_init(&m, VHC_VU_SET_LOG_BASE, 0, sizeof(l));
	memcpy(&m.p.log, &l, sizeof(l));
	r = vhc_fe_send(dev, &m, &log->fd, 1);
	/* The backend answers SET_LOG_BASE (the body varies between peers). */
	if (!r)
		r = vhc_fe_reply(dev, &m, VHC_VU_SET_LOG_BASE, false);
	if (!r) {
		fe->log = *log;
		fe->log_set = true;
	}
	return r;
}

int vhc_fe_set_log_fd(struct vhostctl_dev *dev, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = vhc_fe_call(dev, VHC_VU_SET_LOG_FD, NULL, 0, fd >= 0 ? &fd : NULL, fd >= 0, false);

	if (!r)
		fe->log_efd = fd;
	return r;
}

VHC_EXPORT int vhostctl_vu_set_mem_table(struct vhostctl_dev *dev,
					 const struct vhostctl_vu_region *regions, unsigned int n)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (n && !regions)
		return vhc_err(EINVAL);
	return vhc_ret(vhc_fe_set_regions(dev, regions, n));
}

VHC_EXPORT int vhostctl_vu_max_mem_slots(struct vhostctl_dev *dev)
{
	if (!fe_of(dev))
		return vhc_err(dev ? ENOTTY : EINVAL);
	return vhc_ret(fe_max_slots(dev));
}

VHC_EXPORT int vhostctl_vu_get_inflight(struct vhostctl_dev *dev, unsigned int num_queues,
					unsigned int queue_size)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_vu_msg m;
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_INFLIGHT_SHMFD))
		return vhc_err(EOPNOTSUPP);
	if (!num_queues || num_queues > fe->queues || !queue_size || queue_size > 32768)
		return vhc_err(EINVAL);
	vhc_vu_msg_init(&m, VHC_VU_GET_INFLIGHT_FD, 0, sizeof(m.p.inflight));
	memset(&m.p.inflight, 0, sizeof(m.p.inflight));
	m.p.inflight.num_queues = (uint16_t)num_queues;
	m.p.inflight.queue_size = (uint16_t)queue_size;
	r = vhc_fe_send(dev, &m, NULL, 0) ?: vhc_fe_reply(dev, &m, VHC_VU_GET_INFLIGHT_FD, false);
	if (r)
		return vhc_ret(r);
	if (m.nfds != 1 || !m.p.inflight.mmap_size) {
		vhc_vu_msg_close_fds(&m);
		return vhc_err(EPROTO);
	}
	if (fe->infl_fd >= 0)
		close(fe->infl_fd);
	fe->infl_fd = m.fds[0];
	fe->infl = m.p.inflight;
	fe->infl.num_queues = (uint16_t)num_queues;
	fe->infl.queue_size = (uint16_t)queue_size;
	return 0;
}

/* Split ring: the used index the driver sees, read through our mapping. */
bool vhc_fe_used_idx(const struct vu_fe *fe, const struct fe_vring *vr, uint16_t *idx)
{
	for (unsigned int i = 0; i < fe->nregions; i++) {
		const struct vhostctl_vu_region *r = &fe->regions[i];

		if (vr->addr.used >= r->uaddr && vr->addr.used - r->uaddr + 4 <= r->size) {
			*idx = __atomic_load_n((uint16_t *)(uintptr_t)(vr->addr.used + 2),
					       __ATOMIC_ACQUIRE);
			return true;
		}
	}
	return false;
}
