// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: the device side of a virtqueue walking a ring the guest
 * wrote, split or packed, with indirect tables and event-idx, over two
 * memory regions, the input being the guest.  Two ways in:
 *
 * - direct: a queue made with vhostctl_devq_new() over the regions;
 * - through a vhost-user backend that a well-formed frontend (this program)
 *   set up with a dirty log (SET_LOG_BASE, ring logging on) and an inflight
 *   region whose contents come from the input (SET_INFLIGHT_FD before the
 *   ring starts), so the backend resubmits what the region claims is in
 *   flight, and logs every byte it writes.  The queue handler is the input's.
 *
 * Either way the input then scripts the guest and the device: memory writes
 * (ring and buffers, at any time, also under held buffers), pop, burst pop,
 * push, burst push, unpop, flush, notification toggles, copies in and out.
 * Nothing may be touched outside the regions (ASan), and no call may crash
 * or hang; a broken ring is an error return, nothing worse.
 *
 * Input: u8 mode, u16 num, u16 base, u8 layout, [3 x u16 ring offsets],
 * [u16 inflight length, bytes], then steps (see step()).
 */
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <vhostctl/devq.h>
#include <vhostctl/vhost_user.h>

#include "fuzz.h"

#define R0_SIZE (64u << 10)
#define R1_GPA 0x100000u
#define R1_SIZE (16u << 10)
#define MEM_SIZE (R0_SIZE + R1_SIZE)
#define UADDR 0x7f0000000000ull
#define LOG_SIZE (16u << 10)
#define INFL_SIZE (64u << 10)
#define HELD 8
#define IOV 16

#define M_PACKED 0x01
#define M_EVENT_IDX 0x02
#define M_INDIRECT 0x04
#define M_BACKEND 0x08
#define M_UADDR 0x10
#define M_LOG 0x20

static int mem_fd, log_fd, infl_fd;
static uint8_t *mem, *log_map, *infl;
static struct fz IN;
static int fd_base = -1;

struct held {
	struct vhostctl_devq_elem e;
	struct iovec iov[IOV];
	bool live;
};

static struct held held[HELD];

static uint8_t *map_memfd(int *fd, size_t size)
{
	uint8_t *p;

	*fd = memfd_create("fuzz-ring", MFD_CLOEXEC);
	if (*fd < 0 || ftruncate(*fd, (off_t)size) < 0)
		abort();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED)
		abort();
	return p;
}

/* A guest write anywhere in either region (offsets past R0 land in R1). */
static void guest_write(void)
{
	uint32_t off = fz_u32(&IN) % MEM_SIZE;
	uint8_t len = fz_u8(&IN), buf[256];

	fz_bytes(&IN, buf, len);
	for (unsigned int i = 0; i < len; i++)
		mem[(off + i) % MEM_SIZE] = buf[i];
}

static struct held *pick_held(bool live)
{
	struct held *h = &held[fz_u8(&IN) % HELD];

	return h->live == live ? h : NULL;
}

/*
 * One step of the script; returns < 0 when the queue said the ring is
 * broken (the caller stops using it), 1 at the end of a handler's turn.
 */
static int step(struct vhostctl_devq *q)
{
	uint8_t op = fz_u8(&IN), buf[1024];
	struct vhostctl_devq_elem e[HELD];
	struct iovec iov[HELD * 4];
	uint32_t written[HELD];
	struct held *h;
	int n, r = 0;

	switch (op % 12) {
	case 0:
		guest_write();
		break;
	case 1:
	case 2:
		h = pick_held(false);
		if (!h)
			break;
		r = vhostctl_devq_pop(q, &h->e, h->iov, 1 + fz_u8(&IN) % IOV);
		if (r > 0)
			h->live = true;
		break;
	case 3:
		n = vhostctl_devq_pop_burst(q, e, iov, 4, 1 + fz_u8(&IN) % HELD);
		for (int i = 0; i < n; i++) {
			written[i] = fz_u8(&IN) & 1 ? e[i].in_len : fz_u16(&IN);
			vhostctl_devq_copy_to(&e[i], 0, buf, written[i] % sizeof(buf));
		}
		if (n > 0)
			r = vhostctl_devq_push_burst(q, e, written, (unsigned int)n);
		else
			r = n;
		break;
	case 4:
	case 5:
		h = pick_held(true);
		if (!h)
			break;
		r = vhostctl_devq_push(q, &h->e, op & 1 ? h->e.in_len : fz_u32(&IN));
		h->live = false;
		break;
	case 6: {
		unsigned int k = 0;

		for (int i = 0; i < HELD; i++) {
			if (!held[i].live)
				continue;
			e[k] = held[i].e;
			written[k++] = fz_u16(&IN);
			held[i].live = false;
		}
		if (k)
			r = vhostctl_devq_push_burst(q, e, written, k);
		break;
	}
	case 7:
		h = pick_held(true);
		if (!h)
			break;
		r = vhostctl_devq_unpop(q, &h->e);
		h->live = false;
		break;
	case 8:
		r = vhostctl_devq_flush(q);
		break;
	case 9:
		r = vhostctl_devq_notify_enable(q, op >> 7);
		break;
	case 10:
		h = pick_held(true);
		if (!h)
			break;
		if (op & 0x80) {
			fz_bytes(&IN, buf, 64);
			vhostctl_devq_copy_to(&h->e, fz_u16(&IN), buf, fz_u16(&IN) % sizeof(buf));
		} else {
			vhostctl_devq_copy_from(&h->e, fz_u16(&IN), buf, fz_u16(&IN) % sizeof(buf));
		}
		break;
	default:
		vhostctl_devq_base(q);
		vhostctl_devq_size(q);
		return 1;
	}
	return r < 0 ? r : 0;
}

