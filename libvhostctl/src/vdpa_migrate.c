// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Live migration helper for vDPA devices: save a suspended device's state
 * into a versioned, checksummed, little-endian blob, and restore such a
 * blob onto a fresh device.  The blob comes from another host: every field
 * is range-checked, and every read is inside the caller's buffer, before a
 * device is touched.
 *
 * Layout, version 1 (offsets in bytes, all integers little-endian):
 *
 *   header, 64 bytes
 *     0 u32 magic "VHCM"        4 u16 version (1)     6 u16 header length (64)
 *     8 u32 blob length        12 u32 CRC-32 (IEEE) of the blob, this field as 0
 *    16 u32 virtio device id   20 u32 virtqueues of the saved device
 *    24 u64 negotiated features
 *    32 u64 acknowledged backend features
 *    40 u32 config length (<= 65536)
 *    44 u16 rings              46 u8 status         47 u8 flags (0)
 *    48 u16 ring entry length (40)
 *    50 14 bytes reserved (0)
 *   config space, config length bytes, zero-padded to a multiple of 8
 *   rings, 40 bytes each, in ascending index order
 *     0 u16 index   2 u16 size   4 u16 avail index   6 u16 used index
 *     8 u8 flags: bit 0 enabled, bit 1 avail wrap counter, bit 2 used wrap
 *       counter (packed only); other bits 0
 *     9 3 bytes reserved (0)
 *    12 u32 address flags (0)
 *    16 u64 descriptor area   24 u64 driver area   32 u64 device area (IOVAs)
 *
 * Split rings: avail index is the device's next avail index; used index is
 * the used ring's index found in guest memory at save time (information:
 * it differs from avail index only while the device holds descriptors it
 * has not completed).  Packed rings: both indexes are 15-bit, with their
 * wrap counters in flags.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vdpa_rec.h"

#define HDR_LEN		64u
#define RING_LEN	40u
#define CONFIG_MAX	65536u
#define RING_NUM_MAX	32768u

#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_HDR_LEN	6
#define OFF_LEN		8
#define OFF_CRC		12
#define OFF_DEVICE_ID	16
#define OFF_VQ_COUNT	20
#define OFF_FEATURES	24
#define OFF_BF		32
#define OFF_CONFIG_LEN	40
#define OFF_NRINGS	44
#define OFF_STATUS	46
#define OFF_FLAGS	47
#define OFF_RING_LEN	48
#define OFF_RSVD	50

#define R_INDEX		0
#define R_NUM		2
#define R_AVAIL		4
#define R_USED		6
#define R_FLAGS		8
#define R_RSVD		9
#define R_ADDR_FLAGS	12
#define R_DESC		16
#define R_DRIVER	24
#define R_DEVICE	32

#define RF_ENABLED	0x1u
#define RF_AVAIL_WRAP	0x2u
#define RF_USED_WRAP	0x4u
#define RF_KNOWN	(RF_ENABLED | RF_AVAIL_WRAP | RF_USED_WRAP)

#define F_RING_PACKED	(1ULL << 34)
#define BF_SUSPEND	(1ULL << 4)

#define ST_ACKNOWLEDGE	0x01
#define ST_DRIVER	0x02
#define ST_DRIVER_OK	0x04
#define ST_FEATURES_OK	0x08
#define ST_NEEDS_RESET	0x40
#define ST_FAILED	0x80

/* A parsed, checked blob: pointers into the caller's buffer. */
struct blob {
	uint32_t len;
	uint32_t device_id;
	uint32_t vq_count;
	uint64_t features;
	uint64_t bf;
	uint32_t config_len;
	uint16_t nrings;
	uint8_t status;
	const uint8_t *config;
	const uint8_t *rings;
};

struct ring_state {
	uint16_t index;
	uint16_t num;
	uint16_t avail;
	uint16_t used;
	uint8_t flags;
	uint32_t addr_flags;
	uint64_t desc;
	uint64_t driver;
	uint64_t device;
};

