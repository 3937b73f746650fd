// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Shared objects and the GPU socket between our frontend and two of our
 * backends over real Unix sockets, in both socket roles:
 *  - one table of shared objects serving both handles; backend A exports an
 *    object (a memfd standing in for a dma-buf), backend B looks it up and
 *    gets A's object through GET_SHARED_OBJECT on A's connection: the bytes
 *    A wrote are read from B's fd, and a write through it is seen by A;
 *  - an object of the frontend's own, looked up by B, bytes compared;
 *  - refused: an unknown UUID, a UUID exported twice, a removal by another
 *    backend than the exporter, A looking up its own object, a full table,
 *    requests with no table attached; closing a handle drops its exports;
 *  - GET_SHARED_OBJECT from the frontend: A's object, an unknown UUID, a
 *    backend without the callback;
 *  - GPU_SET_SOCKET: the socket reaches A's callback, bytes sent by A on it
 *    are read at the frontend; B, without a callback, refuses it; no fd is
 *    left open anywhere.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "vu_share.h"

static const uint8_t uuid_a[16] = { 0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t uuid_f[16] = { 0xf0, 1 };
static const uint8_t uuid_x[16] = { 0xee, 0xee };
static const uint8_t uuid_b[3][16] = { { 0xb1 }, { 0xb2 }, { 0xb3 } };

/* Backend A's application: its object and the GPU socket it was given. */
struct actx {
	int obj;
	int gpu;
	int gpu_calls;
};

static int a_object(struct vhostctl_vu_backend *be, const uint8_t uuid[16], void *ctx)
{
	struct actx *a = ctx;

	(void)be;
	return memcmp(uuid, uuid_a, 16) ? -ENOENT : a->obj;
}

static int a_gpu(struct vhostctl_vu_backend *be, int fd, void *ctx)
{
	struct actx *a = ctx;

	(void)be;
	a->gpu = fd;
	__atomic_add_fetch(&a->gpu_calls, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int job_add(struct job *j)
{
	return vhostctl_vu_backend_object_add(j->be, j->uuid);
}

static int job_remove(struct job *j)
{
	return vhostctl_vu_backend_object_remove(j->be, j->uuid);
}

static int job_lookup(struct job *j)
{
	return vhostctl_vu_backend_object_lookup(j->be, j->uuid, &j->out_fd);
}

/* A backend call on uuid from a thread while dev serves its channel. */
static int obj_call(struct vhostctl_dev *dev, struct vhostctl_vu_backend *be,
		    int (*fn)(struct job *), const uint8_t *uuid, int *fd)
{
	struct job j = { .fn = fn, .be = be, .uuid = uuid };
	int r = job_run(dev, &j);

	if (fd)
		*fd = j.out_fd;
	else
		t_eq(-1, j.out_fd);
	return r;
}

static int memfd_with(const char *s)
{
	int fd = memfd_create("vu-object", MFD_CLOEXEC);

	t_true(fd >= 0);
	t_eq(strlen(s), pwrite(fd, s, strlen(s), 0));
	return fd;
}

static void expect_bytes(int fd, const char *s)
{
	char b[64] = "";

	t_eq(strlen(s), pread(fd, b, sizeof(b) - 1, 0));
	if (strcmp(b, s))
		t_fail("object holds \"%s\", expected \"%s\"", b, s);
}

static void objects(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	char path_b[80];
	struct actx a = { .obj = memfd_with("backend A's object"), .gpu = -1 };
	struct sess sa = { .path = path, .server = server, .be = bare_be(&a) };
	struct sess sb = { .path = path_b, .server = server, .be = bare_be(NULL) };
	struct vhostctl_vu_objects *t = vhostctl_vu_objects_new(4);
	int own = memfd_with("the frontend's object"), fd, sv[2];
	struct vhostctl_dev *da, *db;
	uint64_t pfs;
	char b[16];

	snprintf(path_b, sizeof(path_b), "%s.b", path);
	t_true(t);
	t_eq(0, vhostctl_vu_backend_set_objects(sa.be, a_object));
	t_eq(0, vhostctl_vu_backend_set_gpu_socket(sa.be, a_gpu));
	t_eq(0, vhostctl_vu_backend_set_objects(sb.be, NULL));
	da = sess_open(&sa, &o);
	t_true(da);
	db = sess_open(&sb, &o);
	t_true(db);
	t_eq(0, vhostctl_vu_protocol_features(db, &pfs));
	t_true(pfs & pf_bit(VHOSTCTL_VU_PF_SHARED_OBJECT));
	dev_init(da, VU_F_VERSION_1, NULL);
	dev_init(db, VU_F_VERSION_1, NULL);

	/* No table yet: refused. */
	sess_stop(&sa);
	t_eq(-EIO, obj_call(da, sa.be, job_add, uuid_a, NULL));
	t_eq(0, vhostctl_vu_set_objects(da, t));
	t_eq(0, vhostctl_vu_set_objects(db, t));
	t_eq(0, vhostctl_vu_objects_add(t, uuid_f, own));
	t_eq(-EEXIST, vhostctl_vu_objects_add(t, uuid_f, own));

	/* A exports; nobody else may take its UUID or remove it. */
	t_eq(0, obj_call(da, sa.be, job_add, uuid_a, NULL));
	t_eq(-EIO, obj_call(da, sa.be, job_add, uuid_a, NULL));
	t_eq(2, vhostctl_vu_objects_count(t));
	/* A waits for the answer: its own object is not looked up through it. */
	t_eq(-ENOENT, obj_call(da, sa.be, job_lookup, uuid_a, NULL));
	t_eq(0, sess_start(&sa));
	sess_stop(&sb);
	t_eq(-EIO, obj_call(db, sb.be, job_add, uuid_a, NULL));
	t_eq(-EIO, obj_call(db, sb.be, job_remove, uuid_a, NULL));

	/* B looks A's object up: the frontend asks A for it. */
	t_eq(0, obj_call(db, sb.be, job_lookup, uuid_a, &fd));
	t_true(fd >= 0);
	expect_bytes(fd, "backend A's object");
	t_eq(7, pwrite(fd, "B wrote", 7, 0));
	expect_bytes(a.obj, "B wrote A's object");
	close(fd);
	/* The frontend's own object. */
	t_eq(0, obj_call(db, sb.be, job_lookup, uuid_f, &fd));
	expect_bytes(fd, "the frontend's object");
	close(fd);
	t_eq(-ENOENT, obj_call(db, sb.be, job_lookup, uuid_x, NULL));

	/* Full table: B's third export and the frontend's refused. */
	t_eq(0, obj_call(db, sb.be, job_add, uuid_b[0], NULL));
	t_eq(0, obj_call(db, sb.be, job_add, uuid_b[1], NULL));
	t_eq(-EIO, obj_call(db, sb.be, job_add, uuid_b[2], NULL));
	t_eq(-ENOSPC, vhostctl_vu_objects_add(t, uuid_x, own));
	t_eq(4, vhostctl_vu_objects_count(t));
	t_eq(0, obj_call(db, sb.be, job_remove, uuid_b[1], NULL));
	t_eq(-EIO, obj_call(db, sb.be, job_remove, uuid_b[1], NULL));
	t_eq(3, vhostctl_vu_objects_count(t));
	t_eq(0, sess_start(&sb));

	/* GET_SHARED_OBJECT from the frontend. */
	t_eq(0, vhostctl_vu_get_shared_object(da, uuid_a, &fd));
	expect_bytes(fd, "B wrote A's object");
	close(fd);
	t_eq(-ENOENT, vhostctl_vu_get_shared_object(da, uuid_x, &fd));
	t_eq(-ENOENT, vhostctl_vu_get_shared_object(db, uuid_a, &fd));

	/* The GPU socket: to A's callback, and A's bytes read here; B refuses one. */
	t_eq(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	t_eq(-EBADF, vhostctl_vu_gpu_set_socket(da, -1));
	t_eq(-EIO, vhostctl_vu_gpu_set_socket(db, sv[1]));
	t_eq(0, vhostctl_vu_gpu_set_socket(da, sv[1]));
	close(sv[1]);
	t_eq(1, __atomic_load_n(&a.gpu_calls, __ATOMIC_SEQ_CST));
	t_true(a.gpu >= 0);
	t_eq(9, write(a.gpu, "gpu hello", 9));
	close(a.gpu);
	t_eq(9, read(sv[0], b, sizeof(b)));
	t_true(!memcmp(b, "gpu hello", 9));
	t_eq(0, read(sv[0], b, sizeof(b)));	/* the backend's copy was its only other one */
	close(sv[0]);

	/* B's handle goes: its export leaves the table; A's and ours stay. */
	close_session(&sb, db);
	t_eq(2, vhostctl_vu_objects_count(t));
	t_eq(-ENOENT, vhostctl_vu_objects_remove(t, uuid_a));
	t_eq(0, vhostctl_vu_objects_remove(t, uuid_f));
	t_eq(1, vhostctl_vu_objects_count(t));
	printf("SHARED_OBJECT, %s: A's memfd looked up by B through A, the frontend's own, "
	       "unknown/duplicate/foreign/full refused; GPU_SET_SOCKET bytes through A's "
	       "callback\n", role(server));
	sess_stop(&sb);
	vhostctl_vu_backend_free(sb.be);
	finish(&sa, da, NULL, NULL);
	t_eq(0, vhostctl_vu_objects_count(t));
	vhostctl_vu_objects_free(t);
	close(a.obj);
	close(own);
	unlink(path_b);
}

int main(void)
{
	return proto_main("vu_objects", objects);
}
