// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Mergeable receive buffers (VIRTIO_NET_F_MRG_RXBUF) of the net loopback
 * backend, driven by our frontend and a driver posting 128-byte RX buffers
 * over a real Unix socket, split and packed, with and without IN_ORDER:
 *  - frames of 60, 1500 and 2000 bytes come back spread over as many
 *    buffers as they need; the checker reads num_buffers from the first,
 *    finds exactly that many used buffers already there (the driver never
 *    sees part of a frame), checks each used length (every buffer but the
 *    last full) and compares the concatenation byte for byte;
 *  - an RX ring one buffer short in the middle of a frame: nothing of that
 *    frame is seen, and once more buffers are posted it arrives whole;
 *  - 400 frames of every size from 12 bytes up, across the rings' ends;
 *  - without MRG_RXBUF negotiated: num_buffers 1, a frame larger than one
 *    buffer dropped and counted.
 */
#include <stdio.h>

#include "test.h"
#include "vu_traffic.h"

#define F_MAC (1ull << 5)
#define F_MRG (1ull << 15)
#define F_IN_ORDER (1ull << 35)
#define RXB 128		/* RX buffer size */
#define RXN 256
#define TXN 64
#define HDR 12

struct sess {
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	struct vhostctl_vu_backend *be;
	struct drv_q rx, tx;
	bool in_order;
	uint16_t rx_id;		/* next RX buffer id to post */
	unsigned long tx_sent, tx_done;
	uint8_t seed;
};

static void sess_open(struct sess *s, const char *path, bool packed, uint64_t extra)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 1 });
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = 5000);
	uint64_t f, want = VU_F_VERSION_1 | F_MAC | VU_F_EVENT_IDX | extra |
			   (packed ? VU_F_RING_PACKED : 0);

	memset(s, 0, sizeof(*s));
	s->in_order = extra & F_IN_ORDER;
	s->be = vhostctl_vu_net_new(&no);
	t_true(s->be);
	t_eq(0, vhostctl_vu_backend_listen(s->be, path));
	t_eq(0, vhostctl_vu_backend_start(s->be));
	s->mem = vhostctl_mem_new();
	t_true(s->mem);
	t_true(vhostctl_mem_add_region(s->mem, 0x100000, 4 << 20, 0) >= 0);
	t_eq(0, drv_q_init(&s->rx, s->mem, RXN, packed, RXB));
	t_eq(0, drv_q_init(&s->tx, s->mem, TXN, packed, 2048));
	s->dev = vhostctl_vu_open(path, &o);
	t_true(s->dev);
	t_eq(0, vhostctl_dev_set_owner(s->dev));
	t_eq(0, vhostctl_dev_get_features(s->dev, &f));
	if ((f & want) != want)
		t_fail("backend lacks features %#llx", (unsigned long long)(want & ~f));
	t_eq(0, vhostctl_dev_set_features(s->dev, want));
	t_eq(0, vhostctl_dev_set_mem_table(s->dev, s->mem));
	t_eq(0, drv_setup(s->dev, 0, &s->rx));
	t_eq(0, drv_setup(s->dev, 1, &s->tx));
}

static void sess_close(struct sess *s)
{
	vhostctl_dev_close(s->dev);
	vhostctl_vu_backend_stop(s->be);
	vhostctl_vu_backend_free(s->be);
	drv_q_fini(&s->rx);
	drv_q_fini(&s->tx);
	vhostctl_mem_free(s->mem);
}

static void post_rx(struct sess *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		drv_add(&s->rx, s->rx_id, RXB, true);
		s->rx_id = (uint16_t)((s->rx_id + 1) % RXN);
	}
	drv_kick(&s->rx);
}

static uint8_t pattern(unsigned long seq, size_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + (i >> 8));
}

/*
 * Reap used TX buffers.  With IN_ORDER a packed used descriptor may stand
 * for a batch: the buffers from the next expected one up to its id (each
 * one slot, id = slot here).
 */
