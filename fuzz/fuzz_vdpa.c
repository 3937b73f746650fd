// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: the vdpa management calls over a netlink "kernel" that
 * answers with the input.  This program defines the libmnl socket calls the
 * library makes (open, bind, sendto, recvfrom, ...), so the library's own
 * code runs unchanged above them, libmnl's callback runner and attribute
 * parsers included: every reply the library reads is a datagram from the
 * input, with its sequence number and port id patched to match the request
 * or left as the input has them.  The public calls (family lookup, mgmtdev
 * and device dumps, add, delete, set MAC, config, vendor statistics) and
 * the vring record a vDPA handle keeps (vdpa_rec.c) are driven in an order
 * the input chooses; callbacks stop or fail a walk when the input says.
 *
 * Input: steps until the input ends, each a u8 call and its arguments; every
 * datagram a call reads is u8 control, u16 length, bytes.
 */
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <vhostctl/vdpa.h>

#include "fuzz.h"
#include "vdpa_rec.h"

struct mnl_socket {
	unsigned int portid;
	uint32_t seq;		/* of the last request sent */
};

static struct fz IN;
static struct mnl_socket sock_mem;
static bool sock_open;

struct mnl_socket *mnl_socket_open2(int bus, int flags)
{
	if (sock_open || fz_u8(&IN) == 0xff) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	sock_open = true;
	sock_mem = (struct mnl_socket){ .portid = 4242 };
	return &sock_mem;
}

int mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid)
{
	return 0;
}

int mnl_socket_close(struct mnl_socket *nl)
{
	if (nl != &sock_mem || !sock_open)
		abort();
	sock_open = false;
	return 0;
}

unsigned int mnl_socket_get_portid(const struct mnl_socket *nl)
{
	return nl->portid;
}

int mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf, socklen_t len)
{
	return 0;
}

ssize_t mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz)
{
	const struct nlmsghdr *nlh = req;

	if (siz < sizeof(*nlh) || nlh->nlmsg_len != siz)
		abort();	/* the library built a malformed request */
	((struct mnl_socket *)nl)->seq = nlh->nlmsg_seq;
	return (ssize_t)siz;
}

/* One datagram from the input; control bit 0 patches seq and port id of every message. */
ssize_t mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz)
{
	uint8_t ctl;
	size_t len, off = 0;

	if (!fz_left(&IN)) {
		errno = ENOBUFS;
		return -1;
	}
	ctl = fz_u8(&IN);
	len = fz_u16(&IN) % (siz + 1);
	len = fz_bytes(&IN, buf, len);
	while ((ctl & 1) && off + sizeof(struct nlmsghdr) <= len) {
		struct nlmsghdr *h = (struct nlmsghdr *)((uint8_t *)buf + off);

		h->nlmsg_seq = nl->seq;
		h->nlmsg_pid = nl->portid;
		if (h->nlmsg_len < sizeof(*h))
			break;
		off += ((size_t)h->nlmsg_len + 3) & ~(size_t)3;
	}
	return (ssize_t)len;
}

static int cb_ret(void)
{
	uint8_t b = fz_u8(&IN);

	return b < 0xf0 ? 0 : b < 0xf8 ? 1 : -(int)(b & 7) - 1;
}

static int on_mgmtdev(void *ctx, const struct vhostctl_vdpa_mgmtdev *m)
{
	/* Every string the library hands out must be readable and terminated. */
	if (strlen(m->name) + (m->bus ? strlen(m->bus) : 0) > 65536)
		abort();
	return cb_ret();
}

static int on_dev(void *ctx, const struct vhostctl_vdpa_dev *d)
{
	if (strlen(d->name) + strlen(d->mgmtdev) + (d->mgmtdev_bus ? strlen(d->mgmtdev_bus) : 0) >
	    65536)
		abort();
	return cb_ret();
}

