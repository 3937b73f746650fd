// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The VDUSE transport against a hostile kernel, on any host: the test plays
 * /dev/vduse/NAME through the library's seam (vhc_vduse_fake(): requests
 * over a SOCK_SEQPACKET socket, ioctls answered by this file).  Each bad
 * answer must fail that one request (VDUSE_REQ_RESULT_FAILED), leak no fd
 * and leave the device usable: IOTLB entries of the wrong fd type,
 * covering the whole 64-bit space, with a bad offset or no permission (none
 * mapped), the same entry again when asked past it (the walk must not
 * loop); rings of a bad size or outside the IOTLB; features beyond the
 * offer; queue indexes out of range in GET_VQ_STATE; an unknown request
 * and a short message.  Then the good path moves a real buffer: the handler
 * sees the driver's bytes, the driver sees the device's, and an interrupt is
 * injected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vduse.h>

#include <vhostctl/vhostctl.h>

#include "devq_ring.h"
#include "test.h"
#include "vduse_priv.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 16
#define F_VERSION_1 (1ull << 32)
#define F_ACCESS_PLATFORM (1ull << 33)

enum iotlb_mode { GOOD, WRONG_FD_TYPE, OUTSIDE_QUERY, WHOLE_SPACE, BAD_OFFSET, NO_PERM };

/* The fake kernel's state. */
static struct {
	int memfd;
	enum iotlb_mode iotlb;
	uint32_t num;
	uint64_t desc;
	uint64_t features;
	int kick_fd;
	unsigned int irqs;
} k;

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	(void)fd;
	if (req == VDUSE_IOTLB_GET_FD) {
		struct vduse_iotlb_entry *e = arg;

		/* one entry; asked past it, a hostile kernel answers it again */
		if (e->start >= MEM_SIZE && k.iotlb != OUTSIDE_QUERY) {
			errno = EINVAL;
			return -1;
		}
		e->start = 0;
		e->last = MEM_SIZE - 1;
		e->offset = 0;
		e->perm = VDUSE_ACCESS_RW;
		switch (k.iotlb) {
		case WRONG_FD_TYPE:
			return eventfd(0, EFD_CLOEXEC);
		case OUTSIDE_QUERY:
			break;
		case WHOLE_SPACE:
			e->last = UINT64_MAX;
			break;
		case BAD_OFFSET:
			e->offset = 123;
			break;
		case NO_PERM:
			e->perm = 0;
			break;
		case GOOD:
			break;
		}
		return fcntl(k.memfd, F_DUPFD_CLOEXEC, 0);
	}
	if (req == VDUSE_DEV_GET_FEATURES) {
		*(uint64_t *)arg = k.features;
		return 0;
	}
	if (req == VDUSE_VQ_GET_INFO) {
		struct vduse_vq_info *i = arg;

		if (i->index >= 1) {
			errno = EINVAL;
			return -1;
		}
		i->num = k.num;
		i->desc_addr = k.desc;
		i->driver_addr = AVAIL_OFF;
		i->device_addr = USED_OFF;
		i->split.avail_index = 0;
		i->ready = 1;
		return 0;
	}
	if (req == VDUSE_VQ_SETUP_KICKFD) {
		struct vduse_vq_eventfd *ef = arg;

		k.kick_fd = ef->fd;
		return 0;
	}
	if (req == VDUSE_VQ_INJECT_IRQ) {
		k.irqs++;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static unsigned int handled;
static uint8_t seen[16];

/* Reads the driver's 16 bytes, answers with their complement. */
static int echo_queue(struct vhostctl_vduse *vd, unsigned int index, struct vhostctl_devq *q,
		      void *ctx)
{
	struct vhostctl_devq_elem e;
	struct iovec iov[4];
	uint8_t out[16];

	(void)vd;
	(void)index;
	(void)ctx;
	while (vhostctl_devq_pop(q, &e, iov, 4) > 0) {
		vhostctl_devq_copy_from(&e, 0, seen, sizeof(seen));
		for (unsigned int i = 0; i < sizeof(out); i++)
			out[i] = (uint8_t)~seen[i];
		vhostctl_devq_copy_to(&e, 0, out, sizeof(out));
		vhostctl_devq_push(q, &e, sizeof(out));
		handled++;
	}
	vhostctl_devq_flush(q);
	return 0;
}

/* One request through the device; the answer's result. */
static uint32_t ask(struct vhostctl_vduse *vd, int sock, struct vduse_dev_request *req,
		    struct vduse_dev_response *resp)
{
	static uint32_t id = 1;

	req->request_id = id++;
	t_eq(sizeof(*req), write(sock, req, sizeof(*req)));
	t_true(vhostctl_vduse_dispatch(vd, 100) >= 1);
	t_eq(sizeof(*resp), read(sock, resp, sizeof(*resp)));
	t_eq(req->request_id, resp->request_id);
	return resp->result;
}

static uint32_t set_status(struct vhostctl_vduse *vd, int sock, uint8_t status)
{
	struct vduse_dev_request req = { .type = VDUSE_SET_STATUS, .s.status = status };
	struct vduse_dev_response resp;

	return ask(vd, sock, &req, &resp);
}

static uint64_t maps(struct vhostctl_vduse *vd)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_stats, st);

	t_eq(0, vhostctl_vduse_stats(vd, &st));
	return st.maps;
}

