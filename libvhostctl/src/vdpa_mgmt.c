// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vDPA management over the "vdpa" generic netlink family (libmnl).
 *
 * Replies are untrusted input like any peer's: every attribute is validated
 * for its type and length before use, strings must be NUL-terminated, and
 * a malformed message fails the request with -EPROTO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <vhostctl/vdpa.h>

#include "internal.h"
#include "kabi.h"
#include "vdpa_nl.h"

struct vhostctl_vdpa {
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t portid;
	uint32_t seq;
	char err[256];		/* extack message of the last failed request */
	char buf[32768];	/* requests and replies */
};

/* Attribute types we accept in replies, indexed by attribute number. */
static const enum mnl_attr_data_type vdpa_attr_type[VHC_VDPA_ATTR_MAX + 1] = {
	[VHC_VDPA_ATTR_MGMTDEV_BUS_NAME] = MNL_TYPE_NUL_STRING,
	[VHC_VDPA_ATTR_MGMTDEV_DEV_NAME] = MNL_TYPE_NUL_STRING,
	[VHC_VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES] = MNL_TYPE_U64,
	[VHC_VDPA_ATTR_DEV_NAME] = MNL_TYPE_NUL_STRING,
	[VHC_VDPA_ATTR_DEV_ID] = MNL_TYPE_U32,
	[VHC_VDPA_ATTR_DEV_VENDOR_ID] = MNL_TYPE_U32,
	[VHC_VDPA_ATTR_DEV_MAX_VQS] = MNL_TYPE_U32,
	[VHC_VDPA_ATTR_DEV_MAX_VQ_SIZE] = MNL_TYPE_U16,
	[VHC_VDPA_ATTR_DEV_MIN_VQ_SIZE] = MNL_TYPE_U16,
	[VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR] = MNL_TYPE_BINARY,
	[VHC_VDPA_ATTR_DEV_NET_STATUS] = MNL_TYPE_BINARY,	/* u8 or u16: by length */
	[VHC_VDPA_ATTR_DEV_NET_CFG_MAX_VQP] = MNL_TYPE_U16,
	[VHC_VDPA_ATTR_DEV_NET_CFG_MTU] = MNL_TYPE_U16,
	[VHC_VDPA_ATTR_DEV_NEGOTIATED_FEATURES] = MNL_TYPE_U64,
	[VHC_VDPA_ATTR_DEV_MGMTDEV_MAX_VQS] = MNL_TYPE_U32,
	[VHC_VDPA_ATTR_DEV_SUPPORTED_FEATURES] = MNL_TYPE_U64,
	[VHC_VDPA_ATTR_DEV_QUEUE_INDEX] = MNL_TYPE_U32,
	[VHC_VDPA_ATTR_DEV_VENDOR_ATTR_NAME] = MNL_TYPE_NUL_STRING,
	[VHC_VDPA_ATTR_DEV_VENDOR_ATTR_VALUE] = MNL_TYPE_U64,
	[VHC_VDPA_ATTR_DEV_FEATURES] = MNL_TYPE_U64,
	[VHC_VDPA_ATTR_DEV_BLK_CFG_CAPACITY] = MNL_TYPE_U64,
	[VHC_VDPA_ATTR_DEV_BLK_CFG_BLK_SIZE] = MNL_TYPE_U32,
};

int vhc_vdpa_parse_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	const struct nlattr *a;

	memset(tb, 0, sizeof(*tb) * (VHC_VDPA_ATTR_MAX + 1));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)))
		return -EPROTO;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		uint16_t type = mnl_attr_get_type(a);

		/* Attributes newer than ours are skipped, not trusted. */
		if (type > VHC_VDPA_ATTR_MAX || !vdpa_attr_type[type])
			continue;
		if (mnl_attr_validate(a, vdpa_attr_type[type]) < 0)
			return -EPROTO;
		if (type == VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR && mnl_attr_get_payload_len(a) != 6)
			return -EPROTO;
		if (type == VHC_VDPA_ATTR_DEV_NET_STATUS && mnl_attr_get_payload_len(a) != 1 &&
		    mnl_attr_get_payload_len(a) != 2)
			return -EPROTO;
		tb[type] = a;
	}
	/* The walk stops early on a truncated attribute: refuse the message. */
	if ((const char *)a != (const char *)mnl_nlmsg_get_payload_tail(nlh))
		return -EPROTO;
	return 0;
}

