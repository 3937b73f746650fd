// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhostctl_devq_pop_burst() and vhostctl_devq_push_burst(), split and
 * packed, on rings written by hand: bursts across the end of the ring and
 * across the 16-bit index wrap, partial bursts, a chain, an indirect table
 * and a buffer spanning two regions inside a burst, a broken descriptor in
 * the middle of a burst (the buffers before it are returned, then the queue
 * is broken for good), a buffer with too many pieces in the middle
 * (returned by the next call as -ENOBUFS, nothing consumed), a push burst
 * with one bad element (refused whole).  Then a seeded differential fuzz:
 * two queues over identical random rings, one driven by the single calls,
 * the other by bursts of random sizes, must hand out the same buffers, stop
 * at the same point with the same error, and leave the same bytes in
 * memory (used entries, event index) after pushing them back; queues made
 * as the vhost-user backend makes them, with an inflight region and a
 * dirty log, must also leave the same regions and the same log bits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include <vhostctl/vhostctl.h>

#include "devq_ring.h"
#include "test.h"
#include "vu.h"

/* Region 0: rings, tables and buffers; region 1 right after it, mapped elsewhere. */
#define R0_GPA 0x40000ull
#define R0_SIZE 0x10000ull
#define R1_GPA (R0_GPA + R0_SIZE)
#define R1_SIZE 0x1000ull

#define BUF_SIZE 0x100

#define MAXB 64

struct fx {
	uint8_t *mem, *mem1;
	struct vhostctl_devq_region reg[2];
	struct vhostctl_devq *q;
	unsigned int num;
	bool packed;
	struct vring_desc *desc;
	uint16_t *avail;
	struct vring_used *used;
	struct vring_packed_desc *pring;
	uint16_t next;		/* split: avail idx; packed: next slot */
	bool wrap;		/* packed: the driver's wrap counter */
	uint16_t nused;		/* packed: the next used slot the driver reads */
	bool uwrap;
	/* queues made as the backend makes them: inflight region, dirty log */
	struct vhc_memmap map;
	struct vhc_dirty_log log;
	uint8_t bits[16];	/* one bit per page of both regions */
	void *infl;
	size_t infl_size;
};

#define TRACK_INFLIGHT 1u
#define TRACK_LOG 2u

static uint64_t gpa_of(unsigned int off)
{
	return R0_GPA + off;
}

/* The queue as the vhost-user backend makes it, with an inflight region and/or a dirty log. */
static void fx_create_tracked(struct fx *f, const struct vhostctl_devq_opts *o, unsigned int track)
{
	struct vhc_devq_cfg cfg = {
		.num = o->num, .packed = o->flags & VHOSTCTL_DEVQ_F_PACKED,
		.event_idx = o->flags & VHOSTCTL_DEVQ_F_EVENT_IDX,
		.indirect = o->flags & VHOSTCTL_DEVQ_F_INDIRECT, .desc = o->desc,
		.avail = o->avail, .used = o->used, .base = o->base, .call_fd = -1,
	};
	int err = 0;

	t_eq(0, vhc_memmap_add(&f->map, &f->reg[0]));
	t_eq(0, vhc_memmap_add(&f->map, &f->reg[1]));
	if (track & TRACK_INFLIGHT) {
		f->infl_size = vhc_inflight_queue_size(o->num, f->packed);
		f->infl = calloc(1, f->infl_size);
		t_true(f->infl);
		cfg.inflight = f->infl;
		cfg.inflight_size = f->infl_size;
	}
	if (track & TRACK_LOG) {
		f->log = (struct vhc_dirty_log){ .active = true, .bitmap = f->bits,
						 .size = sizeof(f->bits), .map = &f->map,
						 .fd = -1 };
		cfg.dlog = &f->log;
		cfg.log_used = true;
		cfg.log_addr = o->used;
	}
	f->q = vhc_devq_create(&f->map, &cfg, &err);
	if (!f->q)
		t_fail("vhc_devq_create: %s", strerror(-err));
}

