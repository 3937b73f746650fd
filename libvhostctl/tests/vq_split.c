// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Driver-side split ring against an in-process device model: data both
 * ways, 16-bit index wrap-around, indirect chains, full ring, bad input,
 * EVENT_IDX and flag-based notification suppression, a lying device (id
 * not in flight, length beyond the buffer) breaking the queue, no fd leaks.
 */
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"
#include "vq_model.h"

#define F_INDIRECT (1ULL << 28)
#define F_EVENT_IDX (1ULL << 29)
#define F_V1 (1ULL << 32)

static uint64_t eventfd_count(int fd)
{
	eventfd_t v = 0;

	if (eventfd_read(fd, &v) < 0)
		return 0;
	return v;
}

/* 70,000 chains through a 4-entry ring: the 16-bit indexes wrap. */
static void test_wrap(uint64_t features, unsigned int add_flags)
{
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vq;
	struct model m;
	uint64_t gpa;
	uint8_t *buf;

	t_true(mem);
	t_true(vhostctl_mem_add_region(mem, 0x100000, 1 << 20, 0) >= 0);
	vq = vhostctl_vq_new(mem, 0, 4, features, NULL);
	t_true(vq);
	buf = vhostctl_mem_alloc(mem, 2 * 64, 64, &gpa);
	t_true(buf);
	model_init(&m, mem, vq);
	for (unsigned int i = 0; i < 70000; i++) {
		struct vhostctl_vq_buf b[2] = { { gpa, 8 }, { gpa + 64, 16 } };
		struct m_buf mb[4];
		unsigned int n;
		uint32_t len;
		void *tok;
		int head;

		memcpy(buf, &i, sizeof(i));
		t_eq(0, vhostctl_vq_add(vq, b, 1, 1, (void *)(uintptr_t)(i + 1), add_flags));
		t_true(vhostctl_vq_kick(vq) >= 0);
		head = model_pop(&m, mb, 4, &n);
		t_true(head >= 0);
		t_eq(2, n);
		t_true(!mb[0].write && mb[1].write);
		t_eq(8, mb[0].len);
		t_eq(0, memcmp(mb[0].p, &i, sizeof(i)));
		memset(mb[1].p, (int)(i & 0xff), 16);
		model_push(&m, (uint16_t)head, 16, features & F_EVENT_IDX);
		t_eq(1, vhostctl_vq_get_used(vq, &len, &tok));
		t_eq(16, len);
		t_eq(i + 1, (uintptr_t)tok);
		t_eq(i & 0xff, buf[64 + 15]);
		t_eq(0, vhostctl_vq_get_used(vq, &len, &tok));
	}
	t_eq(4, vhostctl_vq_num_free(vq));
	/* The shared index really wrapped: 70000 mod 65536. */
	t_eq(70000 & 0xffff, m.avail[1]);
	vhostctl_vq_free(vq);
	vhostctl_mem_free(mem);
}

static void test_full_and_bad(void)
{
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vq;
	struct vhostctl_vq_buf b[9];
	uint64_t gpa;
	void *tok;

	t_true(vhostctl_mem_add_region(mem, 0, 1 << 20, 0) >= 0);
	t_true(!vhostctl_vq_new(mem, 0, 3, F_V1, NULL));
	t_eq(EINVAL, errno);
	t_true(!vhostctl_vq_new(mem, 0, 65536, F_V1, NULL));
	t_eq(EINVAL, errno);
	t_true(!vhostctl_vq_new(mem, 0, 32768, F_V1 | F_INDIRECT, NULL));
	t_eq(ENOMEM, errno);
	vq = vhostctl_vq_new(mem, 0, 8, F_V1, NULL);
	t_true(vq);
	t_true(vhostctl_mem_alloc(mem, 4096, 0, &gpa));
	for (int i = 0; i < 9; i++)
		b[i] = (struct vhostctl_vq_buf){ gpa + 16 * i, 16 };
	/* Eight descriptors: one chain of 8 fits, then nothing. */
	t_eq(-ENOSPC, vhostctl_vq_add(vq, b, 9, 0, &tok, 0));
	t_eq(0, vhostctl_vq_add(vq, b, 4, 4, &tok, 0));
	t_eq(0, vhostctl_vq_num_free(vq));
	t_eq(-ENOSPC, vhostctl_vq_add(vq, b, 1, 0, &tok, 0));
	t_eq(ENOSPC, errno);
	/* Indirect not negotiated. */
	t_eq(-EINVAL, vhostctl_vq_add(vq, b, 1, 0, &tok, VHOSTCTL_VQ_ADD_INDIRECT));
	vhostctl_vq_free(vq);
	vq = vhostctl_vq_new(mem, 1, 8, F_V1, NULL);
	t_true(vq);
	b[0].gpa = 1 << 20;	/* just past the region */
	t_eq(-EFAULT, vhostctl_vq_add(vq, b, 1, 0, &tok, 0));
	b[0].gpa = (1 << 20) - 8;	/* straddles the end */
	t_eq(-EFAULT, vhostctl_vq_add(vq, b, 1, 0, &tok, 0));
	t_eq(-EINVAL, vhostctl_vq_add(vq, b, 0, 0, &tok, 0));
	t_eq(-EINVAL, vhostctl_vq_add(vq, b, 1, 0, NULL, 0));
	t_eq(8, vhostctl_vq_num_free(vq));
	vhostctl_vq_free(vq);
	vhostctl_mem_free(mem);
}

