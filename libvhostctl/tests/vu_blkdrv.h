/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * A small virtio-blk driver for the vhost-user tests, on libvhostctl's
 * frontend and its driver-side split queue (vhostctl_vq_*), or a packed
 * ring driven here: requests are chains of header (16 bytes,
 * device-readable), data (readable for OUT, writable for IN and GET_ID) and
 * a status byte (writable).  Each of the queue's slots has its own header,
 * data and status area in guest memory, so up to the ring size / 3
 * requests can be in flight.  The buffer id (split: the token) is the slot.
 */
#ifndef VU_BLKDRV_H
#define VU_BLKDRV_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define BLK_F_RO (1ull << 5)
#define BLK_F_BLK_SIZE (1ull << 6)
#define BLK_F_FLUSH (1ull << 9)
#define BLKDRV_SLOT_DATA 16384u
#define BLKDRV_SLOTS 64u
#define BLKDRV_F_RING_PACKED (1ull << 34)

struct blkdrv_pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct blkdrv {
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	struct vhostctl_vq *vq;
	uint8_t *meta;		/* per slot: 16-byte header, status at +16; 32-byte stride */
	uint64_t meta_gpa;
	uint8_t *data;		/* per slot: BLKDRV_SLOT_DATA bytes */
	uint64_t data_gpa;
	uint64_t features;	/* acked */
	uint64_t proto;
	uint64_t capacity;	/* sectors, from config space (0: unknown) */
	char err[200];
	/* packed ring: ours, not a vhostctl_vq */
	bool packed;
	unsigned int num;
	struct blkdrv_pdesc *ring;
	uint64_t ring_gpa, drv_evt_gpa, dev_evt_gpa;
	uint16_t next_avail, last_used;
	bool avail_wrap, used_wrap;
	unsigned int free_desc;
	uint8_t ndesc[BLKDRV_SLOTS];	/* ring slots of each request in flight, 0: none */
	int kick, call;
};

struct blkdrv_opts {
	bool server;		/* listen, the backend connects */
	bool inflight;		/* GET_INFLIGHT_FD before the ring is set up */
	bool packed;		/* VIRTIO_F_RING_PACKED: the backend must offer it */
	unsigned int num;	/* ring size, 0: 128 */
	uint64_t extra;		/* more features to ack when offered (EVENT_IDX...) */
	int timeout_ms;
	vhostctl_log_fn log;
};

#define BLKDRV_FAIL(...) do { snprintf(d->err, sizeof(d->err), __VA_ARGS__); return -1; } while (0)

static inline uint8_t *blkdrv_data(struct blkdrv *d, unsigned int slot)
{
	return d->data + (size_t)slot * BLKDRV_SLOT_DATA;
}

static inline uint8_t blkdrv_status(struct blkdrv *d, unsigned int slot)
{
	return __atomic_load_n(&d->meta[slot * 32 + 16], __ATOMIC_ACQUIRE);
}

