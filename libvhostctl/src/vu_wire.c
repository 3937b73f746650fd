// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vhost-user wire layer: framing, fds in SCM_RIGHTS, the name tables and the
 * size/fd rules of every message.  Strict on what we send (one sendmsg with
 * the header, the payload and the fds), validating on what we receive: a
 * message that breaks a rule is refused with a reason, its fds closed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vu.h"

/*
 * One row per frontend request, read by the wire check (size and fd rules),
 * by the backend's dispatch (gate, vring index, handler) and by the
 * frontend's reply check.  A row with a name only is a request we know of
 * and do not implement.
 */
#define PF(bit) (VHOSTCTL_VU_PF_##bit + 1)
#define NO_PF 0

static const struct vhc_vu_req_info req_info[VHC_VU_REQ_MAX + 1] = {
	[VHC_VU_GET_FEATURES] = { "GET_FEATURES", SZ_NONE, FD_NONE, 0, 0, NO_PF, IDX_NONE,
		vhc_be_get_features, .reply = 8 },
	[VHC_VU_SET_FEATURES] = { "SET_FEATURES", SZ_EXACT, FD_NONE, 8, 8, NO_PF, IDX_NONE,
		vhc_be_set_features },
	[VHC_VU_SET_OWNER] = { "SET_OWNER", SZ_NONE, FD_NONE, 0, 0, NO_PF, IDX_NONE, vhc_be_set_owner },
	[VHC_VU_RESET_OWNER] = { "RESET_OWNER", SZ_NONE, FD_NONE, 0, 0, NO_PF, IDX_NONE, vhc_be_reset },
	[VHC_VU_SET_MEM_TABLE] = { "SET_MEM_TABLE",
		SZ_MEM, FD_MEM, 8, sizeof(struct vhc_vu_mem), NO_PF, IDX_NONE,
		vhc_be_set_mem_table },
	/* The spec says u64, QEMU sends the 16-byte log struct. */
	[VHC_VU_SET_LOG_BASE] = { "SET_LOG_BASE",
		SZ_RANGE, FD_OPT, 8, 16, PF(LOG_SHMFD), IDX_NONE, vhc_be_set_log_base,
		.reply = REPLY_ANY },
	[VHC_VU_SET_LOG_FD] = { "SET_LOG_FD", SZ_RANGE, FD_OPT, 0, 8, NO_PF, IDX_NONE, vhc_be_set_log_fd },
	[VHC_VU_SET_VRING_NUM] = { "SET_VRING_NUM", SZ_EXACT, FD_NONE, 8, 8, NO_PF, IDX_STATE,
		vhc_be_set_vring_num },
	[VHC_VU_SET_VRING_ADDR] = { "SET_VRING_ADDR", SZ_EXACT, FD_NONE, 40, 40, NO_PF, IDX_STATE,
		vhc_be_set_vring_addr },
	[VHC_VU_SET_VRING_BASE] = { "SET_VRING_BASE", SZ_EXACT, FD_NONE, 8, 8, NO_PF, IDX_STATE,
		vhc_be_set_vring_base },
	[VHC_VU_GET_VRING_BASE] = { "GET_VRING_BASE", SZ_EXACT, FD_NONE, 8, 8, NO_PF, IDX_STATE,
		vhc_be_get_vring_base, .reply = 8 },
	[VHC_VU_SET_VRING_KICK] = { "SET_VRING_KICK", SZ_EXACT, FD_VRING, 8, 8, NO_PF, IDX_U64,
		vhc_be_set_vring_kick },
	[VHC_VU_SET_VRING_CALL] = { "SET_VRING_CALL", SZ_EXACT, FD_VRING, 8, 8, NO_PF, IDX_U64,
		vhc_be_set_vring_call },
	[VHC_VU_SET_VRING_ERR] = { "SET_VRING_ERR", SZ_EXACT, FD_VRING, 8, 8, NO_PF, IDX_U64,
		vhc_be_set_vring_err },
	[VHC_VU_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES",
		SZ_NONE, FD_NONE, 0, 0, NO_PF, IDX_NONE, vhc_be_get_protocol_features, .reply = 8 },
	[VHC_VU_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES",
		SZ_EXACT, FD_NONE, 8, 8, NO_PF, IDX_NONE, vhc_be_set_protocol_features },
	[VHC_VU_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", SZ_NONE, FD_NONE, 0, 0, PF(MQ), IDX_NONE,
		vhc_be_get_queue_num, .reply = 8 },
	[VHC_VU_SET_VRING_ENABLE] = { "SET_VRING_ENABLE",
		SZ_EXACT, FD_NONE, 8, 8, NO_PF, IDX_STATE, vhc_be_set_vring_enable },
	[VHC_VU_SEND_RARP] = { "SEND_RARP", SZ_EXACT, FD_NONE, 8, 8, PF(RARP), IDX_NONE },
	[VHC_VU_NET_SET_MTU] = { "NET_SET_MTU", SZ_EXACT, FD_NONE, 8, 8, PF(MTU), IDX_NONE },
	[VHC_VU_SET_BACKEND_REQ_FD] = { "SET_BACKEND_REQ_FD",
		SZ_NONE, FD_ONE, 0, 0, PF(BACKEND_REQ), IDX_NONE, vhc_be_set_backend_req_fd },
	[VHC_VU_IOTLB_MSG] = { "IOTLB_MSG" },
	[VHC_VU_SET_VRING_ENDIAN] = { "SET_VRING_ENDIAN",
		SZ_EXACT, FD_NONE, 8, 8, PF(CROSS_ENDIAN), IDX_STATE, vhc_be_set_vring_endian },
	[VHC_VU_GET_CONFIG] = { "GET_CONFIG",
		SZ_CONFIG, FD_NONE, 12, 12 + VHC_VU_MAX_CONFIG, PF(CONFIG), IDX_NONE,
		vhc_be_get_config, .reply = REPLY_ANY },
	[VHC_VU_SET_CONFIG] = { "SET_CONFIG",
		SZ_CONFIG, FD_NONE, 12, 12 + VHC_VU_MAX_CONFIG, PF(CONFIG), IDX_NONE,
		vhc_be_set_config },
	[VHC_VU_CREATE_CRYPTO_SESSION] = { "CREATE_CRYPTO_SESSION" },
	[VHC_VU_CLOSE_CRYPTO_SESSION] = { "CLOSE_CRYPTO_SESSION" },
	/* ADVISE's reply is empty and carries the userfaultfd. */
	[VHC_VU_POSTCOPY_ADVISE] = { "POSTCOPY_ADVISE", SZ_NONE, FD_NONE, 0, 0, PF(PAGEFAULT),
		IDX_NONE, vhc_be_postcopy_advise, .reply = 0, .reply_fds = 1 },
	[VHC_VU_POSTCOPY_LISTEN] = { "POSTCOPY_LISTEN", SZ_NONE, FD_NONE, 0, 0, PF(PAGEFAULT),
		IDX_NONE, vhc_be_postcopy_listen },
	[VHC_VU_POSTCOPY_END] = { "POSTCOPY_END", SZ_NONE, FD_NONE, 0, 0, PF(PAGEFAULT),
		IDX_NONE, vhc_be_postcopy_end, .reply = 8 },
	[VHC_VU_GET_INFLIGHT_FD] = { "GET_INFLIGHT_FD",
		SZ_RANGE, FD_NONE, 20, 24, PF(INFLIGHT_SHMFD), IDX_NONE, vhc_be_get_inflight_fd,
		.reply = 24, .reply_fds = 1 },
	[VHC_VU_SET_INFLIGHT_FD] = { "SET_INFLIGHT_FD",
		SZ_RANGE, FD_ONE, 20, 24, PF(INFLIGHT_SHMFD), IDX_NONE, vhc_be_set_inflight_fd },
	[VHC_VU_GPU_SET_SOCKET] = { "GPU_SET_SOCKET",
		SZ_NONE, FD_ONE, 0, 0, NO_PF, IDX_NONE, vhc_be_gpu_set_socket },
	[VHC_VU_RESET_DEVICE] = { "RESET_DEVICE",
		SZ_NONE, FD_NONE, 0, 0, PF(RESET_DEVICE), IDX_NONE, vhc_be_reset },
	[VHC_VU_VRING_KICK] = { "VRING_KICK",
		SZ_EXACT, FD_NONE, 8, 8, PF(INBAND_NOTIFICATIONS), IDX_STATE, vhc_be_vring_kick },
	[VHC_VU_GET_MAX_MEM_SLOTS] = { "GET_MAX_MEM_SLOTS",
		SZ_NONE, FD_NONE, 0, 0, PF(CONFIGURE_MEM_SLOTS), IDX_NONE,
		vhc_be_get_max_mem_slots, .reply = 8 },
	[VHC_VU_ADD_MEM_REG] = { "ADD_MEM_REG",
		SZ_EXACT, FD_ONE, 40, 40, PF(CONFIGURE_MEM_SLOTS), IDX_NONE, vhc_be_add_mem_reg },
	[VHC_VU_REM_MEM_REG] = { "REM_MEM_REG",
		SZ_EXACT, FD_OPT, 40, 40, PF(CONFIGURE_MEM_SLOTS), IDX_NONE, vhc_be_rem_mem_reg },
	[VHC_VU_SET_STATUS] = { "SET_STATUS", SZ_EXACT, FD_NONE, 8, 8, PF(STATUS), IDX_NONE,
		vhc_be_set_status },
	[VHC_VU_GET_STATUS] = { "GET_STATUS", SZ_NONE, FD_NONE, 0, 0, PF(STATUS), IDX_NONE,
		vhc_be_get_status, .reply = 8 },
	[VHC_VU_GET_SHARED_OBJECT] = { "GET_SHARED_OBJECT",
		SZ_EXACT, FD_NONE, 16, 16, PF(SHARED_OBJECT), IDX_NONE, vhc_be_get_shared_object,
		.reply = 8, .reply_fds = 1 },
	[VHC_VU_SET_DEVICE_STATE_FD] = { "SET_DEVICE_STATE_FD",
		SZ_EXACT, FD_ONE, 8, 8, PF(DEVICE_STATE), IDX_NONE, vhc_be_set_device_state_fd,
		.reply = 8, .reply_fds = 1 },
	[VHC_VU_CHECK_DEVICE_STATE] = { "CHECK_DEVICE_STATE",
		SZ_NONE, FD_NONE, 0, 0, PF(DEVICE_STATE), IDX_NONE, vhc_be_check_device_state,
		.reply = 8 },
	/* Its reply is checked by the frontend (vu_shmem.c): 8 + 8 per region. */
	[VHC_VU_GET_SHMEM_CONFIG] = { "GET_SHMEM_CONFIG",
		SZ_NONE, FD_NONE, 0, 0, PF(SHMEM), IDX_NONE, vhc_be_get_shmem_config,
		.reply = REPLY_ANY },
	[VHC_VU_GET_VRING_BASE_SKIP_DRAIN] = { "GET_VRING_BASE_SKIP_DRAIN",
		SZ_EXACT, FD_NONE, 8, 8, PF(GET_VRING_BASE_SKIP_DRAIN), IDX_NONE, .reply = 8 },
};

