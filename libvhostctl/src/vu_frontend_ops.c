// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user frontend, the device handle's ops: owner, features, rings,
 * config, status and reset, and vhostctl_vu_reconnect(), which replays all
 * that was sent to a restarted backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vu_fe.h"

/* ---- ops ---------------------------------------------------------------- */

static int vu_set_owner(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;
	int r = vhc_fe_call(dev, VHC_VU_SET_OWNER, NULL, 0, NULL, 0, false);

	if (!r)
		fe->owner = true;
	return r;
}

static int vu_reset_owner(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	fe->owner = false;
	return vhc_fe_call(dev, VHC_VU_RESET_OWNER, NULL, 0, NULL, 0, false);
}

static int vu_get_features(struct vhostctl_dev *dev, uint64_t *features)
{
	struct vu_fe *fe = dev->priv;
	int r = vhc_fe_get_u64(dev, VHC_VU_GET_FEATURES, &fe->features);

	if (!r)
		*features = fe->features;
	return r;
}

static int vu_set_features(struct vhostctl_dev *dev, uint64_t features)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (features & ~fe->features)
		return -EOPNOTSUPP;
	/* The protocol-features bit stays on once negotiated: it is the transport's. */
	if (fe->features & VHC_BIT(VHC_F_PROTOCOL_FEATURES))
		features |= VHC_BIT(VHC_F_PROTOCOL_FEATURES);
	r = vhc_fe_call(dev, VHC_VU_SET_FEATURES, &features, 8, NULL, 0, false);
	if (!r) {
		fe->acked = features;
		fe->features_set = true;
	}
	return r;
}

static int check_index(struct vhostctl_dev *dev, unsigned int index)
{
	struct vu_fe *fe = dev->priv;

	return index < fe->queues ? 0 : -ENOBUFS;
}

static int send_state(struct vhostctl_dev *dev, uint32_t req, unsigned int index, unsigned int num)
{
	struct vhc_vu_state s = { .index = index, .num = num };

	return vhc_fe_call(dev, req, &s, sizeof(s), NULL, 0, false);
}

static int vu_set_vring_num(struct vhostctl_dev *dev, unsigned int index, unsigned int num)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_state(dev, VHC_VU_SET_VRING_NUM, index, num);

	if (!r)
		fe->vr[index].num = num;
	return r;
}

static int vu_set_vring_addr(struct vhostctl_dev *dev, const struct vhostctl_vring_addr *a)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_addr m = { .index = a->index, .flags = a->flags, .log = a->log };
	bool ok1, ok2, ok3;
	int r = check_index(dev, a->index);

	if (r)
		return r;
	/* Ring addresses travel as our user addresses. */
	m.desc = vhc_fe_gpa_to_uaddr(fe, a->desc, &ok1);
	m.avail = vhc_fe_gpa_to_uaddr(fe, a->avail, &ok2);
	m.used = vhc_fe_gpa_to_uaddr(fe, a->used, &ok3);
	if (!ok1 || !ok2 || !ok3)
		return -EFAULT;
	r = vhc_fe_call(dev, VHC_VU_SET_VRING_ADDR, &m, sizeof(m), NULL, 0, false);
	if (!r) {
		fe->vr[a->index].addr = m;
		fe->vr[a->index].addr_set = true;
	}
	return r;
}

static int vu_set_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int base)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_state(dev, VHC_VU_SET_VRING_BASE, index, base);

	if (!r) {
		fe->vr[index].base = base;
		fe->vr[index].base_set = true;
	}
	return r;
}

static int vu_get_vring_base(struct vhostctl_dev *dev, unsigned int index, unsigned int *base)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_msg m;
	int r = check_index(dev, index);

	if (r)
		return r;
	vhc_vu_msg_init(&m, VHC_VU_GET_VRING_BASE, 0, sizeof(m.p.state));
	m.p.state.index = index;
	m.p.state.num = 0;
	r = vhc_fe_send(dev, &m, NULL, 0) ?: vhc_fe_reply(dev, &m, VHC_VU_GET_VRING_BASE, false);
	if (r)
		return r;
	if (m.p.state.index != index)
		return -EPROTO;
	*base = m.p.state.num;
	fe->vr[index].base = m.p.state.num;
	fe->vr[index].base_set = true;
	/*
	 * The ring is stopped and the backend lets go of its fds (libvhost-user
	 * closes kick and call): a reconnect must not start it again, nor pass
	 * fds the caller may have closed since.
	 */
	fe->vr[index].kick = fe->vr[index].call = fe->vr[index].err = FD_UNSET;
	return 0;
}