/* Connect (or accept), negotiate, set up queue 0 and start it. */
static inline int blkdrv_open(struct blkdrv *d, const char *path, const struct blkdrv_opts *bo)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .server = bo->server,
			   .timeout_ms = bo->timeout_ms ? bo->timeout_ms : 10000, .log = bo->log,
			   .log_level = 6);
	unsigned int num = bo->num ? bo->num : 128;
	uint64_t f;

	memset(d, 0, sizeof(*d));
	d->kick = d->call = -1;
	d->mem = vhostctl_mem_new();
	if (!d->mem || vhostctl_mem_add_region(d->mem, 0x100000, 32 << 20, 0) < 0)
		BLKDRV_FAIL("guest memory: %s", strerror(errno));
	d->meta = vhostctl_mem_alloc(d->mem, 32ull * BLKDRV_SLOTS, 64, &d->meta_gpa);
	d->data = vhostctl_mem_alloc(d->mem, (uint64_t)BLKDRV_SLOT_DATA * BLKDRV_SLOTS, 4096, &d->data_gpa);
	if (!d->meta || !d->data)
		BLKDRV_FAIL("guest memory full");
	d->dev = vhostctl_vu_open(path, &o);
	if (!d->dev)
		BLKDRV_FAIL("vhostctl_vu_open %s: %s", path, strerror(errno));
	if (vhostctl_dev_set_owner(d->dev) || vhostctl_dev_get_features(d->dev, &f))
		BLKDRV_FAIL("owner/features: %s", strerror(errno));
	vhostctl_vu_protocol_features(d->dev, &d->proto);
	if (!(f & (1ull << 32)))
		BLKDRV_FAIL("backend does not offer VERSION_1 (0x%llx)", (unsigned long long)f);
	d->features = f & ((1ull << 32) | (1ull << 30) | BLK_F_RO | BLK_F_BLK_SIZE | BLK_F_FLUSH | bo->extra);
	if (bo->packed) {
		if (!(f & BLKDRV_F_RING_PACKED))
			BLKDRV_FAIL("backend does not offer RING_PACKED (0x%llx)",
				    (unsigned long long)f);
		d->features |= BLKDRV_F_RING_PACKED;
		d->packed = true;
	}
	if (vhostctl_dev_set_features(d->dev, d->features) || vhostctl_dev_set_mem_table(d->dev, d->mem))
		BLKDRV_FAIL("features/mem table: %s", strerror(errno));
	if (d->proto & (1ull << VHOSTCTL_VU_PF_CONFIG)) {
		if (vhostctl_dev_get_config(d->dev, 0, &d->capacity, 8))
			BLKDRV_FAIL("GET_CONFIG: %s", strerror(errno));
	}
	if (bo->inflight && vhostctl_vu_get_inflight(d->dev, 1, num))
		BLKDRV_FAIL("GET_INFLIGHT_FD: %s", strerror(errno));
	if (d->packed) {
		struct vhostctl_vring_addr a = { .index = 0 };

		d->num = num;
		d->ring = vhostctl_mem_alloc(d->mem, 16ull * num, 4096, &d->ring_gpa);
		d->avail_wrap = d->used_wrap = true;
		d->free_desc = num;
		d->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		d->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (!d->ring || !vhostctl_mem_alloc(d->mem, 4, 4, &d->drv_evt_gpa) ||
		    !vhostctl_mem_alloc(d->mem, 4, 4, &d->dev_evt_gpa) || d->kick < 0 ||
		    d->call < 0)
			BLKDRV_FAIL("packed ring: %s", strerror(errno));
		a.desc = d->ring_gpa;
		a.avail = d->drv_evt_gpa;
		a.used = d->dev_evt_gpa;
		if (vhostctl_dev_set_vring_num(d->dev, 0, num) ||
		    vhostctl_dev_set_vring_base(d->dev, 0, 0x8000) ||
		    vhostctl_dev_set_vring_addr(d->dev, &a) ||
		    vhostctl_dev_set_vring_call(d->dev, 0, d->call) ||
		    vhostctl_dev_set_vring_kick(d->dev, 0, d->kick) ||
		    vhostctl_dev_set_vring_enable(d->dev, 0, 1))
			BLKDRV_FAIL("packed ring setup: %s", strerror(errno));
	} else {
		d->vq = vhostctl_vq_new(d->mem, 0, num, d->features, NULL);
		if (!d->vq)
			BLKDRV_FAIL("vq: %s", strerror(errno));
		if (vhostctl_vq_attach(d->vq, d->dev, 0) ||
		    vhostctl_dev_set_vring_enable(d->dev, 0, 1))
			BLKDRV_FAIL("ring setup: %s", strerror(errno));
	}
	if ((d->proto & (1ull << VHOSTCTL_VU_PF_STATUS)) && vhostctl_dev_set_status(d->dev, 0xf))
		BLKDRV_FAIL("SET_STATUS: %s", strerror(errno));
	return 0;
}

static inline void blkdrv_close(struct blkdrv *d)
{
	if (d->dev)
		vhostctl_dev_close(d->dev);
	vhostctl_vq_free(d->vq);
	vhostctl_mem_free(d->mem);
	if (d->kick >= 0)
		close(d->kick);
	if (d->call >= 0)
		close(d->call);
	d->kick = d->call = -1;
	d->dev = NULL;
	d->vq = NULL;
	d->mem = NULL;
}

/* Packed: make a chain of n buffers (out readable first) available, head flags last. */
static inline int blkdrv_add_packed(struct blkdrv *d, unsigned int slot,
				    const struct vhostctl_vq_buf *b, unsigned int out,
				    unsigned int n)
{
	uint16_t head = d->next_avail, head_flags = 0;

	if (d->ndesc[slot] || n > d->free_desc)
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++) {
		struct blkdrv_pdesc *p = &d->ring[d->next_avail];
		uint16_t f = (i + 1 < n ? 1 : 0) | (i >= out ? 2 : 0) |
			     (d->avail_wrap ? 1u << 7 : 1u << 15);

		p->addr = b[i].gpa;
		p->len = b[i].len;
		p->id = (uint16_t)slot;
		if (i)
			__atomic_store_n(&p->flags, f, __ATOMIC_RELEASE);
		else
			head_flags = f;
		if (++d->next_avail == d->num) {
			d->next_avail = 0;
			d->avail_wrap = !d->avail_wrap;
		}
	}
	/* Release: the whole chain is in place when the head becomes available. */
	__atomic_store_n(&d->ring[head].flags, head_flags, __ATOMIC_RELEASE);
	d->free_desc -= n;
	d->ndesc[slot] = (uint8_t)n;
	return 0;
}