/* @base: split, the first available (and used) index; packed, modulo @num, the first slot. */
static void fx_init_track(struct fx *f, bool packed, unsigned int num, unsigned int flags,
			  uint16_t base, unsigned int track)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o);

	if (packed)
		base = (uint16_t)(base % num);
	memset(f, 0, sizeof(*f));
	f->mem = aligned_alloc(4096, R0_SIZE);
	f->mem1 = aligned_alloc(4096, R1_SIZE);
	t_true(f->mem && f->mem1);
	memset(f->mem, 0, R0_SIZE);
	memset(f->mem1, 0, R1_SIZE);
	f->reg[0] = (struct vhostctl_devq_region){ R0_GPA, R0_SIZE, R0_GPA, f->mem };
	f->reg[1] = (struct vhostctl_devq_region){ R1_GPA, R1_SIZE, R1_GPA, f->mem1 };
	f->num = num;
	f->packed = packed;
	f->desc = (struct vring_desc *)(f->mem + DESC_OFF);
	f->pring = (struct vring_packed_desc *)(f->mem + DESC_OFF);
	f->avail = (uint16_t *)(f->mem + AVAIL_OFF);
	f->used = (struct vring_used *)(f->mem + USED_OFF);
	f->next = base;
	f->nused = base;
	f->wrap = f->uwrap = true;
	if (!packed) {
		f->avail[1] = base;
		f->used->idx = base;
	}
	/* Packed: as if the ring had come to @base: slots before it used in this lap. */
	for (unsigned int i = 0; packed && i < base; i++)
		f->pring[i].flags = P_AVAIL | P_USED;
	o.regions = f->reg;
	o.nregions = 2;
	o.num = num;
	o.flags = flags | (packed ? VHOSTCTL_DEVQ_F_PACKED : 0);
	o.desc = gpa_of(DESC_OFF);
	o.avail = gpa_of(AVAIL_OFF);
	o.used = gpa_of(USED_OFF);
	o.base = packed ? base | 1u << 15 : base;
	o.call_fd = -1;
	if (track) {
		fx_create_tracked(f, &o, track);
		return;
	}
	f->q = vhostctl_devq_new(&o);
	t_true(f->q);
}

static void fx_init(struct fx *f, bool packed, unsigned int num, unsigned int flags, uint16_t base)
{
	fx_init_track(f, packed, num, flags, base, 0);
}

static void fx_fini(struct fx *f)
{
	vhostctl_devq_free(f->q);
	free(f->mem);
	free(f->mem1);
	free(f->map.r);
	free(f->infl);
}

static void s_desc(struct fx *f, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		   uint16_t next)
{
	f->desc[i] = (struct vring_desc){ addr, len, flags, next };
}

static void s_avail(struct fx *f, uint16_t head)
{
	ring_avail(f->avail, f->num, &f->next, head);
}

/* Packed: write the next slot, available in the driver's current wrap. */
static void p_put(struct fx *f, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	ring_put(f->pring, f->num, &f->next, &f->wrap, addr, len, id, flags);
}

/*
 * Make buffer @id available: one descriptor of BUF_SIZE bytes at its own
 * place in region 0, writable if @id is odd.  Split: descriptor @id.
 */
static void put_buf(struct fx *f, uint16_t id)
{
	uint64_t a = gpa_of(BUF_OFF + id * BUF_SIZE);
	uint16_t fl = id & 1 ? F_WRITE : 0;

	if (f->packed) {
		p_put(f, a, BUF_SIZE, id, fl);
	} else {
		s_desc(f, id, a, BUF_SIZE, fl, 0);
		s_avail(f, id);
	}
}

static void check_buf(const struct fx *f, const struct vhostctl_devq_elem *e, uint16_t id,
		      const struct iovec *iov)
{
	t_eq(id, e->id);
	t_eq(1, e->ndesc);
	t_true(e->iov == iov);
	t_eq(id & 1 ? 0 : 1, e->out);
	t_eq(id & 1 ? 1 : 0, e->in);
	t_eq(id & 1 ? 0 : BUF_SIZE, e->out_len);
	t_eq(id & 1 ? BUF_SIZE : 0, e->in_len);
	t_true(iov[0].iov_base == f->mem + BUF_OFF + id * BUF_SIZE);
	t_eq(BUF_SIZE, iov[0].iov_len);
}

/* The driver's side of the used ring: the next used buffer, or false. */
static bool take_used(struct fx *f, uint16_t *id, uint32_t *len)
{
	if (f->packed) {
		struct vring_packed_desc *d = &f->pring[f->nused];
		uint16_t fl = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);

		if (!!(fl & P_AVAIL) != f->uwrap || !!(fl & P_USED) != f->uwrap)
			return false;
		*id = d->id;
		*len = d->len;
		if (++f->nused == f->num) {
			f->nused = 0;
			f->uwrap = !f->uwrap;
		}
		return true;
	}
	if (__atomic_load_n(&f->used->idx, __ATOMIC_ACQUIRE) == f->nused)
		return false;
	*id = (uint16_t)f->used->ring[f->nused & (f->num - 1)].id;
	*len = f->used->ring[f->nused & (f->num - 1)].len;
	f->nused++;
	return true;
}

