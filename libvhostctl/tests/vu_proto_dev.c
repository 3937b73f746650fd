// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Every protocol feature and message between our frontend and our backends
 * but the memory table (vu_proto.c), end to end over a real Unix socket, in
 * both socket roles, with the values checked:
 *  - GET/SET_CONFIG: the net MAC; set_config on a device with a callback
 *    (called with the offset and bytes; its refusal is the frontend's
 *    -EIO); out-of-range offsets and sizes refused, the connection kept;
 *  - BACKEND_CONFIG_CHANGE_MSG on the backend channel, served and counted,
 *    with and without REPLY_ACK, and GET_CONFIG returning the new bytes;
 *    one crossing a request of ours is served while we wait for the reply;
 *  - SET/GET_STATUS, status 0 resetting the device (rings stopped, reset
 *    callback), RESET_DEVICE likewise, traffic after setting rings up again;
 *  - DEVICE_STATE: refused while rings run, saved from one backend, loaded
 *    into another, CHECK_DEVICE_STATE, config and status carried over; a
 *    garbage state fails the check;
 *  - REPLY_ACK on and off;
 *  - GET_VRING_BASE after traffic and a new session continuing from it;
 *  - every request that needs a protocol feature not negotiated refused by
 *    the frontend (-EOPNOTSUPP) with no message sent.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "vu_proto.h"

#define CFG_LEN 16u
#define CFG_RO 12u	/* the custom device's bytes from here on are read-only */

/* A custom device: two queues looping back, 16 bytes of config, callbacks. */
struct cdev {
	unsigned long moved;	/* first: echo_queue's counter */
	int resets;
	int set_calls;
	unsigned int set_off, set_len;
	uint8_t set_data[CFG_LEN];
};

static int cdev_set_config(struct vhostctl_vu_backend *be, unsigned int offset, const void *data,
			   unsigned int len, void *ctx)
{
	struct cdev *c = ctx;

	(void)be;
	c->set_calls++;
	c->set_off = offset;
	c->set_len = len;
	memcpy(c->set_data, data, len < CFG_LEN ? len : CFG_LEN);
	return offset + len > CFG_RO ? -EPERM : 0;
}

static void cdev_reset(struct vhostctl_vu_backend *be, void *ctx)
{
	struct cdev *c = ctx;

	(void)be;
	__atomic_add_fetch(&c->resets, 1, __ATOMIC_SEQ_CST);
}

static const uint8_t cdev_cfg0[CFG_LEN] = "config-bytes-ro";

static struct vhostctl_vu_backend *cdev_be(struct cdev *c)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, bo, .num_queues = 2,
			   .queue = echo_queue, .config = cdev_cfg0, .config_len = CFG_LEN,
			   .set_config = cdev_set_config, .reset = cdev_reset, .ctx = c,
			   .log = getenv("VU_DEBUG") ? sess_log : NULL, .log_ctx = (void *)"be",
			   .log_level = 7);
	struct vhostctl_vu_backend *be;

	memset(c, 0, sizeof(*c));
	be = vhostctl_vu_backend_new(&bo);
	t_true(be);
	return be;
}

/* ---- GET/SET_CONFIG on a device with a set_config callback ------------------ */