/* ---- little-endian access ---------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* CRC-32 of IEEE 802.3 (reflected polynomial 0xedb88320), bit by bit: blobs are small. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
	}
	return crc;
}

/* The blob's checksum, with its own field read as zero. */
static uint32_t blob_crc(const uint8_t *p, size_t len)
{
	static const uint8_t zero[4];
	uint32_t crc = 0xffffffffu;

	crc = crc32_update(crc, p, OFF_CRC);
	crc = crc32_update(crc, zero, sizeof(zero));
	crc = crc32_update(crc, p + OFF_CRC + 4, len - OFF_CRC - 4);
	return ~crc;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t blob_size(uint32_t config_len, unsigned int nrings)
{
	return HDR_LEN + pad8(config_len) + (size_t)nrings * RING_LEN;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static void ring_read(const struct blob *b, unsigned int i, struct ring_state *r)
{
	const uint8_t *p = b->rings + (size_t)i * RING_LEN;

	r->index = get16(p + R_INDEX);
	r->num = get16(p + R_NUM);
	r->avail = get16(p + R_AVAIL);
	r->used = get16(p + R_USED);
	r->flags = p[R_FLAGS];
	r->addr_flags = get32(p + R_ADDR_FLAGS);
	r->desc = get64(p + R_DESC);
	r->driver = get64(p + R_DRIVER);
	r->device = get64(p + R_DEVICE);
}

/* ---- parsing ------------------------------------------------------------ */

#define bad(dev, e, ...) (vhc_log(dev, VHOSTCTL_LOG_ERR, "vdpa state: " __VA_ARGS__), -(e))

/*
 * Check a blob field by field; dev (may be NULL) only receives the log
 * line.  Reads nothing outside [buf, buf + len).
 */
static int blob_parse(const struct vhostctl_dev *dev, const void *buf, size_t len, struct blob *b)
{
	const uint8_t *p = buf;
	uint16_t version, ring_len;
	size_t want;
	int prev = -1;

	if (!buf)
		return bad(dev, EINVAL, "no buffer");
	if (len < OFF_HDR_LEN + 2)
		return bad(dev, EINVAL, "truncated: %zu bytes, not even a header", len);
	if (get32(p + OFF_MAGIC) != VHOSTCTL_VDPA_STATE_MAGIC)
		return bad(dev, EINVAL, "bad magic 0x%08x", get32(p + OFF_MAGIC));
	version = get16(p + OFF_VERSION);
	if (version != VHOSTCTL_VDPA_STATE_VERSION)
		return bad(dev, EPROTO, "unknown version %u (this library reads %u)", version,
			   VHOSTCTL_VDPA_STATE_VERSION);
	if (get16(p + OFF_HDR_LEN) != HDR_LEN)
		return bad(dev, EINVAL, "header length %u, want %u", get16(p + OFF_HDR_LEN), HDR_LEN);
	if (len < HDR_LEN)
		return bad(dev, EINVAL, "truncated header: %zu of %u bytes", len, HDR_LEN);
	b->len = get32(p + OFF_LEN);
	if (b->len < HDR_LEN || b->len > len)
		return bad(dev, EINVAL, "blob length %u, but %zu bytes given", b->len, len);
	if (blob_crc(p, b->len) != get32(p + OFF_CRC))
		return bad(dev, EINVAL, "checksum mismatch (0x%08x, computed 0x%08x)",
			   get32(p + OFF_CRC), blob_crc(p, b->len));
	b->device_id = get32(p + OFF_DEVICE_ID);
	b->vq_count = get32(p + OFF_VQ_COUNT);
	b->features = get64(p + OFF_FEATURES);
	b->bf = get64(p + OFF_BF);
	b->config_len = get32(p + OFF_CONFIG_LEN);
	b->nrings = get16(p + OFF_NRINGS);
	b->status = p[OFF_STATUS];
	ring_len = get16(p + OFF_RING_LEN);
	if (p[OFF_FLAGS] || !all_zero(p + OFF_RSVD, HDR_LEN - OFF_RSVD))
		return bad(dev, EINVAL, "reserved header bytes are not zero");
	if (ring_len != RING_LEN)
		return bad(dev, EINVAL, "ring entry length %u, want %u", ring_len, RING_LEN);
	if (b->config_len > CONFIG_MAX)
		return bad(dev, EINVAL, "config length %u over %u", b->config_len, CONFIG_MAX);
	if (b->nrings > b->vq_count)
		return bad(dev, EINVAL, "%u rings on a device of %u virtqueues", b->nrings,
			   b->vq_count);
	want = blob_size(b->config_len, b->nrings);
	if (want != b->len)
		return bad(dev, EINVAL, "blob length %u, but its counts make %zu", b->len, want);
	if (b->status & (ST_FAILED | ST_NEEDS_RESET))
		return bad(dev, EINVAL, "saved status 0x%02x: the device had failed", b->status);
	if (b->nrings && !(b->status & ST_FEATURES_OK))
		return bad(dev, EINVAL, "rings saved without FEATURES_OK (status 0x%02x)",
			   b->status);
	b->config = p + HDR_LEN;
	if (!all_zero(b->config + b->config_len, pad8(b->config_len) - b->config_len))
		return bad(dev, EINVAL, "config padding is not zero");
	b->rings = b->config + pad8(b->config_len);
	for (unsigned int i = 0; i < b->nrings; i++) {
		const uint8_t *rp = b->rings + (size_t)i * RING_LEN;
		bool packed = b->features & F_RING_PACKED;
		struct ring_state r;

		ring_read(b, i, &r);
		if ((int)r.index <= prev || r.index >= b->vq_count)
			return bad(dev, EINVAL, "ring %u: index %u out of order or beyond %u", i,
				   r.index, b->vq_count);
		prev = r.index;
		if (!r.num || r.num > RING_NUM_MAX || (!packed && (r.num & (r.num - 1))))
			return bad(dev, EINVAL, "ring %u: bad size %u", r.index, r.num);
		if ((r.flags & ~RF_KNOWN) || !all_zero(rp + R_RSVD, 3) || r.addr_flags)
			return bad(dev, EINVAL, "ring %u: unknown flags or reserved bytes set",
				   r.index);
		if (packed && (r.avail > 0x7fff || r.used > 0x7fff))
			return bad(dev, EINVAL, "ring %u: packed index beyond 15 bits", r.index);
		if (!packed && (r.flags & (RF_AVAIL_WRAP | RF_USED_WRAP)))
			return bad(dev, EINVAL, "ring %u: wrap counters on a split ring", r.index);
	}
	return 0;
}

VHC_EXPORT int vhostctl_vdpa_state_check(const void *buf, size_t len,
					 struct vhostctl_vdpa_state_info *info)
{
	struct blob b;
	int r = blob_parse(NULL, buf, len, &b);

	if (r)
		return vhc_ret(r);
	if (info) {
		memset(info, 0, sizeof(*info));
		info->version = VHOSTCTL_VDPA_STATE_VERSION;
		info->device_id = b.device_id;
		info->vq_count = b.vq_count;
		info->status = b.status;
		info->features = b.features;
		info->backend_features = b.bf;
		info->config_len = b.config_len;
		info->nrings = b.nrings;
		info->length = b.len;
	}
	return 0;
}

/* ---- save --------------------------------------------------------------- */

static bool rec_saved(const struct vhc_vring_rec *rr)
{
	return rr->has_num && rr->has_addr;
}

/* Facts of the device that size the blob. */
static int save_facts(struct vhostctl_dev *dev, const struct vhc_vring_recs **recs, uint64_t *bf,
		      uint32_t *vq_count, uint32_t *config_len, unsigned int *nrings)
{
	int r;

	*recs = vhc_vdpa_recs(dev, bf);
	if (!*recs)
		return -EOPNOTSUPP;
	r = vhostctl_dev_vdpa_vq_count(dev, vq_count);
	if (!r)
		r = vhostctl_dev_vdpa_config_size(dev, config_len);
	if (r)
		return r;
	if (*vq_count > 0xffff || *config_len > CONFIG_MAX) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vdpa state: device reports %u vqs, %u config bytes",
			*vq_count, *config_len);
		return -EIO;
	}
	*nrings = 0;
	for (unsigned int i = 0; i < (*recs)->n && i < *vq_count; i++)
		*nrings += rec_saved(&(*recs)->ring[i]);
	return 0;
}

