// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: the vhost-user frontend reading a hostile backend's
 * replies and backend-channel requests.  A thread of this program is the
 * backend: it listens on a socket, reads every request the frontend sends,
 * and answers each request that waits for a reply with the next reply of
 * the input (right or wrong request code, flags, size, payload, an fd or
 * none); when the frontend hands it the backend channel it writes the
 * input's channel requests there (config changes, vring calls and errors,
 * anything), and more after any reply the input says.  The main thread is
 * the application: it opens the device and makes the calls of the input's
 * other part.  The frontend must never crash, overrun, leak or hang past its
 * timeout; a bad reply fails that call and marks the connection broken.
 *
 * Input: u16 length of the call script, the call script (u8 options, then
 * u8 calls and their arguments), then the reply script (see reply()).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/un.h>

#include <vhostctl/mem.h>
#include <vhostctl/vhost_user.h>
#include <vhostctl/vu_share.h>

#include "fuzz.h"

#define TIMEOUT_MS 30
#define MEM_SIZE (64u << 10)

static char sock_dir[] = "/tmp/vhostctl-fuzz-XXXXXX";
static char sock_path[108];
static int listen_fd = -1;
static int fd_base = -1;

struct peer {
	struct fz rs;		/* the reply script */
	int stop;		/* eventfd: the application is done */
	int chan;		/* the backend channel, once the frontend gave it */
	bool chan_done;		/* its requests are written, or never will be */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void cleanup(void)
{
	unlink(sock_path);
	rmdir(sock_dir);
}

static void listen_once(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (listen_fd >= 0)
		return;
	if (!mkdtemp(sock_dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/sock", sock_dir);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 8) < 0)
		abort();
	atexit(cleanup);
}

/* Wait until @fd is readable; false when the application is done first. */
static bool wait_in(int fd, int stop)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = stop, .events = POLLIN } };

	return poll(p, 2, 5000) > 0 && p[0].revents;
}