/*
 * A ring fd message is acknowledged when REPLY_ACK is negotiated: a backend
 * may start serving the ring on its kick, and must hold the call fd by then.
 */
static int send_vring_fd(struct vhostctl_dev *dev, uint32_t req, unsigned int index, int fd)
{
	uint64_t v = index | (fd < 0 ? VHC_VU_VRING_NOFD : 0);

	return vhc_fe_call(dev, req, &v, 8, &fd, fd < 0 ? 0 : 1, true);
}

/*
 * Without REPLY_ACK, a request that has a reply: a backend handles messages
 * in order, so everything sent before has been handled once it answers.
 */
static int fe_barrier(struct vhostctl_dev *dev)
{
	uint64_t f;

	return vhc_fe_get_u64(dev, VHC_VU_GET_FEATURES, &f);
}

static int vu_set_vring_kick(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_vring_fd(dev, VHC_VU_SET_VRING_KICK, index, fd);

	/* The ring is the caller's from here: the backend holds its fds. */
	if (!r && !pf(fe, VHOSTCTL_VU_PF_REPLY_ACK))
		r = fe_barrier(dev);
	if (!r)
		fe->vr[index].kick = fd;
	return r;
}

static int vu_set_vring_call(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_vring_fd(dev, VHC_VU_SET_VRING_CALL, index, fd);

	if (!r)
		fe->vr[index].call = fd;
	return r;
}

static int vu_set_vring_err(struct vhostctl_dev *dev, unsigned int index, int fd)
{
	struct vu_fe *fe = dev->priv;
	int r = check_index(dev, index) ?: send_vring_fd(dev, VHC_VU_SET_VRING_ERR, index, fd);

	if (!r)
		fe->vr[index].err = fd;
	return r;
}

static int vu_set_vring_enable(struct vhostctl_dev *dev, unsigned int index, int enable)
{
	struct vu_fe *fe = dev->priv;
	int r;

	if (!(fe->acked & VHC_BIT(VHC_F_PROTOCOL_FEATURES)))
		return -EOPNOTSUPP;
	r = check_index(dev, index) ?: send_state(dev, VHC_VU_SET_VRING_ENABLE, index, !!enable);
	if (!r)
		fe->vr[index].enable = !!enable;
	return r;
}

static int vu_get_config(struct vhostctl_dev *dev, unsigned int offset, void *buf, unsigned int len)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_msg m;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_CONFIG))
		return -EOPNOTSUPP;
	if (!len || len > VHC_VU_MAX_CONFIG || !buf)
		return -EINVAL;
	vhc_vu_msg_init(&m, VHC_VU_GET_CONFIG, 0, 12 + len);
	memset(&m.p.config, 0, 12 + len);
	m.p.config.offset = offset;
	m.p.config.size = len;
	r = vhc_fe_send(dev, &m, NULL, 0) ?: vhc_fe_reply(dev, &m, VHC_VU_GET_CONFIG, false);
	if (r)
		return r;
	/* A reply of another size (0 included) is the backend's refusal. */
	if (m.hdr.size != 12 + len || m.p.config.size != len)
		return -EIO;
	memcpy(buf, m.p.config.data, len);
	return 0;
}

static int vu_set_config(struct vhostctl_dev *dev, unsigned int offset, const void *buf,
			 unsigned int len)
{
	struct vu_fe *fe = dev->priv;
	struct vhc_vu_config c = { .offset = offset, .size = len };

	if (!pf(fe, VHOSTCTL_VU_PF_CONFIG))
		return -EOPNOTSUPP;
	if (!len || len > VHC_VU_MAX_CONFIG || !buf)
		return -EINVAL;
	memcpy(c.data, buf, len);
	return vhc_fe_call(dev, VHC_VU_SET_CONFIG, &c, 12 + len, NULL, 0, true);
}

