// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Interop with QEMU's C virtiofsd (Debian's /usr/lib/qemu/virtiofsd): our
 * frontend is the FUSE-over-virtio driver.  virtiofsd serves one connection
 * and exits, so every session starts one on a fresh socket and shared
 * directory, and ends by checking that it exited by itself, with status 0.
 *
 * Three sequences, each run many times in a row (VU_FS_ROUNDS, default 50;
 * set it to 500 for a stress run; VU_FS_SEQ=name runs one of them):
 *  - mq: MQ negotiated (GET_QUEUE_NUM); INIT right after vhostctl_dev_setup()
 *    returns, LOOKUP, GETATTR, OPEN, READ (bytes equal to the host file),
 *    WRITE (the host file changes), READ back, RELEASE, FORGET on the
 *    hiprio queue (a GETATTR of the node then fails: it was forgotten),
 *    teardown;
 *  - nomq: the same with MQ masked and the queue count given (2);
 *  - rollback: MQ masked, no queue count, 2 queues asked: setup fails with
 *    ENOBUFS and undoes what it did; virtiofsd must survive it.
 * Every request must complete within 5 s: a backend that died or lost a
 * call fd shows up as a timeout, not a hang.  Needs root (virtiofsd's
 * sandbox); skips without virtiofsd.
 */
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"
#define F_VERSION_1 (1ull << 32)
#define FILE_SIZE 8192u
#define WR_OFF 1000u
#define WR_LEN 300u
#define REQ_MS 5000
#define BUF 16384u

static char dir[128], shared[160], sock[160], blog[160], file[200];

enum seq { SEQ_MQ, SEQ_NOMQ, SEQ_ROLLBACK };
static const char *const seq_name[] = { "mq", "nomq", "rollback" };

struct drv {
	struct vhostctl_mem *mem;
	struct vhostctl_vq *vqs[2];
	uint8_t *out, *in;	/* request and reply buffers in guest memory */
	uint64_t out_gpa, in_gpa;
	uint64_t unique;
};

static pid_t backend = -1;

static void cleanup(void)
{
	if (backend > 0) {
		kill(backend, SIGKILL);
		waitpid(backend, NULL, 0);
	}
	unlink(file);
	rmdir(shared);
	unlink(sock);
	unlink(blog);
	rmdir(dir);
}

static void show_backend_log(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "tail -n 20 %s >&2", blog);
	if (system(cmd) < 0)
		perror("tail");
}

static void fs_fail(const char *what, int r)
{
	show_backend_log();
	t_fail("%s: %s", what, strerror(r < 0 ? -r : r));
}

static pid_t start_virtiofsd(void)
{
	char sp[200], src[200];
	pid_t p;

	snprintf(sp, sizeof(sp), "--socket-path=%s", sock);
	snprintf(src, sizeof(src), "source=%s", shared);
	p = fork();
	if (p == 0) {
		int log = open(blog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		execl(VIRTIOFSD, VIRTIOFSD, sp, "-o", src, "-o", "cache=none", "-o",
		      "sandbox=chroot", "-o", "log_level=warn", (char *)NULL);
		_exit(127);
	}
	t_true(p > 0);
	return p;
}

/* virtiofsd ends when its one connection does: by itself, status 0. */
static void reap_virtiofsd(const char *what)
{
	int st = 0;

	for (int i = 0; i < 500; i++) {
		pid_t w = waitpid(backend, &st, WNOHANG);

		if (w == backend) {
			backend = -1;
			if (WIFSIGNALED(st)) {
				show_backend_log();
				t_fail("%s: virtiofsd died of signal %d", what, WTERMSIG(st));
			}
			if (WEXITSTATUS(st)) {
				show_backend_log();
				t_fail("%s: virtiofsd exited with %d", what, WEXITSTATUS(st));
			}
			return;
		}
		usleep(10000);
	}
	show_backend_log();
	t_fail("%s: virtiofsd still running 5 s after the session ended", what);
}

/*
 * One request on queue q: header and argument(s) out, a reply of up to
 * BUF in (none for FORGET).  Returns the reply's error field, or 0 and the
 * reply bytes after the header in *rlen.
 */
static int fuse_req(struct drv *d, unsigned int q, uint32_t opcode, uint64_t nodeid,
		    const void *a1, uint32_t l1, const void *a2, uint32_t l2, uint32_t *rlen)
{
	struct fuse_in_header ih = {
		.len = (uint32_t)sizeof(ih) + l1 + l2, .opcode = opcode, .unique = ++d->unique,
		.nodeid = nodeid, .uid = 0, .gid = 0, .pid = (uint32_t)getpid(),
	};
	struct vhostctl_vq_buf b[2] = {
		{ .gpa = d->out_gpa, .len = ih.len },
		{ .gpa = d->in_gpa, .len = BUF },
	};
	bool reply = opcode != FUSE_FORGET;
	struct fuse_out_header oh;
	struct timespec t0, t1;
	uint32_t len;
	void *tok;
	int r;

	memcpy(d->out, &ih, sizeof(ih));
	if (l1)
		memcpy(d->out + sizeof(ih), a1, l1);
	if (l2)
		memcpy(d->out + sizeof(ih) + l1, a2, l2);
	memset(d->in, 0, sizeof(oh));
	r = vhostctl_vq_add(d->vqs[q], b, 1, reply ? 1 : 0, d, 0);
	if (r)
		fs_fail("vq_add", r);
	r = vhostctl_vq_kick(d->vqs[q]);
	if (r < 0)
		fs_fail("kick", r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = vhostctl_vq_get_used(d->vqs[q], &len, &tok);
		if (r)
			break;
		vhostctl_vq_wait(d->vqs[q], 100);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > REQ_MS) {
			show_backend_log();
			t_fail("FUSE opcode %u on queue %u: no answer in %d ms", opcode, q, REQ_MS);
		}
	}
	if (r < 0)
		fs_fail("get_used", r);
	t_true(tok == d);
	if (!reply) {
		t_eq(0, len);
		return 0;
	}
	memcpy(&oh, d->in, sizeof(oh));
	if (len < sizeof(oh) || oh.len != len || oh.unique != ih.unique)
		t_fail("opcode %u: bad reply (used len %u, header len %u, unique %llu of %llu)",
		       opcode, len, oh.len, (unsigned long long)oh.unique,
		       (unsigned long long)ih.unique);
	if (rlen)
		*rlen = len - (uint32_t)sizeof(oh);
	return oh.error;
}

