// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim bound to virtio_vdpa, driven by the kernel's own virtio-net
 * and virtio-blk drivers, over packed and split rings: frames sent to the
 * interface's own MAC come back, the vendor counters match, the control
 * queue sets the MAC and the queue pairs; the disk has the requested size
 * and O_DIRECT data reads back identical.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/ethtool.h>
#include <linux/fs.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>

/* the harness compares int literals with unsigned values */
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"
#include "vdpa_sim_helpers.h"
#include "vduse.h"

#define ETH_P_TEST	0x88b5
#define NPAIRS		2

FIXTURE(vnet)
{
	struct vhostctl_vdpa *nl;
	char name[32];
	char ifname[IFNAMSIZ];
	int ifindex;
	uint8_t mac[6];
	int sock;
};

FIXTURE_VARIANT(vnet)
{
	bool split;
};

FIXTURE_VARIANT_ADD(vnet, packed)
{
	.split = false,
};

FIXTURE_VARIANT_ADD(vnet, split)
{
	.split = true,
};

/* The kernel drivers under test are modules: load them once. */
static int load_drivers(void)
{
	return system("modprobe -q -a vdpa virtio_vdpa virtio_net virtio_blk vhostctl_sim");
}

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, req, ifr);
	close(fd);
	return ret;
}

FIXTURE_SETUP(vnet)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o,
			   .set = VHOSTCTL_VDPA_ADD_MAC | VHOSTCTL_VDPA_ADD_MAX_VQP |
				  (variant->split ? VHOSTCTL_VDPA_ADD_FEATURES : 0),
			   .max_vq_pairs = NPAIRS,
			   .device_features = VS_NET_SPLIT_FEATURES);
	struct sockaddr_ll sll = { 0 };
	struct timeval tv = { 0, 300000 };
	char path[128];
	int i;

	self->sock = -1;
	ASSERT_EQ(0, load_drivers());
	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	vs_unique_name(self->name, sizeof(self->name), "vn");
	self->mac[0] = 0x02;
	for (i = 1; i < 6; i++)
		self->mac[i] = rand();
	memcpy(o.mac, self->mac, 6);
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, "vhostctl_sim_net", &o))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, vs_bind(self->name, "virtio_vdpa"));
	ASSERT_EQ(0, vduse_virtio_child(self->name, "net", self->ifname,
				  sizeof(self->ifname)));
	self->ifindex = if_nametoindex(self->ifname);
	ASSERT_LT(0, self->ifindex);
	/* no IPv6 chatter: the counters must only see the test's frames */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 self->ifname);
	vs_write_file(path, "1");
	ASSERT_EQ(0, vduse_if_up(self->ifname));

	self->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_TEST));
	ASSERT_LE(0, self->sock);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_TEST);
	sll.sll_ifindex = self->ifindex;
	ASSERT_EQ(0, bind(self->sock, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, setsockopt(self->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
}

FIXTURE_TEARDOWN(vnet)
{
	vs_param("drop_every", "0");
	vs_param("delay_us", "0");
	if (self->sock >= 0)
		close(self->sock);
	vhostctl_vdpa_dev_del(self->nl, self->name);
	vhostctl_vdpa_close(self->nl);
}

/* Sends n frames to dst; returns how many came back on the interface. */
static int send_recv(FIXTURE_DATA(vnet) *self, const uint8_t *dst, int n)
{
	uint8_t f[128], r[2048];
	int i, got = 0;

	for (i = 0; i < n; i++) {
		memcpy(f, dst, 6);
		memcpy(f + 6, self->mac, 6);
		f[12] = ETH_P_TEST >> 8;
		f[13] = ETH_P_TEST & 0xff;
		memset(f + 14, i, sizeof(f) - 14);
		if (send(self->sock, f, sizeof(f), 0) != sizeof(f))
			return -errno;
	}
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(self->sock, r, sizeof(r), 0,
				       (struct sockaddr *)&from, &fl);

		if (len < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (len == sizeof(f) && !memcmp(r, dst, 6) &&
		    !memcmp(r + 6, self->mac, 6))
			got++;
	}
	return got;
}

static uint64_t sum_stat(struct __test_metadata *_metadata,
			 FIXTURE_DATA(vnet) *self, int first, const char *stat)
{
	uint64_t v = 0, sum = 0;
	int q;

	for (q = first; q < 2 * NPAIRS; q += 2) {
		EXPECT_EQ(0, vs_vstat(self->nl, self->name, q, stat, &v))
			TH_LOG("vstats %s q%d: %s", stat, q, vhostctl_vdpa_error(self->nl));
		sum += v;
	}
	return sum;
}

TEST_F(vnet, loopback_and_counters)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);

	EXPECT_EQ(40, send_recv(self, self->mac, 40));
	EXPECT_EQ(40, sum_stat(_metadata, self, 1, "tx packets"));
	EXPECT_EQ(40, sum_stat(_metadata, self, 0, "rx packets"));
	/* frames are 128 bytes; the virtio-net header is not counted */
	EXPECT_EQ(40 * 128, sum_stat(_metadata, self, 0, "rx bytes"));
	EXPECT_EQ(0, sum_stat(_metadata, self, 0, "rx errors"));

	/* broadcast passes the filter, another unicast address does not */
	{
		uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x99 };

		EXPECT_EQ(5, send_recv(self, bcast, 5));
		EXPECT_EQ(0, send_recv(self, other, 5));
		EXPECT_EQ(5, sum_stat(_metadata, self, 0, "rx drops"));
	}

	ASSERT_EQ(0, vhostctl_vdpa_dev_config(self->nl, self->name, &c));
	EXPECT_EQ(0, memcmp(c.mac, self->mac, 6));
	EXPECT_EQ(!variant->split, !!(c.negotiated_features & (1ULL << VS_F_RING_PACKED)));
}

