/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the VDUSE selftests share (and vdpa_sim_virtio_test, for the first
 * two): a vDPA device's virtio child (its interface or disk), an interface
 * brought up, the kernel log checked.
 */
#ifndef SELFTEST_VDUSE_H
#define SELFTEST_VDUSE_H

#include <stddef.h>
#include <stdint.h>

/* The entry under vDPA device DEV's virtio device's CLS directory ("net":
 * the interface, "block": the disk), waited for up to 3 s each.  0 or
 * -errno. */
int vduse_virtio_child(const char *dev, const char *cls, char *out, size_t outlen);

/* Set IFF_UP on an interface.  0 or -1. */
int vduse_if_up(const char *ifname);

/* Sends n 128-byte frames of ethertype 0x88b5 to MAC on packet socket
 * SOCK (bound to the interface, with a receive timeout); how many came
 * back with their payload intact, or -errno. */
int vduse_send_recv(int sock, const uint8_t *mac, int n);

/* True when the kernel log holds a WARNING, BUG, oops or GPF (printed). */
int vduse_kernel_bugs(void);

#endif
