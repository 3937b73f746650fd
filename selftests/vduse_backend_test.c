// SPDX-License-Identifier: GPL-2.0-only
/*
 * One device, two transports: the vhost-user backend's ready-made devices
 * (vhostctl_vu_net_new(), vhostctl_vu_blk_new()), unchanged, served over
 * VDUSE with vhostctl_vduse_serve() and used by the kernel's own drivers
 * through virtio_vdpa:
 *  - net: frames sent to the interface's own MAC over AF_PACKET go through
 *    the loopback device and come back, counted by the device's own stats;
 *  - blk: a 1 MiB O_DIRECT pattern written to /dev/vdX is read back
 *    identical and is in the device's RAM disk at its offset;
 *  - refusals: no device id, a backend serving vhost-user, serving twice;
 *  - the CLI: "vhostctl vduse serve net" passes frames the same way, and
 *    exits 0 on SIGTERM with its counters and nothing left behind.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_packet.h>

#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "vdpa_sim_helpers.h"
#include "vduse.h"

#define ETH_P_TEST	0x88b5
#define DISK_SIZE	(4u << 20)
#define PATTERN_OFF	(1u << 20)
#define PATTERN_LEN	(1u << 20)

static int load_drivers(void)
{
	return system("modprobe -q -a vdpa vduse vhost_vdpa virtio_vdpa virtio_net virtio_blk");
}

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "# libvhostctl: %s\n", msg);
}

static void *serve(void *arg)
{
	vhostctl_vduse_run(arg);
	return NULL;
}

/* Brings IFNAME up and opens an AF_PACKET socket on it for the test type. */
static int test_socket(const char *ifname)
{
	struct sockaddr_ll sll = { 0 };
	struct timeval tv = { 0, 500000 };
	char path[128];
	int sock;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	vs_write_file(path, "1");
	if (vduse_if_up(ifname))
		return -1;
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_TEST));
	if (sock < 0)
		return -1;
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_TEST);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		close(sock);
		return -1;
	}
	return sock;
}

/* A backend served over VDUSE by a thread of this process, on the vdpa bus. */
struct served {
	struct vhostctl_vdpa *nl;
	struct vhostctl_vu_backend *be;
	struct vhostctl_vduse *vd;
	pthread_t thread;
	bool running, added;
	char name[32];
};

static int serve_start(struct served *s, const char *prefix)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_serve_opts, so);

	vs_unique_name(s->name, sizeof(s->name), prefix);
	so.name = s->name;
	s->vd = vhostctl_vduse_serve(s->be, &so);
	if (!s->vd)
		return -errno;
	if (pthread_create(&s->thread, NULL, serve, s->vd))
		return -EAGAIN;
	s->running = true;
	if (vhostctl_vdpa_dev_add(s->nl, s->name, "vduse", NULL))
		return -EIO;
	s->added = true;
	return vs_bind(s->name, "virtio_vdpa");
}

static void serve_end(struct served *s)
{
	if (s->added)
		vhostctl_vdpa_dev_del(s->nl, s->name);
	if (s->running) {
		vhostctl_vduse_stop(s->vd);
		pthread_join(s->thread, NULL);
	}
	vhostctl_vduse_free(s->vd);
	vhostctl_vu_backend_free(s->be);
	if (s->nl)
		vhostctl_vdpa_close(s->nl);
}

