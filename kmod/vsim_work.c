// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhostctl_sim: the device's worker and its doorbell poller. A kick, or a
 * doorbell store seen by the poll timer, queues the worker, which runs the
 * class's work under dev->lock in the address space of the bound mm.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/sched/mm.h>
#include "vsim.h"

/* A shorter interval would let a typo eat a CPU. */
#define VSIM_DB_POLL_MIN_US	50

void vsim_schedule(struct vsim_dev *dev)
{
	kthread_queue_work(dev->worker, &dev->work);
}

/* Whether a polled doorbell was rung; only a peek, the worker clears. */
static bool vsim_db_rung(struct vsim_dev *dev)
{
	unsigned int i;

	for_each_set_bit(i, dev->db_live, dev->nvqs)
		if (READ_ONCE(*vsim_db_word(dev, i)) != VSIM_DB_IDLE)
			return true;
	return false;
}

/*
 * Takes the doorbells of the polled queues before their rings are read.
 * The driver writes its ring, then a barrier, then the doorbell. xchg() is
 * fully ordered: it orders this reset before the ring reads of the pass
 * that follows, so a store reset here had its ring writes visible to that
 * pass, and a store landing after the reset stays for the next check.
 */
static void vsim_db_ack(struct vsim_dev *dev)
{
	unsigned int i;

	for_each_set_bit(i, dev->db_live, dev->nvqs)
		xchg(vsim_db_word(dev, i), VSIM_DB_IDLE);
}

static ktime_t vsim_db_interval(unsigned int us)
{
	return ns_to_ktime((u64)max(us, VSIM_DB_POLL_MIN_US) * NSEC_PER_USEC);
}

/*
 * Hard interrupt context: no lock, a load per polled queue. A stale view of
 * db_live costs one pass of the worker, which checks the state itself.
 */
enum hrtimer_restart vsim_db_timer_fn(struct hrtimer *timer)
{
	struct vsim_dev *dev = container_of(timer, struct vsim_dev, db_timer);
	unsigned int us = READ_ONCE(vsim_doorbell_poll_us);

	if (vsim_db_rung(dev))
		vsim_schedule(dev);
	if (!us)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, vsim_db_interval(us));
	return HRTIMER_RESTART;
}

/*
 * Called with dev->lock held whenever running or a queue's ready flag
 * changed: polls the ready queues of a running device, nothing otherwise.
 */
void vsim_db_update(struct vsim_dev *dev)
{
	unsigned int i, us = READ_ONCE(vsim_doorbell_poll_us);
	bool any = false;

	for (i = 0; i < dev->nvqs; i++) {
		if (dev->running && dev->vqs[i].ready) {
			set_bit(i, dev->db_live);
			any = true;
		} else {
			clear_bit(i, dev->db_live);
		}
	}
	if (!any || !us) {
		/* the callback takes no lock: safe to wait for it here */
		hrtimer_cancel(&dev->db_timer);
		return;
	}
	if (!hrtimer_is_queued(&dev->db_timer))
		hrtimer_start(&dev->db_timer, vsim_db_interval(us),
			      HRTIMER_MODE_REL);
}

/* Puts every doorbell page back as allocated: zero, first word idle. */
void vsim_db_clear(struct vsim_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nvqs; i++) {
		clear_page(vsim_db_word(dev, i));
		WRITE_ONCE(*vsim_db_word(dev, i), VSIM_DB_IDLE);
	}
}

/* Called with dev->lock held when a queue shows a malformed ring. */
void vsim_needs_reset(struct vsim_dev *dev, struct vsim_vq *vq)
{
	vq->broken = true;
	if (dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	dev_warn_ratelimited(&dev->vdpa.dev,
			     "malformed virtqueue %td, device needs reset\n",
			     vq - dev->vqs);
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (dev->config_cb.callback)
		dev->config_cb.callback(dev->config_cb.private);
}

void vsim_work_fn(struct kthread_work *work)
{
	struct vsim_dev *dev = container_of(work, struct vsim_dev, work);
	struct mm_struct *mm = NULL;
	unsigned int delay = READ_ONCE(vsim_delay_us);

	if (delay)
		fsleep(delay);

	mutex_lock(&dev->lock);
	if (!dev->running)
		goto out_unlock;
	if (dev->vdpa.use_va && dev->mm) {
		if (!mmget_not_zero(dev->mm))
			goto out_unlock;
		mm = dev->mm;
		kthread_use_mm(mm);
		dev->mm_active = true;
	}

	vsim_db_ack(dev);
	dev->cls->work(dev);
	/* rung while we worked: go again now rather than at the next tick */
	if (vsim_db_rung(dev))
		vsim_schedule(dev);

	if (mm) {
		dev->mm_active = false;
		kthread_unuse_mm(mm);
		mmput(mm);
	}
out_unlock:
	mutex_unlock(&dev->lock);
}