static int vu_get_status(struct vhostctl_dev *dev, uint8_t *status)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_STATUS))
		return -EOPNOTSUPP;
	r = vhc_fe_get_u64(dev, VHC_VU_GET_STATUS, &v);
	if (!r)
		*status = (uint8_t)v;
	return r;
}

static int vu_set_status(struct vhostctl_dev *dev, uint8_t status)
{
	struct vu_fe *fe = dev->priv;
	uint64_t v = status;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_STATUS))
		return -EOPNOTSUPP;
	r = vhc_fe_call(dev, VHC_VU_SET_STATUS, &v, 8, NULL, 0, true);
	if (!r) {
		fe->status = status;
		fe->status_set = true;
	}
	return r;
}

static int vu_reset(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	if (pf(fe, VHOSTCTL_VU_PF_RESET_DEVICE))
		return vhc_fe_call(dev, VHC_VU_RESET_DEVICE, NULL, 0, NULL, 0, true);
	if (pf(fe, VHOSTCTL_VU_PF_STATUS))
		return vu_set_status(dev, 0);
	return vhc_fe_call(dev, VHC_VU_RESET_OWNER, NULL, 0, NULL, 0, false);
}

static void vu_destroy(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = dev->priv;

	if (!fe)
		return;
	if (fe->chan >= 0)
		close(fe->chan);
	if (fe->infl_fd >= 0)
		close(fe->infl_fd);
	vhc_fe_postcopy_drop(fe);
	vhc_fe_shared_free(dev);
	free(fe->regions);
	free(fe->path);
	free(fe);
	dev->priv = NULL;
}

const struct vhc_dev_ops vhc_vu_ops = {
	.name = "vhost-user",
	.set_owner = vu_set_owner,
	.reset_owner = vu_reset_owner,
	.get_features = vu_get_features,
	.set_features = vu_set_features,
	.set_mem_table = vhc_fe_set_mem_table,
	.set_vring_num = vu_set_vring_num,
	.set_vring_addr = vu_set_vring_addr,
	.set_vring_base = vu_set_vring_base,
	.get_vring_base = vu_get_vring_base,
	.set_vring_kick = vu_set_vring_kick,
	.set_vring_call = vu_set_vring_call,
	.set_vring_err = vu_set_vring_err,
	.set_vring_enable = vu_set_vring_enable,
	.set_log_base = vhc_fe_set_log_base,
	.set_log_fd = vhc_fe_set_log_fd,
	.get_config = vu_get_config,
	.set_config = vu_set_config,
	.get_status = vu_get_status,
	.set_status = vu_set_status,
	.reset = vu_reset,
	.destroy = vu_destroy,
};

