// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim doorbell pages through vhost_vdpa's mmap: a userspace split
 * ring driver kicks the net loopback only by storing to the mapped doorbells
 * of its TX and RX queues, and every frame must come back. Then what
 * vhost_vdpa and the module refuse (offsets past the last queue, readable or
 * private mappings), a device deleted while its doorbell is still mapped
 * (no oops, no leak, the module unloads), and doorbell_poll_us=0, where an
 * idle device sees a doorbell store only at its next kick eventfd.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vhost.h>

/* the harness compares int literals with unsigned values */
#pragma GCC diagnostic ignored "-Wsign-compare"
/*
 * The harness's own fork variable may be clobbered by its longjmp after a
 * failed ASSERT, and the child's teardown then skipped: the teardown here
 * runs in the parent (FIXTURE_TEARDOWN_PARENT) so a device is deleted
 * whatever happened to the test.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "vdpa_sim_helpers.h"

/* 6.12 uapi the Debian 12 (6.1) headers lack: from the project's one header. */
#include "kabi.h"

#define BF_MSG_V2	(1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2)
#define BF_SUSPEND	(1ULL << VHOST_BACKEND_F_SUSPEND)
#define BF_RESUME	(1ULL << VHOST_BACKEND_F_RESUME)
#define BF_PERSIST	(1ULL << VHOST_BACKEND_F_IOTLB_PERSIST)

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8

#define MEM_SIZE	(4u << 20)
#define QNUM		64
#define VQ_BASE(q)	((uint64_t)(q) * 0x10000)
#define BUF_BASE	0x100000u
#define BUF_SIZE	0x800u
#define NFRAMES		64
#define RX		0
#define TX		1
#define NQ		2

#define D_WRITE		2

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq {
	struct vdesc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[QNUM] */
	volatile uint16_t *used;	/* flags, idx, then 8-byte elements */
	uint16_t avail_idx;
	uint16_t last_used;
	int kick;
	int call;
	void *db;			/* the mapped doorbell page */
};

FIXTURE(doorbell)
{
	struct vhostctl_vdpa *nl;
	char name[32];
	char node[64];
	int fd;
	uint8_t *mem;
	int memfd;
	struct vq vq[NQ];
	uint8_t mac[6];
	uint32_t nvqs;
	long page;
	char poll_us[32];	/* doorbell_poll_us to restore */
	pid_t owner;		/* the process that holds fds and mappings */
};

static int iotlb_update(int fd, uint64_t iova, uint64_t size, void *uaddr)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = iova,
			.size = size,
			.uaddr = (uint64_t)(uintptr_t)uaddr,
			.perm = VHOST_ACCESS_RW,
			.type = VHOST_IOTLB_UPDATE,
		},
	};

	return write(fd, &m, sizeof(m)) == sizeof(m) ? 0 : -errno;
}

static int read_param(const char *name, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/vhostctl_sim/parameters/%s",
		 name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static long live_devices(void)
{
	char buf[32];

	return read_param("live_devices", buf, sizeof(buf)) ? -1 :
	       strtol(buf, NULL, 10);
}

FIXTURE_SETUP(doorbell)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o,
			   .set = VHOSTCTL_VDPA_ADD_MAX_VQP, .max_vq_pairs = 1);
	struct {
		struct vhost_vdpa_config c;
		uint8_t mac[6];
	} cfg = { .c = { .off = 0, .len = 6 } };
	char dir[256], path[96];
	uint64_t bf;

	self->fd = -1;
	self->memfd = -1;
	self->owner = getpid();
	self->page = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(0, read_param("doorbell_poll_us", self->poll_us,
				sizeof(self->poll_us)))
		SKIP(return, "vhostctl_sim has no doorbell_poll_us: not loaded or too old");
	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	vs_unique_name(self->name, sizeof(self->name), "db");
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, "vhostctl_sim_net", &o))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, vs_bind(self->name, "vhost_vdpa"));
	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", self->name);
	ASSERT_EQ(0, vs_wait_find(dir, "vhost-vdpa-", self->node,
				  sizeof(self->node), 2000));
	snprintf(path, sizeof(path), "/dev/%s", self->node);
	self->fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", path, strerror(errno));

	ASSERT_EQ(0, ioctl(self->fd, VHOST_GET_BACKEND_FEATURES, &bf));
	/* PERSIST: the IOTLB survives the resets of start() */
	bf &= BF_MSG_V2 | BF_SUSPEND | BF_RESUME | BF_PERSIST;
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_BACKEND_FEATURES, &bf));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_SET_OWNER));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_VDPA_GET_VQS_COUNT, &self->nvqs));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_VDPA_GET_CONFIG, &cfg));
	memcpy(self->mac, cfg.mac, 6);

	self->memfd = memfd_create("vdpa_sim_doorbell", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, MEM_SIZE));
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, iotlb_update(self->fd, 0, MEM_SIZE, self->mem));
}

