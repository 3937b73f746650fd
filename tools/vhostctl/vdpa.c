// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl mgmtdev / vdpa: vDPA device management through libvhostctl's
 * vdpa netlink calls.  Same grammar as iproute2's vdpa tool.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhostctl/vhostctl.h>

#include "cli.h"
#include "print.h"

static const char *class_name(unsigned int id)
{
	switch (id) {
	case 1:
		return "net";
	case 2:
		return "block";
	default:
		return NULL;
	}
}

static void print_mac(const char *name, const uint8_t *m)
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	print_string(name, NULL, buf);
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

static int parse_u(const char *s, unsigned long long max, int base, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, base);
	if (!*s || *end || errno || *v > max || s[0] == '-')
		return -EINVAL;
	return 0;
}

static struct vhostctl_vdpa *session(void)
{
	struct vhostctl_vdpa *v = vhostctl_vdpa_open();

	if (!v)
		fprintf(stderr, "Failed to connect to vdpa Netlink: %s%s\n", strerror(errno),
			errno == ENOENT ? " (is the vdpa module loaded?)" : "");
	return v;
}

/* One error line in iproute2's phrasing, with the kernel's reason. */
static int kernel_error(struct vhostctl_vdpa *v, int r)
{
	const char *why = vhostctl_vdpa_error(v);

	if (*why)
		fprintf(stderr, "Error: %s%s.\n", strncmp(why, "vdpa: ", 6) ? "vdpa: " : "", why);
	fprintf(stderr, "kernel answers: %s\n", strerror(-r));
	return r;
}

static int show_mgmtdev(void *ctx, const struct vhostctl_vdpa_mgmtdev *m)
{
	char handle[160];

	snprintf(handle, sizeof(handle), "%s%s%s", m->bus ? m->bus : "", m->bus ? "/" : "",
		 m->name);
	print_open_object(handle);
	print_text("%s: ", handle);
	print_open_array("supported_classes");
	for (unsigned int id = 0; id < 64; id++) {
		char buf[16];
		const char *n = class_name(id);

		if (!(m->supported_classes & (1ULL << id)))
			continue;
		if (!n) {
			snprintf(buf, sizeof(buf), "id_%u", id);
			n = buf;
		}
		print_string(NULL, "%s ", n);
	}
	print_close_array();
	print_u64("max_supported_vqs", NULL, m->max_vqs);
	print_hex("dev_features", NULL, m->supported_features);
	print_features("dev_feature_names", m->supported_features,
		       m->supported_classes & 2 ? 1 : m->supported_classes & 4 ? 2 : 0);
	print_close_object();
	print_nl();
	return 0;
}

int cmd_mgmtdev(int argc, char **argv)
{
	struct vhostctl_vdpa *v;
	int r;

	if (argc < 1 || !matches(argv[0], "show") || argc > 2) {
		fprintf(stderr, argc < 1 || matches(argv[0], "show") ?
				"Usage: vhostctl mgmtdev show [ [BUS/]NAME ]\n" :
				"Command \"%s\" not found\n", argc ? argv[0] : "");
		return -EINVAL;
	}
	v = session();
	if (!v)
		return -errno;
	print_open_object("mgmtdev");
	r = vhostctl_vdpa_mgmtdev_list(v, argc == 2 ? argv[1] : NULL, show_mgmtdev, NULL);
	print_close_object();
	if (r < 0)
		kernel_error(v, r);
	vhostctl_vdpa_close(v);
	return r < 0 ? r : 0;
}

static const char *type_name(uint32_t id)
{
	switch (id) {
	case 1:
		return "network";
	case 2:
		return "block";
	default:
		return "<unknown type>";
	}
}

static int show_dev(void *ctx, const struct vhostctl_vdpa_dev *d)
{
	print_open_object(d->name);
	print_text("%s: ", d->name);
	print_string("type", NULL, type_name(d->device_id));
	print_string("mgmtdev", NULL, d->mgmtdev);
	print_u64("vendor_id", NULL, d->vendor_id);
	print_u64("max_vqs", NULL, d->max_vqs);
	print_u64("max_vq_size", NULL, d->max_vq_size);
	if (d->min_vq_size)
		print_u64("min_vq_size", NULL, d->min_vq_size);
	print_close_object();
	print_nl();
	return 0;
}

static int vdpa_show(struct vhostctl_vdpa *v, int argc, char **argv)
{
	int r;

	if (argc > 1) {
		fprintf(stderr, "Usage: vhostctl vdpa show [ NAME ]\n");
		return -EINVAL;
	}
	print_open_object("vdpa");
	r = vhostctl_vdpa_dev_list(v, argc ? argv[0] : NULL, show_dev, NULL);
	print_close_object();
	return r < 0 ? kernel_error(v, r) : 0;
}

