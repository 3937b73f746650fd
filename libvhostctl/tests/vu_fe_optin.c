// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The protocol features the frontend negotiates only when named in
 * opts.protocol_features, against a scripted backend on a real socket that
 * offers them.
 *
 * In-band notifications: the backend offers INBAND_NOTIFICATIONS.  Ring
 * 0's kick and call are given as no fd; when the kick arrives, the backend sends three VRING_CALL requests
 * on the backend channel (ring 0 without and with NEED_REPLY, ring 5, past
 * the queue count, with NEED_REPLY) and reads the replies before it
 * acknowledges the kick, so the frontend serves them while it waits.  Then
 * vhostctl_vu_kick() sends VRING_KICK messages, which the backend counts.
 * Checked: 2 calls counted for ring 0, replies 0 and 1 (refused), 3
 * VRING_KICK of ring 0 with an 8-byte payload and no reply asked; a ring
 * past the count refused locally.  The same without the feature (not named
 * in opts.protocol_features): it is not negotiated, vhostctl_vu_kick()
 * fails with EOPNOTSUPP, both calls are refused, none counted.
 *
 * Cross-endian: vhostctl_vu_set_vring_endian() sends SET_VRING_ENDIAN of
 * ring 1 (big, then little), acknowledged; a refusal by the backend is
 * -EIO; without CROSS_ENDIAN named it fails with EOPNOTSUPP, nothing sent.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"
#include "vu_raw.h"
#include "vu.h"

#define F_VERSION_1 (1ull << 32)
#define F_PROTOCOL_FEATURES (1ull << 30)
#define PF(b) (1ull << VHOSTCTL_VU_PF_##b)

struct peer {
	int lfd, chan;
	unsigned int kicks, bad_kicks;
	unsigned int endian[4];	/* SET_VRING_ENDIAN payloads, as index << 8 | num */
	unsigned int nendian;
	uint64_t replies[2];
	int nreplies;
};

static void reply_u64(int s, uint32_t req, uint64_t v)
{
	raw_sendmsg(s, req, VHC_VU_VERSION | VHC_VU_REPLY, &v, 8, NULL, 0);
}

/* Three VRING_CALL requests on the channel; the replies of the two that ask. */
static void send_calls(struct peer *p)
{
	static const struct { uint32_t index, flags; } calls[3] = {
		{ 0, VHC_VU_VERSION },
		{ 0, VHC_VU_VERSION | VHC_VU_NEED_REPLY },
		{ 5, VHC_VU_VERSION | VHC_VU_NEED_REPLY },
	};

	for (unsigned int i = 0; i < 3; i++) {
		uint32_t st[2] = { calls[i].index, 0 };
		uint8_t buf[64];
		uint32_t h[3];

		t_true(raw_sendmsg(p->chan, VHC_VU_BE_VRING_CALL, calls[i].flags, st, 8, NULL, 0));
		if (!(calls[i].flags & VHC_VU_NEED_REPLY))
			continue;
		t_eq(8, raw_recvmsg(p->chan, h, buf, sizeof(buf), 5000, NULL));
		t_eq(VHC_VU_BE_VRING_CALL, h[0]);
		t_eq(VHC_VU_VERSION | VHC_VU_REPLY, h[1]);
		memcpy(&p->replies[p->nreplies++], buf, 8);
	}
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	int s = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (s < 0)
		return NULL;
	for (;;) {
		uint8_t buf[4096];
		uint32_t h[3];
		uint64_t u = 0;
		int fd = -1, n = raw_recvmsg(s, h, buf, sizeof(buf), 10000, &fd);

		if (n < 0)
			break;
		if (n >= 8)
			memcpy(&u, buf, 8);
		switch (h[0]) {
		case VHC_VU_GET_FEATURES:
			reply_u64(s, h[0], F_VERSION_1 | F_PROTOCOL_FEATURES);
			continue;
		case VHC_VU_GET_PROTOCOL_FEATURES:
			reply_u64(s, h[0], PF(INBAND_NOTIFICATIONS) | PF(CROSS_ENDIAN) |
						   PF(BACKEND_REQ) | PF(REPLY_ACK));
			continue;
		case VHC_VU_SET_VRING_ENDIAN:
			if (n == 8 && p->nendian < 4)
				p->endian[p->nendian++] = (uint32_t)u << 8 | (uint32_t)(u >> 32);
			/* The third one is refused. */
			if (h[1] & VHC_VU_NEED_REPLY)
				reply_u64(s, h[0], p->nendian == 3);
			continue;
		case VHC_VU_SET_BACKEND_REQ_FD:
			p->chan = fd;
			fd = -1;
			break;
		case VHC_VU_SET_VRING_KICK:
			if (u == (0 | VHC_VU_VRING_NOFD))
				send_calls(p);
			break;
		case VHC_VU_VRING_KICK:
			if (n == 8 && u == 0 && h[1] == VHC_VU_VERSION)
				p->kicks++;
			else
				p->bad_kicks++;
			break;
		}
		if (fd >= 0)
			close(fd);
		if (h[1] & VHC_VU_NEED_REPLY)
			reply_u64(s, h[0], 0);
	}
	close(s);
	return NULL;
}

