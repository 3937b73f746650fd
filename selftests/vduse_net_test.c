// SPDX-License-Identifier: GPL-2.0-only
/*
 * A net device served over VDUSE by this process (vhostctl_vduse_*), a
 * loopback written on the device-queue API: every frame the driver sends on
 * TX comes back on RX.  Added on the vdpa bus through the vduse management
 * device with the library's netlink call, then:
 *  - bound to virtio_vdpa: the kernel's virtio-net runs on it, frames sent
 *    to the interface's own MAC over AF_PACKET come back, counted by both
 *    sides;
 *  - bound to vhost_vdpa: the library's own driver side (the documentation's
 *    vdpa_net example) sets it up through /dev/vhost-vdpa-N and gets its
 *    frames back: a userspace driver and a userspace device, both ours;
 *  - failure modes: descriptions VDUSE refuses, a destroy while bound, the
 *    serving process killed, and no WARNING or BUG in the kernel log.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_packet.h>
#include <linux/vduse.h>

#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
/* the harness keeps a pid across its setjmp; our fixtures do not rely on it */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "vdpa_sim_helpers.h"
#include "vduse.h"

#define ETH_P_TEST	0x88b5
#define HDR_LEN		12	/* virtio-net header with VERSION_1 */
#define FRAME_MAX	1514
#define PENDING		64
#define NET_RX		0
#define NET_TX		1

/* The loopback device: frames taken from TX wait here for RX buffers. */
struct loop {
	uint8_t frame[PENDING][FRAME_MAX];
	uint32_t len[PENDING];
	unsigned int head, count;
	struct vhostctl_devq *rxq;	/* set by the RX kick, used by TX */
	_Atomic uint64_t tx_frames, rx_frames, dropped, test_frames;
};

/* Moves waiting frames into RX buffers; true if any moved. */
static int loop_fill_rx(struct loop *l, struct vhostctl_devq *rxq)
{
	uint8_t hdr[HDR_LEN] = { 0 };
	int moved = 0;

	hdr[10] = 1;	/* num_buffers */
	while (l->count) {
		struct vhostctl_devq_elem e;
		struct iovec iov[8];
		unsigned int k = l->head;
		int r = vhostctl_devq_pop(rxq, &e, iov, 8);

		if (r <= 0)
			break;
		if (e.in_len < HDR_LEN + l->len[k]) {
			/* too small: complete it empty, the frame waits */
			vhostctl_devq_push(rxq, &e, 0);
			continue;
		}
		vhostctl_devq_copy_to(&e, 0, hdr, HDR_LEN);
		vhostctl_devq_copy_to(&e, HDR_LEN, l->frame[k], l->len[k]);
		vhostctl_devq_push(rxq, &e, HDR_LEN + l->len[k]);
		atomic_fetch_add(&l->rx_frames, 1);
		l->head = (l->head + 1) % PENDING;
		l->count--;
		moved = 1;
	}
	if (moved)
		vhostctl_devq_flush(rxq);
	return moved;
}

static int loop_queue(struct vhostctl_vduse *vd, unsigned int index, struct vhostctl_devq *q,
		      void *ctx)
{
	struct loop *l = ctx;
	struct vhostctl_devq_elem e;
	struct iovec iov[8];
	int n = 0;

	(void)vd;
	if (index == NET_RX) {
		l->rxq = q;
		loop_fill_rx(l, q);
		return 0;
	}
	while (vhostctl_devq_pop(q, &e, iov, 8) > 0) {
		unsigned int slot = (l->head + l->count) % PENDING;
		size_t flen = e.out_len > HDR_LEN ? e.out_len - HDR_LEN : 0;

		if (flen && flen <= FRAME_MAX && l->count < PENDING) {
			vhostctl_devq_copy_from(&e, HDR_LEN, l->frame[slot], flen);
			l->len[slot] = flen;
			l->count++;
			atomic_fetch_add(&l->tx_frames, 1);
			if (flen >= 14 && l->frame[slot][12] == ETH_P_TEST >> 8 &&
			    l->frame[slot][13] == (ETH_P_TEST & 0xff))
				atomic_fetch_add(&l->test_frames, 1);
		} else {
			atomic_fetch_add(&l->dropped, 1);
		}
		vhostctl_devq_push(q, &e, 0);
		n++;
	}
	if (n)
		vhostctl_devq_flush(q);
	if (l->rxq)
		loop_fill_rx(l, l->rxq);
	return 0;
}

