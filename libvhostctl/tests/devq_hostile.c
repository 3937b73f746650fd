// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The device side of a virtqueue against a hostile driver: rings written
 * by hand, split and packed.  Descriptor loops, chains longer than the
 * ring, indexes and heads out of range, addresses outside memory or
 * wrapping around, readable-after-writable, every malformed indirect table,
 * lengths that overflow 32 bits.  Each breaks the queue (-EIO, and every
 * later call fails) without touching memory outside the regions.  Then a
 * seeded fuzz: random rings popped until empty or broken; every buffer
 * handed out must lie inside a region, its lengths must add up.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/virtio_ring.h>

#include <vhostctl/vhostctl.h>

#include "devq_ring.h"
#include "test.h"

/* Region 0: rings and buffers; region 1 right after it, mapped elsewhere. */
#define R0_GPA 0x10000ull
#define R0_SIZE 0x10000ull
#define R1_GPA (R0_GPA + R0_SIZE)
#define R1_SIZE 0x1000ull
/* Region 2: 16 GiB of address space nobody touches (lengths near 4 GiB). */
#define R2_GPA 0x100000000ull
#define R2_SIZE (16ull << 30)

struct fx {
	uint8_t *mem, *mem1;
	void *huge;
	struct vhostctl_devq_region reg[3];
	struct vhostctl_devq *q;
	unsigned int num;
	bool packed;
	struct vring_desc *desc;
	uint16_t *avail;
	struct vring_packed_desc *pring;
	uint16_t next;		/* split: avail idx; packed: next slot */
	bool wrap;		/* packed driver wrap counter */
};

static uint64_t gpa_of(unsigned int off)
{
	return R0_GPA + off;
}

static void fx_init(struct fx *f, bool packed, unsigned int num, unsigned int flags)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o);

	memset(f, 0, sizeof(*f));
	f->mem = aligned_alloc(4096, R0_SIZE);
	f->mem1 = aligned_alloc(4096, R1_SIZE);
	f->huge = mmap(NULL, R2_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	t_true(f->mem && f->mem1 && f->huge != MAP_FAILED);
	memset(f->mem, 0, R0_SIZE);
	memset(f->mem1, 0, R1_SIZE);
	f->reg[0] = (struct vhostctl_devq_region){ R0_GPA, R0_SIZE, R0_GPA, f->mem };
	f->reg[1] = (struct vhostctl_devq_region){ R1_GPA, R1_SIZE, R1_GPA, f->mem1 };
	f->reg[2] = (struct vhostctl_devq_region){ R2_GPA, R2_SIZE, R2_GPA, f->huge };
	f->num = num;
	f->packed = packed;
	f->desc = (struct vring_desc *)(f->mem + DESC_OFF);
	f->pring = (struct vring_packed_desc *)(f->mem + DESC_OFF);
	f->avail = (uint16_t *)(f->mem + AVAIL_OFF);
	f->wrap = true;
	o.regions = f->reg;
	o.nregions = 3;
	o.num = num;
	o.flags = flags | (packed ? VHOSTCTL_DEVQ_F_PACKED : 0);
	o.desc = gpa_of(DESC_OFF);
	o.avail = gpa_of(AVAIL_OFF);
	o.used = gpa_of(USED_OFF);
	o.base = packed ? 1u << 15 : 0;
	o.call_fd = -1;
	f->q = vhostctl_devq_new(&o);
	t_true(f->q);
}

static void fx_fini(struct fx *f)
{
	vhostctl_devq_free(f->q);
	free(f->mem);
	free(f->mem1);
	munmap(f->huge, R2_SIZE);
}

/* Split: make descriptor @head available. */
static void s_avail(struct fx *f, uint16_t head)
{
	ring_avail(f->avail, f->num, &f->next, head);
}

static void s_desc(struct fx *f, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		   uint16_t next)
{
	f->desc[i] = (struct vring_desc){ addr, len, flags, next };
}

/* Packed: write the next slot, available in the driver's current wrap. */
static void p_put(struct fx *f, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	ring_put(f->pring, f->num, &f->next, &f->wrap, addr, len, id, flags);
}

/* Every iovec lies inside one region's host mapping. */
static bool iov_inside(const struct fx *f, const struct iovec *v)
{
	for (int i = 0; i < 3; i++) {
		uintptr_t b = (uintptr_t)f->reg[i].host, p = (uintptr_t)v->iov_base;

		if (p >= b && p - b <= f->reg[i].size && v->iov_len <= f->reg[i].size - (p - b))
			return true;
	}
	return false;
}

