// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl -batch FILE: set a device up step by step, one library call per
 * line, in one process that keeps its handles open from line to line: the
 * tool to reproduce a kernel bug report exactly as written.  Every step
 * prints what the kernel or the peer answered; a failed step names its line
 * and its errno, and ends the batch unless -force.  Syntax is checked for
 * the whole file before the first step runs, so a typo on the last line
 * touches no device.  With "-" on a terminal, a prompt takes steps one by
 * one instead.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <vhostctl/vhostctl.h>

#include "batch.h"
#include "cli.h"
#include "print.h"
#include "up.h"

#define RX_BUF_LEN 2048

/* A buffer handed to a queue, until the device gives it back. */
struct buf {
	struct buf *next;
	uint8_t *hva;
	uint32_t len;
	bool writable;
};

struct bvring {
	struct vhostctl_vq *vq;		/* the driver side, after "addr auto" */
	unsigned int num;
	int kick, call;			/* our eventfds when there is no vq, else -1 */
	uint32_t seq;			/* next test frame's sequence number */
};

struct handle {
	char name[NAME_LEN];
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	uint64_t features;		/* as last set */
	unsigned int dev_id;
	struct bvring vr[MAX_VRINGS];
	struct buf *bufs;		/* every buffer given to a queue */
	int tap;
	char tap_name[IFNAMSIZ];
};

struct batch {
	const char *file;
	bool json, pretty, force;
	struct handle h[MAX_HANDLES];
};


/* Running */

static struct handle *handle_of(struct batch *b, const char *name)
{
	for (int i = 0; i < MAX_HANDLES; i++)
		if (b->h[i].dev && !strcmp(b->h[i].name, name))
			return &b->h[i];
	return NULL;
}

static void handle_close(struct handle *h)
{
	vhostctl_dev_close(h->dev);
	for (int i = 0; i < MAX_VRINGS; i++) {
		vhostctl_vq_free(h->vr[i].vq);
		if (h->vr[i].kick >= 0)
			close(h->vr[i].kick);
		if (h->vr[i].call >= 0)
			close(h->vr[i].call);
	}
	while (h->bufs) {
		struct buf *n = h->bufs->next;

		free(h->bufs);
		h->bufs = n;
	}
	if (h->tap >= 0)
		close(h->tap);
	vhostctl_mem_free(h->mem);
	memset(h, 0, sizeof(*h));
}

static void print_status(uint8_t st)
{
	static const char *const bits[8] = { "ACKNOWLEDGE", "DRIVER", "DRIVER_OK", "FEATURES_OK",
					     NULL, NULL, "DEVICE_NEEDS_RESET", "FAILED" };

	print_hex("status", NULL, st);
	print_open_array("status_names");
	for (int i = 0; i < 8; i++)
		if (st & (1u << i))
			print_string(NULL, "%s ", bits[i] ? bits[i] : "bit");
	print_close_array();
}

static int own_eventfd(int *fd)
{
	if (*fd < 0)
		*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return *fd < 0 ? -errno : *fd;
}

static struct buf *buf_new(struct handle *h, uint32_t len, bool writable, uint64_t *gpa)
{
	struct buf *bf = calloc(1, sizeof(*bf));

	if (!bf)
		return NULL;
	bf->hva = vhostctl_mem_alloc(h->mem, len, 64, gpa);
	if (!bf->hva) {
		free(bf);
		return NULL;
	}
	bf->len = len;
	bf->writable = writable;
	bf->next = h->bufs;
	h->bufs = bf;
	return bf;
}

/* What came back in a buffer: a test frame's sequence number, or the ethertype. */
static void print_used(struct handle *h, struct buf *bf, uint32_t len)
{
	unsigned int hs = h->dev_id == 1 ? vhostctl_net_hdr_size(h->features) : 0;

	print_open_object(NULL);
	print_u64("len", NULL, len);
	print_string("dir", NULL, bf->writable ? "in" : "out");
	if (bf->writable && hs && len >= hs + 14) {
		const uint8_t *f = bf->hva + hs;
		uint32_t seq;

		print_hex("ethertype", NULL, (uint64_t)f[12] << 8 | f[13]);
		if (frame_check(f, len - hs) > 0) {
			memcpy(&seq, f + 14, 4);
			print_u64("test_frame", NULL, seq);
		} else if (frame_check(f, len - hs) < 0) {
			print_string("test_frame", NULL, "altered");
		}
	}
	print_close_object();
}

