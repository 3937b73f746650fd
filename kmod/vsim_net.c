// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim net class: every frame transmitted on queue pair N is
 * looped back to the receive queue of pair N when it passes the MAC filter
 * (broadcast, multicast, or the device's own address). A control queue
 * accepts MAC_ADDR_SET and MQ_VQ_PAIRS_SET.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/virtio_net.h>
#include <uapi/linux/vdpa.h>
#include "vsim.h"

#define VSIM_NET_MAX_VQP	8
#define VSIM_NET_MAX_MTU	9000
#define VSIM_NET_HDR_LEN	sizeof(struct virtio_net_hdr_v1)
#define VSIM_NET_BUF_LEN	(VSIM_NET_HDR_LEN + VLAN_ETH_HLEN + \
				 VSIM_NET_MAX_MTU)
/* requests per queue before the worker yields */
#define VSIM_NET_BUDGET		64

/* data queues use group 0, their rings group 2; the CVQ uses group 1 */
#define VSIM_NET_GROUP_DATA	0
#define VSIM_NET_GROUP_CVQ	1
#define VSIM_NET_GROUP_DESC	2
#define VSIM_NET_NGROUPS	3
#define VSIM_NET_NAS		3

#define VSIM_NET_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | \
				 BIT_ULL(VIRTIO_F_ANY_LAYOUT) | \
				 BIT_ULL(VIRTIO_F_RING_PACKED) | \
				 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) | \
				 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | \
				 BIT_ULL(VIRTIO_NET_F_MAC) | \
				 BIT_ULL(VIRTIO_NET_F_MTU) | \
				 BIT_ULL(VIRTIO_NET_F_STATUS) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_VQ) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
				 BIT_ULL(VIRTIO_NET_F_MQ))
#define VSIM_NET_REQUIRED	(BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM))

struct vsim_net_qstats {
	u64 packets;
	u64 bytes;
	u64 drops;
	u64 errors;
};

struct vsim_net {
	struct vsim_dev sim;		/* must stay first */
	u16 max_vqp;
	u16 cur_vqp;			/* pairs enabled by MQ_VQ_PAIRS_SET */
	u64 tx_seen;			/* frames seen, for drop_every */
	u64 cvq_requests;
	u64 cvq_successes;
	u64 cvq_errors;
	struct vsim_net_qstats *qstats;	/* one per vq, under sim.lock */
	u8 *buf;			/* frame bounce buffer, under sim.lock */
};

static struct vdpa_mgmt_dev vsim_net_mgmt;

static struct vsim_net *to_net(struct vsim_dev *sim)
{
	return container_of(sim, struct vsim_net, sim);
}

static struct virtio_net_config *net_config(struct vsim_dev *sim)
{
	return (struct virtio_net_config *)sim->config;
}

/* Index of the control queue under the negotiated (or offered) features. */
static u16 vsim_net_cvq_index(struct vsim_dev *sim)
{
	u64 f = (sim->status & VIRTIO_CONFIG_S_FEATURES_OK) ?
		sim->features : sim->dev_features;

	return (f & BIT_ULL(VIRTIO_NET_F_MQ)) ? 2 * to_net(sim)->max_vqp : 2;
}

static bool vsim_net_is_cvq(struct vsim_dev *sim, u16 idx)
{
	return (sim->dev_features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)) &&
	       idx == vsim_net_cvq_index(sim);
}

static u32 vsim_net_vq_group(struct vsim_dev *sim, u16 idx)
{
	return vsim_net_is_cvq(sim, idx) ? VSIM_NET_GROUP_CVQ :
					    VSIM_NET_GROUP_DATA;
}

static u32 vsim_net_vq_desc_group(struct vsim_dev *sim, u16 idx)
{
	return vsim_net_is_cvq(sim, idx) ? VSIM_NET_GROUP_CVQ :
					    VSIM_NET_GROUP_DESC;
}

static void vsim_net_set_mac(struct vsim_dev *sim, const u8 *mac)
{
	unsigned long flags;

	spin_lock_irqsave(&sim->config_lock, flags);
	ether_addr_copy(net_config(sim)->mac, mac);
	spin_unlock_irqrestore(&sim->config_lock, flags);
}

static bool vsim_net_accept(struct vsim_dev *sim, const u8 *dst)
{
	unsigned long flags;
	bool ok;

	if (is_multicast_ether_addr(dst))	/* includes broadcast */
		return true;
	spin_lock_irqsave(&sim->config_lock, flags);
	ok = ether_addr_equal(dst, net_config(sim)->mac);
	spin_unlock_irqrestore(&sim->config_lock, flags);
	return ok;
}

