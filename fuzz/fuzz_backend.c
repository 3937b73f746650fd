// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: the vhost-user backend's message handling, a whole
 * session per input.  The backend (net loopback, RAM block device, or a
 * generic device whose queue handler the input drives through the devq API)
 * adopts one end of a socketpair; the input is a script for the frontend on
 * the other end: raw messages of any request, flags, size and payload, with
 * fds chosen from a pool that a frontend really has (a guest-memory memfd,
 * a small memfd, a dirty-log memfd, an inflight memfd, eventfds, both ends of
 * a pipe, the backend channel socket, and the last fd the backend handed
 * back), guest-memory writes, kicks, and writes into the regions the backend
 * maps.  So SET_MEM_TABLE, rings, the dirty log and inflight regions really
 * get mapped and walked.  After every step the backend dispatches until idle
 * and the replies are read.  The backend must never crash, overrun (ASan),
 * leak memory or an fd; a bad message ends the connection, nothing else.
 *
 * Input: one byte choosing the device (bit 5: the generic device also has
 * shared memory regions, shared objects and a GPU socket callback), then
 * steps until the input ends:
 *   0-3  message: u8 request, u8 flags, u16 size, payload, u8 nfds, selectors
 *   4    guest memory write: u32 offset, u8 length, bytes
 *   5    kick: u8 eventfd
 *   6    region write: u8 which (log, inflight, handed-back modulo 3; from 0xf0 on,
 *        the pipe whose read end a device-state load reads), u16 offset, u8 length, bytes
 *   7    read the backend channel
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <vhostctl/devq.h>
#include <vhostctl/vhost_user.h>
#include <vhostctl/vu_share.h>

#include "fuzz.h"

#define MEM_SIZE (256u << 10)
#define SMALL_SIZE 4096u
#define LOG_SIZE (16u << 10)
#define INFL_SIZE (64u << 10)
#define RX_MAP_MAX (256u << 10)

struct pool {
	int mem_fd, small_fd, log_fd, infl_fd;
	uint8_t *mem, *log, *infl;
	/* per input */
	int efd[4];
	int pipe[2];
	int chan[2];
	int rx_fd;	/* the last fd the backend sent us */
};

static struct pool P;
static struct fz IN;	/* the input, also read by the generic queue handler */
static int fd_base = -1;

static int memfd(const char *name, size_t size, uint8_t **map)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		abort();
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED)
		abort();
	return fd;
}

static void pool_once(void)
{
	uint8_t *unused;

	if (P.mem)
		return;
	P.mem_fd = memfd("fuzz-mem", MEM_SIZE, &P.mem);
	P.small_fd = memfd("fuzz-small", SMALL_SIZE, &unused);
	/*
	 * Every page present: after POSTCOPY_LISTEN the backend waits on a
	 * missing page until a frontend places it, and this one never does.
	 */
	memset(unused, 0, SMALL_SIZE);
	munmap(unused, SMALL_SIZE);
	P.log_fd = memfd("fuzz-log", LOG_SIZE, &P.log);
	P.infl_fd = memfd("fuzz-infl", INFL_SIZE, &P.infl);
}

static void pool_open(void)
{
	memset(P.mem, 0, MEM_SIZE);
	memset(P.log, 0, LOG_SIZE);
	memset(P.infl, 0, INFL_SIZE);
	for (int i = 0; i < 4; i++)
		P.efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pipe2(P.pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, P.chan) < 0)
		abort();
	P.rx_fd = -1;
}

static void pool_close(void)
{
	for (int i = 0; i < 4; i++)
		close(P.efd[i]);
	close(P.pipe[0]);
	close(P.pipe[1]);
	close(P.chan[0]);
	close(P.chan[1]);
	if (P.rx_fd >= 0)
		close(P.rx_fd);
}

static int pool_fd(uint8_t sel)
{
	switch (sel % 13) {
	case 0: return P.mem_fd;
	case 1: return P.small_fd;
	case 2: return P.log_fd;
	case 3: return P.infl_fd;
	case 4: case 5: case 6: case 7: return P.efd[sel % 13 - 4];
	case 8: return P.pipe[0];
	case 9: return P.pipe[1];
	case 10: return P.chan[0];
	case 11: return P.rx_fd >= 0 ? P.rx_fd : P.mem_fd;
	default: return P.mem_fd;
	}
}