/* A device id that is not in flight is refused, not followed. */
static void test_bogus_used(void)
{
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vq;
	struct vhostctl_vq_buf b;
	struct model m;
	void *tok;

	t_true(vhostctl_mem_add_region(mem, 0, 1 << 16, 0) >= 0);
	vq = vhostctl_vq_new(mem, 0, 8, F_V1, NULL);
	model_init(&m, mem, vq);
	t_true(vhostctl_mem_alloc(mem, 64, 0, &b.gpa));
	b.len = 64;
	t_eq(0, vhostctl_vq_add(vq, &b, 1, 0, &tok, 0));
	vhostctl_vq_kick(vq);
	model_push(&m, 5, 0, false);
	t_eq(-EIO, vhostctl_vq_get_used(vq, NULL, &tok));
	model_push(&m, 200, 0, false);
	/* Broken now: even the valid entry after it, and new chains, are refused. */
	model_push(&m, 0, 0, false);
	t_eq(-EIO, vhostctl_vq_get_used(vq, NULL, &tok));
	t_eq(-EIO, vhostctl_vq_add(vq, &b, 1, 0, &tok, 0));
	t_eq(-EIO, vhostctl_vq_kick(vq));
	vhostctl_vq_free(vq);

	/* A length beyond the chain's writable bytes (64 of them). */
	vq = vhostctl_vq_new(mem, 0, 8, F_V1, NULL);
	model_init(&m, mem, vq);
	t_eq(0, vhostctl_vq_add(vq, &b, 0, 1, &tok, 0));
	vhostctl_vq_kick(vq);
	model_push(&m, 0, 65, false);
	t_eq(-EIO, vhostctl_vq_get_used(vq, NULL, &tok));
	vhostctl_vq_free(vq);
	vhostctl_mem_free(mem);
}