#undef PF

static const char *const be_req_names[VHC_VU_BE_REQ_MAX + 1] = {
	[VHC_VU_BE_IOTLB_MSG] = "BACKEND_IOTLB_MSG",
	[VHC_VU_BE_CONFIG_CHANGE_MSG] = "BACKEND_CONFIG_CHANGE_MSG",
	[VHC_VU_BE_VRING_HOST_NOTIFIER_MSG] = "BACKEND_VRING_HOST_NOTIFIER_MSG",
	[VHC_VU_BE_VRING_CALL] = "BACKEND_VRING_CALL",
	[VHC_VU_BE_VRING_ERR] = "BACKEND_VRING_ERR",
	[VHC_VU_BE_SHARED_OBJECT_ADD] = "BACKEND_SHARED_OBJECT_ADD",
	[VHC_VU_BE_SHARED_OBJECT_REMOVE] = "BACKEND_SHARED_OBJECT_REMOVE",
	[VHC_VU_BE_SHARED_OBJECT_LOOKUP] = "BACKEND_SHARED_OBJECT_LOOKUP",
	[VHC_VU_BE_SHMEM_MAP] = "BACKEND_SHMEM_MAP",
	[VHC_VU_BE_SHMEM_UNMAP] = "BACKEND_SHMEM_UNMAP",
};