int vhc_vdpa_parse_mgmtdev(const struct nlattr **tb, struct vhostctl_vdpa_mgmtdev *m)
{
	memset(m, 0, sizeof(*m));
	if (!tb[VHC_VDPA_ATTR_MGMTDEV_DEV_NAME])
		return -EPROTO;
	m->name = mnl_attr_get_str(tb[VHC_VDPA_ATTR_MGMTDEV_DEV_NAME]);
	if (tb[VHC_VDPA_ATTR_MGMTDEV_BUS_NAME])
		m->bus = mnl_attr_get_str(tb[VHC_VDPA_ATTR_MGMTDEV_BUS_NAME]);
	if (tb[VHC_VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES])
		m->supported_classes = mnl_attr_get_u64(tb[VHC_VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES]);
	if (tb[VHC_VDPA_ATTR_DEV_MGMTDEV_MAX_VQS])
		m->max_vqs = mnl_attr_get_u32(tb[VHC_VDPA_ATTR_DEV_MGMTDEV_MAX_VQS]);
	if (tb[VHC_VDPA_ATTR_DEV_SUPPORTED_FEATURES])
		m->supported_features = mnl_attr_get_u64(tb[VHC_VDPA_ATTR_DEV_SUPPORTED_FEATURES]);
	return 0;
}

int vhc_vdpa_parse_dev(const struct nlattr **tb, struct vhostctl_vdpa_dev *d)
{
	memset(d, 0, sizeof(*d));
	if (!tb[VHC_VDPA_ATTR_DEV_NAME] || !tb[VHC_VDPA_ATTR_MGMTDEV_DEV_NAME])
		return -EPROTO;
	d->name = mnl_attr_get_str(tb[VHC_VDPA_ATTR_DEV_NAME]);
	d->mgmtdev = mnl_attr_get_str(tb[VHC_VDPA_ATTR_MGMTDEV_DEV_NAME]);
	if (tb[VHC_VDPA_ATTR_MGMTDEV_BUS_NAME])
		d->mgmtdev_bus = mnl_attr_get_str(tb[VHC_VDPA_ATTR_MGMTDEV_BUS_NAME]);
	if (tb[VHC_VDPA_ATTR_DEV_ID])
		d->device_id = mnl_attr_get_u32(tb[VHC_VDPA_ATTR_DEV_ID]);
	if (tb[VHC_VDPA_ATTR_DEV_VENDOR_ID])
		d->vendor_id = mnl_attr_get_u32(tb[VHC_VDPA_ATTR_DEV_VENDOR_ID]);
	if (tb[VHC_VDPA_ATTR_DEV_MAX_VQS])
		d->max_vqs = mnl_attr_get_u32(tb[VHC_VDPA_ATTR_DEV_MAX_VQS]);
	if (tb[VHC_VDPA_ATTR_DEV_MAX_VQ_SIZE])
		d->max_vq_size = mnl_attr_get_u16(tb[VHC_VDPA_ATTR_DEV_MAX_VQ_SIZE]);
	if (tb[VHC_VDPA_ATTR_DEV_MIN_VQ_SIZE])
		d->min_vq_size = mnl_attr_get_u16(tb[VHC_VDPA_ATTR_DEV_MIN_VQ_SIZE]);
	return 0;
}

void vhc_vdpa_parse_config(const struct nlattr **tb, struct vhostctl_vdpa_config *c)
{
	const struct nlattr *a;

	c->present = 0;
	if (tb[VHC_VDPA_ATTR_DEV_ID])
		c->device_id = mnl_attr_get_u32(tb[VHC_VDPA_ATTR_DEV_ID]);
	if ((a = tb[VHC_VDPA_ATTR_DEV_NEGOTIATED_FEATURES])) {
		c->negotiated_features = mnl_attr_get_u64(a);
		c->present |= VHOSTCTL_VDPA_CFG_NEGOTIATED;
	}
	if ((a = tb[VHC_VDPA_ATTR_DEV_FEATURES])) {
		c->device_features = mnl_attr_get_u64(a);
		c->present |= VHOSTCTL_VDPA_CFG_DEVICE_FEATURES;
	}
	if ((a = tb[VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR])) {
		memcpy(c->mac, mnl_attr_get_payload(a), 6);
		c->present |= VHOSTCTL_VDPA_CFG_MAC;
	}
	if ((a = tb[VHC_VDPA_ATTR_DEV_NET_STATUS])) {
		/* Declared u8, sent as u16 by the kernel: go by the length. */
		c->status = mnl_attr_get_payload_len(a) == 1 ? mnl_attr_get_u8(a) :
							     mnl_attr_get_u16(a);
		c->present |= VHOSTCTL_VDPA_CFG_STATUS;
	}
	if ((a = tb[VHC_VDPA_ATTR_DEV_NET_CFG_MAX_VQP])) {
		c->max_vq_pairs = mnl_attr_get_u16(a);
		c->present |= VHOSTCTL_VDPA_CFG_MAX_VQP;
	}
	if ((a = tb[VHC_VDPA_ATTR_DEV_NET_CFG_MTU])) {
		c->mtu = mnl_attr_get_u16(a);
		c->present |= VHOSTCTL_VDPA_CFG_MTU;
	}
	if ((a = tb[VHC_VDPA_ATTR_DEV_BLK_CFG_CAPACITY])) {
		c->capacity = mnl_attr_get_u64(a);
		c->present |= VHOSTCTL_VDPA_CFG_CAPACITY;
	}
	if ((a = tb[VHC_VDPA_ATTR_DEV_BLK_CFG_BLK_SIZE])) {
		c->blk_size = mnl_attr_get_u32(a);
		c->present |= VHOSTCTL_VDPA_CFG_BLK_SIZE;
	}
}

