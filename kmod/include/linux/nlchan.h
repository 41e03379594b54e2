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
 * Sends one NLCHAN_MSG_BROADCAST message, with nlmsg_seq 0 and nlmsg_pid 0,
 * to multicast group NLCHAN_GROUP of the nlchan netlink unit. Delivery is
 * best effort: having no listener is not an error, and a listener whose
 * receive buffer is full misses the message (the module counts it as
 * dropped, the listener sees ENOBUFS on its next receive).
 *
 * Context: Process context with GFP_KERNEL, atomic context with GFP_ATOMIC.
 * Callable whenever the nlchan module is loaded.
 * Return: 0 when the message was sent, -EINVAL if @len is 0, -EMSGSIZE if
 * @len is over NLCHAN_MSG_LEN (nothing is sent in either case), -ENOMEM if
 * no buffer could be allocated.
 */
int nlchan_broadcast(const void *data, size_t len, gfp_t gfp);

#endif /* _LINUX_NLCHAN_H */