static int on_stat(void *ctx, const char *name, uint64_t value)
{
	if (strlen(name) > 65536)
		abort();
	return cb_ret();
}

static const char *pick_name(void)
{
	static const char *const names[] = { NULL, "vdpa0", "pci/0000:00:04.0", "vdpasim_net",
					     "", "a/b/c", "vhostctl_sim_blk" };
	return names[fz_u8(&IN) % (sizeof(names) / sizeof(names[0]))];
}

static void rec_step(struct vhc_vring_recs *r)
{
	uint8_t op = fz_u8(&IN);
	unsigned int index = op & 0x80 ? fz_u32(&IN) : fz_u8(&IN);
	struct vhostctl_vring_addr a = { .index = index, .flags = fz_u8(&IN),
					 .desc = fz_u64(&IN) };

	switch (op % 4) {
	case 0:
		vhc_vring_rec_num(r, index, op & 0x40 ? fz_u32(&IN) : fz_u16(&IN));
		break;
	case 1:
		vhc_vring_rec_addr(r, &a);
		break;
	case 2:
		vhc_vring_rec_enable(r, index, op & 0x40);
		break;
	default:
		vhc_vring_rec_reset(r);
		break;
	}
	if (r->n > VHC_VRING_REC_MAX || (r->n && !r->ring))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhostctl_vdpa *v = NULL;
	struct vhc_vring_recs rec = { 0 };

	IN = (struct fz){ data, size };
	while (fz_left(&IN)) {
		uint8_t op = fz_u8(&IN);
		const char *name;
		int r = 0;

		if (!v && op % 10 != 9) {
			v = vhostctl_vdpa_open();
			if (fz_debug())
				fprintf(stderr, "vdpa: open: %s\n", v ? "ok" : strerror(errno));
			continue;
		}
		switch (op % 10) {
		case 0:
			r = vhostctl_vdpa_mgmtdev_list(v, pick_name(), on_mgmtdev, NULL);
			break;
		case 1:
			r = vhostctl_vdpa_dev_list(v, pick_name(), on_dev, NULL);
			break;
		case 2: {
			struct vhostctl_vdpa_dev_add_opts o = {
				.sz = sizeof(o), .set = fz_u8(&IN), .mac = { 2, 0, 0, 0, 0, 1 },
				.mtu = fz_u16(&IN), .max_vq_pairs = fz_u16(&IN),
				.device_features = fz_u64(&IN),
			};

			name = pick_name();
			r = vhostctl_vdpa_dev_add(v, name ? name : "vdpa0", pick_name(), &o);
			break;
		}
		case 3:
			name = pick_name();
			r = vhostctl_vdpa_dev_del(v, name ? name : "vdpa1");
			break;
		case 4: {
			const uint8_t mac[6] = { 2, 1, 2, 3, 4, fz_u8(&IN) };

			name = pick_name();
			r = vhostctl_vdpa_dev_set_mac(v, name ? name : "vdpa0", mac);
			break;
		}
		case 5: {
			struct vhostctl_vdpa_config c = { .sz = sizeof(c) };

			name = pick_name();
			r = vhostctl_vdpa_dev_config(v, name ? name : "vdpa0", &c);
			break;
		}
		case 6:
			name = pick_name();
			r = vhostctl_vdpa_dev_vstats(v, name ? name : "vdpa0", fz_u16(&IN), on_stat, NULL);
			break;
		case 7:
			vhostctl_vdpa_close(v);
			v = NULL;
			break;
		case 8:
			if (strlen(vhostctl_vdpa_error(v)) > 255)
				abort();
			break;
		default:
			rec_step(&rec);
			break;
		}
		if (fz_debug())
			fprintf(stderr, "vdpa: call %d: %d (%s)\n", op % 10, r, vhostctl_vdpa_error(v));
	}
	vhostctl_vdpa_close(v);
	vhc_vring_rec_fini(&rec);
	if (sock_open)
		abort();	/* the library left its socket open */
	return 0;
}