FIXTURE_TEARDOWN_PARENT(doorbell)
{
	struct vhostctl_vdpa *nl;
	int i;

	if (self->poll_us[0])
		vs_param("doorbell_poll_us", self->poll_us);
	/* normally the test process is gone, its fds and mappings with it */
	if (getpid() == self->owner) {
		for (i = 0; i < NQ; i++) {
			if (self->vq[i].db)
				munmap(self->vq[i].db, self->page);
			if (self->vq[i].kick > 0)
				close(self->vq[i].kick);
			if (self->vq[i].call > 0)
				close(self->vq[i].call);
		}
		if (self->fd >= 0)
			close(self->fd);
		if (self->mem && self->mem != MAP_FAILED)
			munmap(self->mem, MEM_SIZE);
		if (self->memfd >= 0)
			close(self->memfd);
		vhostctl_vdpa_close(self->nl);
	}
	/* vhost_vdpa's remove waits until the file is released: now it is */
	if (self->name[0]) {
		nl = vhostctl_vdpa_open();
		vhostctl_vdpa_dev_del(nl, self->name);
		vhostctl_vdpa_close(nl);
	}
}

static int set_status(int fd, uint8_t s)
{
	return ioctl(fd, VHOST_VDPA_SET_STATUS, &s);
}

/*
 * Resets the device and sets up RX and TX as vdpa_sim_vhost_test does,
 * kick and call eventfds included: the kick eventfds are never written
 * unless a test says so.
 */
static int start(FIXTURE_DATA(doorbell) *self)
{
	uint64_t f = (1ULL << VS_F_VERSION_1) | (1ULL << VS_F_ACCESS_PLATFORM);
	unsigned int q;

	if (set_status(self->fd, 0) || set_status(self->fd, S_ACK | S_DRIVER))
		return -1;
	if (ioctl(self->fd, VHOST_SET_FEATURES, &f))
		return -2;
	if (set_status(self->fd, S_ACK | S_DRIVER | S_FEATURES_OK))
		return -3;
	for (q = 0; q < NQ; q++) {
		struct vq *v = &self->vq[q];
		struct vhost_vring_state num = { q, QNUM }, base = { q, 0 };
		struct vhost_vring_state en = { q, 1 };
		struct vhost_vring_addr a = {
			.index = q,
			.desc_user_addr = VQ_BASE(q),
			.avail_user_addr = VQ_BASE(q) + 0x1000,
			.used_user_addr = VQ_BASE(q) + 0x2000,
		};
		struct vhost_vring_file kick = { q, -1 }, call = { q, -1 };

		memset(self->mem + VQ_BASE(q), 0, 0x3000);
		v->desc = (struct vdesc *)(self->mem + VQ_BASE(q));
		v->avail = (uint16_t *)(self->mem + VQ_BASE(q) + 0x1000);
		v->used = (uint16_t *)(self->mem + VQ_BASE(q) + 0x2000);
		v->avail_idx = 0;
		v->last_used = 0;
		if (v->kick <= 0)
			v->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->call <= 0)
			v->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		kick.fd = v->kick;
		call.fd = v->call;
		if (ioctl(self->fd, VHOST_SET_VRING_NUM, &num) ||
		    ioctl(self->fd, VHOST_SET_VRING_ADDR, &a) ||
		    ioctl(self->fd, VHOST_SET_VRING_BASE, &base) ||
		    ioctl(self->fd, VHOST_SET_VRING_KICK, &kick) ||
		    ioctl(self->fd, VHOST_SET_VRING_CALL, &call) ||
		    ioctl(self->fd, VHOST_VDPA_SET_VRING_ENABLE, &en))
			return -4;
	}
	if (set_status(self->fd, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		return -5;
	return 0;
}

/* The doorbell of queue q, mapped the only way vhost_vdpa allows. */
static void *map_db(FIXTURE_DATA(doorbell) *self, unsigned long q)
{
	return mmap(NULL, self->page, PROT_WRITE, MAP_SHARED, self->fd,
		    q * self->page);
}

static int map_dbs(FIXTURE_DATA(doorbell) *self)
{
	int q;

	for (q = 0; q < NQ; q++) {
		self->vq[q].db = map_db(self, q);
		if (self->vq[q].db == MAP_FAILED) {
			self->vq[q].db = NULL;
			return -errno;
		}
	}
	return 0;
}

static uint64_t biova(unsigned int i)
{
	return BUF_BASE + (uint64_t)i * BUF_SIZE;
}

static uint8_t *buf(FIXTURE_DATA(doorbell) *self, unsigned int i)
{
	return self->mem + biova(i);
}

/* Makes one descriptor available on q, without any kick. */
static void add(struct vq *v, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t head = v->avail_idx % QNUM;

	v->desc[head] = (struct vdesc){ addr, len, flags, 0 };
	v->avail[2 + head] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);	/* entry before idx */
	v->avail[1] = ++v->avail_idx;
}

