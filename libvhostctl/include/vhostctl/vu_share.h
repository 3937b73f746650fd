/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * libvhostctl: what a vhost-user backend shares with its frontend besides
 * guest memory, both sides.
 *
 * - VIRTIO shared memory regions (protocol feature SHMEM): the backend
 *   declares the regions' sizes (GET_SHMEM_CONFIG); the frontend reserves
 *   each one and maps into it the file ranges the backend asks for
 *   (BACKEND_SHMEM_MAP / BACKEND_SHMEM_UNMAP on the backend channel).
 * - Shared objects (protocol feature SHARED_OBJECT): a table of UUIDs kept
 *   by the frontend, naming which backend exports which object (a dma-buf);
 *   backends add, remove and look up entries on the backend channel, and
 *   the frontend asks an exporter for its object (GET_SHARED_OBJECT).
 * - The GPU socket (GPU_SET_SOCKET): a socket for the vhost-user-gpu
 *   protocol, handed by the frontend to the backend.
 */
#ifndef VHOSTCTL_VU_SHARE_H
#define VHOSTCTL_VU_SHARE_H

#include <stdint.h>

#include <vhostctl/vhost_user.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Declared here too: vhost_user.h may be the one including this header. */
struct vhostctl_dev;
struct vhostctl_vu_backend;

/* ---- shared memory regions ------------------------------------------- */

/* The most regions a device has: shmid is 8 bits. */
#define VHOSTCTL_VU_SHMEM_MAX_REGIONS 256
/* BACKEND_SHMEM_MAP flags: map the range writable (else read-only). */
#define VHOSTCTL_VU_SHMEM_MAP_RW 0x1u

/**
 * vhostctl_vu_shmem_region() - a shared memory region reserved by the frontend
 * @dev: a vhost-user handle with SHMEM negotiated
 * @shmid: the region, below the count the backend declared
 * @addr: where to store its address in this process, or NULL
 * @size: where to store its size in bytes, or NULL
 *
 * With SHMEM, the handle reads the backend's regions (GET_SHMEM_CONFIG) when
 * it connects and reserves each one (an anonymous PROT_NONE mapping of that
 * size, page-rounded).  Ranges the backend maps with BACKEND_SHMEM_MAP (served
 * by vhostctl_vu_serve_backend()) appear there; unmapped ranges are reserved
 * again, never readable.  A region of size 0 is not reserved.  The address
 * stays valid until vhostctl_dev_close(); vhostctl_vu_reconnect() drops every
 * mapping, and keeps the address when the new backend declares the same size.
 *
 * Return: 0, -EOPNOTSUPP without SHMEM, -ENOENT for a region the backend did
 * not declare (or of size 0), or -errno.
 */
VHOSTCTL_API int vhostctl_vu_shmem_region(struct vhostctl_dev *dev, unsigned int shmid, void **addr,
					  uint64_t *size);

/**
 * vhostctl_vu_backend_set_shmem() - declare the device's shared memory regions
 * @be: the backend, before it serves a frontend
 * @sizes: the size of each region in bytes (page multiples), shmid 0 first
 * @n: how many, at most VHOSTCTL_VU_SHMEM_MAX_REGIONS; 0 withdraws SHMEM
 *
 * The backend then offers SHMEM (unless its protocol_features option leaves
 * it out) and answers GET_SHMEM_CONFIG with these sizes.
 *
 * Return: 0, -EINVAL for a bad count or size, -EBUSY while a frontend is served.
 */
VHOSTCTL_API int vhostctl_vu_backend_set_shmem(struct vhostctl_vu_backend *be, const uint64_t *sizes,
					       unsigned int n);