TEST(vu_net_over_vduse)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .log = log_line,
			   .mac = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 });
	struct vhostctl_vu_net_stats ns = { 0 };
	struct served s = { 0 };
	char ifname[IFNAMSIZ];
	int sock;

	ASSERT_EQ(0, load_drivers());
	s.nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, s.nl);
	no.mac[5] = (uint8_t)getpid();
	s.be = vhostctl_vu_net_new(&no);
	ASSERT_NE(NULL, s.be) TH_LOG("vu_net_new: %s", strerror(errno));
	ASSERT_EQ(0, serve_start(&s, "vun")) TH_LOG("%s", vhostctl_vdpa_error(s.nl));
	/* one backend, one transport at a time */
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_serve_opts, so, .name = "vun_again");

		EXPECT_EQ(NULL, vhostctl_vduse_serve(s.be, &so));
		EXPECT_EQ(EBUSY, errno);
	}
	ASSERT_EQ(0, vduse_virtio_child(s.name, "net", ifname, sizeof(ifname)));
	sock = test_socket(ifname);
	ASSERT_LE(0, sock);
	EXPECT_EQ(40, vduse_send_recv(sock, no.mac, 40));
	close(sock);
	/* the vhost-user device's own counters saw the frames go through it */
	ASSERT_EQ(0, vhostctl_vu_net_stats(s.be, &ns));
	EXPECT_LE(40, ns.tx_packets);
	EXPECT_EQ(ns.tx_packets, ns.rx_packets);
	EXPECT_EQ(0, ns.dropped);
	TH_LOG("tx %llu rx %llu", (unsigned long long)ns.tx_packets,
	       (unsigned long long)ns.rx_packets);
	serve_end(&s);
	EXPECT_FALSE(vduse_kernel_bugs());
}

TEST(vu_blk_over_vduse)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_blk_opts, bo, .log = log_line, .size = DISK_SIZE);
	struct served s = { 0 };
	char dev[32], path[64];
	uint64_t size = 0;
	uint8_t *disk, *wr, *rd;
	int fd;

	ASSERT_EQ(0, load_drivers());
	s.nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, s.nl);
	s.be = vhostctl_vu_blk_new(&bo);
	ASSERT_NE(NULL, s.be) TH_LOG("vu_blk_new: %s", strerror(errno));
	disk = vhostctl_vu_blk_data(s.be, &size);
	ASSERT_NE(NULL, disk);
	ASSERT_EQ(DISK_SIZE, size);
	ASSERT_EQ(0, serve_start(&s, "vub")) TH_LOG("%s", vhostctl_vdpa_error(s.nl));
	ASSERT_EQ(0, vduse_virtio_child(s.name, "block", dev, sizeof(dev)));
	snprintf(path, sizeof(path), "/dev/%s", dev);
	ASSERT_EQ(0, posix_memalign((void **)&wr, 4096, PATTERN_LEN));
	ASSERT_EQ(0, posix_memalign((void **)&rd, 4096, PATTERN_LEN));
	for (unsigned int i = 0; i < PATTERN_LEN; i++)
		wr[i] = (uint8_t)(i * 7 + i / 4096);
	memset(rd, 0, PATTERN_LEN);
	fd = -1;
	for (int tries = 0; tries < 300 && fd < 0; tries++) {
		fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (fd < 0)
			usleep(10000);
	}
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	EXPECT_EQ(PATTERN_LEN, pwrite(fd, wr, PATTERN_LEN, PATTERN_OFF));
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(PATTERN_LEN, pread(fd, rd, PATTERN_LEN, PATTERN_OFF));
	close(fd);
	EXPECT_EQ(0, memcmp(wr, rd, PATTERN_LEN));
	/* the bytes are in the vhost-user device's own disk */
	EXPECT_EQ(0, memcmp(wr, disk + PATTERN_OFF, PATTERN_LEN));
	free(wr);
	free(rd);
	serve_end(&s);
	EXPECT_FALSE(vduse_kernel_bugs());
}

static int no_queue(struct vhostctl_vu_backend *be, unsigned int index, struct vhostctl_devq *q,
		    void *ctx)
{
	(void)be;
	(void)index;
	(void)q;
	(void)ctx;
	return 0;
}

