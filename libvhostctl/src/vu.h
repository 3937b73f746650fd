/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * vhost-user internals shared by the wire layer, the frontend, the backend
 * and the device side of the virtqueue.  Message ids, flags and payload
 * layouts are facts of the protocol (QEMU docs/interop/vhost-user.rst).
 */
#ifndef VHOSTCTL_VU_H
#define VHOSTCTL_VU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vhostctl/devq.h>
#include <vhostctl/vhost_user.h>

#include "internal.h"

/* Header flags. */
#define VHC_VU_VERSION 0x1u
#define VHC_VU_VERSION_MASK 0x3u
#define VHC_VU_REPLY 0x4u
#define VHC_VU_NEED_REPLY 0x8u

#define VHC_VU_HDR_SIZE 12u
#define VHC_VU_MAX_FDS 8u
/* Largest payload we accept: GET_SHMEM_CONFIG's 2056 bytes fit. */
#define VHC_VU_MAX_PAYLOAD 4096u
#define VHC_VU_MAX_CONFIG 256u
#define VHC_VU_MEM_REGIONS 8u
#define VHC_VU_MAX_MEM_SLOTS 509u
#define VHC_VU_MAX_QUEUES 64u
#define VHC_VU_MAX_QUEUE_SIZE 32768u

/* Virtio / vhost feature bits the transport itself owns. */
#define VHC_F_INDIRECT_DESC 28
#define VHC_F_EVENT_IDX 29
#define VHC_F_PROTOCOL_FEATURES 30
#define VHC_F_LOG_ALL 26
#define VHC_F_VERSION_1 32
#define VHC_F_RING_PACKED 34
#define VHC_F_IN_ORDER 35
#define VHC_BIT(n) (1ull << (n))

/* SET_VRING_KICK/CALL/ERR payload. */
#define VHC_VU_VRING_IDX_MASK 0xffu
#define VHC_VU_VRING_NOFD (1u << 8)

/* Frontend-to-backend requests. */
enum {
	VHC_VU_GET_FEATURES = 1,
	VHC_VU_SET_FEATURES = 2,
	VHC_VU_SET_OWNER = 3,
	VHC_VU_RESET_OWNER = 4,
	VHC_VU_SET_MEM_TABLE = 5,
	VHC_VU_SET_LOG_BASE = 6,
	VHC_VU_SET_LOG_FD = 7,
	VHC_VU_SET_VRING_NUM = 8,
	VHC_VU_SET_VRING_ADDR = 9,
	VHC_VU_SET_VRING_BASE = 10,
	VHC_VU_GET_VRING_BASE = 11,
	VHC_VU_SET_VRING_KICK = 12,
	VHC_VU_SET_VRING_CALL = 13,
	VHC_VU_SET_VRING_ERR = 14,
	VHC_VU_GET_PROTOCOL_FEATURES = 15,
	VHC_VU_SET_PROTOCOL_FEATURES = 16,
	VHC_VU_GET_QUEUE_NUM = 17,
	VHC_VU_SET_VRING_ENABLE = 18,
	VHC_VU_SEND_RARP = 19,
	VHC_VU_NET_SET_MTU = 20,
	VHC_VU_SET_BACKEND_REQ_FD = 21,
	VHC_VU_IOTLB_MSG = 22,
	VHC_VU_SET_VRING_ENDIAN = 23,
	VHC_VU_GET_CONFIG = 24,
	VHC_VU_SET_CONFIG = 25,
	VHC_VU_CREATE_CRYPTO_SESSION = 26,
	VHC_VU_CLOSE_CRYPTO_SESSION = 27,
	VHC_VU_POSTCOPY_ADVISE = 28,
	VHC_VU_POSTCOPY_LISTEN = 29,
	VHC_VU_POSTCOPY_END = 30,
	VHC_VU_GET_INFLIGHT_FD = 31,
	VHC_VU_SET_INFLIGHT_FD = 32,
	VHC_VU_GPU_SET_SOCKET = 33,
	VHC_VU_RESET_DEVICE = 34,
	VHC_VU_VRING_KICK = 35,
	VHC_VU_GET_MAX_MEM_SLOTS = 36,
	VHC_VU_ADD_MEM_REG = 37,
	VHC_VU_REM_MEM_REG = 38,
	VHC_VU_SET_STATUS = 39,
	VHC_VU_GET_STATUS = 40,
	VHC_VU_GET_SHARED_OBJECT = 41,
	VHC_VU_SET_DEVICE_STATE_FD = 42,
	VHC_VU_CHECK_DEVICE_STATE = 43,
	VHC_VU_GET_SHMEM_CONFIG = 44,
	VHC_VU_GET_VRING_BASE_SKIP_DRAIN = 45,
	VHC_VU_REQ_MAX = 45,
};

