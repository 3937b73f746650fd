/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Network plumbing for the selftests: a tap created with TUNSETIFF, link
 * state and addresses through libnl-route-3, a packet socket on the tap.
 */
#ifndef SELFTEST_NETDEV_H
#define SELFTEST_NETDEV_H

#include <stdint.h>
#include <stddef.h>

/* Create a tap (IFF_TAP|IFF_NO_PI, plus IFF_VNET_HDR when vnet_hdr_sz > 0).
 * Returns the fd (O_CLOEXEC) and fills name and ifindex, or -errno. */
int tap_open(char name[16], int *ifindex, int vnet_hdr_sz);

/* Bring a link up with an IPv4 address (libnl-route-3); IPv6 is disabled on
 * it first so that the kernel sends nothing of its own.  0 or -errno. */
int nl_link_setup(int ifindex, const char *name, const char *cidr);

/* Read a link's flags (IFF_*) through libnl-route-3.  0 or -errno. */
int nl_link_flags(int ifindex, unsigned int *flags);

/* A packet socket bound to ifindex, seeing only what arrives on it, with
 * a receive timeout.  Returns the fd or -errno. */
int pkt_open(int ifindex, int timeout_ms);

/* Send one frame out of ifindex through a packet socket.  0 or -errno. */
int pkt_send(int fd, int ifindex, const void *frame, size_t len);

/* Test frames: broadcast, local experimental ethertype 0x88b5, a 4-byte
 * sequence number, then a pattern derived from it. */
#define TEST_ETHERTYPE 0x88b5
void frame_fill(uint8_t *f, size_t len, uint32_t seq);
/* Sequence number of a test frame, or -1 when it is not one. */
long frame_seq(const uint8_t *f, size_t len);

#endif
