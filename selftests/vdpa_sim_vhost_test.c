// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim bound to vhost_vdpa, driven as a hypervisor's control plane
 * drives it: the device is added with vhostctl_vdpa_dev_add(), its
 * /dev/vhost-vdpa-N opened with vhostctl_dev_open(), guest memory is a
 * vhostctl_mem memfd region at IOVA 0 given with vhostctl_dev_set_mem_table(),
 * and every control step (backend features, status, features, vrings,
 * groups and address spaces, IOTLB, suspend/resume, config) is a
 * vhostctl_dev_* or vhostctl_dev_vdpa_* call.  No ioctl is issued here
 * directly: every kernel refusal checked below (bad index, bad address
 * space, config past its end) goes through the library to the kernel.
 *
 * The driver side stays hand-written: the rings are written into guest
 * memory by this program, not by the library's vhostctl_vq, because the
 * library's queue is split only (these variants cover packed rings too)
 * and refuses by design the chains the hostile cases need (unmapped
 * buffers, loops, bad heads, nested indirect tables).  One driver for all
 * variants keeps split and packed comparable.  Net loopback, block I/O,
 * suspend/resume, address spaces, and hostile rings that must leave the
 * device in NEEDS_RESET and the kernel unharmed.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <linux/vhost.h>

/* the harness compares int literals with unsigned values */
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"
#include "vdpa_sim_helpers.h"

/* 6.12 uapi the Debian 12 (6.1) headers lack: from the project's one header. */
#include "kabi.h"

#define BF_MSG_V2	(1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2)
#define BF_ASID		(1ULL << VHOST_BACKEND_F_IOTLB_ASID)
#define BF_SUSPEND	(1ULL << VHOST_BACKEND_F_SUSPEND)
#define BF_RESUME	(1ULL << VHOST_BACKEND_F_RESUME)
#define BF_AFTER_OK	(1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK)
#define BF_DESC_ASID	(1ULL << VHOST_BACKEND_F_DESC_ASID)
#define BF_PERSIST	(1ULL << VHOST_BACKEND_F_IOTLB_PERSIST)

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40

#define MEM_SIZE	(4u << 20)
#define QNUM		64
#define VQ_BASE(q)	((uint64_t)(q) * 0x10000)
#define BUF_BASE	0x100000u
#define BUF_SIZE	0x1000u
#define UNMAPPED	(64ull << 20)

#define D_NEXT		1
#define D_WRITE		2
#define D_INDIRECT	4

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* a packed ring descriptor: flags after id */
struct pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

#define P_AVAIL		(1u << 7)
#define P_USED		(1u << 15)

struct vq {
	bool packed;
	/* packed driver state: next free slot and where used entries appear */
	uint16_t next;
	bool wrap;
	uint16_t used_slot;
	bool used_wrap;
	uint16_t id;
	uint16_t head_slot;
	uint16_t head_flags;
	uint16_t chain_len[QNUM];
	struct vdesc *desc;
	uint16_t *avail;	/* flags, idx, ring[QNUM], used_event */
	uint16_t *used;		/* flags, idx, then 8-byte elements */
	uint16_t avail_idx;
	uint16_t last_used;
	int kick;
	int call;
};

FIXTURE(vhost)
{
	struct vhostctl_vdpa *nl;
	char name[32];
	struct vhostctl_dev *dev;
	struct vhostctl_mem *gm;	/* guest memory: one memfd region at IOVA 0 */
	uint8_t *mem;			/* where gm's region is mapped here */
	uint64_t bf;		/* backend features acked */
	struct vq vq[3];
	uint8_t mac[6];
	uint32_t nvqs;
};

FIXTURE_VARIANT(vhost)
{
	const char *mgmtdev;
	uint32_t device_id;
	uint64_t features;	/* ring features acked on top of V1|AP */
	bool indirect;
};

FIXTURE_VARIANT_ADD(vhost, net_split)
{
	.mgmtdev = "vhostctl_sim_net",
	.device_id = 1,
};

FIXTURE_VARIANT_ADD(vhost, net_indirect_event_idx)
{
	.mgmtdev = "vhostctl_sim_net",
	.device_id = 1,
	.features = (1ULL << VS_F_RING_INDIRECT) | (1ULL << VS_F_RING_EVENT_IDX),
	.indirect = true,
};

FIXTURE_VARIANT_ADD(vhost, net_packed)
{
	.mgmtdev = "vhostctl_sim_net",
	.device_id = 1,
	.features = 1ULL << VS_F_RING_PACKED,
};

FIXTURE_VARIANT_ADD(vhost, net_packed_indirect_event_idx)
{
	.mgmtdev = "vhostctl_sim_net",
	.device_id = 1,
	.features = (1ULL << VS_F_RING_PACKED) | (1ULL << VS_F_RING_INDIRECT) |
		    (1ULL << VS_F_RING_EVENT_IDX),
	.indirect = true,
};