/**
 * vhostctl_vu_backend_shmem_map() - map a file range into a frontend's region
 * @be: the backend, SHMEM and BACKEND_REQ negotiated
 * @shmid: the region
 * @shm_offset: where in the region (page aligned)
 * @fd: the file (a memfd, say); borrowed: the frontend receives its own copy
 * @fd_offset: where in the file (page aligned)
 * @len: how many bytes (a page multiple)
 * @flags: VHOSTCTL_VU_SHMEM_MAP_RW, or 0 for read-only
 *
 * Sends BACKEND_SHMEM_MAP and, with REPLY_ACK, waits for the frontend's
 * answer (it refuses a range outside the region, overlapping a mapping, or
 * beyond the end of a regular file).  Call it from the thread that
 * dispatches the backend (a callback, or the application's loop while
 * vhostctl_vu_backend_start() is not running): the frontend must serve its
 * backend channel meanwhile.
 *
 * Return: 0, -EIO when the frontend refused, -ENOTCONN without a backend
 * channel, -EOPNOTSUPP without SHMEM, -EINVAL for bad arguments, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_shmem_map(struct vhostctl_vu_backend *be, unsigned int shmid,
					       uint64_t shm_offset, int fd, uint64_t fd_offset,
					       uint64_t len, unsigned int flags);

/**
 * vhostctl_vu_backend_shmem_unmap() - take a mapping out of a frontend's region
 * @be: the backend, SHMEM and BACKEND_REQ negotiated
 * @shmid: the region
 * @shm_offset: the mapping's start, as given to vhostctl_vu_backend_shmem_map()
 * @len: its whole length
 *
 * Sends BACKEND_SHMEM_UNMAP; the frontend puts the range back to its
 * inaccessible reservation.  Same thread rule as vhostctl_vu_backend_shmem_map().
 *
 * Return: 0, -EIO when the frontend refused (no mapping with exactly this
 * start and length), -ENOTCONN, -EOPNOTSUPP, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_shmem_unmap(struct vhostctl_vu_backend *be, unsigned int shmid,
						 uint64_t shm_offset, uint64_t len);

/* ---- shared objects ---------------------------------------------------- */

/** struct vhostctl_vu_objects - a frontend's table of shared objects (opaque) */
struct vhostctl_vu_objects;

/**
 * vhostctl_vu_objects_new() - a table of shared objects
 * @max: the most entries it holds, 1..4096
 *
 * One table may serve several vhost-user handles (the devices of one
 * machine): attach it to each with vhostctl_vu_set_objects().  Its lock
 * makes it safe to share between handles used by different threads, but a
 * lookup of an object exported by another handle sends GET_SHARED_OBJECT on
 * that handle: handles sharing a table are then used by one thread.
 *
 * Return: the table, or NULL with errno set.
 */
VHOSTCTL_API struct vhostctl_vu_objects *vhostctl_vu_objects_new(unsigned int max);

/**
 * vhostctl_vu_objects_free() - free a table and close the fds it holds
 * @t: the table, or NULL; every handle it was attached to closed or detached
 */
VHOSTCTL_API void vhostctl_vu_objects_free(struct vhostctl_vu_objects *t);

/**
 * vhostctl_vu_objects_add() - export an object of this process
 * @t: the table
 * @uuid: the object's UUID
 * @fd: its fd (a dma-buf, a memfd); duplicated, the caller keeps @fd
 *
 * A backend's BACKEND_SHARED_OBJECT_LOOKUP of @uuid is answered with a copy of @fd.
 *
 * Return: 0, -EEXIST for a UUID in the table, -ENOSPC when it is full, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_objects_add(struct vhostctl_vu_objects *t, const uint8_t uuid[16], int fd);

/**
 * vhostctl_vu_objects_remove() - withdraw an object added by this process
 * @t: the table
 * @uuid: the object's UUID
 *
 * Return: 0, -ENOENT when no object of this process has @uuid.
 */
VHOSTCTL_API int vhostctl_vu_objects_remove(struct vhostctl_vu_objects *t, const uint8_t uuid[16]);

/**
 * vhostctl_vu_objects_count() - entries in a table
 * @t: the table
 *
 * Return: the count, or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vu_objects_count(struct vhostctl_vu_objects *t);

/**
 * vhostctl_vu_set_objects() - serve a backend's shared objects from a table
 * @dev: a vhost-user handle
 * @t: the table, or NULL to detach (the handle's exports are removed)
 *
 * With SHARED_OBJECT negotiated, vhostctl_vu_serve_backend() then serves
 * BACKEND_SHARED_OBJECT_ADD (the backend becomes the UUID's exporter),
 * _REMOVE (only by its exporter) and _LOOKUP (answered with the object's
 * fd: one added by this process, or one asked from the exporting backend
 * with GET_SHARED_OBJECT).  Without a table they are refused.  Closing the
 * handle removes its exports; free the table after its handles.
 *
 * Return: 0, -ENOTTY for a handle of another transport, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_set_objects(struct vhostctl_dev *dev, struct vhostctl_vu_objects *t);

/**
 * vhostctl_vu_get_shared_object() - ask the backend for an object it exports
 * @dev: a vhost-user handle with SHARED_OBJECT negotiated
 * @uuid: the object's UUID
 * @fd: where to store the object's fd (owned by the caller)
 *
 * Sends GET_SHARED_OBJECT.
 *
 * Return: 0, -ENOENT when the backend has no such object, -EOPNOTSUPP
 * without SHARED_OBJECT, -EPROTO for a success reply without an fd, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_get_shared_object(struct vhostctl_dev *dev, const uint8_t uuid[16],
					       int *fd);

/**
 * typedef vhostctl_vu_object_fn - the fd of an object a backend exports
 * @be: the backend
 * @uuid: the object the frontend asks for (GET_SHARED_OBJECT)
 * @ctx: the backend's ctx
 *
 * Return: an fd, still owned by the application (the library sends a copy),
 * or a negative errno: the frontend is told there is no such object.
 */