/* What vhostctl_vduse_serve() refuses, before /dev/vduse is touched. */
TEST(serve_refusals)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_backend_opts, o, .num_queues = 1,
			   .queue = no_queue);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_serve_opts, so, .name = "vur_refused");
	struct vhostctl_vu_backend *be;
	char sock[64];

	EXPECT_EQ(NULL, vhostctl_vduse_serve(NULL, &so));
	EXPECT_EQ(EINVAL, errno);
	be = vhostctl_vu_backend_new(&o);
	ASSERT_NE(NULL, be);
	EXPECT_EQ(NULL, vhostctl_vduse_serve(be, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* a device described by hand has no id VDUSE could announce */
	EXPECT_EQ(NULL, vhostctl_vduse_serve(be, &so));
	EXPECT_EQ(EINVAL, errno);
	so.device_id = 1;
	so.queue_size = 65536;
	EXPECT_EQ(NULL, vhostctl_vduse_serve(be, &so));
	EXPECT_EQ(EINVAL, errno);
	so.queue_size = 0;
	/* serving vhost-user already */
	snprintf(sock, sizeof(sock), "/tmp/vur%d.sock", (int)getpid());
	ASSERT_EQ(0, vhostctl_vu_backend_listen(be, sock));
	EXPECT_EQ(NULL, vhostctl_vduse_serve(be, &so));
	EXPECT_EQ(EBUSY, errno);
	vhostctl_vu_backend_free(be);
	EXPECT_NE(0, access(sock, F_OK));
}

/* build/selftests/vduse_backend_test -> build/bin/vhostctl */
static int cli_path(char *out, size_t len)
{
	char self_path[512];
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

	if (n <= 0)
		return -1;
	self_path[n] = 0;
	*strrchr(self_path, '/') = 0;
	*strrchr(self_path, '/') = 0;
	snprintf(out, len, "%s/bin/vhostctl", self_path);
	return access(out, X_OK);
}

/*
 * vhostctl vduse serve net: the same loopback from the command line; frames
 * come back, SIGTERM ends it with exit 0 and its counters, nothing left.
 */
TEST(cli_serve_net)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x77, 0x01 };
	char cli[600], name[32], path[128], ifname[IFNAMSIZ], out[4096];
	struct vhostctl_vdpa *nl;
	int status, sock, pipefd[2];
	ssize_t len = 0, r;
	pid_t pid;

	ASSERT_EQ(0, load_drivers());
	ASSERT_EQ(0, cli_path(cli, sizeof(cli))) TH_LOG("%s", cli);
	nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, nl);
	vs_unique_name(name, sizeof(name), "vuc");
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execl(cli, cli, "vduse", "serve", "net", "name", name, "mac", "02:00:5e:00:77:01",
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/*
	 * The node appears at VDUSE_CREATE_DEV, before the queues are set up;
	 * the kernel refuses "vdpa dev add" until then.  The daemon's
	 * "serving" line is its promise that the device is complete.
	 */
	out[0] = 0;
	while (!strstr(out, "over VDUSE") && len < (ssize_t)sizeof(out) - 1) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };

		ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no \"serving\" line: %s", out);
		r = read(pipefd[0], out + len, sizeof(out) - 1 - len);
		ASSERT_LT(0, r) TH_LOG("daemon ended: %s", out);
		len += r;
		out[len] = 0;
	}
	snprintf(path, sizeof(path), "/dev/vduse/%s", name);
	ASSERT_EQ(0, access(path, F_OK));
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(nl, name, "vduse", NULL))
		TH_LOG("%s", vhostctl_vdpa_error(nl));
	ASSERT_EQ(0, vs_bind(name, "virtio_vdpa"));
	ASSERT_EQ(0, vduse_virtio_child(name, "net", ifname, sizeof(ifname)));
	sock = test_socket(ifname);
	ASSERT_LE(0, sock);
	EXPECT_EQ(40, vduse_send_recv(sock, mac, 40));
	close(sock);
	/* SIGTERM while bound: the daemon deletes the vDPA device itself */
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	while (len < (ssize_t)sizeof(out) - 1 &&
	       (r = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += r;
	out[len > 0 ? len : 0] = 0;
	close(pipefd[0]);
	TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "SIGTERM"));
	EXPECT_NE(NULL, strstr(out, "tx_packets"));
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s", name);
	EXPECT_NE(0, access(path, F_OK));
	vhostctl_vdpa_close(nl);
	EXPECT_FALSE(vduse_kernel_bugs());
}

TEST_HARNESS_MAIN