static int need_vq(struct bvring *vr, unsigned int i)
{
	if (vr->vq)
		return 0;
	fprintf(stderr, "vring %u has no driver-side queue: \"addr auto\" makes one\n", i);
	return -EINVAL;
}

static int need_mem(struct handle *h)
{
	if (h->mem)
		return 0;
	fprintf(stderr, "%s has no memory: \"mem add\" gives it some\n", h->name);
	return -EINVAL;
}

static int run_step(struct batch *b, struct step *st)
{
	struct handle *h = st->name ? handle_of(b, st->name) : NULL;
	struct bvring *vr = h ? &h->vr[st->vring] : NULL;
	struct vhostctl_vring_addr addr;
	unsigned int u = 0;
	uint64_t v = 0;
	uint8_t s8;
	int r = 0, fd;

	if (st->def->op != OP_OPEN && st->def->op != OP_SLEEP && !h)
		return -ENOENT;
	switch (st->def->op) {
	case OP_OPEN:
		for (h = b->h; h < b->h + MAX_HANDLES && h->dev; h++)
			;
		if (h == b->h + MAX_HANDLES)
			return -EMFILE;
		h->dev = vhostctl_dev_open(st->str, NULL);
		if (!h->dev)
			return -errno;
		snprintf(h->name, sizeof(h->name), "%s", st->name);
		h->tap = -1;
		for (int i = 0; i < MAX_VRINGS; i++)
			h->vr[i].kick = h->vr[i].call = -1;
		if (vhostctl_dev_transport(h->dev) == VHOSTCTL_TRANSPORT_VDPA) {
			uint32_t id = 0;

			vhostctl_dev_vdpa_device_id(h->dev, &id);
			h->dev_id = id;
		} else {
			h->dev_id = strstr(st->str, "vhost-net") ? 1 :
				    strstr(st->str, "vhost-vsock") ? 19 : 0;
		}
		print_u64("fd", NULL, (uint64_t)vhostctl_dev_fd(h->dev));
		print_string("transport", NULL,
			     vhostctl_dev_transport(h->dev) == VHOSTCTL_TRANSPORT_VDPA ? "vdpa" :
			     vhostctl_dev_transport(h->dev) == VHOSTCTL_TRANSPORT_USER ?
			     "vhost-user" : "kernel");
		if (h->dev_id)
			print_u64("device_id", NULL, h->dev_id);
		break;
	case OP_CLOSE:
		handle_close(h);
		break;
	case OP_SLEEP:
		usleep((useconds_t)st->v[0] * 1000);
		break;
	case OP_OWNER:
		r = vhostctl_dev_set_owner(h->dev);
		break;
	case OP_RESET_OWNER:
		r = vhostctl_dev_reset_owner(h->dev);
		break;
	case OP_FEAT_GET:
		r = vhostctl_dev_get_features(h->dev, &v);
		if (!r) {
			print_hex("features", NULL, v);
			print_features("feature_names", v, h->dev_id);
		}
		break;
	case OP_FEAT_SET:
		r = vhostctl_dev_set_features(h->dev, st->v[0]);
		if (!r)
			h->features = st->v[0];
		break;
	case OP_BFEAT_GET:
		r = vhostctl_dev_get_backend_features(h->dev, &v);
		if (!r)
			print_hex("backend_features", NULL, v);
		break;
	case OP_BFEAT_SET:
		r = vhostctl_dev_set_backend_features(h->dev, st->v[0]);
		break;
	case OP_MEM_ADD:
		if (!h->mem) {
			h->mem = vhostctl_mem_new();
			if (!h->mem)
				return -errno;
		}
		r = vhostctl_mem_add_region(h->mem, st->v[0], st->v[1], 0);
		if (r >= 0) {
			print_u64("region", NULL, (uint64_t)r);
			r = 0;
		}
		break;
	case OP_MEM_TABLE:
		r = need_mem(h);
		if (!r)
			r = vhostctl_dev_set_mem_table(h->dev, h->mem);
		break;
	case OP_NUM:
		r = vhostctl_dev_set_vring_num(h->dev, st->vring, (unsigned int)st->v[0]);
		if (!r)
			vr->num = (unsigned int)st->v[0];
		break;
	case OP_ADDR_AUTO:
		r = need_mem(h);
		if (r)
			break;
		if (vr->vq) {
			fprintf(stderr, "vring %u has its driver-side queue already\n", st->vring);
			return -EEXIST;
		}
		if (!vr->num) {
			fprintf(stderr, "vring %u has no size: \"num\" comes first\n", st->vring);
			return -EINVAL;
		}
		vr->vq = vhostctl_vq_new(h->mem, st->vring, vr->num, h->features, NULL);
		if (!vr->vq)
			return -errno;
		vhostctl_vq_get_addr(vr->vq, &addr);
		r = vhostctl_dev_set_vring_addr(h->dev, &addr);
		if (!r) {
			print_hex("desc", NULL, addr.desc);
			print_hex("avail", NULL, addr.avail);
			print_hex("used", NULL, addr.used);
		}
		break;
	case OP_ADDR:
		addr = (struct vhostctl_vring_addr){ .index = st->vring, .desc = st->v[0],
						     .avail = st->v[1], .used = st->v[2],
						     .log = st->v[2] };
		r = vhostctl_dev_set_vring_addr(h->dev, &addr);
		break;
	case OP_BASE_GET:
		r = vhostctl_dev_get_vring_base(h->dev, st->vring, &u);
		if (!r)
			print_hex("base", NULL, u);
		break;
	case OP_BASE:
		r = vhostctl_dev_set_vring_base(h->dev, st->vring, (unsigned int)st->v[0]);
		break;
	case OP_KICK:
	case OP_CALL:
		fd = -1;
		if (matches(st->str, "new")) {
			if (vr->vq)
				fd = st->def->op == OP_KICK ? vhostctl_vq_kick_fd(vr->vq) :
							      vhostctl_vq_call_fd(vr->vq);
			else
				fd = own_eventfd(st->def->op == OP_KICK ? &vr->kick : &vr->call);
			if (fd < 0)
				return fd;
		}
		r = st->def->op == OP_KICK ? vhostctl_dev_set_vring_kick(h->dev, st->vring, fd) :
					     vhostctl_dev_set_vring_call(h->dev, st->vring, fd);
		if (!r)
			print_string("eventfd", NULL, fd < 0 ? "none" : "new");
		break;
	case OP_ENABLE:
		r = vhostctl_dev_set_vring_enable(h->dev, st->vring, (int)st->v[0]);
		break;
	case OP_SEND: {
		unsigned int hs = vhostctl_net_hdr_size(h->features), sent = 0;

		r = need_vq(vr, st->vring);
		if (r)
			break;
		for (uint64_t i = 0; i < (st->count ? st->count : 1); i++) {
			struct vhostctl_vq_buf vb;
			struct buf *bf = buf_new(h, hs + FRAME_LEN, false, &vb.gpa);

			if (!bf)
				return -ENOMEM;
			vb.len = bf->len;
			memset(bf->hva, 0, hs);
			frame_fill(bf->hva + hs, vr->seq);
			r = vhostctl_vq_add(vr->vq, &vb, 1, 0, bf, 0);
			if (r)
				break;
			vr->seq++;
			sent++;
		}
		print_u64("sent", NULL, sent);
		if (sent) {
			int k = vhostctl_vq_kick(vr->vq);

			if (k < 0)
				return k;
			print_bool("kicked", NULL, k);
		}
		break;
	}
	case OP_POST: {
		unsigned int posted = 0;

		r = need_vq(vr, st->vring);
		if (r)
			break;
		for (uint64_t i = 0; i < st->v[0]; i++) {
			struct vhostctl_vq_buf vb;
			struct buf *bf = buf_new(h, st->len ? (uint32_t)st->len : RX_BUF_LEN, true,
						 &vb.gpa);

			if (!bf)
				return -ENOMEM;
			vb.len = bf->len;
			r = vhostctl_vq_add(vr->vq, &vb, 0, 1, bf, 0);
			if (r)
				break;
			posted++;
		}
		print_u64("posted", NULL, posted);
		if (posted) {
			int k = vhostctl_vq_kick(vr->vq);

			if (k < 0)
				return k;
			print_bool("kicked", NULL, k);
		}
		break;
	}
	case OP_USED: {
		uint32_t len;
		void *tok;
		int n = 0;

		r = need_vq(vr, st->vring);
		if (r)
			break;
		if (st->wait) {
			r = vhostctl_vq_wait(vr->vq, (int)st->wait);
			if (r == -ETIMEDOUT)
				r = 0;
			if (r)
				break;
		}
		print_open_array("used");
		while ((r = vhostctl_vq_get_used(vr->vq, &len, &tok)) == 1) {
			print_used(h, tok, len);
			n++;
		}
		print_close_array();
		print_u64("entries", NULL, (uint64_t)n);
		break;
	}
	case OP_GROUP:
		r = vhostctl_dev_vdpa_vring_group(h->dev, st->vring, &u);
		if (!r)
			print_u64("group", NULL, u);
		break;
	case OP_BACKEND:
		fd = -1;
		if (!matches(st->str, "none")) {
			if (h->tap < 0) {
				r = tap_attach(st->str, 1, (int)vhostctl_net_hdr_size(h->features),
					       &h->tap, h->tap_name);
				if (r)
					return r;
				no_ipv6(h->tap_name);
				r = link_flags(h->tap_name, true, NULL);
				if (r)
					return r;
			} else if (strcmp(st->str, h->tap_name)) {
				fprintf(stderr, "%s has tap %s already\n", h->name, h->tap_name);
				return -EBUSY;
			}
			fd = h->tap;
		}
		r = vhostctl_net_set_backend(h->dev, st->vring, fd);
		if (!r && fd >= 0)
			print_string("tap", NULL, h->tap_name);
		break;
	case OP_CID:
		r = vhostctl_vsock_set_guest_cid(h->dev, st->v[0]);
		break;
	case OP_RUNNING:
		r = vhostctl_vsock_set_running(h->dev, (int)st->v[0]);
		break;
	case OP_STATUS_GET:
		r = vhostctl_dev_get_status(h->dev, &s8);
		if (!r)
			print_status(s8);
		break;
	case OP_STATUS_SET:
		r = vhostctl_dev_set_status(h->dev, (uint8_t)st->v[0]);
		break;
	case OP_CONFIG_GET: {
		uint8_t c[MAX_CONFIG];
		char hex[2 * MAX_CONFIG + 1];

		r = vhostctl_dev_get_config(h->dev, (unsigned int)st->v[0], c,
					    (unsigned int)st->v[1]);
		if (!r) {
			for (unsigned int i = 0; i < st->v[1]; i++)
				snprintf(hex + 2 * i, 3, "%02x", c[i]);
			print_string("config", NULL, hex);
		}
		break;
	}
	case OP_CONFIG_SET: {
		uint8_t c[MAX_CONFIG];
		unsigned int n = (unsigned int)strlen(st->str) / 2;

		for (unsigned int i = 0; i < n; i++)
			sscanf(st->str + 2 * i, "%2hhx", &c[i]);
		r = vhostctl_dev_set_config(h->dev, (unsigned int)st->v[0], c, n);
		break;
	}
	case OP_ASID:
		r = vhostctl_dev_vdpa_set_group_asid(h->dev, (unsigned int)st->v[0],
						     (unsigned int)st->v[1]);
		break;
	case OP_SUSPEND:
		r = vhostctl_dev_vdpa_suspend(h->dev);
		break;
	case OP_RESUME:
		r = vhostctl_dev_vdpa_resume(h->dev);
		break;
	case OP_RESET:
		r = vhostctl_dev_reset(h->dev);
		break;
	}
	return r < 0 ? r : 0;
}