static u8 vsim_net_ctrl(struct vsim_net *net, u16 idx, struct vsim_req *req)
{
	struct vsim_dev *sim = &net->sim;
	struct virtio_net_ctrl_hdr ctrl;
	u8 mac[ETH_ALEN];
	__le16 pairs;
	u16 n;

	if (vsim_req_read(sim, idx, req, &ctrl, sizeof(ctrl)) != sizeof(ctrl))
		return VIRTIO_NET_ERR;

	switch (ctrl.class) {
	case VIRTIO_NET_CTRL_MAC:
		if (ctrl.cmd != VIRTIO_NET_CTRL_MAC_ADDR_SET ||
		    !vsim_has(sim, VIRTIO_NET_F_CTRL_MAC_ADDR))
			return VIRTIO_NET_ERR;
		if (vsim_req_read(sim, idx, req, mac, sizeof(mac)) !=
		    sizeof(mac) || !is_valid_ether_addr(mac))
			return VIRTIO_NET_ERR;
		vsim_net_set_mac(sim, mac);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MQ:
		if (ctrl.cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
		    !vsim_has(sim, VIRTIO_NET_F_MQ))
			return VIRTIO_NET_ERR;
		if (vsim_req_read(sim, idx, req, &pairs, sizeof(pairs)) !=
		    sizeof(pairs))
			return VIRTIO_NET_ERR;
		n = le16_to_cpu(pairs);
		if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > net->max_vqp)
			return VIRTIO_NET_ERR;
		net->cur_vqp = n;
		return VIRTIO_NET_OK;
	default:
		return VIRTIO_NET_ERR;
	}
}

static bool vsim_net_cvq(struct vsim_net *net)
{
	struct vsim_dev *sim = &net->sim;
	u16 idx = vsim_net_cvq_index(sim);
	struct vsim_vq *vq = &sim->vqs[array_index_nospec(idx, sim->nvqs)];
	struct vsim_req *req = sim->req;
	unsigned int n;
	u8 status;
	int ret;

	for (n = 0; n < VSIM_NET_BUDGET; n++) {
		ret = vsim_pop(sim, vq, idx, req);
		if (ret <= 0)
			goto out_check;
		net->cvq_requests++;
		status = vsim_net_ctrl(net, idx, req);
		ret = vsim_req_write(sim, idx, req, &status, sizeof(status));
		if (ret < 0)
			goto out_check;
		if (ret != sizeof(status) || status != VIRTIO_NET_OK)
			net->cvq_errors++;
		else
			net->cvq_successes++;
		ret = vsim_push(sim, vq, idx, req, req->written);
		if (ret)
			goto out_check;
	}
	return true;

out_check:
	if (ret < 0)
		vsim_needs_reset(sim, vq);
	return false;
}

/* Returns 1 if a frame was handled, 0 if TX is empty or stopped. */
static int vsim_net_xmit_one(struct vsim_net *net, u16 qp)
{
	struct vsim_dev *sim = &net->sim;
	u16 rxi = 2 * qp, txi = 2 * qp + 1;
	struct vsim_vq *rxq = &sim->vqs[rxi], *txq = &sim->vqs[txi];
	struct vsim_net_qstats *rxs = &net->qstats[rxi];
	struct vsim_net_qstats *txs = &net->qstats[txi];
	struct vsim_req *req = sim->req;
	unsigned int every;
	int len, ret;

	ret = vsim_pop(sim, txq, txi, req);
	if (ret < 0)
		goto err_stop_tx;
	if (!ret)
		return 0;

	if (req->out_len > VSIM_NET_BUF_LEN ||
	    req->out_len < VSIM_NET_HDR_LEN + ETH_HLEN) {
		txs->errors++;
		ret = vsim_push(sim, txq, txi, req, 0);
		if (ret)
			goto err_stop_tx;
		return 1;
	}
	len = vsim_req_read(sim, txi, req, net->buf, req->out_len);
	if (len < 0) {
		ret = len;
		goto err_stop_tx;
	}
	ret = vsim_push(sim, txq, txi, req, 0);
	if (ret)
		goto err_stop_tx;
	txs->packets++;
	txs->bytes += len - VSIM_NET_HDR_LEN;

	every = READ_ONCE(vsim_drop_every);
	net->tx_seen++;
	if (every && !(net->tx_seen % every)) {
		txs->drops++;
		return 1;
	}
	if (!rxq->ready || qp >= net->cur_vqp ||
	    !vsim_net_accept(sim, net->buf + VSIM_NET_HDR_LEN)) {
		rxs->drops++;
		return 1;
	}

	ret = vsim_pop(sim, rxq, rxi, req);
	if (ret < 0)
		goto err_stop_rx;
	if (!ret) {
		/* no receive buffer posted */
		rxs->drops++;
		return 1;
	}
	if (req->in_len < len) {
		rxs->errors++;
		ret = vsim_push(sim, rxq, rxi, req, 0);
		if (ret)
			goto err_stop_rx;
		return 1;
	}
	ret = vsim_req_write(sim, rxi, req, net->buf, len);
	if (ret < 0)
		goto err_stop_rx;
	ret = vsim_push(sim, rxq, rxi, req, len);
	if (ret)
		goto err_stop_rx;
	rxs->packets++;
	rxs->bytes += len - VSIM_NET_HDR_LEN;
	return 1;

err_stop_tx:
	txs->errors++;
	vsim_needs_reset(sim, txq);
	return 0;
err_stop_rx:
	rxs->errors++;
	vsim_needs_reset(sim, rxq);
	return 0;
}

