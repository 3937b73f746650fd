/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vhostctl_sim selftests: the vdpa generic netlink
 * family over libmnl (iproute2 6.1 lacks device_features, dev set and
 * vstats error reporting), sysfs driver binding and module parameters.
 *
 * Attribute and command numbers are those of the 6.12 uapi, written here
 * because the system's 6.1 <linux/vdpa.h> numbers some of them differently.
 */
#ifndef VDPA_SIM_HELPERS_H
#define VDPA_SIM_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

/* Kernel ABI numbers: the project's one header for them. */
#include "kabi.h"

enum {
	VS_CMD_DEV_NEW = VHC_VDPA_CMD_DEV_NEW,
	VS_CMD_DEV_DEL = VHC_VDPA_CMD_DEV_DEL,
	VS_CMD_DEV_GET = VHC_VDPA_CMD_DEV_GET,
	VS_CMD_DEV_CONFIG_GET = VHC_VDPA_CMD_DEV_CONFIG_GET,
	VS_CMD_DEV_VSTATS_GET = VHC_VDPA_CMD_DEV_VSTATS_GET,
	VS_CMD_DEV_ATTR_SET = VHC_VDPA_CMD_DEV_ATTR_SET,
};

enum {
	VS_ATTR_PAD = 0,
	VS_ATTR_MGMTDEV_DEV_NAME = VHC_VDPA_ATTR_MGMTDEV_DEV_NAME,
	VS_ATTR_DEV_NAME = VHC_VDPA_ATTR_DEV_NAME,
	VS_ATTR_DEV_ID = VHC_VDPA_ATTR_DEV_ID,
	VS_ATTR_DEV_MAX_VQS = VHC_VDPA_ATTR_DEV_MAX_VQS,
	VS_ATTR_NET_MAC = VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR,
	VS_ATTR_NET_MAX_VQP = VHC_VDPA_ATTR_DEV_NET_CFG_MAX_VQP,
	VS_ATTR_NET_MTU = VHC_VDPA_ATTR_DEV_NET_CFG_MTU,
	VS_ATTR_NEGOTIATED_FEATURES = VHC_VDPA_ATTR_DEV_NEGOTIATED_FEATURES,
	VS_ATTR_QUEUE_INDEX = VHC_VDPA_ATTR_DEV_QUEUE_INDEX,
	VS_ATTR_VENDOR_NAME = VHC_VDPA_ATTR_DEV_VENDOR_ATTR_NAME,
	VS_ATTR_VENDOR_VALUE = VHC_VDPA_ATTR_DEV_VENDOR_ATTR_VALUE,
	VS_ATTR_DEV_FEATURES = VHC_VDPA_ATTR_DEV_FEATURES,
	VS_ATTR_BLK_CAPACITY = VHC_VDPA_ATTR_DEV_BLK_CFG_CAPACITY,
};

#define VS_F_RING_INDIRECT	28
#define VS_F_RING_EVENT_IDX	29
#define VS_F_VERSION_1		32
#define VS_F_ACCESS_PLATFORM	33
#define VS_F_RING_PACKED	34

#define VS_NET_F_MTU		3
#define VS_NET_F_MAC		5
#define VS_NET_F_STATUS		16
#define VS_NET_F_CTRL_VQ	17
#define VS_NET_F_MQ		22
#define VS_NET_F_CTRL_MAC_ADDR	23

/* what the module offers for net, minus RING_PACKED */
#define VS_NET_SPLIT_FEATURES						\
	((1ULL << VS_F_VERSION_1) | (1ULL << VS_F_ACCESS_PLATFORM) |	\
	 (1ULL << VS_F_RING_INDIRECT) | (1ULL << VS_F_RING_EVENT_IDX) |	\
	 (1ULL << VS_NET_F_MAC) | (1ULL << VS_NET_F_MTU) |		\
	 (1ULL << VS_NET_F_STATUS) | (1ULL << VS_NET_F_CTRL_VQ) |	\
	 (1ULL << VS_NET_F_MQ) | (1ULL << VS_NET_F_CTRL_MAC_ADDR))
/* what the module offers for block, minus RING_PACKED */
#define VS_BLK_SPLIT_FEATURES						\
	((1ULL << VS_F_VERSION_1) | (1ULL << VS_F_ACCESS_PLATFORM) |	\
	 (1ULL << VS_F_RING_INDIRECT) | (1ULL << VS_F_RING_EVENT_IDX) |	\
	 (1ULL << 1) | (1ULL << 2) | (1ULL << 6) | (1ULL << 9) |	\
	 (1ULL << 13) | (1ULL << 14))

