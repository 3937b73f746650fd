// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Driver-side packed ring (vhostctl_vq_*) against the library's device-side
 * packed queue (vhostctl_devq_*) in one process: chains of 1 to 6 buffers,
 * direct and indirect, sizes that are and are not powers of two, the ring
 * wrapping thousands of times with the device completing out of order and
 * holding buffers across rounds; kick suppression by the device event area
 * (DISABLE, ENABLE, DESC with EVENT_IDX, both wrap counters) and calls by
 * ours; a hostile device (id out of range, id never posted or returned
 * twice, a length beyond the writable bytes) gets -EIO and a broken queue.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "devq_ring.h"
#include "test.h"

#define F_RING_INDIRECT (1ULL << 28)
#define F_EVENT_IDX (1ULL << 29)
#define F_V1 (1ULL << 32)
#define F_PACKED (1ULL << 34)

#define GPA 0x100000ull
#define MEMSZ (8u << 20)
#define MAXB 6			/* buffers per chain */
#define BUFSZ 48

struct pair {
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vq;
	struct vhostctl_devq *q;
	struct vhostctl_vring_addr a;
	struct vring_packed_desc *ring;
	uint16_t *drv_evt, *dev_evt;
	unsigned int num;
};

static void pair_new(struct pair *p, unsigned int num, uint64_t features,
		     const struct vhostctl_vq_opts *vo)
{
	struct vhostctl_devq_region reg;
	VHOSTCTL_OPTS_INIT(struct vhostctl_devq_opts, o);

	memset(p, 0, sizeof(*p));
	p->num = num;
	p->mem = vhostctl_mem_new();
	t_true(p->mem);
	t_true(vhostctl_mem_add_region(p->mem, GPA, MEMSZ, 0) >= 0);
	p->vq = vhostctl_vq_new(p->mem, 0, num, F_V1 | F_PACKED | features, vo);
	t_true(p->vq);
	t_eq(0, vhostctl_vq_get_addr(p->vq, &p->a));
	p->ring = vhostctl_mem_gpa_to_hva(p->mem, p->a.desc, 16ull * num);
	p->drv_evt = vhostctl_mem_gpa_to_hva(p->mem, p->a.avail, 4);
	p->dev_evt = vhostctl_mem_gpa_to_hva(p->mem, p->a.used, 4);
	t_true(p->ring && p->drv_evt && p->dev_evt);
	t_eq(0, p->a.desc % 16);
	t_eq(0, p->a.avail % 4);
	t_eq(0, p->a.used % 4);
	reg = (struct vhostctl_devq_region){ .gpa = GPA, .size = MEMSZ,
					     .host = vhostctl_mem_gpa_to_hva(p->mem, GPA, MEMSZ) };
	o.regions = &reg;
	o.nregions = 1;
	o.num = num;
	o.flags = VHOSTCTL_DEVQ_F_PACKED |
		  (features & F_EVENT_IDX ? VHOSTCTL_DEVQ_F_EVENT_IDX : 0) |
		  (features & F_RING_INDIRECT ? VHOSTCTL_DEVQ_F_INDIRECT : 0);
	o.desc = p->a.desc;
	o.avail = p->a.avail;
	o.used = p->a.used;
	o.base = 0x80008000u;	/* what vhostctl_vq_attach() gives a new queue */
	o.call_fd = vhostctl_vq_call_fd(p->vq);
	p->q = vhostctl_devq_new(&o);
	t_true(p->q);
}

static void pair_free(struct pair *p)
{
	vhostctl_devq_free(p->q);
	vhostctl_vq_free(p->vq);
	vhostctl_mem_free(p->mem);
}

static uint64_t drain_fd(int fd)
{
	eventfd_t v = 0;

	if (eventfd_read(fd, &v) < 0)
		return 0;
	return v;
}

static uint8_t pat(uint32_t seed, unsigned int i)
{
	return (uint8_t)(seed * 31 + i * 7 + (i >> 5));
}

/* One chain of the driver: its buffers (own memory) and what it expects. */
struct tchain {
	bool busy;
	unsigned int out, in;
	uint8_t *hva[MAXB];
	uint32_t len[MAXB];
	uint32_t seq;
};