/*
 * Rounds of a few buffers, popped in bursts of 3 (partial bursts at the
 * end of each round), pushed back in one burst, seen by the driver in
 * order: across the end of the ring several times and, from @base, across
 * the 16-bit index wrap.
 */
static void rounds(bool packed, unsigned int num, uint16_t base, unsigned int flags)
{
	struct vhostctl_devq_elem e[MAXB];
	struct iovec iov[MAXB * 2];
	uint32_t written[MAXB];
	uint16_t id = 0;
	struct fx f;

	fx_init(&f, packed, num, flags, base);
	for (unsigned int round = 0; round < 4 * num; round++) {
		unsigned int n = 1 + round % num, got = 0;

		for (unsigned int i = 0; i < n; i++)
			put_buf(&f, (uint16_t)((id + i) % num));
		while (got < n) {
			int r = vhostctl_devq_pop_burst(f.q, &e[got], &iov[got * 2], 2, 3);

			t_eq(n - got < 3 ? n - got : 3, r);
			got += (unsigned int)r;
		}
		t_eq(0, vhostctl_devq_pop_burst(f.q, e, iov, 2, 3));
		for (unsigned int i = 0; i < n; i++) {
			check_buf(&f, &e[i], (uint16_t)((id + i) % num), &iov[i * 2]);
			written[i] = e[i].in_len ? e[i].in_len - i : 0;
		}
		t_eq(n, vhostctl_devq_push_burst(f.q, e, written, n));
		t_true(vhostctl_devq_flush(f.q) >= 0);
		for (unsigned int i = 0; i < n; i++) {
			uint16_t uid;
			uint32_t len;

			t_true(take_used(&f, &uid, &len));
			t_eq((id + i) % num, uid);
			t_eq(written[i], len);
		}
		t_true(!take_used(&f, &(uint16_t){ 0 }, &(uint32_t){ 0 }));
		id = (uint16_t)((id + n) % num);
	}
	if (!packed) {
		t_eq((uint16_t)f.next, f.used->idx);
		if (flags & VHOSTCTL_DEVQ_F_EVENT_IDX)	/* avail_event: where we are */
			t_eq(f.next, *(uint16_t *)&f.used->ring[num]);
	}
	printf("ok: %-6s ring of %2u from %5u: %u rounds of bursts across the wrap\n",
	       packed ? "packed" : "split", num, packed ? base % num : base, 4 * num);
	fx_fini(&f);
}

