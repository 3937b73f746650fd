// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Reconnect with our frontend in the listening role (opts.server): the net
 * loopback backend (tests/helpers/vu_be net -c, a process of its own)
 * connects to us; packets go round; the backend is killed with SIGKILL,
 * the handle notices on its next request, a new backend process connects
 * again and vhostctl_vu_reconnect() (listening again on the same path)
 * replays the set-up; packets go round again on the same queues.  Three
 * deaths.  Every packet must come back once, byte for byte; no fd leaks.
 */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

#define F_VERSION_1 (1ull << 32)
#define NPKT 16u
#define PKT 200u
#define HDR 12u
#define ROUNDS 3u

static char be_bin[512], sock[64], be_logfile[64];
static pid_t backend = -1;

static void end_backend(void)
{
	if (backend > 0) {
		kill(backend, SIGKILL);
		waitpid(backend, NULL, 0);
	}
	unlink(sock);
	unlink(be_logfile);
}

/* A backend that connects to our socket (retrying until we listen). */
static pid_t start_backend(void)
{
	pid_t p = fork();

	if (p == 0) {
		int null = open("/dev/null", O_WRONLY);
		int log = open(be_logfile, O_WRONLY | O_APPEND | O_CREAT, 0600);

		dup2(null, 1);
		dup2(log, 2);
		execl(be_bin, be_bin, "net", "-c", sock, (char *)NULL);
		_exit(127);
	}
	t_true(p > 0);
	return p;
}

/* NPKT packets out on TX, each back on RX with its bytes. */
static void traffic(struct vhostctl_mem *mem, struct vhostctl_vq **vqs, unsigned int round)
{
	static uint8_t *rx[NPKT], *tx[NPKT];
	static uint64_t rx_gpa[NPKT], tx_gpa[NPKT];
	unsigned int got = 0, sent_back = 0;

	for (unsigned int i = 0; i < NPKT; i++) {
		struct vhostctl_vq_buf rb, tb;

		if (!rx[i]) {
			rx[i] = vhostctl_mem_alloc(mem, 2048, 64, &rx_gpa[i]);
			tx[i] = vhostctl_mem_alloc(mem, 2048, 64, &tx_gpa[i]);
			t_true(rx[i] && tx[i]);
		}
		rb = (struct vhostctl_vq_buf){ .gpa = rx_gpa[i], .len = 2048 };
		tb = (struct vhostctl_vq_buf){ .gpa = tx_gpa[i], .len = HDR + PKT };
		memset(tx[i], 0, HDR);
		for (unsigned int j = 0; j < PKT; j++)
			tx[i][HDR + j] = (uint8_t)(round * 53 + i * 7 + j);
		t_eq(0, vhostctl_vq_add(vqs[0], &rb, 0, 1, rx[i], 0));
		t_eq(0, vhostctl_vq_add(vqs[1], &tb, 1, 0, tx[i], 0));
	}
	t_true(vhostctl_vq_kick(vqs[0]) >= 0);
	t_true(vhostctl_vq_kick(vqs[1]) >= 0);
	for (int tries = 0; (got < NPKT || sent_back < NPKT) && tries < 500; tries++) {
		uint32_t len;
		void *tok;

		while (vhostctl_vq_get_used(vqs[1], &len, &tok) == 1)
			sent_back++;
		while (vhostctl_vq_get_used(vqs[0], &len, &tok) == 1) {
			uint8_t *b = tok;
			unsigned int i = 0;

			while (i < NPKT && rx[i] != b)
				i++;
			t_true(i < NPKT);
			t_eq(HDR + PKT, len);
			for (unsigned int j = 0; j < PKT; j++)
				if (b[HDR + j] != (uint8_t)(round * 53 + i * 7 + j))
					t_fail("round %u: packet %u byte %u differs", round, i, j);
			got++;
		}
		if (got < NPKT)
			vhostctl_vq_wait(vqs[0], 10);
	}
	if (got != NPKT || sent_back != NPKT)
		t_fail("round %u: %u of %u packets back, %u TX buffers used", round, got, NPKT,
		       sent_back);
}

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o, .server = 1, .timeout_ms = 5000);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, so, .features = F_VERSION_1, .nqueues = 2,
			   .queue_size = 64);
	const char *build = getenv("BUILD");
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vqs[2];
	struct vhostctl_dev *dev;
	char tmp[512];
	uint64_t f;
	int fds, st;

	(void)argc;
	if (build) {
		snprintf(be_bin, sizeof(be_bin), "%s/tests/helpers/vu_be", build);
	} else {
		snprintf(tmp, sizeof(tmp), "%s", argv[0]);
		snprintf(be_bin, sizeof(be_bin), "%s/helpers/vu_be", dirname(tmp));
	}
	if (access(be_bin, X_OK))
		t_fail("%s is missing", be_bin);
	snprintf(sock, sizeof(sock), "/tmp/vu_fe_relisten.%d.sock", getpid());
	snprintf(be_logfile, sizeof(be_logfile), "/tmp/vu_fe_relisten.%d.log", getpid());
	atexit(end_backend);
	signal(SIGPIPE, SIG_IGN);
	fds = t_count_fds();
	t_true(mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);

	backend = start_backend();
	dev = vhostctl_vu_open(sock, &o);
	if (!dev)
		t_fail("vhostctl_vu_open (listening): %s", strerror(errno));
	t_eq(0, vhostctl_dev_setup(dev, mem, vqs, &so, NULL));
	traffic(mem, vqs, 0);

	for (unsigned int round = 1; round <= ROUNDS; round++) {
		kill(backend, SIGKILL);
		t_eq(backend, waitpid(backend, &st, 0));
		backend = -1;
		/* The next request finds the backend gone. */
		t_true(vhostctl_dev_get_features(dev, &f) < 0);
		t_true(vhostctl_dev_get_features(dev, &f) == -ENOTCONN);
		backend = start_backend();
		if (vhostctl_vu_reconnect(dev))
			t_fail("round %u: reconnect: %s", round, strerror(errno));
		traffic(mem, vqs, round);
		printf("backend %u killed, reconnected as listener, %u packets back\n", round,
		       NPKT);
	}

	t_eq(0, vhostctl_dev_teardown(dev, vqs, 2));
	vhostctl_dev_close(dev);
	kill(backend, SIGTERM);
	t_eq(backend, waitpid(backend, &st, 0));
	backend = -1;
	t_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	vhostctl_mem_free(mem);
	unlink(be_logfile);
	t_eq(fds, t_count_fds());
	return T_EXIT_PASS;
}
