// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim under random input through vhost-vdpa: for each seed, a
 * fixed number of steps, each one of random ring contents (descriptors,
 * addresses, lengths, flags, chain links, avail and packed flags) followed
 * by a kick, IOTLB updates and invalidations over random ranges of random
 * address spaces, group-to-ASID moves, suspend and resume, status writes,
 * and device restarts with random ring features, sizes and bases.
 *
 * Nothing here is expected to work: the device may refuse, stop a queue or
 * ask for a reset.  What is checked is what a kernel module owes any
 * process that can open its vhost-vdpa node: no WARNING, BUG, Oops or
 * KASAN report in the kernel log, every call returns, the device still
 * starts cleanly afterwards, every device is freed, no slab or vmalloc is
 * left behind, and the module unloads.
 *
 * Seeds and steps: VS_RANDOM_SEEDS (default 4) and VS_RANDOM_STEPS
 * (default 1500) in the environment; a failing seed is printed, and
 * VS_RANDOM_SEED=N replays that one alone.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>

/* the harness compares int literals with unsigned values */
#pragma GCC diagnostic ignored "-Wsign-compare"
/* the harness's fixture wrapper, with a setjmp of its own */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "vdpa_sim_helpers.h"

#define MEM_SIZE	(4u << 20)
#define QNUM		64u
#define NQ		3u
#define VQ_BASE(q)	((uint64_t)(q) * 0x10000)
#define PAGE		4096u

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40

/* a ring descriptor, split or packed: the last two fields differ in meaning */
struct rdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t a;
	uint16_t b;
};

struct rnd {
	uint64_t s;
};