static void loop_started(struct vhostctl_vduse *vd, uint64_t features, void *ctx)
{
	struct loop *l = ctx;

	(void)vd;
	(void)features;
	l->head = l->count = 0;
	l->rxq = NULL;
}

static void loop_reset(struct vhostctl_vduse *vd, void *ctx)
{
	loop_started(vd, 0, ctx);
}

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "# libvhostctl: %s\n", msg);
}

/* config space: mac, status (LINK_UP) */
struct net_config {
	uint8_t mac[6];
	uint16_t status;
} __attribute__((packed));

static int load_drivers(void)
{
	/* vhost_vdpa before virtio_vdpa: the first driver loaded takes new devices */
	return system("modprobe -q -a vdpa vduse vhost_vdpa virtio_vdpa virtio_net");
}

static void *serve(void *arg)
{
	vhostctl_vduse_run(arg);
	return NULL;
}

static struct vhostctl_vduse *new_loop(const char *name, struct loop *l, const uint8_t *mac)
{
	struct net_config cfg = { .status = 1 };
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_opts, o,
			   .log = log_line,
			   .log_level = VHOSTCTL_LOG_INFO,
			   .name = name,
			   .device_id = 1,
			   .features = (1ULL << VS_NET_F_MAC) | (1ULL << VS_NET_F_STATUS),
			   .num_queues = 2,
			   .queue_size = 256,
			   .config = &cfg,
			   .config_len = sizeof(cfg),
			   .queue = loop_queue,
			   .started = loop_started,
			   .reset = loop_reset,
			   .ctx = l);

	memcpy(cfg.mac, mac, 6);
	return vhostctl_vduse_new(&o);
}

FIXTURE(vnet)
{
	struct vhostctl_vdpa *nl;
	struct vhostctl_vduse *vd;
	struct loop *loop;
	pthread_t thread;
	bool running;
	bool added;
	char name[32];
	uint8_t mac[6];
};

FIXTURE_SETUP(vnet)
{
	int i;

	ASSERT_EQ(0, load_drivers());
	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	self->loop = calloc(1, sizeof(*self->loop));
	ASSERT_NE(NULL, self->loop);
	vs_unique_name(self->name, sizeof(self->name), "vdn");
	self->mac[0] = 0x02;
	for (i = 1; i < 6; i++)
		self->mac[i] = rand();
	self->vd = new_loop(self->name, self->loop, self->mac);
	ASSERT_NE(NULL, self->vd) TH_LOG("vduse new: %s", strerror(errno));
	ASSERT_EQ(0, pthread_create(&self->thread, NULL, serve, self->vd));
	self->running = true;
	/* the kernel asks the device while it adds it: the thread answers */
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, "vduse", NULL))
		TH_LOG("vdpa dev add: %s", vhostctl_vdpa_error(self->nl));
	self->added = true;
}

FIXTURE_TEARDOWN(vnet)
{
	if (self->added)
		EXPECT_EQ(0, vhostctl_vdpa_dev_del(self->nl, self->name));
	if (self->running) {
		vhostctl_vduse_stop(self->vd);
		pthread_join(self->thread, NULL);
	}
	vhostctl_vduse_free(self->vd);
	if (self->nl)
		vhostctl_vdpa_close(self->nl);
	free(self->loop);
	EXPECT_FALSE(vduse_kernel_bugs());
}