static void config(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct cdev c;
	struct sess s = { .path = path, .server = server, .be = cdev_be(&c) };
	uint8_t b[CFG_LEN], want[CFG_LEN];
	struct vhostctl_dev *dev;
	uint64_t m0;

	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	dev_init(dev, VU_F_VERSION_1, NULL);
	memcpy(want, cdev_cfg0, CFG_LEN);
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, CFG_LEN));
	t_true(!memcmp(b, want, CFG_LEN));
	/* A write the device takes: the callback sees offset and bytes. */
	t_eq(0, vhostctl_dev_set_config(dev, 4, "WXYZ", 4));
	t_eq(1, c.set_calls);
	t_eq(4, c.set_off);
	t_eq(4, c.set_len);
	t_true(!memcmp(c.set_data, "WXYZ", 4));
	memcpy(want + 4, "WXYZ", 4);
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, CFG_LEN));
	t_true(!memcmp(b, want, CFG_LEN));
	t_eq(0, vhostctl_dev_get_config(dev, 5, b, 2));
	t_true(!memcmp(b, "XY", 2));
	/* A write the device refuses (read-only bytes): -EIO, nothing changed. */
	t_eq(-EIO, vhostctl_dev_set_config(dev, CFG_RO - 1, "ab", 2));
	t_eq(2, c.set_calls);
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, CFG_LEN));
	t_true(!memcmp(b, want, CFG_LEN));
	/* Out of range: refused before the callback. */
	t_eq(-EIO, vhostctl_dev_set_config(dev, 14, "abcd", 4));
	t_eq(-EIO, vhostctl_dev_set_config(dev, CFG_LEN, "a", 1));
	t_eq(-EIO, vhostctl_dev_set_config(dev, 0xfffffff0u, "abcdefghijklmnopq", 17));
	{
		uint8_t b2[CFG_LEN + 1];

		t_eq(-EIO, vhostctl_dev_get_config(dev, 0, b2, CFG_LEN + 1));
	}
	t_eq(-EIO, vhostctl_dev_get_config(dev, 1, b, CFG_LEN));
	t_eq(2, c.set_calls);
	/* Sizes the protocol cannot carry: refused here, nothing sent. */
	barrier(dev);
	m0 = sess_messages(&s);
	t_eq(-EINVAL, vhostctl_dev_set_config(dev, 0, "", 0));
	t_eq(-EINVAL, vhostctl_dev_get_config(dev, 0, b, 0));
	{
		static uint8_t big[300];

		t_eq(-EINVAL, vhostctl_dev_set_config(dev, 0, big, 257));
		t_eq(-EINVAL, vhostctl_dev_get_config(dev, 0, big, 257));
	}
	barrier(dev);
	t_eq(m0 + 1, sess_messages(&s));
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, CFG_LEN));
	t_true(!memcmp(b, want, CFG_LEN));
	{
		struct vhostctl_vu_backend_stats bs;

		t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
		t_eq(0, bs.protocol_errors);
	}
	printf("GET/SET_CONFIG, %s: callback at offset 4, read-only bytes and out-of-range "
	       "refused\n", role(server));
	finish(&s, dev, NULL, NULL);
}

/* ---- BACKEND_CONFIG_CHANGE_MSG ----------------------------------------------- */

struct change {
	struct vhostctl_vu_backend *be;
	int r;
};

static void *change_thread(void *arg)
{
	struct change *ch = arg;

	ch->r = vhostctl_vu_backend_config_changed(ch->be, 0, "NEW!", 4);
	return NULL;
}

static void config_change(bool server, bool ack)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o,
			   .protocol_features =
				   ack ? ALL_PF : ALL_PF & ~pf_bit(VHOSTCTL_VU_PF_REPLY_ACK));
	struct cdev c;
	struct sess s = { .path = path, .server = server, .be = cdev_be(&c) };
	struct change ch = { .be = s.be, .r = -1 };
	struct vhostctl_dev *dev;
	struct pollfd pfd;
	pthread_t th;
	uint8_t b[4];
	uint64_t pf;
	int cfd;

	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_true(pf & pf_bit(VHOSTCTL_VU_PF_BACKEND_REQ));
	t_true(pf & pf_bit(VHOSTCTL_VU_PF_CONFIG));
	t_eq(ack, !!(pf & pf_bit(VHOSTCTL_VU_PF_REPLY_ACK)));
	dev_init(dev, VU_F_VERSION_1, NULL);
	cfd = vhostctl_vu_backend_channel_fd(dev);
	t_true(cfd >= 0);
	pfd = (struct pollfd){ .fd = cfd, .events = POLLIN };
	t_eq(0, poll(&pfd, 1, 0));
	t_eq(0, vhostctl_vu_config_changes(dev));
	t_eq(0, vhostctl_vu_serve_backend(dev));
	/* The backend's thread stops: the application calls it from here. */
	barrier(dev);
	sess_stop(&s);
	if (ack) {
		/* It waits for our acknowledgement: from a thread of its own. */
		pthread_create(&th, NULL, change_thread, &ch);
	} else {
		change_thread(&ch);
		t_eq(0, ch.r);
	}
	t_eq(1, poll(&pfd, 1, 2000));
	t_eq(1, vhostctl_vu_serve_backend(dev));
	t_eq(1, vhostctl_vu_config_changes(dev));
	if (ack) {
		pthread_join(th, NULL);
		t_eq(0, ch.r);
	}
	t_eq(0, vhostctl_vu_serve_backend(dev));
	t_eq(0, sess_start(&s));
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, 4));
	t_true(!memcmp(b, "NEW!", 4));
	t_eq(0, vhostctl_dev_get_config(dev, 4, b, 4));
	t_true(!memcmp(b, cdev_cfg0 + 4, 4));
	printf("CONFIG_CHANGE_MSG, %s, REPLY_ACK %s: served, counted 1, GET_CONFIG has the new "
	       "bytes\n", role(server), ack ? "on" : "off");
	finish(&s, dev, NULL, NULL);
}