FIXTURE_VARIANT_ADD(vhost, blk_packed_indirect)
{
	.mgmtdev = "vhostctl_sim_blk",
	.device_id = 2,
	.features = (1ULL << VS_F_RING_PACKED) | (1ULL << VS_F_RING_INDIRECT),
	.indirect = true,
};

FIXTURE_VARIANT_ADD(vhost, blk_split)
{
	.mgmtdev = "vhostctl_sim_blk",
	.device_id = 2,
};

FIXTURE_VARIANT_ADD(vhost, blk_indirect_event_idx)
{
	.mgmtdev = "vhostctl_sim_blk",
	.device_id = 2,
	.features = (1ULL << VS_F_RING_INDIRECT) | (1ULL << VS_F_RING_EVENT_IDX),
	.indirect = true,
};

FIXTURE_SETUP(vhost)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o);
	char dir[256], node[64], path[96];
	uint64_t bf;

	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	vs_unique_name(self->name, sizeof(self->name), "vh");
	if (variant->device_id == 1) {
		o.set = VHOSTCTL_VDPA_ADD_MAX_VQP;
		o.max_vq_pairs = 1;
	}
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, variant->mgmtdev, &o))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, vs_bind(self->name, "vhost_vdpa"));
	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", self->name);
	ASSERT_EQ(0, vs_wait_find(dir, "vhost-vdpa-", node, sizeof(node), 2000));
	snprintf(path, sizeof(path), "/dev/%s", node);
	self->dev = vhostctl_dev_open(path, NULL);
	ASSERT_NE(NULL, self->dev) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ(VHOSTCTL_TRANSPORT_VDPA, vhostctl_dev_transport(self->dev));

	/* Our own choice of backend features: the library then keeps it. */
	ASSERT_EQ(0, vhostctl_dev_get_backend_features(self->dev, &bf));
	self->bf = bf & (BF_MSG_V2 | BF_ASID | BF_SUSPEND | BF_RESUME |
			 BF_DESC_ASID | BF_PERSIST | BF_AFTER_OK);
	ASSERT_EQ(0, vhostctl_dev_set_backend_features(self->dev, self->bf));
	ASSERT_EQ(0, vhostctl_dev_set_owner(self->dev));
	ASSERT_EQ(0, vhostctl_dev_vdpa_vq_count(self->dev, &self->nvqs));

	self->gm = vhostctl_mem_new();
	ASSERT_NE(NULL, self->gm);
	ASSERT_LE(0, vhostctl_mem_add_region(self->gm, 0, MEM_SIZE, 0));
	self->mem = vhostctl_mem_gpa_to_hva(self->gm, 0, MEM_SIZE);
	ASSERT_NE(NULL, self->mem);
	/* IOTLB of address space 0, IOVA = guest physical address */
	ASSERT_EQ(0, vhostctl_dev_set_mem_table(self->dev, self->gm));
}

FIXTURE_TEARDOWN(vhost)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (self->vq[i].kick > 0)
			close(self->vq[i].kick);
		if (self->vq[i].call > 0)
			close(self->vq[i].call);
	}
	/* vhost_vdpa's remove waits for the file's release: close it first */
	vhostctl_dev_close(self->dev);
	vhostctl_mem_free(self->gm);
	vhostctl_vdpa_dev_del(self->nl, self->name);
	vhostctl_vdpa_close(self->nl);
}

static uint8_t get_status(struct vhostctl_dev *dev)
{
	uint8_t s = 0xff;

	vhostctl_dev_get_status(dev, &s);
	return s;
}

static int set_status(struct vhostctl_dev *dev, uint8_t s)
{
	return vhostctl_dev_set_status(dev, s);
}

