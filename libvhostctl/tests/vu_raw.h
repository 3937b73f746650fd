/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Raw vhost-user messages for the fuzz tests: a seeded generator, sending
 * a message with fds (any size, any flags: the point is to break rules),
 * reading one whole message and closing every fd it carried.
 */
#ifndef VU_RAW_H
#define VU_RAW_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"

/* xorshift64*: every run is reproducible from the seed it prints. */
static uint64_t raw_rs;

static inline void raw_seed(uint64_t seed)
{
	raw_rs = seed * 0x9e3779b97f4a7c15ull | 1;
}

static inline uint64_t rnd(void)
{
	raw_rs ^= raw_rs >> 12;
	raw_rs ^= raw_rs << 25;
	raw_rs ^= raw_rs >> 27;
	return raw_rs * 2685821657736338717ull;
}

static inline uint64_t pick(uint64_t n)
{
	return rnd() % n;
}

/*
 * Send a header claiming @claimed payload bytes, then @size bytes of
 * payload and the fds; false when the peer is gone.
 */
static inline bool raw_sendmsg_claim(int sock, uint32_t req, uint32_t flags, uint32_t claimed,
				     const void *p, uint32_t size, const int *fds,
				     unsigned int nfds)
{
	uint8_t buf[12 + 4096];
	uint32_t h[3] = { req, flags, claimed };
	union { char b[CMSG_SPACE(sizeof(int) * 16)]; struct cmsghdr a; } u;
	struct iovec iov = { buf, 12 + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (size > 4096)
		return false;
	memcpy(buf, h, 12);
	if (size)
		memcpy(buf + 12, p, size);
	if (nfds) {
		struct cmsghdr *cm;

		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
}

/* Send header + payload + fds; false when the peer is gone. */
static inline bool raw_sendmsg(int sock, uint32_t req, uint32_t flags, const void *p, uint32_t size,
			       const int *fds, unsigned int nfds)
{
	return raw_sendmsg_claim(sock, req, flags, size, p, size, fds, nfds);
}

/* Close the fds a received message carried; keep the first in *keep if asked. */
static inline void raw_close_fds(struct msghdr *mh, int *keep)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			if (keep && *keep < 0)
				*keep = fd;
			else
				close(fd);
		}
	}
}

/*
 * Read one message (header, then its payload) within @ms.  Returns the
 * payload size, -1 when the peer is gone, -2 on timeout.
 */
static inline int raw_recvmsg(int sock, uint32_t h[3], void *p, size_t max, int ms, int *keep_fd)
{
	union { char b[CMSG_SPACE(sizeof(int) * 16)]; struct cmsghdr a; } u;
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	struct iovec iov = { h, 12 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t n;

	if (poll(&pfd, 1, ms) <= 0)
		return -2;
	n = recvmsg(sock, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;	/* the control buffer holds nothing valid */
	raw_close_fds(&mh, keep_fd);
	if (n != 12)
		return -1;
	if (h[2] > max)
		return -1;
	if (h[2] && recv(sock, p, h[2], MSG_WAITALL) != (ssize_t)h[2])
		return -1;
	return (int)h[2];
}

static inline int raw_connect_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		t_fail("connect %s: %s", path, strerror(errno));
	return fd;
}

#endif
