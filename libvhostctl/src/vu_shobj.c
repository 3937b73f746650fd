// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Shared objects over vhost-user (protocol feature SHARED_OBJECT) and the
 * GPU socket, the frontend's side.
 *
 * Frontend: a bounded table of UUIDs, each naming its exporter (a handle,
 * i.e. a backend, or this process with an fd of its own), shared by the
 * handles it is attached to.  BACKEND_SHARED_OBJECT_ADD makes the sending
 * backend an exporter, _REMOVE withdraws only its own entries, _LOOKUP is
 * answered with a copy of the object's fd: this process's own, or one the
 * exporting backend gives on GET_SHARED_OBJECT.
 *
 * The backend's side: vu_share_be.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vu_fe.h"
#include "vu_shpriv.h"

#define OBJS_MAX 4096u

struct obj {
	uint8_t uuid[16];
	struct vhostctl_dev *exporter;	/* the backend's handle, or NULL: fd is ours */
	int fd;				/* this process's object, or -1 */
};

/* A table; lock protects n and e[] (handles of several threads may share it). */
struct vhostctl_vu_objects {
	pthread_mutex_t lock;
	unsigned int max, n;
	struct obj e[];
};

/* The entry of uuid, or NULL; lock held. */
static struct obj *obj_find(struct vhostctl_vu_objects *t, const uint8_t uuid[16])
{
	for (unsigned int i = 0; i < t->n; i++)
		if (!memcmp(t->e[i].uuid, uuid, 16))
			return &t->e[i];
	return NULL;
}

/* Drop entry o; lock held. */
static void obj_drop(struct vhostctl_vu_objects *t, struct obj *o)
{
	if (o->fd >= 0)
		close(o->fd);
	*o = t->e[--t->n];
}

static int obj_add(struct vhostctl_vu_objects *t, const uint8_t uuid[16],
		   struct vhostctl_dev *exporter, int fd)
{
	int r = 0;