static int vdpa_add(struct vhostctl_vdpa *v, int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_dev_add_opts, o, .set = 0);
	const char *name = NULL, *mgmtdev = NULL;
	unsigned long long n;
	int r;

	for (int i = 0; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val) {
			fprintf(stderr, "Option \"%s\" needs a value\n", kw);
			return -EINVAL;
		}
		if (matches(kw, "name")) {
			name = val;
		} else if (matches(kw, "mgmtdev")) {
			mgmtdev = val;
		} else if (matches(kw, "mac")) {
			if (parse_mac(val, o.mac)) {
				fprintf(stderr, "Invalid MAC address \"%s\"\n", val);
				return -EINVAL;
			}
			o.set |= VHOSTCTL_VDPA_ADD_MAC;
		} else if (matches(kw, "mtu")) {
			if (parse_u(val, 65535, 10, &n)) {
				fprintf(stderr, "Invalid mtu \"%s\"\n", val);
				return -EINVAL;
			}
			o.mtu = (uint16_t)n;
			o.set |= VHOSTCTL_VDPA_ADD_MTU;
		} else if (matches(kw, "max_vqp")) {
			if (parse_u(val, 65535, 10, &n) || !n) {
				fprintf(stderr, "Invalid max_vqp \"%s\"\n", val);
				return -EINVAL;
			}
			o.max_vq_pairs = (uint16_t)n;
			o.set |= VHOSTCTL_VDPA_ADD_MAX_VQP;
		} else if (matches(kw, "device_features")) {
			if (parse_u(val, ~0ULL, 16, &n)) {
				fprintf(stderr, "Invalid device_features \"%s\"\n", val);
				return -EINVAL;
			}
			o.device_features = n;
			o.set |= VHOSTCTL_VDPA_ADD_FEATURES;
		} else {
			fprintf(stderr, "Unknown option \"%s\"\n", kw);
			return -EINVAL;
		}
	}
	if (!name || !mgmtdev) {
		fprintf(stderr, "Options name and mgmtdev are required\n");
		return -EINVAL;
	}
	r = vhostctl_vdpa_dev_add(v, name, mgmtdev, &o);
	return r < 0 ? kernel_error(v, r) : 0;
}

static int vdpa_set(struct vhostctl_vdpa *v, int argc, char **argv)
{
	uint8_t mac[6];
	int r;

	if (argc != 4 || !matches(argv[0], "name") || !matches(argv[2], "mac")) {
		fprintf(stderr, "Usage: vhostctl vdpa set name NAME mac MAC\n");
		return -EINVAL;
	}
	if (parse_mac(argv[3], mac)) {
		fprintf(stderr, "Invalid MAC address \"%s\"\n", argv[3]);
		return -EINVAL;
	}
	r = vhostctl_vdpa_dev_set_mac(v, argv[1], mac);
	return r < 0 ? kernel_error(v, r) : 0;
}

static int config_one(struct vhostctl_vdpa *v, const char *name)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vdpa_config, c, .present = 0);
	int r = vhostctl_vdpa_dev_config(v, name, &c);

	if (r < 0)
		return r;
	print_open_object(name);
	print_text("%s: ", name);
	if (c.present & VHOSTCTL_VDPA_CFG_MAC)
		print_mac("mac", c.mac);
	if (c.present & VHOSTCTL_VDPA_CFG_STATUS) {
		print_string("link", NULL, c.status & 1 ? "up" : "down");
		print_bool("link_announce", NULL, c.status & 2);
	}
	if (c.present & VHOSTCTL_VDPA_CFG_MAX_VQP)
		print_u64("max_vq_pairs", NULL, c.max_vq_pairs);
	if (c.present & VHOSTCTL_VDPA_CFG_MTU)
		print_u64("mtu", NULL, c.mtu);
	if (c.present & VHOSTCTL_VDPA_CFG_CAPACITY)
		print_u64("capacity", NULL, c.capacity);
	if (c.present & VHOSTCTL_VDPA_CFG_BLK_SIZE)
		print_u64("blk_size", NULL, c.blk_size);
	if (c.present & VHOSTCTL_VDPA_CFG_DEVICE_FEATURES) {
		print_hex("device_features", NULL, c.device_features);
		print_features("device_feature_names", c.device_features, c.device_id);
	}
	if (c.present & VHOSTCTL_VDPA_CFG_NEGOTIATED) {
		print_hex("negotiated_features", NULL, c.negotiated_features);
		print_features("negotiated_feature_names", c.negotiated_features, c.device_id);
	}
	print_close_object();
	print_nl();
	return 0;
}

struct names {
	char **v;
	int n;
};

static int collect(void *ctx, const struct vhostctl_vdpa_dev *d)
{
	struct names *names = ctx;
	char **v = realloc(names->v, sizeof(*v) * (size_t)(names->n + 1));

	if (!v)
		return -ENOMEM;
	names->v = v;
	v[names->n] = strdup(d->name);
	if (!v[names->n])
		return -ENOMEM;
	names->n++;
	return 0;
}

