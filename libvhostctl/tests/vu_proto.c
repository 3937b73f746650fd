// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The memory table between our frontend and our backend, end to end over a
 * real Unix socket, in both socket roles, with the values checked:
 *  - SET_MEM_TABLE with 1..8 regions (CONFIGURE_MEM_SLOTS masked), rings and
 *    buffers spread over all of them, traffic; 9 regions refused (-E2BIG)
 *    with nothing sent;
 *  - CONFIGURE_MEM_SLOTS: GET_MAX_MEM_SLOTS = 509, a 509-region table sent
 *    as ADD_MEM_REG, replaced by another (exactly the REM/ADD messages of
 *    the difference), traffic through the new regions, a buffer in a
 *    removed region ends the connection, 510 regions refused; a region
 *    longer than its fd refused (SET_MEM_TABLE and ADD_MEM_REG).
 *
 * The other protocol features and messages are in vu_proto_dev.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "vu_proto.h"

/* ---- guest memory placed by hand ---------------------------------------- */

#define ARENA_MAX 1024u

struct arena {
	unsigned int n;
	uint8_t *hva[ARENA_MAX];
	uint64_t gpa[ARENA_MAX], size[ARENA_MAX], used[ARENA_MAX];
};

static void *aalloc(struct arena *a, unsigned int r, uint64_t size, uint64_t align, uint64_t *gpa)
{
	uint64_t off = (a->used[r] + align - 1) & ~(align - 1);

	if (r >= a->n || off + size > a->size[r])
		t_fail("arena: region %u has no room for %llu bytes", r, (unsigned long long)size);
	a->used[r] = off + size;
	*gpa = a->gpa[r] + off;
	memset(a->hva[r] + off, 0, size);
	return a->hva[r] + off;
}

/* A ring with its descriptors, rings and buffers in the regions reg[0..3]. */
static void q_place(struct drv_q *q, struct arena *a, const unsigned int reg[4], bool packed,
		    uint32_t bsz)
{
	memset(q, 0, sizeof(*q));
	q->packed = packed;
	q->num = NUM;
	q->bsz = bsz;
	q->desc = aalloc(a, reg[0], 16ull * NUM, 4096, &q->desc_gpa);
	q->avail = aalloc(a, reg[1], packed ? 4 : 6 + 2ull * NUM, 64, &q->avail_gpa);
	q->used = aalloc(a, reg[2], packed ? 4 : 6 + 8ull * NUM, 64, &q->used_gpa);
	q->bufs = aalloc(a, reg[3], (uint64_t)bsz * NUM, 64, &q->bufs_gpa);
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->avail_wrap = q->used_wrap = true;
	t_true(q->kick >= 0 && q->call >= 0);
}

static void arena_of_mem(struct arena *a, struct vhostctl_mem *mem)
{
	int n = vhostctl_mem_num_regions(mem);

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < n; i++) {
		struct vhostctl_mem_region r;

		t_eq(0, vhostctl_mem_get_region(mem, (unsigned int)i, &r));
		a->hva[i] = r.hva;
		a->gpa[i] = r.gpa;
		a->size[i] = r.size;
	}
	a->n = (unsigned int)n;
}

/* ---- SET_MEM_TABLE, 1..8 regions ------------------------------------------ */