static void check_elem(const struct fx *f, const struct vhostctl_devq_elem *e)
{
	uint64_t out = 0, in = 0;

	for (unsigned int i = 0; i < e->out + e->in; i++) {
		if (!iov_inside(f, &e->iov[i]))
			t_fail("iov %u (%p + %zu) outside every region", i, e->iov[i].iov_base,
			       e->iov[i].iov_len);
		if (i < e->out)
			out += e->iov[i].iov_len;
		else
			in += e->iov[i].iov_len;
	}
	t_eq(e->out_len, out);
	t_eq(e->in_len, in);
}

static void expect_broken(struct fx *f, const char *what)
{
	struct vhostctl_devq_elem e;
	struct iovec iov[64];

	errno = 0;
	if (vhostctl_devq_pop(f->q, &e, iov, 64) != -EIO || errno != EIO)
		t_fail("%s: queue not broken", what);
	/* Broken for good: nothing later touches the ring. */
	t_eq(-EIO, vhostctl_devq_pop(f->q, &e, iov, 64));
	t_eq(-EIO, vhostctl_devq_flush(f->q));
	t_eq(-EIO, vhostctl_devq_notify_enable(f->q, 1));
	printf("ok: %-6s %-44s -> -EIO, queue stays broken\n", f->packed ? "packed" : "split",
	       what);
	fx_fini(f);
}

static int pop(struct fx *f, struct vhostctl_devq_elem *e, struct iovec *iov, unsigned int max)
{
	int r = vhostctl_devq_pop(f->q, e, iov, max);

	if (r == 1)
		check_elem(f, e);
	return r;
}

/* A good split ring first: the baseline the hostile cases differ from. */
static void split_good(void)
{
	struct vhostctl_devq_elem e;
	struct iovec iov[8];
	struct fx f;

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	/* 2 readable + 1 writable; the writable one spans region 0 and region 1. */
	s_desc(&f, 0, gpa_of(BUF_OFF), 100, F_NEXT, 1);
	s_desc(&f, 1, gpa_of(BUF_OFF + 0x100), 20, F_NEXT, 2);
	s_desc(&f, 2, R1_GPA - 0x10, 0x30, F_WRITE, 0);
	s_avail(&f, 0);
	t_eq(1, pop(&f, &e, iov, 8));
	t_eq(0, e.id);
	t_eq(2, e.out);
	t_eq(2, e.in);
	t_eq(120, e.out_len);
	t_eq(0x30, e.in_len);
	t_true(iov[2].iov_base == f.mem + R0_SIZE - 0x10 && iov[2].iov_len == 0x10);
	t_true(iov[3].iov_base == f.mem1 && iov[3].iov_len == 0x20);
	t_eq(-EINVAL, vhostctl_devq_push(f.q, &e, 0x31));
	t_eq(0, vhostctl_devq_push(f.q, &e, 0x30));
	t_eq(0, pop(&f, &e, iov, 8));
	/* Too few iovecs: -ENOBUFS, nothing consumed, the ring is fine. */
	s_avail(&f, 0);
	t_eq(-ENOBUFS, pop(&f, &e, iov, 3));
	t_eq(1, pop(&f, &e, iov, 4));
	/* Unpop gives the same buffer again. */
	t_eq(0, vhostctl_devq_unpop(f.q, &e));
	t_eq(1, pop(&f, &e, iov, 4));
	t_eq(0, e.id);
	/* An indirect table of 3 entries. */
	{
		struct vring_desc *t = (struct vring_desc *)(f.mem + IND_OFF);

		t[0] = (struct vring_desc){ gpa_of(BUF_OFF), 10, F_NEXT, 2 };
		t[2] = (struct vring_desc){ gpa_of(BUF_OFF + 64), 30, F_NEXT | F_WRITE, 1 };
		t[1] = (struct vring_desc){ gpa_of(BUF_OFF + 128), 40, F_WRITE, 0 };
		s_desc(&f, 5, gpa_of(IND_OFF), 3 * sizeof(*t), F_INDIRECT, 0);
		s_avail(&f, 5);
		t_eq(1, pop(&f, &e, iov, 8));
		t_eq(5, e.id);
		t_eq(10, e.out_len);
		t_eq(70, e.in_len);
	}
	t_eq(0, vhostctl_devq_push(f.q, &e, 70));
	t_eq(0, vhostctl_devq_flush(f.q) < 0);
	t_eq(3, vhostctl_devq_base(f.q));
	printf("ok: split  good chains, region-spanning, indirect, ENOBUFS, unpop\n");
	fx_fini(&f);
}