/* Split "[bus/]name" into the two attributes a request carries. */
int vhc_vdpa_put_mgmtdev(struct nlmsghdr *nlh, const char *handle)
{
	const char *slash = strchr(handle, '/');
	char bus[64];

	if (!*handle)
		return -EINVAL;
	if (slash) {
		size_t n = (size_t)(slash - handle);

		if (!n || n >= sizeof(bus) || !slash[1] || strchr(slash + 1, '/'))
			return -EINVAL;
		memcpy(bus, handle, n);
		bus[n] = '\0';
		mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_MGMTDEV_BUS_NAME, bus);
		handle = slash + 1;
	}
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_MGMTDEV_DEV_NAME, handle);
	return 0;
}

struct nlmsghdr *vhc_vdpa_msg(void *buf, uint16_t family, uint8_t cmd, uint16_t flags,
			      uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	/* A dump ends with NLMSG_DONE; anything else with an ACK. */
	nlh->nlmsg_flags = NLM_F_REQUEST | (flags & NLM_F_DUMP ? 0 : NLM_F_ACK) | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = VHC_VDPA_GENL_VERSION;
	return nlh;
}

/* Copy the extended ack message of an error reply into @err. */
void vhc_vdpa_extack(const struct nlmsghdr *nlh, size_t hdr, char *err, size_t len)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = hdr;
	const struct nlattr *a;

	err[0] = '\0';
	if (nlh->nlmsg_len < mnl_nlmsg_size(hdr) || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NLM_F_CAPPED the request's payload sits before the TLVs. */
	if (nlh->nlmsg_type == NLMSG_ERROR && !(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		size_t inner;

		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return;
		/* The echoed request must fit in this message, or there are no TLVs to read. */
		inner = MNL_ALIGN((size_t)e->msg.nlmsg_len - sizeof(struct nlmsghdr));
		if (inner > nlh->nlmsg_len - mnl_nlmsg_size(hdr))
			return;
		off += inner;
	}
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
			snprintf(err, len, "%s", mnl_attr_get_str(a));
			return;
		}
	}
}

struct walk {
	struct vhostctl_vdpa *vdpa;
	int (*each)(struct walk *w, const struct nlattr **tb);
	void *fn;
	void *ctx;
	void *out;
	int count;
	int stop;	/* a callback's non-zero return */
};

static int walk_data(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[VHC_VDPA_ATTR_MAX + 1];
	struct walk *w = data;
	int r;

	if (w->stop)
		return MNL_CB_OK;	/* drain the dump */
	r = vhc_vdpa_parse_attrs(nlh, tb);
	if (r < 0) {
		errno = -r;
		return MNL_CB_ERROR;
	}
	r = w->each ? w->each(w, tb) : 0;
	if (r < 0 && r != -ECANCELED) {
		errno = -r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* A reply's negative errno, or EPROTO when it is none (positive, or past -4095). */
static int errno_of(int error)
{
	return error < 0 && error > -4096 ? -error : EPROTO;
}

static int walk_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct walk *w = data;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	vhc_vdpa_extack(nlh, sizeof(*e), w->vdpa->err, sizeof(w->vdpa->err));
	errno = errno_of(e->error);
	return MNL_CB_ERROR;
}

/* The end of a dump: its payload is the dump's error code. */
static int walk_done(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;
	int error;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(error)))
		return MNL_CB_STOP;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	if (!error)
		return MNL_CB_STOP;
	vhc_vdpa_extack(nlh, sizeof(error), w->vdpa->err, sizeof(w->vdpa->err));
	errno = errno_of(error);
	return MNL_CB_ERROR;
}