static void mem_table(bool server)
{
	struct sess s = { .path = path, .server = server, .be = net_be() };
	unsigned long total = 0;

	for (unsigned int n = 1; n <= 9; n++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o,
				   .protocol_features =
					   ALL_PF & ~pf_bit(VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS));
		struct vhostctl_mem *mem = vhostctl_mem_new();
		struct vhostctl_dev *dev;
		struct arena a;
		struct pair p;
		uint64_t pf, m0;
		/* Ring pieces spread round the regions: every region holds some. */
		unsigned int rr[4], tr[4];

		t_true(mem);
		for (unsigned int i = 0; i < n; i++)
			t_eq((int)i, vhostctl_mem_add_region(mem, 0x100000 + i * 0x400000ull,
							     0x100000, 0));
		dev = sess_open(&s, &o);
		if (!dev)
			t_fail("open: %s", strerror(errno));
		t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
		t_eq(0, pf & pf_bit(VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS));
		t_eq(8, vhostctl_vu_max_mem_slots(dev));
		t_eq(0, vhostctl_dev_set_owner(dev));
		t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1 | F_MAC));
		if (n == 9) {
			/* Nine regions do not fit SET_MEM_TABLE: refused, nothing sent. */
			barrier(dev);
			m0 = sess_messages(&s);
			t_eq(-E2BIG, vhostctl_dev_set_mem_table(dev, mem));
			t_eq(E2BIG, errno);
			barrier(dev);
			t_eq(m0 + 1, sess_messages(&s));
			close_session(&s, dev);
			vhostctl_mem_free(mem);
			break;
		}
		t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
		arena_of_mem(&a, mem);
		for (unsigned int k = 0; k < 4; k++) {
			rr[k] = k % n;
			tr[k] = (k + 4) % n;
		}
		memset(&p, 0, sizeof(p));
		q_place(&p.rx, &a, rr, false, 1024);
		q_place(&p.tx, &a, tr, false, 1024);
		pair_rings(dev, &p, 0, 0);
		pair_fill_rx(&p);
		traffic(&p, 1500, "mem table");
		total += p.received;
		if (n == 1) {
			/* The net device's config: its MAC, link up, one pair, MTU. */
			uint8_t cfg[12], b[4];
			static const uint8_t want[12] = {
				2, 0, 0, 0, 0, 9, 1, 0, 1, 0, 0xdc, 0x05,
			};

			t_eq(0, vhostctl_dev_get_config(dev, 0, cfg, 12));
			t_true(!memcmp(cfg, want, 12));
			t_eq(0, vhostctl_dev_get_config(dev, 0, b, 4));
			t_true(!memcmp(b, want, 4));
			/* Out of range: refused by the backend, the connection kept. */
			t_eq(-EIO, vhostctl_dev_get_config(dev, 10, b, 4));
			t_eq(-EIO, vhostctl_dev_get_config(dev, 12, b, 1));
			t_eq(-EIO, vhostctl_dev_get_config(dev, 0xffffffffu, b, 2));
			/* Too large for the protocol: refused here. */
			t_eq(-EINVAL, vhostctl_dev_get_config(dev, 0, b, 0));
			t_eq(-EINVAL, vhostctl_dev_get_config(dev, 0, cfg, 257));
			traffic(&p, 100, "after config refusals");
			total += 100;
		}
		close_session(&s, dev);
		drv_q_fini(&p.rx);
		drv_q_fini(&p.tx);
		vhostctl_mem_free(mem);
		printf("SET_MEM_TABLE, %s: %u region%s, rings and buffers in all, %lu packets\n",
		       role(server), n, n > 1 ? "s" : "", p.received);
	}
	{
		struct vhostctl_vu_net_stats st;
		struct vhostctl_vu_backend_stats bs;

		t_eq(0, vhostctl_vu_net_stats(s.be, &st));
		t_eq(total, st.rx_packets);
		t_eq(0, st.dropped);
		t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
		t_eq(0, bs.protocol_errors);
	}
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
}

/* ---- a region larger than its fd ------------------------------------------- */

/*
 * The frontend's memory is whole, but the fd it passes is shorter than the
 * region: pages past its end would raise SIGBUS in the backend when a ring
 * or buffer lies there.  The backend must refuse the region instead.
 */