static void split_hostile(void)
{
	struct vring_desc *t;
	struct fx f;

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, gpa_of(BUF_OFF), 10, F_NEXT, 1);
	s_desc(&f, 1, gpa_of(BUF_OFF), 10, F_NEXT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "descriptor loop 0 -> 1 -> 0");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 3, gpa_of(BUF_OFF), 10, F_NEXT, 3);
	s_avail(&f, 3);
	expect_broken(&f, "descriptor pointing at itself");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, gpa_of(BUF_OFF), 10, F_NEXT, 8);
	s_avail(&f, 0);
	expect_broken(&f, "next index out of range");

	fx_init(&f, false, 8, 0);
	s_avail(&f, 8);
	expect_broken(&f, "head out of range");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, gpa_of(BUF_OFF), 10, 0, 0);
	f.next = 9;
	__atomic_store_n(&f.avail[1], f.next, __ATOMIC_RELEASE);
	expect_broken(&f, "avail index 9 ahead of an 8-entry ring");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, 0x8000, 10, 0, 0);
	s_avail(&f, 0);
	expect_broken(&f, "address below every region");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, R1_GPA + R1_SIZE - 4, 8, 0, 0);
	s_avail(&f, 0);
	expect_broken(&f, "buffer running past the last region");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, UINT64_MAX - 8, 100, 0, 0);
	s_avail(&f, 0);
	expect_broken(&f, "address + length wrapping 64 bits");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, gpa_of(BUF_OFF), 10, F_WRITE | F_NEXT, 1);
	s_desc(&f, 1, gpa_of(BUF_OFF), 10, 0, 0);
	s_avail(&f, 0);
	expect_broken(&f, "readable after writable");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, R2_GPA, UINT32_MAX, F_WRITE | F_NEXT, 1);
	s_desc(&f, 1, R2_GPA, UINT32_MAX, F_WRITE, 0);
	s_avail(&f, 0);
	expect_broken(&f, "writable length over 4 GiB");

	fx_init(&f, false, 8, 0);
	s_desc(&f, 0, gpa_of(IND_OFF), 32, F_INDIRECT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "indirect not negotiated");

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	s_desc(&f, 0, gpa_of(IND_OFF), 32, F_INDIRECT | F_NEXT, 1);
	s_avail(&f, 0);
	expect_broken(&f, "indirect with NEXT");

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	s_desc(&f, 0, gpa_of(IND_OFF), 24, F_INDIRECT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "indirect table of 24 bytes");

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	s_desc(&f, 0, gpa_of(IND_OFF), 0, F_INDIRECT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "empty indirect table");

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	s_desc(&f, 0, R1_GPA + R1_SIZE - 16, 32, F_INDIRECT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "indirect table past the end of memory");

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	t = (struct vring_desc *)(f.mem + IND_OFF);
	t[0] = (struct vring_desc){ gpa_of(IND_OFF + 64), 32, F_INDIRECT, 0 };
	s_desc(&f, 0, gpa_of(IND_OFF), 16, F_INDIRECT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "indirect table inside an indirect table");

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	t = (struct vring_desc *)(f.mem + IND_OFF);
	t[0] = (struct vring_desc){ gpa_of(BUF_OFF), 8, F_NEXT, 1 };
	t[1] = (struct vring_desc){ gpa_of(BUF_OFF), 8, F_NEXT, 0 };
	s_desc(&f, 0, gpa_of(IND_OFF), 32, F_INDIRECT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "loop inside an indirect table");

	fx_init(&f, false, 8, VHOSTCTL_DEVQ_F_INDIRECT);
	t = (struct vring_desc *)(f.mem + IND_OFF);
	t[0] = (struct vring_desc){ gpa_of(BUF_OFF), 8, F_NEXT, 2 };
	s_desc(&f, 0, gpa_of(IND_OFF), 32, F_INDIRECT, 0);
	s_avail(&f, 0);
	expect_broken(&f, "next past the end of an indirect table");

	/* A bogus id given to push is refused, the ring is not harmed. */
	{
		struct vhostctl_devq_elem e = { .id = 8, .ndesc = 1, .in_len = 0 };

		fx_init(&f, false, 8, 0);
		t_eq(-EINVAL, vhostctl_devq_push(f.q, &e, 0));
		fx_fini(&f);
	}
}