/*
 * Rings q's doorbell the way a virtio-pci driver notifies: a 16-bit store
 * of the queue index at offset 0. The fence orders the avail index store
 * before the doorbell store; the device orders its doorbell read before its
 * ring reads.
 */
static void ring_db(struct vq *v, uint16_t q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*(volatile uint16_t *)v->db = q;
}

/* Waits for the next used entry; returns its len, or -1 on timeout. */
static int64_t wait_used(struct vq *v, int ms)
{
	uint32_t *elem;

	for (; ms > 0; ms--) {
		if (v->used[1] != v->last_used) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			elem = (uint32_t *)(v->used + 2) + 2 * (v->last_used % QNUM);
			v->last_used++;
			return elem[1];
		}
		usleep(1000);
	}
	return -1;
}

static int frame(FIXTURE_DATA(doorbell) *self, uint8_t *p, unsigned int n)
{
	unsigned int payload = 60 + n;

	memset(p, 0, 12);			/* virtio_net_hdr_v1 */
	memcpy(p + 12, self->mac, 6);		/* to ourselves */
	memcpy(p + 18, self->mac, 6);
	p[24] = 0x88;
	p[25] = 0xb5;
	memset(p + 26, n, payload);
	return 26 + payload;
}

/* n frames TX -> RX, each kicked through the two doorbells only. */
static void loop_frames(struct __test_metadata *_metadata,
			FIXTURE_DATA(doorbell) *self, unsigned int n)
{
	struct vq *rx = &self->vq[RX], *tx = &self->vq[TX];
	uint64_t cnt;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *in = buf(self, 2 * (i % 32)), *out = buf(self, 2 * (i % 32) + 1);
		int len = frame(self, out, i);

		memset(in, 0, BUF_SIZE);
		add(rx, biova(2 * (i % 32)), BUF_SIZE, D_WRITE);
		ring_db(rx, RX);
		add(tx, biova(2 * (i % 32) + 1), len, 0);
		ring_db(tx, TX);
		ASSERT_EQ(0, wait_used(tx, 2000)) TH_LOG("frame %u not sent", i);
		ASSERT_EQ(len, wait_used(rx, 2000)) TH_LOG("frame %u not back", i);
		ASSERT_EQ(0, memcmp(in, out, len)) TH_LOG("frame %u differs", i);
	}
	/* nobody wrote a kick eventfd: each still reads empty */
	EXPECT_EQ(-1, read(rx->kick, &cnt, sizeof(cnt)));
	EXPECT_EQ(-1, read(tx->kick, &cnt, sizeof(cnt)));
}

TEST_F(doorbell, loopback)
{
	uint64_t v;

	ASSERT_EQ(3, self->nvqs);
	ASSERT_EQ(0, map_dbs(self)) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, start(self));
	loop_frames(_metadata, self, NFRAMES);
	if (_metadata->exit_code)
		return;
	ASSERT_EQ(0, vs_vstat(self->nl, self->name, RX, "rx packets", &v));
	EXPECT_EQ(NFRAMES, v);

	/* a reset keeps the mapping; the doorbells work again after it */
	ASSERT_EQ(0, start(self));
	loop_frames(_metadata, self, 8);
}

TEST_F(doorbell, suspend_resume)
{
	struct vq *rx = &self->vq[RX], *tx = &self->vq[TX];
	int len = frame(self, buf(self, 1), 7);

	ASSERT_EQ(0, map_dbs(self));
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_VDPA_SUSPEND));
	add(rx, biova(0), BUF_SIZE, D_WRITE);
	ring_db(rx, RX);
	add(tx, biova(1), len, 0);
	ring_db(tx, TX);
	/* a suspended device does not poll */
	EXPECT_EQ(-1, wait_used(tx, 300));
	ASSERT_EQ(0, ioctl(self->fd, VHOST_VDPA_RESUME));
	ASSERT_EQ(0, wait_used(tx, 2000));
	ASSERT_EQ(len, wait_used(rx, 2000));
}