struct vs_nl {
	struct mnl_socket *sock;
	uint16_t family;
	unsigned int seq;
	unsigned int portid;
	char err[256];		/* extack message of the last failure */
};

struct vs_dev_opts {
	const char *mgmtdev;
	const uint8_t *mac;
	uint16_t mtu;
	uint16_t max_vqp;
	bool has_features;
	uint64_t features;
};

/* What the reply callbacks see: the socket and the caller's callback. */
struct vs_ctx {
	struct vs_nl *n;
	mnl_cb_t cb;
	void *data;
};

static inline int vs_err_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct vs_ctx *ctx = data;
	const struct nlattr *a;
	unsigned int off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		mnl_attr_for_each(a, nlh, off) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG)
				snprintf(ctx->n->err, sizeof(ctx->n->err),
					 "%s", mnl_attr_get_str(a));
		}
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

static inline int vs_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vs_ctx *ctx = data;

	return ctx->cb ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

/* Sends a request and runs cb on each reply; returns 0 or -errno. */
static inline int vs_talk(struct vs_nl *n, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *cb_data)
{
	static char buf[1 << 16];
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = vs_err_cb };
	struct vs_ctx ctx = { .n = n, .cb = cb, .data = cb_data };
	int ret;

	n->err[0] = 0;
	if (mnl_socket_sendto(n->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ret = mnl_socket_recvfrom(n->sock, buf, sizeof(buf));
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run2(buf, ret, nlh->nlmsg_seq, n->portid,
				  vs_data_cb, &ctx, ctl, NLMSG_MIN_TYPE);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *vs_req(struct vs_nl *n, char *buf, uint16_t type,
			       uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++n->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static inline int vs_family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vs_nl *n = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			n->family = mnl_attr_get_u16(a);
	}
	return MNL_CB_OK;
}

static inline int vs_nl_open(struct vs_nl *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int one = 1;

	memset(n, 0, sizeof(*n));
	n->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!n->sock)
		return -errno;
	if (mnl_socket_bind(n->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	mnl_socket_setsockopt(n->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	n->portid = mnl_socket_get_portid(n->sock);
	nlh = vs_req(n, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "vdpa");
	if (vs_talk(n, nlh, vs_family_cb, n))
		return -errno;
	return n->family ? 0 : -ENOENT;
}

static inline void vs_nl_close(struct vs_nl *n)
{
	if (n->sock)
		mnl_socket_close(n->sock);
	n->sock = NULL;
}

static inline int vs_dev_add(struct vs_nl *n, const char *name,
		      const struct vs_dev_opts *o)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = vs_req(n, buf, n->family, VS_CMD_DEV_NEW, 0);
	mnl_attr_put_strz(nlh, VS_ATTR_MGMTDEV_DEV_NAME, o->mgmtdev);
	mnl_attr_put_strz(nlh, VS_ATTR_DEV_NAME, name);
	if (o->mac)
		mnl_attr_put(nlh, VS_ATTR_NET_MAC, 6, o->mac);
	if (o->mtu)
		mnl_attr_put_u16(nlh, VS_ATTR_NET_MTU, o->mtu);
	if (o->max_vqp)
		mnl_attr_put_u16(nlh, VS_ATTR_NET_MAX_VQP, o->max_vqp);
	if (o->has_features)
		mnl_attr_put_u64(nlh, VS_ATTR_DEV_FEATURES, o->features);
	return vs_talk(n, nlh, NULL, NULL);
}

static inline int vs_dev_del(struct vs_nl *n, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = vs_req(n, buf, n->family, VS_CMD_DEV_DEL, 0);
	mnl_attr_put_strz(nlh, VS_ATTR_DEV_NAME, name);
	return vs_talk(n, nlh, NULL, NULL);
}

static inline int vs_dev_set_mac(struct vs_nl *n, const char *name,
			  const uint8_t *mac)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = vs_req(n, buf, n->family, VS_CMD_DEV_ATTR_SET, 0);
	mnl_attr_put_strz(nlh, VS_ATTR_DEV_NAME, name);
	mnl_attr_put(nlh, VS_ATTR_NET_MAC, 6, mac);
	return vs_talk(n, nlh, NULL, NULL);
}

struct vs_config {
	uint8_t mac[6];
	bool has_mac;
	uint64_t capacity;
	uint64_t negotiated;
	uint64_t dev_features;
};

static inline int vs_config_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vs_config *c = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case VS_ATTR_NET_MAC:
			if (mnl_attr_get_payload_len(a) == 6) {
				memcpy(c->mac, mnl_attr_get_payload(a), 6);
				c->has_mac = true;
			}
			break;
		case VS_ATTR_BLK_CAPACITY:
			c->capacity = mnl_attr_get_u64(a);
			break;
		case VS_ATTR_NEGOTIATED_FEATURES:
			c->negotiated = mnl_attr_get_u64(a);
			break;
		case VS_ATTR_DEV_FEATURES:
			c->dev_features = mnl_attr_get_u64(a);
			break;
		}
	}
	return MNL_CB_OK;
}

