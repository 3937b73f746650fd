// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * VIRTIO shared memory regions between our frontend and our backend over a
 * real Unix socket, in both socket roles:
 *  - GET_SHMEM_CONFIG: the sizes the backend declared, each region reserved
 *    by the frontend (PROT_NONE in /proc/self/maps), a region of size 0 not;
 *  - BACKEND_SHMEM_MAP: a range of a memfd the backend wrote a pattern to is
 *    read through the frontend's region, byte for byte; a later write to the
 *    memfd is seen there (shared); a writable mapping carries the frontend's
 *    write back to the backend's memfd;
 *  - BACKEND_SHMEM_UNMAP: the range is reserved again (PROT_NONE, no page
 *    resident by mincore), and can be mapped again;
 *  - hostile requests refused with a failure answer, the channel and the
 *    connection kept, no fd left open: unknown or empty region, out of
 *    range, overflowing, unaligned, beyond the end of the file, overlapping
 *    a mapping, unknown flags, no fd; unmap of a part of a mapping or of
 *    nothing;
 *  - vhostctl_vu_reconnect(): the same region at the same address, every
 *    mapping gone;
 *  - without REPLY_ACK: map and unmap pipelined, done when the frontend
 *    serves its channel, a refused one among them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "vu_share.h"
#include "vu_backend.h"

#define KB 1024ull
#define PG 4096ull

static const uint64_t sizes[3] = { 64 * KB, 0, 256 * KB };

/* The permissions of the mapping holding addr in /proc/self/maps, or "none". */
static void perms_at(const void *addr, char out[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long a, b;
	char p[5], line[512];

	t_true(f);
	strcpy(out, "none");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &a, &b, p) == 3 && a <= (uintptr_t)addr &&
		    (uintptr_t)addr < b) {
			memcpy(out, p, 5);
			break;
		}
	}
	fclose(f);
}

static void expect_perms(const void *addr, const char *want)
{
	char p[5];

	perms_at(addr, p);
	if (strcmp(p, want))
		t_fail("mapping at %p is %s, expected %s", addr, p, want);
}

/* Pages of [addr, +len) resident: reserved and never touched gives 0. */
static unsigned int resident(void *addr, uint64_t len)
{
	unsigned char vec[64];
	unsigned int n = 0;

	t_true(len / PG <= sizeof(vec));
	t_eq(0, mincore(addr, len, vec));
	for (uint64_t i = 0; i < len / PG; i++)
		n += vec[i] & 1;
	return n;
}

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12) * 13 + 1);
}

/* A raw BACKEND_SHMEM_MAP the library's call would not send: the answer's u64. */
struct raw_map {
	struct job j;
	uint64_t flags;
	bool with_fd;
	uint64_t answer;
};

static int job_raw_map(struct job *j)
{
	struct raw_map *rm = (struct raw_map *)j;
	struct vhc_vu_msg m;
	char why[64];
	uint8_t *p;
	int r;

	vhc_vu_msg_init(&m, VHC_VU_BE_SHMEM_MAP, VHC_VU_NEED_REPLY, 40);
	memset(m.p.raw, 0, 40);
	p = m.p.raw;
	p[0] = (uint8_t)j->shmid;
	memcpy(p + 8, &j->fd_off, 8);
	memcpy(p + 16, &j->off, 8);
	memcpy(p + 24, &j->len, 8);
	memcpy(p + 32, &rm->flags, 8);
	r = vhc_vu_send_fds(j->be->chan_fd, &m, &j->fd, rm->with_fd);
	if (r)
		return r;
	r = vhc_vu_recv(j->be->chan_fd, &m, 5000, why, sizeof(why));
	if (r)
		return r;
	if (m.hdr.request != VHC_VU_BE_SHMEM_MAP || m.hdr.size != 8 || m.nfds)
		return -EPROTO;
	rm->answer = m.p.u64;
	return 0;
}