TEST_F(vnet, virtio_net_loopback)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_stats, st);
	struct sockaddr_ll sll = { 0 };
	struct timeval tv = { 0, 500000 };
	char ifname[IFNAMSIZ], path[128];
	int ifindex, sock;

	ASSERT_EQ(0, vs_bind(self->name, "virtio_vdpa"));
	ASSERT_EQ(0, vduse_virtio_child(self->name, "net", ifname, sizeof(ifname)));
	ifindex = if_nametoindex(ifname);
	ASSERT_LT(0, ifindex);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	vs_write_file(path, "1");
	ASSERT_EQ(0, vduse_if_up(ifname));

	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_TEST));
	ASSERT_LE(0, sock);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_TEST);
	sll.sll_ifindex = ifindex;
	ASSERT_EQ(0, bind(sock, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));

	EXPECT_EQ(40, vduse_send_recv(sock, self->mac, 40));
	close(sock);
	/* our device saw exactly the test's frames, and returned each */
	EXPECT_EQ(40, atomic_load(&self->loop->test_frames));
	EXPECT_EQ(atomic_load(&self->loop->tx_frames), atomic_load(&self->loop->rx_frames));
	EXPECT_EQ(0, atomic_load(&self->loop->dropped));
	ASSERT_EQ(0, vhostctl_vduse_stats(self->vd, &st));
	EXPECT_EQ(0, st.failed);
	EXPECT_NE(0, st.status & 4);		/* DRIVER_OK */
	EXPECT_NE(0, st.features & (1ULL << 33));	/* ACCESS_PLATFORM */
	EXPECT_LE(1, st.kicks);	/* kicks coalesce under event-idx */
	EXPECT_LE(1, st.irqs);
	TH_LOG("requests %llu kicks %llu irqs %llu maps %llu",
	       (unsigned long long)st.requests, (unsigned long long)st.kicks,
	       (unsigned long long)st.irqs, (unsigned long long)st.maps);
}

/* The library's own driver side through vhost_vdpa: the documentation's example. */
TEST_F(vnet, vhost_vdpa_library_driver)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_stats, st);
	char self_path[512], cmd[1200], node[64], path[128];
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	int status;

	ASSERT_LT(0, n);
	self_path[n] = 0;
	*strrchr(self_path, '/') = 0;
	ASSERT_EQ(0, vs_bind(self->name, "vhost_vdpa"));
	snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s", self->name);
	ASSERT_EQ(0, vs_wait_find(path, "vhost-vdpa-", node, sizeof(node), 3000));
	snprintf(cmd, sizeof(cmd), "%s/examples/vdpa_net /dev/%s 16", self_path, node);
	status = system(cmd);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("%s failed", cmd);
	EXPECT_EQ(16, atomic_load(&self->loop->test_frames));
	EXPECT_EQ(16, atomic_load(&self->loop->rx_frames));
	ASSERT_EQ(0, vhostctl_vduse_stats(self->vd, &st));
	TH_LOG("requests %llu failed %llu kicks %llu irqs %llu maps %llu",
	       (unsigned long long)st.requests, (unsigned long long)st.failed,
	       (unsigned long long)st.kicks, (unsigned long long)st.irqs,
	       (unsigned long long)st.maps);
}