static void step_error(struct batch *b, unsigned int line, const char *text, const char *why,
		       int err)
{
	if (err) {
		const char *en = strerrorname_np(err);

		fprintf(stderr, "Error: %s:%u: %s: %s (%s)\n", b->file, line, text, strerror(err),
			en ? en : "?");
	} else {
		fprintf(stderr, "Error: %s:%u: %s\n", b->file, line, why);
	}
}

/* Run one parsed step, its answer as one record (text) or one JSON document. */
static int exec_step(struct batch *b, struct step *st, unsigned int line)
{
	int r;

	print_init(b->json, b->pretty);
	print_u64("line", "%llu: ", line);
	print_string("step", "%s: ", st->text);
	r = run_step(b, st);
	if (r) {
		print_string("error", NULL, strerrorname_np(-r) ? strerrorname_np(-r) : "?");
		print_u64("errno", NULL, (uint64_t)-r);
	} else if (!b->json) {
		print_text("%s", "ok");
	}
	print_nl();
	print_finish();
	/* Each answer out before the next step: a step that hangs shows where. */
	fflush(stdout);
	if (r)
		step_error(b, line, st->text, NULL, -r);
	return r;
}

static int interactive(struct batch *b)
{
	char names[MAX_HANDLES][NAME_LEN];
	char line[MAX_LINE], why[256];
	unsigned int n = 0;
	int failed = 0;

	memset(names, 0, sizeof(names));
	for (;;) {
		struct step st;
		int r;

		fputs("vhostctl> ", stderr);
		fflush(stderr);
		if (!fgets(line, sizeof(line), stdin))
			break;
		n++;
		/* A failed open or close leaves the names as the handles are. */
		for (int i = 0; i < MAX_HANDLES; i++)
			snprintf(names[i], sizeof(names[i]), "%s", b->h[i].dev ? b->h[i].name : "");
		r = parse_step(line, &st, names, why, sizeof(why));
		if (r == 1)
			continue;
		if (r) {
			step_error(b, n, NULL, why, 0);
			failed = 1;
			continue;
		}
		if (exec_step(b, &st, n))
			failed = 1;
	}
	fputc('\n', stderr);
	return failed;
}