/* Backend-to-frontend requests (on the SET_BACKEND_REQ_FD socket). */
enum {
	VHC_VU_BE_IOTLB_MSG = 1,
	VHC_VU_BE_CONFIG_CHANGE_MSG = 2,
	VHC_VU_BE_VRING_HOST_NOTIFIER_MSG = 3,
	VHC_VU_BE_VRING_CALL = 4,
	VHC_VU_BE_VRING_ERR = 5,
	VHC_VU_BE_SHARED_OBJECT_ADD = 6,
	VHC_VU_BE_SHARED_OBJECT_REMOVE = 7,
	VHC_VU_BE_SHARED_OBJECT_LOOKUP = 8,
	VHC_VU_BE_SHMEM_MAP = 9,
	VHC_VU_BE_SHMEM_UNMAP = 10,
	VHC_VU_BE_REQ_MAX = 10,
};

/* Payload layouts, native endian. */
struct vhc_vu_state {
	uint32_t index;
	uint32_t num;
};

struct vhc_vu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vhc_vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
};

struct vhc_vu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhc_vu_region r[VHC_VU_MEM_REGIONS];
};

struct vhc_vu_mem_one {
	uint64_t padding;
	struct vhc_vu_region r;
};

struct vhc_vu_log {
	uint64_t size;
	uint64_t offset;
};

struct vhc_vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t data[VHC_VU_MAX_CONFIG];
};

struct vhc_vu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};

struct vhc_vu_devstate {
	uint32_t direction;
	uint32_t phase;
};

_Static_assert(sizeof(struct vhc_vu_addr) == 40, "vring address layout");
_Static_assert(sizeof(struct vhc_vu_mem_one) == 40, "single region layout");
_Static_assert(sizeof(struct vhc_vu_inflight) == 24, "inflight layout");

struct vhc_vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

/* One message, as received or to send.  fds are owned by the message. */
struct vhc_vu_msg {
	struct vhc_vu_hdr hdr;
	union {
		uint64_t u64;
		struct vhc_vu_state state;
		struct vhc_vu_addr addr;
		struct vhc_vu_mem mem;
		struct vhc_vu_mem_one one;
		struct vhc_vu_log log;
		struct vhc_vu_config config;
		struct vhc_vu_inflight inflight;
		struct vhc_vu_devstate devstate;
		uint8_t raw[VHC_VU_MAX_PAYLOAD];
	} p;
	int fds[VHC_VU_MAX_FDS];
	unsigned int nfds;
};

/* Payload rule of a request: none known, none, exact size, a range, or variable. */
enum { SZ_UNKNOWN, SZ_NONE, SZ_EXACT, SZ_RANGE, SZ_MEM, SZ_CONFIG, SZ_ANY };
/* fd rule: how many fds a request carries. */
enum { FD_NONE, FD_ONE, FD_VRING, FD_MEM, FD_OPT };
/* Where a request carries its vring index: none, state.index, the low bits of u64. */
enum { IDX_NONE, IDX_STATE, IDX_U64 };

/*
 * The facts of one request (vu_wire.c, one table): its name, payload and fd
 * rules, the protocol feature it needs (gate: VHOSTCTL_VU_PF_* + 1, or 0),
 * where its vring index is, and the backend's handler.
 */
/* A backend's request being handled: vu_backend.h. */
struct vhc_be_req;
typedef int vhc_be_handler(struct vhc_be_req *c);