TEST_F(vnet, drop_every)
{
	ASSERT_EQ(0, vs_param("drop_every", "4"));
	EXPECT_EQ(15, send_recv(self, self->mac, 20));
	EXPECT_EQ(5, sum_stat(_metadata, self, 1, "tx drops"));
	ASSERT_EQ(0, vs_param("drop_every", "0"));
	EXPECT_EQ(8, send_recv(self, self->mac, 8));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F(vnet, delay_completions)
{
	double t;

	ASSERT_EQ(0, vs_param("delay_us", "250000"));
	t = now();
	EXPECT_EQ(1, send_recv(self, self->mac, 1));
	/* send_recv waits 0.3 s after the last frame: subtract it */
	EXPECT_LE(0.25, now() - t - 0.3);
	ASSERT_EQ(0, vs_param("delay_us", "0"));
	t = now();
	EXPECT_EQ(1, send_recv(self, self->mac, 1));
	EXPECT_GT(0.25, now() - t - 0.3);
}

TEST_F(vnet, cvq_mac_and_pairs)
{
	uint8_t newmac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	uint64_t before, after;
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);

	ASSERT_EQ(0, vs_vstat(self->nl, self->name, 2 * NPAIRS,
			      "cvq successes", &before))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));

	/* virtio-net sends MAC_ADDR_SET on the control queue */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", self->ifname);
	ifr.ifr_hwaddr.sa_family = 1;	/* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, newmac, 6);
	ASSERT_EQ(0, if_ioctl(SIOCSIFHWADDR, &ifr)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, vhostctl_vdpa_dev_config(self->nl, self->name, &c));
	EXPECT_EQ(0, memcmp(c.mac, newmac, 6));
	memcpy(self->mac, newmac, 6);
	EXPECT_EQ(6, send_recv(self, self->mac, 6));

	/* and MQ_VQ_PAIRS_SET when the channel count changes */
	ifr.ifr_data = (void *)&ch;
	ASSERT_EQ(0, if_ioctl(SIOCETHTOOL, &ifr));
	EXPECT_EQ(NPAIRS, ch.max_combined);
	ch.cmd = ETHTOOL_SCHANNELS;
	ch.combined_count = 1;
	ASSERT_EQ(0, if_ioctl(SIOCETHTOOL, &ifr)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(6, send_recv(self, self->mac, 6));

	ASSERT_EQ(0, vs_vstat(self->nl, self->name, 2 * NPAIRS,
			      "cvq successes", &after));
	EXPECT_LE(before + 2, after);
	ASSERT_EQ(0, vs_vstat(self->nl, self->name, 2 * NPAIRS,
			      "cvq errors", &after));
	EXPECT_EQ(0, after);
}