/* The used ring's index in guest memory, for a split ring; fallback when unreadable. */
static uint16_t split_used_idx(struct vhostctl_dev *dev, uint64_t used, uint16_t fallback)
{
	const uint16_t *idx;

	if (!dev->mem)
		return fallback;
	idx = vhc_mem_gpa_to_hva(dev->mem, used + 2, 2);
	if (!idx)
		return fallback;
	return le16toh(__atomic_load_n(idx, __ATOMIC_ACQUIRE));
}

VHC_EXPORT int vhostctl_vdpa_state_save(struct vhostctl_dev *dev, void *buf, size_t len)
{
	const struct vhc_vring_recs *recs;
	uint32_t vq_count, config_len, device_id;
	unsigned int nrings, k = 0;
	bool packed;
	uint8_t *p = buf, status;
	uint64_t bf;
	size_t size;
	int r;

	if (!dev || (!buf && len))
		return vhc_err(EINVAL);
	r = save_facts(dev, &recs, &bf, &vq_count, &config_len, &nrings);
	if (r)
		return vhc_ret(r);
	size = blob_size(config_len, nrings);
	if (!buf)
		return (int)size;
	if (len < size)
		return vhc_err(ENOSPC);
	r = vhostctl_dev_vdpa_device_id(dev, &device_id);
	if (!r)
		r = vhostctl_dev_get_status(dev, &status);
	if (r)
		return vhc_ret(r);
	if (status & ST_DRIVER_OK) {
		if (!(bf & BF_SUSPEND)) {
			vhc_log(dev, VHOSTCTL_LOG_ERR,
				"vdpa state: running device without SUSPEND: its state would move");
			return vhc_err(EOPNOTSUPP);
		}
		r = vhostctl_dev_vdpa_suspend(dev);
		if (r) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "vdpa state: suspend: %s", strerror(-r));
			return vhc_ret(r);
		}
	}
	packed = dev->acked_features & F_RING_PACKED;
	memset(p, 0, size);
	put32(p + OFF_MAGIC, VHOSTCTL_VDPA_STATE_MAGIC);
	put16(p + OFF_VERSION, VHOSTCTL_VDPA_STATE_VERSION);
	put16(p + OFF_HDR_LEN, HDR_LEN);
	put32(p + OFF_LEN, (uint32_t)size);
	put32(p + OFF_DEVICE_ID, device_id);
	put32(p + OFF_VQ_COUNT, vq_count);
	put64(p + OFF_FEATURES, dev->acked_features);
	put64(p + OFF_BF, bf);
	put32(p + OFF_CONFIG_LEN, config_len);
	put16(p + OFF_NRINGS, (uint16_t)nrings);
	p[OFF_STATUS] = status;
	put16(p + OFF_RING_LEN, RING_LEN);
	if (config_len) {
		r = vhostctl_dev_get_config(dev, 0, p + HDR_LEN, config_len);
		if (r) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "vdpa state: config: %s", strerror(-r));
			return vhc_ret(r);
		}
	}
	for (unsigned int i = 0; i < recs->n && i < vq_count; i++) {
		const struct vhc_vring_rec *rr = &recs->ring[i];
		uint8_t *rp = p + HDR_LEN + pad8(config_len) + (size_t)k * RING_LEN;
		unsigned int base;
		uint8_t flags = rr->enabled ? RF_ENABLED : 0;
		uint16_t avail, used;

		if (!rec_saved(rr))
			continue;
		r = vhostctl_dev_get_vring_base(dev, i, &base);
		if (r) {
			vhc_log(dev, VHOSTCTL_LOG_ERR, "vdpa state: vring %u base: %s", i,
				strerror(-r));
			return vhc_ret(r);
		}
		if (packed) {
			/* vhost packs avail|wrap<<15 low, used|wrap<<15 high. */
			avail = base & 0x7fff;
			used = (base >> 16) & 0x7fff;
			flags |= (base & 0x8000) ? RF_AVAIL_WRAP : 0;
			flags |= (base & 0x80000000u) ? RF_USED_WRAP : 0;
		} else {
			avail = (uint16_t)base;
			used = split_used_idx(dev, rr->used, avail);
			if (used != avail)
				vhc_log(dev, VHOSTCTL_LOG_WARNING,
					"vdpa state: vring %u: %u descriptors in flight (avail %u, used %u)",
					i, (uint16_t)(avail - used), avail, used);
		}
		put16(rp + R_INDEX, (uint16_t)i);
		put16(rp + R_NUM, (uint16_t)rr->num);
		put16(rp + R_AVAIL, avail);
		put16(rp + R_USED, used);
		rp[R_FLAGS] = flags;
		put32(rp + R_ADDR_FLAGS, rr->addr_flags);
		put64(rp + R_DESC, rr->desc);
		put64(rp + R_DRIVER, rr->avail);
		put64(rp + R_DEVICE, rr->used);
		k++;
	}
	put32(p + OFF_CRC, blob_crc(p, size));
	return (int)size;
}