TEST_F(doorbell, mmap_refused)
{
	void *p;

	/* one page per queue, control queue included, and no further */
	p = map_db(self, self->nvqs - 1);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, self->page);
	EXPECT_EQ(MAP_FAILED, map_db(self, self->nvqs));
	EXPECT_EQ(MAP_FAILED, map_db(self, 65535));
	EXPECT_EQ(MAP_FAILED, map_db(self, 65536));
	EXPECT_EQ(EINVAL, errno);

	/* vhost_vdpa wants write-only, shared, one page */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED,
				   self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ | PROT_WRITE,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_WRITE, MAP_PRIVATE,
				   self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * self->page, PROT_WRITE,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);

	/* stores before DRIVER_OK, or to a queue never enabled, are harmless */
	ASSERT_EQ(0, map_dbs(self));
	ring_db(&self->vq[TX], TX);
	p = map_db(self, 2);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, start(self));
	*(volatile uint16_t *)p = 2;
	munmap(p, self->page);
	loop_frames(_metadata, self, 2);
}

TEST_F(doorbell, poll_off)
{
	struct vq *rx = &self->vq[RX], *tx = &self->vq[TX];
	int len = frame(self, buf(self, 1), 9);
	uint64_t one = 1;

	ASSERT_EQ(0, vs_param("doorbell_poll_us", "0"));
	ASSERT_EQ(0, map_dbs(self));
	ASSERT_EQ(0, start(self));
	/* let the passes that DRIVER_OK and ring enable scheduled finish */
	usleep(300000);
	add(rx, biova(0), BUF_SIZE, D_WRITE);
	ring_db(rx, RX);
	add(tx, biova(1), len, 0);
	ring_db(tx, TX);
	/* idle worker, no timer: the stores wait */
	EXPECT_EQ(-1, wait_used(tx, 500));
	/* the next kick, on any queue, runs a pass that finds both rings */
	ASSERT_EQ(sizeof(one), write(rx->kick, &one, sizeof(one)));
	ASSERT_EQ(0, wait_used(tx, 2000));
	ASSERT_EQ(len, wait_used(rx, 2000));
}

struct del_arg {
	const char *name;
	int ret;
	volatile bool done;
};

static void *del_thread(void *p)
{
	struct del_arg *a = p;
	struct vhostctl_vdpa *nl = vhostctl_vdpa_open();

	a->ret = nl ? vhostctl_vdpa_dev_del(nl, a->name) : -errno;
	vhostctl_vdpa_close(nl);
	a->done = true;
	return NULL;
}

/*
 * vdpa dev del while a doorbell is mapped and the fd closed: the mapping
 * holds the vhost-vdpa file, so the delete waits for munmap; the page stays
 * valid meanwhile and the device is freed after.
 */
TEST_F(doorbell, delete_while_mapped)
{
	struct del_arg a = { .name = self->name };
	long live = live_devices();
	pthread_t t;
	void *db;
	int i;

	ASSERT_LE(1, live);
	ASSERT_EQ(0, start(self));
	db = map_db(self, TX);
	ASSERT_NE(MAP_FAILED, db);
	*(volatile uint16_t *)db = TX;
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, pthread_create(&t, NULL, del_thread, &a));
	usleep(300000);
	EXPECT_FALSE(a.done) TH_LOG("delete did not wait for the mapping");
	*(volatile uint16_t *)db = TX;	/* still our page */
	munmap(db, self->page);
	for (i = 0; i < 5000 && !a.done; i++)
		usleep(1000);
	ASSERT_TRUE(a.done) TH_LOG("delete still blocked after munmap");
	pthread_join(t, NULL);
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(live - 1, live_devices());
	self->name[0] = 0;	/* nothing left to delete in teardown */
}

/* Last: the module unloads with no device left behind by the tests above. */
TEST_F(doorbell, unload)
{
	void *db = map_db(self, RX);

	ASSERT_NE(MAP_FAILED, db);
	*(volatile uint16_t *)db = RX;
	munmap(db, self->page);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, vhostctl_vdpa_dev_del(self->nl, self->name));
	self->name[0] = 0;
	/* a fresh module has its defaults: nothing to restore */
	self->poll_us[0] = 0;
	EXPECT_EQ(0, live_devices()) TH_LOG("%s", "a test left a device behind");
	EXPECT_EQ(0, system("modprobe -r vhostctl_sim && modprobe vhostctl_sim"));
}

TEST_HARNESS_MAIN