static int map(struct vhostctl_dev *dev, struct vhostctl_vu_backend *be, unsigned int shmid,
	       uint64_t off, int fd, uint64_t fd_off, uint64_t len, unsigned int flags)
{
	struct job j = { .fn = job_map, .be = be, .shmid = shmid, .off = off, .fd = fd,
			 .fd_off = fd_off, .len = len, .flags = flags };

	return job_run(dev, &j);
}

static int unmap(struct vhostctl_dev *dev, struct vhostctl_vu_backend *be, unsigned int shmid,
		 uint64_t off, uint64_t len)
{
	struct job j = { .fn = job_unmap, .be = be, .shmid = shmid, .off = off, .len = len };

	return job_run(dev, &j);
}

static uint64_t raw_map(struct vhostctl_dev *dev, struct vhostctl_vu_backend *be, int fd,
			bool with_fd, uint64_t flags)
{
	struct raw_map rm = {
		.j = { .fn = job_raw_map, .be = be, .shmid = 2, .off = 128 * KB, .fd = fd,
		       .len = PG },
		.flags = flags, .with_fd = with_fd,
	};

	t_eq(0, job_run(dev, &rm.j));
	return rm.answer;
}

static void hostile(struct vhostctl_dev *dev, struct vhostctl_vu_backend *be, int mfd)
{
	int fds = t_count_fds();

	/* Regions: empty, past the count, the last possible id. */
	t_eq(-EIO, map(dev, be, 1, 0, mfd, 0, PG, 0));
	t_eq(-EIO, map(dev, be, 3, 0, mfd, 0, PG, 0));
	t_eq(-EIO, map(dev, be, 255, 0, mfd, 0, PG, 0));
	/* Ranges: across the end, at the end, wrapping around, unaligned, empty. */
	t_eq(-EIO, map(dev, be, 0, 60 * KB, mfd, 0, 2 * PG, 0));
	t_eq(-EIO, map(dev, be, 0, 64 * KB, mfd, 0, PG, 0));
	t_eq(-EIO, map(dev, be, 0, -PG, mfd, 0, 2 * PG, 0));
	t_eq(-EIO, map(dev, be, 0, 100, mfd, 0, PG, 0));
	t_eq(-EIO, map(dev, be, 0, 0, mfd, 0, 100, 0));
	t_eq(-EIO, map(dev, be, 0, 0, mfd, 0, 0, 0));
	/* The file: past its end (SIGBUS on access), an offset that overflows, unaligned. */
	t_eq(-EIO, map(dev, be, 0, 0, mfd, 2 * PG, 2 * PG, 0));
	t_eq(-EIO, map(dev, be, 0, 0, mfd, 1ull << 63, PG, 0));
	t_eq(-EIO, map(dev, be, 0, 0, mfd, -PG, 2 * PG, 0));
	t_eq(-EIO, map(dev, be, 0, 0, mfd, 10, PG, 0));
	/* Over the mapping at 64 KiB of region 2: its last page, and one around it. */
	t_eq(-EIO, map(dev, be, 2, 68 * KB, mfd, 0, PG, 0));
	t_eq(-EIO, map(dev, be, 2, 60 * KB, mfd, 0, 3 * PG, 0));
	/* What the library's call refuses to send: unknown flags, no fd. */
	t_eq(-EINVAL, map(dev, be, 2, 128 * KB, mfd, 0, PG, 2));
	t_eq(1, raw_map(dev, be, mfd, true, 2));
	t_eq(1, raw_map(dev, be, -1, false, 0));
	/* Unmap: a part of a mapping, a range with no mapping, a bad region. */
	t_eq(-EIO, unmap(dev, be, 2, 64 * KB, PG));
	t_eq(-EIO, unmap(dev, be, 2, 128 * KB, PG));
	t_eq(-EIO, unmap(dev, be, 7, 0, PG));
	/* The refused ones left no fd behind, and the channel works. */
	t_eq(fds, t_count_fds());
	t_eq(0, vhostctl_vu_backend_channel_fd(dev) < 0);
	t_eq(0, map(dev, be, 2, 128 * KB, mfd, 0, PG, 0));
	t_eq(0, unmap(dev, be, 2, 128 * KB, PG));
}