struct vhc_vu_req_info {
	const char *name;
	uint8_t sz;
	uint8_t fd;
	uint16_t min, max;
	uint8_t gate;
	uint8_t idx;
	vhc_be_handler *handle;	/* the backend's, NULL if it does not serve it */
	uint16_t reply;		/* payload of its reply: 0 none (an ack is 8), or REPLY_ANY */
	uint8_t reply_fds;	/* the most fds its reply carries */
};

/* A reply whose size varies (GET_CONFIG's; SET_LOG_BASE's between peers). */
#define REPLY_ANY 0xffffu

/* vu_backend_req.c: one handler per request, named in its row */
vhc_be_handler vhc_be_get_features, vhc_be_set_features, vhc_be_get_protocol_features,
	vhc_be_set_protocol_features, vhc_be_set_owner, vhc_be_reset, vhc_be_get_queue_num,
	vhc_be_get_max_mem_slots, vhc_be_set_mem_table, vhc_be_add_mem_reg, vhc_be_rem_mem_reg,
	vhc_be_set_vring_num, vhc_be_set_vring_addr, vhc_be_set_vring_base, vhc_be_get_vring_base,
	vhc_be_set_vring_kick, vhc_be_set_vring_call, vhc_be_set_vring_err,
	vhc_be_set_vring_enable, vhc_be_set_backend_req_fd, vhc_be_get_config, vhc_be_set_config,
	vhc_be_set_status, vhc_be_get_status, vhc_be_get_inflight_fd, vhc_be_set_inflight_fd,
	vhc_be_set_device_state_fd, vhc_be_check_device_state, vhc_be_set_log_base,
	vhc_be_set_log_fd;
/* vu_backend_postcopy.c */
vhc_be_handler vhc_be_postcopy_advise, vhc_be_postcopy_listen, vhc_be_postcopy_end;
/* vu_shmem.c, vu_shobj.c */
vhc_be_handler vhc_be_get_shmem_config, vhc_be_get_shared_object, vhc_be_gpu_set_socket;
/* vu_backend_inb.c: in-band notifications and cross-endian rings */
vhc_be_handler vhc_be_vring_kick, vhc_be_set_vring_endian;

/* vu_wire.c */
const struct vhc_vu_req_info *vhc_vu_req_info(uint32_t req);
const char *vhc_vu_req_name(uint32_t req);
const char *vhc_vu_be_req_name(uint32_t req);
void vhc_vu_msg_init(struct vhc_vu_msg *m, uint32_t req, uint32_t flags, uint32_t size);
void vhc_vu_msg_close_fds(struct vhc_vu_msg *m);
int vhc_vu_send(int sock, const struct vhc_vu_msg *m);
int vhc_vu_send_fds(int sock, const struct vhc_vu_msg *m, const int *fds, unsigned int nfds);
int vhc_vu_recv(int sock, struct vhc_vu_msg *m, int timeout_ms, char *why, size_t whylen);
int vhc_vu_check_request(const struct vhc_vu_msg *m, char *why, size_t whylen);
int vhc_vu_check_be_request(const struct vhc_vu_msg *m, char *why, size_t whylen);
int vhc_vu_wait(int fd, short events, int timeout_ms);

/*
 * The memory map a device-side queue translates through.  Sorted by gpa,
 * no overlaps (checked when built).  Owned by its creator; queues hold a
 * pointer and are told when it changes.
 */
struct vhc_memmap {
	unsigned int n;
	unsigned int cap;
	struct vhostctl_devq_region *r;
};

int vhc_memmap_add(struct vhc_memmap *m, const struct vhostctl_devq_region *reg);
int vhc_memmap_remove(struct vhc_memmap *m, uint64_t gpa, uint64_t size, uint64_t uaddr,
		      struct vhostctl_devq_region *removed);
void *vhc_memmap_gpa(const struct vhc_memmap *m, uint64_t gpa, uint64_t len);
void *vhc_memmap_uva(const struct vhc_memmap *m, uint64_t uaddr, uint64_t len);

/*
 * The dirty log of a backend (SET_LOG_BASE), shared with its queues and the
 * elements they pop: one bit per 4 KiB guest page.  Used by the dispatch
 * thread only.
 */
#define VHC_LOG_PAGE 4096u