static int vdpa_config(struct vhostctl_vdpa *v, int argc, char **argv)
{
	struct names names = { 0 };
	int r = 0;

	if (argc < 1 || !matches(argv[0], "show") || argc > 2) {
		fprintf(stderr, "Usage: vhostctl vdpa config show [ NAME ]\n");
		return -EINVAL;
	}
	print_open_object("config");
	if (argc == 2) {
		r = config_one(v, argv[1]);
	} else {
		r = vhostctl_vdpa_dev_list(v, NULL, collect, &names);
		for (int i = 0; r >= 0 && i < names.n; i++) {
			r = config_one(v, names.v[i]);
			/* Classes without config attributes are left out. */
			if (r == -EOPNOTSUPP)
				r = 0;
		}
	}
	print_close_object();
	for (int i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	return r < 0 ? kernel_error(v, r) : 0;
}

static int show_stat(void *ctx, const char *name, uint64_t value)
{
	char key[64];
	size_t i;

	/* Vendor names have spaces ("rx packets"): JSON keys are snake_case. */
	for (i = 0; name[i] && i + 1 < sizeof(key); i++)
		key[i] = isalnum((unsigned char)name[i]) ? (char)tolower((unsigned char)name[i]) : '_';
	key[i] = '\0';
	print_u64(key, NULL, value);
	return 0;
}

static int dev_max_vqs(void *ctx, const struct vhostctl_vdpa_dev *d)
{
	*(uint32_t *)ctx = d->max_vqs;
	return 0;
}

struct stat_list {
	unsigned int n;
	char name[32][64];
	uint64_t value[32];
};

static int keep_stat(void *ctx, const char *name, uint64_t value)
{
	struct stat_list *l = ctx;

	/* What the kernel sends is bounded here: 32 statistics a queue. */
	if (l->n < 32) {
		snprintf(l->name[l->n], sizeof(l->name[0]), "%s", name);
		l->value[l->n++] = value;
	}
	return 0;
}

/*
 * Every queue at once: the device's queues in order, up to the first the
 * kernel will not report on (queues past those the driver negotiated).
 */
static int vdpa_vstats_all(struct vhostctl_vdpa *v, const char *name)
{
	struct stat_list l;
	uint32_t nvqs = 0, q;
	int r;

	r = vhostctl_vdpa_dev_list(v, name, dev_max_vqs, &nvqs);
	if (r < 0)
		return kernel_error(v, r);
	print_open_object("vstats");
	/* JSON: an array of queues under the name; text: a line per queue. */
	if (print_is_json())
		print_open_array(name);
	for (q = 0, r = 0; q < nvqs; q++) {
		l.n = 0;
		r = vhostctl_vdpa_dev_vstats(v, name, q, keep_stat, &l);
		if (r < 0)
			break;
		print_open_object(NULL);
		print_text("%s: ", name);
		print_u64("queue_index", NULL, q);
		for (unsigned int i = 0; i < l.n; i++)
			show_stat(NULL, l.name[i], l.value[i]);
		print_close_object();
		print_nl();
	}
	if (print_is_json())
		print_close_array();
	print_close_object();
	/* The first queue failing is an error; a later one ends the list. */
	return r < 0 && q == 0 ? kernel_error(v, r) : 0;
}

static int vdpa_vstats(struct vhostctl_vdpa *v, int argc, char **argv)
{
	unsigned long long q;
	int r;

	if (argc == 2 && matches(argv[0], "show"))
		return vdpa_vstats_all(v, argv[1]);
	if (argc != 4 || !matches(argv[0], "show") || !matches(argv[2], "qidx") ||
	    parse_u(argv[3], 0xffffffffULL, 10, &q)) {
		fprintf(stderr, "Usage: vhostctl vdpa vstats show NAME [ qidx N ]\n");
		return -EINVAL;
	}
	print_open_object("vstats");
	print_open_object(argv[1]);
	print_text("%s: ", argv[1]);
	print_u64("queue_index", NULL, q);
	r = vhostctl_vdpa_dev_vstats(v, argv[1], (uint32_t)q, show_stat, NULL);
	print_close_object();
	print_close_object();
	print_nl();
	return r < 0 ? kernel_error(v, r) : 0;
}

int cmd_vdpa(int argc, char **argv)
{
	struct vhostctl_vdpa *v;
	int r;

	if (argc < 1) {
		fprintf(stderr, "Command is expected, try \"vhostctl help\".\n");
		return -EINVAL;
	}
	v = session();
	if (!v)
		return -errno;
	if (matches(argv[0], "show")) {
		r = vdpa_show(v, argc - 1, argv + 1);
	} else if (matches(argv[0], "add")) {
		r = vdpa_add(v, argc - 1, argv + 1);
	} else if (matches(argv[0], "del")) {
		if (argc != 2) {
			fprintf(stderr, "Usage: vhostctl vdpa del NAME\n");
			r = -EINVAL;
		} else {
			r = vhostctl_vdpa_dev_del(v, argv[1]);
			if (r < 0)
				kernel_error(v, r);
		}
	} else if (matches(argv[0], "set")) {
		r = vdpa_set(v, argc - 1, argv + 1);
	} else if (matches(argv[0], "config")) {
		r = vdpa_config(v, argc - 1, argv + 1);
	} else if (matches(argv[0], "vstats")) {
		r = vdpa_vstats(v, argc - 1, argv + 1);
	} else {
		fprintf(stderr, "Command \"%s\" not found\n", argv[0]);
		r = -ENOENT;
	}
	vhostctl_vdpa_close(v);
	return r;
}