/* VDUSE_DESTROY_DEV while the device is on the bus is refused; it keeps working. */
TEST_F(vnet, destroy_while_bound)
{
	char name[VDUSE_NAME_MAX] = { 0 };
	int fd = open("/dev/vduse/control", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	snprintf(name, sizeof(name), "%s", self->name);
	EXPECT_EQ(-1, ioctl(fd, VDUSE_DESTROY_DEV, name));
	EXPECT_EQ(EBUSY, errno);
	close(fd);
	/* a second device of the same name is refused, even with REPLACE */
	{
		struct loop l2;
		struct vhostctl_vduse *vd2;
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_opts, o, .name = self->name,
				   .device_id = 1, .num_queues = 2, .queue = loop_queue,
				   .flags = VHOSTCTL_VDUSE_F_REPLACE, .ctx = &l2);

		vd2 = vhostctl_vduse_new(&o);
		EXPECT_EQ(NULL, vd2);
		EXPECT_EQ(EBUSY, errno);
		vhostctl_vduse_free(vd2);
	}
	ASSERT_EQ(0, vs_bind(self->name, "virtio_vdpa"));
	{
		char ifname[IFNAMSIZ];

		EXPECT_EQ(0, vduse_virtio_child(self->name, "net", ifname, sizeof(ifname)));
	}
}

/*
 * The CLI manages the device like any vDPA device: added through the vduse
 * management device, listed with its management device and id, deleted.
 */
TEST(cli_vdpa_add)
{
	char self_path[512], cli[600], cmd[2400], name[32], path[128];
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x43 };
	struct loop *l = calloc(1, sizeof(*l));
	struct vhostctl_vduse *vd;
	pthread_t t;

	ASSERT_EQ(0, load_drivers());
	ASSERT_LT(0, n);
	ASSERT_NE(NULL, l);
	self_path[n] = 0;
	/* build/selftests/vduse_net_test -> build/bin/vhostctl */
	*strrchr(self_path, '/') = 0;
	*strrchr(self_path, '/') = 0;
	snprintf(cli, sizeof(cli), "%s/bin/vhostctl", self_path);
	ASSERT_EQ(0, access(cli, X_OK)) TH_LOG("%s", cli);
	vs_unique_name(name, sizeof(name), "vdc");
	vd = new_loop(name, l, mac);
	ASSERT_NE(NULL, vd) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, pthread_create(&t, NULL, serve, vd));
	snprintf(cmd, sizeof(cmd), "%s vdpa add name %s mgmtdev vduse", cli, name);
	EXPECT_EQ(0, system(cmd)) TH_LOG("%s", cmd);
	snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s", name);
	EXPECT_EQ(0, access(path, F_OK));
	snprintf(cmd, sizeof(cmd),
		 "%s -j vdpa show %s | grep -q '\"mgmtdev\": *\"vduse\"' && "
		 "%s -j vdpa show %s | grep -q '\"type\": *\"network\"' && "
		 "%s -j vdpa show %s | grep -q '\"max_vq_size\": *256'",
		 cli, name, cli, name, cli, name);
	EXPECT_EQ(0, system(cmd)) TH_LOG("%s", cmd);
	snprintf(cmd, sizeof(cmd), "%s vdpa del %s", cli, name);
	EXPECT_EQ(0, system(cmd)) TH_LOG("%s", cmd);
	EXPECT_NE(0, access(path, F_OK));
	vhostctl_vduse_stop(vd);
	pthread_join(t, NULL);
	vhostctl_vduse_free(vd);
	free(l);
}

