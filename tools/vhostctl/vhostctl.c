// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl: set up and inspect vhost devices by hand.
 *
 *   vhostctl [OPTIONS] OBJECT COMMAND [ARGS]
 *
 * iproute2 grammar: exact keywords, text or JSON from the same print calls,
 * one error line on stderr, non-zero exit on any failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"

struct feature_name {
	unsigned int bit;
	const char *name;
};

/* Transport and ring features, valid for every device type. */
static const struct feature_name common_features[] = {
	{ 24, "NOTIFY_ON_EMPTY" }, { 26, "LOG_ALL" },	{ 27, "ANY_LAYOUT" },
	{ 28, "INDIRECT_DESC" },   { 29, "EVENT_IDX" },	{ 30, "PROTOCOL_FEATURES" },
	{ 32, "VERSION_1" },	   { 33, "ACCESS_PLATFORM" }, { 34, "RING_PACKED" },
	{ 35, "IN_ORDER" },	   { 36, "ORDER_PLATFORM" }, { 37, "SR_IOV" },
	{ 38, "NOTIFICATION_DATA" }, { 39, "NOTIF_CONFIG_DATA" }, { 40, "RING_RESET" },
	{ 0, NULL },
};

static const struct feature_name net_features[] = {
	{ 0, "CSUM" },	       { 1, "GUEST_CSUM" }, { 2, "CTRL_GUEST_OFFLOADS" },
	{ 3, "MTU" },	       { 5, "MAC" },	    { 7, "GUEST_TSO4" },
	{ 8, "GUEST_TSO6" },   { 9, "GUEST_ECN" },  { 10, "GUEST_UFO" },
	{ 11, "HOST_TSO4" },   { 12, "HOST_TSO6" }, { 13, "HOST_ECN" },
	{ 14, "HOST_UFO" },    { 15, "MRG_RXBUF" }, { 16, "STATUS" },
	{ 17, "CTRL_VQ" },     { 18, "CTRL_RX" },   { 19, "CTRL_VLAN" },
	{ 21, "GUEST_ANNOUNCE" }, { 22, "MQ" },	    { 23, "CTRL_MAC_ADDR" },
	{ 0, NULL },
};

static const struct feature_name blk_features[] = {
	{ 1, "SIZE_MAX" }, { 2, "SEG_MAX" },	  { 4, "GEOMETRY" },	 { 5, "RO" },
	{ 6, "BLK_SIZE" }, { 9, "FLUSH" },	  { 10, "TOPOLOGY" },	 { 11, "CONFIG_WCE" },
	{ 12, "MQ" },	   { 13, "DISCARD" },	  { 14, "WRITE_ZEROES" }, { 15, "LIFETIME" },
	{ 16, "SECURE_ERASE" }, { 17, "ZONED" }, { 0, NULL },
};

static const struct feature_name vsock_features[] = {
	{ 0, "STREAM" }, { 1, "SEQPACKET" }, { 0, NULL },
};

static const char *lookup(const struct feature_name *t, unsigned int bit)
{
	for (; t && t->name; t++)
		if (t->bit == bit)
			return t->name;
	return NULL;
}

/* Virtio device id of a vhost character device, from its name. */
static unsigned int path_device_id(const char *path)
{
	if (strstr(path, "vhost-net"))
		return 1;
	if (strstr(path, "vhost-vsock"))
		return 19;
	return 0;
}

void print_features(const char *name, uint64_t f, unsigned int dev_id)
{
	const struct feature_name *dev = dev_id == 1 ? net_features :
					 dev_id == 2 ? blk_features :
					 dev_id == 19 ? vsock_features : NULL;
	char buf[16];

	print_open_array(name);
	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *n;

		if (!(f & (1ULL << bit)))
			continue;
		n = bit < 24 || bit > 40 ? lookup(dev, bit) : lookup(common_features, bit);
		if (!n) {
			snprintf(buf, sizeof(buf), "bit_%u", bit);
			n = buf;
		}
		print_string(NULL, "%s ", n);
	}
	print_close_array();
}

static const char *transport_name(enum vhostctl_transport t)
{
	switch (t) {
	case VHOSTCTL_TRANSPORT_KERNEL:
		return "kernel";
	case VHOSTCTL_TRANSPORT_VDPA:
		return "vdpa";
	case VHOSTCTL_TRANSPORT_USER:
		return "vhost-user";
	}
	return "unknown";
}

static const struct feature_name backend_features[] = {
	{ 1, "IOTLB_MSG_V2" }, { 2, "IOTLB_BATCH" },	{ 3, "IOTLB_ASID" },
	{ 4, "SUSPEND" },      { 5, "RESUME" },		{ 6, "ENABLE_AFTER_DRIVER_OK" },
	{ 7, "DESC_ASID" },    { 8, "IOTLB_PERSIST" },	{ 0, NULL },
};

