// SPDX-License-Identifier: GPL-2.0
/*
 * nlchan netlink side: answers requests from user space by unicast to the
 * sender, broadcasts to group NLCHAN_GROUP, and keeps the counters. The
 * wire protocol is described in include/uapi/linux/nlchan.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/netlink.h>
#include <linux/printk.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "linux/nlchan.h"
#include "compat.h"
#include "nlchan.h"

struct nlchan_stats nlchan_stats;

/* Kernel socket of our unit, from nlchan_netlink_init() to _exit(). */
static struct sock *nlchan_sock;

/*
 * Unicasts a REPLY carrying @data to the sender of @req, with its seq. A
 * reply the sender's socket cannot take is counted as dropped, not
 * reported: the sender could not receive the error either.
 */
static int nlchan_reply(struct sk_buff *in_skb, const struct nlmsghdr *req,
			const void *data, unsigned int len)
{
	struct nlmsghdr *nlh;
	struct sk_buff *skb;
	int err;

	skb = nlmsg_new(len, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;

	nlh = nlmsg_put(skb, 0, req->nlmsg_seq, NLCHAN_MSG_REPLY, len, 0);
	if (!nlh) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	memcpy(nlmsg_data(nlh), data, len);

	err = netlink_unicast(nlchan_sock, skb, NETLINK_CB(in_skb).portid,
			      MSG_DONTWAIT);
	if (err < 0)
		atomic_long_inc(&nlchan_stats.dropped);
	else
		atomic_long_inc(&nlchan_stats.replied);
	return 0;
}

/* Answers a request of @type whose payload is @len bytes at @data. */
static int nlchan_answer(struct sk_buff *skb, const struct nlmsghdr *nlh,
			 u16 type, const void *data, unsigned int len)
{
	switch (type) {
	case NLCHAN_MSG_SEND:
		pr_info("port %u sent %u bytes: \"%*pE\"\n",
			NETLINK_CB(skb).portid, len, (int)len, data);
		return nlchan_reply(skb, nlh, NLCHAN_GREETING,
				    strlen(NLCHAN_GREETING));
	case NLCHAN_MSG_ECHO:
		return nlchan_reply(skb, nlh, data, len);
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * Checks the sender, then every length, then answers. A @seed request (from
 * the seed's C client) is a SEND whose payload ends at its first NUL byte.
 * Returns 0 or the errno to report.
 */
static int nlchan_check_and_answer(struct sk_buff *skb,
				   const struct nlmsghdr *nlh, bool seed)
{
	const char *data = nlmsg_data(nlh);
	unsigned int len;

	if (!nlchan_allow_unprivileged && !netlink_capable(skb, CAP_NET_ADMIN))
		return -EPERM;

	/* Our callers checked this already; never read past the datagram. */
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > skb->len)
		return -EINVAL;

	len = nlh->nlmsg_len - NLMSG_HDRLEN;
	if (seed)
		len = strnlen(data, len);
	if (len > NLCHAN_MSG_LEN)
		return -EMSGSIZE;

	return nlchan_answer(skb, nlh, seed ? NLCHAN_MSG_SEND : nlh->nlmsg_type,
			     data, len);
}

/* Counts a request and its outcome; returns the errno to report. */
static int nlchan_request(struct sk_buff *skb, const struct nlmsghdr *nlh,
			  bool seed)
{
	int err;

	atomic_long_inc(&nlchan_stats.received);
	err = nlchan_check_and_answer(skb, nlh, seed);
	if (err)
		atomic_long_inc(&nlchan_stats.errors);
	return err;
}

/*
 * netlink_rcv_skb() calls this for each request of a datagram, then sends
 * NLMSG_ERROR for a non-zero return, or an ACK if NLM_F_ACK asks for one.
 */
static int nlchan_rcv_msg(struct sk_buff *skb, struct nlmsghdr *nlh)
{
	return nlchan_request(skb, nlh, false);
}

/* nlchan_rcv_msg_cb(): nlchan_rcv_msg() as this kernel's callback type. */
NLCHAN_DEFINE_RCV_SKB_CB(nlchan_rcv_msg)

/*
 * Returns the first message of @skb if the seed's C client sent it (type 0,
 * flags 0; that client never batches), else NULL. netlink_rcv_skb() would
 * skip such a message: it has no NLM_F_REQUEST and a control type.
 */
static struct nlmsghdr *nlchan_seed_msg(struct sk_buff *skb)
{
	struct nlmsghdr *nlh;

	if (skb->len < NLMSG_HDRLEN)
		return NULL;

	nlh = nlmsg_hdr(skb);
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > skb->len)
		return NULL;
	if (nlh->nlmsg_type != NLCHAN_MSG_SEED || nlh->nlmsg_flags)
		return NULL;
	return nlh;
}

/* Handles one datagram, in the sender's context. */
static void nlchan_input(struct sk_buff *skb)
{
	struct nlmsghdr *nlh = nlchan_seed_msg(skb);
	int err;

	if (!nlh) {
		netlink_rcv_skb(skb, nlchan_rcv_msg_cb);
		return;
	}

	/* A seed request asks for no ACK; only an error is answered. */
	err = nlchan_request(skb, nlh, true);
	if (err)
		nlchan_ack(skb, nlh, err);
}

/* Documented in include/linux/nlchan.h. */
int nlchan_broadcast(const void *data, size_t len, gfp_t gfp)
{
	struct nlmsghdr *nlh;
	struct sk_buff *skb;
	int err;

	if (!len)
		return -EINVAL;
	if (len > NLCHAN_MSG_LEN)
		return -EMSGSIZE;

	skb = nlmsg_new(len, gfp);
	if (!skb)
		return -ENOMEM;

	nlh = nlmsg_put(skb, 0, 0, NLCHAN_MSG_BROADCAST, len, 0);
	if (!nlh) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	memcpy(nlmsg_data(nlh), data, len);

	/* -ESRCH: nobody listens. -ENOBUFS: some listener missed it. */
	err = nlmsg_multicast(nlchan_sock, skb, 0, NLCHAN_GROUP, gfp);
	if (err == -ENOBUFS)
		atomic_long_inc(&nlchan_stats.dropped);
	else if (err && err != -ESRCH)
		return err;

	atomic_long_inc(&nlchan_stats.broadcast);
	return 0;
}
EXPORT_SYMBOL_GPL(nlchan_broadcast);

/* Creates the kernel socket of unit nlchan_unit. */
int nlchan_netlink_init(void)
{
	struct netlink_kernel_cfg cfg = {
		.groups	= NLCHAN_GROUP,
		.flags	= NL_CFG_F_NONROOT_RECV,
		.input	= nlchan_input,
	};

	if (nlchan_unit >= MAX_LINKS) {
		pr_err("netlink unit %u is out of range (0 to %d)\n",
		       nlchan_unit, MAX_LINKS - 1);
		return -EINVAL;
	}

	/* NULL nearly always means another protocol or module has the unit. */
	nlchan_sock = netlink_kernel_create(&init_net, nlchan_unit, &cfg);
	if (!nlchan_sock) {
		pr_err("netlink unit %u is already in use\n", nlchan_unit);
		return -EBUSY;
	}
	return 0;
}

void nlchan_netlink_exit(void)
{
	netlink_kernel_release(nlchan_sock);
	nlchan_sock = NULL;
}
