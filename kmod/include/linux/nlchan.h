/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nlchan in-kernel API: lets other drivers broadcast on the nlchan channel,
 * the way cn_netlink_send() does for the connector.
 */
#ifndef _LINUX_NLCHAN_H
#define _LINUX_NLCHAN_H

#include <linux/types.h>

#include "../uapi/linux/nlchan.h"

/**
 * nlchan_broadcast() - send a message to every listener of NLCHAN_GROUP
 * @data: payload, opaque bytes (no NUL termination needed or added)
 * @len: payload length, 1 to NLCHAN_MSG_LEN bytes
 * @gfp: allocation flags: GFP_KERNEL where the caller may sleep, else
 *	GFP_ATOMIC
 *
 * Sends one broadcast on both of nlchan's transports: NLCHAN_MSG_BROADCAST
 * to group NLCHAN_GROUP of the classic unit (when the module has one) and
 * NLCHAN_CMD_BROADCAST to the generic netlink family's group
 * NLCHAN_GENL_MCGRP, both with nlmsg_pid 0 and the broadcast's sequence
 * number in nlmsg_seq. Any local user may join these groups: never
 * broadcast what not every user of the board may read. Delivery is best
 * effort: having no listener is not an error, and a listener whose receive
 * buffer is full misses the message (it sees ENOBUFS on its next receive
 * and a gap in the sequence numbers; the module counts it in
 * broadcast_lost when that listener asked for NETLINK_BROADCAST_ERROR, as
 * nlchan's own listeners do).
 *
 * Context: Any context but NMI. Netlink delivers only with interrupts on
 * (an nlmon tap's dev_queue_xmit() needs them, and 4.9 and 5.4 take
 * nl_table_lock with a plain read_lock()), so from hard-IRQ context or
 * with interrupts off the message is copied into a queue of 16 and sent
 * soon after from process context (with GFP_KERNEL; @gfp is not used), in
 * order; a message that finds the queue full, or that cannot be sent for
 * want of memory, is counted in broadcast_dropped. Callable whenever the
 * nlchan module is loaded.
 * Return: 0 when the message was sent (or queued), -EINVAL if @len is 0 or
 * the caller is in NMI context, -EMSGSIZE if @len is over NLCHAN_MSG_LEN
 * (nothing is sent in these cases), -ENOMEM if no buffer could be
 * allocated, -ENOBUFS if the queue for hard-IRQ callers is full.
 */
int nlchan_broadcast(const void *data, size_t len, gfp_t gfp);

#endif /* _LINUX_NLCHAN_H */