/*
 * The generic device's queue handler: what it does with the buffers is read
 * from the input, so every devq call is reached with every ring state.
 */
static int generic_queue(struct vhostctl_vu_backend *be, unsigned int index,
			 struct vhostctl_devq *q, void *ctx)
{
	struct vhostctl_devq_elem e[4];
	struct iovec iov[4 * 8];
	uint32_t written[4];
	uint8_t buf[512];
	int n, r;

	for (int round = 0; round < 8; round++) {
		uint8_t op = fz_u8(&IN);

		switch (op % 6) {
		case 0:
			return 0;
		case 1:
		case 2:
			r = vhostctl_devq_pop(q, &e[0], iov, 1 + op % 16);
			if (r <= 0)
				return r;
			vhostctl_devq_copy_from(&e[0], fz_u8(&IN), buf, fz_u16(&IN) % sizeof(buf));
			vhostctl_devq_copy_to(&e[0], fz_u8(&IN), buf, fz_u16(&IN) % sizeof(buf));
			if (op & 0x80)
				r = vhostctl_devq_unpop(q, &e[0]);
			else
				r = vhostctl_devq_push(q, &e[0], fz_u32(&IN));
			if (r < 0)
				return r;
			break;
		case 3:
			n = vhostctl_devq_pop_burst(q, e, iov, 8, 1 + fz_u8(&IN) % 4);
			if (n <= 0)
				return n;
			for (int i = 0; i < n; i++)
				written[i] = (uint32_t)(fz_u8(&IN) % 2 ? e[i].in_len : fz_u16(&IN));
			r = vhostctl_devq_push_burst(q, e, written, (unsigned int)n);
			if (r < 0)
				return r;
			break;
		case 4:
			r = vhostctl_devq_flush(q);
			if (r < 0)
				return r;
			break;
		default:
			r = vhostctl_devq_notify_enable(q, op & 1);
			if (r < 0)
				return r;
			break;
		}
	}
	return fz_u8(&IN) & 1;
}

/* The generic device's shared object: the small memfd, for UUIDs starting with an odd byte. */
static int object_fn(struct vhostctl_vu_backend *be, const uint8_t uuid[16], void *ctx)
{
	(void)be;
	(void)ctx;
	return uuid[0] & 1 ? P.small_fd : -ENOENT;
}

/* Its GPU socket: taken and closed at once. */
static int gpu_fn(struct vhostctl_vu_backend *be, int fd, void *ctx)
{
	(void)be;
	(void)ctx;
	close(fd);
	return 0;
}

static struct vhostctl_vu_backend *make_backend(uint8_t kind)
{
	static const uint8_t config[64] = { 1, 2, 3, 4 };

	switch (kind & 3) {
	case 0: {
		struct vhostctl_vu_net_opts o = {
			.sz = sizeof(o), .mac = { 2, 0, 0, 0, 0, 1 },
			.queue_pairs = 1 + (kind >> 2) % 2, .drop = (kind >> 3) & 1,
			.log = fz_debug() ? fz_log : NULL, .log_ctx = "net", .log_level = 7,
		};

		return vhostctl_vu_net_new(&o);
	}
	case 1: {
		struct vhostctl_vu_blk_opts o = {
			.sz = sizeof(o), .size = 64 << 10, .read_only = (kind >> 2) & 1,
			.num_queues = 1 + (kind >> 3) % 2,
			.log = fz_debug() ? fz_log : NULL, .log_ctx = "blk", .log_level = 7,
		};

		return vhostctl_vu_blk_new(&o);
	}
	default: {
		struct vhostctl_vu_backend_opts o = {
			.sz = sizeof(o),
			.features = 1ull << FZ_F_VERSION_1,
			.protocol_features = ~0ull,
			.num_queues = 1 + (kind >> 2) % 3,
			.max_queue_size = 256,
			.config = config,
			.config_len = (kind >> 4) & 1 ? sizeof(config) : 0,
			.queue = generic_queue,
			.log = fz_debug() ? fz_log : NULL, .log_ctx = "generic", .log_level = 7,
		};
		static const uint64_t shm[2] = { 64 << 10, 0 };
		struct vhostctl_vu_backend *be = vhostctl_vu_backend_new(&o);

		/* Shared memory regions, shared objects and a GPU socket callback. */
		if (be && (kind & 0x20) &&
		    (vhostctl_vu_backend_set_shmem(be, shm, 2) ||
		     vhostctl_vu_backend_set_objects(be, object_fn) ||
		     vhostctl_vu_backend_set_gpu_socket(be, gpu_fn)))
			abort();
		return be;
	}
	}
}