static void region_past_fd(bool server, bool slots)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o,
			   .protocol_features = slots ? ALL_PF :
					  ALL_PF & ~pf_bit(VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS));
	struct sess s = { .path = path, .server = server, .be = net_be() };
	struct vhostctl_vu_backend_stats bs;
	struct vhostctl_vu_region reg;
	struct vhostctl_dev *dev;
	static const unsigned int rr[4] = { 0, 0, 0, 0 };
	struct arena a;
	struct pair p;
	uint8_t *mem;
	int fd;

	fd = memfd_create("vu_proto-short", MFD_CLOEXEC);
	t_true(fd >= 0);
	t_eq(0, ftruncate(fd, 0x10000));
	mem = mmap(NULL, 0x100000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	t_true(mem != MAP_FAILED);
	reg = (struct vhostctl_vu_region){ .gpa = 0x100000, .size = 0x100000,
					   .uaddr = (uint64_t)(uintptr_t)mem, .fd = fd };
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	dev_init(dev, VU_F_VERSION_1 | F_MAC, NULL);
	if (!vhostctl_vu_set_mem_table(dev, &reg, 1)) {
		/* Taken: then the backend dies on the first buffer past the fd's end. */
		a = (struct arena){ .n = 1, .hva = { mem + 0x80000 }, .gpa = { 0x180000 },
				    .size = { 0x80000 } };
		memset(&p, 0, sizeof(p));
		q_place(&p.rx, &a, rr, false, 1024);
		q_place(&p.tx, &a, rr, false, 1024);
		pair_rings(dev, &p, 0, 0);
		pair_fill_rx(&p);
		traffic(&p, 10, "region past its fd");
		t_fail("a region past the end of its fd was taken");
	}
	if (sess_wait_gone(&s))
		t_fail("the backend kept the frontend");
	t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
	t_eq(1, bs.protocol_errors);
	if (!strstr(bs.last_error, "past the end of its fd"))
		t_fail("last error: %s", bs.last_error);
	printf("%s, %s: a 1 MiB region on a 64 KiB fd refused (%s)\n",
	       slots ? "ADD_MEM_REG" : "SET_MEM_TABLE", role(server), bs.last_error);
	vhostctl_dev_close(dev);
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
	munmap(mem, 0x100000);
	close(fd);
}

/* ---- CONFIGURE_MEM_SLOTS: 509 regions, replaced ----------------------------- */

#define SLOT 0x2000ull		/* 8 KiB regions */
#define SLOTS 509u

static void fill_table(struct vhostctl_vu_region *r, uint8_t *base, int fd, bool second)
{
	for (unsigned int i = 0; i < SLOTS; i++) {
		/* The second table keeps the even regions and moves the odd ones. */
		bool moved = second && (i & 1);
		uint64_t off = (moved ? 512 + i : i) * SLOT;

		r[i].gpa = (moved ? 0x40000000ull : 0x100000ull) + i * 2 * SLOT;
		r[i].size = SLOT;
		r[i].uaddr = (uint64_t)(uintptr_t)(base + off);
		r[i].fd = fd;
		r[i].offset = off;
	}
}

static void arena_of_table(struct arena *a, const struct vhostctl_vu_region *r, unsigned int n)
{
	memset(a, 0, sizeof(*a));
	for (unsigned int i = 0; i < n; i++) {
		a->hva[i] = (uint8_t *)(uintptr_t)r[i].uaddr;
		a->gpa[i] = r[i].gpa;
		a->size[i] = r[i].size;
	}
	a->n = n;
}