static void packed_good(void)
{
	struct vhostctl_devq_elem e;
	struct iovec iov[8];
	struct fx f;

	fx_init(&f, true, 6, VHOSTCTL_DEVQ_F_INDIRECT);
	/* Two buffers of 3 and 2 slots, then one that wraps the ring. */
	for (int round = 0; round < 4; round++) {
		/* The buffer id is the one in the chain's last descriptor. */
		p_put(&f, gpa_of(BUF_OFF), 50, 0, F_NEXT);
		p_put(&f, gpa_of(BUF_OFF + 64), 10, 0, F_NEXT);
		p_put(&f, R1_GPA - 8, 16, 7, F_WRITE);
		t_eq(1, pop(&f, &e, iov, 8));
		t_eq(7, e.id);
		t_eq(3, e.ndesc);
		t_eq(60, e.out_len);
		t_eq(16, e.in_len);
		t_eq(4, e.out + e.in);		/* the last one spans two regions */
		t_eq(0, vhostctl_devq_push(f.q, &e, 16));
		t_true(vhostctl_devq_flush(f.q) >= 0);
		/* The used descriptor is written at the buffer's first slot. */
		t_eq(0, pop(&f, &e, iov, 8));
	}
	/* Indirect. */
	{
		struct vring_packed_desc *t = (struct vring_packed_desc *)(f.mem + IND_OFF);

		t[0] = (struct vring_packed_desc){ gpa_of(BUF_OFF), 10, 0, 0 };
		t[1] = (struct vring_packed_desc){ gpa_of(BUF_OFF + 64), 20, 0, F_WRITE };
		p_put(&f, gpa_of(IND_OFF), 2 * sizeof(*t), 3, F_INDIRECT);
		t_eq(1, pop(&f, &e, iov, 8));
		t_eq(3, e.id);
		t_eq(1, e.ndesc);
		t_eq(10, e.out_len);
		t_eq(20, e.in_len);
	}
	/* ENOBUFS consumes nothing. */
	p_put(&f, gpa_of(BUF_OFF), 5, 1, F_NEXT);
	p_put(&f, gpa_of(BUF_OFF), 5, 1, 0);
	t_eq(-ENOBUFS, pop(&f, &e, iov, 1));
	t_eq(1, pop(&f, &e, iov, 2));
	t_eq(0, vhostctl_devq_unpop(f.q, &e));
	t_eq(1, pop(&f, &e, iov, 2));
	t_eq(1, e.id);
	printf("ok: packed good chains, wrap-around, region-spanning, indirect, ENOBUFS, unpop\n");
	fx_fini(&f);
}

static void packed_hostile(void)
{
	struct vring_packed_desc *t;
	struct fx f;

	fx_init(&f, true, 6, 0);
	for (int i = 0; i < 6; i++)
		p_put(&f, gpa_of(BUF_OFF), 4, 0, F_NEXT);
	expect_broken(&f, "chain through every slot, never ending");

	fx_init(&f, true, 6, 0);
	p_put(&f, 0x1000, 4, 0, 0);
	expect_broken(&f, "address below every region");

	fx_init(&f, true, 6, 0);
	p_put(&f, UINT64_MAX - 2, 8, 0, 0);
	expect_broken(&f, "address + length wrapping 64 bits");

	fx_init(&f, true, 6, 0);
	p_put(&f, gpa_of(BUF_OFF), 4, 0, F_WRITE | F_NEXT);
	p_put(&f, gpa_of(BUF_OFF), 4, 0, 0);
	expect_broken(&f, "readable after writable");

	fx_init(&f, true, 6, 0);
	p_put(&f, R2_GPA, UINT32_MAX, 0, F_NEXT);
	p_put(&f, R2_GPA, 2, 0, 0);
	expect_broken(&f, "readable length over 4 GiB");

	fx_init(&f, true, 6, 0);
	p_put(&f, gpa_of(IND_OFF), 32, 0, F_INDIRECT);
	expect_broken(&f, "indirect not negotiated");

	fx_init(&f, true, 6, VHOSTCTL_DEVQ_F_INDIRECT);
	p_put(&f, gpa_of(BUF_OFF), 4, 0, F_NEXT);
	p_put(&f, gpa_of(IND_OFF), 32, 0, F_INDIRECT);
	expect_broken(&f, "indirect in the middle of a chain");

	fx_init(&f, true, 6, VHOSTCTL_DEVQ_F_INDIRECT);
	p_put(&f, gpa_of(IND_OFF), 20, 0, F_INDIRECT);
	expect_broken(&f, "indirect table of 20 bytes");

	fx_init(&f, true, 6, VHOSTCTL_DEVQ_F_INDIRECT);
	p_put(&f, R1_GPA + R1_SIZE - 16, 32, 0, F_INDIRECT);
	expect_broken(&f, "indirect table past the end of memory");

	fx_init(&f, true, 6, VHOSTCTL_DEVQ_F_INDIRECT);
	t = (struct vring_packed_desc *)(f.mem + IND_OFF);
	t[0] = (struct vring_packed_desc){ gpa_of(BUF_OFF), 4, 0, 0 };
	t[1] = (struct vring_packed_desc){ gpa_of(IND_OFF), 16, 0, F_INDIRECT };
	p_put(&f, gpa_of(IND_OFF), 32, 0, F_INDIRECT);
	expect_broken(&f, "indirect table inside an indirect table");

	fx_init(&f, true, 6, VHOSTCTL_DEVQ_F_INDIRECT);
	t = (struct vring_packed_desc *)(f.mem + IND_OFF);
	t[0] = (struct vring_packed_desc){ 0x7000, 4, 0, 0 };
	p_put(&f, gpa_of(IND_OFF), 16, 0, F_INDIRECT);
	expect_broken(&f, "indirect entry outside memory");
}