/*
 * The backend's own thread reports a change and waits for the acknowledgement
 * before it reads anything else, while the frontend sends a request and
 * waits for its reply: the frontend must serve the channel meanwhile.
 */
struct app {
	struct vhostctl_vu_backend *be;
	int r;
	int stop;
};

static void *app_thread(void *arg)
{
	struct app *a = arg;

	a->r = vhostctl_vu_backend_config_changed(a->be, 0, "LIVE", 4);
	while (!__atomic_load_n(&a->stop, __ATOMIC_SEQ_CST))
		if (vhostctl_vu_backend_dispatch(a->be, 10) < 0)
			break;
	return NULL;
}

static void config_change_crossing(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct cdev c;
	struct sess s = { .path = path, .server = server, .be = cdev_be(&c) };
	struct app a = { .be = s.be, .r = -1 };
	struct vhostctl_dev *dev;
	struct pollfd pfd;
	pthread_t th;
	uint8_t b[4];

	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	dev_init(dev, VU_F_VERSION_1, NULL);
	pfd = (struct pollfd){ .fd = vhostctl_vu_backend_channel_fd(dev), .events = POLLIN };
	t_true(pfd.fd >= 0);
	barrier(dev);
	sess_stop(&s);
	pthread_create(&th, NULL, app_thread, &a);
	/* The change is on its way and not served yet; now a request of ours. */
	t_eq(1, poll(&pfd, 1, 2000));
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, 4));
	t_true(!memcmp(b, "LIVE", 4));
	t_eq(1, vhostctl_vu_config_changes(dev));
	__atomic_store_n(&a.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	t_eq(0, a.r);
	t_eq(0, sess_start(&s));
	t_eq(0, vhostctl_dev_get_config(dev, 4, b, 4));
	t_true(!memcmp(b, cdev_cfg0 + 4, 4));
	printf("CONFIG_CHANGE_MSG crossing GET_CONFIG, %s: served while waiting for the reply\n",
	       role(server));
	finish(&s, dev, NULL, NULL);
}

/* ---- SET/GET_STATUS, status 0, RESET_DEVICE ------------------------------------ */