static void forget_held(void)
{
	for (int i = 0; i < HELD; i++)
		held[i].live = false;
}

/* The backend's queue handler: the script's steps until one ends the turn. */
static int handler(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		   void *ctx)
{
	int r = 0;

	while (fz_left(&IN) && r == 0)
		r = step(q);
	/* Buffers held past a turn are lost with the queue: never used again. */
	forget_held();
	return r < 0 ? r : 0;
}

static void direct(uint8_t mode, uint16_t num, uint16_t base, const uint64_t ring[3])
{
	struct vhostctl_devq_region regs[2] = {
		{ .gpa = 0, .size = R0_SIZE, .uaddr = UADDR, .host = mem },
		{ .gpa = R1_GPA, .size = R1_SIZE, .uaddr = UADDR + R1_GPA, .host = mem + R0_SIZE },
	};
	int call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vhostctl_devq_opts o = {
		.sz = sizeof(o), .regions = regs, .nregions = 2, .num = num,
		.flags = (mode & M_PACKED ? VHOSTCTL_DEVQ_F_PACKED : 0) |
			 (mode & M_EVENT_IDX ? VHOSTCTL_DEVQ_F_EVENT_IDX : 0) |
			 (mode & M_INDIRECT ? VHOSTCTL_DEVQ_F_INDIRECT : 0) |
			 (mode & M_UADDR ? VHOSTCTL_DEVQ_F_UADDR : 0),
		.desc = ring[0] + (mode & M_UADDR ? UADDR : 0),
		.avail = ring[1] + (mode & M_UADDR ? UADDR : 0),
		.used = ring[2] + (mode & M_UADDR ? UADDR : 0),
		.base = base, .call_fd = call,
	};
	struct vhostctl_devq *q = vhostctl_devq_new(&o);

	if (q) {
		while (fz_left(&IN) && step(q) >= 0)
			;
		vhostctl_devq_free(q);
	}
	forget_held();
	close(call);
}

/* The backend may refuse what the input made of the set-up (a bad size): carry on. */
static void send_ok(int sock, uint32_t req, const void *p, size_t len, int fd)
{
	int fds[2] = { fd, fd };

	fz_send(sock, req, FZ_VU_VERSION, (uint32_t)len, p, len, fds,
		fd < 0 ? 0 : req == FZ_SET_MEM_TABLE ? 2 : 1);
}