static uint64_t rnd_next(struct rnd *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd_below(struct rnd *r, uint32_t n)
{
	return n ? (uint32_t)(rnd_next(r) % n) : 0;
}

/* What happened, to show that the random steps reached the device. */
struct tally {
	unsigned int steps;
	unsigned int kicks;
	unsigned int used_moved;	/* the device consumed something */
	unsigned int needs_reset;	/* the device refused a ring for good */
	unsigned int iotlb_ok, iotlb_refused;
	unsigned int asid_ok, asid_refused;
	unsigned int restarts, restart_refused;
};

struct rdev {
	struct vhostctl_vdpa *nl;
	struct vhostctl_dev *dev;
	struct vhostctl_mem *gm;
	uint8_t *mem;
	char name[32];
	uint64_t dev_features;
	uint32_t nvqs, ngroups, nasids;
	bool packed;
	unsigned int num;	/* ring size of the last start, if it was a power of two */
	int kick[NQ], call[NQ];
};

static uint64_t meminfo_kb(const char *key)
{
	char line[128];
	uint64_t v = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			v = strtoull(line + strlen(key) + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static int live_devices(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/vhostctl_sim/parameters/live_devices", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* The kernel log from now on: a /dev/kmsg reader at its end. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* The first record since kmsg_open() that says the kernel was hurt, or NULL. */
static const char *kmsg_bad(int fd, char *rec, size_t len)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "KASAN", "general protection",
		"refcount_t", "list_add corruption", "list_del corruption",
	};
	ssize_t n;

	for (;;) {
		n = read(fd, rec, len - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: read on */
		if (n <= 0)
			return NULL;
		rec[n] = 0;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strstr(rec, bad[i]))
				return rec;
	}
}

static void set_status(struct rdev *d, uint8_t s)
{
	vhostctl_dev_set_status(d->dev, s);
}

static uint8_t get_status(struct rdev *d)
{
	uint8_t s = 0xff;

	vhostctl_dev_get_status(d->dev, &s);
	return s;
}

/*
 * A driver's start: reset, features, every ring at its place in guest
 * memory, DRIVER_OK.  @num, @base and @features come from the caller, so a
 * random caller gets refusals; 0 when DRIVER_OK stuck without NEEDS_RESET.
 */
static int start(struct rdev *d, uint64_t features, unsigned int num, unsigned int base)
{
	unsigned int q;

	vhostctl_dev_reset(d->dev);
	set_status(d, S_ACK | S_DRIVER);
	if (vhostctl_dev_set_features(d->dev, features))
		return -1;
	set_status(d, S_ACK | S_DRIVER | S_FEATURES_OK);
	d->packed = features & (1ULL << VS_F_RING_PACKED);
	d->num = num && num <= QNUM && !(num & (num - 1)) ? num : QNUM;
	for (q = 0; q < NQ && q < d->nvqs; q++) {
		struct vhostctl_vring_addr a = {
			.index = q,
			.desc = VQ_BASE(q),
			.avail = VQ_BASE(q) + 0x1000,
			.used = VQ_BASE(q) + 0x2000,
		};

		memset(d->mem + VQ_BASE(q), 0, 0x3000);
		if (vhostctl_dev_set_vring_num(d->dev, q, num) ||
		    vhostctl_dev_set_vring_addr(d->dev, &a) ||
		    vhostctl_dev_set_vring_base(d->dev, q, base) ||
		    vhostctl_dev_set_vring_kick(d->dev, q, d->kick[q]) ||
		    vhostctl_dev_set_vring_call(d->dev, q, d->call[q]) ||
		    vhostctl_dev_set_vring_enable(d->dev, q, 1))
			return -1;
	}
	set_status(d, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return (get_status(d) & (S_DRIVER_OK | S_NEEDS_RESET)) == S_DRIVER_OK ? 0 : -1;
}

static uint64_t rnd_addr(struct rnd *r)
{
	switch (rnd_below(r, 8)) {
	case 0:
		return rnd_next(r);				/* anywhere */
	case 1:
		return MEM_SIZE - rnd_below(r, 64);		/* across the end */
	case 2:
		return (64ull << 20) + rnd_below(r, MEM_SIZE);	/* unmapped */
	case 3:
		return ~0ull - rnd_below(r, 4096);		/* wraps */
	default:
		return 0x100000 + rnd_below(r, MEM_SIZE - 0x100000);
	}
}

static uint32_t rnd_len(struct rnd *r)
{
	switch (rnd_below(r, 6)) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)rnd_next(r);
	case 2:
		return rnd_below(r, 65536);
	default:
		return 1 + rnd_below(r, 2048);
	}
}

/*
 * A well-formed split-ring buffer on queue @q: one descriptor in memory,
 * device-writable on receive queues.  Mixed with the random ones, so that
 * the device really moves data while the IOTLB and the groups change
 * under it.
 */
static void plausible(struct rdev *d, struct rnd *r, unsigned int q)
{
	struct rdesc *desc = (struct rdesc *)(d->mem + VQ_BASE(q));
	uint16_t *drv = (uint16_t *)(d->mem + VQ_BASE(q) + 0x1000);
	uint16_t head = (uint16_t)rnd_below(r, d->num), idx = drv[1];

	desc[head].addr = 0x100000 + (uint64_t)rnd_below(r, 512) * 2048;
	desc[head].len = 64 + rnd_below(r, 1500);
	desc[head].a = q == 0 ? 2 : 0;	/* WRITE on receive */
	desc[head].b = 0;
	drv[2 + idx % d->num] = head;
	__atomic_store_n(&drv[1], (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

/* Random ring contents on queue @q, then a kick. */
static void scribble(struct rdev *d, struct rnd *r, unsigned int q, struct tally *t)
{
	struct rdesc *desc = (struct rdesc *)(d->mem + VQ_BASE(q));
	uint16_t *drv = (uint16_t *)(d->mem + VQ_BASE(q) + 0x1000);
	uint16_t *dev = (uint16_t *)(d->mem + VQ_BASE(q) + 0x2000);
	unsigned int n = 1 + rnd_below(r, 8), i;
	uint16_t used_before = dev[1];

	if (!d->packed && rnd_below(r, 2)) {
		for (i = 0; i < n; i++)
			plausible(d, r, q);
		n = 0;
		goto kick;
	}
	for (i = 0; i < n; i++) {
		unsigned int slot = rnd_below(r, QNUM);
		uint16_t flags = (uint16_t)(rnd_next(r) & 0x7);	/* NEXT, WRITE, INDIRECT */

		desc[slot].addr = rnd_addr(r);
		desc[slot].len = rnd_len(r);
		if (d->packed) {
			/* id, then flags with random avail/used bits */
			desc[slot].a = (uint16_t)rnd_below(r, QNUM + 4);
			desc[slot].b = flags | (uint16_t)(rnd_next(r) & 0x8080);
		} else {
			desc[slot].a = flags;
			desc[slot].b = (uint16_t)rnd_below(r, QNUM + 4);
		}
	}
	if (!d->packed) {
		uint16_t idx = drv[1];

		n = rnd_below(r, 5) ? 1 + rnd_below(r, 4) : rnd_below(r, 65536);
		for (i = 0; i < n && i < QNUM; i++)
			drv[2 + (uint16_t)(idx + i) % QNUM] = (uint16_t)rnd_below(r, QNUM + 2);
		__atomic_store_n(&drv[1], (uint16_t)(idx + n), __ATOMIC_RELEASE);
		if (!rnd_below(r, 8))
			drv[2 + QNUM] = (uint16_t)rnd_next(r);	/* used_event */
	} else if (!rnd_below(r, 8)) {
		drv[0] = (uint16_t)rnd_next(r);		/* driver event area */
		drv[1] = (uint16_t)rnd_next(r);
	}
kick:
	if (eventfd_write(d->kick[q], 1) == 0)
		t->kicks++;
	if (!rnd_below(r, 4))
		usleep(1000);	/* let the worker get there */
	if (!d->packed && dev[1] != used_before)
		t->used_moved++;
}

static void iotlb_step(struct rdev *d, struct rnd *r, struct tally *t)
{
	unsigned int asid = rnd_below(r, d->nasids + 1);
	uint64_t iova = rnd_below(r, 5) ? (uint64_t)rnd_below(r, 2 * MEM_SIZE / PAGE) * PAGE :
					  rnd_next(r) & ~(uint64_t)(PAGE - 1);
	uint64_t off = (uint64_t)rnd_below(r, MEM_SIZE / PAGE) * PAGE;
	uint64_t size = (uint64_t)(1 + rnd_below(r, 64)) * PAGE;
	int ret;

	if (off + size > MEM_SIZE)
		size = MEM_SIZE - off;
	if (rnd_below(r, 2))
		ret = vhostctl_dev_vdpa_iotlb_invalidate(d->dev, asid, iova, size);
	else
		ret = vhostctl_dev_vdpa_iotlb_update(d->dev, asid, iova, size, d->mem + off,
						     1 + rnd_below(r, 3));
	if (ret)
		t->iotlb_refused++;
	else
		t->iotlb_ok++;
}

static void step(struct rdev *d, struct rnd *r, struct tally *t)
{
	unsigned int q = rnd_below(r, d->nvqs < NQ ? d->nvqs : NQ);
	uint64_t f;
	unsigned int op = rnd_below(r, 16);

	t->steps++;
	if (op < 7)
		op = 0;		/* ring contents: most steps */
	else if (op < 9)
		op = 7;		/* IOTLB */
	switch (op) {
	case 0:
		scribble(d, r, q, t);
		break;
	case 7:
		iotlb_step(d, r, t);
		break;
	case 9:
		if (vhostctl_dev_vdpa_set_group_asid(d->dev, rnd_below(r, d->ngroups + 1),
						     rnd_below(r, d->nasids + 1)))
			t->asid_refused++;
		else
			t->asid_ok++;
		break;
	case 10:
		if (rnd_below(r, 2))
			vhostctl_dev_vdpa_suspend(d->dev);
		else
			vhostctl_dev_vdpa_resume(d->dev);
		break;
	case 11:
		/* any status byte, or one of the driver's own */
		set_status(d, rnd_below(r, 2) ? (uint8_t)rnd_next(r) :
			   (uint8_t)(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK));
		break;
	case 12: {
		unsigned int base = 0;

		vhostctl_dev_get_vring_base(d->dev, rnd_below(r, d->nvqs + 2), &base);
		break;
	}
	case 13: {
		uint8_t cfg[64];

		vhostctl_dev_get_config(d->dev, rnd_below(r, 80), cfg, 1 + rnd_below(r, 64));
		break;
	}
	default:
		f = d->dev_features & (rnd_next(r) | (1ULL << VS_F_VERSION_1) |
				       (1ULL << VS_F_ACCESS_PLATFORM));
		if (!rnd_below(r, 8))
			f = rnd_next(r);
		/* a power of two up to the ring's room, or anything */
		t->restarts++;
		if (start(d, f, rnd_below(r, 8) ? 1u << rnd_below(r, 7) : rnd_below(r, 70000),
			  rnd_below(r, 4) ? 0 : (unsigned int)rnd_next(r)))
			t->restart_refused++;
		break;
	}
	if (get_status(d) & S_NEEDS_RESET) {
		t->needs_reset++;
		start(d, d->dev_features & ((1ULL << VS_F_VERSION_1) |
					    (1ULL << VS_F_ACCESS_PLATFORM)), QNUM, 0);
	}
}

FIXTURE(rnd)
{
	struct rdev d;
	int kmsg;
	uint64_t slab0, vmalloc0;
};

FIXTURE_VARIANT(rnd)
{
	const char *mgmtdev;
	unsigned int salt;
};

FIXTURE_VARIANT_ADD(rnd, net)
{
	.mgmtdev = "vhostctl_sim_net",
	.salt = 1,
};

FIXTURE_VARIANT_ADD(rnd, blk)
{
	.mgmtdev = "vhostctl_sim_blk",
	.salt = 2,
};

FIXTURE_SETUP(rnd)
{
	sync();
	vs_write_file("/proc/sys/vm/drop_caches", "3");
	self->slab0 = meminfo_kb("Slab");
	self->vmalloc0 = meminfo_kb("VmallocUsed");
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	self->d.nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->d.nl) TH_LOG("vdpa netlink: %s", strerror(errno));
}

FIXTURE_TEARDOWN(rnd)
{
	vhostctl_vdpa_close(self->d.nl);
	close(self->kmsg);
}

/* A device of @mgmtdev on vhost_vdpa, owned, with 4 MiB of memory at IOVA 0. */
static int rdev_open(struct __test_metadata *_metadata, struct rdev *d, const char *mgmtdev)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o);
	char dir[256], node[64], path[96];
	uint64_t bf;
	unsigned int q;

	vs_unique_name(d->name, sizeof(d->name), "rn");
	d->num = QNUM;
	d->packed = false;
	if (!strcmp(mgmtdev, "vhostctl_sim_net")) {
		o.set = VHOSTCTL_VDPA_ADD_MAX_VQP;
		o.max_vq_pairs = 1;
	}
	if (vhostctl_vdpa_dev_add(d->nl, d->name, mgmtdev, &o)) {
		TH_LOG("add %s: %s", d->name, vhostctl_vdpa_error(d->nl));
		return -1;
	}
	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", d->name);
	if (vs_bind(d->name, "vhost_vdpa") ||
	    vs_wait_find(dir, "vhost-vdpa-", node, sizeof(node), 2000))
		return -1;
	snprintf(path, sizeof(path), "/dev/%s", node);
	d->dev = vhostctl_dev_open(path, NULL);
	if (!d->dev)
		return -1;
	if (vhostctl_dev_get_backend_features(d->dev, &bf) ||
	    vhostctl_dev_set_backend_features(d->dev, bf) ||
	    vhostctl_dev_set_owner(d->dev) ||
	    vhostctl_dev_get_features(d->dev, &d->dev_features) ||
	    vhostctl_dev_vdpa_vq_count(d->dev, &d->nvqs) ||
	    vhostctl_dev_vdpa_group_count(d->dev, &d->ngroups) ||
	    vhostctl_dev_vdpa_asid_count(d->dev, &d->nasids))
		return -1;
	d->gm = vhostctl_mem_new();
	if (!d->gm || vhostctl_mem_add_region(d->gm, 0, MEM_SIZE, 0) < 0)
		return -1;
	d->mem = vhostctl_mem_gpa_to_hva(d->gm, 0, MEM_SIZE);
	for (q = 0; q < NQ; q++) {
		d->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		d->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->kick[q] < 0 || d->call[q] < 0)
			return -1;
	}
	return d->mem && !vhostctl_dev_set_mem_table(d->dev, d->gm) ? 0 : -1;
}