/* ---- restore ------------------------------------------------------------ */

/* Is the device of the saved kind, with every saved ring and feature? */
static int restore_match(struct vhostctl_dev *dev, const struct blob *b)
{
	uint32_t id, vqs, cfg;
	uint64_t f, bf;
	struct ring_state last;
	int r;

	r = vhostctl_dev_vdpa_device_id(dev, &id);
	if (!r)
		r = vhostctl_dev_vdpa_vq_count(dev, &vqs);
	if (!r)
		r = vhostctl_dev_vdpa_config_size(dev, &cfg);
	if (!r)
		r = vhostctl_dev_get_features(dev, &f);
	if (!r)
		r = vhostctl_dev_get_backend_features(dev, &bf);
	if (r)
		return r;
	if (id != b->device_id)
		return bad(dev, ENODEV, "saved from virtio device id %u, this one is %u",
			   b->device_id, id);
	if (cfg != b->config_len)
		return bad(dev, ENODEV, "saved config space of %u bytes, this device has %u",
			   b->config_len, cfg);
	if (b->nrings) {
		ring_read(b, b->nrings - 1u, &last);	/* indexes ascend */
		if (last.index >= vqs)
			return bad(dev, EINVAL, "ring %u saved, this device has %u virtqueues",
				   last.index, vqs);
	}
	if (b->features & ~f)
		return bad(dev, EOPNOTSUPP, "saved features 0x%llx not offered here",
			   (unsigned long long)(b->features & ~f));
	if (b->bf & ~bf)
		return bad(dev, EOPNOTSUPP, "saved backend features 0x%llx not offered here",
			   (unsigned long long)(b->bf & ~bf));
	return 0;
}

