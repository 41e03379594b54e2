// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlchan_broadcast(): one message to every listener, on the classic unit
 * (when the module has one) and on the generic netlink family, with one
 * sequence number for both so that listeners see what they missed.
 *
 * Netlink cannot deliver from hard-IRQ context or with interrupts off:
 * delivery runs dev_queue_xmit() for every nlmon tap, which needs
 * interrupts on, and 4.9 and 5.4 take nl_table_lock with a plain
 * read_lock(). A broadcast asked for there is copied into a small queue
 * and sent by a work item, in process context, in the order it came.
 */
#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/irqflags.h>
#include <linux/netlink.h>
#include <linux/preempt.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "linux/nlchan.h"
#include "compat.h"
#include "nlchan.h"
#include "nlchan_trace.h"

/* Sequence number of the last broadcast; 0 before the first. */
static atomic_t nlchan_broadcast_seq = ATOMIC_INIT(0);

/* Broadcasts from hard-IRQ context waiting to be sent; full means -ENOBUFS. */
#define NLCHAN_DEFERRED_SLOTS	16

struct nlchan_deferred {
	unsigned int len;
	u8 data[NLCHAN_MSG_LEN];
};

static struct {
	spinlock_t lock;	/* protects the rest; taken with IRQs off */
	unsigned int head;	/* the oldest waiting broadcast */
	unsigned int count;	/* how many wait */
	struct nlchan_deferred slot[NLCHAN_DEFERRED_SLOTS];
} nlchan_deferred = {
	.lock = __SPIN_LOCK_UNLOCKED(nlchan_deferred.lock),
};

static void nlchan_deferred_send(struct work_struct *work);
static DECLARE_WORK(nlchan_deferred_work, nlchan_deferred_send);

/* The next sequence number: 1, 2, ... 2^32 - 1, then 1 again. */
static u32 nlchan_next_seq(void)
{
	u32 seq = (u32)atomic_inc_return(&nlchan_broadcast_seq);

	if (unlikely(!seq))
		seq = (u32)atomic_inc_return(&nlchan_broadcast_seq);
	return seq;
}

/*
 * Sends a checked broadcast where netlink can. Both messages are built
 * before either is sent, and only then numbered: a broadcast that fails
 * for want of memory reaches nobody and leaves no gap.
 */
static int nlchan_broadcast_now(const void *data, size_t len, gfp_t gfp)
{
	struct sock *unit_sk = nlchan_unit_sk();
	struct sk_buff *unit_skb = NULL;
	struct sk_buff *genl_skb;
	bool lost = false;
	u32 seq;

	if (unit_sk) {
		unit_skb = nlchan_unit_broadcast_new(data, len, gfp);
		if (!unit_skb)
			return -ENOMEM;
	}
	genl_skb = nlchan_genl_broadcast_new(data, len, gfp);
	if (!genl_skb) {
		kfree_skb(unit_skb);
		return -ENOMEM;
	}

	seq = nlchan_next_seq();
	if (unit_skb) {
		nlmsg_hdr(unit_skb)->nlmsg_seq = seq;
		lost |= nlchan_unit_broadcast_send(unit_sk, unit_skb, gfp);
	}
	nlmsg_hdr(genl_skb)->nlmsg_seq = seq;
	lost |= nlchan_genl_broadcast_send(genl_skb, gfp);

	atomic_long_inc(&nlchan_stats.broadcast);
	if (lost)
		atomic_long_inc(&nlchan_stats.broadcast_lost);
	trace_nlchan_broadcast(seq, len, unit_sk, lost);
	return 0;
}

/* Queues a checked broadcast for nlchan_deferred_send(); any context. */
static int nlchan_defer(const void *data, size_t len)
{
	struct nlchan_deferred *slot;
	unsigned long flags;

	spin_lock_irqsave(&nlchan_deferred.lock, flags);
	if (nlchan_deferred.count == NLCHAN_DEFERRED_SLOTS) {
		spin_unlock_irqrestore(&nlchan_deferred.lock, flags);
		atomic_long_inc(&nlchan_stats.broadcast_dropped);
		trace_nlchan_drop(true, 0, 1, -ENOBUFS);
		return -ENOBUFS;
	}
	slot = &nlchan_deferred.slot[(nlchan_deferred.head +
				      nlchan_deferred.count) %
				     NLCHAN_DEFERRED_SLOTS];
	slot->len = len;
	memcpy(slot->data, data, len);
	nlchan_deferred.count++;
	spin_unlock_irqrestore(&nlchan_deferred.lock, flags);

	schedule_work(&nlchan_deferred_work);
	return 0;
}

/* Takes the oldest queued broadcast into @out; false when none waits. */
static bool nlchan_deferred_pop(struct nlchan_deferred *out)
{
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&nlchan_deferred.lock, flags);
	if (nlchan_deferred.count) {
		*out = nlchan_deferred.slot[nlchan_deferred.head];
		nlchan_deferred.head = (nlchan_deferred.head + 1) %
				       NLCHAN_DEFERRED_SLOTS;
		nlchan_deferred.count--;
		found = true;
	}
	spin_unlock_irqrestore(&nlchan_deferred.lock, flags);
	return found;
}

/* The work item: sends every queued broadcast, oldest first. */
static void nlchan_deferred_send(struct work_struct *work)
{
	struct nlchan_deferred msg;
	int err;

	while (nlchan_deferred_pop(&msg)) {
		err = nlchan_broadcast_now(msg.data, msg.len, GFP_KERNEL);
		if (err) {
			atomic_long_inc(&nlchan_stats.broadcast_dropped);
			trace_nlchan_drop(true, 0, 1, err);
		}
	}
}

/* Documented in include/linux/nlchan.h. */
int nlchan_broadcast(const void *data, size_t len, gfp_t gfp)
{
	if (WARN_ON_ONCE(in_nmi()))
		return -EINVAL;
	if (!len)
		return -EINVAL;
	if (len > NLCHAN_MSG_LEN)
		return -EMSGSIZE;

	if (in_hardirq() || irqs_disabled())
		return nlchan_defer(data, len);
	return nlchan_broadcast_now(data, len, gfp);
}
EXPORT_SYMBOL_GPL(nlchan_broadcast);

/*
 * Sends what is still queued. Called once nothing can ask for a broadcast
 * any more (the platform driver is gone, and so is every module that
 * calls nlchan_broadcast(), which holds a reference on this one).
 */
void nlchan_broadcast_exit(void)
{
	flush_work(&nlchan_deferred_work);
}