/* A request of the frontend: header and payload; fds closed but the last, in *fd. */
static bool read_request(int conn, int stop, uint32_t hdr[3], uint8_t *payload, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr a;
	} u;
	struct iovec iov = { hdr, 12 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	size_t got = 0;

	if (!wait_in(conn, stop) || recvmsg(conn, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL) != 12)
		return false;
	fz_take_fds(&mh, fd);
	if (hdr[2] > 4096)
		return false;	/* never from our frontend */
	while (got < hdr[2]) {
		ssize_t n = wait_in(conn, stop) ? read(conn, payload + got, hdr[2] - got) : -1;

		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* The requests whose answer the frontend waits for, besides NEED_REPLY ones. */
static bool wants_reply(uint32_t req)
{
	switch (req) {
	case FZ_GET_FEATURES: case FZ_GET_PROTOCOL_FEATURES: case FZ_GET_QUEUE_NUM:
	case FZ_GET_VRING_BASE: case FZ_GET_CONFIG: case FZ_GET_INFLIGHT_FD:
	case FZ_GET_MAX_MEM_SLOTS: case FZ_GET_STATUS: case FZ_SET_DEVICE_STATE_FD:
	case FZ_CHECK_DEVICE_STATE: case FZ_GET_SHMEM_CONFIG: case FZ_SET_LOG_BASE:
	case FZ_GET_SHARED_OBJECT:
		return true;
	default:
		return false;
	}
}

/* Channel requests: u8 request, u8 flags, u16 size, payload; the count first. */
static void channel_requests(struct peer *p)
{
	uint8_t payload[512];
	unsigned int n = fz_u8(&p->rs) % 4;

	for (unsigned int i = 0; i < n && p->chan >= 0; i++) {
		uint8_t req = fz_u8(&p->rs), fl = fz_u8(&p->rs);
		uint16_t size = fz_u16(&p->rs);
		size_t len = fz_bytes(&p->rs, payload, size % sizeof(payload));
		uint32_t flags = FZ_VU_VERSION | (fl & 1 ? FZ_VU_NEED_REPLY : 0);
		int efd = -1;

		if (fl & 0x80)
			flags = fl;
		if (fl & 4) {
			/* A file to map (SHMEM_MAP), 64 KiB. */
			efd = memfd_create("fuzz-shm", MFD_CLOEXEC);
			if (efd < 0 || ftruncate(efd, 64 << 10) < 0)
				abort();
		} else if (fl & 2) {
			efd = eventfd(0, EFD_CLOEXEC);
		}
		fz_send(p->chan, req % 16, flags, fl & 0x40 ? size : (uint32_t)len, payload, len, &efd,
			efd >= 0);
		if (efd >= 0)
			close(efd);
	}
}

/*
 * A reply: u8 control, then by its bits: 0x01 u8 request (else the request's),
 * 0x02 u32 flags (else VERSION | REPLY), 0x04 u16 size (else the expected
 * one); the payload; 0x08 a memfd of u16 x 64 bytes; 0x10 a pipe's read end;
 * 0x20 channel requests after the reply.
 */
static bool reply(struct peer *p, int conn, const uint32_t hdr[3], const uint8_t *req_payload)
{
	uint8_t payload[4096];
	uint8_t ctl = fz_u8(&p->rs);
	uint32_t req = ctl & 1 ? fz_u8(&p->rs) : hdr[0];
	uint32_t flags = ctl & 2 ? fz_u32(&p->rs) : FZ_VU_VERSION | FZ_VU_REPLY;
	uint32_t size = 8;
	int fds[2] = { -1, -1 }, pfd[2] = { -1, -1 };
	unsigned int nfds = 0;
	size_t len;

	if (hdr[0] == FZ_GET_CONFIG || hdr[0] == FZ_GET_SHMEM_CONFIG)
		size = hdr[2];
	else if (hdr[0] == FZ_GET_INFLIGHT_FD)
		size = 24;
	if (ctl & 4)
		size = fz_u16(&p->rs);
	len = fz_bytes(&p->rs, payload, size % sizeof(payload));
	if (ctl & 8) {
		fds[nfds] = memfd_create("fuzz-reply", MFD_CLOEXEC);
		if (fds[nfds] < 0 || ftruncate(fds[nfds], (off_t)fz_u16(&p->rs) * 64) < 0)
			abort();
		nfds++;
	}
	if ((ctl & 0x10) && !pipe2(pfd, O_CLOEXEC)) {
		/* A little state to read, then the end (written while we hold the read end). */
		if (write(pfd[1], payload, len < 64 ? len : 64) < 0)
			abort();
		close(pfd[1]);
		fds[nfds++] = pfd[0];
	}
	fz_send(conn, req, flags, ctl & 4 ? size : (uint32_t)len, payload, len, fds, nfds);
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	if (ctl & 0x20)
		channel_requests(p);
	return fz_left(&p->rs) > 0;
}

static void chan_ready(struct peer *p)
{
	pthread_mutex_lock(&p->lock);
	p->chan_done = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Serve connections (a reconnect makes another) until the application is
 * done; once the reply script has ended, each connection is closed at once.
 */
static void *backend_main(void *arg)
{
	struct peer *p = arg;
	static __thread uint8_t payload[4096];

	for (;;) {
		int conn;

		if (!wait_in(listen_fd, p->stop))
			break;
		conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		while (fz_left(&p->rs)) {
			uint32_t hdr[3];
			int fd = -1;

			if (!read_request(conn, p->stop, hdr, payload, &fd)) {
				if (fd >= 0)
					close(fd);
				break;
			}
			if (fz_debug())
				fprintf(stderr, "backend: request %u flags 0x%x size %u\n", hdr[0],
					hdr[1], hdr[2]);
			if (hdr[0] == FZ_SET_BACKEND_REQ_FD && fd >= 0) {
				if (p->chan >= 0)
					close(p->chan);
				p->chan = fd;
				fd = -1;
				channel_requests(p);
				chan_ready(p);
			}
			if (fd >= 0)
				close(fd);
			if ((wants_reply(hdr[0]) || (hdr[1] & FZ_VU_NEED_REPLY)) &&
			    !reply(p, conn, hdr, payload))
				break;
		}
		close(conn);
		/* No channel requests come from a closed connection. */
		chan_ready(p);
	}
	chan_ready(p);
	return NULL;
}

static void wait_chan(struct peer *p)
{
	pthread_mutex_lock(&p->lock);
	while (!p->chan_done)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

struct app {
	struct fz cs;		/* the call script */
	struct vhostctl_dev *dev;
	struct vhostctl_mem *mem;
	int efd[3];
	int log_fd;
	uint8_t *log;
};

static void call(struct app *a, struct peer *p)
{
	uint8_t op = fz_u8(&a->cs), buf[512];
	unsigned int q = fz_u8(&a->cs) % 4;
	uint64_t v = 0;
	uint8_t st;
	int fd = -1;

	switch (op % 27) {
	case 0: vhostctl_dev_set_owner(a->dev); break;
	case 1: vhostctl_dev_get_features(a->dev, &v); break;
	case 2: vhostctl_dev_set_features(a->dev, fz_u64(&a->cs)); break;
	case 3: vhostctl_dev_set_mem_table(a->dev, a->mem); break;
	case 4: vhostctl_dev_set_vring_num(a->dev, q, fz_u16(&a->cs)); break;
	case 5: {
		struct vhostctl_vring_addr ad = {
			.index = q, .flags = fz_u8(&a->cs) & 1, .desc = 0x1000,
			.avail = 0x2000, .used = 0x3000, .log = 0x3000,
		};

		vhostctl_dev_set_vring_addr(a->dev, &ad);
		break;
	}
	case 6: vhostctl_dev_set_vring_base(a->dev, q, fz_u16(&a->cs)); break;
	case 7: {
		unsigned int b;

		vhostctl_dev_get_vring_base(a->dev, q, &b);
		break;
	}
	case 8: vhostctl_dev_set_vring_kick(a->dev, q, a->efd[0]); break;
	case 9: vhostctl_dev_set_vring_call(a->dev, q, a->efd[1]); break;
	case 10: vhostctl_dev_set_vring_err(a->dev, q, a->efd[2]); break;
	case 11: vhostctl_dev_set_vring_enable(a->dev, q, op >> 7); break;
	case 12: vhostctl_dev_get_config(a->dev, fz_u8(&a->cs), buf, fz_u16(&a->cs) % 300); break;
	case 13:
		fz_bytes(&a->cs, buf, 16);
		vhostctl_dev_set_config(a->dev, fz_u8(&a->cs), buf, fz_u8(&a->cs) % 16);
		break;
	case 14: vhostctl_dev_get_status(a->dev, &st); break;
	case 15: vhostctl_dev_set_status(a->dev, fz_u8(&a->cs)); break;
	case 16: vhostctl_vu_get_inflight(a->dev, 1 + q, fz_u16(&a->cs)); break;
	case 17:
		if (!vhostctl_vu_device_state(a->dev, op >> 7, &fd) && fd >= 0)
			close(fd);
		break;
	case 18: vhostctl_vu_check_device_state(a->dev); break;
	case 19:
		if (vhostctl_vu_backend_channel_fd(a->dev) >= 0)
			wait_chan(p);
		for (int i = 0; i < 8; i++)
			if (vhostctl_vu_serve_backend(a->dev) <= 0)
				break;
		vhostctl_vu_config_changes(a->dev);
		break;
	case 20: vhostctl_dev_reset(a->dev); break;
	case 21: {
		/* uaddr is where the region is mapped in this process, as the API requires. */
		struct vhostctl_vu_region r = {
			.gpa = fz_u8(&a->cs) * 4096ull, .size = MEM_SIZE, .uaddr = (uintptr_t)a->log,
			.fd = a->log_fd, .offset = 0,
		};

		vhostctl_vu_set_mem_table(a->dev, &r, op >> 7);
		break;
	}
	case 22: vhostctl_vu_max_mem_slots(a->dev); break;
	case 23:
		vhostctl_vu_protocol_features(a->dev, &v);
		vhostctl_vu_queue_count(a->dev);
		vhostctl_vu_backend_channel_fd(a->dev);
		break;
	case 24: {
		struct vhostctl_log l = { .base = a->log, .size = 4096, .fd = a->log_fd };

		vhostctl_dev_set_log_base(a->dev, &l);
		vhostctl_dev_set_log_fd(a->dev, op & 0x80 ? -1 : a->efd[2]);
		break;
	}
	case 25: {
		uint8_t uuid[16] = { (uint8_t)q };
		uint64_t size;
		void *addr;

		for (unsigned int i = 0; i < 4; i++)
			vhostctl_vu_shmem_region(a->dev, i, &addr, &size);
		if (!vhostctl_vu_get_shared_object(a->dev, uuid, &fd))
			close(fd);
		vhostctl_vu_gpu_set_socket(a->dev, a->efd[0]);
		break;
	}
	default: vhostctl_vu_reconnect(a->dev); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer p = { .chan = -1, .lock = PTHREAD_MUTEX_INITIALIZER,
			  .cond = PTHREAD_COND_INITIALIZER };
	struct fz in = { data, size };
	struct app a = { 0 };
	struct vhostctl_vu_objects *objs = vhostctl_vu_objects_new(4);
	struct vhostctl_vu_opts o = { .sz = sizeof(o), .timeout_ms = TIMEOUT_MS };
	uint16_t clen = fz_u16(&in);
	uint64_t one = 1;
	pthread_t t;
	uint8_t opt;

	listen_once();
	fz_check_fds(&fd_base);
	a.cs = (struct fz){ in.p, clen < in.n ? clen : in.n };
	p.rs = (struct fz){ in.p + a.cs.n, in.n - a.cs.n };
	opt = fz_u8(&a.cs);
	o.queues = opt & 3;
	o.protocol_features = opt & 4 ? fz_u64(&a.cs) : ~0ull;
	o.log = fz_debug() ? fz_log : NULL;
	o.log_ctx = "frontend";
	o.log_level = 7;
	p.stop = eventfd(0, EFD_CLOEXEC);
	if (p.stop < 0 || pthread_create(&t, NULL, backend_main, &p))
		abort();
	a.dev = vhostctl_vu_open(sock_path, &o);
	if (a.dev) {
		a.mem = vhostctl_mem_new();
		if (!a.mem || vhostctl_mem_add_region(a.mem, 0, MEM_SIZE, 0) < 0)
			abort();
		for (int i = 0; i < 3; i++)
			a.efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		a.log_fd = memfd_create("fuzz-log", MFD_CLOEXEC);
		if (a.log_fd < 0 || ftruncate(a.log_fd, MEM_SIZE) < 0)
			abort();
		a.log = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, a.log_fd, 0);
		if (a.log == MAP_FAILED || !objs || vhostctl_vu_set_objects(a.dev, objs))
			abort();
		while (fz_left(&a.cs))
			call(&a, &p);
		vhostctl_dev_close(a.dev);
		vhostctl_mem_free(a.mem);
		for (int i = 0; i < 3; i++)
			close(a.efd[i]);
		munmap(a.log, MEM_SIZE);
		close(a.log_fd);
	}
	vhostctl_vu_objects_free(objs);
	if (write(p.stop, &one, sizeof(one)) < 0)
		abort();
	pthread_join(t, NULL);
	close(p.stop);
	if (p.chan >= 0)
		close(p.chan);
	/* A connection the frontend made but nobody took. */
	for (int c; (c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
		close(c);
	fz_check_fds(&fd_base);
	return 0;
}
