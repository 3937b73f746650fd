/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The vhost-user frontend's private state, shared by vu_frontend.c
 * (messages, connection, backend channel), vu_frontend_mem.c (memory table,
 * dirty log, inflight region) and vu_frontend_ops.c (the device ops and the
 * reconnect replay).
 */
#ifndef VHC_VU_FE_H
#define VHC_VU_FE_H

#include "vu.h"

#define FD_UNSET (-2)

struct vu_fe_pc;

struct fe_vring {
	unsigned int num;
	struct vhc_vu_addr addr;
	bool addr_set;
	uint32_t base;
	bool base_set;
	int kick, call, err;	/* the caller's fds (borrowed), FD_UNSET if never sent */
	int enable;		/* -1 if never sent */
	unsigned int inband_calls;	/* backend VRING_CALL requests served */
	int endian;		/* SET_VRING_ENDIAN's, -1 if never sent */
};

/* Frontend state; the handle is used by one thread at a time. */
struct vu_fe {
	char *path;
	bool server;
	int timeout;
	uint64_t proto_mask;
	unsigned int opt_queues;

	uint64_t features;	/* offered by the backend */
	uint64_t proto;		/* negotiated */
	unsigned int queues;
	int chan;		/* our end of the backend channel */
	bool broken;		/* a reply went missing or wrong: the stream is out of step */
	unsigned int config_changes, be_requests;

	bool owner;
	bool features_set;
	uint64_t acked;
	struct vhostctl_vu_region *regions;
	unsigned int nregions;
	struct fe_vring vr[VHC_VU_MAX_QUEUES];
	int infl_fd;
	struct vhc_vu_inflight infl;
	bool log_set;		/* the dirty log last given (borrowed fd), replayed */
	struct vhostctl_log log;
	int log_efd;		/* SET_LOG_FD's, FD_UNSET if never sent */
	bool status_set;
	uint8_t status;
	struct vu_fe_pc *pc;	/* postcopy (vu_frontend_postcopy.c), or NULL */
	struct vhc_fe_shared *shared;	/* shared memory, shared objects: vu_shmem.c, vu_shobj.c */
};

static inline struct vu_fe *fe_of(struct vhostctl_dev *dev)
{
	if (!dev || dev->transport != VHOSTCTL_TRANSPORT_USER)
		return NULL;
	return dev->priv;
}

static inline bool pf(const struct vu_fe *fe, int bit)
{
	return fe->proto & VHC_BIT(bit);
}

/* vu_frontend.c: messages and connection */
int vhc_fe_send(struct vhostctl_dev *dev, struct vhc_vu_msg *m, const int *fds, unsigned int nfds);
int vhc_fe_reply(struct vhostctl_dev *dev, struct vhc_vu_msg *m, uint32_t req, bool ack);
int vhc_fe_call(struct vhostctl_dev *dev, uint32_t req, const void *payload, uint32_t size,
		const int *fds, unsigned int nfds, bool ack);
int vhc_fe_get_u64(struct vhostctl_dev *dev, uint32_t req, uint64_t *v);
int vhc_fe_connect(struct vu_fe *fe);
int vhc_fe_handshake(struct vhostctl_dev *dev);
void vhc_fe_break(struct vhostctl_dev *dev);

/* vu_frontend_postcopy.c */
void vhc_fe_postcopy_drop(struct vu_fe *fe);
bool vhc_fe_postcopy_listening(const struct vu_fe *fe);

/* vu_frontend_mem.c: guest memory */
int vhc_fe_set_regions(struct vhostctl_dev *dev, const struct vhostctl_vu_region *regs,
		       unsigned int n);
uint64_t vhc_fe_gpa_to_uaddr(const struct vu_fe *fe, uint64_t gpa, bool *ok);
bool vhc_fe_used_idx(const struct vu_fe *fe, const struct fe_vring *vr, uint16_t *idx);
int vhc_fe_set_mem_table(struct vhostctl_dev *dev, const struct vhostctl_mem *mem);
int vhc_fe_set_log_base(struct vhostctl_dev *dev, const struct vhostctl_log *log);
int vhc_fe_set_log_fd(struct vhostctl_dev *dev, int fd);

/* vu_shmem.c, vu_shobj.c: shared memory regions and shared objects */
/* GET_SHMEM_CONFIG and the regions' reservations, on every connection. */
int vhc_fe_shmem_setup(struct vhostctl_dev *dev);
/* Unmap every region, leave the object table, free the state. */
void vhc_fe_shared_free(struct vhostctl_dev *dev);
/*
 * A backend channel request of theirs (SHMEM_*, SHARED_OBJECT_*): 0 not
 * one of them, 1 served (*result set), 2 served and always answered.  The
 * fds of m stay the caller's to close; *reply_fd (or -1) goes with the
 * answer and is closed by the caller.
 */
int vhc_fe_shared_req(struct vhostctl_dev *dev, struct vhc_vu_msg *m, uint64_t *result,
		      int *reply_fd);

#endif /* VHC_VU_FE_H */
