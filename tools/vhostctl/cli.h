/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared pieces of the vhostctl commands. */
#ifndef VHOSTCTL_CLI_H
#define VHOSTCTL_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Objects: each returns 0 or -errno, having printed its error line. */
int cmd_dev(int argc, char **argv);
int cmd_mgmtdev(int argc, char **argv);
int cmd_vdpa(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_vduse(int argc, char **argv);

/* dev show of a vhost-user backend's socket, given as unix:PATH (user.c). */
int user_show(const char *arg);
/* dev up: set a device up and pass frames through it (up.c). */
int dev_up(int argc, char **argv);
/* -batch FILE: one step a line (batch.c).  0, or 1 when a step failed. */
int batch_run(const char *file, bool force, bool json, bool pretty);

/* Features as names; @dev_id selects the device-specific names (1 net, 19 vsock). */
void print_features(const char *name, uint64_t f, unsigned int dev_id);

/*
 * Keyword values of user serve and vduse serve (args.c): a decimal number
 * in [min, max]; bytes with an optional K, M or G (powers of 1024); a MAC
 * address as six two-digit hex bytes with colons; each 0 or -EINVAL.  arg_duplicate() prints the error for a keyword given twice
 * and returns -EINVAL.
 */
int arg_num(const char *s, unsigned long long min, unsigned long long max,
	    unsigned long long *v);
int arg_size(const char *s, unsigned long long *v);
int arg_duplicate(const char *kw, const char *val);
int arg_mac(const char *s, uint8_t *m);

/* Exact keyword match, as iproute2. */
static inline bool matches(const char *arg, const char *kw)
{
	return arg && !__builtin_strcmp(arg, kw);
}

#endif