static void print_backend_features(const char *name, uint64_t f)
{
	char buf[16];

	print_open_array(name);
	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *n;

		if (!(f & (1ULL << bit)))
			continue;
		n = lookup(backend_features, bit);
		if (!n) {
			snprintf(buf, sizeof(buf), "bit_%u", bit);
			n = buf;
		}
		print_string(NULL, "%s ", n);
	}
	print_close_array();
}

static const char *class_name(uint32_t id)
{
	switch (id) {
	case 1:
		return "net";
	case 2:
		return "block";
	case 19:
		return "vsock";
	}
	return "unknown";
}

/* Little-endian fields of the config space (VERSION_1 devices). */
static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The config fields the offered features say are there. */
static void print_vdpa_config(struct vhostctl_dev *dev, uint32_t id, uint64_t f)
{
	uint8_t c[64] = { 0 };
	uint32_t size = 0;
	char mac[18];

	if (vhostctl_dev_vdpa_config_size(dev, &size) < 0 || !size)
		return;
	/* What the device says is untrusted: read no more than we decode. */
	if (size > sizeof(c))
		size = sizeof(c);
	if (vhostctl_dev_get_config(dev, 0, c, size) < 0)
		return;
	print_open_object("config");
	if (id == 1) {
		if (f & (1ULL << 5) && size >= 6) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", c[0], c[1],
				 c[2], c[3], c[4], c[5]);
			print_string("mac", "mac %s ", mac);
		}
		if (f & (1ULL << 16) && size >= 8) {
			print_string("link", "link %s ", le(c + 6, 2) & 1 ? "up" : "down");
			print_bool("link_announce", "link_announce %s ", le(c + 6, 2) & 2);
		}
		if (f & (1ULL << 22) && size >= 10)
			print_u64("max_vq_pairs", NULL, le(c + 8, 2));
		if (f & (1ULL << 3) && size >= 12)
			print_u64("mtu", NULL, le(c + 10, 2));
	} else if (id == 2) {
		if (size >= 8)
			print_u64("capacity", NULL, le(c, 8));
		if (f & (1ULL << 1) && size >= 12)
			print_u64("size_max", NULL, le(c + 8, 4));
		if (f & (1ULL << 2) && size >= 16)
			print_u64("seg_max", NULL, le(c + 12, 4));
		if (f & (1ULL << 6) && size >= 24)
			print_u64("blk_size", NULL, le(c + 20, 4));
	}
	print_close_object();
}

/* What only a vDPA device tells: class, config, queues, groups, IOVA window. */
static void print_vdpa(struct vhostctl_dev *dev, uint64_t f)
{
	struct vhostctl_vdpa_iova_range rg;
	uint32_t id = 0, n = 0, vqs = 0;
	uint16_t num_max = 0, size;
	uint64_t bf;
	bool owner;

	if (vhostctl_dev_vdpa_device_id(dev, &id) == 0) {
		print_u64("device_id", NULL, id);
		print_string("class", NULL, class_name(id));
	}
	print_features("feature_names", f, id);
	print_vdpa_config(dev, id, f);
	if (vhostctl_dev_vdpa_vring_num_max(dev, &num_max) == 0)
		print_u64("vq_size_max", NULL, num_max);
	if (vhostctl_dev_vdpa_vq_count(dev, &vqs) == 0) {
		print_u64("vqs", NULL, vqs);
		/* Per-queue sizes need an owner; ours ends with the handle. */
		owner = vhostctl_dev_set_owner(dev) == 0;
		print_open_array("vq_sizes");
		for (uint32_t i = 0; owner && i < vqs && i < 1024; i++) {
			if (vhostctl_dev_vdpa_vring_size(dev, i, &size) < 0)
				size = num_max;
			print_u64(NULL, "%llu ", size);
		}
		print_close_array();
	}
	if (vhostctl_dev_vdpa_group_count(dev, &n) == 0)
		print_u64("groups", NULL, n);
	if (vhostctl_dev_vdpa_asid_count(dev, &n) == 0)
		print_u64("asids", NULL, n);
	if (vhostctl_dev_vdpa_iova_range(dev, &rg) == 0) {
		print_hex("iova_first", NULL, rg.first);
		print_hex("iova_last", NULL, rg.last);
	}
	if (vhostctl_dev_get_backend_features(dev, &bf) == 0) {
		print_hex("backend_features", NULL, bf);
		print_backend_features("backend_feature_names", bf);
	}
}

