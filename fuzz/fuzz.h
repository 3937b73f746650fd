/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * What the fuzz targets share: a reader over the fuzzer's input that never
 * runs past its end (an exhausted input reads as zeros), the vhost-user wire
 * facts a hostile peer needs (QEMU docs/interop/vhost-user.rst), a raw
 * sender with SCM_RIGHTS fds, and an fd leak check.
 */
#ifndef VHOSTCTL_FUZZ_H
#define VHOSTCTL_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline size_t fz_left(const struct fz *f)
{
	return f->n;
}

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);

	return lo | (uint64_t)fz_u32(f) << 32;
}

/* Copy up to @len bytes; what the input lacks is zero.  Returns the bytes taken. */
static inline size_t fz_bytes(struct fz *f, void *dst, size_t len)
{
	size_t k = len < f->n ? len : f->n;

	memcpy(dst, f->p, k);
	memset((uint8_t *)dst + k, 0, len - k);
	f->p += k;
	f->n -= k;
	return k;
}

/* vhost-user header flags and the requests the targets name. */
#define FZ_VU_VERSION 0x1u
#define FZ_VU_REPLY 0x4u
#define FZ_VU_NEED_REPLY 0x8u
#define FZ_VU_HDR 12u
#define FZ_VU_MAX_FDS 8u

enum {
	FZ_GET_FEATURES = 1,
	FZ_SET_FEATURES = 2,
	FZ_SET_OWNER = 3,
	FZ_SET_MEM_TABLE = 5,
	FZ_SET_LOG_BASE = 6,
	FZ_SET_LOG_FD = 7,
	FZ_SET_VRING_NUM = 8,
	FZ_SET_VRING_ADDR = 9,
	FZ_SET_VRING_BASE = 10,
	FZ_GET_VRING_BASE = 11,
	FZ_SET_VRING_KICK = 12,
	FZ_SET_VRING_CALL = 13,
	FZ_SET_VRING_ERR = 14,
	FZ_GET_PROTOCOL_FEATURES = 15,
	FZ_SET_PROTOCOL_FEATURES = 16,
	FZ_GET_QUEUE_NUM = 17,
	FZ_SET_VRING_ENABLE = 18,
	FZ_SET_BACKEND_REQ_FD = 21,
	FZ_GET_CONFIG = 24,
	FZ_SET_CONFIG = 25,
	FZ_GET_INFLIGHT_FD = 31,
	FZ_SET_INFLIGHT_FD = 32,
	FZ_RESET_DEVICE = 34,
	FZ_GET_MAX_MEM_SLOTS = 36,
	FZ_ADD_MEM_REG = 37,
	FZ_REM_MEM_REG = 38,
	FZ_SET_STATUS = 39,
	FZ_GET_STATUS = 40,
	FZ_GET_SHARED_OBJECT = 41,
	FZ_SET_DEVICE_STATE_FD = 42,
	FZ_CHECK_DEVICE_STATE = 43,
	FZ_GET_SHMEM_CONFIG = 44,
	FZ_REQ_MAX = 45,
};

/* Backend-channel requests. */
enum {
	FZ_BE_CONFIG_CHANGE = 2,
	FZ_BE_VRING_CALL = 4,
	FZ_BE_VRING_ERR = 5,
	FZ_BE_REQ_MAX = 10,
};

#define FZ_F_LOG_ALL 26
#define FZ_F_INDIRECT 28
#define FZ_F_EVENT_IDX 29
#define FZ_F_PROTOCOL 30
#define FZ_F_VERSION_1 32
#define FZ_F_PACKED 34

/* Send one message: header, @len payload bytes, @nfds fds (those < 0 are skipped). */
static inline int fz_send(int sock, uint32_t req, uint32_t flags, uint32_t size, const void *p,
			  size_t len, const int *fds, unsigned int nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr a;
	} u;
	uint32_t hdr[3] = { req, flags, size };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)p, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	int ok[16];
	unsigned int k = 0;

	for (unsigned int i = 0; i < nfds && k < 16; i++)
		if (fds[i] >= 0)
			ok[k++] = fds[i];
	if (k) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * k);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * k);
		memcpy(CMSG_DATA(c), ok, sizeof(int) * k);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

/* Close every fd of a received message's control data, keeping the last in *@keep. */
static inline void fz_take_fds(struct msghdr *mh, int *keep)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		int n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (keep && i == n - 1) {
				if (*keep >= 0)
					close(*keep);
				*keep = fd;
			} else {
				close(fd);
			}
		}
	}
}

/*
 * Open fds below 128: a library under test must leave this unchanged per
 * input.  New fds take the lowest free number, and an input never has more
 * than a few dozen open at once, so a leaked one lands in this range.
 */
static inline int fz_count_fds(void)
{
	struct pollfd p[128];
	int n = 0;

	/* One poll() instead of 128 fcntl(): a closed fd answers POLLNVAL. */
	for (int fd = 0; fd < 128; fd++)
		p[fd] = (struct pollfd){ .fd = fd };
	if (poll(p, 128, 0) < 0)
		abort();
	for (int fd = 0; fd < 128; fd++)
		if (!(p[fd].revents & POLLNVAL))
			n++;
	return n;
}

/*
 * The sanitizers' symbolizer runs as a child over pipes, started the first
 * time libFuzzer names a function: start it before the baseline is taken, so
 * its pipes are not taken for a leak.
 */
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out, size_t len) __attribute__((weak));

/* Abort (a finding) when an input left an fd open. */
static inline void fz_check_fds(int *baseline)
{
	int n;

	if (*baseline < 0 && __sanitizer_symbolize_pc) {
		char b[128];

		__sanitizer_symbolize_pc(__builtin_return_address(0), "%F %L", b, sizeof(b));
	}
	n = fz_count_fds();
	if (*baseline < 0) {
		*baseline = n;
		return;
	}
	if (n != *baseline) {
		fprintf(stderr, "fuzz: fd leak: %d open fds, %d before the input\n", n,
			*baseline);
		for (int fd = 0; fd < 256; fd++) {
			char l[64], t[256];
			ssize_t k;

			snprintf(l, sizeof(l), "/proc/self/fd/%d", fd);
			k = readlink(l, t, sizeof(t) - 1);
			if (k > 0)
				fprintf(stderr, "fuzz:   fd %d: %.*s\n", fd, (int)k, t);
		}
		abort();
	}
}

/* FUZZ_DEBUG=1 in the environment: the library's log on stderr, to see what an input does. */
static inline void fz_log(void *ctx, int level, const char *msg)
{
	fprintf(stderr, "%s: %d: %s\n", (const char *)ctx, level, msg);
}

static inline int fz_debug(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FUZZ_DEBUG") != NULL;
	return on;
}

#endif /* VHOSTCTL_FUZZ_H */