static void status_reset(bool server, bool reset_device)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct cdev c;
	struct sess s = { .path = path, .server = server, .be = cdev_be(&c) };
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_dev *dev;
	struct pair p;
	uint8_t st;
	unsigned long moved, done_tx;
	int progress = 0;
	const char *how = reset_device ? "RESET_DEVICE" : "SET_STATUS 0";

	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	memset(&p, 0, sizeof(p));
	t_eq(0, drv_q_init(&p.rx, mem, NUM, false, 1024) ?:
		drv_q_init(&p.tx, mem, NUM, false, 1024));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	dev_init(dev, VU_F_VERSION_1, mem);
	t_eq(0, vhostctl_dev_get_status(dev, &st));
	t_eq(0, st);
	t_eq(0, vhostctl_dev_set_status(dev, 0x0b));	/* ACKNOWLEDGE DRIVER FEATURES_OK */
	t_eq(0, vhostctl_dev_get_status(dev, &st));
	t_eq(0x0b, st);
	pair_rings(dev, &p, 0, 0);
	t_eq(0, vhostctl_dev_set_status(dev, 0x0f));	/* DRIVER_OK */
	t_eq(0, vhostctl_dev_get_status(dev, &st));
	t_eq(0x0f, st);
	pair_fill_rx(&p);
	traffic(&p, 500, how);
	if (pairs_settle(&p, 1, SIZE, err, sizeof(err)))
		t_fail("%s: %s", how, err);
	t_eq(0, __atomic_load_n(&c.resets, __ATOMIC_SEQ_CST));

	if (reset_device) {
		uint64_t pf;

		t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
		t_true(pf & pf_bit(VHOSTCTL_VU_PF_RESET_DEVICE));
		t_eq(0, vhostctl_dev_reset(dev));
	} else {
		t_eq(0, vhostctl_dev_set_status(dev, 0));
	}
	t_eq(1, __atomic_load_n(&c.resets, __ATOMIC_SEQ_CST));
	t_eq(0, vhostctl_dev_get_status(dev, &st));
	t_eq(0, st);
	/* The rings are stopped: packets put on TX and kicked stay there. */
	moved = __atomic_load_n(&c.moved, __ATOMIC_SEQ_CST);
	done_tx = p.done_tx;
	p.to_send += 10;
	t_eq(0, pairs_run(&p, 1, SIZE, 100, err, sizeof(err)));
	usleep(300000);
	t_eq(0, pairs_reap(&p, 1, SIZE, err, sizeof(err), &progress));
	t_eq(0, progress);
	t_eq(done_tx, p.done_tx);
	t_eq(moved, __atomic_load_n(&c.moved, __ATOMIC_SEQ_CST));
	/* Set up again, from where the rings stood: the 10 come back, then more. */
	t_eq(0, vhostctl_dev_set_features(dev, VU_F_VERSION_1));
	t_eq(0, vhostctl_dev_set_status(dev, 0x0b));
	pair_rings(dev, &p, (unsigned int)p.received, (unsigned int)p.done_tx);
	t_eq(0, vhostctl_dev_set_status(dev, 0x0f));
	p.expect += 10;
	if (pairs_run(&p, 1, SIZE, SESS_IDLE_MS, err, sizeof(err)))
		t_fail("%s: after setting up again: %s", how, err);
	traffic(&p, 500, how);
	t_eq(1010, p.received);
	t_eq(1010, __atomic_load_n(&c.moved, __ATOMIC_SEQ_CST));
	t_eq(0, vhostctl_dev_get_status(dev, &st));
	t_eq(0x0f, st);
	printf("%s, %s: reset callback once, rings stopped, status 0; set up again, %lu packets\n",
	       how, role(server), p.received);
	close_session(&s, dev);
	/* The frontend going away resets the device too. */
	t_eq(2, __atomic_load_n(&c.resets, __ATOMIC_SEQ_CST));
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
	drv_q_fini(&p.rx);
	drv_q_fini(&p.tx);
	vhostctl_mem_free(mem);
}

/* ---- DEVICE_STATE ---------------------------------------------------------------- */

static ssize_t read_all(int fd, uint8_t *buf, size_t max)
{
	size_t n = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, 2000) != 1)
			return -1;
		r = read(fd, buf + n, max - n);
		if (r < 0)
			return -1;
		if (r == 0)
			return (ssize_t)n;
		n += (size_t)r;
		if (n == max)
			return -1;
	}
}