/*
 * Every message of a datagram must lie inside it before libmnl walks it:
 * mnl_nlmsg_ok() compares the length as an int, so a header claiming more
 * than 2 GiB passes and the walk jumps out of the buffer.  -EPROTO if not.
 */
static int check_dgram(const void *buf, size_t n)
{
	size_t off = 0;

	while (n - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *h = (const void *)((const char *)buf + off);

		if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > n - off)
			return -EPROTO;
		off += MNL_ALIGN((size_t)h->nlmsg_len);
		if (off >= n)
			break;
	}
	return 0;
}

/* Send the request in vdpa->buf and run every reply through @data_cb. */
static int vdpa_request_cb(struct vhostctl_vdpa *vdpa, struct nlmsghdr *nlh, struct walk *w,
			   mnl_cb_t data_cb)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = walk_error,
		[NLMSG_DONE] = walk_done,
	};
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	vdpa->err[0] = '\0';
	w->vdpa = vdpa;
	if (mnl_socket_sendto(vdpa->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(vdpa->nl, vdpa->buf, sizeof(vdpa->buf));
		if (n < 0)
			return -errno;
		if (check_dgram(vdpa->buf, (size_t)n))
			return -EPROTO;
		r = mnl_cb_run2(vdpa->buf, (size_t)n, seq, vdpa->portid, data_cb, w, ctl,
				MNL_ARRAY_SIZE(ctl));
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			break;
	}
	return w->stop ? w->stop : w->count;
}

static int vdpa_request(struct vhostctl_vdpa *vdpa, struct nlmsghdr *nlh, struct walk *w)
{
	return vdpa_request_cb(vdpa, nlh, w, walk_data);
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	uint16_t *family = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
			*family = mnl_attr_get_u16(a);
	}
	return MNL_CB_OK;
}

