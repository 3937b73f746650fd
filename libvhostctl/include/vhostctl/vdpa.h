/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * vDPA device management through the kernel's "vdpa" generic netlink family:
 * management devices, device creation and removal, configuration, vendor
 * statistics.  What iproute2's vdpa tool does, as a library.
 */
#ifndef VHOSTCTL_VDPA_H
#define VHOSTCTL_VDPA_H

#include <stddef.h>
#include <stdint.h>

#include <vhostctl/vhostctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/** struct vhostctl_vdpa - a vdpa netlink session (opaque) */
struct vhostctl_vdpa;

/**
 * vhostctl_vdpa_open() - open a vdpa netlink session
 *
 * The vdpa family exists once the vdpa module is loaded (it has no module
 * alias, so nothing loads it on demand), and only in the initial network
 * namespace.
 *
 * Return: a session, or NULL with errno set: ENOENT when the kernel has no
 * vdpa family.
 */
VHOSTCTL_API struct vhostctl_vdpa *vhostctl_vdpa_open(void);

/**
 * vhostctl_vdpa_close() - close a session
 * @vdpa: the session, or NULL
 */
VHOSTCTL_API void vhostctl_vdpa_close(struct vhostctl_vdpa *vdpa);

/**
 * vhostctl_vdpa_error() - the kernel's message about the last failed request
 * @vdpa: the session
 *
 * Return: the extended ack message of the last request that failed (for
 * example "Some provided attributes are not supported: 0x2000"), or "" when
 * the kernel gave none.  Valid until the next request.
 */
VHOSTCTL_API const char *vhostctl_vdpa_error(const struct vhostctl_vdpa *vdpa);

/**
 * struct vhostctl_vdpa_mgmtdev - a management device, as the kernel reports it
 * @bus: its bus ("pci"), or NULL for devices on no bus
 * @name: its name
 * @supported_classes: bit N set when virtio device id N can be created
 * @max_vqs: most virtqueues a device may have (0: not reported)
 * @supported_features: virtio features its devices can offer (0: not reported)
 */
struct vhostctl_vdpa_mgmtdev {
	const char *bus;
	const char *name;
	uint64_t supported_classes;
	uint32_t max_vqs;
	uint64_t supported_features;
};

/**
 * struct vhostctl_vdpa_dev - a vDPA device
 * @name: its name
 * @mgmtdev_bus: its management device's bus, or NULL
 * @mgmtdev: its management device's name
 * @device_id: virtio device id (1 net, 2 block)
 * @vendor_id: virtio vendor id
 * @max_vqs: number of virtqueues
 * @max_vq_size: largest virtqueue size
 * @min_vq_size: smallest virtqueue size (0: not reported)
 */
struct vhostctl_vdpa_dev {
	const char *name;
	const char *mgmtdev_bus;
	const char *mgmtdev;
	uint32_t device_id;
	uint32_t vendor_id;
	uint32_t max_vqs;
	uint16_t max_vq_size;
	uint16_t min_vq_size;
};

/*
 * Callbacks of the list calls: the strings they see live until the callback
 * returns.  A non-zero return stops the walk and becomes the call's result.
 */
typedef int (*vhostctl_vdpa_mgmtdev_fn)(void *ctx, const struct vhostctl_vdpa_mgmtdev *m);
typedef int (*vhostctl_vdpa_dev_fn)(void *ctx, const struct vhostctl_vdpa_dev *d);
typedef int (*vhostctl_vdpa_stat_fn)(void *ctx, const char *name, uint64_t value);

/**
 * vhostctl_vdpa_mgmtdev_list() - walk the management devices
 * @vdpa: the session
 * @name: one management device ("[bus/]name"), or NULL for all
 * @fn: called for each
 * @ctx: passed to @fn
 *
 * Return: the number of management devices seen, or -errno.
 */
VHOSTCTL_API int vhostctl_vdpa_mgmtdev_list(struct vhostctl_vdpa *vdpa, const char *name,
					    vhostctl_vdpa_mgmtdev_fn fn, void *ctx);

/**
 * vhostctl_vdpa_dev_list() - walk the vDPA devices
 * @vdpa: the session
 * @name: one device, or NULL for all
 * @fn: called for each
 * @ctx: passed to @fn
 *
 * Return: the number of devices seen, or -errno (-ENODEV: no such device).
 */
VHOSTCTL_API int vhostctl_vdpa_dev_list(struct vhostctl_vdpa *vdpa, const char *name,
					vhostctl_vdpa_dev_fn fn, void *ctx);

/* Which optional fields of struct vhostctl_vdpa_dev_add_opts are set. */
#define VHOSTCTL_VDPA_ADD_MAC (1U << 0)
#define VHOSTCTL_VDPA_ADD_MTU (1U << 1)
#define VHOSTCTL_VDPA_ADD_MAX_VQP (1U << 2)
#define VHOSTCTL_VDPA_ADD_FEATURES (1U << 3)

