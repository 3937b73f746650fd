/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * vdpa netlink message building and parsing, apart from the socket, so that
 * the host tests can feed the parsers crafted (and malformed) replies.
 */
#ifndef VHOSTCTL_VDPA_NL_H
#define VHOSTCTL_VDPA_NL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include <vhostctl/vdpa.h>

struct nlattr;

/* A genetlink request of the vdpa family in @buf. */
struct nlmsghdr *vhc_vdpa_msg(void *buf, uint16_t family, uint8_t cmd, uint16_t flags,
			      uint32_t seq);
/* "[bus/]name" as MGMTDEV_BUS_NAME and MGMTDEV_DEV_NAME; -EINVAL if malformed. */
int vhc_vdpa_put_mgmtdev(struct nlmsghdr *nlh, const char *handle);
/* Validate a reply's attributes into tb[VHC_VDPA_ATTR_MAX + 1]; -EPROTO if bad. */
int vhc_vdpa_parse_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb);
int vhc_vdpa_parse_mgmtdev(const struct nlattr **tb, struct vhostctl_vdpa_mgmtdev *m);
int vhc_vdpa_parse_dev(const struct nlattr **tb, struct vhostctl_vdpa_dev *d);
void vhc_vdpa_parse_config(const struct nlattr **tb, struct vhostctl_vdpa_config *c);
/* The extended ack message of an NLMSG_ERROR or NLMSG_DONE, or "". */
void vhc_vdpa_extack(const struct nlmsghdr *nlh, size_t hdr, char *err, size_t len);

#endif
