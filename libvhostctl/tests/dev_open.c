// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Device handle basics that need no vhost device: errors for missing paths,
 * for fds that are not vhost devices and for bad arguments, errno set as
 * documented, no fd leaked, extensible options checked.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#include "test.h"

static int logged;

static void log_cb(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= VHOSTCTL_LOG_ERR && strstr(msg, "not a vhost device"))
		logged++;
}

int main(void)
{
	int fds = t_count_fds();
	struct vhostctl_dev *dev;
	uint64_t f;
	int fd;

	/* A path that does not exist. */
	errno = 0;
	t_true(vhostctl_dev_open("/nonexistent/vhost-net", NULL) == NULL);
	t_eq(ENOENT, errno);
	t_true(vhostctl_dev_open(NULL, NULL) == NULL);
	t_eq(EINVAL, errno);

	/* A bad fd. */
	t_true(vhostctl_dev_open_fd(-1, VHOSTCTL_TRANSPORT_KERNEL, NULL) == NULL);
	t_eq(EBADF, errno);

	/* A character device that is not a vhost device: clean ENOTTY. */
	VHOSTCTL_OPTS_INIT(struct vhostctl_dev_opts, opts, .log = log_cb,
			   .log_level = VHOSTCTL_LOG_DEBUG);
	dev = vhostctl_dev_open("/dev/null", &opts);
	t_true(dev != NULL);
	t_eq(VHOSTCTL_TRANSPORT_KERNEL, vhostctl_dev_transport(dev));
	t_true(vhostctl_dev_fd(dev) >= 0);
	t_true(fcntl(vhostctl_dev_fd(dev), F_GETFD) & FD_CLOEXEC);
	errno = 0;
	t_eq(-ENOTTY, vhostctl_dev_set_owner(dev));
	t_eq(ENOTTY, errno);
	t_eq(1, logged);
	t_eq(-ENOTTY, vhostctl_dev_get_features(dev, &f));
	t_eq(-EINVAL, vhostctl_dev_get_features(dev, NULL));
	t_eq(EINVAL, errno);
	t_eq(-ENOTTY, vhostctl_dev_set_features(dev, 0));
	t_eq(-ENOTTY, vhostctl_dev_reset_owner(dev));
	vhostctl_dev_close(dev);

	/* An eventfd handed over: owned by the handle, closed with it. */
	fd = eventfd(0, EFD_CLOEXEC);
	t_true(fd >= 0);
	dev = vhostctl_dev_open_fd(fd, VHOSTCTL_TRANSPORT_KERNEL, NULL);
	t_true(dev != NULL);
	t_eq(-ENOTTY, vhostctl_dev_set_owner(dev));
	vhostctl_dev_close(dev);
	t_eq(-1, fcntl(fd, F_GETFD));

	/* An unknown transport: the fd is still consumed. */
	fd = eventfd(0, EFD_CLOEXEC);
	t_true(vhostctl_dev_open_fd(fd, (enum vhostctl_transport)99, NULL) == NULL);
	t_eq(EOPNOTSUPP, errno);
	t_eq(-1, fcntl(fd, F_GETFD));

	/* Options from a newer caller: unknown non-zero fields are refused. */
	struct {
		struct vhostctl_dev_opts o;
		long future;
	} big = { .o = { .sz = sizeof(big) }, .future = 1 };
	t_true(vhostctl_dev_open("/dev/null", &big.o) == NULL);
	t_eq(E2BIG, errno);
	big.future = 0;
	dev = vhostctl_dev_open("/dev/null", &big.o);
	t_true(dev != NULL);
	vhostctl_dev_close(dev);
	struct vhostctl_dev_opts tiny = { .sz = 1 };
	t_true(vhostctl_dev_open("/dev/null", &tiny) == NULL);
	t_eq(EINVAL, errno);

	vhostctl_dev_close(NULL);
	t_eq(fds, t_count_fds());
	return T_EXIT_PASS;
}