static void device_state(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct cdev c1, c2;
	struct sess s = { .path = path, .server = server, .be = cdev_be(&c1) };
	uint8_t state[1024], b[CFG_LEN], want[CFG_LEN];
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	unsigned int base;
	struct pair p;
	ssize_t n;
	uint8_t st;
	int fd;

	dev = ring_session(&s, &o, &p, &mem, VU_F_VERSION_1);
	traffic(&p, 200, "device state");
	t_eq(0, vhostctl_dev_set_config(dev, 0, "STATE", 5));
	t_eq(0, vhostctl_dev_set_status(dev, 0x0f));
	memcpy(want, cdev_cfg0, CFG_LEN);
	memcpy(want, "STATE", 5);
	/* Not while a ring runs. */
	t_eq(-EBUSY, vhostctl_vu_device_state(dev, 0, &fd));
	t_eq(0, vhostctl_dev_get_vring_base(dev, 0, &base));
	t_eq(200, base);
	t_eq(0, vhostctl_dev_get_vring_base(dev, 1, &base));
	t_eq(200, base);
	t_eq(0, vhostctl_vu_device_state(dev, 0, &fd));
	n = read_all(fd, state, sizeof(state));
	close(fd);
	t_eq(0, vhostctl_vu_check_device_state(dev));
	/* Its content is the backend's business; config and status are in it. */
	t_eq(8 + CFG_LEN + 1, n);
	t_true(!memcmp(state + 8, want, CFG_LEN));
	t_eq(0x0f, state[8 + CFG_LEN]);
	close_session(&s, dev);
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);

	/* Another backend of the same device takes it. */
	s = (struct sess){ .path = path, .server = server, .be = cdev_be(&c2) };
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	dev_init(dev, VU_F_VERSION_1, mem);
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, CFG_LEN));
	t_true(!memcmp(b, cdev_cfg0, CFG_LEN));
	t_eq(0, vhostctl_dev_get_status(dev, &st));
	t_eq(0, st);
	t_eq(0, vhostctl_vu_device_state(dev, 1, &fd));
	t_eq(n, write(fd, state, (size_t)n));
	close(fd);
	t_eq(0, vhostctl_vu_check_device_state(dev));
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, CFG_LEN));
	t_true(!memcmp(b, want, CFG_LEN));
	t_eq(0, vhostctl_dev_get_status(dev, &st));
	t_eq(0x0f, st);
	/* Garbage: the check fails, nothing is taken. */
	t_eq(0, vhostctl_vu_device_state(dev, 1, &fd));
	t_eq(13, write(fd, "garbage state", 13));
	close(fd);
	t_eq(-EIO, vhostctl_vu_check_device_state(dev));
	t_eq(0, vhostctl_dev_get_config(dev, 0, b, CFG_LEN));
	t_true(!memcmp(b, want, CFG_LEN));
	/* A state cut short fails too. */
	t_eq(0, vhostctl_vu_device_state(dev, 1, &fd));
	t_eq(n - 1, write(fd, state, (size_t)n - 1));
	close(fd);
	t_eq(-EIO, vhostctl_vu_check_device_state(dev));
	/* The rings continue where the first backend stopped them. */
	pair_rings(dev, &p, 200, 200);
	traffic(&p, 200, "after the state moved");
	printf("DEVICE_STATE, %s: %zd bytes saved and loaded, config and status carried over, "
	       "garbage and short states refused\n", role(server), n);
	finish(&s, dev, &p, mem);
}

/* ---- REPLY_ACK on and off -------------------------------------------------------- */

static void reply_ack(bool server, bool ack)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o,
			   .protocol_features =
				   ack ? ALL_PF : ALL_PF & ~pf_bit(VHOSTCTL_VU_PF_REPLY_ACK));
	struct cdev c;
	struct sess s = { .path = path, .server = server, .be = cdev_be(&c) };
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vu_backend_stats bs;
	struct vhostctl_dev *dev;
	struct pair p;
	uint8_t b;
	uint64_t pf;

	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	memset(&p, 0, sizeof(p));
	t_eq(0, drv_q_init(&p.rx, mem, NUM, false, 1024) ?:
		drv_q_init(&p.tx, mem, NUM, false, 1024));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_eq(ack, !!(pf & pf_bit(VHOSTCTL_VU_PF_REPLY_ACK)));
	/* Memory table and ring set-up with or without acknowledgements. */
	dev_init(dev, VU_F_VERSION_1, mem);
	pair_rings(dev, &p, 0, 0);
	pair_fill_rx(&p);
	traffic(&p, 300, "reply-ack");
	/* A refused request: only an acknowledgement can tell. */
	t_eq(ack ? -EIO : 0, vhostctl_dev_set_config(dev, CFG_RO, "x", 1));
	t_eq(0, vhostctl_dev_get_config(dev, CFG_RO, &b, 1));
	t_eq(cdev_cfg0[CFG_RO], b);
	t_eq(0, vhostctl_dev_set_config(dev, 0, "C", 1));
	t_eq(0, vhostctl_dev_get_config(dev, 0, &b, 1));
	t_eq('C', b);
	traffic(&p, 300, "reply-ack");
	t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
	t_eq(0, bs.protocol_errors);
	printf("REPLY_ACK %s, %s: set-up, config and %lu packets; a refused SET_CONFIG %s\n",
	       ack ? "on" : "off", role(server), p.received, ack ? "reported" : "not seen");
	finish(&s, dev, &p, mem);
}

/* ---- GET_VRING_BASE and a new session from there ---------------------------------- */