/* What the device wrote back, by its own sequence number. */
struct dwrite {
	uint32_t len;
};

static void t_add(struct pair *p, struct tchain *c, uint32_t seq, unsigned int add_flags)
{
	struct vhostctl_vq_buf b[MAXB];
	unsigned int n = c->out + c->in;

	c->seq = seq;
	for (unsigned int i = 0; i < n; i++) {
		b[i].gpa = 0;
		t_true(vhostctl_mem_hva_to_gpa(p->mem, c->hva[i], c->len[i], &b[i].gpa) == 0);
		b[i].len = c->len[i];
		if (i < c->out) {
			memcpy(c->hva[i], &seq, 4);
			for (unsigned int k = 4; k < c->len[i]; k++)
				c->hva[i][k] = pat(seq + i, k);
		} else {
			memset(c->hva[i], 0xee, c->len[i]);
		}
	}
	t_eq(0, vhostctl_vq_add(p->vq, b, c->out, c->in, c, add_flags));
	c->busy = true;
}

/* The device's view of a popped chain: readable bytes as the driver wrote them. */
static void d_check(const struct vhostctl_devq_elem *e, struct tchain *chains,
		    unsigned int nchains)
{
	uint8_t buf[MAXB * BUFSZ];
	size_t got = vhostctl_devq_copy_from(e, 0, buf, sizeof(buf));
	uint32_t seq;
	struct tchain *c = NULL;
	size_t off = 0;

	t_eq(e->out_len, got);
	if (!e->out_len)
		return;
	memcpy(&seq, buf, 4);
	for (unsigned int i = 0; i < nchains; i++)
		if (chains[i].busy && chains[i].seq == seq && chains[i].out)
			c = &chains[i];
	t_true(c);
	t_eq(c->out, e->out);
	t_eq(c->in, e->in);
	for (unsigned int i = 0; i < c->out; i++) {
		t_eq(0, memcmp(buf + off, c->hva[i], c->len[i]));
		off += c->len[i];
	}
}

/*
 * The device writes its sequence number then a pattern: w bytes.  Every
 * other buffer gets them through vhostctl_devq_copy_to_iov() in two or
 * three pieces (cut at points of their own), the last one running 16 bytes
 * past w: it stops at the end of the writable part.  And once in eight,
 * two pieces of exactly w bytes (what fits whole, as a header and a frame).
 */
static void d_write(const struct vhostctl_devq_elem *e, uint32_t dseq, uint32_t w)
{
	uint8_t buf[MAXB * BUFSZ + 16];
	uint32_t cut = 4 + dseq * 7 % (w - 3), extra = dseq % 8 == 5 ? 0 : 16;
	struct iovec src3[3] = {
		{ buf, 4 }, { buf + 4, cut - 4 }, { buf + cut, w + 16 - cut },
	};
	struct iovec src2[2] = { { buf, cut }, { buf + cut, w + extra - cut } };
	uint32_t want = w + extra < e->in_len ? w + extra : e->in_len;

	memcpy(buf, &dseq, 4);
	for (unsigned int k = 4; k < w + 16; k++)
		buf[k] = pat(dseq, k);
	if (dseq % 4 == 1)
		t_eq(want, vhostctl_devq_copy_to_iov(e, 0, src2, 2));
	else if (dseq % 4 == 3)
		t_eq(w + 16 < e->in_len ? w + 16 : e->in_len, vhostctl_devq_copy_to_iov(e, 0, src3, 3));
	else
		t_eq(w, vhostctl_devq_copy_to(e, 0, buf, w));
}

/* The driver checks what came back against what the device says it wrote. */
static void t_check_used(struct tchain *c, uint32_t len, const struct dwrite *dw,
			 uint32_t ndw)
{
	uint8_t buf[MAXB * BUFSZ];
	uint32_t dseq, in_len = 0;
	size_t off = 0;

	for (unsigned int i = c->out; i < c->out + c->in; i++) {
		memcpy(buf + off, c->hva[i], c->len[i]);
		off += c->len[i];
		in_len += c->len[i];
	}
	t_true(len <= in_len);
	if (!len)
		return;
	t_true(len >= 4);
	memcpy(&dseq, buf, 4);
	t_true(dseq < ndw);
	t_eq(dw[dseq].len, len);
	for (unsigned int k = 4; k < len; k++)
		if (buf[k] != pat(dseq, k))
			t_fail("chain %u: byte %u of %u", c->seq, k, len);
}

