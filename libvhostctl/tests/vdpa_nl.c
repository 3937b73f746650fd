// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vdpa netlink messages without a kernel: requests are built as the kernel
 * expects them, and replies (well-formed, malformed, hostile) are parsed or
 * refused with -EPROTO, never read out of bounds (ASan watches).
 */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <vhostctl/vdpa.h>

#include "kabi.h"
#include "test.h"
#include "vdpa_nl.h"

static char buf[8192];

/* A reply of the vdpa family with a few attributes, as the kernel sends one. */
static struct nlmsghdr *reply(uint8_t cmd)
{
	return vhc_vdpa_msg(buf, 0x20, cmd, 0, 1);
}

static void test_request(void)
{
	struct nlmsghdr *nlh = vhc_vdpa_msg(buf, 0x21, VHC_VDPA_CMD_DEV_NEW, 0, 7);
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	int n = 0;

	t_eq(0x21, nlh->nlmsg_type);
	t_eq(NLM_F_REQUEST | NLM_F_ACK, nlh->nlmsg_flags);
	t_eq(7, nlh->nlmsg_seq);
	t_eq(VHC_VDPA_CMD_DEV_NEW, g->cmd);
	t_eq(1, g->version);
	t_eq(0, vhc_vdpa_put_mgmtdev(nlh, "pci/0000:65:00.2"));
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) == VHC_VDPA_ATTR_MGMTDEV_BUS_NAME)
			t_true(!strcmp("pci", mnl_attr_get_str(a)));
		else if (mnl_attr_get_type(a) == VHC_VDPA_ATTR_MGMTDEV_DEV_NAME)
			t_true(!strcmp("0000:65:00.2", mnl_attr_get_str(a)));
		else
			t_fail("unexpected attribute %u", mnl_attr_get_type(a));
		n++;
	}
	t_eq(2, n);

	/* Dumps carry no ACK flag: they end with NLMSG_DONE. */
	nlh = vhc_vdpa_msg(buf, 0x21, VHC_VDPA_CMD_DEV_GET, NLM_F_DUMP, 8);
	t_eq(NLM_F_REQUEST | NLM_F_DUMP, nlh->nlmsg_flags);

	/* Malformed management device handles. */
	static const char *const bad[] = { "", "/x", "pci/", "a/b/c",
		"0123456789012345678901234567890123456789012345678901234567890123456789/x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlh = vhc_vdpa_msg(buf, 0x21, VHC_VDPA_CMD_DEV_NEW, 0, 9);
		t_eq(-EINVAL, vhc_vdpa_put_mgmtdev(nlh, bad[i]));
	}
}

static void test_parse_dev(void)
{
	const struct nlattr *tb[VHC_VDPA_ATTR_MAX + 1];
	struct nlmsghdr *nlh = reply(VHC_VDPA_CMD_DEV_NEW);
	struct vhostctl_vdpa_dev d;

	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, "vnet0");
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_MGMTDEV_DEV_NAME, "vhostctl_sim_net");
	mnl_attr_put_u32(nlh, VHC_VDPA_ATTR_DEV_ID, 1);
	mnl_attr_put_u32(nlh, VHC_VDPA_ATTR_DEV_VENDOR_ID, 0);
	mnl_attr_put_u32(nlh, VHC_VDPA_ATTR_DEV_MAX_VQS, 9);
	mnl_attr_put_u16(nlh, VHC_VDPA_ATTR_DEV_MAX_VQ_SIZE, 256);
	/* An attribute from a newer kernel: skipped. */
	mnl_attr_put_u32(nlh, 200, 0xdead);
	t_eq(0, vhc_vdpa_parse_attrs(nlh, tb));
	t_eq(0, vhc_vdpa_parse_dev(tb, &d));
	t_true(!strcmp("vnet0", d.name));
	t_true(!strcmp("vhostctl_sim_net", d.mgmtdev));
	t_true(d.mgmtdev_bus == NULL);
	t_eq(1, d.device_id);
	t_eq(9, d.max_vqs);
	t_eq(256, d.max_vq_size);
	t_eq(0, d.min_vq_size);

	/* A device without its name is refused. */
	nlh = reply(VHC_VDPA_CMD_DEV_NEW);
	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_MGMTDEV_DEV_NAME, "m");
	t_eq(0, vhc_vdpa_parse_attrs(nlh, tb));
	t_eq(-EPROTO, vhc_vdpa_parse_dev(tb, &d));
}