/* A chain, an indirect table and a buffer over two regions between single buffers. */
static void mixed(bool packed)
{
	struct vhostctl_devq_elem e[8];
	struct iovec iov[8 * 4];
	uint32_t written[8];
	/* per buffer: id, out, in, out_len, in_len, ring slots */
	static const unsigned int want[6][6] = {
		{ 0, 1, 0, 0x40, 0, 1 },	/* single, readable */
		{ 1, 0, 1, 0, 0x40, 1 },	/* single, writable */
		{ 2, 1, 1, 0x30, 0x50, 2 },	/* chain: readable, writable */
		{ 4, 1, 1, 0x10, 0x20, 1 },	/* indirect table of two */
		{ 5, 2, 0, 0x20, 0, 1 },	/* 0x10 bytes in each region */
		{ 6, 1, 0, 0x08, 0, 1 },
	};
	struct fx f;
	unsigned int slot = 0;

	fx_init(&f, packed, 16, VHOSTCTL_DEVQ_F_INDIRECT, 0);
	if (packed) {
		struct vring_packed_desc *t = (struct vring_packed_desc *)(f.mem + IND_OFF);

		t[0] = (struct vring_packed_desc){ gpa_of(BUF_OFF + 0x800), 0x10, 0, 0 };
		t[1] = (struct vring_packed_desc){ gpa_of(BUF_OFF + 0x900), 0x20, 0, F_WRITE };
		p_put(&f, gpa_of(BUF_OFF), 0x40, 0, 0);
		p_put(&f, gpa_of(BUF_OFF + 0x100), 0x40, 1, F_WRITE);
		p_put(&f, gpa_of(BUF_OFF + 0x200), 0x30, 9, F_NEXT);
		p_put(&f, gpa_of(BUF_OFF + 0x300), 0x50, 2, F_WRITE);
		p_put(&f, gpa_of(IND_OFF), 2 * sizeof(*t), 4, F_INDIRECT);
		p_put(&f, R1_GPA - 0x10, 0x20, 5, 0);
		p_put(&f, gpa_of(BUF_OFF + 0x400), 0x08, 6, 0);
	} else {
		struct vring_desc *t = (struct vring_desc *)(f.mem + IND_OFF);

		t[0] = (struct vring_desc){ gpa_of(BUF_OFF + 0x800), 0x10, F_NEXT, 1 };
		t[1] = (struct vring_desc){ gpa_of(BUF_OFF + 0x900), 0x20, F_WRITE, 0 };
		s_desc(&f, 0, gpa_of(BUF_OFF), 0x40, 0, 0);
		s_desc(&f, 1, gpa_of(BUF_OFF + 0x100), 0x40, F_WRITE, 0);
		s_desc(&f, 2, gpa_of(BUF_OFF + 0x200), 0x30, F_NEXT, 3);
		s_desc(&f, 3, gpa_of(BUF_OFF + 0x300), 0x50, F_WRITE, 0);
		s_desc(&f, 4, gpa_of(IND_OFF), 2 * sizeof(*t), F_INDIRECT, 0);
		s_desc(&f, 5, R1_GPA - 0x10, 0x20, 0, 0);
		s_desc(&f, 6, gpa_of(BUF_OFF + 0x400), 0x08, 0, 0);
		for (uint16_t h = 0; h < 7; h++)
			if (h != 3)
				s_avail(&f, h);
	}
	t_eq(6, vhostctl_devq_pop_burst(f.q, e, iov, 4, 8));
	for (unsigned int i = 0; i < 6; i++) {
		t_eq(want[i][0], e[i].id);
		t_eq(want[i][1], e[i].out);
		t_eq(want[i][2], e[i].in);
		t_eq(want[i][3], e[i].out_len);
		t_eq(want[i][4], e[i].in_len);
		t_eq(packed ? want[i][5] : 1, e[i].ndesc);
		t_true(e[i].iov == &iov[i * 4]);
		written[i] = e[i].in_len;
	}
	t_true(e[4].iov[0].iov_base == f.mem + R0_SIZE - 0x10 && e[4].iov[0].iov_len == 0x10);
	t_true(e[4].iov[1].iov_base == f.mem1 && e[4].iov[1].iov_len == 0x10);
	t_true(e[3].iov[1].iov_base == f.mem + BUF_OFF + 0x900);
	t_eq(6, vhostctl_devq_push_burst(f.q, e, written, 6));
	t_true(vhostctl_devq_flush(f.q) >= 0);
	for (unsigned int i = 0; i < 6; i++) {
		if (packed) {
			t_eq(want[i][0], f.pring[slot].id);
			t_eq(written[i], f.pring[slot].len);
			t_eq(P_AVAIL | P_USED | (written[i] ? F_WRITE : 0), f.pring[slot].flags);
			slot += want[i][5];
		} else {
			t_eq(want[i][0], f.used->ring[i].id);
			t_eq(written[i], f.used->ring[i].len);
		}
	}
	if (!packed)
		t_eq(6, f.used->idx);
	printf("ok: %-6s burst of single, chain, indirect and two-region buffers\n",
	       packed ? "packed" : "split");
	fx_fini(&f);
}

/* The queue is broken: every later call fails, nothing more is popped or pushed. */
static void expect_broken(struct fx *f, struct vhostctl_devq_elem *e, struct iovec *iov)
{
	errno = 0;
	t_eq(-EIO, vhostctl_devq_pop_burst(f->q, e, iov, 16, 8));
	t_eq(EIO, errno);
	t_eq(-EIO, vhostctl_devq_pop(f->q, e, iov, 16));
	t_eq(-EIO, vhostctl_devq_push_burst(f->q, e, NULL, 1));
	t_eq(-EIO, vhostctl_devq_flush(f->q));
}

/*
 * Five buffers, the third breaking a rule: the burst returns the two
 * before it; the next call says the ring is broken, for good.
 */