/* Run the backend until it has nothing left to do (bounded: a polled ring never idles). */
static void settle(struct vhostctl_vu_backend *be)
{
	for (int i = 0; i < 16; i++)
		if (vhostctl_vu_backend_dispatch(be, 0) <= 0)
			break;
}

/* Read every reply and backend-channel message there is; keep the last fd. */
static bool drain(int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr a;
	} u;
	char buf[8192];

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n > 0 || (n == 0 && mh.msg_controllen))
			fz_take_fds(&mh, &P.rx_fd);
		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
	}
}

static void region_write(struct fz *f)
{
	uint8_t sel = fz_u8(f), which = sel % 3;
	uint16_t off = fz_u16(f);
	uint8_t len = fz_u8(f);
	uint8_t data[256];
	struct stat sb;
	uint8_t *map;
	size_t size;

	fz_bytes(f, data, len);
	if (sel >= 0xf0) {
		/* A device-state stream, as a frontend writes it before CHECK_DEVICE_STATE. */
		if (write(P.pipe[1], data, len) < 0 && errno != EAGAIN)
			abort();
	} else if (which == 0) {
		memcpy(P.log + off % (LOG_SIZE - 256), data, len);
	} else if (which == 1) {
		memcpy(P.infl + off % (INFL_SIZE - 256), data, len);
	} else if (P.rx_fd >= 0 && !fstat(P.rx_fd, &sb) && S_ISREG(sb.st_mode) &&
		   sb.st_size > 0) {
		/* The inflight region the backend handed back: scribble on it. */
		size = (size_t)sb.st_size < RX_MAP_MAX ? (size_t)sb.st_size : RX_MAP_MAX;
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, P.rx_fd, 0);
		if (map == MAP_FAILED)
			return;
		for (size_t i = 0; i < len; i++)
			map[(off + i) % size] = data[i];
		munmap(map, size);
	}
}

static void message(struct fz *f, int sock)
{
	static uint8_t payload[4200];
	uint8_t req = fz_u8(f), fl = fz_u8(f);
	uint16_t size = fz_u16(f);
	uint32_t flags, declared;
	int fds[16];
	unsigned int nfds;
	size_t len;

	/* Mostly well-formed headers; now and then anything at all. */
	flags = FZ_VU_VERSION | (fl & 1 ? FZ_VU_NEED_REPLY : 0);
	if (fl & 0x80)
		flags = fz_u32(f);
	len = fz_bytes(f, payload, size % sizeof(payload));
	declared = fl & 0x40 ? size : (uint32_t)len;
	nfds = (fl >> 1) & 7;
	if (fl & 0x10)
		nfds += 8;
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = pool_fd(fz_u8(f));
	fz_send(sock, req, flags, declared, payload, len, fds, nfds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhostctl_vu_backend *be;
	int sv[2];
	uint64_t one = 1;
	bool up = true;

	pool_once();
	fz_check_fds(&fd_base);
	IN = (struct fz){ data, size };
	be = make_backend(fz_u8(&IN));
	if (!be)
		abort();
	pool_open();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    vhostctl_vu_backend_adopt(be, sv[1]) < 0)
		abort();
	while (fz_left(&IN) && up) {
		uint8_t op = fz_u8(&IN);

		switch (op % 8) {
		case 0: case 1: case 2: case 3:
			message(&IN, sv[0]);
			break;
		case 4: {
			uint32_t off = fz_u32(&IN) % MEM_SIZE;
			uint8_t len = fz_u8(&IN), buf[256];

			fz_bytes(&IN, buf, len);
			for (unsigned int i = 0; i < len; i++)
				P.mem[(off + i) % MEM_SIZE] = buf[i];
			break;
		}
		case 5:
			if (write(P.efd[fz_u8(&IN) % 4], &one, sizeof(one)) < 0)
				abort();
			break;
		case 6:
			region_write(&IN);
			break;
		default:
			drain(P.chan[1]);
			break;
		}
		settle(be);
		up = drain(sv[0]);
	}
	vhostctl_vu_backend_free(be);
	close(sv[0]);
	pool_close();
	fz_check_fds(&fd_base);
	return 0;
}