/* Driver setup of queues [0, n): features, rings, DRIVER_OK. */
static int start_ex(FIXTURE_DATA(vhost) *self, uint64_t ring_features,
		    unsigned int n, bool reset)
{
	uint64_t f = (1ULL << VS_F_VERSION_1) | (1ULL << VS_F_ACCESS_PLATFORM) |
		     ring_features;
	unsigned int q;

	if ((reset && vhostctl_dev_reset(self->dev)) ||
	    set_status(self->dev, S_ACK | S_DRIVER))
		return -1;
	if (vhostctl_dev_set_features(self->dev, f))
		return -2;
	if (set_status(self->dev, S_ACK | S_DRIVER | S_FEATURES_OK))
		return -3;
	for (q = 0; q < n; q++) {
		struct vq *v = &self->vq[q];
		struct vhostctl_vring_addr a = {
			.index = q,
			.desc = VQ_BASE(q),
			.avail = VQ_BASE(q) + 0x1000,
			.used = VQ_BASE(q) + 0x2000,
		};
		unsigned int base = 0;

		memset(self->mem + VQ_BASE(q), 0, 0x3000);
		v->packed = ring_features & (1ULL << VS_F_RING_PACKED);
		if (v->packed)
			base = 0x80008000;	/* both wrap counters set */
		v->next = 0;
		v->wrap = true;
		v->used_slot = 0;
		v->used_wrap = true;
		v->id = 0;
		v->desc = (struct vdesc *)(self->mem + VQ_BASE(q));
		v->avail = (uint16_t *)(self->mem + VQ_BASE(q) + 0x1000);
		v->used = (uint16_t *)(self->mem + VQ_BASE(q) + 0x2000);
		v->avail_idx = 0;
		v->last_used = 0;
		if (v->kick <= 0)
			v->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->call <= 0)
			v->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vhostctl_dev_set_vring_num(self->dev, q, QNUM) ||
		    vhostctl_dev_set_vring_addr(self->dev, &a) ||
		    vhostctl_dev_set_vring_base(self->dev, q, base) ||
		    vhostctl_dev_set_vring_kick(self->dev, q, v->kick) ||
		    vhostctl_dev_set_vring_call(self->dev, q, v->call) ||
		    vhostctl_dev_set_vring_enable(self->dev, q, 1))
			return -4;
	}
	if (set_status(self->dev, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		return -5;
	return 0;
}

static int start(FIXTURE_DATA(vhost) *self, uint64_t ring_features,
		 unsigned int n)
{
	return start_ex(self, ring_features, n, true);
}

/* Publishes head on q and kicks. */
static void post(struct vq *v, uint16_t head)
{
	struct pdesc *ring = (struct pdesc *)v->desc;
	uint64_t one = 1;

	if (v->packed) {
		__atomic_thread_fence(__ATOMIC_RELEASE);	/* chain before head */
		ring[v->head_slot].flags = v->head_flags;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* head before kick */
		if (write(v->kick, &one, sizeof(one)) != sizeof(one))
			return;
		return;
	}
	v->avail[2 + (v->avail_idx % QNUM)] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);	/* ring entry before idx */
	v->avail[1] = ++v->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* idx before the kick */
	if (write(v->kick, &one, sizeof(one)) != sizeof(one))
		return;
}

/* Waits for the next used entry; returns its len, or -1 on timeout. */
static int64_t wait_used(struct vq *v, int ms)
{
	volatile uint16_t *uidx = &v->used[1];
	volatile struct pdesc *ring = (struct pdesc *)v->desc;
	uint32_t *elem;

	for (; v->packed && ms > 0; ms--) {
		uint16_t f = ring[v->used_slot].flags;

		if (!!(f & P_AVAIL) == v->used_wrap && !!(f & P_USED) == v->used_wrap) {
			uint32_t len;
			uint16_t id;

			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			len = ring[v->used_slot].len;
			id = ring[v->used_slot].id % QNUM;
			v->used_slot += v->chain_len[id];
			if (v->used_slot >= QNUM) {
				v->used_slot -= QNUM;
				v->used_wrap = !v->used_wrap;
			}
			return len;
		}
		usleep(1000);
	}
	for (; ms > 0; ms--) {
		if (*uidx != v->last_used) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			elem = (uint32_t *)(v->used + 2) + 2 * (v->last_used % QNUM);
			v->last_used++;
			return elem[1];
		}
		usleep(1000);
	}
	return -1;
}

static bool wait_status(struct vhostctl_dev *dev, uint8_t bit, int ms)
{
	for (; ms > 0; ms -= 5) {
		if (get_status(dev) & bit)
			return true;
		usleep(5000);
	}
	return false;
}

static int get_mac(FIXTURE_DATA(vhost) *self)
{
	return vhostctl_dev_get_config(self->dev, 0, self->mac, 6);
}

static uint8_t *buf(FIXTURE_DATA(vhost) *self, unsigned int i)
{
	return self->mem + BUF_BASE + i * BUF_SIZE;
}

static uint64_t biova(unsigned int i)
{
	return BUF_BASE + (uint64_t)i * BUF_SIZE;
}

/*
 * Writes one packed descriptor at the next free slot; the head's flags are
 * held back until post().
 */
static void praw(struct vq *v, uint64_t addr, uint32_t len, uint16_t flags,
		 bool head)
{
	struct pdesc *ring = (struct pdesc *)v->desc;
	uint16_t f = flags | (v->wrap ? P_AVAIL : P_USED);

	ring[v->next].addr = addr;
	ring[v->next].len = len;
	ring[v->next].id = v->id;
	if (head) {
		v->head_slot = v->next;
		v->head_flags = f;
		ring[v->next].flags = v->wrap ? P_USED : P_AVAIL; /* not yet */
	} else {
		ring[v->next].flags = f;
	}
	if (++v->next == QNUM) {
		v->next = 0;
		v->wrap = !v->wrap;
	}
}

