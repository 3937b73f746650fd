/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The virtio-blk device behind both transports: a disk (RAM or a file
 * mapped shared) and the request processing on the device side of a queue.
 * vu_blk.c serves it over vhost-user, vduse_blk.c over VDUSE.  Requests
 * complete before the queue call returns: nothing is in flight when the
 * transport stops or remaps a queue.
 */
#ifndef VHOSTCTL_BLK_REQ_H
#define VHOSTCTL_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include <vhostctl/devq.h>

#define VHC_BLK_SECTOR 512u
/* sizeof(struct virtio_blk_config) up to its write_zeroes fields. */
#define VHC_BLK_CONFIG_SIZE 60u

/* The disk; used by the dispatching thread only. */
struct vhc_blk {
	uint8_t *data;
	uint64_t size;
	bool file;
	bool read_only;
};

/*
 * Opens the disk: the file at @path, else the open file @fd (> 0; not
 * closed), else a zeroed RAM disk of @size bytes (a multiple of 512).  A
 * file's size must be a non-zero multiple of 512.  0 or -errno.
 */
int vhc_blk_open(struct vhc_blk *b, const char *path, int fd, uint64_t size, bool read_only);
void vhc_blk_close(struct vhc_blk *b);

/*
 * The device's feature bits and config space (@config holds
 * VHC_BLK_CONFIG_SIZE bytes, zeroed past what is set).  @seg_max: the
 * segments per request the device announces (SEG_MAX), 0 for no limit
 * announced.
 */
uint64_t vhc_blk_features(const struct vhc_blk *b, unsigned int num_queues, unsigned int seg_max);
void vhc_blk_config(const struct vhc_blk *b, unsigned int num_queues, unsigned int seg_max,
		    uint8_t *config);

/*
 * Serves up to a burst of requests on @q and flushes.  Return: 0 when the
 * queue is empty, 1 when more may wait, -errno when the driver broke the
 * protocol (a chain with no header or no status byte).
 */
int vhc_blk_queue(struct vhc_blk *b, struct vhostctl_devq *q);

#endif /* VHOSTCTL_BLK_REQ_H */