static const char *const proto_names[] = {
	"MQ", "LOG_SHMFD", "RARP", "REPLY_ACK", "MTU", "BACKEND_REQ", "CROSS_ENDIAN",
	"CRYPTO_SESSION", "PAGEFAULT", "CONFIG", "BACKEND_SEND_FD", "HOST_NOTIFIER",
	"INFLIGHT_SHMFD", "RESET_DEVICE", "INBAND_NOTIFICATIONS", "CONFIGURE_MEM_SLOTS",
	"STATUS", "XEN_MMAP", "SHARED_OBJECT", "DEVICE_STATE", "GET_VRING_BASE_INFLIGHT",
	"GPA_ADDRESSES", "SHMEM", "GET_VRING_BASE_SKIP_DRAIN",
};

const struct vhc_vu_req_info *vhc_vu_req_info(uint32_t req)
{
	return req <= VHC_VU_REQ_MAX && req_info[req].name ? &req_info[req] : NULL;
}

const char *vhc_vu_req_name(uint32_t req)
{
	const struct vhc_vu_req_info *ri = vhc_vu_req_info(req);

	return ri ? ri->name : "UNKNOWN";
}

const char *vhc_vu_be_req_name(uint32_t req)
{
	if (req <= VHC_VU_BE_REQ_MAX && be_req_names[req])
		return be_req_names[req];
	return "UNKNOWN";
}

