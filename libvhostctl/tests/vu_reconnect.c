// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Backend crash and reconnect: a block backend in a process of its own
 * (tests/helpers/vu_be slowblk, which holds every request 100 ms so that
 * dozens are in flight at any time) is killed with SIGKILL in the middle of
 * a stream of writes, started again on the same file and socket, and our
 * frontend replays the setup with vhostctl_vu_reconnect(): the new backend
 * takes the inflight region (INFLIGHT_SHMFD) and resubmits what was popped
 * but not completed; the ring resumes from the used index.  Three kills,
 * with a split ring, then again with a packed ring (its region records a
 * copy of every descriptor in flight, and the used index and wrap counter).
 * Checked: every request completes exactly once (a second completion of a
 * request would come back with a buffer id not in flight: the driver says
 * -EIO), all with status OK, and every block reads back as written.
 *
 * The soak (make soak): VU_RECONNECT_KILLS=N kills the backend N times per
 * ring layout, 20 completions apart, with the same checks, and the
 * process's open fds counted before and after each layout must match
 * (memory: LeakSanitizer at exit, as for every host test).
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "vu_blkdrv.h"

#define DISK (8u << 20)
#define BSZ 4096u
#define NBLK (DISK / BSZ)
#define DEPTH 40u	/* 3 descriptors each in a ring of 128 */

/* Kills per layout (VU_RECONNECT_KILLS) and the writes they fall among. */
static unsigned int nkills = 3, nreq = 1500;

static char be_bin[512], sock[64], img[64], be_logfile[64];

static pid_t backend = -1;

/* A failing check exits: the backend goes with us. */
static void end_backend(void)
{
	if (backend > 0) {
		kill(backend, SIGKILL);
		waitpid(backend, NULL, 0);
	}
	unlink(sock);
	unlink(img);
}

static pid_t start_backend(void)
{
	pid_t p = fork();

	if (p == 0) {
		int null = open("/dev/null", O_WRONLY);
		int log = open(be_logfile, O_WRONLY | O_APPEND | O_CREAT, 0600);

		dup2(null, 1);	/* "ready" and counters */
		dup2(log, 2);	/* ring starts and resubmissions */
		execl(be_bin, be_bin, "slowblk", "-l", sock, "-f", img, "-H", "100", (char *)NULL);
		_exit(127);
	}
	t_true(p > 0);
	backend = p;
	/* Ready when the socket accepts. */
	for (int i = 0; i < 500; i++) {
		if (!access(sock, F_OK))
			return p;
		usleep(10000);
	}
	t_fail("backend did not listen on %s", sock);
}