static void shmem(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	struct sess s = { .path = path, .server = server, .be = bare_be(NULL) };
	struct vhostctl_vu_backend_stats bs;
	struct vhostctl_dev *dev;
	uint8_t *r0, *r2, buf[3 * PG];
	uint64_t size, pfs;
	void *a;
	int mfd;

	t_eq(0, vhostctl_vu_backend_set_shmem(s.be, sizes, 3));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	t_eq(0, vhostctl_vu_protocol_features(dev, &pfs));
	t_true(pfs & pf_bit(VHOSTCTL_VU_PF_SHMEM));
	dev_init(dev, VU_F_VERSION_1, NULL);

	/* GET_SHMEM_CONFIG: regions 0 and 2 reserved, 1 (size 0) and 3 not. */
	t_eq(0, vhostctl_vu_shmem_region(dev, 0, &a, &size));
	r0 = a;
	t_eq(64 * KB, size);
	t_eq(0, vhostctl_vu_shmem_region(dev, 2, &a, &size));
	r2 = a;
	t_eq(256 * KB, size);
	t_eq(-ENOENT, vhostctl_vu_shmem_region(dev, 1, &a, &size));
	t_eq(-ENOENT, vhostctl_vu_shmem_region(dev, 3, &a, &size));
	expect_perms(r0, "---p");
	expect_perms(r2 + 256 * KB - 1, "---p");

	/* The backend's file: three pages of a pattern. */
	mfd = memfd_create("vu-shmem", MFD_CLOEXEC);
	t_true(mfd >= 0);
	for (uint64_t i = 0; i < sizeof(buf); i++)
		buf[i] = pat(i);
	t_eq(sizeof(buf), pwrite(mfd, buf, sizeof(buf), 0));

	sess_stop(&s);	/* the backend's calls come from our threads now */
	/* Read-only: file pages 1..2 at 64 KiB of region 2. */
	t_eq(0, map(dev, s.be, 2, 64 * KB, mfd, PG, 2 * PG, 0));
	expect_perms(r2 + 64 * KB, "r--s");
	expect_perms(r2, "---p");
	expect_perms(r2 + 72 * KB, "---p");
	for (uint64_t i = 0; i < 2 * PG; i++)
		if (r2[64 * KB + i] != pat(PG + i))
			t_fail("region 2 byte 0x%llx: 0x%x, expected 0x%x",
			       (unsigned long long)(64 * KB + i), r2[64 * KB + i], pat(PG + i));
	/* Shared: the backend writes its file, the frontend sees it. */
	t_eq(5, pwrite(mfd, "fresh", 5, PG + 100));
	t_true(!memcmp(r2 + 64 * KB + 100, "fresh", 5));
	t_eq(2, resident(r2 + 64 * KB, 2 * PG));

	/* Writable: page 0 at the start of region 0, written by the frontend. */
	t_eq(0, map(dev, s.be, 0, 0, mfd, 0, PG, VHOSTCTL_VU_SHMEM_MAP_RW));
	expect_perms(r0, "rw-s");
	t_eq(buf[7], r0[7]);
	memcpy(r0 + 10, "from the frontend", 17);
	t_eq(17, pread(mfd, buf, 17, 10));
	t_true(!memcmp(buf, "from the frontend", 17));

	hostile(dev, s.be, mfd);
	/* Still mapped after all that. */
	t_true(!memcmp(r2 + 64 * KB + 100, "fresh", 5));

	/* Unmap: reserved again, nothing resident, and mapped again at will. */
	t_eq(0, unmap(dev, s.be, 2, 64 * KB, 2 * PG));
	expect_perms(r2 + 64 * KB, "---p");
	t_eq(0, resident(r2 + 64 * KB, 2 * PG));
	t_eq(-EIO, unmap(dev, s.be, 2, 64 * KB, 2 * PG));
	t_eq(0, map(dev, s.be, 2, 64 * KB, mfd, PG, 2 * PG, 0));
	t_true(!memcmp(r2 + 64 * KB + 100, "fresh", 5));
	t_eq(0, unmap(dev, s.be, 2, 64 * KB, 2 * PG));
	t_eq(0, unmap(dev, s.be, 0, 0, PG));
	expect_perms(r0, "---p");

	/* A new connection drops every mapping; the same size keeps the address. */
	t_eq(0, map(dev, s.be, 2, 0, mfd, 0, PG, 0));
	expect_perms(r2, "r--s");
	t_eq(0, sess_start(&s));
	barrier(dev);
	if (!server) {
		t_eq(0, vhostctl_vu_reconnect(dev));
		t_eq(0, vhostctl_vu_shmem_region(dev, 2, &a, &size));
		t_true(a == r2);
		expect_perms(r2, "---p");
	}
	t_eq(0, vhostctl_vu_backend_stats(s.be, &bs));
	t_eq(0, bs.protocol_errors);
	close(mfd);
	printf("SHMEM, %s: 2 regions reserved, file ranges read-only and writable mapped and "
	       "seen both ways, unmapped back to PROT_NONE, 20 hostile requests refused by the frontend with "
	       "no fd left open\n", role(server));
	finish(&s, dev, NULL, NULL);
}