VHC_EXPORT struct vhostctl_vdpa *vhostctl_vdpa_open(void)
{
	struct vhostctl_vdpa *vdpa;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int one = 1, e;
	ssize_t n;
	int r;

	vdpa = calloc(1, sizeof(*vdpa));
	if (!vdpa)
		return NULL;
	vdpa->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!vdpa->nl)
		goto err_free;
	if (mnl_socket_bind(vdpa->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err_close;
	/* Ask for the kernel's reasons, and not for copies of our requests. */
	mnl_socket_setsockopt(vdpa->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(vdpa->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	vdpa->portid = mnl_socket_get_portid(vdpa->nl);
	vdpa->seq = (uint32_t)time(NULL);

	nlh = mnl_nlmsg_put_header(vdpa->buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++vdpa->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VHC_VDPA_GENL_NAME);
	if (mnl_socket_sendto(vdpa->nl, nlh, nlh->nlmsg_len) < 0)
		goto err_close;
	do {
		n = mnl_socket_recvfrom(vdpa->nl, vdpa->buf, sizeof(vdpa->buf));
		if (n < 0)
			goto err_close;
		if (check_dgram(vdpa->buf, (size_t)n)) {
			errno = EPROTO;
			goto err_close;
		}
		r = mnl_cb_run(vdpa->buf, (size_t)n, vdpa->seq, vdpa->portid, family_cb,
			       &vdpa->family);
	} while (r > 0);
	if (r < 0)
		goto err_close;
	if (!vdpa->family) {
		errno = ENOENT;
		goto err_close;
	}
	return vdpa;

err_close:
	e = errno;
	mnl_socket_close(vdpa->nl);
	errno = e;
err_free:
	e = errno;
	free(vdpa);
	errno = e;
	return NULL;
}

VHC_EXPORT void vhostctl_vdpa_close(struct vhostctl_vdpa *vdpa)
{
	int e = errno;

	if (!vdpa)
		return;
	mnl_socket_close(vdpa->nl);
	free(vdpa);
	errno = e;
}

VHC_EXPORT const char *vhostctl_vdpa_error(const struct vhostctl_vdpa *vdpa)
{
	return vdpa ? vdpa->err : "";
}

static int each_mgmtdev(struct walk *w, const struct nlattr **tb)
{
	struct vhostctl_vdpa_mgmtdev m;
	vhostctl_vdpa_mgmtdev_fn fn = (vhostctl_vdpa_mgmtdev_fn)w->fn;
	int r = vhc_vdpa_parse_mgmtdev(tb, &m);

	if (r)
		return r;
	w->count++;
	if (fn && (r = fn(w->ctx, &m))) {
		w->stop = r;
		return -ECANCELED;
	}
	return 0;
}

VHC_EXPORT int vhostctl_vdpa_mgmtdev_list(struct vhostctl_vdpa *vdpa, const char *name,
					  vhostctl_vdpa_mgmtdev_fn fn, void *ctx)
{
	struct walk w = { .each = each_mgmtdev, .fn = (void *)fn, .ctx = ctx };
	struct nlmsghdr *nlh;
	int r;

	if (!vdpa)
		return vhc_err(EINVAL);
	nlh = vhc_vdpa_msg(vdpa->buf, vdpa->family, VHC_VDPA_CMD_MGMTDEV_GET,
			   name ? 0 : NLM_F_DUMP, ++vdpa->seq);
	if (name && (r = vhc_vdpa_put_mgmtdev(nlh, name)))
		return vhc_err(-r);
	return vhc_ret(vdpa_request(vdpa, nlh, &w));
}

static int each_dev(struct walk *w, const struct nlattr **tb)
{
	struct vhostctl_vdpa_dev d;
	vhostctl_vdpa_dev_fn fn = (vhostctl_vdpa_dev_fn)w->fn;
	int r = vhc_vdpa_parse_dev(tb, &d);

	if (r)
		return r;
	w->count++;
	if (fn && (r = fn(w->ctx, &d))) {
		w->stop = r;
		return -ECANCELED;
	}
	return 0;
}

static int check_name(const char *name)
{
	/* The kernel takes device names of up to a bus_id's length. */
	if (!name || !*name || strlen(name) >= 64)
		return -EINVAL;
	return 0;
}

VHC_EXPORT int vhostctl_vdpa_dev_list(struct vhostctl_vdpa *vdpa, const char *name,
				      vhostctl_vdpa_dev_fn fn, void *ctx)
{
	struct walk w = { .each = each_dev, .fn = (void *)fn, .ctx = ctx };
	struct nlmsghdr *nlh;

	if (!vdpa || (name && check_name(name)))
		return vhc_err(EINVAL);
	nlh = vhc_vdpa_msg(vdpa->buf, vdpa->family, VHC_VDPA_CMD_DEV_GET,
			   name ? 0 : NLM_F_DUMP, ++vdpa->seq);
	if (name)
		mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, name);
	return vhc_ret(vdpa_request(vdpa, nlh, &w));
}

VHC_EXPORT int vhostctl_vdpa_dev_add(struct vhostctl_vdpa *vdpa, const char *name,
				     const char *mgmtdev,
				     const struct vhostctl_vdpa_dev_add_opts *opts)
{
	struct vhostctl_vdpa_dev_add_opts o;
	struct walk w = { 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!vdpa || check_name(name) || !mgmtdev)
		return vhc_err(EINVAL);
	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r)
		return vhc_err(-r);
	if (o.set & ~(VHOSTCTL_VDPA_ADD_MAC | VHOSTCTL_VDPA_ADD_MTU | VHOSTCTL_VDPA_ADD_MAX_VQP |
		      VHOSTCTL_VDPA_ADD_FEATURES))
		return vhc_err(EINVAL);
	nlh = vhc_vdpa_msg(vdpa->buf, vdpa->family, VHC_VDPA_CMD_DEV_NEW, 0, ++vdpa->seq);
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, name);
	r = vhc_vdpa_put_mgmtdev(nlh, mgmtdev);
	if (r)
		return vhc_err(-r);
	if (o.set & VHOSTCTL_VDPA_ADD_MAC)
		mnl_attr_put(nlh, VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, o.mac);
	if (o.set & VHOSTCTL_VDPA_ADD_MTU)
		mnl_attr_put_u16(nlh, VHC_VDPA_ATTR_DEV_NET_CFG_MTU, o.mtu);
	if (o.set & VHOSTCTL_VDPA_ADD_MAX_VQP)
		mnl_attr_put_u16(nlh, VHC_VDPA_ATTR_DEV_NET_CFG_MAX_VQP, o.max_vq_pairs);
	if (o.set & VHOSTCTL_VDPA_ADD_FEATURES)
		mnl_attr_put_u64(nlh, VHC_VDPA_ATTR_DEV_FEATURES, o.device_features);
	r = vdpa_request(vdpa, nlh, &w);
	return vhc_ret(r < 0 ? r : 0);
}