/*
 * Rounds of: the driver adds chains of random shape until the ring is full
 * or it stops at random; the device pops everything, completes a random
 * subset in random order (the rest stays in flight into later rounds) and
 * flushes; the driver reaps and checks every byte.
 */
static void test_traffic(unsigned int num, uint64_t features, unsigned int add_flags,
			 unsigned int rounds, unsigned int seed)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vq_opts, vo, .max_indirect = MAXB);
	unsigned int nchains = num, held = 0, wraps = 0;
	struct vhostctl_devq_elem *hold;
	struct tchain *chains;
	struct dwrite *dw;
	struct pair p;
	uint32_t seq = 1, dseq = 0, ndw = 1u << 20, reaped = 0, added = 0;
	struct vhostctl_vq_stats st;
	struct iovec *iov;
	bool last_wrap;

	srand(seed);
	pair_new(&p, num, features, &vo);
	chains = calloc(nchains, sizeof(*chains));
	hold = calloc(num, sizeof(*hold));
	iov = calloc((size_t)num * MAXB, sizeof(*iov));
	dw = calloc(ndw, sizeof(*dw));
	t_true(chains && hold && iov && dw);
	for (unsigned int i = 0; i < nchains; i++)
		for (unsigned int j = 0; j < MAXB; j++) {
			chains[i].hva[j] = vhostctl_mem_alloc(p.mem, BUFSZ, 8, NULL);
			t_true(chains[i].hva[j]);
		}
	last_wrap = true;
	for (unsigned int r = 0; r < rounds; r++) {
		unsigned int want = 1 + (unsigned int)rand() % num, n;

		/* Driver: add until full or @want chains. */
		for (unsigned int k = 0; k < want; k++) {
			struct tchain *c = NULL;
			unsigned int nb, maxb = add_flags ? MAXB : (num < MAXB ? num : MAXB);
			int fr = vhostctl_vq_num_free(p.vq);

			for (unsigned int i = 0; i < nchains && !c; i++)
				if (!chains[i].busy)
					c = &chains[i];
			if (!c || fr <= 0)
				break;
			nb = 1 + (unsigned int)rand() % maxb;
			if (!add_flags && nb > (unsigned int)fr) {
				/* The library says no; then we take what fits. */
				struct vhostctl_vq_buf b[MAXB];

				for (unsigned int i = 0; i < nb; i++)
					b[i] = (struct vhostctl_vq_buf){ GPA, 1 };
				t_eq(-ENOSPC, vhostctl_vq_add(p.vq, b, nb, 0, c, 0));
				nb = (unsigned int)fr;
			}
			c->out = (unsigned int)rand() % (nb + 1);
			c->in = nb - c->out;
			for (unsigned int i = 0; i < nb; i++)
				c->len[i] = 4 + (unsigned int)rand() % (BUFSZ - 3);
			t_add(&p, c, seq++, add_flags);
			added++;
		}
		t_true(vhostctl_vq_kick(p.vq) >= 0);

		/* Device: pop all, complete a random subset in random order. */
		for (;;) {
			struct vhostctl_devq_elem *e = &hold[held];
			int rr = vhostctl_devq_pop(p.q, e, iov + (size_t)held * MAXB, MAXB);

			t_true(rr >= 0);
			if (!rr)
				break;
			d_check(e, chains, nchains);
			held++;
			t_true(held <= num);
		}
		n = held ? (unsigned int)rand() % (held + 1) : 0;
		if (r + 1 == rounds)
			n = held;
		for (unsigned int k = 0; k < n; k++) {
			unsigned int pick = (unsigned int)rand() % held;
			struct vhostctl_devq_elem e = hold[pick];
			uint32_t w = 0;

			hold[pick] = hold[--held];
			if (e.in_len)
				w = 4 + (uint32_t)rand() % (e.in_len - 3);
			if (w)
				d_write(&e, dseq, w);
			t_true(dseq < ndw);
			dw[dseq++].len = w;
			t_eq(0, vhostctl_devq_push(p.q, &e, w));
			/* The held ones were copied: their iov moved too. */
			if (pick < held) {
				memcpy(iov + (size_t)pick * MAXB, iov + (size_t)held * MAXB,
				       MAXB * sizeof(*iov));
				hold[pick].iov = iov + (size_t)pick * MAXB;
			}
			if (rand() % 4 == 0)
				t_true(vhostctl_devq_flush(p.q) >= 0);
		}
		t_true(vhostctl_devq_flush(p.q) >= 0);

		/* Driver: reap and check. */
		for (;;) {
			uint32_t len = 0;
			void *tok = NULL;
			int rr = vhostctl_vq_get_used(p.vq, &len, &tok);

			t_true(rr >= 0);
			if (!rr)
				break;
			t_check_used(tok, len, dw, dseq);
			((struct tchain *)tok)->busy = false;
			reaped++;
		}
		if (!!(vhostctl_devq_base(p.q) & 0x8000) != last_wrap) {
			last_wrap = !last_wrap;
			wraps++;
		}
	}
	t_eq(added, reaped);
	t_eq(num, vhostctl_vq_num_free(p.vq));
	t_eq(0, vhostctl_vq_get_stats(p.vq, &st));
	t_eq(added, st.added);
	t_eq(reaped, st.used);
	if (getenv("VQ_PACKED_VERBOSE"))
		fprintf(stderr, "num %u: %u chains, %u wraps, %u device writes\n", num, added,
			wraps, dseq);
	if (wraps < 100)
		t_fail("num %u: the ring wrapped only %u times", num, wraps);
	drain_fd(vhostctl_vq_call_fd(p.vq));
	free(chains);
	free(hold);
	free(iov);
	free(dw);
	pair_free(&p);
}