static void broken_middle(bool packed, int how)
{
	static const char *const what[] = { "outside memory", "a loop / indirect not offered",
					    "head out of range / address wraps" };
	struct vhostctl_devq_elem e[8];
	struct iovec iov[8 * 16];
	struct fx f;

	/* Room for a chain as long as the ring: the loop is found, not a lack of iovecs. */
	fx_init(&f, packed, 8, 0, 0);
	put_buf(&f, 0);
	put_buf(&f, 1);
	if (packed) {
		if (how == 0)
			p_put(&f, R1_GPA + R1_SIZE, 0x10, 2, 0);
		else if (how == 1)	/* the queue was made without VHOSTCTL_DEVQ_F_INDIRECT */
			p_put(&f, gpa_of(IND_OFF), 0x10, 2, F_INDIRECT);
		else			/* address + length wraps around */
			p_put(&f, UINT64_MAX - 0x8, 0x10, 2, 0);
	} else {
		if (how == 0) {
			s_desc(&f, 2, R1_GPA + R1_SIZE, 0x10, 0, 0);
		} else if (how == 1) {
			s_desc(&f, 2, gpa_of(BUF_OFF), 0x10, F_NEXT, 5);
			s_desc(&f, 5, gpa_of(BUF_OFF), 0x10, F_NEXT, 2);
		}
		s_avail(&f, how == 2 ? 8 : 2);	/* 8: a head beyond the ring */
	}
	put_buf(&f, 3);
	put_buf(&f, 4);
	t_eq(2, vhostctl_devq_pop_burst(f.q, e, iov, 16, 8));
	check_buf(&f, &e[0], 0, &iov[0]);
	check_buf(&f, &e[1], 1, &iov[16]);
	expect_broken(&f, e, iov);
	printf("ok: %-6s burst with a broken buffer third (%s): 2 returned, then -EIO for good\n",
	       packed ? "packed" : "split", what[how]);
	fx_fini(&f);
}

/*
 * Too many pieces for iov_per_elem in the middle of a burst: the buffers
 * before it come back; the next burst fails with -ENOBUFS and consumes
 * nothing, a single pop with room takes it, and bursts go on after it.
 */
static void nobufs_middle(bool packed)
{
	struct vhostctl_devq_elem e[8];
	struct iovec iov[8], big[4];
	struct fx f;

	fx_init(&f, packed, 8, 0, 0);
	put_buf(&f, 0);
	put_buf(&f, 2);
	if (packed) {
		p_put(&f, gpa_of(BUF_OFF + 0x400), 0x10, 9, F_NEXT);
		p_put(&f, gpa_of(BUF_OFF + 0x500), 0x10, 4, F_WRITE);
	} else {
		s_desc(&f, 4, gpa_of(BUF_OFF + 0x400), 0x10, F_NEXT, 7);
		s_desc(&f, 7, gpa_of(BUF_OFF + 0x500), 0x10, F_WRITE, 0);
		s_avail(&f, 4);
	}
	put_buf(&f, 6);
	t_eq(2, vhostctl_devq_pop_burst(f.q, e, iov, 1, 8));
	check_buf(&f, &e[0], 0, &iov[0]);
	check_buf(&f, &e[1], 2, &iov[1]);
	t_eq(2, vhostctl_devq_push_burst(f.q, e, NULL, 2));
	for (int k = 0; k < 2; k++) {
		errno = 0;
		t_eq(-ENOBUFS, vhostctl_devq_pop_burst(f.q, e, iov, 1, 8));
		t_eq(ENOBUFS, errno);
	}
	t_eq(1, vhostctl_devq_pop(f.q, &e[0], big, 4));
	t_eq(4, e[0].id);
	t_eq(1, e[0].out);
	t_eq(1, e[0].in);
	t_eq(1, vhostctl_devq_pop_burst(f.q, &e[1], iov, 1, 8));
	check_buf(&f, &e[1], 6, &iov[0]);
	t_eq(0, vhostctl_devq_pop_burst(f.q, e + 2, iov, 1, 8));
	t_eq(2, vhostctl_devq_push_burst(f.q, e, (const uint32_t[]){ 0x10, 0 }, 2));
	t_true(vhostctl_devq_flush(f.q) >= 0);
	if (!packed) {
		t_eq(4, f.used->idx);
		t_eq(4, f.used->ring[2].id);
		t_eq(0x10, f.used->ring[2].len);
	}
	printf("ok: %-6s burst short of iovecs at its third buffer: 2 returned, then -ENOBUFS, "
	       "nothing lost\n", packed ? "packed" : "split");
	fx_fini(&f);
}