/**
 * struct vhostctl_vdpa_dev_add_opts - attributes of a new device
 * @sz: sizeof(struct vhostctl_vdpa_dev_add_opts), see VHOSTCTL_OPTS_INIT()
 * @set: VHOSTCTL_VDPA_ADD_* bits: which of the fields below to send
 * @mac: net: MAC address
 * @mtu: net: MTU
 * @max_vq_pairs: net: number of queue pairs
 * @device_features: the virtio features the device offers, a subset of
 *	what its management device supports
 */
struct vhostctl_vdpa_dev_add_opts {
	size_t sz;
	uint32_t set;
	uint8_t mac[6];
	uint16_t mtu;
	uint16_t max_vq_pairs;
	uint64_t device_features;
};

/**
 * vhostctl_vdpa_dev_add() - create a vDPA device
 * @vdpa: the session
 * @name: the new device's name
 * @mgmtdev: its management device, "[bus/]name"
 * @opts: attributes, or NULL
 *
 * Needs CAP_NET_ADMIN.  The device binds to the first vdpa bus driver that
 * takes it (vhost_vdpa or virtio_vdpa).
 *
 * Return: 0 or -errno; the kernel's reason is in vhostctl_vdpa_error().
 */
VHOSTCTL_API int vhostctl_vdpa_dev_add(struct vhostctl_vdpa *vdpa, const char *name,
				       const char *mgmtdev,
				       const struct vhostctl_vdpa_dev_add_opts *opts);

/**
 * vhostctl_vdpa_dev_del() - remove a vDPA device
 * @vdpa: the session
 * @name: the device
 *
 * Return: 0 or -errno (-ENODEV: no such device).
 */
VHOSTCTL_API int vhostctl_vdpa_dev_del(struct vhostctl_vdpa *vdpa, const char *name);

/**
 * vhostctl_vdpa_dev_set_mac() - change the MAC address of a net device
 * @vdpa: the session
 * @name: the device
 * @mac: the new address
 *
 * Return: 0 or -errno (-EOPNOTSUPP when its management device cannot).
 */
VHOSTCTL_API int vhostctl_vdpa_dev_set_mac(struct vhostctl_vdpa *vdpa, const char *name,
					   const uint8_t mac[6]);

/* Which fields of struct vhostctl_vdpa_config the kernel reported. */
#define VHOSTCTL_VDPA_CFG_NEGOTIATED (1U << 0)
#define VHOSTCTL_VDPA_CFG_DEVICE_FEATURES (1U << 1)
#define VHOSTCTL_VDPA_CFG_MAC (1U << 2)
#define VHOSTCTL_VDPA_CFG_STATUS (1U << 3)
#define VHOSTCTL_VDPA_CFG_MAX_VQP (1U << 4)
#define VHOSTCTL_VDPA_CFG_MTU (1U << 5)
#define VHOSTCTL_VDPA_CFG_CAPACITY (1U << 6)
#define VHOSTCTL_VDPA_CFG_BLK_SIZE (1U << 7)

/**
 * struct vhostctl_vdpa_config - a device's configuration
 * @sz: sizeof(struct vhostctl_vdpa_config), see VHOSTCTL_OPTS_INIT()
 * @present: VHOSTCTL_VDPA_CFG_* bits: which fields below were reported
 * @device_id: virtio device id
 * @negotiated_features: features the driver accepted (once FEATURES_OK)
 * @device_features: features the device offers
 * @mac: net: MAC address
 * @status: net: link status bits (1: link up, 2: announce)
 * @max_vq_pairs: net: queue pairs
 * @mtu: net: MTU
 * @capacity: block: capacity in 512-byte sectors
 * @blk_size: block: block size in bytes
 */
struct vhostctl_vdpa_config {
	size_t sz;
	uint32_t present;
	uint32_t device_id;
	uint64_t negotiated_features;
	uint64_t device_features;
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_vq_pairs;
	uint16_t mtu;
	uint64_t capacity;
	uint32_t blk_size;
};

/**
 * vhostctl_vdpa_dev_config() - read a device's configuration
 * @vdpa: the session
 * @name: the device
 * @cfg: filled in; its @sz must be set (VHOSTCTL_OPTS_INIT())
 *
 * Return: 0 or -errno.
 */
VHOSTCTL_API int vhostctl_vdpa_dev_config(struct vhostctl_vdpa *vdpa, const char *name,
					  struct vhostctl_vdpa_config *cfg);

/**
 * vhostctl_vdpa_dev_vstats() - read a queue's vendor statistics
 * @vdpa: the session
 * @name: the device (net)
 * @queue: the queue index
 * @fn: called with each statistic's name and value
 * @ctx: passed to @fn
 *
 * Return: the number of statistics, or -errno: -EAGAIN before the driver
 * finished feature negotiation, -EOPNOTSUPP when the device keeps none.
 */
VHOSTCTL_API int vhostctl_vdpa_dev_vstats(struct vhostctl_vdpa *vdpa, const char *name,
					  uint32_t queue, vhostctl_vdpa_stat_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* VHOSTCTL_VDPA_H */