/* Descriptions the library or VDUSE refuses, each without a trace left. */
TEST(bad_descriptions)
{
	struct loop l;
	char name[32];
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_opts, o, .device_id = 1, .num_queues = 2,
			   .queue = loop_queue, .ctx = &l);

	ASSERT_EQ(0, load_drivers());
	vs_unique_name(name, sizeof(name), "vdb");
	o.name = name;
	o.device_id = 99;		/* VDUSE takes net and block only */
	EXPECT_EQ(NULL, vhostctl_vduse_new(&o));
	EXPECT_EQ(EINVAL, errno);
	o.device_id = 1;
	o.no_features = 1ULL << 33;	/* VDUSE requires ACCESS_PLATFORM */
	EXPECT_EQ(NULL, vhostctl_vduse_new(&o));
	EXPECT_EQ(EINVAL, errno);
	o.no_features = 0;
	o.queue_size = 100;		/* not a power of two */
	EXPECT_EQ(NULL, vhostctl_vduse_new(&o));
	EXPECT_EQ(EINVAL, errno);
	o.queue_size = 0;
	o.num_queues = 0;
	EXPECT_EQ(NULL, vhostctl_vduse_new(&o));
	EXPECT_EQ(EINVAL, errno);
	o.num_queues = 2;
	o.name = "a/b";
	EXPECT_EQ(NULL, vhostctl_vduse_new(&o));
	EXPECT_EQ(EINVAL, errno);
	o.name = name;
	o.config_len = 4096;		/* beyond a config space */
	EXPECT_EQ(NULL, vhostctl_vduse_new(&o));
	EXPECT_EQ(EINVAL, errno);
	o.config_len = 0;
	/* nothing was left behind: the name is free */
	{
		struct vhostctl_vduse *vd = vhostctl_vduse_new(&o);
		char path[128];

		ASSERT_NE(NULL, vd) TH_LOG("%s", strerror(errno));
		snprintf(path, sizeof(path), "/dev/vduse/%s", name);
		EXPECT_EQ(0, access(path, F_OK));
		vhostctl_vduse_free(vd);
		EXPECT_NE(0, access(path, F_OK));
	}
	EXPECT_FALSE(vduse_kernel_bugs());
}

/*
 * The serving process is killed while its device is bound to virtio_vdpa:
 * the kernel keeps the VDUSE device (and the vDPA device) and its requests
 * wait for a new server until msg_timeout.  Deleting the vDPA device then
 * completes (the reset times out), and a new process takes the name over
 * with VHOSTCTL_VDUSE_F_REPLACE.
 */
TEST(process_killed)
{
	struct vhostctl_vdpa *nl;
	char name[32], path[128], ifname[IFNAMSIZ];
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	int ready[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, load_drivers());
	nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, nl);
	vs_unique_name(name, sizeof(name), "vdk");
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct loop *l = calloc(1, sizeof(*l));
		struct vhostctl_vduse *vd = l ? new_loop(name, l, mac) : NULL;

		if (!vd)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		vhostctl_vduse_run(vd);
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	snprintf(path, sizeof(path), "/sys/class/vduse/%s/msg_timeout", name);
	ASSERT_EQ(0, vs_write_file(path, "2"));
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(nl, name, "vduse", NULL))
		TH_LOG("%s", vhostctl_vdpa_error(nl));
	ASSERT_EQ(0, vs_bind(name, "virtio_vdpa"));
	ASSERT_EQ(0, vduse_virtio_child(name, "net", ifname, sizeof(ifname)));
	ASSERT_EQ(0, vduse_if_up(ifname));

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* the kernel keeps the device: its node is still there */
	snprintf(path, sizeof(path), "/dev/vduse/%s", name);
	EXPECT_EQ(0, access(path, F_OK));
	/* deleting it waits at most msg_timeout for the dead server's answer */
	EXPECT_EQ(0, vhostctl_vdpa_dev_del(nl, name));
	{
		struct loop *l = calloc(1, sizeof(*l));
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_opts, o, .name = name, .device_id = 1,
				   .num_queues = 2, .queue = loop_queue, .ctx = l);
		struct vhostctl_vduse *vd;

		/* without REPLACE the stale name is taken */
		EXPECT_EQ(NULL, vhostctl_vduse_new(&o));
		EXPECT_EQ(EEXIST, errno);
		o.flags = VHOSTCTL_VDUSE_F_REPLACE;
		vd = vhostctl_vduse_new(&o);
		EXPECT_NE(NULL, vd) TH_LOG("replace: %s", strerror(errno));
		vhostctl_vduse_free(vd);
		free(l);
	}
	EXPECT_NE(0, access(path, F_OK));
	vhostctl_vdpa_close(nl);
	EXPECT_FALSE(vduse_kernel_bugs());
}

TEST_HARNESS_MAIN