/* Arguments, and a push burst with one bad element: refused whole. */
static void bad_args(bool packed)
{
	struct vhostctl_devq_elem e[4], bad[4];
	struct iovec iov[4];
	uint32_t written[4] = { 0 };
	struct fx f;

	fx_init(&f, packed, 8, 0, 0);
	errno = 0;
	t_eq(-EINVAL, vhostctl_devq_pop_burst(NULL, e, iov, 1, 1));
	t_eq(EINVAL, errno);
	t_eq(-EINVAL, vhostctl_devq_pop_burst(f.q, NULL, iov, 1, 1));
	t_eq(-EINVAL, vhostctl_devq_pop_burst(f.q, e, NULL, 1, 1));
	t_eq(-EINVAL, vhostctl_devq_pop_burst(f.q, e, iov, 1, (unsigned int)INT32_MAX + 1));
	t_eq(0, vhostctl_devq_pop_burst(f.q, NULL, NULL, 0, 0));
	t_eq(0, vhostctl_devq_pop_burst(f.q, e, iov, 1, 4));	/* empty */
	t_eq(-EINVAL, vhostctl_devq_push_burst(NULL, e, NULL, 1));
	t_eq(-EINVAL, vhostctl_devq_push_burst(f.q, NULL, NULL, 1));
	t_eq(0, vhostctl_devq_push_burst(f.q, NULL, NULL, 0));
	for (uint16_t i = 0; i < 4; i++)
		put_buf(&f, i);
	t_eq(4, vhostctl_devq_pop_burst(f.q, e, iov, 1, 4));
	/* One writable length too long, then one element no pop made: nothing goes back. */
	for (int k = 0; k < 3; k++) {
		memcpy(bad, e, sizeof(bad));
		memset(written, 0, sizeof(written));
		if (k == 0)
			written[3] = e[3].in_len + 1;
		else if (k == 1)
			written[0] = 1;		/* buffer 0 is readable only */
		else if (packed)
			bad[2].ndesc = 0;
		else
			bad[2].id = 8;
		errno = 0;
		t_eq(-EINVAL, vhostctl_devq_push_burst(f.q, bad, written, 4));
		t_eq(EINVAL, errno);
		t_eq(0, vhostctl_devq_flush(f.q));	/* nothing pending */
		if (packed)
			t_eq(P_AVAIL, f.pring[0].flags & (P_AVAIL | P_USED));
		else
			t_eq(0, f.used->idx);
	}
	written[1] = 7;
	written[3] = 9;
	t_eq(4, vhostctl_devq_push_burst(f.q, e, written, 4));
	t_true(vhostctl_devq_flush(f.q) >= 0);
	for (unsigned int i = 0; i < 4; i++) {
		uint16_t id;
		uint32_t len;

		t_true(take_used(&f, &id, &len));
		t_eq(i, id);
		t_eq(written[i], len);
	}
	printf("ok: %-6s burst arguments; a push burst with a bad element is refused whole\n",
	       packed ? "packed" : "split");
	fx_fini(&f);
}

/* ---- differential fuzz ------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mostly buffers in region 0, some over the boundary into region 1, some outside. */
static uint64_t rnd_addr(uint64_t *s)
{
	switch (rnd(s) % 16) {
	case 0: return R1_GPA - rnd(s) % 64;
	case 1: return R1_GPA + R1_SIZE - rnd(s) % 64;
	case 2: return rnd(s) % 2 ? R0_GPA - 8 : rnd(s);
	default: return gpa_of(BUF_OFF + (uint32_t)(rnd(s) % 0x8000));
	}
}

static uint32_t rnd_len(uint64_t *s)
{
	switch (rnd(s) % 16) {
	case 0: return 0;
	case 1: return (uint32_t)rnd(s);
	default: return 1 + (uint32_t)(rnd(s) % 0x400);
	}
}