typedef int (*vhostctl_vu_object_fn)(struct vhostctl_vu_backend *be, const uint8_t uuid[16],
				     void *ctx);

/**
 * vhostctl_vu_backend_set_objects() - offer SHARED_OBJECT
 * @be: the backend, before it serves a frontend
 * @fn: answers GET_SHARED_OBJECT; NULL refuses every one (a backend that
 *      only looks objects up)
 *
 * Return: 0, -EBUSY while a frontend is served, or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vu_backend_set_objects(struct vhostctl_vu_backend *be,
						 vhostctl_vu_object_fn fn);

/**
 * vhostctl_vu_backend_object_add() - tell the frontend this backend exports an object
 * @be: the backend, SHARED_OBJECT and BACKEND_REQ negotiated
 * @uuid: the object's UUID
 *
 * BACKEND_SHARED_OBJECT_ADD, acknowledged with REPLY_ACK.  Same thread rule
 * as vhostctl_vu_backend_shmem_map().
 *
 * Return: 0, -EIO when the frontend refused (full table, a UUID exported
 * by another), -ENOTCONN, -EOPNOTSUPP, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_object_add(struct vhostctl_vu_backend *be, const uint8_t uuid[16]);

/**
 * vhostctl_vu_backend_object_remove() - withdraw an object this backend exported
 * @be: the backend, SHARED_OBJECT and BACKEND_REQ negotiated
 * @uuid: the object's UUID
 *
 * Return: 0, -EIO when the frontend refused (not this backend's), or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_object_remove(struct vhostctl_vu_backend *be,
						   const uint8_t uuid[16]);

/**
 * vhostctl_vu_backend_object_lookup() - get the fd of a shared object
 * @be: the backend, SHARED_OBJECT and BACKEND_REQ negotiated
 * @uuid: the object's UUID
 * @fd: where to store the fd (owned by the caller)
 *
 * BACKEND_SHARED_OBJECT_LOOKUP; the frontend answers with the fd of the
 * object, exported by itself or by another of its backends.
 *
 * Return: 0, -ENOENT when the frontend has no such object, -ENOTCONN,
 * -EOPNOTSUPP, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_backend_object_lookup(struct vhostctl_vu_backend *be,
						   const uint8_t uuid[16], int *fd);

/* ---- GPU socket -------------------------------------------------------- */

/**
 * vhostctl_vu_gpu_set_socket() - give a GPU backend its vhost-user-gpu socket
 * @dev: a vhost-user handle
 * @fd: a connected socket; borrowed: the backend receives its own copy
 *
 * GPU_SET_SOCKET, acknowledged with REPLY_ACK.  What travels on the socket
 * (the vhost-user-gpu protocol) is the caller's business.
 *
 * Return: 0, -EIO when the backend refused, -EBADF for a negative fd, or -errno.
 */
VHOSTCTL_API int vhostctl_vu_gpu_set_socket(struct vhostctl_dev *dev, int fd);

/**
 * typedef vhostctl_vu_gpu_socket_fn - a GPU socket from the frontend
 * @be: the backend
 * @fd: the socket; the application owns it when this returns 0
 * @ctx: the backend's ctx
 *
 * Return: 0 to take it, or a negative errno to refuse (the library closes it).
 */
typedef int (*vhostctl_vu_gpu_socket_fn)(struct vhostctl_vu_backend *be, int fd, void *ctx);

/**
 * vhostctl_vu_backend_set_gpu_socket() - take GPU_SET_SOCKET
 * @be: the backend
 * @fn: called with each socket the frontend sends; NULL refuses them
 *
 * Return: 0, -EBUSY while a frontend is served, or -EINVAL.
 */
VHOSTCTL_API int vhostctl_vu_backend_set_gpu_socket(struct vhostctl_vu_backend *be,
						    vhostctl_vu_gpu_socket_fn fn);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_VU_SHARE_H */