static int opt_fd(const int *fds, unsigned int nfds, unsigned int index)
{
	return fds && index < nfds ? fds[index] : -1;
}

#define step(name, call)                                                       \
	do {                                                                   \
		r = (call);                                                    \
		if (r) {                                                       \
			what = (name);                                         \
			goto err_reset;                                        \
		}                                                              \
	} while (0)

/* Make the config space equal to the saved one where the device lets us. */
static int restore_config(struct vhostctl_dev *dev, const struct blob *b, bool strict)
{
	uint8_t *cur;
	int r;

	if (!b->config_len)
		return 0;
	cur = malloc(b->config_len);
	if (!cur)
		return -ENOMEM;
	r = vhostctl_dev_get_config(dev, 0, cur, b->config_len);
	if (!r && memcmp(cur, b->config, b->config_len)) {
		r = vhostctl_dev_set_config(dev, 0, b->config, b->config_len);
		if (r)
			vhc_log(dev, VHOSTCTL_LOG_WARNING, "vdpa state: config write refused: %s",
				strerror(-r));
		r = vhostctl_dev_get_config(dev, 0, cur, b->config_len);
		if (!r && memcmp(cur, b->config, b->config_len)) {
			vhc_log(dev, strict ? VHOSTCTL_LOG_ERR : VHOSTCTL_LOG_WARNING,
				"vdpa state: config space differs from the saved one");
			if (strict)
				r = -EIO;
		}
	}
	free(cur);
	return r;
}

