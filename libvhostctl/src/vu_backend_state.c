// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user backend: the DEVICE_STATE stream (SET_DEVICE_STATE_FD, then
 * CHECK_DEVICE_STATE).  The frontend only moves the bytes; their format is
 * ours, read by a backend of this library on the other side:
 *
 *   u32 magic "VHCS", u32 config_len, config[config_len], u8 status,
 *   then, when the device saves state of its own:
 *   u32 version, u32 len, state[len]
 *
 * all in host order (the two sides run on one host, or hosts of one
 * architecture, as for the rest of the vhost-user wire).  A load checks
 * everything before applying anything: a state of another config size, a
 * truncated or overlong stream, a device state newer than the device reads
 * or one it refuses leaves the device as it was, is logged with the
 * reason, counted, and fails the frontend's CHECK_DEVICE_STATE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "vu_backend.h"

#define STATE_MAGIC 0x53434856u /* "VHCS" */
#define STATE_HDR 8u
#define STATE_MAX (STATE_HDR + VHC_VU_MAX_CONFIG + 1 + STATE_HDR + VHOSTCTL_VU_STATE_MAX)

static int state_error(struct vhostctl_vu_backend *be, int err, const char *why)
{
	be_log(be, VHOSTCTL_LOG_ERR, "device state refused: %s", why);
	pthread_mutex_lock(&be->stats_lock);
	be->st_errors++;
	snprintf(be->last_error, sizeof(be->last_error), "device state: %s", why);
	pthread_mutex_unlock(&be->stats_lock);
	return err;
}

/* Write the state into the frontend's pipe (non-blocking: it must fit). */
int vhc_be_state_save(struct vhostctl_vu_backend *be, int fd)
{
	uint32_t hdr[2] = { STATE_MAGIC, be->o.config_len }, dhdr[2] = { 0, 0 };
	struct iovec iov[5] = {
		{ hdr, sizeof(hdr) },
		{ be->config, be->o.config_len },
		{ &be->status, 1 },
		{ dhdr, sizeof(dhdr) },
	};
	unsigned int n = 3;
	size_t total = sizeof(hdr) + be->o.config_len + 1;
	void *buf = NULL;
	char why[96];

	if (be->o.save_state) {
		int r;

		buf = calloc(1, VHOSTCTL_VU_STATE_MAX);
		if (!buf)
			return -ENOMEM;
		r = be->o.save_state(be, buf, VHOSTCTL_VU_STATE_MAX, be->o.ctx);
		if (r < 0 || r > (int)VHOSTCTL_VU_STATE_MAX) {
			free(buf);
			snprintf(why, sizeof(why), "the device could not save its state (%s)",
				 r < 0 ? strerror(-r) : "too long");
			return state_error(be, -EIO, why);
		}
		dhdr[0] = be->o.state_version;
		dhdr[1] = (uint32_t)r;
		iov[4] = (struct iovec){ buf, (size_t)r };
		n = 5;
		total += sizeof(dhdr) + (size_t)r;
	}
	set_nonblock(fd);
	if (writev(fd, iov, (int)n) != (ssize_t)total) {
		free(buf);
		return state_error(be, -EIO, "the frontend's pipe did not take the whole state");
	}
	free(buf);
	return 0;
}

/* Read the whole stream: the frontend wrote it (and closed its end) before CHECK. */
static ssize_t read_all(int fd, uint8_t *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0 && errno == EINTR)
			continue;
		/* Nothing more now (a frontend that kept its end open): what came is it. */
		if (r == 0 || (r < 0 && errno == EAGAIN))
			break;
		if (r < 0)
			return -errno;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

int vhc_be_state_load(struct vhostctl_vu_backend *be, int fd)
{
	uint8_t *buf = malloc(STATE_MAX + 1);
	uint32_t hdr[2], dhdr[2] = { 0, 0 };
	size_t at, left;
	char why[100];
	ssize_t n;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	n = read_all(fd, buf, STATE_MAX + 1);
	if (n < 0 || n > (ssize_t)STATE_MAX) {
		r = state_error(be, -EINVAL, n < 0 ? "cannot read the frontend's pipe" :
					       "longer than any state we save");
		goto out;
	}
	memcpy(hdr, buf, n >= 8 ? sizeof(hdr) : 0);
	if (n < 9 || hdr[0] != STATE_MAGIC || hdr[1] != be->o.config_len ||
	    (size_t)n < STATE_HDR + hdr[1] + 1) {
		snprintf(why, sizeof(why), "not a state of this device (%zd bytes; config of %u "
			 "bytes expected)", n, be->o.config_len);
		r = state_error(be, -EINVAL, why);
		goto out;
	}
	at = STATE_HDR + hdr[1] + 1;
	left = (size_t)n - at;
	if (left) {
		if (left < STATE_HDR) {
			r = state_error(be, -EINVAL, "truncated device state header");
			goto out;
		}
		memcpy(dhdr, buf + at, sizeof(dhdr));
		at += STATE_HDR;
		left -= STATE_HDR;
		if (dhdr[1] != left) {
			snprintf(why, sizeof(why), "device state of %u bytes, %zu in the stream",
				 dhdr[1], left);
			r = state_error(be, -EINVAL, why);
			goto out;
		}
		if (!be->o.load_state || dhdr[0] > be->o.state_version || !dhdr[0]) {
			if (!be->o.load_state)
				snprintf(why, sizeof(why), "version %u of %u bytes, and this device "
					 "loads no state of its own", dhdr[0], dhdr[1]);
			else
				snprintf(why, sizeof(why), "version %u; this device reads versions "
					 "1 to %u", dhdr[0], be->o.state_version);
			r = state_error(be, -EPROTONOSUPPORT, why);
			goto out;
		}
		r = be->o.load_state(be, dhdr[0], buf + at, left, be->o.ctx);
		if (r) {
			snprintf(why, sizeof(why), "version %u of %u bytes refused by the device: %s",
				 dhdr[0], dhdr[1], strerror(r < 0 ? -r : EINVAL));
			r = state_error(be, r < 0 ? r : -EINVAL, why);
			goto out;
		}
	}
	memcpy(be->config, buf + STATE_HDR, hdr[1]);
	be->status = buf[STATE_HDR + hdr[1]];
out:
	free(buf);
	return r;
}