VHC_EXPORT int vhostctl_vu_reconnect(struct vhostctl_dev *dev)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhostctl_vu_region *regs;
	unsigned int nregs;
	int fd, r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	fd = vhc_fe_connect(fe);
	if (fd < 0)
		return vhc_ret(fd);
	close(dev->fd);
	dev->fd = fd;
	fe->broken = false;
	/* The userfaultfd was the old backend's. */
	vhc_fe_postcopy_drop(fe);
	r = vhc_fe_handshake(dev);
	if (r)
		return vhc_ret(r);
	if (fe->owner && (r = vu_set_owner(dev)))
		return vhc_ret(r);
	if (fe->features_set && (r = vhc_fe_call(dev, VHC_VU_SET_FEATURES, &fe->acked, 8, NULL, 0, false)))
		return vhc_ret(r);
	regs = fe->regions;
	nregs = fe->nregions;
	fe->regions = NULL;
	fe->nregions = 0;
	r = nregs ? vhc_fe_set_regions(dev, regs, nregs) : 0;
	if (r) {
		/* Keep the table for the next attempt. */
		free(fe->regions);
		fe->regions = regs;
		fe->nregions = nregs;
		return vhc_ret(r);
	}
	free(regs);
	if (fe->infl_fd >= 0) {
		if (!pf(fe, VHOSTCTL_VU_PF_INFLIGHT_SHMFD))
			return vhc_err(EPROTO);
		r = vhc_fe_call(dev, VHC_VU_SET_INFLIGHT_FD, &fe->infl, sizeof(fe->infl), &fe->infl_fd,
			    1, true);
		if (r)
			return vhc_ret(r);
	}
	/* Logging (a migration under way) goes on with the new backend. */
	if (fe->log_set && (r = vhc_fe_set_log_base(dev, &fe->log)))
		return vhc_ret(r);
	if (fe->log_efd != FD_UNSET && (r = vhc_fe_set_log_fd(dev, fe->log_efd)))
		return vhc_ret(r);
	for (unsigned int i = 0; i < fe->queues; i++) {
		struct fe_vring *vr = &fe->vr[i];
		uint32_t base = vr->base;
		uint16_t used;

		if (!vr->num)
			continue;
		/*
		 * The old backend could not report where it stopped: for a split
		 * ring restart at the used index (the backend's inflight region
		 * accounts for the rest).
		 */
		if (!(fe->acked & VHC_BIT(VHC_F_RING_PACKED)) && vr->addr_set &&
		    vhc_fe_used_idx(fe, vr, &used))
			base = used;
		r = send_state(dev, VHC_VU_SET_VRING_NUM, i, vr->num) ?:
		    send_state(dev, VHC_VU_SET_VRING_BASE, i, base);
		if (!r && vr->endian >= 0)
			r = vhc_fe_call(dev, VHC_VU_SET_VRING_ENDIAN,
				    &(struct vhc_vu_state){ .index = i, .num = (unsigned int)vr->endian },
				    8, NULL, 0, true);
		if (!r && vr->addr_set)
			r = vhc_fe_call(dev, VHC_VU_SET_VRING_ADDR, &vr->addr, sizeof(vr->addr), NULL, 0,
				    false);
		if (!r && vr->call != FD_UNSET)
			r = send_vring_fd(dev, VHC_VU_SET_VRING_CALL, i, vr->call);
		if (!r && vr->err != FD_UNSET)
			r = send_vring_fd(dev, VHC_VU_SET_VRING_ERR, i, vr->err);
		if (!r && vr->kick != FD_UNSET)
			r = send_vring_fd(dev, VHC_VU_SET_VRING_KICK, i, vr->kick);
		if (!r && vr->enable >= 0)
			r = send_state(dev, VHC_VU_SET_VRING_ENABLE, i, (unsigned int)vr->enable);
		if (r)
			return vhc_ret(r);
		vr->base = base;
	}
	if (fe->status_set && pf(fe, VHOSTCTL_VU_PF_STATUS)) {
		uint64_t v = fe->status;

		r = vhc_fe_call(dev, VHC_VU_SET_STATUS, &v, 8, NULL, 0, true);
		if (r)
			return vhc_ret(r);
	}
	/* A barrier: everything above has been handled when this is answered. */
	return vhc_ret(fe_barrier(dev));
}

VHC_EXPORT int vhostctl_vu_kick(struct vhostctl_dev *dev, unsigned int index)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_INBAND_NOTIFICATIONS))
		return vhc_err(EOPNOTSUPP);
	if (index >= fe->queues)
		return vhc_err(ENOBUFS);
	/* Pipelined: a kick is a hint, and the spec gives it no reply. */
	return vhc_ret(send_state(dev, VHC_VU_VRING_KICK, index, 0));
}

VHC_EXPORT int vhostctl_vu_inband_calls(struct vhostctl_dev *dev, unsigned int index)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (index >= fe->queues)
		return vhc_err(ENOBUFS);
	return (int)(fe->vr[index].inband_calls & INT32_MAX);
}

VHC_EXPORT int vhostctl_vu_set_vring_endian(struct vhostctl_dev *dev, unsigned int index,
					    int big_endian)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_vu_state st = { .index = index, .num = big_endian ? 1 : 0 };
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_CROSS_ENDIAN))
		return vhc_err(EOPNOTSUPP);
	if (index >= fe->queues)
		return vhc_err(ENOBUFS);
	/* Only meaningful on a stopped ring: the backend reads it at the next start. */
	r = vhc_fe_call(dev, VHC_VU_SET_VRING_ENDIAN, &st, sizeof(st), NULL, 0, true);
	if (!r)
		fe->vr[index].endian = (int)st.num;
	return vhc_ret(r);
}
