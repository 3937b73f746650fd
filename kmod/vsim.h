/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhostctl_sim: a software vDPA device (net loopback and RAM block disk).
 *
 * Shared definitions of the core (vsim_core.c), the worker (vsim_work.c),
 * the ring accessor (vsim_ring.c) and the two device classes (vsim_net.c,
 * vsim_blk.c).
 */
#ifndef _VHOSTCTL_VSIM_H
#define _VHOSTCTL_VSIM_H

#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_ring.h>

#define VSIM_VQ_NUM_MAX		256
#define VSIM_MAX_GROUPS		3
#define VSIM_MAX_AS		3
/* Segments of one request after indirect tables are expanded. */
#define VSIM_MAX_SEGS		128
/* Longest indirect table accepted, in descriptors. */
#define VSIM_MAX_INDIRECT	VSIM_MAX_SEGS
/*
 * The first 32-bit word of a doorbell page holds this value while nobody
 * rang: a virtio-pci style store of a queue index (0 included) changes it.
 */
#define VSIM_DB_IDLE		0xffffffffU

struct vsim_dev;

/* One guest-visible buffer segment: an IOVA range. */
struct vsim_seg {
	u64 addr;
	u32 len;
};

/* A request popped from a virtqueue, with read cursors on both halves. */
struct vsim_req {
	u16 id;			/* split: head index; packed: buffer id */
	u16 ndesc;		/* packed: ring slots used by the chain */
	unsigned int nout;
	unsigned int nin;
	u64 out_len;
	u64 in_len;
	struct vsim_seg segs[VSIM_MAX_SEGS];	/* out segments, then in */
	unsigned int cur_seg;	/* out cursor */
	u32 cur_off;
	unsigned int wcur_seg;	/* in cursor, index from the first in segment */
	u32 wcur_off;
	u32 written;
};

struct vsim_vq {
	u64 desc_addr;
	u64 driver_addr;
	u64 device_addr;
	u32 num;
	bool ready;
	bool broken;		/* hostile ring seen: stopped until reset */
	bool packed;
	bool event_idx;
	/* split: free-running indexes; packed: slot index + wrap counters */
	u16 last_avail_idx;
	u16 used_idx;
	bool avail_wrap;
	bool used_wrap;
	bool need_notify;	/* a used entry crossed the driver's event */
	struct vdpa_callback cb;
};

/* Per-class facts and hooks; one static instance for net and one for blk. */
struct vsim_class {
	u32 device_id;
	/* Offered by default; an add's device_features may only narrow it. */
	u64 features;
	/* Bits an add's device_features must keep. */
	u64 required_features;
	u32 ngroups;
	u32 nas;
	/* Size of the class's struct, which starts with a struct vsim_dev. */
	size_t alloc_size;
	u32 config_size;
	/* Processes ready queues; called by the worker with dev->lock held. */
	void (*work)(struct vsim_dev *dev);
	/* Refreshes volatile config fields; called with config_lock held. */
	void (*config_refresh)(struct vsim_dev *dev);
	int (*vq_stats)(struct vsim_dev *dev, u16 idx, struct sk_buff *msg,
			struct netlink_ext_ack *extack);
	u32 (*vq_group)(struct vsim_dev *dev, u16 idx);
	u32 (*vq_desc_group)(struct vsim_dev *dev, u16 idx);
	void (*reset)(struct vsim_dev *dev);
	void (*free)(struct vsim_dev *dev);
};