/* Random ring contents, descriptors mostly single ones (the fast path). */
static void fill_random(struct fx *f, uint64_t *s)
{
	unsigned int num = f->num;

	for (unsigned int i = 0; i < num; i++) {
		uint16_t flags = rnd(s) % 3 ? (uint16_t)(rnd(s) % 2 * F_WRITE) :
					      (uint16_t)(rnd(s) % 8);
		uint64_t a = rnd_addr(s);
		uint32_t l = rnd_len(s);

		if (flags & F_INDIRECT && rnd(s) % 2) {
			a = gpa_of(IND_OFF + 16 * (uint32_t)(rnd(s) % 64));
			l = 16 * (uint32_t)(rnd(s) % 6);
		}
		if (f->packed) {
			if (rnd(s) % 16 == 0)
				flags |= (uint16_t)(rnd(s) & (P_AVAIL | P_USED));
			p_put(f, a, l, (uint16_t)(rnd(s) % (num + 1)), flags);
		} else {
			s_desc(f, i, a, l, flags, (uint16_t)(rnd(s) % (num + 1)));
		}
	}
	for (unsigned int i = 0; i < 64 * 4; i++) {
		struct vring_desc *d = (struct vring_desc *)(f->mem + IND_OFF) + i;

		*d = (struct vring_desc){ rnd_addr(s), rnd_len(s), (uint16_t)(rnd(s) % 4),
				     (uint16_t)(rnd(s) % 6) };
	}
	if (!f->packed) {
		unsigned int n = (unsigned int)(rnd(s) % (num + 1));

		/* Heads mostly in range, some not. */
		for (unsigned int i = 0; i < n; i++)
			s_avail(f, (uint16_t)(rnd(s) % 8 ? rnd(s) % num : rnd(s) % (num + 2)));
		if (rnd(s) % 32 == 0)	/* the index runs too far ahead */
			f->avail[1] = (uint16_t)(f->next + num + 1);
	}
}

/* Where a piece lies, as region and offset, to compare the two queues; all inside one region. */
static uint64_t where(const struct fx *f, const struct iovec *v)
{
	const uint8_t *p = v->iov_base;

	if (p >= f->mem && p < f->mem + R0_SIZE && v->iov_len <= R0_SIZE - (size_t)(p - f->mem))
		return (uint64_t)(p - f->mem);
	if (p >= f->mem1 && p < f->mem1 + R1_SIZE && v->iov_len <= R1_SIZE - (size_t)(p - f->mem1))
		return (1ull << 32) | (uint64_t)(p - f->mem1);
	t_fail("piece %p + %zu outside every region", v->iov_base, v->iov_len);
}

static void same_elem(const struct fx *a, const struct vhostctl_devq_elem *x, const struct fx *b,
		      const struct vhostctl_devq_elem *y)
{
	uint64_t out = 0, in = 0;

	t_eq(x->id, y->id);
	t_eq(x->ndesc, y->ndesc);
	t_eq(x->out, y->out);
	t_eq(x->in, y->in);
	t_eq(x->out_len, y->out_len);
	t_eq(x->in_len, y->in_len);
	for (unsigned int i = 0; i < x->out + x->in; i++) {
		t_eq(where(a, &x->iov[i]), where(b, &y->iov[i]));
		t_eq(x->iov[i].iov_len, y->iov[i].iov_len);
		if (i < x->out)
			out += y->iov[i].iov_len;
		else
			in += y->iov[i].iov_len;
	}
	/* The lengths add up. */
	t_eq(y->out_len, out);
	t_eq(y->in_len, in);
}

struct tally {
	unsigned long popped, bursts, empty, broken, nobufs, tracked, logged;
};

/* The inflight regions and dirty logs of the two queues, alike. */
static void same_track(uint64_t seed, const struct fx *a, const struct fx *b, const char *when)
{
	if (a->infl && memcmp(a->infl, b->infl, a->infl_size))
		t_fail("seed %llu: inflight regions differ %s", (unsigned long long)seed, when);
	if (memcmp(a->bits, b->bits, sizeof(a->bits)))
		t_fail("seed %llu: dirty logs differ %s", (unsigned long long)seed, when);
}