static void run(bool inband)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .queues = 2);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct peer p = { .chan = -1 };
	struct vhostctl_dev *dev;
	char path[64];
	pthread_t th;
	uint64_t pf, f;
	int fds = t_count_fds();

	if (inband)
		o.protocol_features = PF(INBAND_NOTIFICATIONS) | PF(CROSS_ENDIAN) |
				      PF(BACKEND_REQ) | PF(REPLY_ACK);
	snprintf(path, sizeof(path), "/tmp/vu_fe_inband.%d.sock", getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	p.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	t_true(p.lfd >= 0);
	t_true(!bind(p.lfd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(p.lfd, 1));
	t_true(!pthread_create(&th, NULL, peer_main, &p));

	dev = vhostctl_vu_open(path, &o);
	t_true(dev);
	t_eq(0, vhostctl_vu_protocol_features(dev, &pf));
	t_eq(inband, !!(pf & PF(INBAND_NOTIFICATIONS)));
	t_eq(inband, !!(pf & PF(CROSS_ENDIAN)));
	t_eq(0, vhostctl_dev_set_owner(dev));
	t_eq(0, vhostctl_dev_set_vring_call(dev, 0, -1));
	/* The backend's calls are served while the kick's acknowledgement is awaited. */
	t_eq(0, vhostctl_dev_set_vring_kick(dev, 0, -1));
	t_eq(2, p.nreplies);
	if (inband) {
		t_eq(2, vhostctl_vu_inband_calls(dev, 0));
		t_eq(0, p.replies[0]);
		t_eq(1, p.replies[1]);
		for (int i = 0; i < 3; i++)
			t_eq(0, vhostctl_vu_kick(dev, 0));
		t_eq(-ENOBUFS, vhostctl_vu_kick(dev, 2));
		t_eq(0, vhostctl_vu_set_vring_endian(dev, 1, 1));
		t_eq(0, vhostctl_vu_set_vring_endian(dev, 1, 0));
		t_eq(-EIO, vhostctl_vu_set_vring_endian(dev, 1, 1));
		t_eq(-ENOBUFS, vhostctl_vu_set_vring_endian(dev, 2, 1));
	} else {
		t_eq(0, vhostctl_vu_inband_calls(dev, 0));
		t_eq(1, p.replies[0]);
		t_eq(1, p.replies[1]);
		t_eq(-EOPNOTSUPP, vhostctl_vu_kick(dev, 0));
		t_eq(-EOPNOTSUPP, vhostctl_vu_set_vring_endian(dev, 1, 1));
	}
	t_eq(-ENOBUFS, vhostctl_vu_inband_calls(dev, 2));
	/* A request with a reply: the kicks before it have been read. */
	t_eq(0, vhostctl_dev_get_features(dev, &f));
	t_eq(inband ? 3 : 0, p.kicks);
	t_eq(0, p.bad_kicks);
	if (inband) {
		t_eq(3, p.nendian);
		t_eq(1u << 8 | 1, p.endian[0]);
		t_eq(1u << 8 | 0, p.endian[1]);
	} else {
		t_eq(0, p.nendian);
	}
	vhostctl_dev_close(dev);
	pthread_join(th, NULL);
	if (p.chan >= 0)
		close(p.chan);
	close(p.lfd);
	unlink(path);
	printf("%s: %u in-band kicks, replies %llu %llu\n", inband ? "INBAND" : "no INBAND",
	       p.kicks, (unsigned long long)p.replies[0], (unsigned long long)p.replies[1]);
	t_eq(fds, t_count_fds());
}

int main(void)
{
	run(true);
	run(false);
	return T_EXIT_PASS;
}