static void mem_slots(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct sess s = { .path = path, .server = server, .be = net_be() };
	static struct vhostctl_vu_region t1[SLOTS + 1], t2[SLOTS];
	static const unsigned int rr[4] = { 0, 100, 200, 300 }, tr[4] = { 402, 450, 500, 508 };
	struct vhostctl_vu_backend_stats bs;
	struct vhostctl_dev *dev;
	struct arena a1, a2;
	struct pair p;
	size_t len = 1024 * SLOT;
	uint8_t *base;
	uint64_t pf, m0;
	int fd;

	fd = memfd_create("vu_proto", MFD_CLOEXEC);
	t_true(fd >= 0);
	t_eq(0, ftruncate(fd, (off_t)len));
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t_true(base != MAP_FAILED);
	fill_table(t1, base, fd, false);
	fill_table(t2, base, fd, true);
	arena_of_table(&a1, t1, SLOTS);
	arena_of_table(&a2, t2, SLOTS);

	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_true(pf & pf_bit(VHOSTCTL_VU_PF_CONFIGURE_MEM_SLOTS));
	t_eq(509, vhostctl_vu_max_mem_slots(dev));
	dev_init(dev, VU_F_VERSION_1 | F_MAC, NULL);
	barrier(dev);
	m0 = sess_messages(&s);
	t_eq(0, vhostctl_vu_set_mem_table(dev, t1, SLOTS));
	/* GET_MAX_MEM_SLOTS, then one ADD_MEM_REG per region. */
	t_eq(m0 + 1 + SLOTS, sess_messages(&s));
	memset(&p, 0, sizeof(p));
	/* 64 buffers of 128 bytes: one 8 KiB region each way. */
	q_place(&p.rx, &a1, rr, false, 128);
	q_place(&p.tx, &a1, tr, false, 128);
	pair_rings(dev, &p, 0, 0);
	pair_fill_rx(&p);
	traffic(&p, 1000, "509 regions");

	/* Another table: the odd regions move; only the difference is sent. */
	m0 = sess_messages(&s);
	t_eq(0, vhostctl_vu_set_mem_table(dev, t2, SLOTS));
	t_eq(m0 + 1 + 254 + 254, sess_messages(&s));
	/* TX buffers now in a region that is new (odd: moved), RX as before. */
	{
		uint64_t gpa;

		p.tx.bufs = aalloc(&a2, 301, (uint64_t)p.tx.bsz * NUM, 64, &gpa);
		p.tx.bufs_gpa = gpa;
	}
	traffic(&p, 1000, "after the table changed");
	/* 510 regions: refused after GET_MAX_MEM_SLOTS, nothing else sent. */
	t1[SLOTS] = t1[SLOTS - 1];
	t1[SLOTS].gpa += 0x100000000ull;
	m0 = sess_messages(&s);
	t_eq(-E2BIG, vhostctl_vu_set_mem_table(dev, t1, SLOTS + 1));
	barrier(dev);
	t_eq(m0 + 2, sess_messages(&s));
	traffic(&p, 100, "after 510 refused");
	t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
	t_eq(0, bs.protocol_errors);
	/* A buffer in a region that was removed: the backend cuts us off. */
	p.tx.bufs_gpa = t1[301].gpa;
	p.tx.bufs = (uint8_t *)(uintptr_t)t1[301].uaddr;
	p.to_send = p.sent + 1;
	t_eq(0, pairs_run(&p, 1, SIZE, 300, err, sizeof(err)));	/* sent, nothing awaited */
	if (sess_wait_gone(&s))
		t_fail("the backend kept a frontend that used removed memory");
	t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
	t_eq(1, bs.protocol_errors);
	/* Either queue's handler moves the packets: the one running reports it. */
	if (!strstr(bs.last_error, "broken ring"))
		t_fail("last error: %s", bs.last_error);
	{
		int progress = 0;

		t_eq(0, pairs_reap(&p, 1, SIZE, err, sizeof(err), &progress));
		t_eq(0, progress);
		t_eq(2100, p.received);
	}
	printf("CONFIGURE_MEM_SLOTS, %s: 509 slots, %u ADD_MEM_REG, then 254 REM + 254 ADD, "
	       "%lu packets; removed memory refused (%s)\n", role(server), SLOTS, p.received,
	       bs.last_error);
	vhostctl_dev_close(dev);
	drv_q_fini(&p.rx);
	drv_q_fini(&p.tx);
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
	munmap(base, len);
	close(fd);
}

/* Every test of this program, in one socket role. */
static void tests(bool server)
{
	mem_table(server);
	mem_slots(server);
	region_past_fd(server, false);
	region_past_fd(server, true);
}

int main(void)
{
	return proto_main("vu_proto", tests);
}
