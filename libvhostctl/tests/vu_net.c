// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Our frontend against our net loopback backend over a real Unix socket:
 * split and packed rings, event-idx on and off, the backend listening or
 * connecting.  Every packet comes back once, in order, with its bytes;
 * GET_VRING_BASE reports where each ring stopped; no fd leaks.
 */
#include <stdio.h>

#include "test.h"
#include "vu_traffic.h"

int main(void)
{
	static const struct { bool packed, server, event_idx; } v[] = {
		{ false, false, true }, { false, true, false },
		{ true, false, true }, { true, true, false },
	};
	char path[64];
	int fds = t_count_fds();

	snprintf(path, sizeof(path), "/tmp/vu_net.%d.sock", getpid());
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		VHOSTCTL_OPTS_INIT(struct vhostctl_vu_net_opts, no, .mac = { 2, 0, 0, 0, 0, 1 },
				   .log = getenv("VU_DEBUG") ? tr_log : NULL, .log_ctx = (void *)"be",
				   .log_level = 7);
		struct traffic t = {
			.packed = v[i].packed, .server = v[i].server, .event_idx = v[i].event_idx,
			.num = 256, .packets = 20000, .size = 64, .path = path,
		};
		struct vhostctl_vu_backend *be = vhostctl_vu_net_new(&no);
		struct vhostctl_vu_net_stats st;

		t_true(be);
		if (traffic_run(&t, be))
			t_fail("%s %s: %s", t.packed ? "packed" : "split",
			       t.server ? "server" : "client", t.err);
		t_eq(0, vhostctl_vu_net_stats(be, &st));
		t_eq(t.packets, st.tx_packets);
		t_eq(t.packets, st.rx_packets);
		t_eq(0, st.dropped);
		printf("%s ring, frontend %s, event-idx %s: %lu packets in %.3f s (%.0f pps)\n",
		       t.packed ? "packed" : "split", t.server ? "listens" : "connects",
		       t.event_idx ? "on" : "off", t.received, t.seconds, t.received / t.seconds);
		vhostctl_vu_backend_free(be);
	}
	t_eq(fds, t_count_fds());
	return 0;
}