static uint8_t pattern(unsigned int i)
{
	return (uint8_t)(i * 131 + 7);
}

static void fuse_session(struct drv *d)
{
	struct fuse_init_in ii = {
		.major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = 65536,
	};
	struct fuse_getattr_in ga = { 0 };
	struct fuse_open_in oi = { .flags = O_RDWR };
	struct fuse_forget_in fi = { .nlookup = 1 };
	struct fuse_release_in rel = { 0 };
	struct fuse_write_in wi = { .offset = WR_OFF, .size = WR_LEN };
	struct fuse_read_in ri = { .offset = 0, .size = FILE_SIZE };
	const uint8_t *rep = d->in + sizeof(struct fuse_out_header);
	struct fuse_entry_out eo;
	struct fuse_open_out oo;
	struct fuse_init_out io;
	uint8_t data[WR_LEN], host[FILE_SIZE];
	uint32_t n;
	int e, fd;

	/* Right after setup: the race of a kick before the backend has the call fd. */
	e = fuse_req(d, 1, FUSE_INIT, 0, &ii, sizeof(ii), NULL, 0, &n);
	if (e)
		fs_fail("INIT", e);
	memcpy(&io, rep, sizeof(io) < n ? sizeof(io) : n);
	t_eq(FUSE_KERNEL_VERSION, io.major);

	e = fuse_req(d, 1, FUSE_LOOKUP, FUSE_ROOT_ID, "data", 5, NULL, 0, &n);
	if (e)
		fs_fail("LOOKUP", e);
	t_true(n >= sizeof(eo));
	memcpy(&eo, rep, sizeof(eo));
	t_true(eo.nodeid > FUSE_ROOT_ID);
	t_eq(FILE_SIZE, eo.attr.size);
	t_true(S_ISREG(eo.attr.mode));

	e = fuse_req(d, 1, FUSE_GETATTR, eo.nodeid, &ga, sizeof(ga), NULL, 0, &n);
	if (e)
		fs_fail("GETATTR", e);

	e = fuse_req(d, 1, FUSE_OPEN, eo.nodeid, &oi, sizeof(oi), NULL, 0, &n);
	if (e)
		fs_fail("OPEN", e);
	t_true(n >= sizeof(oo));
	memcpy(&oo, rep, sizeof(oo));

	ri.fh = oo.fh;
	e = fuse_req(d, 1, FUSE_READ, eo.nodeid, &ri, sizeof(ri), NULL, 0, &n);
	if (e)
		fs_fail("READ", e);
	t_eq(FILE_SIZE, n);
	for (unsigned int i = 0; i < FILE_SIZE; i++)
		if (rep[i] != pattern(i))
			t_fail("READ: byte %u is 0x%02x, the file has 0x%02x", i, rep[i],
			       pattern(i));

	for (unsigned int i = 0; i < WR_LEN; i++)
		data[i] = (uint8_t)(d->unique + i);
	wi.fh = oo.fh;
	e = fuse_req(d, 1, FUSE_WRITE, eo.nodeid, &wi, sizeof(wi), data, WR_LEN, &n);
	if (e)
		fs_fail("WRITE", e);
	t_true(n >= sizeof(struct fuse_write_out));
	t_eq(WR_LEN, ((const struct fuse_write_out *)rep)->size);

	e = fuse_req(d, 1, FUSE_READ, eo.nodeid, &ri, sizeof(ri), NULL, 0, &n);
	if (e)
		fs_fail("READ after WRITE", e);
	t_eq(FILE_SIZE, n);
	t_true(!memcmp(rep + WR_OFF, data, WR_LEN));
	fd = open(file, O_RDONLY | O_CLOEXEC);
	t_true(fd >= 0);
	t_eq(FILE_SIZE, pread(fd, host, FILE_SIZE, 0));
	close(fd);
	t_true(!memcmp(host + WR_OFF, data, WR_LEN));
	t_true(!memcmp(host, rep, FILE_SIZE));

	rel.fh = oo.fh;
	rel.flags = O_RDWR;
	e = fuse_req(d, 1, FUSE_RELEASE, eo.nodeid, &rel, sizeof(rel), NULL, 0, &n);
	if (e)
		fs_fail("RELEASE", e);

	/* FORGET has no reply: the node is gone afterwards. */
	fuse_req(d, 0, FUSE_FORGET, eo.nodeid, &fi, sizeof(fi), NULL, 0, NULL);
	e = fuse_req(d, 1, FUSE_GETATTR, eo.nodeid, &ga, sizeof(ga), NULL, 0, &n);
	if (!e)
		t_fail("GETATTR of a forgotten node succeeded");

	/* The file is restored for the next session. */
	fd = open(file, O_WRONLY | O_CLOEXEC);
	t_true(fd >= 0);
	for (unsigned int i = 0; i < FILE_SIZE; i++)
		host[i] = pattern(i);
	t_eq(FILE_SIZE, pwrite(fd, host, FILE_SIZE, 0));
	close(fd);
}