VHC_EXPORT const char *vhostctl_vu_request_name(unsigned int request, int backend_channel)
{
	return backend_channel ? vhc_vu_be_req_name(request) : vhc_vu_req_name(request);
}

VHC_EXPORT const char *vhostctl_vu_protocol_feature_name(unsigned int bit)
{
	if (bit < VHC_ARRAY_SIZE(proto_names))
		return proto_names[bit];
	return NULL;
}

void vhc_vu_msg_init(struct vhc_vu_msg *m, uint32_t req, uint32_t flags, uint32_t size)
{
	m->hdr.request = req;
	m->hdr.flags = VHC_VU_VERSION | flags;
	m->hdr.size = size;
	m->nfds = 0;
}

void vhc_vu_msg_close_fds(struct vhc_vu_msg *m)
{
	for (unsigned int i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

int vhc_vu_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if ((p.revents & (POLLERR | POLLNVAL)) ||
	    ((p.revents & POLLHUP) && !(p.revents & POLLIN)))
		return -ECONNRESET;
	return 0;
}

int vhc_vu_send_fds(int sock, const struct vhc_vu_msg *m, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHC_VU_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov[2] = {
		{ .iov_base = (void *)&m->hdr, .iov_len = VHC_VU_HDR_SIZE },
		{ .iov_base = (void *)&m->p, .iov_len = m->hdr.size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = m->hdr.size ? 2 : 1 };
	size_t total = VHC_VU_HDR_SIZE + m->hdr.size, done = 0;
	ssize_t n;

	if (nfds > VHC_VU_MAX_FDS || m->hdr.size > VHC_VU_MAX_PAYLOAD)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	/* The fds ride on the first byte; a short write resends the rest without them. */
	while (done < total) {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				int r = vhc_vu_wait(sock, POLLOUT, 5000);

				if (r)
					return r;
				continue;
			}
			return -errno;
		}
		done += (size_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (n > 0 && mh.msg_iovlen) {
			if ((size_t)n >= mh.msg_iov->iov_len) {
				n -= (ssize_t)mh.msg_iov->iov_len;
				mh.msg_iov++;
				mh.msg_iovlen--;
			} else {
				mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
				mh.msg_iov->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
}

int vhc_vu_send(int sock, const struct vhc_vu_msg *m)
{
	return vhc_vu_send_fds(sock, m, m->fds, m->nfds);
}

static void why_set(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* Read exactly len bytes; the peer has 1 s to send the rest of a message. */
static int read_full(int sock, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		n = recv(sock, (char *)buf + done, len - done, MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = vhc_vu_wait(sock, POLLIN, 1000);
		if (r)
			return r == -ETIMEDOUT ? -EPROTO : r;
	}
	return 0;
}

int vhc_vu_recv(int sock, struct vhc_vu_msg *m, int timeout_ms, char *why, size_t whylen)
{
	/* Room for more than we accept, so that surplus fds are seen and closed. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * 32)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &m->hdr, .iov_len = VHC_VU_HDR_SIZE };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	unsigned int surplus = 0;
	ssize_t n;
	int r;

	m->nfds = 0;
	if (timeout_ms) {
		r = vhc_vu_wait(sock, POLLIN, timeout_ms);
		if (r) {
			why_set(why, whylen, r == -ETIMEDOUT ? "no message in time" : "connection closed");
			return r;
		}
	}
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		why_set(why, whylen, "recvmsg: %s", strerror(errno));
		return -errno;
	}
	if (n == 0) {
		why_set(why, whylen, "connection closed");
		return -ECONNRESET;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t cnt;
		int *fdp;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fdp = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, fdp + i, sizeof(fd));
			if (m->nfds < VHC_VU_MAX_FDS) {
				m->fds[m->nfds++] = fd;
			} else {
				close(fd);
				surplus++;
			}
		}
	}
	if (mh.msg_flags & MSG_CTRUNC)
		surplus++;
	if ((size_t)n < VHC_VU_HDR_SIZE) {
		r = read_full(sock, (char *)&m->hdr + n, VHC_VU_HDR_SIZE - (size_t)n);
		if (r) {
			why_set(why, whylen, "short header");
			goto err;
		}
	}
	if (surplus) {
		why_set(why, whylen, "%s with more than %u fds", vhc_vu_req_name(m->hdr.request),
			VHC_VU_MAX_FDS);
		r = -EPROTO;
		goto err;
	}
	if ((m->hdr.flags & VHC_VU_VERSION_MASK) != VHC_VU_VERSION ||
	    (m->hdr.flags & ~(VHC_VU_VERSION_MASK | VHC_VU_REPLY | VHC_VU_NEED_REPLY))) {
		why_set(why, whylen, "bad header flags 0x%x", m->hdr.flags);
		r = -EPROTO;
		goto err;
	}
	if (m->hdr.size > VHC_VU_MAX_PAYLOAD) {
		why_set(why, whylen, "%s: payload of %u bytes is too large",
			vhc_vu_req_name(m->hdr.request), m->hdr.size);
		r = -EMSGSIZE;
		goto err;
	}
	if (m->hdr.size) {
		r = read_full(sock, &m->p, m->hdr.size);
		if (r) {
			why_set(why, whylen, "%s: short payload", vhc_vu_req_name(m->hdr.request));
			goto err;
		}
	}
	return 0;
err:
	vhc_vu_msg_close_fds(m);
	return r;
}


/* Backend-to-frontend requests the frontend takes: the same rules. */
static const struct vhc_vu_req_info be_info[VHC_VU_BE_REQ_MAX + 1] = {
	[VHC_VU_BE_CONFIG_CHANGE_MSG] = { "BACKEND_CONFIG_CHANGE_MSG", SZ_NONE, FD_NONE, 0, 0 },
	[VHC_VU_BE_VRING_CALL] = { "BACKEND_VRING_CALL", SZ_EXACT, FD_NONE, 8, 8 },
	[VHC_VU_BE_VRING_ERR] = { "BACKEND_VRING_ERR", SZ_EXACT, FD_NONE, 8, 8 },
	/* Shared objects (a UUID) and shared memory (vu_shobj.c, vu_shmem.c). */
	[VHC_VU_BE_SHARED_OBJECT_ADD] = { "BACKEND_SHARED_OBJECT_ADD", SZ_EXACT, FD_NONE, 16, 16 },
	[VHC_VU_BE_SHARED_OBJECT_REMOVE] = { "BACKEND_SHARED_OBJECT_REMOVE",
		SZ_EXACT, FD_NONE, 16, 16 },
	[VHC_VU_BE_SHARED_OBJECT_LOOKUP] = { "BACKEND_SHARED_OBJECT_LOOKUP",
		SZ_EXACT, FD_NONE, 16, 16 },
	/* A map without its fd is refused with an answer, the channel kept. */
	[VHC_VU_BE_SHMEM_MAP] = { "BACKEND_SHMEM_MAP", SZ_EXACT, FD_OPT, 40, 40 },
	[VHC_VU_BE_SHMEM_UNMAP] = { "BACKEND_SHMEM_UNMAP", SZ_EXACT, FD_NONE, 40, 40 },
};

static int check(const struct vhc_vu_req_info *rules, size_t nrules, const char *name,
		 const struct vhc_vu_msg *m, char *why, size_t whylen)
{
	uint32_t sz = m->hdr.size, req = m->hdr.request;
	const struct vhc_vu_req_info *ru;
	unsigned int want;

	if (req >= nrules || rules[req].sz == SZ_UNKNOWN) {
		why_set(why, whylen, "unsupported request %u (%s)", req, name);
		return -EOPNOTSUPP;
	}
	ru = &rules[req];
	switch (ru->sz) {
	case SZ_NONE:
		if (sz) {
			why_set(why, whylen, "%s: payload of %u bytes, expected none", name, sz);
			return -EPROTO;
		}
		break;
	case SZ_EXACT:
	case SZ_RANGE:
		if (sz < ru->min || sz > ru->max) {
			why_set(why, whylen, "%s: payload of %u bytes, expected %u..%u", name, sz,
				ru->min, ru->max);
			return -EPROTO;
		}
		break;
	case SZ_MEM:
		if (sz < 8 || sz > ru->max) {
			why_set(why, whylen, "%s: payload of %u bytes", name, sz);
			return -EPROTO;
		}
		if (m->p.mem.nregions > VHC_VU_MEM_REGIONS ||
		    sz < 8 + m->p.mem.nregions * sizeof(struct vhc_vu_region)) {
			why_set(why, whylen, "%s: %u regions in %u bytes", name,
				m->p.mem.nregions, sz);
			return -EPROTO;
		}
		break;
	case SZ_CONFIG:
		if (sz < 12 || sz > ru->max || m->p.config.size > VHC_VU_MAX_CONFIG ||
		    (req == VHC_VU_SET_CONFIG && sz < 12 + m->p.config.size)) {
			why_set(why, whylen, "%s: payload of %u bytes for %u config bytes", name,
				sz, m->p.config.size);
			return -EPROTO;
		}
		break;
	default:
		break;
	}
	switch (ru->fd) {
	case FD_NONE:
		want = 0;
		break;
	case FD_ONE:
		want = 1;
		break;
	case FD_VRING:
		want = (m->p.u64 & VHC_VU_VRING_NOFD) ? 0 : 1;
		break;
	case FD_MEM:
		want = m->p.mem.nregions;
		break;
	default:
		/* FD_OPT: one fd or none; a handler takes fds[0] and no more. */
		if (m->nfds > 1) {
			why_set(why, whylen, "%s: %u fds, expected at most 1", name, m->nfds);
			return -EPROTO;
		}
		return 0;
	}
	if (m->nfds != want) {
		why_set(why, whylen, "%s: %u fds, expected %u", name, m->nfds, want);
		return -EPROTO;
	}
	return 0;
}

int vhc_vu_check_request(const struct vhc_vu_msg *m, char *why, size_t whylen)
{
	if (m->hdr.flags & VHC_VU_REPLY) {
		why_set(why, whylen, "%s: reply flag on a request", vhc_vu_req_name(m->hdr.request));
		return -EPROTO;
	}
	return check(req_info, VHC_ARRAY_SIZE(req_info), vhc_vu_req_name(m->hdr.request), m,
		     why, whylen);
}

int vhc_vu_check_be_request(const struct vhc_vu_msg *m, char *why, size_t whylen)
{
	if (m->hdr.flags & VHC_VU_REPLY) {
		why_set(why, whylen, "%s: reply flag on a request",
			vhc_vu_be_req_name(m->hdr.request));
		return -EPROTO;
	}
	return check(be_info, VHC_ARRAY_SIZE(be_info), vhc_vu_be_req_name(m->hdr.request), m,
		     why, whylen);
}