/*
 * Without REPLY_ACK the backend's calls return once sent: the frontend maps
 * when it serves its channel; a refused request is only logged there.
 */
static void shmem_noack(bool server)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o,
			   .protocol_features = ALL_PF & ~pf_bit(VHOSTCTL_VU_PF_REPLY_ACK));
	struct sess s = { .path = path, .server = server, .be = bare_be(NULL) };
	struct vhostctl_dev *dev;
	struct pollfd p;
	uint8_t *r2;
	void *a;
	int mfd;

	t_eq(0, vhostctl_vu_backend_set_shmem(s.be, sizes, 3));
	dev = sess_open(&s, &o);
	if (!dev)
		t_fail("open: %s", strerror(errno));
	t_eq(0, vhostctl_vu_shmem_region(dev, 2, &a, NULL));
	r2 = a;
	mfd = memfd_create("vu-shmem", MFD_CLOEXEC);
	t_true(mfd >= 0);
	t_eq(0, ftruncate(mfd, PG));
	t_eq(8, pwrite(mfd, "no reply", 8, 0));
	sess_stop(&s);
	p = (struct pollfd){ .fd = vhostctl_vu_backend_channel_fd(dev), .events = POLLIN };
	t_eq(0, vhostctl_vu_backend_shmem_map(s.be, 3, 0, mfd, 0, PG, 0));	/* refused there */
	t_eq(0, vhostctl_vu_backend_shmem_map(s.be, 2, 0, mfd, 0, PG, 0));
	expect_perms(r2, "---p");
	t_eq(1, poll(&p, 1, 2000));
	t_eq(2, vhostctl_vu_serve_backend(dev));
	expect_perms(r2, "r--s");
	t_true(!memcmp(r2, "no reply", 8));
	t_eq(0, vhostctl_vu_backend_shmem_unmap(s.be, 2, 0, PG));
	t_eq(1, poll(&p, 1, 2000));
	t_eq(1, vhostctl_vu_serve_backend(dev));
	expect_perms(r2, "---p");
	close(mfd);
	t_eq(0, sess_start(&s));
	printf("SHMEM without REPLY_ACK, %s: map and unmap pipelined, served by the frontend\n",
	       role(server));
	finish(&s, dev, NULL, NULL);
}

static void tests(bool server)
{
	shmem(server);
	shmem_noack(server);
}

int main(void)
{
	return proto_main("vu_shmem", tests);
}