static void pchain(struct vq *v, bool indirect, uint8_t *mem, uint64_t table,
		   const struct vdesc *segs, unsigned int n)
{
	unsigned int i;

	if (indirect) {
		struct pdesc *t = (struct pdesc *)(mem + table);

		for (i = 0; i < n; i++)
			t[i] = (struct pdesc){ segs[i].addr, segs[i].len, 0,
					       segs[i].flags & D_WRITE };
		praw(v, table, n * sizeof(*t), D_INDIRECT, true);
		v->chain_len[v->id] = 1;
	} else {
		for (i = 0; i < n; i++)
			praw(v, segs[i].addr, segs[i].len,
			     (segs[i].flags & D_WRITE) | (i + 1 < n ? D_NEXT : 0),
			     i == 0);
		v->chain_len[v->id] = n;
	}
	v->id = (v->id + 1) % QNUM;
}

/* Puts a chain of n segments at desc[0..n) of v, or in an indirect table. */
static void chain(struct vq *v, bool indirect, uint8_t *mem, uint64_t table,
		  const struct vdesc *segs, unsigned int n)
{
	struct vdesc *d = indirect ? (struct vdesc *)(mem + table) : v->desc;
	unsigned int i;

	if (v->packed) {
		pchain(v, indirect, mem, table, segs, n);
		return;
	}

	for (i = 0; i < n; i++) {
		d[i] = segs[i];
		d[i].next = i + 1;
		if (i + 1 < n)
			d[i].flags |= D_NEXT;
	}
	if (indirect) {
		v->desc[0].addr = table;
		v->desc[0].len = n * sizeof(struct vdesc);
		v->desc[0].flags = D_INDIRECT;
		v->desc[0].next = 0;
	}
}

static int net_frame(FIXTURE_DATA(vhost) *self, uint8_t *p, const uint8_t *dst,
		     uint8_t fill, unsigned int payload)
{
	memset(p, 0, 12);			/* virtio_net_hdr_v1 */
	memcpy(p + 12, dst, 6);
	memcpy(p + 18, self->mac, 6);
	p[24] = 0x88;
	p[25] = 0xb5;
	memset(p + 26, fill, payload);
	return 26 + payload;
}

TEST_F(vhost, ioctls)
{
	struct vhostctl_vdpa_iova_range r;
	uint32_t id, size, n, g;
	uint16_t num;
	uint8_t data[64];
	bool net = variant->device_id == 1;

	ASSERT_EQ(0, vhostctl_dev_vdpa_device_id(self->dev, &id));
	EXPECT_EQ(variant->device_id, id);
	EXPECT_EQ(net ? 3 : 1, self->nvqs);
	ASSERT_EQ(0, vhostctl_dev_vdpa_iova_range(self->dev, &r));
	EXPECT_EQ(0, r.first);
	EXPECT_EQ(~0ULL, r.last);
	ASSERT_EQ(0, vhostctl_dev_vdpa_group_count(self->dev, &n));
	EXPECT_EQ(net ? 3 : 1, n);
	ASSERT_EQ(0, vhostctl_dev_vdpa_asid_count(self->dev, &n));
	EXPECT_EQ(net ? 3 : 2, n);
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_num_max(self->dev, &num));
	EXPECT_EQ(256, num);
	ASSERT_EQ(0, vhostctl_dev_vdpa_config_size(self->dev, &size));
	if (net) {
		EXPECT_EQ(24, size);
	} else {
		EXPECT_LE(60, size);
	}
	EXPECT_EQ(BF_MSG_V2 | BF_ASID | BF_SUSPEND | BF_RESUME | BF_DESC_ASID |
		  BF_PERSIST | BF_AFTER_OK, self->bf);

	ASSERT_EQ(0, vhostctl_dev_get_config(self->dev, 0, data, 12));
	if (net) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);

		/* the management side reads the same config space */
		ASSERT_EQ(0, vhostctl_vdpa_dev_config(self->nl, self->name, &c));
		ASSERT_TRUE(c.present & VHOSTCTL_VDPA_CFG_MAC);
		EXPECT_EQ(0, memcmp(c.mac, data, 6));
		EXPECT_EQ(1, data[6] | data[7] << 8);	/* LINK_UP */
		EXPECT_EQ(1, data[8] | data[9] << 8);	/* max vqp */
		EXPECT_EQ(1500, data[10] | data[11] << 8);
	} else {
		uint64_t cap;

		memcpy(&cap, data, 8);
		EXPECT_NE(0, cap);
	}
	/* one byte past the config space: the kernel refuses it */
	EXPECT_EQ(-EINVAL, vhostctl_dev_get_config(self->dev, 0, data, size + 1));
	EXPECT_EQ(EINVAL, errno);

	/* groups: data queues 0, their rings 2 (blk: 0), the CVQ 1 */
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_group(self->dev, 0, &g));
	EXPECT_EQ(0, g);
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_desc_group(self->dev, 0, &g));
	EXPECT_EQ(net ? 2 : 0, g);
	if (net) {
		ASSERT_EQ(0, vhostctl_dev_vdpa_vring_group(self->dev, 2, &g));
		EXPECT_EQ(1, g);
	}
	ASSERT_EQ(0, vhostctl_dev_vdpa_vring_size(self->dev, 0, &num));
	EXPECT_EQ(256, num);

	/* every index is checked (by the kernel: the library passes them on) */
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_vdpa_vring_group(self->dev, 99, &g));
	EXPECT_EQ(ENOBUFS, errno);
	/* vhost-vdpa checks a group index against the number of queues */
	EXPECT_EQ(-ENOBUFS, vhostctl_dev_vdpa_set_group_asid(self->dev, self->nvqs, 0));
	EXPECT_EQ(ENOBUFS, errno);
	ASSERT_EQ(0, vhostctl_dev_vdpa_asid_count(self->dev, &n));
	EXPECT_EQ(-EINVAL, vhostctl_dev_vdpa_set_group_asid(self->dev, 0, n));
	EXPECT_EQ(EINVAL, errno);
	/* a mapping in an address space past the last: the kernel's EFAULT */
	EXPECT_EQ(-EFAULT, vhostctl_dev_vdpa_iotlb_update(self->dev, n, 0x10000000, 4096,
							  self->mem, VHOSTCTL_VDPA_ACCESS_RW));
}