static int dev_show(int argc, char **argv)
{
	int ret = 0;

	if (argc < 1) {
		fprintf(stderr, "Device path is expected.\n");
		return -EINVAL;
	}
	print_open_object("dev");
	for (int i = 0; i < argc; i++) {
		struct vhostctl_dev *dev = NULL;
		uint64_t f;
		int r;

		if (!strncmp(argv[i], "unix:", 5)) {
			r = user_show(argv[i]);
			if (r)
				ret = r;
			continue;
		}
		dev = vhostctl_dev_open(argv[i], NULL);
		if (!dev) {
			r = -errno;
			fprintf(stderr, "Error: %s: %s\n", argv[i], strerror(errno));
			ret = r;
			continue;
		}
		r = vhostctl_dev_get_features(dev, &f);
		if (r < 0) {
			fprintf(stderr, "Error: %s: cannot read features: %s\n", argv[i],
				strerror(-r));
			vhostctl_dev_close(dev);
			ret = r;
			continue;
		}
		print_open_object(argv[i]);
		print_text("%s: ", argv[i]);
		print_string("transport", NULL, transport_name(vhostctl_dev_transport(dev)));
		print_hex("features", NULL, f);
		if (vhostctl_dev_transport(dev) == VHOSTCTL_TRANSPORT_VDPA)
			print_vdpa(dev, f);
		else
			print_features("feature_names", f, path_device_id(argv[i]));
		print_close_object();
		print_nl();
		vhostctl_dev_close(dev);
	}
	print_close_object();
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vhostctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
		"where  OBJECT := { dev | mgmtdev | vdpa | user | vduse }\n"
		"       OPTIONS := { -V[ersion] | -j[son] | -p[retty] | -b[atch] FILE | -f[orce] }\n"
		"\n"
		"       vhostctl dev show DEV...   (vhost-net, vhost-vsock, vhost-vdpa-N, unix:PATH)\n"
		"       vhostctl dev up PATH [ queues N ] [ size N ] [ packed ] [ event_idx ]\n"
		"                        [ mem SIZE ] [ tap IFNAME ] [ cid N ] [ traffic loop|none ]\n"
		"                        [ count N ] [ duration SECS ]\n"
		"       vhostctl mgmtdev show [ [BUS/]NAME ]\n"
		"       vhostctl vdpa show [ NAME ]\n"
		"       vhostctl vdpa add name NAME mgmtdev [BUS/]NAME [ mac MAC ] [ mtu N ]\n"
		"                         [ max_vqp N ] [ device_features HEX ]\n"
		"       vhostctl vdpa del NAME\n"
		"       vhostctl vdpa set name NAME mac MAC\n"
		"       vhostctl vdpa config show [ NAME ]\n"
		"       vhostctl vdpa vstats show NAME [ qidx N ]\n"
		"       vhostctl user serve { net | blk } unix:PATH [ queues N ] [ listen | connect ] ...\n"
		"       vhostctl user probe unix:PATH\n"
		"       vhostctl vduse serve blk name NAME { file IMAGE | size BYTES } [ readonly ] ...\n"
		"       vhostctl vduse serve net name NAME [ mac MAC ] [ queues N ] ...\n");
}

int cmd_dev(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? -EINVAL : 0;
	}
	if (!strcmp(argv[0], "show"))
		return dev_show(argc - 1, argv + 1);
	if (!strcmp(argv[0], "up"))
		return dev_up(argc - 1, argv + 1);
	fprintf(stderr, "Command \"%s\" not found\n", argv[0]);
	return -ENOENT;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "Version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "batch", required_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, pretty = false, force = false;
	const char *batch = NULL;
	int c, r;

	/* Long options take one dash too, as iproute2's "-batch". */
	while ((c = getopt_long_only(argc, argv, "+jpVhb:f", long_opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			batch = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			pretty = true;
			break;
		case 'V':
			printf("vhostctl %s\n", vhostctl_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	argc -= optind;
	argv += optind;
	if (batch) {
		if (argc) {
			fprintf(stderr, "-batch takes no object: \"%s\"\n", argv[0]);
			return 1;
		}
		return batch_run(batch, force, json, pretty);
	}
	if (argc < 1 || !strcmp(argv[0], "help")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1;
	}
	int (*cmd)(int argc, char **argv);

	if (matches(argv[0], "dev")) {
		cmd = cmd_dev;
	} else if (matches(argv[0], "mgmtdev")) {
		cmd = cmd_mgmtdev;
	} else if (matches(argv[0], "vdpa")) {
		cmd = cmd_vdpa;
	} else if (matches(argv[0], "user")) {
		cmd = cmd_user;
	} else if (matches(argv[0], "vduse")) {
		cmd = cmd_vduse;
	} else {
		fprintf(stderr, "Object \"%s\" is unknown, try \"vhostctl help\".\n", argv[0]);
		return 1;
	}
	print_init(json, pretty);
	r = cmd(argc - 1, argv + 1);
	print_finish();
	return r < 0;
}