static void fuzz_one(uint64_t seed, bool packed, struct tally *t)
{
	unsigned int num = packed ? 1 + seed % 32 : 1u << (seed % 6);
	unsigned int flags = (seed & 64 ? VHOSTCTL_DEVQ_F_EVENT_IDX : 0) |
			     (seed & 128 ? 0 : VHOSTCTL_DEVQ_F_INDIRECT);
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1, s2;
	static struct vhostctl_devq_elem ea[MAXB], eb[MAXB];
	static struct iovec va[MAXB * 4], vb[MAXB * 4];
	static uint32_t written[MAXB];
	unsigned int max = 1 + (unsigned int)(rnd(&s) % 4), na = 0, nb = 0;
	unsigned int track = (unsigned int)(seed >> 8) & 3;
	uint16_t base = (uint16_t)(seed % 3 ? 0 : 65536 - num / 2);
	int ra, rb;
	struct fx a, b;

	fx_init_track(&a, packed, num, flags, base, track);
	fx_init_track(&b, packed, num, flags, base, track);
	s2 = s;
	fill_random(&a, &s);
	fill_random(&b, &s2);
	t_true(!memcmp(a.mem, b.mem, R0_SIZE) && !memcmp(a.mem1, b.mem1, R1_SIZE));
	/* One at a time... */
	for (;;) {
		ra = vhostctl_devq_pop(a.q, &ea[na], &va[na * 4], max);
		if (ra != 1)
			break;
		t_true(++na <= num);
	}
	/* ... and in bursts of random sizes. */
	for (;;) {
		unsigned int n = 1 + (unsigned int)(rnd(&s) % 6);

		rb = vhostctl_devq_pop_burst(b.q, &eb[nb], &vb[nb * max], max, n);
		t->bursts++;
		if (rb <= 0)
			break;
		t_true(rb <= (int)n);
		nb += (unsigned int)rb;
		t_true(nb <= num);
	}
	if (na != nb || ra != rb)
		t_fail("seed %llu: single pops took %u then %d, bursts took %u then %d",
		       (unsigned long long)seed, na, ra, nb, rb);
	same_track(seed, &a, &b, "after popping");
	for (unsigned int i = 0; i < na; i++) {
		same_elem(&a, &ea[i], &b, &eb[i]);
		t_true(eb[i].iov == &vb[i * max]);
		written[i] = ea[i].in_len ? (uint32_t)(rnd(&s) % (ea[i].in_len + 1ull)) : 0;
	}
	t->popped += na;
	if (ra == 0)
		t->empty++;
	else if (ra == -ENOBUFS)
		t->nobufs++;
	else if (ra == -EIO)
		t->broken++;
	else
		t_fail("seed %llu: pop returned %d", (unsigned long long)seed, ra);
	if (ra != -EIO) {
		for (unsigned int i = 0; i < na; i++)
			t_eq(0, vhostctl_devq_push(a.q, &ea[i], written[i]));
		for (unsigned int i = 0; i < nb;) {
			unsigned int n = 1 + (unsigned int)(rnd(&s) % 6);

			if (n > nb - i)
				n = nb - i;
			t_eq(n, vhostctl_devq_push_burst(b.q, &eb[i], written + i, n));
			i += n;
		}
		t_true(vhostctl_devq_flush(a.q) >= 0);
		t_true(vhostctl_devq_flush(b.q) >= 0);
		t_eq(vhostctl_devq_base(a.q), vhostctl_devq_base(b.q));
	}
	/* The same used entries, event index, and nothing else written. */
	if (memcmp(a.mem, b.mem, R0_SIZE) || memcmp(a.mem1, b.mem1, R1_SIZE))
		t_fail("seed %llu: memory differs after pushing back", (unsigned long long)seed);
	same_track(seed, &a, &b, "after pushing back");
	if (na && (track & TRACK_INFLIGHT))
		t->tracked += na;
	for (unsigned int i = 0; i < sizeof(a.bits); i++)
		if (a.bits[i])
			t->logged++;
	fx_fini(&a);
	fx_fini(&b);
}

static void fuzz(bool packed, unsigned long rounds)
{
	struct tally t = { 0 };

	for (unsigned long i = 1; i <= rounds; i++)
		fuzz_one(i, packed, &t);
	printf("ok: %s differential fuzz, %lu random rings: %lu buffers alike in %lu bursts, "
	       "%lu rings drained, %lu broken, %lu short of iovecs; %lu buffers tracked in "
	       "flight, %lu log bytes dirtied, alike\n", packed ? "packed" : "split", rounds,
	       t.popped, t.bursts, t.empty, t.broken, t.nobufs, t.tracked, t.logged);
	/* The generator reaches every outcome, or the comparison proves little. */
	t_true(t.popped > rounds && t.broken > rounds / 20 && t.empty > rounds / 20 &&
	       t.nobufs > rounds / 50 && t.tracked > rounds / 10 && t.logged > rounds / 20);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;

	for (int p = 0; p < 2; p++) {
		rounds(p, 8, 0, 0);
		rounds(p, 8, 65531, VHOSTCTL_DEVQ_F_EVENT_IDX);
		rounds(p, 32, 65500, VHOSTCTL_DEVQ_F_INDIRECT);
		if (p)
			rounds(p, 7, 3, 0);	/* packed: any size */
		mixed(p);
		for (int how = 0; how < 3; how++)
			broken_middle(p, how);
		nobufs_middle(p);
		bad_args(p);
		fuzz(p, n);
	}
	return 0;
}