/* Net: one frame to our MAC on TX comes back on RX, byte for byte. */
static void net_loop(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vhost) *self,
		     const FIXTURE_VARIANT(vhost) *variant, bool expect)
{
	struct vdesc rx = { biova(0), BUF_SIZE, D_WRITE, 0 };
	struct vdesc tx[2];
	int len = net_frame(self, buf(self, 1), self->mac, 0x5a, 100);
	uint64_t calls = 0;

	memset(buf(self, 0), 0, BUF_SIZE);
	chain(&self->vq[0], variant->indirect, self->mem, biova(8), &rx, 1);
	tx[0] = (struct vdesc){ biova(1), 12, 0, 0 };
	tx[1] = (struct vdesc){ biova(1) + 12, len - 12, 0, 0 };
	chain(&self->vq[1], variant->indirect, self->mem, biova(9), tx, 2);
	post(&self->vq[0], 0);
	post(&self->vq[1], 0);
	if (!expect) {
		EXPECT_EQ(-1, wait_used(&self->vq[0], 300));
		return;
	}
	ASSERT_EQ(0, wait_used(&self->vq[1], 2000));
	ASSERT_EQ(len, wait_used(&self->vq[0], 2000));
	EXPECT_EQ(0, memcmp(buf(self, 0), buf(self, 1), len));
	/* The interrupt follows the used index: wait for it, not a fixed time. */
	{
		struct pollfd pfd = { .fd = self->vq[0].call, .events = POLLIN };

		EXPECT_EQ(1, poll(&pfd, 1, 2000));
	}
	EXPECT_EQ(sizeof(calls), read(self->vq[0].call, &calls, sizeof(calls)));
	EXPECT_LE(1, calls);
}

/* Block: one request; returns the status byte or -1. */
static int blk_rw(struct __test_metadata *_metadata, FIXTURE_DATA(vhost) *self,
		  const FIXTURE_VARIANT(vhost) *variant, uint32_t type,
		  uint64_t sector, unsigned int data_buf, uint32_t len)
{
	struct {
		uint32_t type, ioprio;
		uint64_t sector;
	} *hdr = (void *)buf(self, 0);
	uint8_t *status = buf(self, 2);
	struct vdesc d[3];
	unsigned int n = 0;

	hdr->type = type;
	hdr->ioprio = 0;
	hdr->sector = sector;
	*status = 0xee;
	d[n++] = (struct vdesc){ biova(0), 16, 0, 0 };
	if (len)
		d[n++] = (struct vdesc){ biova(data_buf), len,
					 type == 0 || type == 8 ? D_WRITE : 0, 0 };
	d[n++] = (struct vdesc){ biova(2), 1, D_WRITE, 0 };
	chain(&self->vq[0], variant->indirect, self->mem, biova(9), d, n);
	post(&self->vq[0], 0);
	if (wait_used(&self->vq[0], 2000) < 0)
		return -1;
	return *status;
}