static void reap_tx(struct sess *s)
{
	struct drv_q *q = &s->tx;

	for (;;) {
		struct drv_pdesc *d = (struct drv_pdesc *)&q->desc[q->last_used];
		unsigned int count;
		uint16_t id, f;
		uint32_t len;

		if (!q->packed || !s->in_order) {
			if (!drv_used(q, &id, &len))
				return;
			if (len)
				t_fail("TX buffer %u used with length %u", id, len);
			s->tx_done++;
			continue;
		}
		f = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		if (!!(f & (1u << 7)) != q->used_wrap || !!(f & (1u << 15)) != q->used_wrap)
			return;
		if (d->len)
			t_fail("TX used length %u", d->len);
		count = (d->id + TXN - q->last_used) % TXN + 1;
		if (count > s->tx_sent - s->tx_done)
			t_fail("used TX id %u covers %u buffers, %lu outstanding", d->id, count,
			       s->tx_sent - s->tx_done);
		s->tx_done += count;
		q->last_used = (uint16_t)(q->last_used + count);
		if (q->last_used >= TXN) {
			q->last_used -= TXN;
			q->used_wrap = !q->used_wrap;
		}
	}
}

/* Send frame @seq: the 12-byte header and @size bytes. */
static void send_frame(struct sess *s, unsigned long seq, size_t size)
{
	uint16_t slot = (uint16_t)(s->tx_sent % TXN);
	uint8_t *b = drv_buf(&s->tx, slot);

	while (s->tx_sent - s->tx_done >= TXN) {
		reap_tx(s);
		if (s->tx_sent - s->tx_done >= TXN)
			usleep(1000);
	}
	memset(b, 0xee, HDR);	/* the device must write its own header */
	for (size_t i = 0; i < size; i++)
		b[HDR + i] = pattern(seq, i);
	drv_add(&s->tx, slot, (uint32_t)(HDR + size), false);
	s->tx_sent++;
	drv_kick(&s->tx);
}

/*
 * Receive frame @seq of @size bytes within @ms: 1 checked, 0 if none came.
 * Every buffer of the frame must be used already when its first is.
 */
static int recv_frame(struct sess *s, unsigned long seq, size_t size, bool mrg, int ms)
{
	uint8_t frame[HDR + 2048];
	size_t got = 0, want = HDR + size;
	unsigned int nb;
	uint16_t id;
	uint32_t len;
	uint8_t *b;

	while (!drv_used(&s->rx, &id, &len))
		if (drv_wait(&s->rx, ms) == 0)
			return 0;
	b = drv_buf(&s->rx, id);
	nb = b[10] | b[11] << 8;
	for (int i = 0; i < 10; i++)
		if (b[i])
			t_fail("frame %lu: header byte %d is %#x", seq, i, b[i]);
	if (!mrg && nb != 1)
		t_fail("frame %lu: num_buffers %u without MRG_RXBUF", seq, nb);
	if (nb != (want + RXB - 1) / RXB)
		t_fail("frame %lu of %zu bytes: num_buffers %u, %zu buffers needed", seq, want, nb,
		       (want + RXB - 1) / RXB);
	for (unsigned int k = 0; k < nb; k++) {
		if (k && !drv_used(&s->rx, &id, &len))
			t_fail("frame %lu: buffer %u of %u not used yet: half a frame seen", seq,
			       k + 1, nb);
		if (len > RXB || (k + 1 < nb && len != RXB) || !len || got + len > want)
			t_fail("frame %lu: buffer %u of %u used length %u (%zu of %zu bytes so far)",
			       seq, k + 1, nb, len, got, want);
		memcpy(frame + got, drv_buf(&s->rx, id), len);
		got += len;
	}
	if (got != want)
		t_fail("frame %lu: %zu bytes, %zu sent", seq, got, want);
	for (size_t i = 0; i < size; i++)
		if (frame[HDR + i] != pattern(seq, i))
			t_fail("frame %lu: byte %zu is %#x, sent %#x", seq, i, frame[HDR + i],
			       pattern(seq, i));
	return 1;
}