static unsigned int packed_base(unsigned long n)
{
	unsigned int idx = (unsigned int)(n % NUM), wrap = (n / NUM) & 1 ? 0 : 1;

	return idx | wrap << 15 | idx << 16 | wrap << 31;
}

static void vring_base(bool server, bool packed)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct sess s = { .path = path, .server = server, .be = net_be() };
	uint64_t feat = VU_F_VERSION_1 | F_MAC | (packed ? VU_F_RING_PACKED : 0);
	struct vhostctl_vu_net_stats st;
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	unsigned int btx, brx;
	struct pair p;

	dev = ring_session(&s, &o, &p, &mem, feat);
	traffic(&p, 1000, "before");
	t_eq(0, vhostctl_dev_get_vring_base(dev, 1, &btx));
	t_eq(0, vhostctl_dev_get_vring_base(dev, 0, &brx));
	t_eq(packed ? packed_base(1000) : 1000, btx);
	t_eq(packed ? packed_base(1000) : 1000, brx);
	close_session(&s, dev);

	/* A new session from those bases: the sequence goes on, nothing twice. */
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	dev_init(dev, feat, mem);
	pair_rings(dev, &p, brx, btx);
	traffic(&p, 1000, "after");
	t_eq(0, vhostctl_dev_get_vring_base(dev, 1, &btx));
	t_eq(packed ? packed_base(2000) : 2000, btx);
	t_eq(0, vhostctl_vu_net_stats(s.be, &st));
	t_eq(2000, st.tx_packets);
	t_eq(2000, st.rx_packets);
	printf("GET_VRING_BASE, %s ring, %s: 0x%x after 1000, a new session went on to 2000\n",
	       packed ? "packed" : "split", role(server), brx);
	finish(&s, dev, &p, mem);
}

/* ---- SET_VRING_ADDR on a running ring: it moves, keeps its kick fd ------------------- */