VHC_EXPORT int vhostctl_vdpa_dev_del(struct vhostctl_vdpa *vdpa, const char *name)
{
	struct walk w = { 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!vdpa || check_name(name))
		return vhc_err(EINVAL);
	nlh = vhc_vdpa_msg(vdpa->buf, vdpa->family, VHC_VDPA_CMD_DEV_DEL, 0, ++vdpa->seq);
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, name);
	r = vdpa_request(vdpa, nlh, &w);
	return vhc_ret(r < 0 ? r : 0);
}

VHC_EXPORT int vhostctl_vdpa_dev_set_mac(struct vhostctl_vdpa *vdpa, const char *name,
					 const uint8_t mac[6])
{
	struct walk w = { 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!vdpa || check_name(name) || !mac)
		return vhc_err(EINVAL);
	nlh = vhc_vdpa_msg(vdpa->buf, vdpa->family, VHC_VDPA_CMD_DEV_ATTR_SET, 0, ++vdpa->seq);
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, name);
	mnl_attr_put(nlh, VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, mac);
	r = vdpa_request(vdpa, nlh, &w);
	return vhc_ret(r < 0 ? r : 0);
}

static int each_config(struct walk *w, const struct nlattr **tb)
{
	vhc_vdpa_parse_config(tb, w->out);
	w->count++;
	return 0;
}

VHC_EXPORT int vhostctl_vdpa_dev_config(struct vhostctl_vdpa *vdpa, const char *name,
					struct vhostctl_vdpa_config *cfg)
{
	struct vhostctl_vdpa_config c;
	struct walk w = { .each = each_config, .out = &c };
	struct nlmsghdr *nlh;
	size_t sz;
	int r;

	if (!vdpa || check_name(name) || !cfg || cfg->sz < sizeof(size_t))
		return vhc_err(EINVAL);
	memset(&c, 0, sizeof(c));
	nlh = vhc_vdpa_msg(vdpa->buf, vdpa->family, VHC_VDPA_CMD_DEV_CONFIG_GET, 0, ++vdpa->seq);
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, name);
	r = vdpa_request(vdpa, nlh, &w);
	if (r < 0)
		return vhc_ret(r);
	if (!w.count)
		return vhc_err(EPROTO);
	/* Fill what the caller's struct has room for, keep its size. */
	sz = cfg->sz < sizeof(c) ? cfg->sz : sizeof(c);
	c.sz = cfg->sz;
	memcpy(cfg, &c, sz);
	return 0;
}

static int each_stats(struct walk *w, const struct nlattr **tb)
{
	const struct nlmsghdr *nlh = w->out;
	vhostctl_vdpa_stat_fn fn = (vhostctl_vdpa_stat_fn)w->fn;
	const char *name = NULL;
	const struct nlattr *a;
	int r;

	/* Vendor statistics are repeated (name, value) pairs, in order. */
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		uint16_t type = mnl_attr_get_type(a);

		if (type == VHC_VDPA_ATTR_DEV_VENDOR_ATTR_NAME) {
			if (name)
				return -EPROTO;
			name = mnl_attr_get_str(a);
		} else if (type == VHC_VDPA_ATTR_DEV_VENDOR_ATTR_VALUE) {
			if (!name)
				return -EPROTO;
			w->count++;
			if (fn && (r = fn(w->ctx, name, mnl_attr_get_u64(a)))) {
				w->stop = r;
				return -ECANCELED;
			}
			name = NULL;
		}
	}
	return name ? -EPROTO : 0;
}

static int stats_data(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;

	w->out = (void *)nlh;
	return walk_data(nlh, data);
}

VHC_EXPORT int vhostctl_vdpa_dev_vstats(struct vhostctl_vdpa *vdpa, const char *name,
					uint32_t queue, vhostctl_vdpa_stat_fn fn, void *ctx)
{
	struct walk w = { .each = each_stats, .fn = (void *)fn, .ctx = ctx };
	struct nlmsghdr *nlh;

	if (!vdpa || check_name(name))
		return vhc_err(EINVAL);
	nlh = vhc_vdpa_msg(vdpa->buf, vdpa->family, VHC_VDPA_CMD_DEV_VSTATS_GET, 0, ++vdpa->seq);
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, name);
	mnl_attr_put_u32(nlh, VHC_VDPA_ATTR_DEV_QUEUE_INDEX, queue);
	return vhc_ret(vdpa_request_cb(vdpa, nlh, &w, stats_data));
}
