/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vhostctl_sim selftests: feature bits, one vendor
 * counter through the library's vhostctl_vdpa_dev_vstats(), sysfs driver
 * binding, module parameters and unique device names.  Devices are added,
 * configured and deleted with the library's vhostctl_vdpa_* calls; the
 * shell tests keep iproute2's vdpa as the independent check.
 */
#ifndef VDPA_SIM_HELPERS_H
#define VDPA_SIM_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vhostctl/vhostctl.h>

#define VS_F_RING_INDIRECT	28
#define VS_F_RING_EVENT_IDX	29
#define VS_F_VERSION_1		32
#define VS_F_ACCESS_PLATFORM	33
#define VS_F_RING_PACKED	34

#define VS_NET_F_MTU		3
#define VS_NET_F_MAC		5
#define VS_NET_F_STATUS		16
#define VS_NET_F_CTRL_VQ	17
#define VS_NET_F_MQ		22
#define VS_NET_F_CTRL_MAC_ADDR	23

/* what the module offers for net, minus RING_PACKED */
#define VS_NET_SPLIT_FEATURES						\
	((1ULL << VS_F_VERSION_1) | (1ULL << VS_F_ACCESS_PLATFORM) |	\
	 (1ULL << VS_F_RING_INDIRECT) | (1ULL << VS_F_RING_EVENT_IDX) |	\
	 (1ULL << VS_NET_F_MAC) | (1ULL << VS_NET_F_MTU) |		\
	 (1ULL << VS_NET_F_STATUS) | (1ULL << VS_NET_F_CTRL_VQ) |	\
	 (1ULL << VS_NET_F_MQ) | (1ULL << VS_NET_F_CTRL_MAC_ADDR))
/* what the module offers for block, minus RING_PACKED */
#define VS_BLK_SPLIT_FEATURES						\
	((1ULL << VS_F_VERSION_1) | (1ULL << VS_F_ACCESS_PLATFORM) |	\
	 (1ULL << VS_F_RING_INDIRECT) | (1ULL << VS_F_RING_EVENT_IDX) |	\
	 (1ULL << 1) | (1ULL << 2) | (1ULL << 6) | (1ULL << 9) |	\
	 (1ULL << 13) | (1ULL << 14))

/* What vs_vstat() looks for, and what it found. */
struct vs_stat_query {
	const char *name;
	uint64_t value;
	bool found;
};

static inline int vs_stat_cb(void *ctx, const char *name, uint64_t value)
{
	struct vs_stat_query *q = ctx;

	if (!strcmp(name, q->name)) {
		q->value = value;
		q->found = true;
	}
	return 0;
}

/* One vendor counter of one queue, through the library; 0 or -errno. */
static inline int vs_vstat(struct vhostctl_vdpa *nl, const char *dev, uint32_t qidx,
			   const char *stat, uint64_t *value)
{
	struct vs_stat_query q = { .name = stat };
	int ret = vhostctl_vdpa_dev_vstats(nl, dev, qidx, vs_stat_cb, &q);

	if (ret < 0)
		return ret;
	if (!q.found)
		return -ENOENT;
	*value = q.value;
	return 0;
}

static inline int vs_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val));
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

static inline int vs_param(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/vhostctl_sim/parameters/%s",
		 name);
	return vs_write_file(path, val);
}

/* Binds a vdpa device to "vhost_vdpa" or "virtio_vdpa". */
static inline int vs_bind(const char *dev, const char *driver)
{
	char path[256], link[256];
	ssize_t len;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s/driver", dev);
	len = readlink(path, link, sizeof(link) - 1);
	if (len > 0) {
		link[len] = 0;
		if (!strcmp(strrchr(link, '/') + 1, driver))
			return 0;
		snprintf(path, sizeof(path), "/sys/bus/vdpa/drivers/%s/unbind",
			 strrchr(link, '/') + 1);
		ret = vs_write_file(path, dev);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path),
		 "/sys/bus/vdpa/devices/%s/driver_override", dev);
	ret = vs_write_file(path, driver);
	if (ret)
		return ret;
	return vs_write_file("/sys/bus/vdpa/drivers_probe", dev);
}

/*
 * Finds the first entry under /sys/bus/vdpa/devices/DEV/SUB... whose name
 * starts with prefix; sub may hold one "*" component matched by "virtio".
 */
static inline int vs_find(const char *dir, const char *prefix, char *out,
		   size_t outlen)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int ret = -ENOENT;

	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		if (!strncmp(d->d_name, prefix, strlen(prefix))) {
			if (strlen(d->d_name) >= outlen)
				break;
			memcpy(out, d->d_name, strlen(d->d_name) + 1);
			ret = 0;
			break;
		}
	}
	closedir(dp);
	return ret;
}

/* Waits up to ms for an entry to appear; returns 0 or -ENOENT. */
static inline int vs_wait_find(const char *dir, const char *prefix, char *out,
			size_t outlen, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (!vs_find(dir, prefix, out, outlen))
			return 0;
		usleep(10000);
	}
	return vs_find(dir, prefix, out, outlen);
}

static inline void vs_unique_name(char *buf, size_t len, const char *prefix)
{
	static unsigned int n;

	snprintf(buf, len, "%s%d_%u", prefix, (int)getpid() % 100000, n++);
}

#endif /* VDPA_SIM_HELPERS_H */
