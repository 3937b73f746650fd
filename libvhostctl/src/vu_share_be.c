// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The backend's side of shared memory regions, shared objects and the GPU
 * socket: the regions' sizes and GET_SHMEM_CONFIG's answer, the requests it
 * sends on the backend channel (SHMEM_MAP/UNMAP, SHARED_OBJECT_ADD/REMOVE/
 * LOOKUP) and their answers, and the application's callbacks for
 * GET_SHARED_OBJECT and GPU_SET_SOCKET.  The frontend's side: vu_shmem.c,
 * vu_shobj.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vu_backend.h"
#include "vu_shpriv.h"

/* The most address space a backend may declare (the frontend's limit too). */
#define SHM_MAX_TOTAL VHC_SHM_MAX_TOTAL

struct vhc_be_shared *vhc_be_shared_get(struct vhostctl_vu_backend *be)
{
	if (!be->shared)
		be->shared = calloc(1, sizeof(*be->shared));
	return be->shared;
}

/* The shared state of a backend that serves no frontend yet; NULL with *r set. */
static struct vhc_be_shared *shared_idle(struct vhostctl_vu_backend *be, int *r)
{
	*r = !be ? -EINVAL : be->conn_fd >= 0 ? -EBUSY : 0;
	if (*r)
		return NULL;
	if (!vhc_be_shared_get(be))
		*r = -ENOMEM;
	return be->shared;
}

/* Offer a protocol feature unless the application's option left it out. */
void vhc_be_offer(struct vhostctl_vu_backend *be, int bit, bool on)
{
	if (on && (!be->o.protocol_features || (be->o.protocol_features & VHC_BIT(bit))))
		be->proto |= VHC_BIT(bit);
	else
		be->proto &= ~VHC_BIT(bit);
}

VHC_EXPORT int vhostctl_vu_backend_set_shmem(struct vhostctl_vu_backend *be, const uint64_t *sizes,
					     unsigned int n)
{
	struct vhc_be_shared *sh;
	int r;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), total = 0;

	if (!be || n > VHOSTCTL_VU_SHMEM_MAX_REGIONS || (n && !sizes))
		return vhc_err(EINVAL);
	for (unsigned int i = 0; i < n; i++) {
		if (sizes[i] & (pg - 1) || sizes[i] > SHM_MAX_TOTAL - total)
			return vhc_err(EINVAL);
		total += sizes[i];
	}
	sh = shared_idle(be, &r);
	if (!sh)
		return vhc_err(-r);
	if (n)
		memcpy(sh->shm_size, sizes, n * sizeof(*sizes));
	sh->nshm = n;
	vhc_be_offer(be, VHOSTCTL_VU_PF_SHMEM, n > 0);
	return 0;
}

int vhc_be_get_shmem_config(struct vhc_be_req *c)
{
	struct vhc_vu_shmem_config *cfg = (struct vhc_vu_shmem_config *)c->m->p.raw;
	struct vhc_be_shared *sh = c->be->shared;

	memset(cfg, 0, sizeof(*cfg));
	if (sh) {
		cfg->nregions = sh->nshm;
		memcpy(cfg->sizes, sh->shm_size, sh->nshm * sizeof(cfg->sizes[0]));
	}
	c->m->hdr.flags = VHC_VU_VERSION | VHC_VU_REPLY;
	c->m->hdr.size = sizeof(*cfg);
	be_log(c->be, VHOSTCTL_LOG_DEBUG, "reply GET_SHMEM_CONFIG: %u regions", cfg->nregions);
	return vhc_vu_send_fds(c->be->conn_fd, c->m, NULL, 0) ?: 1;
}