static void add1(struct pair *p, uint64_t gpa, uint32_t len, bool write, void *tok)
{
	struct vhostctl_vq_buf b = { gpa, len };

	t_eq(0, vhostctl_vq_add(p->vq, &b, write ? 0 : 1, write ? 1 : 0, tok, 0));
}

/* The device event area decides kicks: DISABLE, ENABLE, and DESC with EVENT_IDX. */
static void test_kick(bool event_idx)
{
	struct vhostctl_vq_stats st;
	struct pair p;
	uint64_t gpa;
	int kfd;

	pair_new(&p, 8, event_idx ? F_EVENT_IDX : 0, NULL);
	kfd = vhostctl_vq_kick_fd(p.vq);
	t_true(vhostctl_mem_alloc(p.mem, 64, 8, &gpa));
	/* Nothing added: no kick. */
	t_eq(0, vhostctl_vq_kick(p.vq));
	add1(&p, gpa, 8, false, (void *)1);
	/* Not visible before the kick. */
	{
		struct vhostctl_devq_elem e;
		struct iovec iov[2];

		t_eq(0, vhostctl_devq_pop(p.q, &e, iov, 2));
	}
	t_eq(1, vhostctl_vq_kick(p.vq));
	t_eq(1, drain_fd(kfd));
	t_eq(0, vhostctl_devq_notify_enable(p.q, 0));
	add1(&p, gpa, 8, false, (void *)2);
	t_eq(0, vhostctl_vq_kick(p.vq));
	t_eq(0, drain_fd(kfd));
	t_eq(1, vhostctl_devq_notify_enable(p.q, 1));	/* our second chain is there */
	add1(&p, gpa, 8, false, (void *)3);
	t_eq(1, vhostctl_vq_kick(p.vq));
	/* Slots 0-2 used, next is slot 3 in wrap 1. */
	if (event_idx) {
		/* Kick when slot 5 of wrap 1 becomes available. */
		p.dev_evt[0] = 5 | 0x8000;
		__atomic_store_n(&p.dev_evt[1], VRING_PACKED_EVENT_FLAG_DESC, __ATOMIC_RELEASE);
		add1(&p, gpa, 8, false, (void *)4);	/* slot 3 */
		t_eq(0, vhostctl_vq_kick(p.vq));
		add1(&p, gpa, 8, false, (void *)5);	/* slot 4 */
		t_eq(0, vhostctl_vq_kick(p.vq));
		add1(&p, gpa, 8, false, (void *)6);	/* slot 5: the one */
		t_eq(1, vhostctl_vq_kick(p.vq));
		/* Make room: the device returns all six, the driver reaps. */
		for (int i = 0; i < 6; i++) {
			struct vhostctl_devq_elem e;
			struct iovec iov[2];
			void *tok;

			t_eq(1, vhostctl_devq_pop(p.q, &e, iov, 2));
			t_eq(0, vhostctl_devq_push(p.q, &e, 0));
			vhostctl_devq_flush(p.q);
			t_eq(1, vhostctl_vq_get_used(p.vq, NULL, &tok));
		}
		/* Slot 1 of wrap 0: the next lap; two chains of 2 from slot 6 cross it. */
		p.dev_evt[0] = 1;
		{
			struct vhostctl_vq_buf b[2] = { { gpa, 8 }, { gpa + 8, 8 } };

			t_eq(0, vhostctl_vq_add(p.vq, b, 2, 0, (void *)7, 0));	/* 6, 7 */
			t_eq(0, vhostctl_vq_kick(p.vq));
			/* slots 0, 1 of wrap 0 */
			t_eq(0, vhostctl_vq_add(p.vq, b, 1, 1, (void *)8, 0));
			t_eq(1, vhostctl_vq_kick(p.vq));
		}
		/* An event of the lap before (wrap 1, slot 7): already passed, no kick. */
		p.dev_evt[0] = 7 | 0x8000;
		add1(&p, gpa, 8, false, (void *)9);	/* slot 2, wrap 0 */
		t_eq(0, vhostctl_vq_kick(p.vq));
		/* Several at once straddling the event: one kick. */
		p.dev_evt[0] = 4;
		add1(&p, gpa, 8, false, (void *)10);	/* 3 */
		add1(&p, gpa, 8, false, (void *)11);	/* 4 */
		add1(&p, gpa, 8, false, (void *)12);	/* 5 */
		t_eq(1, vhostctl_vq_kick(p.vq));
	} else {
		/* DESC without EVENT_IDX means nothing: kick. */
		__atomic_store_n(&p.dev_evt[1], VRING_PACKED_EVENT_FLAG_DESC, __ATOMIC_RELEASE);
		add1(&p, gpa, 8, false, (void *)4);
		t_eq(1, vhostctl_vq_kick(p.vq));
	}
	t_eq(0, vhostctl_vq_get_stats(p.vq, &st));
	t_eq(event_idx ? 5 : 3, st.kicks);
	t_eq(event_idx ? 5 : 1, st.kicks_suppressed);
	drain_fd(kfd);
	pair_free(&p);
}