	pthread_mutex_lock(&t->lock);
	if (obj_find(t, uuid))
		r = -EEXIST;
	else if (t->n == t->max)
		r = -ENOSPC;
	else {
		memcpy(t->e[t->n].uuid, uuid, 16);
		t->e[t->n].exporter = exporter;
		t->e[t->n].fd = fd;
		t->n++;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

static int obj_remove(struct vhostctl_vu_objects *t, const uint8_t uuid[16],
		      struct vhostctl_dev *exporter)
{
	struct obj *o;
	int r = -ENOENT;

	pthread_mutex_lock(&t->lock);
	o = obj_find(t, uuid);
	if (o && o->exporter == exporter) {
		obj_drop(t, o);
		r = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

VHC_EXPORT struct vhostctl_vu_objects *vhostctl_vu_objects_new(unsigned int max)
{
	struct vhostctl_vu_objects *t;

	if (!max || max > OBJS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t) + max * sizeof(t->e[0]));
	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->max = max;
	return t;
}

VHC_EXPORT void vhostctl_vu_objects_free(struct vhostctl_vu_objects *t)
{
	if (!t)
		return;
	while (t->n)
		obj_drop(t, &t->e[0]);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

VHC_EXPORT int vhostctl_vu_objects_add(struct vhostctl_vu_objects *t, const uint8_t uuid[16], int fd)
{
	int dup, r;

	if (!t || !uuid || fd < 0)
		return vhc_err(EINVAL);
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -errno;
	r = obj_add(t, uuid, NULL, dup);
	if (r)
		close(dup);
	return vhc_ret(r);
}

VHC_EXPORT int vhostctl_vu_objects_remove(struct vhostctl_vu_objects *t, const uint8_t uuid[16])
{
	if (!t || !uuid)
		return vhc_err(EINVAL);
	return vhc_ret(obj_remove(t, uuid, NULL));
}

VHC_EXPORT int vhostctl_vu_objects_count(struct vhostctl_vu_objects *t)
{
	int n;

	if (!t)
		return vhc_err(EINVAL);
	pthread_mutex_lock(&t->lock);
	n = (int)t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}

VHC_EXPORT int vhostctl_vu_set_objects(struct vhostctl_dev *dev, struct vhostctl_vu_objects *t)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_fe_shared *sh;
	struct vhostctl_vu_objects *old;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	sh = t ? vhc_fe_shared_get(dev) : fe->shared;
	if (!sh)
		return t ? vhc_err(ENOMEM) : 0;
	old = sh->objs;
	if (old && old != t) {
		/* This backend's exports leave the table it leaves. */
		pthread_mutex_lock(&old->lock);
		for (unsigned int i = 0; i < old->n;)
			if (old->e[i].exporter == dev)
				obj_drop(old, &old->e[i]);
			else
				i++;
		pthread_mutex_unlock(&old->lock);
	}
	sh->objs = t;
	return 0;
}

VHC_EXPORT int vhostctl_vu_get_shared_object(struct vhostctl_dev *dev, const uint8_t uuid[16],
					     int *fd)
{
	struct vu_fe *fe = fe_of(dev);
	struct vhc_vu_msg m;
	int r;

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (!uuid || !fd)
		return vhc_err(EINVAL);
	if (!pf(fe, VHOSTCTL_VU_PF_SHARED_OBJECT))
		return vhc_err(EOPNOTSUPP);
	vhc_vu_msg_init(&m, VHC_VU_GET_SHARED_OBJECT, 0, 16);
	memcpy(m.p.raw, uuid, 16);
	r = vhc_fe_send(dev, &m, NULL, 0) ?: vhc_fe_reply(dev, &m, VHC_VU_GET_SHARED_OBJECT, false);
	if (r)
		return vhc_ret(r);
	if (m.p.u64) {
		vhc_vu_msg_close_fds(&m);
		return vhc_err(ENOENT);
	}
	if (m.nfds != 1) {
		vhc_log(dev, VHOSTCTL_LOG_ERR, "vhost-user GET_SHARED_OBJECT: success without an fd");
		return vhc_err(EPROTO);
	}
	*fd = m.fds[0];
	return 0;
}

/* An fd for a LOOKUP of uuid by dev's backend, or -errno. */
static int obj_lookup(struct vhostctl_dev *dev, struct vhostctl_vu_objects *t,
		      const uint8_t uuid[16])
{
	struct vhostctl_dev *exporter = NULL;
	struct obj *o;
	int fd = -ENOENT;

	pthread_mutex_lock(&t->lock);
	o = obj_find(t, uuid);
	if (o && o->fd >= 0) {
		fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			fd = -errno;
	} else if (o) {
		exporter = o->exporter;
	}
	pthread_mutex_unlock(&t->lock);
	/*
	 * The asking backend waits for this answer: it cannot serve a
	 * GET_SHARED_OBJECT of its own meanwhile.  It knows its own objects.
	 */
	if (exporter == dev)
		return -EDEADLK;
	if (exporter && vhostctl_vu_get_shared_object(exporter, uuid, &fd))
		return -errno;
	return fd;
}

int vhc_fe_shobj_req(struct vhostctl_dev *dev, struct vhc_fe_shared *sh, struct vhc_vu_msg *m,
		     uint64_t *result, int *reply_fd)
{
	struct vu_fe *fe = dev->priv;
	const uint8_t *uuid = m->p.raw;
	int r;

	if (!pf(fe, VHOSTCTL_VU_PF_SHARED_OBJECT))
		r = -EOPNOTSUPP;
	else if (!sh->objs)
		r = -ENXIO;	/* no table: vhostctl_vu_set_objects() */
	else if (m->hdr.request == VHC_VU_BE_SHARED_OBJECT_ADD)
		r = obj_add(sh->objs, uuid, dev, -1);
	else if (m->hdr.request == VHC_VU_BE_SHARED_OBJECT_REMOVE)
		r = obj_remove(sh->objs, uuid, dev);
	else
		r = obj_lookup(dev, sh->objs, uuid);
	if (r < 0)
		vhc_log(dev, VHOSTCTL_LOG_WARNING,
			"vhost-user backend %s of %02x%02x%02x%02x-... refused: %s",
			vhc_vu_be_req_name(m->hdr.request), uuid[0], uuid[1], uuid[2], uuid[3],
			strerror(-r));
	*result = r < 0;
	if (r > 0 || (r == 0 && m->hdr.request == VHC_VU_BE_SHARED_OBJECT_LOOKUP))
		*reply_fd = r;
	return r;
}

int vhc_fe_shared_req(struct vhostctl_dev *dev, struct vhc_vu_msg *m, uint64_t *result,
		      int *reply_fd)
{
	struct vhc_fe_shared *sh;

	*reply_fd = -1;
	switch (m->hdr.request) {
	case VHC_VU_BE_SHMEM_MAP:
	case VHC_VU_BE_SHMEM_UNMAP:
		sh = vhc_fe_shared_get(dev);
		*result = !(sh && vhc_fe_shmem_req(dev, sh, m));
		return 1;
	case VHC_VU_BE_SHARED_OBJECT_ADD:
	case VHC_VU_BE_SHARED_OBJECT_REMOVE:
	case VHC_VU_BE_SHARED_OBJECT_LOOKUP:
		sh = vhc_fe_shared_get(dev);
		if (!sh)
			*result = 1;
		else
			vhc_fe_shobj_req(dev, sh, m, result, reply_fd);
		/* LOOKUP has an answer of its own, asked for or not. */
		return m->hdr.request == VHC_VU_BE_SHARED_OBJECT_LOOKUP ? 2 : 1;
	default:
		return 0;
	}
}

VHC_EXPORT int vhostctl_vu_gpu_set_socket(struct vhostctl_dev *dev, int fd)
{
	struct vu_fe *fe = fe_of(dev);

	if (!fe)
		return vhc_err(dev ? ENOTTY : EINVAL);
	if (fd < 0)
		return vhc_err(EBADF);
	return vhc_ret(vhc_fe_call(dev, VHC_VU_GPU_SET_SOCKET, NULL, 0, &fd, 1, true));
}