static int be_shmem_req(struct vhostctl_vu_backend *be, uint32_t req, unsigned int shmid,
			uint64_t shm_offset, int fd, uint64_t fd_offset, uint64_t len,
			unsigned int flags)
{
	struct vhc_vu_mmap mm = {
		.shmid = (uint8_t)shmid, .fd_offset = fd_offset, .shm_offset = shm_offset,
		.len = len, .flags = flags,
	};

	if (!be || shmid >= VHOSTCTL_VU_SHMEM_MAX_REGIONS ||
	    (req == VHC_VU_BE_SHMEM_MAP && (fd < 0 || flags & ~VHOSTCTL_VU_SHMEM_MAP_RW)))
		return vhc_err(EINVAL);
	if (be->conn_fd >= 0 && !pf(be, VHOSTCTL_VU_PF_SHMEM))
		return vhc_err(EOPNOTSUPP);
	return vhc_ret(vhc_be_chan_call(be, req, &mm, sizeof(mm), fd, false, NULL));
}

VHC_EXPORT int vhostctl_vu_backend_shmem_map(struct vhostctl_vu_backend *be, unsigned int shmid,
					     uint64_t shm_offset, int fd, uint64_t fd_offset,
					     uint64_t len, unsigned int flags)
{
	return be_shmem_req(be, VHC_VU_BE_SHMEM_MAP, shmid, shm_offset, fd, fd_offset, len, flags);
}

VHC_EXPORT int vhostctl_vu_backend_shmem_unmap(struct vhostctl_vu_backend *be, unsigned int shmid,
					       uint64_t shm_offset, uint64_t len)
{
	return be_shmem_req(be, VHC_VU_BE_SHMEM_UNMAP, shmid, shm_offset, -1, 0, len, 0);
}

/*
 * Send a request on the backend channel and, with REPLY_ACK or when it has
 * an answer of its own (always_reply), wait for it: -EIO when refused; the
 * answer's fd in *reply_fd when one is expected.
 */
int vhc_be_chan_call(struct vhostctl_vu_backend *be, uint32_t req, const void *payload,
		     uint32_t size, int fd, bool always_reply, int *reply_fd)
{
	bool ack = pf(be, VHOSTCTL_VU_PF_REPLY_ACK);
	struct vhc_vu_msg m;
	char why[96] = "";
	int r;

	if (be->chan_fd < 0 || !pf(be, VHOSTCTL_VU_PF_BACKEND_REQ))
		return -ENOTCONN;
	vhc_vu_msg_init(&m, req, ack ? VHC_VU_NEED_REPLY : 0, size);
	memcpy(m.p.raw, payload, size);
	be_log(be, VHOSTCTL_LOG_DEBUG, "backend request %s flags 0x%x size %u fds %u",
	       vhc_vu_be_req_name(req), m.hdr.flags, size, fd >= 0);
	r = vhc_vu_send_fds(be->chan_fd, &m, &fd, fd >= 0);
	if (r || !(ack || always_reply))
		return r;
	r = vhc_vu_recv(be->chan_fd, &m, 5000, why, sizeof(why));
	if (r) {
		be_log(be, VHOSTCTL_LOG_ERR, "backend request %s: no answer: %s",
		       vhc_vu_be_req_name(req), why);
		return r;
	}
	if (m.hdr.request != req || m.hdr.size != 8 ||
	    m.hdr.flags != (VHC_VU_VERSION | VHC_VU_REPLY) || m.nfds > (reply_fd ? 1u : 0u) ||
	    (reply_fd && !m.p.u64 && m.nfds != 1)) {
		be_log(be, VHOSTCTL_LOG_ERR,
		       "backend request %s: bad answer (request %u flags 0x%x size %u fds %u)",
		       vhc_vu_be_req_name(req), m.hdr.request, m.hdr.flags, m.hdr.size, m.nfds);
		vhc_vu_msg_close_fds(&m);
		return -EPROTO;
	}
	be_log(be, VHOSTCTL_LOG_DEBUG, "answer %s: %llu fds %u", vhc_vu_be_req_name(req),
	       (unsigned long long)m.p.u64, m.nfds);
	if (m.p.u64) {
		vhc_vu_msg_close_fds(&m);
		return -EIO;
	}
	if (reply_fd)
		*reply_fd = m.fds[0];
	return 0;
}