/* Our event area decides calls: disable, enable (reports pending), EVENT_IDX. */
static void test_calls(bool event_idx)
{
	struct vhostctl_devq_elem e[4];
	struct iovec iov[8];
	struct pair p;
	uint64_t gpa;
	void *tok;
	int cfd;

	pair_new(&p, 4, event_idx ? F_EVENT_IDX : 0, NULL);
	cfd = vhostctl_vq_call_fd(p.vq);
	t_true(vhostctl_mem_alloc(p.mem, 64, 8, &gpa));
	for (int i = 0; i < 4; i++)
		add1(&p, gpa, 16, true, (void *)(uintptr_t)(i + 1));
	vhostctl_vq_kick(p.vq);
	for (int i = 0; i < 4; i++)
		t_eq(1, vhostctl_devq_pop(p.q, &e[i], iov + 2 * i, 2));

	/* Enabled from the start: a call for the first. */
	t_eq(0, vhostctl_devq_push(p.q, &e[0], 4));
	t_eq(1, vhostctl_devq_flush(p.q));
	t_eq(1, drain_fd(cfd));
	t_eq(0, vhostctl_vq_wait(p.vq, 0));
	t_eq(1, vhostctl_vq_get_used(p.vq, NULL, &tok));
	t_eq(1, (uintptr_t)tok);
	/* Disabled: no call; enabling reports the entry that came meanwhile. */
	vhostctl_vq_disable_cb(p.vq);
	t_eq(VRING_PACKED_EVENT_FLAG_DISABLE, p.drv_evt[1]);
	t_eq(0, vhostctl_devq_push(p.q, &e[2], 0));	/* out of order */
	t_eq(0, vhostctl_devq_flush(p.q));
	t_eq(0, drain_fd(cfd));
	t_eq(1, vhostctl_vq_enable_cb(p.vq));
	t_eq(event_idx ? VRING_PACKED_EVENT_FLAG_DESC : VRING_PACKED_EVENT_FLAG_ENABLE,
	     p.drv_evt[1]);
	t_eq(1, vhostctl_vq_get_used(p.vq, NULL, &tok));
	t_eq(3, (uintptr_t)tok);
	t_eq(0, vhostctl_vq_enable_cb(p.vq));
	if (event_idx)	/* next used slot 2, wrap 1 */
		t_eq(2 | 0x8000, p.drv_evt[0]);
	t_eq(0, vhostctl_devq_push(p.q, &e[1], 0));
	t_eq(1, vhostctl_devq_flush(p.q));
	t_eq(0, vhostctl_vq_wait(p.vq, 100));
	t_eq(1, vhostctl_vq_get_used(p.vq, NULL, &tok));
	t_eq(2, (uintptr_t)tok);
	/* Nothing pending: the wait times out. */
	t_eq(-ETIMEDOUT, vhostctl_vq_wait(p.vq, 20));
	t_eq(0, vhostctl_devq_push(p.q, &e[3], 0));
	t_eq(1, vhostctl_devq_flush(p.q));
	t_eq(1, vhostctl_vq_get_used(p.vq, NULL, &tok));
	t_eq(4, (uintptr_t)tok);
	/* Wrapped: the next used slot is 0 of wrap 0. */
	if (event_idx)
		t_eq(0, p.drv_evt[0]);
	t_eq(4, vhostctl_vq_num_free(p.vq));
	drain_fd(cfd);
	pair_free(&p);
}