static void test_hostile(void)
{
	const struct nlattr *tb[VHC_VDPA_ATTR_MAX + 1];
	struct nlmsghdr *nlh;
	struct nlattr *a;

	/* A string without its NUL. */
	nlh = reply(VHC_VDPA_CMD_DEV_NEW);
	mnl_attr_put(nlh, VHC_VDPA_ATTR_DEV_NAME, 4, "abcd");
	t_eq(-EPROTO, vhc_vdpa_parse_attrs(nlh, tb));

	/* A u32 attribute of two bytes. */
	nlh = reply(VHC_VDPA_CMD_DEV_NEW);
	mnl_attr_put_u16(nlh, VHC_VDPA_ATTR_DEV_ID, 1);
	t_eq(-EPROTO, vhc_vdpa_parse_attrs(nlh, tb));

	/* A MAC address of five bytes. */
	nlh = reply(VHC_VDPA_CMD_DEV_CONFIG_GET);
	mnl_attr_put(nlh, VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR, 5, "\1\2\3\4\5");
	t_eq(-EPROTO, vhc_vdpa_parse_attrs(nlh, tb));

	/* An attribute whose length runs past the message. */
	nlh = reply(VHC_VDPA_CMD_DEV_NEW);
	a = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, VHC_VDPA_ATTR_DEV_ID, 1);
	a->nla_len = 200;
	t_eq(-EPROTO, vhc_vdpa_parse_attrs(nlh, tb));

	/* An attribute header cut in half. */
	nlh = reply(VHC_VDPA_CMD_DEV_NEW);
	mnl_attr_put_u32(nlh, VHC_VDPA_ATTR_DEV_ID, 1);
	nlh->nlmsg_len += 2;
	t_eq(-EPROTO, vhc_vdpa_parse_attrs(nlh, tb));

	/* A message shorter than its genetlink header. */
	nlh = reply(VHC_VDPA_CMD_DEV_NEW);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
	t_eq(-EPROTO, vhc_vdpa_parse_attrs(nlh, tb));
}

static void test_config(void)
{
	const struct nlattr *tb[VHC_VDPA_ATTR_MAX + 1];
	struct vhostctl_vdpa_config c = { .sz = sizeof(c) };
	struct nlmsghdr *nlh = reply(VHC_VDPA_CMD_DEV_CONFIG_GET);
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

	mnl_attr_put_strz(nlh, VHC_VDPA_ATTR_DEV_NAME, "vnet0");
	mnl_attr_put(nlh, VHC_VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, mac);
	/* The kernel sends the status as a u16 although the header says u8. */
	mnl_attr_put_u16(nlh, VHC_VDPA_ATTR_DEV_NET_STATUS, 1);
	mnl_attr_put_u16(nlh, VHC_VDPA_ATTR_DEV_NET_CFG_MTU, 9000);
	mnl_attr_put_u64(nlh, VHC_VDPA_ATTR_DEV_FEATURES, 0x300010028ULL);
	t_eq(0, vhc_vdpa_parse_attrs(nlh, tb));
	vhc_vdpa_parse_config(tb, &c);
	t_eq(VHOSTCTL_VDPA_CFG_MAC | VHOSTCTL_VDPA_CFG_STATUS | VHOSTCTL_VDPA_CFG_MTU |
		     VHOSTCTL_VDPA_CFG_DEVICE_FEATURES,
	     c.present);
	t_true(!memcmp(mac, c.mac, 6));
	t_eq(1, c.status);
	t_eq(9000, c.mtu);
	t_eq(0x300010028ULL, c.device_features);

	/* A one-byte status is read as such. */
	nlh = reply(VHC_VDPA_CMD_DEV_CONFIG_GET);
	mnl_attr_put_u8(nlh, VHC_VDPA_ATTR_DEV_NET_STATUS, 3);
	t_eq(0, vhc_vdpa_parse_attrs(nlh, tb));
	vhc_vdpa_parse_config(tb, &c);
	t_eq(3, c.status);

	/* Block capacity is attribute 21 in 6.12, not the 6.1 header's meaning. */
	nlh = reply(VHC_VDPA_CMD_DEV_CONFIG_GET);
	mnl_attr_put_u64(nlh, 21, 262144);
	t_eq(0, vhc_vdpa_parse_attrs(nlh, tb));
	vhc_vdpa_parse_config(tb, &c);
	t_eq(VHOSTCTL_VDPA_CFG_CAPACITY, c.present);
	t_eq(262144, c.capacity);
}

static void test_extack(void)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;
	char err[64];

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -EOPNOTSUPP;
	e->msg.nlmsg_len = 400;	/* capped: the request's length does not matter */
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "Some provided attributes are not supported: 0x2000");
	vhc_vdpa_extack(nlh, sizeof(*e), err, sizeof(err));
	t_true(!strcmp("Some provided attributes are not supported: 0x2000", err));

	/* Not capped, and a request length that points past the message. */
	nlh->nlmsg_flags = NLM_F_ACK_TLVS;
	vhc_vdpa_extack(nlh, sizeof(*e), err, sizeof(err));
	t_true(!strcmp("", err));
	e->msg.nlmsg_len = 2;
	vhc_vdpa_extack(nlh, sizeof(*e), err, sizeof(err));
	t_true(!strcmp("", err));
	/* One that points gigabytes past it: the walk must not start out there. */
	e->msg.nlmsg_len = 0xfffffff0;
	vhc_vdpa_extack(nlh, sizeof(*e), err, sizeof(err));
	t_true(!strcmp("", err));

	/* No TLVs flagged. */
	nlh->nlmsg_flags = NLM_F_CAPPED;
	vhc_vdpa_extack(nlh, sizeof(*e), err, sizeof(err));
	t_true(!strcmp("", err));
}

int main(void)
{
	int fds = t_count_fds();

	test_request();
	test_parse_dev();
	test_hostile();
	test_config();
	test_extack();
	/* Without the vdpa module (the host has none), the family is absent. */
	struct vhostctl_vdpa *v = vhostctl_vdpa_open();
	if (v)
		vhostctl_vdpa_close(v);
	else
		t_true(errno == ENOENT || errno == EPERM || errno == EACCES);
	t_eq(fds, t_count_fds());
	return T_EXIT_PASS;
}
