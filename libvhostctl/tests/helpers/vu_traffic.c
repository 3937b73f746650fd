// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * vu_traffic [split|packed] [PACKETS] [SIZE]: our vhost-user frontend and
 * our net loopback backend (in a thread) exchange PACKETS packets over a
 * Unix socket; prints the rate.  Used by make run (tools/demo.d).
 */
#include <stdio.h>
#include <stdlib.h>

#include "vu_traffic.h"

int main(int argc, char **argv)
{
	VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 1 });
	struct traffic t = { .num = 256, .packets = 1000000, .size = 64, .event_idx = true };
	struct vhostctl_vu_backend *be;
	struct vhostctl_vu_net_stats st;
	char path[64];

	if (argc > 1)
		t.packed = !strcmp(argv[1], "packed");
	if (argc > 2)
		t.packets = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		t.size = (unsigned int)strtoul(argv[3], NULL, 0);
	if (t.size < 8 || t.size > 2000)
		t.size = 64;
	snprintf(path, sizeof(path), "/tmp/vu_traffic.%d.sock", getpid());
	t.path = path;
	be = vhostctl_vu_net_new(&no);
	if (!be || traffic_run(&t, be)) {
		fprintf(stderr, "vu_traffic: %s\n", be ? t.err : strerror(errno));
		return 1;
	}
	vhostctl_vu_net_stats(be, &st);
	printf("vhost-user %s ring: %lu packets of %u bytes (+12 header) looped back in %.3f s: "
	       "%.2f Mpps, %.1f MB/s; backend counted tx %llu rx %llu dropped %llu\n",
	       t.packed ? "packed" : "split", t.received, t.size, t.seconds,
	       t.received / t.seconds / 1e6, t.received * (t.size + 12.0) / t.seconds / 1e6,
	       (unsigned long long)st.tx_packets, (unsigned long long)st.rx_packets,
	       (unsigned long long)st.dropped);
	vhostctl_vu_backend_free(be);
	return 0;
}