/* A used entry written by hand at the driver's next used slot (wrap 1). */
static void hand_used(struct pair *p, unsigned int slot, uint16_t id, uint32_t len)
{
	struct vring_packed_desc *d = &p->ring[slot];

	d->id = id;
	d->len = len;
	__atomic_store_n(&d->flags, (uint16_t)(P_AVAIL | P_USED), __ATOMIC_RELEASE);
}

/* Each case on a fresh queue: the device lies once, the queue stays broken. */
static void test_hostile(int how)
{
	struct vhostctl_vq_buf b[2];
	struct pair p;
	uint32_t len;
	void *tok;

	pair_new(&p, 8, 0, NULL);
	t_true(vhostctl_mem_alloc(p.mem, 128, 8, &b[0].gpa));
	b[0].len = 16;
	b[1] = (struct vhostctl_vq_buf){ b[0].gpa + 64, 64 };
	t_eq(0, vhostctl_vq_add(p.vq, b, 1, 1, (void *)1, 0));	/* id 0, slots 0-1 */
	t_eq(0, vhostctl_vq_add(p.vq, b, 1, 0, (void *)2, 0));	/* id 1, slot 2 */
	vhostctl_vq_kick(p.vq);
	/* Flags that are neither used nor ours (AVAIL != USED): nothing yet. */
	__atomic_store_n(&p.ring[0].flags, (uint16_t)P_AVAIL, __ATOMIC_RELEASE);
	t_eq(0, vhostctl_vq_get_used(p.vq, &len, &tok));
	switch (how) {
	case 0:
		hand_used(&p, 0, 8, 0);		/* id out of range */
		break;
	case 1:
		hand_used(&p, 0, 0xffff, 0);	/* far out of range */
		break;
	case 2:
		hand_used(&p, 0, 5, 0);		/* in range, never posted */
		break;
	case 3:
		hand_used(&p, 0, 0, 65);	/* one byte over the writable 64 */
		break;
	case 4:
		hand_used(&p, 0, 1, 1);		/* a chain with nothing writable */
		break;
	case 5:
		/* id 0 properly, then id 0 again: returned twice. */
		hand_used(&p, 0, 0, 64);
		t_eq(1, vhostctl_vq_get_used(p.vq, &len, &tok));
		t_eq(64, len);
		t_eq(1, (uintptr_t)tok);
		hand_used(&p, 2, 0, 0);
		break;
	}
	t_eq(-EIO, vhostctl_vq_get_used(p.vq, &len, &tok));
	t_eq(EIO, errno);
	/* Broken: everything refuses now, even a valid entry. */
	hand_used(&p, how == 5 ? 2 : 0, how == 5 ? 1 : 0, 0);
	t_eq(-EIO, vhostctl_vq_get_used(p.vq, &len, &tok));
	t_eq(-EIO, vhostctl_vq_add(p.vq, b, 1, 0, (void *)3, 0));
	t_eq(-EIO, vhostctl_vq_kick(p.vq));
	t_eq(-EIO, vhostctl_vq_wait(p.vq, 0));
	pair_free(&p);
}

