// SPDX-License-Identifier: GPL-2.0
/*
 * nlchan netlink side: answers requests from user space by unicast to the
 * sender, broadcasts to group NLCHAN_GROUP, and keeps the counters. The
 * wire protocol is described in include/uapi/linux/nlchan.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/kernel.h>
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
 * The answers to one datagram being handled: replies wait in @skb, to be
 * sent together to the sender of @in. Requests flagged NLCHAN_F_GATHER let
 * their replies share a datagram; any other answer first flushes @skb, so
 * answers always reach the sender in the order of its requests.
 */
struct nlchan_answers {
	struct sk_buff *in;	/* the datagram being answered */
	struct sk_buff *skb;	/* gathered replies, or NULL */
	unsigned int count;	/* replies in @skb */
	bool last;		/* the request is the datagram's last */
};

/* Bytes of replies one datagram may gather. */
static unsigned int nlchan_gather_room(void)
{
	return min_t(unsigned int, NLMSG_GOODSIZE, NLCHAN_GATHER_MAX);
}

/*
 * Unicasts the gathered replies to the sender. Replies the sender's socket
 * cannot take are counted as dropped, not reported: the sender could not
 * receive the error either.
 */
static void nlchan_flush(struct nlchan_answers *ans)
{
	int err;

	if (!ans->skb)
		return;

	err = netlink_unicast(nlchan_sock, ans->skb, NETLINK_CB(ans->in).portid,
			      MSG_DONTWAIT);
	if (err < 0)
		atomic_long_add(ans->count, &nlchan_stats.dropped);
	else
		atomic_long_add(ans->count, &nlchan_stats.replied);
	ans->skb = NULL;
	ans->count = 0;
}

/* Adds a REPLY carrying @data, with the seq of @req, to the answers. */
static int nlchan_reply(struct nlchan_answers *ans, const struct nlmsghdr *req,
			const void *data, unsigned int len)
{
	bool gather = req->nlmsg_flags & NLCHAN_F_GATHER;
	unsigned int size = nlmsg_total_size(len);
	struct nlmsghdr *nlh;

	if (ans->skb && (!gather || ans->skb->len + size > nlchan_gather_room()))
		nlchan_flush(ans);

	if (!ans->skb) {
		if (gather && !ans->last)
			size = nlchan_gather_room();
		ans->skb = alloc_skb(size, GFP_KERNEL);
		if (!ans->skb)
			return -ENOMEM;
	}

	nlh = nlmsg_put(ans->skb, 0, req->nlmsg_seq, NLCHAN_MSG_REPLY, len, 0);
	if (WARN_ON_ONCE(!nlh))
		return -EMSGSIZE;
	memcpy(nlmsg_data(nlh), data, len);
	ans->count++;

	if (!gather)
		nlchan_flush(ans);
	return 0;
}

/* Answers a request of @type whose payload is @len bytes at @data. */
static int nlchan_answer(struct nlchan_answers *ans, const struct nlmsghdr *nlh,
			 u16 type, const void *data, unsigned int len)
{
	switch (type) {
	case NLCHAN_MSG_SEND:
		pr_info("port %u sent %u bytes: \"%*pE\"\n",
			NETLINK_CB(ans->in).portid, len, (int)len, data);
		return nlchan_reply(ans, nlh, NLCHAN_GREETING,
				    strlen(NLCHAN_GREETING));
	case NLCHAN_MSG_ECHO:
		return nlchan_reply(ans, nlh, data, len);
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * Checks the sender, then every length, then answers. A @seed request (from
 * the seed's C client) is a SEND whose payload ends at its first NUL byte.
 * Returns 0 or the errno to report.
 */
static int nlchan_check_and_answer(struct nlchan_answers *ans,
				   const struct nlmsghdr *nlh, bool seed)
{
	const char *data = nlmsg_data(nlh);
	unsigned int len;

	if (!nlchan_allow_unprivileged && !netlink_capable(ans->in, CAP_NET_ADMIN))
		return -EPERM;

	/* Our callers checked this already; never read past the datagram. */
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > ans->in->len)
		return -EINVAL;

	len = nlh->nlmsg_len - NLMSG_HDRLEN;
	if (seed)
		len = strnlen(data, len);
	if (len > NLCHAN_MSG_LEN)
		return -EMSGSIZE;

	return nlchan_answer(ans, nlh, seed ? NLCHAN_MSG_SEND : nlh->nlmsg_type,
			     data, len);
}

/* Counts a request and its outcome; returns the errno to report. */
static int nlchan_request(struct nlchan_answers *ans,
			  const struct nlmsghdr *nlh, bool seed)
{
	int err;

	atomic_long_inc(&nlchan_stats.received);
	err = nlchan_check_and_answer(ans, nlh, seed);
	if (err)
		atomic_long_inc(&nlchan_stats.errors);
	return err;
}

/* Sends NLMSG_ERROR with @err (0: an ACK) for @nlh, after the replies. */
static void nlchan_ack_after(struct nlchan_answers *ans, struct nlmsghdr *nlh,
			     int err)
{
	nlchan_flush(ans);
	nlchan_ack(ans->in, nlh, err);
}

/*
 * Answers every message of a datagram by netlink_rcv_skb()'s rules: only
 * requests (NLM_F_REQUEST) of a type at or above NLMSG_MIN_TYPE are
 * handled; an error, or NLM_F_ACK, is answered with NLMSG_ERROR; a message
 * whose nlmsg_len does not fit ends the walk. Unlike netlink_rcv_skb(), the
 * replies can be gathered (NLCHAN_F_GATHER).
 */
static void nlchan_answer_all(struct nlchan_answers *ans)
{
	struct sk_buff *skb = ans->in;

	while (skb->len >= NLMSG_HDRLEN) {
		struct nlmsghdr *nlh = nlmsg_hdr(skb);
		unsigned int step;
		int err = 0;

		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > skb->len)
			break;

		step = min_t(unsigned int, NLMSG_ALIGN(nlh->nlmsg_len), skb->len);
		ans->last = skb->len - step < NLMSG_HDRLEN;
		if (nlh->nlmsg_flags & NLM_F_REQUEST &&
		    nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			err = nlchan_request(ans, nlh, false);
		if (err || nlh->nlmsg_flags & NLM_F_ACK)
			nlchan_ack_after(ans, nlh, err);
		skb_pull(skb, step);
	}
	nlchan_flush(ans);
}

/*
 * Returns the first message of @skb if the seed's C client sent it (type 0,
 * flags 0; that client never batches), else NULL. netlink_rcv_skb() rules
 * would skip such a message: it has no NLM_F_REQUEST and a control type.
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
	struct nlchan_answers ans = { .in = skb, .last = true };
	struct nlmsghdr *nlh = nlchan_seed_msg(skb);
	int err;

	if (!nlh) {
		nlchan_answer_all(&ans);
		return;
	}

	/* A seed request asks for no ACK; only an error is answered. */
	err = nlchan_request(&ans, nlh, true);
	if (err)
		nlchan_ack_after(&ans, nlh, err);
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