/*
 * Queue request type on sector with len data bytes in slot's data area (to
 * be written, or to read into); not kicked.  The token is slot + 1.
 */
static inline int blkdrv_submit(struct blkdrv *d, unsigned int slot, uint32_t type, uint64_t sector,
				uint32_t len)
{
	uint8_t *h = d->meta + slot * 32;
	struct vhostctl_vq_buf b[3];
	unsigned int out = 1, in = 0, n = 0;
	uint32_t ioprio = 0;
	int r;

	if (slot >= BLKDRV_SLOTS || len > BLKDRV_SLOT_DATA)
		return -EINVAL;
	memcpy(h, &type, 4);
	memcpy(h + 4, &ioprio, 4);
	memcpy(h + 8, &sector, 8);
	h[16] = 0xff;	/* the device must overwrite it */
	b[n++] = (struct vhostctl_vq_buf){ d->meta_gpa + slot * 32, 16 };
	if (len) {
		b[n++] = (struct vhostctl_vq_buf){ d->data_gpa + (uint64_t)slot * BLKDRV_SLOT_DATA, len };
		if (type == BLK_T_OUT)
			out++;
		else
			in++;
	}
	b[n++] = (struct vhostctl_vq_buf){ d->meta_gpa + slot * 32 + 16, 1 };
	in++;
	if (d->packed)
		return blkdrv_add_packed(d, slot, b, out, n);
	r = vhostctl_vq_add(d->vq, b, out, in, (void *)(uintptr_t)(slot + 1), 0);
	return r;
}

static inline void blkdrv_kick(struct blkdrv *d)
{
	uint64_t one = 1;

	if (!d->packed) {
		vhostctl_vq_kick(d->vq);
		return;
	}
	/* Descriptors are visible before the kick. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(d->kick, &one, 8) != 8) {
		/* counter full: a kick is pending anyway */
	}
}

/* Packed: the next used buffer, 1 with *slot and *len, 0 if none, -EIO if not in flight. */
static inline int blkdrv_used_packed(struct blkdrv *d, unsigned int *slot, uint32_t *len)
{
	struct blkdrv_pdesc *p = &d->ring[d->last_used];
	uint16_t f = __atomic_load_n(&p->flags, __ATOMIC_ACQUIRE), id;

	if (!!(f & (1u << 7)) != d->used_wrap || !!(f & (1u << 15)) != d->used_wrap)
		return 0;
	id = p->id;
	*len = p->len;
	/* A buffer used twice, or never made available, is the device's bug. */
	if (id >= BLKDRV_SLOTS || !d->ndesc[id])
		return -EIO;
	d->last_used += d->ndesc[id];
	if (d->last_used >= d->num) {
		d->last_used -= d->num;
		d->used_wrap = !d->used_wrap;
	}
	d->free_desc += d->ndesc[id];
	d->ndesc[id] = 0;
	*slot = id;
	return 1;
}

/* Reap one completion, waiting up to ms: 1 with *slot and *len, 0 on timeout, -errno. */
static inline int blkdrv_reap(struct blkdrv *d, unsigned int *slot, uint32_t *len, int ms)
{
	void *tok;
	int r;

	for (;;) {
		if (d->packed) {
			struct pollfd pf = { .fd = d->call, .events = POLLIN };
			uint64_t v;

			r = blkdrv_used_packed(d, slot, len);
			if (r)
				return r;
			r = poll(&pf, 1, ms);
			if (r == 0)
				return 0;
			if (r < 0)
				return -errno;
			if (read(d->call, &v, 8) < 0 && errno != EAGAIN)
				return -errno;
			continue;
		}
		r = vhostctl_vq_get_used(d->vq, len, &tok);
		if (r < 0)
			return r;
		if (r) {
			*slot = (unsigned int)((uintptr_t)tok - 1);
			return 1;
		}
		r = vhostctl_vq_wait(d->vq, ms);
		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return r;
	}
}

/*
 * One request, synchronously, through slot 0: data from/to buf.
 * Return: the status byte (0..255), or -1 with d->err.
 */
static inline int blkdrv_rw(struct blkdrv *d, uint32_t type, uint64_t sector, void *buf, uint32_t len,
			    uint32_t *used_len)
{
	unsigned int slot = 0;
	uint32_t l = 0;
	int r;

	if (type == BLK_T_OUT && len)
		memcpy(blkdrv_data(d, 0), buf, len);
	r = blkdrv_submit(d, 0, type, sector, len);
	if (r)
		BLKDRV_FAIL("submit: %s", strerror(-r));
	blkdrv_kick(d);
	r = blkdrv_reap(d, &slot, &l, 5000);
	if (r <= 0)
		BLKDRV_FAIL("request type %u sector %llu: %s", type, (unsigned long long)sector,
			    r ? strerror(-r) : "no completion in 5 s");
	if (slot != 0)
		BLKDRV_FAIL("completion for slot %u", slot);
	if (type != BLK_T_OUT && len && buf)
		memcpy(buf, blkdrv_data(d, 0), len);
	if (used_len)
		*used_len = l;
	return blkdrv_status(d, 0);
}