static void vsim_net_work(struct vsim_dev *sim)
{
	struct vsim_net *net = to_net(sim);
	bool more = false;
	unsigned int i, n;
	u16 qp, pairs;

	if (vsim_has(sim, VIRTIO_NET_F_CTRL_VQ))
		more = vsim_net_cvq(net);

	pairs = vsim_has(sim, VIRTIO_NET_F_MQ) ? net->max_vqp : 1;
	for (qp = 0; qp < pairs; qp++) {
		for (n = 0; n < VSIM_NET_BUDGET; n++)
			if (!vsim_net_xmit_one(net, qp))
				break;
		if (n == VSIM_NET_BUDGET)
			more = true;
	}

	for (i = 0; i < sim->nvqs; i++)
		vsim_notify(sim, &sim->vqs[i]);
	if (more)
		vsim_schedule(sim);
}

static int vsim_net_put_stat(struct sk_buff *msg, const char *name, u64 val)
{
	if (nla_put_string(msg, VDPA_ATTR_DEV_VENDOR_ATTR_NAME, name) ||
	    nla_put_u64_64bit(msg, VDPA_ATTR_DEV_VENDOR_ATTR_VALUE, val,
			      VDPA_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}

static int vsim_net_vq_stats(struct vsim_dev *sim, u16 idx,
			     struct sk_buff *msg,
			     struct netlink_ext_ack *extack)
{
	struct vsim_net *net = to_net(sim);
	struct vsim_net_qstats *s = &net->qstats[idx];
	int ret = 0;

	if (vsim_net_is_cvq(sim, idx)) {
		ret |= vsim_net_put_stat(msg, "cvq requests",
					 net->cvq_requests);
		ret |= vsim_net_put_stat(msg, "cvq successes",
					 net->cvq_successes);
		ret |= vsim_net_put_stat(msg, "cvq errors", net->cvq_errors);
	} else if (idx % 2 == 0) {
		ret |= vsim_net_put_stat(msg, "rx packets", s->packets);
		ret |= vsim_net_put_stat(msg, "rx bytes", s->bytes);
		ret |= vsim_net_put_stat(msg, "rx errors", s->errors);
		ret |= vsim_net_put_stat(msg, "rx drops", s->drops);
	} else {
		ret |= vsim_net_put_stat(msg, "tx packets", s->packets);
		ret |= vsim_net_put_stat(msg, "tx bytes", s->bytes);
		ret |= vsim_net_put_stat(msg, "tx errors", s->errors);
		ret |= vsim_net_put_stat(msg, "tx drops", s->drops);
	}
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "statistics do not fit the message");
		return -EMSGSIZE;
	}
	return 0;
}

static void vsim_net_reset(struct vsim_dev *sim)
{
	struct vsim_net *net = to_net(sim);

	/* without MQ_VQ_PAIRS_SET only the first pair carries traffic */
	net->cur_vqp = 1;
}

static void vsim_net_free(struct vsim_dev *sim)
{
	struct vsim_net *net = to_net(sim);

	kvfree(net->buf);
	kfree(net->qstats);
}

static const struct vsim_class vsim_net_class = {
	.device_id	= VIRTIO_ID_NET,
	.work		= vsim_net_work,
	.vq_stats	= vsim_net_vq_stats,
	.vq_group	= vsim_net_vq_group,
	.vq_desc_group	= vsim_net_vq_desc_group,
	.reset		= vsim_net_reset,
	.free		= vsim_net_free,
	.features	= VSIM_NET_FEATURES,
	.required_features = VSIM_NET_REQUIRED,
	.ngroups	= VSIM_NET_NGROUPS,
	.nas		= VSIM_NET_NAS,
	.alloc_size	= sizeof(struct vsim_net),
	.config_size	= sizeof(struct virtio_net_config),
};