static void session(enum seq s, unsigned int round)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .timeout_ms = REQ_MS);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, so, .features = F_VERSION_1, .nqueues = 2,
			   .queue_size = 128);
	struct vhostctl_dev *dev;
	struct drv d = { 0 };
	char what[64];
	uint64_t pf;
	int r;

	snprintf(what, sizeof(what), "%s round %u", seq_name[s], round);
	if (s != SEQ_MQ)
		o.protocol_features = ~(1ull << VHOSTCTL_VU_PF_MQ);
	if (s == SEQ_NOMQ)
		o.queues = 2;
	d.mem = vhostctl_mem_new();
	t_true(d.mem && vhostctl_mem_add_region(d.mem, 0x100000, 4 << 20, 0) >= 0);
	d.out = vhostctl_mem_alloc(d.mem, BUF, 64, &d.out_gpa);
	d.in = vhostctl_mem_alloc(d.mem, BUF, 64, &d.in_gpa);
	t_true(d.out && d.in);

	backend = start_virtiofsd();
	dev = vhostctl_vu_open(sock, &o);
	if (!dev)
		fs_fail("vhostctl_vu_open", errno);
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_eq(s == SEQ_MQ, !!(pf & 1ull << VHOSTCTL_VU_PF_MQ));
	if (s == SEQ_MQ && vhostctl_vu_queue_count(dev) < 2)
		t_fail("virtiofsd has %d queues with MQ", vhostctl_vu_queue_count(dev));
	r = vhostctl_dev_setup(dev, d.mem, d.vqs, &so, NULL);
	if (s == SEQ_ROLLBACK) {
		if (r != -ENOBUFS)
			t_fail("%s: setup returned %d, not -ENOBUFS", what, r);
		t_true(!d.vqs[0] && !d.vqs[1]);
	} else {
		if (r)
			fs_fail(vhostctl_dev_setup_step(dev), r);
		fuse_session(&d);
		r = vhostctl_dev_teardown(dev, d.vqs, 2);
		if (r)
			fs_fail(vhostctl_dev_setup_step(dev), r);
	}
	vhostctl_dev_close(dev);
	reap_virtiofsd(what);
	vhostctl_mem_free(d.mem);
}

int main(void)
{
	const char *env = getenv("VU_FS_ROUNDS"), *only = getenv("VU_FS_SEQ");
	unsigned int rounds = env ? (unsigned int)strtoul(env, NULL, 0) : 50;
	uint8_t buf[FILE_SIZE];
	int fds, fd;

	if (access(VIRTIOFSD, X_OK))
		t_skip("%s: not installed (qemu-system-common)", VIRTIOFSD);
	if (geteuid())
		t_skip("virtiofsd needs root");
	snprintf(dir, sizeof(dir), "/tmp/vu_fs.%d", getpid());
	snprintf(shared, sizeof(shared), "%s/shared", dir);
	snprintf(sock, sizeof(sock), "%s/fs.sock", dir);
	snprintf(blog, sizeof(blog), "%s/virtiofsd.log", dir);
	snprintf(file, sizeof(file), "%s/data", shared);
	atexit(cleanup);
	t_true(!mkdir(dir, 0700) && !mkdir(shared, 0700));
	for (unsigned int i = 0; i < FILE_SIZE; i++)
		buf[i] = pattern(i);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	t_true(fd >= 0);
	t_eq(FILE_SIZE, write(fd, buf, FILE_SIZE));
	close(fd);

	fds = t_count_fds();
	for (int s = SEQ_MQ; s <= SEQ_ROLLBACK; s++) {
		struct timespec t0, t1;

		if (only && strcmp(only, seq_name[s]))
			continue;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned int i = 0; i < rounds; i++)
			session((enum seq)s, i);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%s: %u sessions, 0 crashes, 0 hangs, %.1f s\n", seq_name[s], rounds,
		       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	t_eq(fds, t_count_fds());
	return T_EXIT_PASS;
}