TEST_F(vhost, data_path)
{
	if (variant->device_id == 1) {
		ASSERT_EQ(0, get_mac(self));
		ASSERT_EQ(0, start(self, variant->features, 2));
		net_loop(_metadata, self, variant, true);
		/* a frame to another unicast address is filtered out */
		{
			uint8_t other[6] = { 0x02, 1, 2, 3, 4, 5 };
			struct vdesc rx = { biova(0), BUF_SIZE, D_WRITE, 0 };
			struct vdesc tx = { biova(1), 0, 0, 0 };

			tx.len = net_frame(self, buf(self, 1), other, 1, 60);
			chain(&self->vq[0], false, self->mem, 0, &rx, 1);
			chain(&self->vq[1], false, self->mem, 0, &tx, 1);
			post(&self->vq[1], 0);
			ASSERT_EQ(0, wait_used(&self->vq[1], 2000));
			post(&self->vq[0], 0);
			EXPECT_EQ(-1, wait_used(&self->vq[0], 300));
		}
	} else {
		uint8_t *w = buf(self, 3), *r = buf(self, 4);
		unsigned int i;

		ASSERT_EQ(0, start(self, variant->features, 1));
		for (i = 0; i < 4096; i++)
			w[i] = i * 7 + 3;
		EXPECT_EQ(0, blk_rw(_metadata, self, variant, 1, 8, 3, 4096));
		memset(r, 0, 4096);
		EXPECT_EQ(0, blk_rw(_metadata, self, variant, 0, 8, 4, 4096));
		EXPECT_EQ(0, memcmp(w, r, 4096));
		/* GET_ID */
		EXPECT_EQ(0, blk_rw(_metadata, self, variant, 8, 0, 4, 20));
		EXPECT_EQ(0, memcmp(r, "vhostctl_sim", 13));
		/* FLUSH */
		EXPECT_EQ(0, blk_rw(_metadata, self, variant, 4, 0, 0, 0));
		/* beyond the end: IOERR; unknown type: UNSUPP */
		EXPECT_EQ(1, blk_rw(_metadata, self, variant, 0, ~0ULL / 2, 4, 512));
		EXPECT_EQ(1, blk_rw(_metadata, self, variant, 1, 1ULL << 40, 3, 512));
		EXPECT_EQ(1, blk_rw(_metadata, self, variant, 0, 0, 4, 100));
		EXPECT_EQ(2, blk_rw(_metadata, self, variant, 77, 0, 4, 512));
		/* WRITE_ZEROES of the sectors written above */
		{
			struct {
				uint64_t sector;
				uint32_t num, flags;
			} *seg = (void *)buf(self, 5);

			seg->sector = 8;
			seg->num = 8;
			seg->flags = 0;
			EXPECT_EQ(0, blk_rw(_metadata, self, variant, 13, 0, 5, 16));
			EXPECT_EQ(0, blk_rw(_metadata, self, variant, 0, 8, 4, 4096));
			for (i = 0; i < 4096 && !r[i]; i++)
				;
			EXPECT_EQ(4096, i);
			seg->sector = ~0ULL - 3;
			EXPECT_EQ(1, blk_rw(_metadata, self, variant, 11, 0, 5, 16));
		}
	}
	EXPECT_EQ(0, get_status(self->dev) & S_NEEDS_RESET);
}

TEST_F(vhost, suspend_resume)
{
	unsigned int index = 0, base = 0;
	struct vdesc d = { biova(3), 512, D_WRITE, 0 };

	if (variant->device_id == 1) {
		ASSERT_EQ(0, get_mac(self));
		ASSERT_EQ(0, start(self, variant->features, 2));
		ASSERT_EQ(0, vhostctl_dev_vdpa_suspend(self->dev));
		net_loop(_metadata, self, variant, false);
		ASSERT_EQ(0, vhostctl_dev_vdpa_resume(self->dev));
		EXPECT_EQ(0, wait_used(&self->vq[1], 2000));
		EXPECT_LT(0, wait_used(&self->vq[0], 2000));
		index = 1;
	} else {
		ASSERT_EQ(0, start(self, variant->features, 1));
		ASSERT_EQ(0, vhostctl_dev_vdpa_suspend(self->dev));
		*(uint32_t *)buf(self, 0) = 0;
		chain(&self->vq[0], false, self->mem, 0, &d, 1);
		post(&self->vq[0], 0);
		EXPECT_EQ(-1, wait_used(&self->vq[0], 300));
		ASSERT_EQ(0, vhostctl_dev_vdpa_resume(self->dev));
		EXPECT_LE(0, wait_used(&self->vq[0], 2000));
	}
	/* the state read back is where the driver is */
	ASSERT_EQ(0, vhostctl_dev_vdpa_suspend(self->dev));
	ASSERT_EQ(0, vhostctl_dev_get_vring_base(self->dev, index, &base));
	if (variant->features & (1ULL << VS_F_RING_PACKED)) {
		/* avail and used: past the slots of one chain, wrap still 1 */
		uint32_t slots = variant->device_id == 1 && !variant->indirect ? 2 : 1;

		EXPECT_EQ((0x8000 | slots) << 16 | 0x8000 | slots, base);
	} else {
		EXPECT_EQ(1, base);
	}
}