static void rdev_close(struct rdev *d)
{
	unsigned int q;

	for (q = 0; q < NQ; q++) {
		if (d->kick[q] > 0)
			close(d->kick[q]);
		if (d->call[q] > 0)
			close(d->call[q]);
		d->kick[q] = d->call[q] = -1;
	}
	/* vhost_vdpa's remove waits for the file's release: close it first */
	vhostctl_dev_close(d->dev);
	d->dev = NULL;
	vhostctl_mem_free(d->gm);
	d->gm = NULL;
	vhostctl_vdpa_dev_del(d->nl, d->name);
}

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *s = getenv(name);

	return s && *s ? (unsigned int)strtoul(s, NULL, 0) : def;
}

TEST_F_TIMEOUT(rnd, seeds, 600)
{
	unsigned int nseeds = env_uint("VS_RANDOM_SEEDS", 4);
	unsigned int steps = env_uint("VS_RANDOM_STEPS", 1500);
	unsigned int one = env_uint("VS_RANDOM_SEED", 0);
	struct tally all = { 0 };
	char rec[1024];
	const char *bad;
	uint64_t slab1, vmalloc1;

	for (unsigned int s = one ? one : 1; s <= (one ? one : nseeds); s++) {
		struct rnd r = { .s = 0x9e3779b97f4a7c15ULL * (s * 4 + variant->salt) };
		struct tally t = { 0 };
		struct rdev *d = &self->d;

		ASSERT_EQ(0, rdev_open(_metadata, d, variant->mgmtdev));
		for (unsigned int i = 0; i < steps; i++)
			step(d, &r, &t);
		/* Still a device: a clean start after all that must hold. */
		vhostctl_dev_vdpa_resume(d->dev);
		vhostctl_dev_vdpa_iotlb_invalidate(d->dev, 0, 0, ~0ull);
		EXPECT_EQ(0, vhostctl_dev_set_mem_table(d->dev, d->gm)) TH_LOG("seed %u", s);
		for (unsigned int g = 0; g < d->ngroups; g++)
			vhostctl_dev_vdpa_set_group_asid(d->dev, g, 0);
		EXPECT_EQ(0, start(d, d->dev_features & ((1ULL << VS_F_VERSION_1) |
							 (1ULL << VS_F_ACCESS_PLATFORM)), QNUM, 0))
			TH_LOG("seed %u: status 0x%x after the random steps", s, get_status(d));
		rdev_close(d);
		bad = kmsg_bad(self->kmsg, rec, sizeof(rec));
		ASSERT_EQ(NULL, bad) TH_LOG("seed %u (VS_RANDOM_SEED=%u): kernel log: %s", s, s, bad);
		ksft_print_msg("%s seed %u: %u steps, %u kicks, used moved %u, needs-reset %u, "
			       "iotlb %u ok %u refused, asid %u ok %u refused, restarts %u (%u refused)\n",
			       variant->mgmtdev, s, t.steps, t.kicks, t.used_moved, t.needs_reset,
			       t.iotlb_ok, t.iotlb_refused, t.asid_ok, t.asid_refused,
			       t.restarts, t.restart_refused);
		all.kicks += t.kicks;
		all.needs_reset += t.needs_reset;
		all.iotlb_ok += t.iotlb_ok;
		all.iotlb_refused += t.iotlb_refused;
		all.restarts += t.restarts - t.restart_refused;
	}
	/*
	 * The steps reached the device: some rings were refused for good,
	 * some IOTLB changes taken and some refused, some restarts held.
	 * A run where none of that happened tested nothing.
	 */
	if (steps >= 100) {
		EXPECT_LT(0, all.needs_reset);
		EXPECT_LT(0, all.iotlb_ok);
		EXPECT_LT(0, all.iotlb_refused);
		EXPECT_LT(0, all.restarts);
	}
	EXPECT_EQ(0, live_devices()) TH_LOG("devices allocated and not freed");
	sync();
	vs_write_file("/proc/sys/vm/drop_caches", "3");
	slab1 = meminfo_kb("Slab");
	vmalloc1 = meminfo_kb("VmallocUsed");
	ksft_print_msg("slab %llu -> %llu kB, vmalloc %llu -> %llu kB\n",
		       (unsigned long long)self->slab0, (unsigned long long)slab1,
		       (unsigned long long)self->vmalloc0, (unsigned long long)vmalloc1);
	/* a leaked device costs about 20 kB of slab (net) or its 64 MiB disk */
	EXPECT_GT(1024, (int64_t)(slab1 - self->slab0));
	EXPECT_GT(4096, (int64_t)(vmalloc1 - self->vmalloc0));
}

/*
 * Last (fixtures run in the order they are defined; a plain TEST would run
 * first): with every device gone, the module unloads and loads again.
 */
FIXTURE(module)
{
	int unused;
};

FIXTURE_SETUP(module)
{
}

FIXTURE_TEARDOWN(module)
{
}

TEST_F(module, unload)
{
	int kmsg = kmsg_open();
	char rec[1024];
	const char *bad;

	ASSERT_EQ(0, live_devices());
	ASSERT_EQ(0, system("rmmod vhostctl_sim"));
	ASSERT_NE(0, access("/sys/module/vhostctl_sim", F_OK));
	ASSERT_EQ(0, system("modprobe vhostctl_sim"));
	ASSERT_EQ(0, live_devices());
	bad = kmsg_bad(kmsg, rec, sizeof(rec));
	EXPECT_EQ(NULL, bad) TH_LOG("kernel log: %s", bad);
	close(kmsg);
}

TEST_HARNESS_MAIN