static void kill_backend(pid_t p)
{
	int st;

	t_eq(0, kill(p, SIGKILL));
	t_eq(p, waitpid(p, &st, 0));
	backend = -1;
	unlink(sock);
}

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	t_true(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Request k writes block k modulo the disk, a pattern of its sector. */
static uint64_t sector_of(unsigned int k)
{
	return (uint64_t)(k % NBLK) * (BSZ / 512);
}

static void run(bool packed)
{
	struct blkdrv_opts bo = { .inflight = true, .num = 128, .packed = packed };
	const char *ring = packed ? "packed" : "split";
	unsigned int *state = calloc(nreq, sizeof(*state));	/* 0 new, 1 submitted, 2 done */
	unsigned int req_of_slot[BLKDRV_SLOTS];
	unsigned int free_slots[BLKDRV_SLOTS], nfree = 0;
	unsigned int next = 0, done = 0, kills = 0, at_kill_min = ~0u, at_kill_max = 0;
	unsigned int fds0 = open_fds();
	struct blkdrv d;
	pid_t be;
	int fd;

	t_true(state);
	unlink(be_logfile);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	t_true(fd >= 0);
	t_eq(0, ftruncate(fd, DISK));

	be = start_backend();
	if (blkdrv_open(&d, sock, &bo))
		t_fail("%s: open: %s", ring, d.err);
	t_true(d.proto & (1ull << VHOSTCTL_VU_PF_INFLIGHT_SHMFD));
	t_eq(packed, !!(d.features & BLKDRV_F_RING_PACKED));
	for (unsigned int i = 0; i < DEPTH; i++)
		free_slots[nfree++] = DEPTH - 1 - i;

	while (done < nreq) {
		unsigned int slot;
		uint32_t len;
		int added = 0, r;

		while (next < nreq && nfree) {
			slot = free_slots[--nfree];
			req_of_slot[slot] = next;
			blkdrv_pattern(blkdrv_data(&d, slot), BSZ, sector_of(next), 3);
			r = blkdrv_submit(&d, slot, BLK_T_OUT, sector_of(next), BSZ);
			if (r)
				t_fail("submit %u: %s", next, strerror(-r));
			state[next++] = 1;
			added++;
		}
		if (added)
			blkdrv_kick(&d);
		/* Kill mid-stream, with the ring full of requests in flight. */
		if (kills < nkills && done >= (kills + 1) * nreq / (nkills + 1)) {
			/* The backend pops at once and holds each request 100 ms. */
			usleep(30000);
			if (next - done < at_kill_min)
				at_kill_min = next - done;
			if (next - done > at_kill_max)
				at_kill_max = next - done;
			kill_backend(be);
			/* More requests while it is down: they wait in the ring. */
			be = start_backend();
			r = vhostctl_vu_reconnect(d.dev);
			if (r)
				t_fail("%s: reconnect %u: %s", ring, kills + 1, strerror(-r));
			kills++;
			continue;
		}
		r = blkdrv_reap(&d, &slot, &len, 5000);
		if (r < 0)
			t_fail("%s: after %u completions: %s (a request completed twice?)", ring,
			       done, strerror(-r));
		if (!r)
			t_fail("%s: no completion in 5 s after %u of %u (%u kills): a request "
			       "was lost", ring, done, nreq, kills);
		if (slot >= DEPTH)
			t_fail("completion for slot %u", slot);
		if (state[req_of_slot[slot]] != 1)
			t_fail("request %u completed twice", req_of_slot[slot]);
		if (blkdrv_status(&d, slot) != BLK_S_OK)
			t_fail("request %u: status %u", req_of_slot[slot], blkdrv_status(&d, slot));
		state[req_of_slot[slot]] = 2;
		free_slots[nfree++] = slot;
		done++;
	}
	/* Nothing more comes: no late duplicate. */
	{
		unsigned int slot;
		uint32_t len;

		t_eq(0, blkdrv_reap(&d, &slot, &len, 200));
	}
	/* Every block is in the file; a few read back through the backend too. */
	for (unsigned int k = 0; k < nreq && k < NBLK; k++) {
		uint8_t got[BSZ], want[BSZ];

		blkdrv_pattern(want, BSZ, sector_of(k), 3);
		t_eq(BSZ, pread(fd, got, BSZ, (off_t)k * BSZ));
		if (memcmp(got, want, BSZ))
			t_fail("block %u differs after the restarts", k);
		if (k % 100 == 0) {
			t_eq(BLK_S_OK, blkdrv_rw(&d, BLK_T_IN, sector_of(k), got, BSZ, NULL));
			if (memcmp(got, want, BSZ))
				t_fail("block %u reads back different", k);
		}
	}
	/* The restarted backends resubmitted from the inflight region. */
	{
		FILE *f = fopen(be_logfile, "r");
		char line[256], started[32];
		unsigned int resub = 0, nresub = 0, starts = 0, n;

		t_true(f);
		snprintf(started, sizeof(started), "started: %s ring", ring);
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "resubmitting ");

			if (p && sscanf(p, "resubmitting %u", &n) == 1) {
				resub += n;
				nresub++;
			}
			if (strstr(line, started))
				starts++;
			if (strstr(line, "refused"))
				t_fail("%s: a backend refused the region: %s", ring, line);
		}
		fclose(f);
		if (starts != nkills + 1)
			t_fail("%s: %u %s ring starts logged, not %u", ring, starts, ring, nkills + 1);
		if (!nresub)
			t_fail("%s: no restarted backend resubmitted anything: inflight path "
			       "not exercised", ring);
		printf("%s ring: %u writes of 4 KiB, up to %u in flight; backend killed %u "
		       "times with %u to %u requests in the ring, restarted, reconnected; "
		       "%u restarts resubmitted %u requests from the inflight region; each "
		       "completed exactly once, all read back\n", ring, nreq, DEPTH, nkills,
		       at_kill_min, at_kill_max, nresub, resub);
	}
	unlink(be_logfile);
	blkdrv_close(&d);
	kill(be, SIGTERM);
	waitpid(be, NULL, 0);
	backend = -1;
	close(fd);
	unlink(img);
	unlink(sock);
	free(state);
	if (open_fds() != fds0)
		t_fail("%s: %u fds open before, %u after: a leak", ring, fds0, open_fds());
}

int main(int argc, char **argv)
{
	const char *build = getenv("BUILD");
	const char *k = getenv("VU_RECONNECT_KILLS");
	char tmp[512];

	(void)argc;
	if (build)
		snprintf(be_bin, sizeof(be_bin), "%s/tests/helpers/vu_be", build);
	else {
		snprintf(tmp, sizeof(tmp), "%s", argv[0]);
		snprintf(be_bin, sizeof(be_bin), "%s/helpers/vu_be", dirname(tmp));
	}
	if (access(be_bin, X_OK))
		t_fail("%s is missing", be_bin);
	snprintf(sock, sizeof(sock), "/tmp/vu_reconnect.%d.sock", getpid());
	snprintf(img, sizeof(img), "/tmp/vu_reconnect.%d.img", getpid());
	snprintf(be_logfile, sizeof(be_logfile), "/tmp/vu_reconnect.%d.log", getpid());
	if (k && *k) {
		nkills = (unsigned int)strtoul(k, NULL, 10);
		if (!nkills || nkills > 100000)
			t_fail("VU_RECONNECT_KILLS=%s: 1 to 100000", k);
		if (nkills > 3)
			nreq = 20 * (nkills + 1);
	}
	signal(SIGPIPE, SIG_IGN);
	atexit(end_backend);
	run(false);
	run(true);
	return 0;
}
