// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Our loopback net backend, idle after vhostctl_dev_teardown(), must sleep:
 * a teardown that leaves rings in polling mode (the "no fd" kick) has the
 * backend's thread spin on them.  The process's CPU time over one idle
 * second is measured (getrusage, every thread) after setup and traffic,
 * then after teardown; a second set-up on the same connection still moves
 * packets.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

#define F_VERSION_1 (1ull << 32)
#define IDLE_MS 1000
#define MAX_CPU_MS 150

static long cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static long idle_cpu_ms(void)
{
	long c0 = cpu_ms();

	usleep(IDLE_MS * 1000);
	return cpu_ms() - c0;
}

/* One packet out on TX (queue 1), back on RX (queue 0). */
static void ping(struct vhostctl_mem *mem, struct vhostctl_vq **vqs)
{
	struct vhostctl_vq_buf rb = { .len = 2048 }, tb = { .len = 12 + 60 };
	uint8_t *rx = vhostctl_mem_alloc(mem, 2048, 64, &rb.gpa);
	uint8_t *tx = vhostctl_mem_alloc(mem, 2048, 64, &tb.gpa);
	void *tok;
	uint32_t len;
	int r = 0;

	t_true(rx && tx);
	memset(tx, 0, 12);
	memset(tx + 12, 0x5a, 60);
	t_eq(0, vhostctl_vq_add(vqs[0], &rb, 0, 1, rx, 0));
	t_true(vhostctl_vq_kick(vqs[0]) >= 0);
	t_eq(0, vhostctl_vq_add(vqs[1], &tb, 1, 0, tx, 0));
	t_true(vhostctl_vq_kick(vqs[1]) >= 0);
	for (int i = 0; i < 500; i++) {
		r = vhostctl_vq_get_used(vqs[0], &len, &tok);
		if (r)
			break;
		vhostctl_vq_wait(vqs[0], 10);
	}
	t_eq(1, r);
	t_true(tok == rx && len == 12 + 60 && rx[12 + 59] == 0x5a);
}

int main(void)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 9 });
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_opts, o);
	VHOSTCTL_OPTS_INIT(struct vhostctl_setup_opts, so, .features = F_VERSION_1, .nqueues = 2,
			   .queue_size = 64);
	struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);
	struct vhostctl_mem *mem = vhostctl_mem_new();
	struct vhostctl_vq *vqs[2];
	struct vhostctl_dev *dev;
	long running, after;
	char path[64];

	snprintf(path, sizeof(path), "/tmp/vu_fe_idle.%d.sock", getpid());
	t_true(be && mem && vhostctl_mem_add_region(mem, 0x100000, 4 << 20, 0) >= 0);
	t_eq(0, vhostctl_vu_backend_listen(be, path));
	t_eq(0, vhostctl_vu_backend_start(be));
	dev = vhostctl_vu_open(path, &o);
	t_true(dev);

	t_eq(0, vhostctl_dev_setup(dev, mem, vqs, &so, NULL));
	ping(mem, vqs);
	running = idle_cpu_ms();
	t_eq(0, vhostctl_dev_teardown(dev, vqs, 2));
	after = idle_cpu_ms();
	printf("CPU in %d ms idle: %ld ms with rings running, %ld ms after teardown\n", IDLE_MS,
	       running, after);
	if (after > MAX_CPU_MS)
		t_fail("the backend spins after teardown: %ld ms of CPU in %d ms", after, IDLE_MS);

	/* The connection is still good for another device start. */
	t_eq(0, vhostctl_dev_setup(dev, mem, vqs, &so, NULL));
	ping(mem, vqs);
	t_eq(0, vhostctl_dev_teardown(dev, vqs, 2));

	vhostctl_dev_close(dev);
	vhostctl_vu_backend_stop(be);
	vhostctl_vu_backend_free(be);
	vhostctl_mem_free(mem);
	unlink(path);
	return T_EXIT_PASS;
}