static int be_obj_req(struct vhostctl_vu_backend *be, uint32_t req, const uint8_t uuid[16],
		      int *fd)
{
	int r;

	if (!be || !uuid || (req == VHC_VU_BE_SHARED_OBJECT_LOOKUP && !fd))
		return vhc_err(EINVAL);
	if (be->conn_fd >= 0 && !pf(be, VHOSTCTL_VU_PF_SHARED_OBJECT))
		return vhc_err(EOPNOTSUPP);
	r = vhc_be_chan_call(be, req, uuid, 16, -1, req == VHC_VU_BE_SHARED_OBJECT_LOOKUP, fd);
	if (r == -EIO && req == VHC_VU_BE_SHARED_OBJECT_LOOKUP)
		r = -ENOENT;
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_vu_backend_object_add(struct vhostctl_vu_backend *be, const uint8_t uuid[16])
{
	return be_obj_req(be, VHC_VU_BE_SHARED_OBJECT_ADD, uuid, NULL);
}

VHC_EXPORT int vhostctl_vu_backend_object_remove(struct vhostctl_vu_backend *be,
						 const uint8_t uuid[16])
{
	return be_obj_req(be, VHC_VU_BE_SHARED_OBJECT_REMOVE, uuid, NULL);
}

VHC_EXPORT int vhostctl_vu_backend_object_lookup(struct vhostctl_vu_backend *be,
						 const uint8_t uuid[16], int *fd)
{
	return be_obj_req(be, VHC_VU_BE_SHARED_OBJECT_LOOKUP, uuid, fd);
}

VHC_EXPORT int vhostctl_vu_backend_set_objects(struct vhostctl_vu_backend *be,
					       vhostctl_vu_object_fn fn)
{
	int r;
	struct vhc_be_shared *sh = shared_idle(be, &r);

	if (!sh)
		return vhc_err(-r);
	sh->obj_fn = fn;
	vhc_be_offer(be, VHOSTCTL_VU_PF_SHARED_OBJECT, true);
	return 0;
}

/* GET_SHARED_OBJECT: u64 0 and the fd, or 1 and none. */
int vhc_be_get_shared_object(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_be_shared *sh = be->shared;
	uint8_t uuid[16];
	int fd = -ENOENT;

	memcpy(uuid, c->m->p.raw, 16);
	if (sh && sh->obj_fn)
		fd = sh->obj_fn(be, uuid, be->o.ctx);
	c->m->hdr.flags = VHC_VU_VERSION | VHC_VU_REPLY;
	c->m->hdr.size = 8;
	c->m->p.u64 = fd < 0;
	be_log(be, VHOSTCTL_LOG_DEBUG, "reply GET_SHARED_OBJECT %s", fd < 0 ? "none" : "fd");
	return vhc_vu_send_fds(be->conn_fd, c->m, &fd, fd >= 0) ?: 1;
}

VHC_EXPORT int vhostctl_vu_backend_set_gpu_socket(struct vhostctl_vu_backend *be,
						  vhostctl_vu_gpu_socket_fn fn)
{
	int r;
	struct vhc_be_shared *sh = shared_idle(be, &r);

	if (!sh)
		return vhc_err(-r);
	sh->gpu_fn = fn;
	return 0;
}

/* GPU_SET_SOCKET: the fd goes to the application, or is refused (and closed by the caller). */
int vhc_be_gpu_set_socket(struct vhc_be_req *c)
{
	struct vhostctl_vu_backend *be = c->be;
	struct vhc_be_shared *sh = be->shared;

	if (!sh || !sh->gpu_fn) {
		snprintf(c->why, c->wl, "GPU_SET_SOCKET: no GPU socket callback");
		be_log(be, VHOSTCTL_LOG_WARNING, "%s", c->why);
		return 2;
	}
	if (sh->gpu_fn(be, c->fd, be->o.ctx) < 0)
		return 2;
	c->m->nfds = 0;	/* the application's now */
	return 0;
}