TEST_F(vnet, dev_set_mac)
{
	uint8_t mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);

	ASSERT_EQ(0, vhostctl_vdpa_dev_set_mac(self->nl, self->name, mac))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, vhostctl_vdpa_dev_config(self->nl, self->name, &c));
	EXPECT_EQ(0, memcmp(c.mac, mac, 6));
	/* the filter follows the device's MAC, not the driver's */
	EXPECT_EQ(0, send_recv(self, self->mac, 3));
	/* the vdpa core refuses it before the device sees it */
	EXPECT_EQ(-EOPNOTSUPP, vhostctl_vdpa_dev_set_mac(self->nl, self->name, mcast));
	EXPECT_NE(NULL, strstr(vhostctl_vdpa_error(self->nl), "Invalid MAC address"));
	ASSERT_EQ(0, vhostctl_vdpa_dev_set_mac(self->nl, self->name, self->mac));
	EXPECT_EQ(3, send_recv(self, self->mac, 3));
}

FIXTURE(vblk)
{
	struct vhostctl_vdpa *nl;
	char name[32];
	char disk[32];
	int fd;
};

FIXTURE_VARIANT(vblk)
{
	bool split;
};

FIXTURE_VARIANT_ADD(vblk, packed)
{
	.split = false,
};

FIXTURE_VARIANT_ADD(vblk, split)
{
	.split = true,
};

#define BLK_MB	8

FIXTURE_SETUP(vblk)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o,
			   .set = variant->split ? VHOSTCTL_VDPA_ADD_FEATURES : 0,
			   .device_features = VS_BLK_SPLIT_FEATURES);
	char path[64];

	self->fd = -1;
	ASSERT_EQ(0, load_drivers());
	self->nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, self->nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	vs_unique_name(self->name, sizeof(self->name), "vb");
	ASSERT_EQ(0, vs_param("capacity_mb", "8"));
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(self->nl, self->name, "vhostctl_sim_blk", &o))
		TH_LOG("%s", vhostctl_vdpa_error(self->nl));
	ASSERT_EQ(0, vs_param("capacity_mb", "64"));
	ASSERT_EQ(0, vs_bind(self->name, "virtio_vdpa"));
	ASSERT_EQ(0, vduse_virtio_child(self->name, "block", self->disk,
				  sizeof(self->disk)));
	snprintf(path, sizeof(path), "/dev/%s", self->disk);
	self->fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", path, strerror(errno));
}

FIXTURE_TEARDOWN(vblk)
{
	if (self->fd >= 0)
		close(self->fd);
	vhostctl_vdpa_dev_del(self->nl, self->name);
	vhostctl_vdpa_close(self->nl);
}

static long read_sys_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return r > 0 ? strtol(buf, NULL, 0) : -1;
}

TEST_F(vblk, capacity_and_id)
{
	char path[96], serial[32] = "";
	uint64_t bytes = 0;
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/size", self->disk);
	EXPECT_EQ(BLK_MB * 2048, read_sys_long(path));
	ASSERT_EQ(0, ioctl(self->fd, BLKGETSIZE64, &bytes));
	EXPECT_EQ((uint64_t)BLK_MB << 20, bytes);
	snprintf(path, sizeof(path), "/sys/block/%s/serial", self->disk);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_LT(0, read(fd, serial, sizeof(serial) - 1));
	close(fd);
	EXPECT_EQ(0, strncmp(serial, "vhostctl_sim", 12));
	ASSERT_EQ(0, vhostctl_vdpa_dev_config(self->nl, self->name, &c));
	EXPECT_EQ(BLK_MB * 2048, c.capacity);
	EXPECT_EQ(!variant->split, !!(c.negotiated_features & (1ULL << VS_F_RING_PACKED)));
}

TEST_F(vblk, direct_io_pattern)
{
	const size_t len = 1 << 20;
	uint8_t *w, *r;
	char path[64];
	size_t i;

	ASSERT_EQ(0, posix_memalign((void **)&w, 4096, len));
	ASSERT_EQ(0, posix_memalign((void **)&r, 4096, len));
	for (i = 0; i < len; i++)
		w[i] = (i * 2654435761u) >> 13;
	ASSERT_EQ(len, pwrite(self->fd, w, len, 3 << 20));
	ASSERT_EQ(0, fsync(self->fd));
	close(self->fd);
	ASSERT_EQ(0, vs_write_file("/proc/sys/vm/drop_caches", "3"));
	snprintf(path, sizeof(path), "/dev/%s", self->disk);
	self->fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	memset(r, 0, len);
	ASSERT_EQ(len, pread(self->fd, r, len, 3 << 20));
	EXPECT_EQ(0, memcmp(w, r, len));
	/* the last sector, and nothing past it */
	EXPECT_EQ(4096, pwrite(self->fd, w, 4096, (BLK_MB << 20) - 4096));
	EXPECT_EQ(0, pread(self->fd, r, 4096, BLK_MB << 20));
	free(w);
	free(r);
}