static int data_asid(FIXTURE_DATA(vhost) *self, bool net, unsigned int asid)
{
	if (vhostctl_dev_reset(self->dev) ||
	    vhostctl_dev_vdpa_set_group_asid(self->dev, 0, asid))
		return -1;
	/* the descriptor group */
	return vhostctl_dev_vdpa_set_group_asid(self->dev, net ? 2 : 0, asid);
}

/* Data queues in address space 1: works only once AS 1 maps the memory. */
TEST_F(vhost, address_spaces)
{
	bool net = variant->device_id == 1;
	struct vdesc d = { biova(3), 512, D_WRITE, 0 };
	struct vdesc tx = { biova(1), 64, 0, 0 };
	unsigned int q = net ? 1 : 0;

	if (net) {
		ASSERT_EQ(0, get_mac(self));
	}
	ASSERT_EQ(0, data_asid(self, net, 1));
	ASSERT_EQ(0, start_ex(self, variant->features, net ? 2 : 1, false));
	/* AS 1 is empty: the ring is unreachable */
	if (net)
		chain(&self->vq[q], false, self->mem, 0, &tx, 1);
	else
		chain(&self->vq[q], false, self->mem, 0, &d, 1);
	*(uint32_t *)buf(self, 0) = 0;
	post(&self->vq[q], 0);
	EXPECT_TRUE(wait_status(self->dev, S_NEEDS_RESET, 2000));
	EXPECT_EQ(-1, wait_used(&self->vq[q], 50));

	/* map the same memory in AS 1 and start again */
	ASSERT_EQ(0, vhostctl_dev_vdpa_iotlb_update(self->dev, 1, 0, MEM_SIZE, self->mem,
						    VHOSTCTL_VDPA_ACCESS_RW));
	ASSERT_EQ(0, data_asid(self, net, 1));
	ASSERT_EQ(0, start_ex(self, variant->features, net ? 2 : 1, false));
	if (net) {
		net_loop(_metadata, self, variant, true);
	} else {
		EXPECT_EQ(0, blk_rw(_metadata, self, variant, 4, 0, 0, 0));
	}
	EXPECT_EQ(0, get_status(self->dev) & S_NEEDS_RESET);

	/* AS 0 no longer reaches the queues' buffers of AS 1... */
	ASSERT_EQ(0, vhostctl_dev_vdpa_iotlb_invalidate(self->dev, 1, 0, MEM_SIZE));
	ASSERT_EQ(0, data_asid(self, net, 1));
	ASSERT_EQ(0, start_ex(self, variant->features, net ? 2 : 1, false));
	if (net)
		chain(&self->vq[q], false, self->mem, 0, &tx, 1);
	else
		chain(&self->vq[q], false, self->mem, 0, &d, 1);
	post(&self->vq[q], 0);
	EXPECT_TRUE(wait_status(self->dev, S_NEEDS_RESET, 2000));
}

/*
 * Hostile rings: each must end in NEEDS_RESET, after which a reset brings
 * the device back. The queue used is TX (net) or the request queue (blk).
 */
enum hostile {
	H_UNMAPPED,
	H_LOOP,
	H_AVAIL_JUMP,
	H_HEAD_RANGE,
	H_OVERFLOW,
	H_INDIRECT_LEN,
	H_INDIRECT_NESTED,
	H_INDIRECT_NEXT,
	H_TOO_LONG,
	H_WRITE_THEN_READ,
	H_MAX,
};

/* The packed forms of the hostile cases; false if there is none. */
static bool hostile_packed(FIXTURE_DATA(vhost) *self, struct vq *v,
			   enum hostile h)
{
	struct pdesc *t = (struct pdesc *)buf(self, 10);
	struct vdesc seg[2];
	unsigned int i;

	switch (h) {
	case H_UNMAPPED:
		seg[0] = (struct vdesc){ UNMAPPED, 64, 0, 0 };
		seg[1] = (struct vdesc){ UNMAPPED, 64, D_WRITE, 0 };
		pchain(v, false, self->mem, 0, seg, 2);
		break;
	case H_LOOP:
		/* every slot says NEXT: a chain longer than the ring */
		for (i = 0; i < QNUM; i++)
			praw(v, biova(1), 16, D_NEXT, i == 0);
		break;
	case H_OVERFLOW:
		seg[0] = (struct vdesc){ ~0ULL - 0xfff, 0x2000, 0, 0 };
		pchain(v, false, self->mem, 0, seg, 1);
		break;
	case H_INDIRECT_LEN:
		praw(v, biova(10), 17, D_INDIRECT, true);
		break;
	case H_INDIRECT_NESTED:
		t[0] = (struct pdesc){ biova(10), 32, 0, D_INDIRECT };
		t[1] = (struct pdesc){ biova(1), 16, 0, 0 };
		praw(v, biova(10), 32, D_INDIRECT, true);
		break;
	case H_INDIRECT_NEXT:
		t[0] = (struct pdesc){ biova(1), 16, 0, 0 };
		praw(v, biova(10), 16, D_INDIRECT | D_NEXT, true);
		praw(v, biova(1), 16, 0, false);
		break;
	case H_TOO_LONG:
		praw(v, biova(10), 4096 * 16, D_INDIRECT, true);
		break;
	case H_WRITE_THEN_READ:
		seg[0] = (struct vdesc){ biova(1), 16, D_WRITE, 0 };
		seg[1] = (struct vdesc){ biova(1), 16, 0, 0 };
		pchain(v, false, self->mem, 0, seg, 2);
		break;
	default:
		return false;	/* split-only: avail index, head range */
	}
	post(v, 0);
	return true;
}

