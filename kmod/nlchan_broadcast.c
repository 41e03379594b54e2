// SPDX-License-Identifier: GPL-2.0
/*
 * nlchan_broadcast(): one message to every listener, on the classic unit
 * (when the module has one) and on the generic netlink family, with one
 * sequence number for both so that listeners see what they missed.
 */
#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>

#include "linux/nlchan.h"
#include "nlchan.h"

/* Sequence number of the last broadcast; 0 before the first. */
static atomic_t nlchan_broadcast_seq = ATOMIC_INIT(0);

/* The next sequence number: 1, 2, ... 2^32 - 1, then 1 again. */
static u32 nlchan_next_seq(void)
{
	u32 seq = (u32)atomic_inc_return(&nlchan_broadcast_seq);

	if (unlikely(!seq))
		seq = (u32)atomic_inc_return(&nlchan_broadcast_seq);
	return seq;
}

/*
 * Documented in include/linux/nlchan.h. Both messages are built before
 * either is sent, and only then numbered: a broadcast that fails for want
 * of memory reaches nobody and leaves no gap.
 */
int nlchan_broadcast(const void *data, size_t len, gfp_t gfp)
{
	struct sk_buff *unit_skb = NULL;
	struct sk_buff *genl_skb;
	bool lost = false;
	u32 seq;

	if (!len)
		return -EINVAL;
	if (len > NLCHAN_MSG_LEN)
		return -EMSGSIZE;

	if (nlchan_unit_in_use() >= 0) {
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
		lost |= nlchan_unit_broadcast_send(unit_skb, gfp);
	}
	nlmsg_hdr(genl_skb)->nlmsg_seq = seq;
	lost |= nlchan_genl_broadcast_send(genl_skb, gfp);

	atomic_long_inc(&nlchan_stats.broadcast);
	if (lost)
		atomic_long_inc(&nlchan_stats.broadcast_lost);
	return 0;
}
EXPORT_SYMBOL_GPL(nlchan_broadcast);