static void test_notify(bool event_idx)
{
	uint64_t f = F_V1 | (event_idx ? F_EVENT_IDX : 0);
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vq;
	struct vhostctl_vq_buf b;
	struct vhostctl_vq_stats st;
	struct m_buf mb[2];
	struct model m;
	unsigned int n;
	void *tok;
	int kfd;

	t_true(vhostctl_mem_add_region(mem, 0, 1 << 16, 0) >= 0);
	vq = vhostctl_vq_new(mem, 0, 16, f, NULL);
	model_init(&m, mem, vq);
	kfd = vhostctl_vq_kick_fd(vq);
	t_true(vhostctl_mem_alloc(mem, 64, 0, &b.gpa));
	b.len = 64;

	/* Device wants every kick: avail_event 0 / no NO_NOTIFY flag. */
	t_eq(0, vhostctl_vq_add(vq, &b, 1, 0, (void *)1, 0));
	t_eq(1, vhostctl_vq_kick(vq));
	t_eq(1, eventfd_count(kfd));
	/* Nothing new: no kick. */
	t_eq(0, vhostctl_vq_kick(vq));
	/* Device suppresses: avail_event far ahead, or NO_NOTIFY set. */
	if (event_idx)
		*model_avail_event(&m) = 10;
	else
		m.used[0] = 1;
	t_eq(0, vhostctl_vq_add(vq, &b, 1, 0, (void *)2, 0));
	t_eq(0, vhostctl_vq_kick(vq));
	t_eq(0, eventfd_count(kfd));
	if (event_idx) {
		/* Kick when the index crosses avail_event: idx 2 -> 4 passes 3? no; 10: at 11. */
		for (int i = 3; i <= 11; i++) {
			t_eq(0, vhostctl_vq_add(vq, &b, 1, 0, (void *)(uintptr_t)i, 0));
			t_eq(i == 11 ? 1 : 0, vhostctl_vq_kick(vq));
		}
		/* Two at once that straddle the event index still kick. */
		*model_avail_event(&m) = 11;
		t_eq(0, vhostctl_vq_get_used(vq, NULL, &tok));
	}
	t_eq(0, vhostctl_vq_get_stats(vq, &st));
	t_eq(event_idx ? 2 : 1, st.kicks);

	/* Calls: the device model asks whether the driver wants one. */
	vhostctl_vq_disable_cb(vq);
	t_true(model_pop(&m, mb, 2, &n) >= 0);
	t_true(!model_push(&m, 0, 0, event_idx));
	/* Enabling with an entry pending reports it, so no wake-up is lost. */
	t_eq(1, vhostctl_vq_enable_cb(vq));
	t_eq(1, vhostctl_vq_get_used(vq, NULL, &tok));
	t_eq(0, vhostctl_vq_enable_cb(vq));
	t_true(model_pop(&m, mb, 2, &n) >= 0);
	t_true(model_push(&m, 1, 0, event_idx));
	t_eq(0, vhostctl_vq_wait(vq, 0));
	t_eq(1, vhostctl_vq_get_used(vq, NULL, &tok));
	t_eq(2, (uintptr_t)tok);
	/* Nothing pending: the wait times out. */
	t_eq(-ETIMEDOUT, vhostctl_vq_wait(vq, 20));
	vhostctl_vq_free(vq);
	vhostctl_mem_free(mem);
}

/* Indirect chains of mixed lengths, interleaved with direct ones. */
static void test_indirect(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vq_opts, o, .max_indirect = 6);
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vq;
	struct vhostctl_vq_buf b[7];
	struct m_buf mb[8];
	struct model m;
	uint64_t gpa;
	unsigned int n;
	void *tok;

	t_true(vhostctl_mem_add_region(mem, 0x40000000, 1 << 20, 0) >= 0);
	vq = vhostctl_vq_new(mem, 0, 4, F_V1 | F_INDIRECT, &o);
	t_true(vq);
	model_init(&m, mem, vq);
	t_true(vhostctl_mem_alloc(mem, 7 * 32, 0, &gpa));
	for (int i = 0; i < 7; i++)
		b[i] = (struct vhostctl_vq_buf){ gpa + 32 * i, (uint32_t)(i + 1) };
	t_eq(-EINVAL, vhostctl_vq_add(vq, b, 7, 0, (void *)1, VHOSTCTL_VQ_ADD_INDIRECT));
	/* Four 6-buffer chains in a 4-entry ring: indirect takes one slot each. */
	for (int i = 0; i < 4; i++)
		t_eq(0, vhostctl_vq_add(vq, b, 2, 4, (void *)(uintptr_t)(i + 1),
					VHOSTCTL_VQ_ADD_INDIRECT));
	t_eq(0, vhostctl_vq_num_free(vq));
	vhostctl_vq_kick(vq);
	for (int i = 0; i < 4; i++) {
		int head = model_pop(&m, mb, 8, &n);

		t_true(head >= 0);
		t_eq(6, n);
		for (unsigned int j = 0; j < n; j++) {
			t_eq(j + 1, mb[j].len);
			t_eq(j >= 2, mb[j].write);
		}
		model_push(&m, (uint16_t)head, 3, false);
	}
	for (int i = 0; i < 4; i++) {
		t_eq(1, vhostctl_vq_get_used(vq, NULL, &tok));
		t_eq(i + 1, (uintptr_t)tok);
	}
	t_eq(4, vhostctl_vq_num_free(vq));
	vhostctl_vq_free(vq);
	vhostctl_mem_free(mem);
}

int main(void)
{
	int fds = t_count_fds();

	test_wrap(F_V1, 0);
	test_wrap(F_V1 | F_EVENT_IDX, 0);
	test_wrap(F_V1 | F_INDIRECT, VHOSTCTL_VQ_ADD_INDIRECT);
	test_wrap(0, 0);	/* legacy layout: used ring page aligned */
	test_full_and_bad();
	test_bogus_used();
	test_notify(false);
	test_notify(true);
	test_indirect();
	t_eq(fds, t_count_fds());
	return T_EXIT_PASS;
}