int batch_run(const char *file, bool force, bool json, bool pretty)
{
	char names[MAX_HANDLES][NAME_LEN], why[256];
	struct batch *b = calloc(1, sizeof(*b));
	struct step *st = NULL;
	char **lines = NULL;
	unsigned int n = 0, cap = 0;
	int bad = 0, failed = 0;
	char buf[MAX_LINE];
	FILE *f;

	if (!b)
		return 1;
	b->file = file;
	b->force = force;
	b->json = json;
	b->pretty = pretty;
	if (!strcmp(file, "-") && isatty(STDIN_FILENO)) {
		failed = interactive(b);
		goto out;
	}
	f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	if (!f) {
		fprintf(stderr, "Cannot open file \"%s\" for batch: %s\n", file, strerror(errno));
		free(b);
		return 1;
	}
	/* Every line is parsed before the first runs. */
	while (fgets(buf, sizeof(buf), f)) {
		if (n == cap) {
			unsigned int c = cap ? 2 * cap : 64;
			char **nl = realloc(lines, c * sizeof(*lines));
			struct step *ns = realloc(st, c * sizeof(*st));

			if (nl)
				lines = nl;
			if (ns)
				st = ns;
			if (!nl || !ns) {
				failed = 1;
				break;
			}
			cap = c;
		}
		if (!strchr(buf, '\n') && !feof(f)) {
			fprintf(stderr, "Error: %s:%u: line too long\n", file, n + 1);
			failed = 1;
			break;
		}
		lines[n] = strdup(buf);
		if (!lines[n]) {
			failed = 1;
			break;
		}
		n++;
	}
	if (f != stdin)
		fclose(f);
	if (failed)
		goto out;
	memset(names, 0, sizeof(names));
	for (unsigned int i = 0; i < n; i++) {
		int r = parse_step(lines[i], &st[i], names, why, sizeof(why));

		if (r == 1) {
			st[i].def = NULL;
		} else if (r) {
			step_error(b, i + 1, NULL, why, 0);
			bad = 1;
		}
	}
	if (bad) {
		failed = 1;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!st[i].def)
			continue;
		if (exec_step(b, &st[i], i + 1)) {
			failed = 1;
			if (!force)
				break;
		}
	}
out:
	for (int i = 0; i < MAX_HANDLES; i++)
		if (b->h[i].dev)
			handle_close(&b->h[i]);
	for (unsigned int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(st);
	free(b);
	return failed;
}