VHC_EXPORT int vhostctl_vdpa_state_restore(struct vhostctl_dev *dev, const void *buf, size_t len,
					   const struct vhostctl_vdpa_restore_opts *opts)
{
	struct vhostctl_vdpa_restore_opts o;
	const char *what = "";
	uint64_t bf_unused;
	uint8_t st = 0;
	struct blob b;
	int r;

	if (!dev)
		return vhc_err(EINVAL);
	if (!vhc_vdpa_recs(dev, &bf_unused))
		return vhc_err(EOPNOTSUPP);
	r = vhc_opts_copy(&o, sizeof(o), opts);
	if (r)
		return vhc_ret(r);
	if (o.nfds > VHC_VRING_REC_MAX || (o.flags & ~VHOSTCTL_VDPA_RESTORE_STRICT_CONFIG))
		return vhc_err(EINVAL);
	r = blob_parse(dev, buf, len, &b);
	if (!r)
		r = restore_match(dev, &b);
	if (!r && b.nrings && !o.mem)
		r = bad(dev, EINVAL, "rings to restore but no memory table");
	if (r)
		return vhc_ret(r);

	/* Before the owner: vhost-vdpa takes backend features then too. */
	step("set_backend_features", vhostctl_dev_set_backend_features(dev, b.bf));
	r = vhostctl_dev_set_owner(dev);
	if (r && r != -EBUSY) {
		what = "set_owner";
		goto err_reset;
	}
	step("reset", vhostctl_dev_set_status(dev, 0));
	if (!(b.status & ST_FEATURES_OK)) {
		/* Never negotiated: only the early status bits to carry over. */
		if (b.status)
			step("set_status", vhostctl_dev_set_status(dev, b.status));
		return 0;
	}
	step("set_status", vhostctl_dev_set_status(dev, ST_ACKNOWLEDGE));
	step("set_status", vhostctl_dev_set_status(dev, ST_ACKNOWLEDGE | ST_DRIVER));
	step("set_features", vhostctl_dev_set_features(dev, b.features));
	step("set_status",
	     vhostctl_dev_set_status(dev, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK));
	step("get_status", vhostctl_dev_get_status(dev, &st));
	if (!(st & ST_FEATURES_OK)) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vdpa state: the device refused the saved features");
		r = -EOPNOTSUPP;
		what = "features_ok";
		goto err_reset;
	}
	step("config", restore_config(dev, &b, o.flags & VHOSTCTL_VDPA_RESTORE_STRICT_CONFIG));
	if (o.mem)
		step("set_mem_table", vhostctl_dev_set_mem_table(dev, o.mem));
	for (unsigned int i = 0; i < b.nrings; i++) {
		struct vhostctl_vring_addr a = { 0 };
		struct ring_state rs;
		unsigned int base;
		int kick, call;

		ring_read(&b, i, &rs);
		if (b.features & F_RING_PACKED)
			base = (rs.avail | (rs.flags & RF_AVAIL_WRAP ? 0x8000u : 0)) |
			       (unsigned int)(rs.used | (rs.flags & RF_USED_WRAP ? 0x8000u : 0)) << 16;
		else
			base = rs.avail;
		a.index = rs.index;
		a.flags = rs.addr_flags;
		a.desc = rs.desc;
		a.avail = rs.driver;
		a.used = rs.device;
		a.log = rs.device;
		kick = opt_fd(o.kick_fds, o.nfds, rs.index);
		call = opt_fd(o.call_fds, o.nfds, rs.index);
		step("set_vring_num", vhostctl_dev_set_vring_num(dev, rs.index, rs.num));
		step("set_vring_base", vhostctl_dev_set_vring_base(dev, rs.index, base));
		step("set_vring_addr", vhostctl_dev_set_vring_addr(dev, &a));
		if (kick >= 0)
			step("set_vring_kick", vhostctl_dev_set_vring_kick(dev, rs.index, kick));
		if (call >= 0)
			step("set_vring_call", vhostctl_dev_set_vring_call(dev, rs.index, call));
		if (rs.flags & RF_ENABLED)
			step("set_vring_enable", vhostctl_dev_set_vring_enable(dev, rs.index, 1));
	}
	if (b.status != st)
		step("set_status", vhostctl_dev_set_status(dev, b.status));
	/*
	 * Buffers the driver made available before or during the move have
	 * had their kick consumed by the old device: kick every ring once.
	 */
	if (b.status & ST_DRIVER_OK) {
		for (unsigned int i = 0; i < b.nrings; i++) {
			struct ring_state rs;
			uint64_t one = 1;
			int kick;

			ring_read(&b, i, &rs);
			kick = opt_fd(o.kick_fds, o.nfds, rs.index);
			if (kick >= 0 && write(kick, &one, sizeof(one)) < 0 && errno != EAGAIN)
				vhc_log(dev, VHOSTCTL_LOG_WARNING, "vdpa state: kick vring %u: %s",
					rs.index, strerror(errno));
		}
	}
	return 0;

err_reset:
	vhc_log(dev, VHOSTCTL_LOG_ERR, "vdpa state: restore failed at %s: %s", what,
		strerror(-r));
	vhostctl_dev_set_status(dev, 0);
	return vhc_err(-r);
}