static void ring_move(bool server, bool packed)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct sess s = { .path = path, .server = server, .be = net_be() };
	size_t dsz = 16ull * NUM, asz = packed ? 4 : 6 + 2ull * NUM, usz = packed ? 4 : 6 + 8ull * NUM;
	struct vhostctl_vu_net_stats st;
	struct vhostctl_vring_addr a = { .index = 1 };
	struct vhostctl_mem *mem;
	struct vhostctl_dev *dev;
	struct pair p;
	void *d, *av, *u;

	dev = ring_session(&s, &o, &p, &mem, VU_F_VERSION_1 | F_MAC |
			   (packed ? VU_F_RING_PACKED : 0));
	traffic(&p, 500, "before the move");
	barrier(dev);
	/* The driver copies its TX ring elsewhere and tells the running device. */
	d = vhostctl_mem_alloc(mem, dsz, 4096, &a.desc);
	av = vhostctl_mem_alloc(mem, asz, 64, &a.avail);
	u = vhostctl_mem_alloc(mem, usz, 64, &a.used);
	t_true(d && av && u);
	memcpy(d, p.tx.desc, dsz);
	memcpy(av, p.tx.avail, asz);
	memcpy(u, p.tx.used, usz);
	memset(p.tx.desc, 0xff, dsz);	/* the old place is garbage now */
	p.tx.desc = d;
	p.tx.avail = av;
	p.tx.used = u;
	p.tx.desc_gpa = a.desc;
	p.tx.avail_gpa = a.avail;
	p.tx.used_gpa = a.used;
	t_eq(0, vhostctl_dev_set_vring_addr(dev, &a));
	barrier(dev);
	/* One packet, and only its TX kick to announce it: kicks still arrive. */
	traffic(&p, 1, "one packet after the move");
	traffic(&p, 499, "after the move");
	t_eq(0, vhostctl_vu_net_stats(s.be, &st));
	t_eq(1000, st.tx_packets);
	t_eq(1000, st.rx_packets);
	/* Idle with RX buffers posted: the backend waits, it does not spin on them. */
	{
		struct rusage r0, r1;
		double cpu;

		getrusage(RUSAGE_SELF, &r0);
		usleep(500000);
		getrusage(RUSAGE_SELF, &r1);
		cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
		      (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
		      ((r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
		       (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec)) / 1e6;
		if (cpu > 0.1)
			t_fail("idle with RX buffers posted: %.0f ms of CPU in 500 ms", cpu * 1e3);
	}
	printf("SET_VRING_ADDR on a running %s ring, %s: moved after 500 packets, 500 more "
	       "through the new place\n", packed ? "packed" : "split", role(server));
	finish(&s, dev, &p, mem);
}

/* ---- requests without their protocol feature: refused, nothing sent ---------------- */

static void refusals(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o,
			   .protocol_features = pf_bit(VHOSTCTL_VU_PF_REPLY_ACK));
	struct sess s = { .path = path, .server = server, .be = net_be() };
	struct vhostctl_vu_region regs[9];
	struct vhostctl_vu_backend_stats bs;
	struct vhostctl_log lg = { .size = 4096 };
	struct vhostctl_dev *dev;
	uint64_t pf, m0;
	uint8_t b[4] = { 0 };
	int fd = -1, mfd;

	mfd = memfd_create("vu_proto", MFD_CLOEXEC);
	t_true(mfd >= 0);
	t_eq(0, ftruncate(mfd, 0x100000));
	lg.fd = mfd;
	for (unsigned int i = 0; i < 9; i++)
		regs[i] = (struct vhostctl_vu_region){ .gpa = i * 0x10000ull, .size = 0x10000,
						       .uaddr = 0x7f0000000000ull + i * 0x10000ull,
						       .fd = mfd, .offset = i * 0x10000ull };
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_eq(pf_bit(VHOSTCTL_VU_PF_REPLY_ACK), pf);
	dev_init(dev, VU_F_VERSION_1 | F_MAC, NULL);
	barrier(dev);
	m0 = sess_messages(&s);
	t_eq(-EOPNOTSUPP, vhostctl_dev_get_config(dev, 0, b, 4));		/* CONFIG */
	t_eq(-EOPNOTSUPP, vhostctl_dev_set_config(dev, 0, b, 4));
	t_eq(-EOPNOTSUPP, vhostctl_dev_get_status(dev, b));			/* STATUS */
	t_eq(-EOPNOTSUPP, vhostctl_dev_set_status(dev, 0x0f));
	t_eq(-EOPNOTSUPP, vhostctl_dev_set_log_base(dev, &lg));		/* LOG_SHMFD */
	t_eq(-EOPNOTSUPP, vhostctl_vu_get_inflight(dev, 2, 64));		/* INFLIGHT_SHMFD */
	t_eq(-EOPNOTSUPP, vhostctl_vu_device_state(dev, 0, &fd));		/* DEVICE_STATE */
	t_eq(-EOPNOTSUPP, vhostctl_vu_device_state(dev, 1, &fd));
	t_eq(-EOPNOTSUPP, vhostctl_vu_check_device_state(dev));
	t_eq(-1, fd);
	t_eq(-ENOENT, vhostctl_vu_backend_channel_fd(dev));			/* BACKEND_REQ */
	t_eq(-ENOENT, vhostctl_vu_serve_backend(dev));
	t_eq(8, vhostctl_vu_max_mem_slots(dev));		/* no GET_MAX_MEM_SLOTS */
	t_eq(-E2BIG, vhostctl_vu_set_mem_table(dev, regs, 9));	/* no ADD_MEM_REG */
	t_eq(0, vhostctl_vu_config_changes(dev));
	barrier(dev);
	t_eq(m0 + 1, sess_messages(&s));
	t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
	t_eq(0, bs.protocol_errors);
	t_true(bs.connected);
	printf("protocol features 0x%llx, %s: 14 requests refused by the frontend, none sent\n",
	       (unsigned long long)pf, role(server));
	close_session(&s, dev);
	sess_stop(&s);
	vhostctl_vu_backend_free(s.be);
	close(mfd);
}

/* Every test of this program, in one socket role. */
static void tests(bool server)
{
	config(server);
	config_change(server, true);
	config_change(server, false);
	config_change_crossing(server);
	status_reset(server, false);
	status_reset(server, true);
	device_state(server);
	reply_ack(server, true);
	reply_ack(server, false);
	vring_base(server, false);
	vring_base(server, true);
	ring_move(server, false);
	ring_move(server, true);
	refusals(server);
}

int main(void)
{
	return proto_main("vu_proto_dev", tests);
}