/* The bytes of request k's block: its sector first, then a pattern. */
static inline void blkdrv_pattern(uint8_t *b, uint32_t len, uint64_t sector, unsigned int seed)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(sector * 131 + i * 7 + seed);
	memcpy(b, &sector, 8);
}

/*
 * Write count blocks of bsz bytes spread over the disk (the last one ends
 * at its last sector), up to depth requests in flight; FLUSH when offered;
 * read them all back and compare.  Then GET_ID into id (21 bytes) and a
 * read past the end, which must fail with IOERR.
 * Return: 0, or -1 with d->err.
 */
static inline int blkdrv_exercise(struct blkdrv *d, unsigned int count, uint32_t bsz, unsigned int depth,
				  unsigned int seed, char *id)
{
	uint64_t sectors = d->capacity, span;
	unsigned int pass, next, done, slot;
	uint32_t l;
	uint8_t want[BLKDRV_SLOT_DATA];
	uint64_t at[BLKDRV_SLOTS];
	unsigned int free_slots[BLKDRV_SLOTS], nfree;
	int r;

	if (!sectors || bsz % 512 || bsz > BLKDRV_SLOT_DATA || depth > BLKDRV_SLOTS || !count)
		BLKDRV_FAIL("bad exercise parameters (capacity %llu)", (unsigned long long)sectors);
	span = sectors - bsz / 512;
	for (pass = 0; pass < 2; pass++) {
		uint32_t type = pass ? BLK_T_IN : BLK_T_OUT;

		next = done = 0;
		/* Backends may complete out of order: slots come back as they do. */
		for (nfree = 0; nfree < depth; nfree++)
			free_slots[nfree] = depth - 1 - nfree;
		while (done < count) {
			int added = 0;

			while (next < count && next - done < depth) {
				uint64_t sector = count > 1 ? span * next / (count - 1) : 0;

				sector -= sector % (bsz / 512);
				if (next == count - 1)
					sector = span;
				slot = free_slots[--nfree];
				at[slot] = sector;
				if (type == BLK_T_OUT)
					blkdrv_pattern(blkdrv_data(d, slot), bsz, sector, seed);
				else
					memset(blkdrv_data(d, slot), 0xee, bsz);
				r = blkdrv_submit(d, slot, type, sector, bsz);
				if (r)
					BLKDRV_FAIL("submit %u: %s", next, strerror(-r));
				next++;
				added++;
			}
			if (added)
				blkdrv_kick(d);
			r = blkdrv_reap(d, &slot, &l, 5000);
			if (r <= 0)
				BLKDRV_FAIL("%s %u of %u: %s", pass ? "read" : "write", done, count,
					    r ? strerror(-r) : "no completion in 5 s");
			if (slot >= depth || blkdrv_status(d, slot) != BLK_S_OK)
				BLKDRV_FAIL("%s at sector %llu: slot %u status %u", pass ? "read" : "write",
					    (unsigned long long)at[slot < depth ? slot : 0], slot,
					    slot < depth ? blkdrv_status(d, slot) : 0);
			if (pass) {
				blkdrv_pattern(want, bsz, at[slot], seed);
				if (l != bsz + 1 || memcmp(blkdrv_data(d, slot), want, bsz))
					BLKDRV_FAIL("read back sector %llu: %u bytes, %s",
						    (unsigned long long)at[slot], l,
						    l != bsz + 1 ? "wrong length" : "different data");
			}
			free_slots[nfree++] = slot;
			done++;
		}
		if (!pass && (d->features & BLK_F_FLUSH)) {
			r = blkdrv_rw(d, BLK_T_FLUSH, 0, NULL, 0, NULL);
			if (r < 0)
				return -1;
			if (r != BLK_S_OK)
				BLKDRV_FAIL("FLUSH: status %d", r);
		}
	}
	r = blkdrv_rw(d, BLK_T_GET_ID, 0, id, 20, NULL);
	if (r < 0)
		return -1;
	if (r != BLK_S_OK)
		BLKDRV_FAIL("GET_ID: status %d", r);
	id[20] = 0;
	r = blkdrv_rw(d, BLK_T_IN, sectors, want, 512, NULL);
	if (r != BLK_S_IOERR)
		BLKDRV_FAIL("read of sector %llu (past the end): status %d, not IOERR",
			    (unsigned long long)sectors, r);
	r = blkdrv_rw(d, BLK_T_IN, sectors - 1, want, 1024, NULL);
	if (r != BLK_S_IOERR)
		BLKDRV_FAIL("read across the end: status %d, not IOERR", r);
	return 0;
}

#endif