static inline int vs_dev_config(struct vs_nl *n, const char *name,
			 struct vs_config *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(c, 0, sizeof(*c));
	nlh = vs_req(n, buf, n->family, VS_CMD_DEV_CONFIG_GET, 0);
	mnl_attr_put_strz(nlh, VS_ATTR_DEV_NAME, name);
	return vs_talk(n, nlh, vs_config_cb, c);
}

struct vs_stat_query {
	const char *name;
	const char *last;
	uint64_t value;
	bool found;
};

static inline int vs_vstats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vs_stat_query *q = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case VS_ATTR_VENDOR_NAME:
			q->last = mnl_attr_get_str(a);
			break;
		case VS_ATTR_VENDOR_VALUE:
			if (q->last && !strcmp(q->last, q->name)) {
				q->value = mnl_attr_get_u64(a);
				q->found = true;
			}
			break;
		}
	}
	return MNL_CB_OK;
}

/* One vendor counter of one queue; returns 0 or -errno. */
static inline int vs_vstat(struct vs_nl *n, const char *dev, uint32_t qidx,
		    const char *stat, uint64_t *value)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct vs_stat_query q = { .name = stat };
	struct nlmsghdr *nlh;
	int ret;

	nlh = vs_req(n, buf, n->family, VS_CMD_DEV_VSTATS_GET, 0);
	mnl_attr_put_strz(nlh, VS_ATTR_DEV_NAME, dev);
	mnl_attr_put_u32(nlh, VS_ATTR_QUEUE_INDEX, qidx);
	ret = vs_talk(n, nlh, vs_vstats_cb, &q);
	if (ret)
		return ret;
	if (!q.found)
		return -ENOENT;
	*value = q.value;
	return 0;
}

static inline int vs_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val));
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

static inline int vs_param(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/vhostctl_sim/parameters/%s",
		 name);
	return vs_write_file(path, val);
}

/* Binds a vdpa device to "vhost_vdpa" or "virtio_vdpa". */
static inline int vs_bind(const char *dev, const char *driver)
{
	char path[256], link[256];
	ssize_t len;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s/driver", dev);
	len = readlink(path, link, sizeof(link) - 1);
	if (len > 0) {
		link[len] = 0;
		if (!strcmp(strrchr(link, '/') + 1, driver))
			return 0;
		snprintf(path, sizeof(path), "/sys/bus/vdpa/drivers/%s/unbind",
			 strrchr(link, '/') + 1);
		ret = vs_write_file(path, dev);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path),
		 "/sys/bus/vdpa/devices/%s/driver_override", dev);
	ret = vs_write_file(path, driver);
	if (ret)
		return ret;
	return vs_write_file("/sys/bus/vdpa/drivers_probe", dev);
}

/*
 * Finds the first entry under /sys/bus/vdpa/devices/DEV/SUB... whose name
 * starts with prefix; sub may hold one "*" component matched by "virtio".
 */
static inline int vs_find(const char *dir, const char *prefix, char *out,
		   size_t outlen)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int ret = -ENOENT;

	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		if (!strncmp(d->d_name, prefix, strlen(prefix))) {
			if (strlen(d->d_name) >= outlen)
				break;
			memcpy(out, d->d_name, strlen(d->d_name) + 1);
			ret = 0;
			break;
		}
	}
	closedir(dp);
	return ret;
}

/* Waits up to ms for an entry to appear; returns 0 or -ENOENT. */
static inline int vs_wait_find(const char *dir, const char *prefix, char *out,
			size_t outlen, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (!vs_find(dir, prefix, out, outlen))
			return 0;
		usleep(10000);
	}
	return vs_find(dir, prefix, out, outlen);
}

static inline void vs_unique_name(char *buf, size_t len, const char *prefix)
{
	static unsigned int n;

	snprintf(buf, len, "%s%d_%u", prefix, (int)getpid() % 100000, n++);
}

#endif /* VDPA_SIM_HELPERS_H */