struct vsim_dev {
	struct vdpa_device vdpa;	/* must stay first: vdpa core allocates us */
	const struct vsim_class *cls;
	/*
	 * lock protects status, features, the vqs, the address spaces and
	 * their group assignment, the bound mm and the class state. The
	 * worker holds it while it processes a batch.
	 */
	struct mutex lock;
	struct kthread_worker *worker;
	struct kthread_work work;
	struct mm_struct *mm;		/* owner mm bound by vhost-vdpa (use_va) */
	bool mm_active;			/* worker is running on mm right now */
	bool pt_allowed;		/* a kernel driver owns us: PA passthrough */
	struct vsim_vq *vqs;
	u32 nvqs;
	u32 ngroups;
	u32 nas;
	struct vhost_iotlb iotlb[VSIM_MAX_AS];
	bool as_pt[VSIM_MAX_AS];	/* address space is passthrough (PA) */
	u32 group_asid[VSIM_MAX_GROUPS];
	u64 dev_features;
	u64 features;
	u8 status;
	bool suspended;
	bool running;			/* DRIVER_OK and not suspended */
	bool pending_kick;		/* kicked while suspended */
	u32 generation;
	/* config_lock protects config[]; readers may be in atomic context. */
	spinlock_t config_lock;
	u8 *config;
	u32 config_size;
	struct vdpa_callback config_cb;
	struct vsim_req *req;		/* worker scratch, under lock */
	/*
	 * One zeroed page per queue, handed to vhost-vdpa for mmap. Freed
	 * only in vsim_free(): a user mapping holds the vhost-vdpa file open,
	 * and vhost-vdpa's remove waits for that file to be released before
	 * the device can go, so no mapping outlives the pages.
	 */
	struct page **db_pages;
	/*
	 * Queues whose doorbell is polled: ready while the device runs.
	 * Changed under lock with atomic bitops, read locklessly by the timer.
	 */
	unsigned long *db_live;
	/* Polls db_live every doorbell_poll_us while the device runs. */
	struct hrtimer db_timer;
};

static inline struct vsim_dev *vdpa_to_vsim(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vsim_dev, vdpa);
}

static inline bool vsim_has(struct vsim_dev *dev, unsigned int bit)
{
	return dev->features & BIT_ULL(bit);
}

/* module parameters shared by the classes */
extern unsigned int vsim_drop_every;
extern unsigned int vsim_delay_us;
extern unsigned int vsim_doorbell_poll_us;

/* What a class's dev_add asks of vsim_create() for one device. */
struct vsim_attr {
	const struct vsim_class *cls;
	const char *name;
	/* The netlink add's attributes; device_features is checked here. */
	const struct vdpa_dev_set_config *config;
	u32 nvqs;
};

/* A queue's doorbell word, the first of its page. */
static inline u32 *vsim_db_word(struct vsim_dev *dev, unsigned int idx)
{
	return page_address(dev->db_pages[idx]);
}

/* vsim_core.c */
struct vsim_dev *vsim_create(const struct vsim_attr *attr);

/* vsim_work.c */
void vsim_schedule(struct vsim_dev *dev);
void vsim_needs_reset(struct vsim_dev *dev, struct vsim_vq *vq);
void vsim_work_fn(struct kthread_work *work);
enum hrtimer_restart vsim_db_timer_fn(struct hrtimer *timer);
/* Both with dev->lock held. */
void vsim_db_update(struct vsim_dev *dev);
void vsim_db_clear(struct vsim_dev *dev);

/* vsim_ring.c */
int vsim_pop(struct vsim_dev *dev, struct vsim_vq *vq, u16 vq_idx,
	     struct vsim_req *req);
int vsim_push(struct vsim_dev *dev, struct vsim_vq *vq, u16 vq_idx,
	      struct vsim_req *req, u32 len);
void vsim_notify(struct vsim_dev *dev, struct vsim_vq *vq);
int vsim_req_read(struct vsim_dev *dev, u16 vq_idx, struct vsim_req *req,
		  void *buf, u32 len);
int vsim_req_write(struct vsim_dev *dev, u16 vq_idx, struct vsim_req *req,
		   const void *buf, u32 len);
void vsim_req_skip(struct vsim_req *req, u64 len);

/* vsim_net.c / vsim_blk.c */
void vsim_mgmt_release(struct device *dev);
int vsim_mgmt_register(struct vdpa_mgmt_dev *mgmt);
void vsim_mgmt_unregister(struct vdpa_mgmt_dev *mgmt);
int vsim_net_init(void);
void vsim_net_exit(void);
int vsim_blk_init(void);
void vsim_blk_exit(void);

#endif /* _VHOSTCTL_VSIM_H */