static int vsim_net_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			    const struct vdpa_dev_set_config *config)
{
	struct vsim_attr attr = {
		.cls	= &vsim_net_class,
		.name	= name,
		.config	= config,
	};
	struct virtio_net_config *cfg;
	u16 max_vqp = 1, mtu = ETH_DATA_LEN;
	struct vsim_dev *sim;
	struct vsim_net *net;
	u8 mac[ETH_ALEN];
	int ret;

	/*
	 * dev_add has no extack in 6.12: say why in the log, return the
	 * errno the netlink caller sees.
	 */
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR)) {
		if (!is_valid_ether_addr(config->net.mac)) {
			pr_warn("%s: invalid MAC address\n",
				name);
			return -EINVAL;
		}
		ether_addr_copy(mac, config->net.mac);
	} else {
		eth_random_addr(mac);
	}
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU)) {
		mtu = config->net.mtu;
		if (mtu < ETH_MIN_MTU || mtu > VSIM_NET_MAX_MTU) {
			pr_warn("%s: mtu %u outside [%u, %u]\n",
				name, mtu, ETH_MIN_MTU, VSIM_NET_MAX_MTU);
			return -EINVAL;
		}
	}
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP)) {
		max_vqp = config->net.max_vq_pairs;
		if (!max_vqp || max_vqp > VSIM_NET_MAX_VQP) {
			pr_warn("%s: max_vqp %u outside [1, %u]\n",
				name, max_vqp, VSIM_NET_MAX_VQP);
			return -EINVAL;
		}
	}

	attr.nvqs = 2 * max_vqp + 1;
	sim = vsim_create(&attr);
	if (IS_ERR(sim))
		return PTR_ERR(sim);
	net = to_net(sim);
	net->max_vqp = max_vqp;
	net->cur_vqp = 1;

	ret = -EINVAL;
	if (max_vqp > 1 && !(sim->dev_features & BIT_ULL(VIRTIO_NET_F_MQ))) {
		pr_warn("%s: max_vqp > 1 needs MQ\n", name);
		goto err_put_device;
	}

	ret = -ENOMEM;
	net->qstats = kcalloc(attr.nvqs, sizeof(*net->qstats), GFP_KERNEL);
	net->buf = kvmalloc(VSIM_NET_BUF_LEN, GFP_KERNEL);
	if (!net->qstats || !net->buf)
		goto err_put_device;

	cfg = net_config(sim);
	ether_addr_copy(cfg->mac, mac);
	cfg->status = (__force __virtio16)cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	cfg->max_virtqueue_pairs = (__force __virtio16)cpu_to_le16(max_vqp);
	cfg->mtu = (__force __virtio16)cpu_to_le16(mtu);

	sim->vdpa.mdev = &vsim_net_mgmt;
	ret = _vdpa_register_device(&sim->vdpa, attr.nvqs);
	if (ret)
		goto err_put_device;
	return 0;

err_put_device:
	put_device(&sim->vdpa.dev);
	return ret;
}

static void vsim_net_dev_del(struct vdpa_mgmt_dev *mdev,
			     struct vdpa_device *vdpa)
{
	_vdpa_unregister_device(vdpa);
}

static int vsim_net_dev_set_attr(struct vdpa_mgmt_dev *mdev,
				 struct vdpa_device *vdpa,
				 const struct vdpa_dev_set_config *config)
{
	struct vsim_dev *sim = vdpa_to_vsim(vdpa);

	if (config->mask & ~BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR))
		return -EOPNOTSUPP;
	if (!(config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR)))
		return 0;
	if (!is_valid_ether_addr(config->net.mac))
		return -EINVAL;
	vsim_net_set_mac(sim, config->net.mac);
	return 0;
}

static const struct vdpa_mgmtdev_ops vsim_net_mgmt_ops = {
	.dev_add	= vsim_net_dev_add,
	.dev_del	= vsim_net_dev_del,
	.dev_set_attr	= vsim_net_dev_set_attr,
};

static struct virtio_device_id vsim_net_id_table[] = {
	{ VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct device vsim_net_mgmt_dev = {
	.init_name	= "vhostctl_sim_net",
	.release	= vsim_mgmt_release,
};

static struct vdpa_mgmt_dev vsim_net_mgmt = {
	.device			= &vsim_net_mgmt_dev,
	.id_table		= vsim_net_id_table,
	.ops			= &vsim_net_mgmt_ops,
	.config_attr_mask	= BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR) |
				  BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU) |
				  BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP) |
				  BIT_ULL(VDPA_ATTR_DEV_FEATURES),
	.max_supported_vqs	= 2 * VSIM_NET_MAX_VQP + 1,
	.supported_features	= VSIM_NET_FEATURES,
};

int vsim_net_init(void)
{
	return vsim_mgmt_register(&vsim_net_mgmt);
}

void vsim_net_exit(void)
{
	vsim_mgmt_unregister(&vsim_net_mgmt);
}