/*
 * DRIVER_OK must fail (for a bad IOTLB entry: before anything is mapped);
 * the device is reset for the next case.
 */
static void refused_start(struct vhostctl_vduse *vd, int sock, const char *what)
{
	int fds = t_count_fds();
	uint64_t m = maps(vd);

	if (set_status(vd, sock, 0xf) != VDUSE_REQ_RESULT_FAILED)
		t_fail("DRIVER_OK accepted with %s", what);
	if (k.iotlb != GOOD && k.iotlb != OUTSIDE_QUERY && maps(vd) != m)
		t_fail("%s was mapped", what);
	t_no_fd_leak(fds);
	t_eq(VDUSE_REQ_RESULT_OK, set_status(vd, sock, 0));
	t_no_fd_leak(fds);
}

int main(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_stats, st);
	struct vduse_dev_request req;
	struct vduse_dev_response resp;
	struct vhostctl_vduse *vd;
	uint16_t avail_next = 0;
	uint8_t *mem;
	int sv[2], fds0;
	char name[32];

	fds0 = t_count_fds();
	k.memfd = memfd_create("vduse-iova", MFD_CLOEXEC);
	t_true(k.memfd >= 0);
	t_eq(0, ftruncate(k.memfd, MEM_SIZE));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, k.memfd, 0);
	t_true(mem != MAP_FAILED);
	k.num = QSIZE;
	k.desc = DESC_OFF;
	k.features = F_VERSION_1 | F_ACCESS_PLATFORM;
	t_eq(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
	snprintf(name, sizeof(name), "vdh%d", (int)getpid());
	{
		VHOSTCTL_OPTS_INIT(struct vhostctl_vduse_opts, o, .name = name, .device_id = 2,
				   .num_queues = 1, .queue_size = QSIZE, .queue = echo_queue,
				   .log_level = -1);

		vd = vhc_vduse_fake(&o, sv[0], fake_ioctl);
	}
	t_true(vd != NULL);

	/* queue indexes out of range in GET_VQ_STATE */
	memset(&req, 0, sizeof(req));
	req.type = VDUSE_GET_VQ_STATE;
	req.vq_state.index = 0;
	t_eq(VDUSE_REQ_RESULT_OK, ask(vd, sv[1], &req, &resp));
	req.vq_state.index = 1;
	t_eq(VDUSE_REQ_RESULT_FAILED, ask(vd, sv[1], &req, &resp));
	req.vq_state.index = UINT32_MAX;
	t_eq(VDUSE_REQ_RESULT_FAILED, ask(vd, sv[1], &req, &resp));

	/* IOTLB answers the library must refuse */
	k.iotlb = WRONG_FD_TYPE;
	refused_start(vd, sv[1], "an eventfd as the IOTLB fd");
	k.iotlb = OUTSIDE_QUERY;
	refused_start(vd, sv[1], "an IOTLB entry outside the query");
	k.iotlb = WHOLE_SPACE;
	refused_start(vd, sv[1], "an IOTLB entry over the whole 64-bit space");
	k.iotlb = BAD_OFFSET;
	refused_start(vd, sv[1], "an IOTLB offset that is not page aligned");
	k.iotlb = NO_PERM;
	refused_start(vd, sv[1], "an IOTLB entry without permission");
	k.iotlb = GOOD;

	/* rings and features the library must refuse */
	k.num = 0;
	refused_start(vd, sv[1], "a ring of 0 entries");
	k.num = 1000;
	refused_start(vd, sv[1], "a ring size that is not a power of two");
	k.num = QSIZE * 2;
	refused_start(vd, sv[1], "a ring larger than the device's");
	k.num = QSIZE;
	k.desc = (uint64_t)MEM_SIZE * 2;
	refused_start(vd, sv[1], "a descriptor table outside the IOTLB");
	k.desc = MEM_SIZE - 8;
	refused_start(vd, sv[1], "a descriptor table across the IOTLB's end");
	k.desc = DESC_OFF;
	k.features |= 1ull << 60;
	refused_start(vd, sv[1], "driver features beyond the offer");
	k.features &= ~(1ull << 60);

	/* UPDATE_IOTLB backwards, an unknown request */
	memset(&req, 0, sizeof(req));
	req.type = VDUSE_UPDATE_IOTLB;
	req.iova.start = 0x2000;
	req.iova.last = 0x1000;
	t_eq(VDUSE_REQ_RESULT_FAILED, ask(vd, sv[1], &req, &resp));
	memset(&req, 0, sizeof(req));
	req.type = 99;
	t_eq(VDUSE_REQ_RESULT_FAILED, ask(vd, sv[1], &req, &resp));

	/* the good path after all that: a buffer goes both ways */
	{
		struct vring_desc *d = (struct vring_desc *)(mem + DESC_OFF);
		uint16_t *avail = (uint16_t *)(mem + AVAIL_OFF);
		struct vring_used *used = (struct vring_used *)(mem + USED_OFF);

		t_eq(VDUSE_REQ_RESULT_OK, set_status(vd, sv[1], 0xf));
		t_true(k.kick_fd >= 0);
		for (unsigned int i = 0; i < 16; i++)
			mem[BUF_OFF + i] = (uint8_t)(0x40 + i);
		d[0] = (struct vring_desc){ .addr = BUF_OFF, .len = 16, .flags = F_NEXT, .next = 1 };
		d[1] = (struct vring_desc){ .addr = BUF_OFF + 0x100, .len = 16, .flags = F_WRITE };
		ring_avail(avail, QSIZE, &avail_next, 0);
		t_eq(0, eventfd_write(k.kick_fd, 1));
		for (int i = 0; i < 10 && !k.irqs; i++)
			vhostctl_vduse_dispatch(vd, 100);
		t_eq(1, handled);
		t_eq(0x40, seen[0]);
		t_eq(0x4f, seen[15]);
		t_eq(1, used->idx);
		t_eq(16, used->ring[0].len);
		t_eq((uint8_t)~0x4f, mem[BUF_OFF + 0x100 + 15]);
		t_true(k.irqs >= 1);
		memset(&req, 0, sizeof(req));
		req.type = VDUSE_GET_VQ_STATE;
		t_eq(VDUSE_REQ_RESULT_OK, ask(vd, sv[1], &req, &resp));
		t_eq(1, resp.vq_state.split.avail_index);
	}

	/* a short message: the dispatch fails, nothing crashes */
	t_eq(10, write(sv[1], "short msg!", 10));
	t_eq(-EPROTO, vhostctl_vduse_dispatch(vd, 100));

	t_eq(0, vhostctl_vduse_stats(vd, &st));
	printf("requests %llu failed %llu kicks %llu irqs %llu maps %llu\n",
	       (unsigned long long)st.requests, (unsigned long long)st.failed,
	       (unsigned long long)st.kicks, (unsigned long long)st.irqs,
	       (unsigned long long)st.maps);
	t_eq(15, st.failed);	/* every refusal above, and only those */
	vhostctl_vduse_free(vd);
	close(sv[1]);
	munmap(mem, MEM_SIZE);
	close(k.memfd);
	t_no_fd_leak(fds0);
	printf("PASS\n");
	return 0;
}
