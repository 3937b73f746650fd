// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The vDPA migration blob parser without a device: blobs built here from
 * the documented layout (with a CRC-32 of our own) are accepted; damaged,
 * truncated, inconsistent and unknown-version ones are refused with the
 * documented errno; then a seeded random fuzz of mutated blobs, each in a
 * buffer of exactly its length so that ASan sees any read past it.
 * VDPA_STATE_SEED=<n> replays another seed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

#define HDR 64
#define RING 40
#define F_PACKED (1ULL << 34)

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static void w16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static void w64(uint8_t *p, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static void fix_crc(uint8_t *p, size_t len)
{
	w32(p, 12, 0);
	w32(p, 12, crc32_ieee(p, len));
}

struct spec {
	int packed;
	uint32_t config_len;
	uint16_t nrings;
	uint32_t vq_count;
};

/* A valid blob of the given shape; returns its length (buffer of 4096). */
static size_t build(uint8_t *p, const struct spec *s)
{
	size_t cfg = (s->config_len + 7u) & ~7u;
	size_t len = HDR + cfg + (size_t)s->nrings * RING;

	memset(p, 0, 4096);
	memcpy(p, "VHCM", 4);
	w16(p, 4, 1);
	w16(p, 6, HDR);
	w32(p, 8, (uint32_t)len);
	w32(p, 16, 1);				/* net */
	w32(p, 20, s->vq_count);
	w64(p, 24, (1ULL << 32) | (1ULL << 33) | (1ULL << 5) | (s->packed ? F_PACKED : 0));
	w64(p, 32, 0x1f6);
	w32(p, 40, s->config_len);
	w16(p, 44, s->nrings);
	p[46] = 0x0f;				/* ACK|DRIVER|DRIVER_OK|FEATURES_OK */
	w16(p, 48, RING);
	for (uint32_t i = 0; i < s->config_len; i++)
		p[HDR + i] = (uint8_t)(0x30 + i);
	for (unsigned int i = 0; i < s->nrings; i++) {
		uint8_t *r = p + HDR + cfg + i * RING;

		w16(r, 0, (uint16_t)i);
		w16(r, 2, s->packed ? 100 : 64);
		w16(r, 4, s->packed ? 0x1234 : 0xfff0);
		w16(r, 6, s->packed ? 0x1200 : 0xffe0);
		r[8] = (uint8_t)(1 | (s->packed ? 2 : 0));
		w64(r, 16, 0x100000 + i * 0x10000);
		w64(r, 24, 0x104000 + i * 0x10000);
		w64(r, 32, 0x108000 + i * 0x10000);
	}
	fix_crc(p, len);
	return len;
}

/* Check a copy of exactly len bytes; errno must agree with the return. */
static int check(const uint8_t *p, size_t len, struct vhostctl_vdpa_state_info *info)
{
	uint8_t *c = malloc(len ? len : 1);
	int r;

	if (!c)
		t_fail("malloc");
	memcpy(c, p, len);
	errno = 0;
	r = vhostctl_vdpa_state_check(c, len, info);
	if (r && errno != -r)
		t_fail("returned %d but errno %d", r, errno);
	free(c);
	return r;
}

static const struct spec split2 = { 0, 24, 2, 3 };
static const struct spec packed2 = { 1, 20, 2, 3 };

static void test_valid(void)
{
	struct vhostctl_vdpa_state_info info;
	uint8_t b[4096];
	size_t len = build(b, &split2);

	t_eq(0, check(b, len, &info));
	t_eq(1, info.version);
	t_eq(1, info.device_id);
	t_eq(3, info.vq_count);
	t_eq(0x0f, info.status);
	t_eq(24, info.config_len);
	t_eq(2, info.nrings);
	t_eq(len, info.length);
	t_eq(0x1f6, info.backend_features);
	/* Trailing data after the blob is not the blob's business. */
	t_eq(0, check(b, len + 100, NULL));
	len = build(b, &packed2);
	t_eq(0, check(b, len, &info));
	t_true(info.features & F_PACKED);
	/* No rings, no config: still a blob. */
	len = build(b, &(struct spec){ 0, 0, 0, 1 });
	t_eq(HDR, len);
	t_eq(0, check(b, len, NULL));
	errno = 0;
	t_eq(-EINVAL, vhostctl_vdpa_state_check(NULL, 100, NULL));
	t_eq(EINVAL, errno);
	t_eq(-EINVAL, vhostctl_vdpa_state_save(NULL, NULL, 0));
	t_eq(-EINVAL, vhostctl_vdpa_state_restore(NULL, b, len, NULL));
}

static void test_truncated(void)
{
	uint8_t b[4096];
	size_t len = build(b, &split2);

	for (size_t n = 0; n < len; n++)
		if (check(b, n, NULL) != -EINVAL)
			t_fail("truncated to %zu of %zu bytes: accepted or wrong errno", n, len);
}

/* One damage per case: (offset, value width, value, fix the CRC?, errno). */
static void test_damaged(void)
{
	const size_t r0 = HDR + 24, r1 = r0 + RING;
	const struct {
		const char *what;
		size_t off;
		int width;
		uint64_t v;
		int fix;
		int err;
	} cases[] = {
		{ "magic", 0, 4, 0x4d434857, 1, EINVAL },
		{ "version 2", 4, 2, 2, 1, EPROTO },
		{ "version 2, stale CRC", 4, 2, 2, 0, EPROTO },
		{ "version 0", 4, 2, 0, 1, EPROTO },
		{ "header length", 6, 2, 72, 1, EINVAL },
		{ "CRC", 12, 4, 0x12345678, 0, EINVAL },
		{ "one config byte", HDR + 3, 1, 0xee, 0, EINVAL },
		{ "length longer than given", 8, 4, 4000, 1, EINVAL },
		{ "length under the header", 8, 4, 10, 1, EINVAL },
		{ "length vs counts", 8, 4, HDR + 24 + RING, 1, EINVAL },
		{ "rings beyond vq count", 20, 4, 1, 1, EINVAL },
		{ "config length huge", 40, 4, 70000, 1, EINVAL },
		{ "config length vs length", 40, 4, 32, 1, EINVAL },
		{ "nrings vs length", 44, 2, 3, 1, EINVAL },
		{ "nrings 65535", 44, 2, 65535, 1, EINVAL },
		{ "status FAILED", 46, 1, 0x8f, 1, EINVAL },
		{ "rings without FEATURES_OK", 46, 1, 0x07, 1, EINVAL },
		{ "header flags", 47, 1, 1, 1, EINVAL },
		{ "ring entry length", 48, 2, 48, 1, EINVAL },
		{ "reserved header", 60, 1, 1, 1, EINVAL },
		{ "duplicate ring index", r1, 2, 0, 1, EINVAL },
		{ "ring index beyond vq count", r1, 2, 3, 1, EINVAL },
		{ "ring size 0", r0 + 2, 2, 0, 1, EINVAL },
		{ "split ring size 48", r0 + 2, 2, 48, 1, EINVAL },
		{ "ring size 65535", r0 + 2, 2, 65535, 1, EINVAL },
		{ "ring flags", r0 + 8, 1, 0x9, 1, EINVAL },
		{ "wrap counter on split", r0 + 8, 1, 0x3, 1, EINVAL },
		{ "ring reserved", r0 + 10, 1, 1, 1, EINVAL },
		{ "ring address flags", r0 + 12, 4, 1, 1, EINVAL },
	};
	uint8_t b[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = build(b, &split2);
		int r;

		for (int k = 0; k < cases[i].width; k++)
			b[cases[i].off + k] = (uint8_t)(cases[i].v >> (8 * k));
		if (cases[i].fix)
			fix_crc(b, len);
		r = check(b, len, NULL);
		if (r != -cases[i].err)
			t_fail("%s: got %d, want %d", cases[i].what, r, -cases[i].err);
	}
	/* Packed: 15-bit indexes, any size up to 32768. */
	{
		size_t len = build(b, &packed2);
		size_t r0p = HDR + 24;

		w16(b, r0p + 4, 0x8000);
		fix_crc(b, len);
		t_eq(-EINVAL, check(b, len, NULL));
		len = build(b, &packed2);
		w16(b, r0p + 2, 32769);
		fix_crc(b, len);
		t_eq(-EINVAL, check(b, len, NULL));
		len = build(b, &packed2);
		b[HDR + 20] = 1;	/* config padding */
		fix_crc(b, len);
		t_eq(-EINVAL, check(b, len, NULL));
	}
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible from the seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static void test_fuzz(void)
{
	const char *env = getenv("VDPA_STATE_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eed1234;
	unsigned int accepted = 0, proto = 0;
	uint8_t b[4096];

	rng_state = seed ? seed : 1;
	for (unsigned int it = 0; it < 50000; it++) {
		const struct spec *s = it & 1 ? &packed2 : &split2;
		size_t len = build(b, s);
		unsigned int nmut = 1 + rnd() % 6;
		struct vhostctl_vdpa_state_info info;
		int r;

		for (unsigned int m = 0; m < nmut; m++) {
			size_t off = rnd() % len;

			switch (rnd() % 3) {
			case 0:
				b[off] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1:
				b[off] = (uint8_t)rnd();
				break;
			default:
				/* a header field: counts and lengths are the interesting ones */
				b[rnd() % HDR] = (uint8_t)rnd();
			}
		}
		/* Mostly fix the CRC, so that the checks behind it get exercised. */
		if (rnd() % 4)
			fix_crc(b, len);
		if (rnd() % 8 == 0)
			len = rnd() % (len + 1);
		r = check(b, len, &info);
		if (r == 0) {
			accepted++;
			if (info.length > len || info.nrings > info.vq_count)
				t_fail("seed 0x%llx iteration %u: accepted an inconsistent blob",
				       (unsigned long long)seed, it);
		} else if (r == -EPROTO) {
			proto++;
		} else if (r != -EINVAL) {
			t_fail("seed 0x%llx iteration %u: returned %d",
			       (unsigned long long)seed, it, r);
		}
	}
	/* Random bytes of random lengths. */
	for (unsigned int it = 0; it < 20000; it++) {
		size_t len = rnd() % 400;

		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)rnd();
		if (len >= 8 && rnd() % 2)
			memcpy(b, "VHCM\1\0\x40\0", 8);
		if (len >= HDR && rnd() % 2)
			fix_crc(b, len);
		int r = check(b, len, NULL);

		if (r && r != -EINVAL && r != -EPROTO)
			t_fail("random bytes, iteration %u: returned %d", it, r);
	}
	printf("fuzz seed 0x%llx: %u mutated blobs still valid, %u unknown versions\n",
	       (unsigned long long)seed, accepted, proto);
}

int main(void)
{
	test_valid();
	test_truncated();
	test_damaged();
	test_fuzz();
	printf("vdpa_state: ok\n");
	return T_EXIT_PASS;
}