static void test_bad(void)
{
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq_buf b[3];
	struct vhostctl_vq *vq;
	uint64_t gpa;

	t_true(vhostctl_mem_add_region(mem, 0, 1 << 20, 0) >= 0);
	/* No legacy packed ring. */
	t_true(!vhostctl_vq_new(mem, 0, 8, F_PACKED, NULL));
	t_eq(EINVAL, errno);
	t_true(!vhostctl_vq_new(mem, 0, 0, F_V1 | F_PACKED, NULL));
	t_eq(EINVAL, errno);
	t_true(!vhostctl_vq_new(mem, 0, 32769, F_V1 | F_PACKED, NULL));
	t_eq(EINVAL, errno);
	/* Any size up to 32768: three descriptors. */
	vq = vhostctl_vq_new(mem, 0, 3, F_V1 | F_PACKED, NULL);
	t_true(vq);
	t_eq(3, vhostctl_vq_size(vq));
	t_eq(3, vhostctl_vq_num_free(vq));
	t_true(vhostctl_mem_alloc(mem, 64, 8, &gpa));
	for (int i = 0; i < 3; i++)
		b[i] = (struct vhostctl_vq_buf){ gpa + 16 * i, 16 };
	t_eq(-EINVAL, vhostctl_vq_add(vq, b, 1, 0, (void *)1, VHOSTCTL_VQ_ADD_INDIRECT));
	t_eq(0, vhostctl_vq_add(vq, b, 2, 0, (void *)1, 0));
	t_eq(-ENOSPC, vhostctl_vq_add(vq, b, 2, 0, (void *)2, 0));
	t_eq(0, vhostctl_vq_add(vq, b, 0, 1, (void *)2, 0));
	t_eq(0, vhostctl_vq_num_free(vq));
	b[0].gpa = 1 << 20;
	t_eq(-EFAULT, vhostctl_vq_add(vq, b, 1, 0, (void *)3, 0));
	vhostctl_vq_free(vq);
	vhostctl_mem_free(mem);
}

int main(void)
{
	int fds = t_count_fds();

	test_bad();
	/* Sizes: power of two, odd, one slot, the largest chain count. */
	test_traffic(8, 0, 0, 6000, 1);
	test_traffic(7, F_EVENT_IDX, 0, 6000, 2);
	test_traffic(1, 0, 0, 400, 3);
	test_traffic(256, F_EVENT_IDX, 0, 3000, 4);
	test_traffic(5, F_RING_INDIRECT, VHOSTCTL_VQ_ADD_INDIRECT, 4000, 5);
	test_traffic(16, F_RING_INDIRECT | F_EVENT_IDX, VHOSTCTL_VQ_ADD_INDIRECT, 4000, 6);
	test_kick(false);
	test_kick(true);
	test_calls(false);
	test_calls(true);
	for (int how = 0; how <= 5; how++)
		test_hostile(how);
	t_no_fd_leak(fds);
	return T_EXIT_PASS;
}
