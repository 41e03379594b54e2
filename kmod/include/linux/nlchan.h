/* SPDX-License-Identifier: GPL-2.0 */
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
 * @gfp: allocation flags: GFP_KERNEL, or GFP_ATOMIC in atomic context
 *
 * Sends one broadcast on both of nlchan's transports: NLCHAN_MSG_BROADCAST
 * to group NLCHAN_GROUP of the classic unit (when the module has one) and
 * NLCHAN_CMD_BROADCAST to the generic netlink family's group
 * NLCHAN_GENL_MCGRP, both with nlmsg_pid 0 and the broadcast's sequence
 * number in nlmsg_seq. Delivery is best effort: having no listener is not
 * an error, and a listener whose receive buffer is full misses the message
 * (it sees ENOBUFS on its next receive and a gap in the sequence numbers;
 * the module counts it in broadcast_lost when that listener asked for
 * NETLINK_BROADCAST_ERROR, as nlchan's own listeners do).
 *
 * Context: Process context with GFP_KERNEL, atomic context with GFP_ATOMIC.
 * Callable whenever the nlchan module is loaded.
 * Return: 0 when the message was sent, -EINVAL if @len is 0, -EMSGSIZE if
 * @len is over NLCHAN_MSG_LEN (nothing is sent in either case), -ENOMEM if
 * no buffer could be allocated.
 */
int nlchan_broadcast(const void *data, size_t len, gfp_t gfp);

#endif /* _LINUX_NLCHAN_H */
