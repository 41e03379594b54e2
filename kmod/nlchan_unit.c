// SPDX-License-Identifier: GPL-2.0
/*
 * Protocol v1: the classic netlink unit. Walks every message of a request
 * datagram, answers each through nlchan_request.c, gathers replies that
 * asked for it (NLCHAN_F_GATHER), and sends broadcasts to NLCHAN_GROUP.
 * The wire protocol is described in include/uapi/linux/nlchan.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/errno.h>
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

/* Kernel socket of the unit, or NULL when the module has no unit. */
static struct sock *nlchan_unit_sock;

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

/* Unicasts the gathered replies to the sender. */
static void nlchan_flush(struct nlchan_answers *ans)
{
	int err;

	if (!ans->skb)
		return;

	/* ans->in->sk is the unit's kernel socket, set before the global. */
	err = netlink_unicast(ans->in->sk, ans->skb,
			      NETLINK_CB(ans->in).portid, MSG_DONTWAIT);
	nlchan_request_sent(ans->count, err);
	ans->skb = NULL;
	ans->count = 0;
}

/* Adds a REPLY carrying @reply, with the seq of @req, to the answers. */
static int nlchan_reply(struct nlchan_answers *ans, const struct nlmsghdr *req,
			const struct nlchan_reply *reply)
{
	bool gather = req->nlmsg_flags & NLCHAN_F_GATHER;
	unsigned int size = nlmsg_total_size(reply->len);
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

	nlh = nlmsg_put(ans->skb, 0, req->nlmsg_seq, NLCHAN_MSG_REPLY,
			reply->len, 0);
	if (WARN_ON_ONCE(!nlh))
		return -EMSGSIZE;
	memcpy(nlmsg_data(nlh), reply->data, reply->len);
	ans->count++;

	if (!gather)
		nlchan_flush(ans);
	return 0;
}

static enum nlchan_op nlchan_unit_op(u16 type)
{
	switch (type) {
	case NLCHAN_MSG_SEND:
		return NLCHAN_OP_SEND;
	case NLCHAN_MSG_ECHO:
		return NLCHAN_OP_ECHO;
	default:
		return NLCHAN_OP_UNKNOWN;
	}
}

/*
 * Answers one request whose nlmsg_len the walk has checked. A @seed
 * request (from the seed's C client) is a SEND whose payload ends at its
 * first NUL byte. Returns 0 or the errno to report.
 */
static int nlchan_unit_request(struct nlchan_answers *ans,
			       const struct nlmsghdr *nlh, bool seed)
{
	struct nlchan_request req = {
		.skb = ans->in,
		.data = nlmsg_data(nlh),
		.len = nlh->nlmsg_len - NLMSG_HDRLEN,
	};
	struct nlchan_reply reply;
	int err;

	if (seed) {
		req.op = NLCHAN_OP_SEND;
		req.len = strnlen(req.data, req.len);
	} else {
		req.op = nlchan_unit_op(nlh->nlmsg_type);
	}

	err = nlchan_request_answer(&req, &reply);
	if (err)
		return err;

	err = nlchan_reply(ans, nlh, &reply);
	if (err)
		nlchan_request_failed();
	return err;
}

/* The seed's C client sends type 0 with flags 0; handled as a SEND. */
static bool nlchan_is_seed(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == NLCHAN_MSG_SEED && !nlh->nlmsg_flags;
}

/*
 * Answers every message of a datagram by netlink_rcv_skb()'s rules: only
 * requests (NLM_F_REQUEST) of a type at or above NLMSG_MIN_TYPE are
 * handled, and seed-style messages; an error, or NLM_F_ACK, is answered
 * with NLMSG_ERROR after the replies before it (a seed-style message asks
 * for no ACK); a message whose nlmsg_len does not fit ends the walk.
 */
static void nlchan_unit_input(struct sk_buff *skb)
{
	struct nlchan_answers ans = { .in = skb };

	while (skb->len >= NLMSG_HDRLEN) {
		struct nlmsghdr *nlh = nlmsg_hdr(skb);
		unsigned int step;
		int err = 0;

		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > skb->len)
			break;

		step = min_t(unsigned int, NLMSG_ALIGN(nlh->nlmsg_len), skb->len);
		ans.last = skb->len - step < NLMSG_HDRLEN;
		if (nlchan_is_seed(nlh))
			err = nlchan_unit_request(&ans, nlh, true);
		else if (nlh->nlmsg_flags & NLM_F_REQUEST &&
			 nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			err = nlchan_unit_request(&ans, nlh, false);

		if (err || nlh->nlmsg_flags & NLM_F_ACK) {
			nlchan_flush(&ans);
			nlchan_ack(skb, nlh, err);
		}
		skb_pull(skb, step);
	}
	nlchan_flush(&ans);
}

/* A BROADCAST message carrying @data, its nlmsg_seq still 0. */
struct sk_buff *nlchan_unit_broadcast_new(const void *data, size_t len,
					  gfp_t gfp)
{
	struct nlmsghdr *nlh;
	struct sk_buff *skb;

	skb = nlmsg_new(len, gfp);
	if (!skb)
		return NULL;

	nlh = nlmsg_put(skb, 0, 0, NLCHAN_MSG_BROADCAST, len, 0);
	if (WARN_ON_ONCE(!nlh)) {
		nlmsg_free(skb);
		return NULL;
	}
	memcpy(nlmsg_data(nlh), data, len);
	return skb;
}

/* Sends (and frees) @skb to NLCHAN_GROUP; true if a listener missed it. */
bool nlchan_unit_broadcast_send(struct sk_buff *skb, gfp_t gfp)
{
	int err = nlmsg_multicast(nlchan_unit_sock, skb, 0, NLCHAN_GROUP, gfp);

	/* -ESRCH: nobody listens. -ENOBUFS: some listener missed it. */
	return err && err != -ESRCH;
}

/* The unit in use, or -1 when the module has none. */
int nlchan_unit_in_use(void)
{
	return nlchan_unit_sock ? (int)nlchan_unit_wanted : -1;
}

/*
 * Creates the kernel socket of the unit. A unit given with unit= must be
 * free; the default one may be taken (Allwinner BSP drivers hold 30 and
 * 31), and the module then serves generic netlink only.
 */
int nlchan_unit_init(void)
{
	struct netlink_kernel_cfg cfg = {
		.groups	= NLCHAN_GROUP,
		.flags	= NL_CFG_F_NONROOT_RECV,
		.input	= nlchan_unit_input,
	};
	unsigned int unit = nlchan_unit_wanted;

	if (unit == NLCHAN_UNIT_NONE) {
		pr_info("unit=none: no classic netlink unit\n");
		return 0;
	}

	/* NULL nearly always means another driver has the unit. */
	nlchan_unit_sock = netlink_kernel_create(&init_net, unit, &cfg);
	if (nlchan_unit_sock)
		return 0;

	if (nlchan_unit_explicit) {
		pr_err("netlink unit %u is already in use\n", unit);
		return -EBUSY;
	}
	pr_notice("netlink unit %u is taken by another driver: generic netlink only; for the classic unit too, the board's image should set a free one (options nlchan unit=N, N %d to %d)\n",
		  unit, NLCHAN_UNIT_MIN, NLCHAN_UNIT_LIMIT - 1);
	return 0;
}

void nlchan_unit_exit(void)
{
	if (nlchan_unit_sock)
		netlink_kernel_release(nlchan_unit_sock);
	nlchan_unit_sock = NULL;
}