struct vhc_dirty_log {
	bool active;		/* VHOST_F_LOG_ALL acknowledged and a bitmap mapped */
	uint8_t *bitmap;
	uint64_t size;		/* bytes; pages from size * 8 on are not logged */
	const struct vhc_memmap *map;	/* host pointer -> guest address */
	int fd;			/* SET_LOG_FD eventfd, signalled after logging, or -1 */
	bool missed;		/* a write beyond the bitmap was not logged */
	uint64_t missed_gpa;
};

/* devq.c, for the backend */
struct vhc_devq_cfg {
	unsigned int num;
	bool packed;
	bool event_idx;
	bool indirect;
	bool uaddr;		/* ring addresses are frontend user addresses */
	bool in_order;		/* VIRTIO_F_IN_ORDER: a packed burst may share one used descriptor */
	uint64_t desc, avail, used;
	uint32_t base;		/* vhost-user SET_VRING_BASE value */
	int call_fd;		/* not owned */
	unsigned int index;
	void *inflight;		/* this queue's inflight region, or NULL */
	size_t inflight_size;
	char *why;		/* why a region was refused (-EBADMSG), or NULL */
	size_t whylen;
	struct vhc_dirty_log *dlog;	/* the backend's dirty log state, or NULL */
	bool log_used;		/* VHOST_VRING_F_LOG: log the ring's writes */
	uint64_t log_addr;	/* split: guest address of the used ring, for the log */
	bool big_endian;	/* a legacy split ring in big-endian order (devq_legacy.c) */
	/* Without a call fd: how to notify the driver (in-band), or NULL. */
	void (*call)(void *ctx, unsigned int index);
	void *call_ctx;
};

struct vhostctl_devq *vhc_devq_create(const struct vhc_memmap *map, const struct vhc_devq_cfg *cfg,
				      int *err);
int vhc_devq_remap(struct vhostctl_devq *q);
uint32_t vhc_devq_base(const struct vhostctl_devq *q);
void vhc_devq_clear_drained(struct vhostctl_devq *q);
bool vhc_devq_drained(const struct vhostctl_devq *q);
bool vhc_devq_broken(const struct vhostctl_devq *q);
unsigned int vhc_devq_held(const struct vhostctl_devq *q);
bool vhc_devq_inflight(const struct vhostctl_devq *q);
void vhc_devq_set_call(struct vhostctl_devq *q, int fd);
size_t vhc_inflight_queue_size(unsigned int num, bool packed);
void vhc_devq_set_log(struct vhostctl_devq *q, bool log_used, uint64_t log_addr);
int vhc_devq_inflight_resubmit(struct vhostctl_devq *q, uint16_t *heads, unsigned int max);

/*
 * A ready-made device of the backend (vu_net.c, vu_blk.c): one instance of
 * this class per kind, its facts and callbacks in one place, as the
 * module's vsim_class describes its devices.
 */
struct vhc_vu_class {
	const char *name;
	uint32_t virtio_id;		/* the device id, for transports that announce it */
	vhostctl_vu_queue_fn queue;	/* the queue handler */
	void (*free)(void *ctx);	/* the device state, freed with the backend */
};

/*
 * vu_backend.c: a backend of class @cls on @ctx (owned from here on, freed
 * with cls->free on failure too); @bo has the device's features, queues,
 * config and log, its queue and ctx are set here.
 */
struct vhostctl_vu_backend *vhc_vu_backend_new_class(const struct vhc_vu_class *cls,
						     struct vhostctl_vu_backend_opts *bo,
						     void *ctx);
/* The backend's class, or NULL for one made by vhostctl_vu_backend_new(). */
const struct vhc_vu_class *vhc_vu_backend_class(const struct vhostctl_vu_backend *be);

struct vhostctl_devq *vhc_vu_backend_queue(struct vhostctl_vu_backend *be, unsigned int index);
uint64_t vhc_vu_backend_acked(const struct vhostctl_vu_backend *be);

/* vu_blk.c: vhostctl_vu_blk_new() on an open file @fd (> 0) or with SEG_MAX @seg_max. */
struct vhostctl_vu_backend *vhc_vu_blk_new(const struct vhostctl_vu_blk_opts *o, int fd,
					   unsigned int seg_max);

extern const struct vhc_dev_ops vhc_vu_ops;

#endif /* VHOSTCTL_VU_H */
