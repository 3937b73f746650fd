/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * What vu_proto.c and vu_proto_dev.c share: the net backend, a session with
 * its memory and rings set up, traffic, and the end of a test.
 */
#ifndef VU_PROTO_H
#define VU_PROTO_H

#include "test.h"
#include "vu_sess.h"

#define NUM 64u
#define SIZE 100u
#define F_MAC (1ull << 5)
#define ALL_PF (~0ull)

static char path[64], err[512];

static inline uint64_t pf_bit(int b)
{
	return 1ull << b;
}

static const char *role(bool server)
{
	return server ? "frontend listens" : "frontend connects";
}

/* ---- devices ------------------------------------------------------------- */

static inline struct vhostctl_vu_backend *net_be(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 9 },
			   .log = getenv("VU_DEBUG") ? sess_log : NULL, .log_ctx = (void *)"be",
			   .log_level = 7);
	struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);

	t_true(be);
	return be;
}

/* A GET_FEATURES round trip: the backend has handled everything before it. */
static inline void barrier(struct vhostctl_dev *dev)
{
	uint64_t f;

	t_eq(0, vhostctl_dev_get_features(dev, &f));
}

static inline void close_session(struct sess *s, struct vhostctl_dev *dev)
{
	vhostctl_dev_close(dev);
	if (sess_wait_gone(s))
		t_fail("the backend did not see the frontend go");
}

/* End a test: the session, the backend, and the rings and memory when given. */
static inline void finish(struct sess *s, struct vhostctl_dev *dev, struct pair *p,
		   struct vhostctl_mem *mem)
{
	close_session(s, dev);
	sess_stop(s);
	vhostctl_vu_backend_free(s->be);
	if (p) {
		drv_q_fini(&p->rx);
		drv_q_fini(&p->tx);
	}
	vhostctl_mem_free(mem);
}

/* Owner, features, memory table from a memory object. */
static inline void dev_init(struct vhostctl_dev *dev, uint64_t features, struct vhostctl_mem *mem)
{
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_features(dev, features));
	if (mem)
		t_eq(0, vhostctl_dev_set_mem_table(dev, mem));
}

static inline void pair_rings(struct vhostctl_dev *dev, struct pair *p, unsigned int rxb,
		       unsigned int txb)
{
	t_eq(0, ring_setup(dev, 0, &p->rx, rxb));
	t_eq(0, ring_setup(dev, 1, &p->tx, txb));
}

/* A session: 4 MiB of memory, owner, features, one pair set up, RX filled. */
static inline struct vhostctl_dev *ring_session(struct sess *s, struct vhostctl_vu_opts *o, struct pair *p,
					 struct vhostctl_mem **memp, uint64_t features)
{
	bool packed = features & VU_F_RING_PACKED;
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_dev *dev;

	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	memset(p, 0, sizeof(*p));
	t_eq(0, drv_q_init(&p->rx, mem, NUM, packed, 1024) ?:
		drv_q_init(&p->tx, mem, NUM, packed, 1024));
	dev = sess_open(s, o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	dev_init(dev, features, mem);
	pair_rings(dev, p, ring_base0(&p->rx), ring_base0(&p->tx));
	pair_fill_rx(p);
	*memp = mem;
	return dev;
}

static inline void traffic(struct pair *p, unsigned long n, const char *what)
{
	if (pairs_more(p, 1, n, SIZE, err, sizeof(err)))
		t_fail("%s: %s", what, err);
}

/* A program's main: its tests in both socket roles, no fd left open after. */
static inline int proto_main(const char *name, void (*tests)(bool server))
{
	int fds = t_count_fds();

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "/tmp/%s.%d.sock", name, getpid());
	for (int server = 0; server < 2; server++)
		tests(server);
	unlink(path);
	t_eq(fds, t_count_fds());
	return 0;
}

#endif /* VU_PROTO_H */