static void mergeable(const char *path, bool packed, bool in_order)
{
	static const size_t sizes[] = { 60, 1500, 2000 };
	struct vhostctl_vu_net_stats st;
	unsigned long seq = 0;
	struct sess s;

	sess_open(&s, path, packed, F_MRG | (in_order ? F_IN_ORDER : 0));
	/* 60, 1500, 2000 bytes with plenty of buffers. */
	post_rx(&s, 32);
	for (size_t i = 0; i < 3; i++) {
		send_frame(&s, seq, sizes[i]);
		if (!recv_frame(&s, seq, sizes[i], true, 5000))
			t_fail("frame of %zu bytes did not come back", sizes[i]);
		seq++;
	}
	/* 32 - 1 - 12 - 16 = 3 buffers left: the 60-byte frame takes 1, the 1500-byte one needs 12. */
	send_frame(&s, seq, 60);
	send_frame(&s, seq + 1, 1500);
	if (!recv_frame(&s, seq, 60, true, 5000))
		t_fail("60-byte frame did not come back");
	seq++;
	if (recv_frame(&s, seq, 1500, true, 300))
		t_fail("a frame came back with too few RX buffers");
	post_rx(&s, 5);		/* still short: 7 */
	if (recv_frame(&s, seq, 1500, true, 300))
		t_fail("a frame came back with too few RX buffers");
	post_rx(&s, 5);		/* 12: exactly enough */
	if (!recv_frame(&s, seq, 1500, true, 5000))
		t_fail("the 1500-byte frame did not come once buffers were posted");
	seq++;
	/* Every size from 0 to 2035 bytes after the header, RX posted as it drains. */
	for (unsigned int i = 0; i < 400; i++, seq++) {
		size_t size = (i * 397) % 2036;

		post_rx(&s, (unsigned int)(HDR + size + RXB - 1) / RXB);
		send_frame(&s, seq, size);
		if (!recv_frame(&s, seq, size, true, 5000))
			t_fail("frame %lu (%zu bytes) did not come back", seq, size);
	}
	reap_tx(&s);
	t_eq(0, vhostctl_vu_net_stats(s.be, &st));
	t_eq(seq, st.tx_packets);
	t_eq(seq, st.rx_packets);
	t_eq(0, st.dropped);
	printf("%s%s: %lu mergeable frames, %lu TX buffers reaped\n", packed ? "packed" : "split",
	       in_order ? " in-order" : "", seq, s.tx_done);
	sess_close(&s);
}

/* Without MRG_RXBUF: one buffer per frame, a frame too large for it dropped. */
static void one_buffer(const char *path, bool packed)
{
	struct vhostctl_vu_net_stats st;
	struct sess s;

	sess_open(&s, path, packed, 0);
	post_rx(&s, 8);
	send_frame(&s, 0, 60);
	if (!recv_frame(&s, 0, 60, false, 5000))
		t_fail("60-byte frame did not come back");
	send_frame(&s, 1, 1500);
	send_frame(&s, 2, 100);
	if (!recv_frame(&s, 2, 100, false, 5000))
		t_fail("100-byte frame did not come back after the dropped one");
	t_eq(0, vhostctl_vu_net_stats(s.be, &st));
	t_eq(3, st.tx_packets);
	t_eq(2, st.rx_packets);
	t_eq(1, st.dropped);
	sess_close(&s);
}

int main(void)
{
	char path[64];
	int fds = t_count_fds();

	snprintf(path, sizeof(path), "/tmp/vu_net_mrg.%d.sock", getpid());
	for (int packed = 0; packed < 2; packed++) {
		mergeable(path, packed, false);
		mergeable(path, packed, true);
		one_buffer(path, packed);
	}
	t_eq(fds, t_count_fds());
	return 0;
}