/* Rings and queues the constructor must refuse. */
static void bad_setup(void)
{
	static uint8_t mem[0x4000] __attribute__((aligned(4096)));
	struct vhostctl_devq_region reg[2] = {
		{ 0x10000, sizeof(mem), 0, mem }, { 0x11000, 0x1000, 0, mem },
	};
	struct {
		const char *what;
		unsigned int nreg, num, flags;
		uint64_t desc, avail, used;
	} c[] = {
		{ "size 0", 1, 0, 0, 0x10000, 0x11000, 0x12000 },
		{ "split size 6 (not a power of two)", 1, 6, 0, 0x10000, 0x11000, 0x12000 },
		{ "size 65536", 1, 65536, VHOSTCTL_DEVQ_F_PACKED, 0x10000, 0x11000, 0x12000 },
		{ "descriptors outside memory", 1, 8, 0, 0x8000, 0x11000, 0x12000 },
		{ "used ring past the end", 1, 256, 0, 0x10000, 0x11000, 0x13800 },
		{ "misaligned descriptor table", 1, 8, 0, 0x10004, 0x11000, 0x12000 },
		{ "overlapping regions", 2, 8, 0, 0x10000, 0x11000, 0x12000 },
		{ "no regions", 0, 8, 0, 0x10000, 0x11000, 0x12000 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o, .regions = reg,
				   .nregions = c[i].nreg, .num = c[i].num, .flags = c[i].flags,
				   .desc = c[i].desc, .avail = c[i].avail, .used = c[i].used,
				   .call_fd = -1);

		errno = 0;
		if (vhostctl_devq_new(&o) || errno != EINVAL)
			t_fail("%s: accepted (errno %d)", c[i].what, errno);
		printf("ok: refused queue: %s\n", c[i].what);
	}
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: reproducible from the seed printed on failure. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* A random address: mostly inside memory, sometimes at an edge or beyond. */
static uint64_t rnd_addr(uint64_t *s)
{
	switch (rnd(s) % 8) {
	case 0: return rnd(s);
	case 1: return R1_GPA + R1_SIZE - rnd(s) % 64;
	case 2: return R2_GPA + rnd(s) % R2_SIZE;
	default: return R0_GPA + BUF_OFF + rnd(s) % (R0_SIZE - BUF_OFF);
	}
}

static uint32_t rnd_len(uint64_t *s)
{
	switch (rnd(s) % 8) {
	case 0: return (uint32_t)rnd(s);
	case 1: return 0;
	default: return (uint32_t)(rnd(s) % 4096);
	}
}

/* Read and write a popped buffer whole when it is in real memory (ASan checks the bounds). */
static void touch(const struct fx *f, const struct vhostctl_devq_elem *e)
{
	static uint8_t buf[1 << 17];

	for (unsigned int i = 0; i < e->out + e->in; i++)
		if ((uint8_t *)e->iov[i].iov_base >= (uint8_t *)f->huge &&
		    (uint8_t *)e->iov[i].iov_base < (uint8_t *)f->huge + R2_SIZE)
			return;
	if (e->out_len > sizeof(buf) || e->in_len > sizeof(buf))
		return;
	t_eq(e->out_len, vhostctl_devq_copy_from(e, 0, buf, e->out_len));
	t_eq(e->in_len, vhostctl_devq_copy_to(e, 0, buf, e->in_len));
}

struct tally {
	unsigned long popped, empty, broken, nobufs;
};

static void fuzz_one(uint64_t seed, bool packed, struct tally *t)
{
	unsigned int num = packed ? 5 + seed % 27 : 1u << (seed % 6);
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	struct vhostctl_devq_elem e;
	struct iovec iov[64];
	struct fx f;

	fx_init(&f, packed, num, VHOSTCTL_DEVQ_F_INDIRECT |
		(seed & 64 ? VHOSTCTL_DEVQ_F_EVENT_IDX : 0));
	for (unsigned int i = 0; i < num; i++) {
		uint16_t flags = (uint16_t)(rnd(&s) % 8);
		uint64_t a = rnd_addr(&s);
		/*
		 * Indirect tables are read, so never in region 2 (address
		 * space only); mostly where the random tables are.
		 */
		if (flags & F_INDIRECT && (rnd(&s) % 2 || (a >= R2_GPA && a - R2_GPA < R2_SIZE)))
			a = gpa_of(IND_OFF + 16 * (rnd(&s) % 64));
		uint32_t l = flags & F_INDIRECT && rnd(&s) % 2 ?
			     16 * (uint32_t)(rnd(&s) % 8) : rnd_len(&s);

		if (packed) {
			if (rnd(&s) % 8 == 0)
				flags |= (uint16_t)(rnd(&s) & (P_AVAIL | P_USED));
			p_put(&f, a, l, (uint16_t)(rnd(&s) % (num + 2)), flags);
		} else {
			s_desc(&f, i, a, l, flags, (uint16_t)(rnd(&s) % (num + 2)));
		}
	}
	/* Indirect tables: random entries too. */
	for (unsigned int i = 0; i < 64 * 8; i++) {
		struct vring_desc *d = (struct vring_desc *)(f.mem + IND_OFF) + i;

		if (IND_OFF + (i + 1) * 16 > BUF_OFF)
			break;
		*d = (struct vring_desc){ rnd_addr(&s), rnd_len(&s), (uint16_t)(rnd(&s) % 8),
				     (uint16_t)(rnd(&s) % 10) };
	}
	if (!packed) {
		unsigned int n = (unsigned int)(rnd(&s) % (num + 2));

		for (unsigned int i = 0; i < n; i++)
			s_avail(&f, (uint16_t)(rnd(&s) % (num + 1)));
	}
	for (unsigned int k = 0; k < 2 * num + 2; k++) {
		int r = pop(&f, &e, iov, (unsigned int)(1 + rnd(&s) % 64));

		if (r == 1) {
			t->popped++;
			touch(&f, &e);
			t_eq(0, vhostctl_devq_push(f.q, &e, e.in_len ? (uint32_t)(rnd(&s) % e.in_len) : 0));
			t_true(vhostctl_devq_flush(f.q) >= 0);
		} else if (r == 0) {
			t->empty++;
			break;
		} else if (r == -ENOBUFS) {
			t->nobufs++;
		} else if (r == -EIO) {
			t->broken++;
			t_eq(-EIO, vhostctl_devq_pop(f.q, &e, iov, 64));
			break;
		} else {
			t_fail("seed %llu: pop returned %d", (unsigned long long)seed, r);
		}
	}
	fx_fini(&f);
}

static void fuzz(bool packed, unsigned long rounds)
{
	struct tally t = { 0 };

	for (unsigned long i = 1; i <= rounds; i++)
		fuzz_one(i, packed, &t);
	printf("ok: %s fuzz, %lu random rings: %lu buffers popped (all inside memory, lengths "
	       "consistent), %lu rings drained, %lu broken, %lu short of iovecs\n",
	       packed ? "packed" : "split", rounds, t.popped, t.empty, t.broken, t.nobufs);
	/* The generator reaches every outcome, or the fuzz proves little. */
	t_true(t.popped > rounds / 10 && t.broken > rounds / 10 && t.empty && t.nobufs);
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;

	split_good();
	split_hostile();
	packed_good();
	packed_hostile();
	bad_setup();
	fuzz(false, rounds);
	fuzz(true, rounds);
	return 0;
}