TEST_F(vblk, discard_and_write_zeroes)
{
	uint64_t range[2] = { 1 << 20, 1 << 20 };
	uint8_t *b;
	size_t i;

	ASSERT_EQ(0, posix_memalign((void **)&b, 4096, 1 << 20));
	memset(b, 0xa5, 1 << 20);
	ASSERT_EQ(1 << 20, pwrite(self->fd, b, 1 << 20, 1 << 20));
	ASSERT_EQ(0, ioctl(self->fd, BLKDISCARD, range)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(1 << 20, pread(self->fd, b, 1 << 20, 1 << 20));
	for (i = 0; i < (1 << 20) && !b[i]; i++)
		;
	EXPECT_EQ(1 << 20, i);
	memset(b, 0x5a, 1 << 20);
	ASSERT_EQ(1 << 20, pwrite(self->fd, b, 1 << 20, 1 << 20));
	ASSERT_EQ(0, ioctl(self->fd, BLKZEROOUT, range)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(1 << 20, pread(self->fd, b, 1 << 20, 1 << 20));
	for (i = 0; i < (1 << 20) && !b[i]; i++)
		;
	EXPECT_EQ(1 << 20, i);
	free(b);
}

/* device_features provisioning: a subset, or -EINVAL */
TEST(provisioning)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o, .set = VHOSTCTL_VDPA_ADD_FEATURES);
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c);
	struct vhostctl_vdpa *nl;
	char name[32];

	ASSERT_EQ(0, load_drivers());
	nl = vhostctl_vdpa_open();
	ASSERT_NE(NULL, nl) TH_LOG("vdpa netlink: %s", strerror(errno));
	vs_unique_name(name, sizeof(name), "vp");

	/* GUEST_CSUM (bit 1) is a net feature the device does not offer */
	o.device_features = VS_NET_SPLIT_FEATURES | (1ULL << 1);
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_dev_add(nl, name, "vhostctl_sim_net", &o));
	/* every access goes through the IOTLB: ACCESS_PLATFORM is required */
	o.device_features = VS_NET_SPLIT_FEATURES & ~(1ULL << VS_F_ACCESS_PLATFORM);
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_dev_add(nl, name, "vhostctl_sim_net", &o));
	/* an MTU without the MTU feature: refused by the vdpa core */
	o.device_features = VS_NET_SPLIT_FEATURES & ~(1ULL << VS_NET_F_MTU);
	o.set |= VHOSTCTL_VDPA_ADD_MTU;
	o.mtu = 1400;
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_dev_add(nl, name, "vhostctl_sim_net", &o));
	EXPECT_NE(NULL, strstr(vhostctl_vdpa_error(nl), "Missing features"));
	o.set &= ~VHOSTCTL_VDPA_ADD_MTU;
	o.mtu = 0;

	/* a subset is what the device then offers */
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(nl, name, "vhostctl_sim_net", &o))
		TH_LOG("%s", vhostctl_vdpa_error(nl));
	ASSERT_EQ(0, vhostctl_vdpa_dev_config(nl, name, &c));
	EXPECT_EQ(VS_NET_SPLIT_FEATURES & ~(1ULL << VS_NET_F_MTU), c.device_features);
	EXPECT_EQ(0, vhostctl_vdpa_dev_del(nl, name));

	o.device_features = VS_BLK_SPLIT_FEATURES | (1ULL << 5);	/* BLK_F_RO */
	EXPECT_EQ(-EINVAL, vhostctl_vdpa_dev_add(nl, name, "vhostctl_sim_blk", &o));
	o.device_features = VS_BLK_SPLIT_FEATURES;
	ASSERT_EQ(0, vhostctl_vdpa_dev_add(nl, name, "vhostctl_sim_blk", &o))
		TH_LOG("%s", vhostctl_vdpa_error(nl));
	ASSERT_EQ(0, vhostctl_vdpa_dev_config(nl, name, &c));
	EXPECT_EQ(VS_BLK_SPLIT_FEATURES, c.device_features);
	EXPECT_EQ(0, vhostctl_vdpa_dev_del(nl, name));
	vhostctl_vdpa_close(nl);
}

TEST_HARNESS_MAIN