static void settle(struct vhostctl_vu_backend *be, int sock)
{
	char buf[4096];

	for (int i = 0; i < 16; i++)
		if (vhostctl_vu_backend_dispatch(be, 0) <= 0)
			break;
	while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void via_backend(uint8_t mode, uint16_t num, uint16_t base, const uint64_t ring[3])
{
	struct vhostctl_vu_backend_opts o = {
		.sz = sizeof(o),
		.features = 1ull << FZ_F_VERSION_1,
		.protocol_features = ~0ull,
		.num_queues = 1,
		.max_queue_size = 32768,
		.queue = handler,
		.log = fz_debug() ? fz_log : NULL, .log_ctx = "ring", .log_level = 7,
	};
	uint64_t features = 1ull << FZ_F_VERSION_1 | 1ull << FZ_F_PROTOCOL | 1ull << FZ_F_LOG_ALL |
			    (mode & M_PACKED ? 1ull << FZ_F_PACKED : 0) |
			    (mode & M_EVENT_IDX ? 1ull << FZ_F_EVENT_IDX : 0) |
			    (mode & M_INDIRECT ? 1ull << FZ_F_INDIRECT : 0);
	uint64_t pf = 1u << VHOSTCTL_VU_PF_MQ | 1u << VHOSTCTL_VU_PF_LOG_SHMFD |
		      1u << VHOSTCTL_VU_PF_INFLIGHT_SHMFD;
	struct {
		uint32_t n, pad;
		uint64_t r[2][4];
	} mt = { 2, 0, { { 0, R0_SIZE, UADDR, 0 }, { R1_GPA, R1_SIZE, UADDR + R1_GPA, R0_SIZE } } };
	uint64_t lg[2] = { LOG_SIZE, 0 };
	struct {
		uint64_t size, offset;
		uint16_t nq, qs;
		uint32_t pad;
	} inf = { INFL_SIZE, 0, 1, num, 0 };
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} ad = { 0, mode & M_LOG ? 1 : 0, UADDR + ring[0], UADDR + ring[2], UADDR + ring[1],
		 ring[2] };
	uint32_t st[2] = { 0, num };
	uint64_t idx = 0;
	struct vhostctl_vu_backend *be = vhostctl_vu_backend_new(&o);
	int sv[2], kick, call, lfd;

	if (!be || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    vhostctl_vu_backend_adopt(be, sv[1]) < 0)
		abort();
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	lfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	send_ok(sv[0], FZ_SET_FEATURES, &features, 8, -1);
	send_ok(sv[0], FZ_SET_PROTOCOL_FEATURES, &pf, 8, -1);
	send_ok(sv[0], FZ_SET_OWNER, NULL, 0, -1);
	send_ok(sv[0], FZ_SET_MEM_TABLE, &mt, sizeof(mt), mem_fd);
	send_ok(sv[0], FZ_SET_LOG_BASE, lg, sizeof(lg), log_fd);
	send_ok(sv[0], FZ_SET_LOG_FD, NULL, 0, lfd);
	send_ok(sv[0], FZ_SET_INFLIGHT_FD, &inf, sizeof(inf), infl_fd);
	send_ok(sv[0], FZ_SET_VRING_NUM, st, sizeof(st), -1);
	send_ok(sv[0], FZ_SET_VRING_ADDR, &ad, sizeof(ad), -1);
	st[1] = base;
	send_ok(sv[0], FZ_SET_VRING_BASE, st, sizeof(st), -1);
	send_ok(sv[0], FZ_SET_VRING_CALL, &idx, 8, call);
	send_ok(sv[0], FZ_SET_VRING_KICK, &idx, 8, kick);
	st[1] = 1;
	send_ok(sv[0], FZ_SET_VRING_ENABLE, st, sizeof(st), -1);
	settle(be, sv[0]);
	/* The guest: memory writes between kicks; the handler reads its own steps. */
	while (fz_left(&IN)) {
		uint8_t op = fz_u8(&IN);
		uint64_t one = 1;

		if (op & 1)
			guest_write();
		else if (write(kick, &one, sizeof(one)) < 0)
			break;
		settle(be, sv[0]);
	}
	st[1] = 0;
	send_ok(sv[0], FZ_GET_VRING_BASE, st, sizeof(st), -1);
	settle(be, sv[0]);
	vhostctl_vu_backend_free(be);
	close(sv[0]);
	close(kick);
	close(call);
	close(lfd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode, layout;
	uint16_t num, base, ilen;
	uint64_t ring[3] = { 0, 0x4000, 0x8000 };

	if (!mem) {
		mem = map_memfd(&mem_fd, MEM_SIZE);
		log_map = map_memfd(&log_fd, LOG_SIZE);
		infl = map_memfd(&infl_fd, INFL_SIZE);
	}
	fz_check_fds(&fd_base);
	memset(mem, 0, MEM_SIZE);
	memset(log_map, 0, LOG_SIZE);
	memset(infl, 0, INFL_SIZE);
	IN = (struct fz){ data, size };
	mode = fz_u8(&IN);
	num = fz_u16(&IN);
	base = fz_u16(&IN);
	layout = fz_u8(&IN);
	if (layout & 1) {
		/* Anywhere: in R0, in R1, straddling, or outside both. */
		for (int i = 0; i < 3; i++)
			ring[i] = fz_u16(&IN) * (layout & 2 ? 16ull : 2ull);
	}
	if (mode & M_BACKEND) {
		ilen = fz_u16(&IN);
		fz_bytes(&IN, infl, ilen % INFL_SIZE);
		via_backend(mode, num, base, ring);
	} else {
		direct(mode, num, base, ring);
	}
	fz_check_fds(&fd_base);
	return 0;
}
