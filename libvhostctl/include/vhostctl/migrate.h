/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Live migration of a vDPA device: suspend it and capture, in one
 * self-describing blob, what another device of the same kind needs to take
 * over (status, features, config space, each ring's size, addresses, indexes
 * and enabled state); then restore that blob onto a fresh /dev/vhost-vdpa-N
 * and start it.  The blob is versioned, little-endian and checksummed, so a
 * control plane can send it over a wire; its layout is in
 * vhostctl_vdpa_state_save(3) and Documentation/vdpa-migration.rst.
 *
 * Guest memory is not in the blob: on vhost-vdpa the VMM maps it, so moving
 * it (and tracking what the device dirties meanwhile) is the control
 * plane's job.
 */
#ifndef VHOSTCTL_MIGRATE_H
#define VHOSTCTL_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vhostctl_dev;
struct vhostctl_mem;

/** VHOSTCTL_VDPA_STATE_MAGIC - first four bytes of a blob, "VHCM" */
#define VHOSTCTL_VDPA_STATE_MAGIC 0x4d434856u
/** VHOSTCTL_VDPA_STATE_VERSION - the blob layout this library writes */
#define VHOSTCTL_VDPA_STATE_VERSION 1u

/**
 * struct vhostctl_vdpa_state_info - what a blob says about its device
 * @version: blob layout version
 * @device_id: virtio device id (1 net, 2 block, ...)
 * @vq_count: virtqueues of the saved device
 * @status: virtio status byte when saved
 * @features: negotiated virtio features
 * @backend_features: acknowledged VHOST_BACKEND_F_* bits
 * @config_len: bytes of config space in the blob
 * @nrings: rings in the blob
 * @length: bytes of the blob
 */
struct vhostctl_vdpa_state_info {
	uint32_t version;
	uint32_t device_id;
	uint32_t vq_count;
	uint8_t status;
	uint64_t features;
	uint64_t backend_features;
	uint32_t config_len;
	uint32_t nrings;
	uint32_t length;
};

/**
 * vhostctl_vdpa_state_check() - validate a blob without a device
 * @buf: the blob
 * @len: bytes at @buf; the blob may be followed by other data
 * @info: filled in when the blob is valid, or NULL
 *
 * Checks everything vhostctl_vdpa_state_restore() checks before it touches
 * a device: magic, version, lengths, checksum, counts and every field's
 * range.  Never reads past @buf + @len.
 *
 * Return: 0, -EPROTO for an unknown version, -EINVAL for anything else
 * damaged or truncated.
 */
VHOSTCTL_API int vhostctl_vdpa_state_check(const void *buf, size_t len,
					   struct vhostctl_vdpa_state_info *info);

/**
 * vhostctl_vdpa_state_save() - suspend a vDPA device and capture its state
 * @dev: a vDPA handle, set up (features, rings) through this library
 * @buf: where to write the blob, or NULL with @len 0 to learn its size
 * @len: bytes at @buf
 *
 * With a buffer, suspends the device when it is running (DRIVER_OK; this
 * needs VHOST_BACKEND_F_SUSPEND), then records the status, the acknowledged
 * features and backend features, the whole config space and, for every ring
 * set up with a size and addresses, its size, addresses, enabled state and
 * the indexes the device reports (split: next avail index; packed: avail
 * and used indexes with their wrap counters).  The device stays suspended:
 * vhostctl_dev_vdpa_resume() undoes this when the move is abandoned.
 *
 * Return: the blob's size in bytes (with NULL/0: the size needed, and the
 * device is not touched), -ENOSPC when @len is too small, -EOPNOTSUPP for a
 * handle that is not vDPA or a device that cannot suspend, or -errno.
 */
VHOSTCTL_API int vhostctl_vdpa_state_save(struct vhostctl_dev *dev, void *buf, size_t len);

/* Flags of struct vhostctl_vdpa_restore_opts. */
/** VHOSTCTL_VDPA_RESTORE_STRICT_CONFIG - fail when the config space cannot be made equal */
#define VHOSTCTL_VDPA_RESTORE_STRICT_CONFIG 0x1u

/**
 * struct vhostctl_vdpa_restore_opts - what vhostctl_vdpa_state_restore() needs
 * @sz: sizeof(struct vhostctl_vdpa_restore_opts), see VHOSTCTL_OPTS_INIT()
 * @mem: the guest memory (the VMM's), mapped as vhostctl_dev_set_mem_table()
 *       does; needed when the blob has rings.  It must outlive its use by
 *       the handle.
 * @nfds: entries in @kick_fds and @call_fds
 * @kick_fds: per ring index, the kick eventfd to bind, or -1; NULL: none
 * @call_fds: per ring index, the call eventfd to bind, or -1; NULL: none
 * @flags: VHOSTCTL_VDPA_RESTORE_*
 */
struct vhostctl_vdpa_restore_opts {
	size_t sz;
	const struct vhostctl_mem *mem;
	unsigned int nfds;
	const int *kick_fds;
	const int *call_fds;
	unsigned int flags;
};

/**
 * vhostctl_vdpa_state_restore() - bring a fresh vDPA device to a saved state
 * @dev: a vDPA handle of the same kind as the saved one, freshly opened
 * @buf: the blob from vhostctl_vdpa_state_save()
 * @len: bytes at @buf
 * @opts: memory and eventfds, see struct vhostctl_vdpa_restore_opts
 *
 * Checks the blob as vhostctl_vdpa_state_check() does and the device
 * against it (class, virtqueue count, config size, offered features) before
 * touching it; then sets backend features and owner (an owner set already
 * is fine), resets, negotiates the saved features, writes the config space
 * where it differs, sets the memory table, and per ring the size, indexes,
 * addresses, eventfds and enabled state; then the saved status, which
 * starts a device saved running, and kicks every ring with a kick eventfd
 * so that buffers posted before or during the move are seen.  When a step
 * fails after the checks, the device is reset.
 *
 * Return: 0; -EINVAL for a damaged blob or a ring the device does not have;
 * -EPROTO for an unknown blob version; -ENODEV for a device of another
 * class or config size; -EOPNOTSUPP for saved features the device does not
 * offer or a handle that is not vDPA; or the failed step's -errno.
 */
VHOSTCTL_API int vhostctl_vdpa_state_restore(struct vhostctl_dev *dev, const void *buf,
					     size_t len,
					     const struct vhostctl_vdpa_restore_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_MIGRATE_H */