static bool hostile(FIXTURE_DATA(vhost) *self, unsigned int q, enum hostile h)
{
	struct vq *v = &self->vq[q];
	struct vdesc *t = (struct vdesc *)buf(self, 10);
	uint64_t one = 1;

	if (v->packed)
		return hostile_packed(self, v, h);
	switch (h) {
	case H_UNMAPPED:
		v->desc[0] = (struct vdesc){ UNMAPPED, 64, 0, 0 };
		v->desc[1] = (struct vdesc){ UNMAPPED, 64, D_WRITE, 0 };
		if (q == 0) {
			/* blk: header unreachable */
			v->desc[0].flags = D_NEXT;
			v->desc[0].next = 1;
		}
		break;
	case H_LOOP:
		v->desc[0] = (struct vdesc){ biova(1), 16, D_NEXT, 1 };
		v->desc[1] = (struct vdesc){ biova(1), 16, D_NEXT, 0 };
		break;
	case H_AVAIL_JUMP:
		v->desc[0] = (struct vdesc){ biova(1), 64, 0, 0 };
		v->avail[2] = 0;
		v->avail[1] = v->avail_idx + QNUM + 5;
		return write(v->kick, &one, sizeof(one)) == sizeof(one);
	case H_HEAD_RANGE:
		v->avail[2 + (v->avail_idx % QNUM)] = QNUM + 3;
		v->avail[1] = ++v->avail_idx;
		return write(v->kick, &one, sizeof(one)) == sizeof(one);
	case H_OVERFLOW:
		v->desc[0] = (struct vdesc){ ~0ULL - 0xfff, 0x2000, 0, 0 };
		break;
	case H_INDIRECT_LEN:
		v->desc[0] = (struct vdesc){ biova(10), 17, D_INDIRECT, 0 };
		break;
	case H_INDIRECT_NESTED:
		t[0] = (struct vdesc){ biova(10), 32, D_INDIRECT, 0 };
		t[1] = (struct vdesc){ biova(1), 16, 0, 0 };
		v->desc[0] = (struct vdesc){ biova(10), 32, D_INDIRECT, 0 };
		break;
	case H_INDIRECT_NEXT:
		v->desc[0] = (struct vdesc){ biova(10), 16, D_INDIRECT | D_NEXT, 1 };
		t[0] = (struct vdesc){ biova(1), 16, 0, 0 };
		break;
	case H_TOO_LONG:
		/* an indirect table far longer than allowed */
		v->desc[0] = (struct vdesc){ biova(10), 4096 * 16, D_INDIRECT, 0 };
		break;
	case H_WRITE_THEN_READ:
		v->desc[0] = (struct vdesc){ biova(1), 16, D_WRITE | D_NEXT, 1 };
		v->desc[1] = (struct vdesc){ biova(1), 16, 0, 0 };
		break;
	default:
		break;
	}
	post(v, 0);
	return true;
}

TEST_F(vhost, hostile_rings)
{
	bool net = variant->device_id == 1;
	unsigned int q = net ? 1 : 0, h;

	if (net) {
		ASSERT_EQ(0, get_mac(self));
	}
	for (h = 0; h < H_MAX; h++) {
		ASSERT_EQ(0, start(self, variant->features, net ? 2 : 1));
		if (!hostile(self, q, h))
			continue;
		EXPECT_TRUE(wait_status(self->dev, S_NEEDS_RESET, 2000))
			TH_LOG("hostile case %u did not set NEEDS_RESET", h);
		/* the queue stopped: nothing was completed */
		EXPECT_EQ(-1, wait_used(&self->vq[q], 20));
	}
	/* and after a reset the device works again */
	ASSERT_EQ(0, start(self, variant->features, net ? 2 : 1));
	EXPECT_EQ(0, get_status(self->dev) & S_NEEDS_RESET);
	if (net) {
		net_loop(_metadata, self, variant, true);
	} else {
		EXPECT_EQ(0, blk_rw(_metadata, self, variant, 4, 0, 0, 0));
	}
}

TEST_HARNESS_MAIN
