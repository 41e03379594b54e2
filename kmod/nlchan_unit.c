// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protocol v1: the classic netlink unit. Walks every message of a request
 * datagram, answers each through nlchan_request.c, gathers replies that
 * asked for it (NLCHAN_F_GATHER), and sends broadcasts to NLCHAN_GROUP.
 * The wire protocol is described in include/uapi/linux/nlchan.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/netlink.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "linux/nlchan.h"
#include "compat.h"
#include "nlchan.h"

#define NLCHAN_UNIT_NONE	(~0U)	/* unit=none, the default */

/* The unit asked for; read-only once the module is loaded. */
static unsigned int nlchan_unit_wanted = NLCHAN_UNIT_NONE;

/*
 * The unit parameter. The module takes no classic netlink unit unless
 * unit=N asks for one: on Allwinner BSP kernels 30 and 31 belong to Wi-Fi
 * drivers that load late and fail silently when their unit is taken.
 *
 * unit=N: the classic unit, which must then be free (the seed's clients use
 * NLCHAN_UNIT_SEED, 30). Units the kernel names itself (below
 * NLCHAN_UNIT_MIN: NETLINK_USERSOCK and the like) are refused: a module
 * socket there would not own the unit. unit=none, the default: no classic
 * unit, generic netlink only.
 */
static int nlchan_unit_set(const char *val, const struct kernel_param *kp)
{
	unsigned int unit;
	int err;

	if (sysfs_streq(val, "none")) {
		nlchan_unit_wanted = NLCHAN_UNIT_NONE;
		return 0;
	}

	err = kstrtouint(val, 0, &unit);
	if (err)
		return err;
	if (unit < NLCHAN_UNIT_MIN || unit >= NLCHAN_UNIT_LIMIT) {
		pr_err("unit=%u refused: units below %d are the kernel's own, and there are %d (a free unit from %d to %d is needed)\n",
		       unit, NLCHAN_UNIT_MIN, NLCHAN_UNIT_LIMIT,
		       NLCHAN_UNIT_MIN, NLCHAN_UNIT_LIMIT - 1);
		return -EINVAL;
	}
	nlchan_unit_wanted = unit;
	return 0;
}

/* Reads back the unit in use, or "none" (the generic netlink family only). */
static int nlchan_unit_get(char *buf, const struct kernel_param *kp)
{
	char text[12] = "none";
	char *p = text;
	const struct kernel_param text_kp = { .arg = &p };
	int unit = nlchan_unit_in_use();

	if (unit >= 0)
		snprintf(text, sizeof(text), "%d", unit);
	/* param_get_charp() ends the line as this kernel's sysfs expects. */
	return param_get_charp(buf, &text_kp);
}

static const struct kernel_param_ops nlchan_unit_ops = {
	.set = nlchan_unit_set,
	.get = nlchan_unit_get,
};

module_param_cb(unit, &nlchan_unit_ops, NULL, 0444);
MODULE_PARM_DESC(unit,
		 "Classic netlink unit for the seed's clients (they use "
		 __stringify(NLCHAN_UNIT_SEED) "), at least "
		 __stringify(NLCHAN_UNIT_MIN) " and below "
		 __stringify(NLCHAN_UNIT_LIMIT)
		 ", which must be free; reads back the unit in use (default: none, generic netlink only)");

/*
 * Kernel socket of the unit, or NULL when the module has none. Written by
 * init and exit only, read by broadcasts from any context: WRITE_ONCE()
 * and READ_ONCE().
 */
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
	nlchan_request_sent(NETLINK_CB(ans->in).portid, ans->count, err);
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

/*
 * Answers the request @req parsed from @nlh (nlchan_unit_parse()).
 * Returns 0 or the errno to report.
 */
static int nlchan_unit_request(struct nlchan_answers *ans,
			       const struct nlmsghdr *nlh,
			       const struct nlchan_request *req)
{
	struct nlchan_reply reply;
	int err;

	err = nlchan_request_answer(req, &reply);
	if (err)
		return err;

	err = nlchan_reply(ans, nlh, &reply);
	if (err)
		nlchan_request_failed();
	return err;
}

/*
 * Answers every message of a datagram by netlink_rcv_skb()'s rules
 * (nlchan_parse.c splits and reads them): requests are handled, other
 * messages left alone; an error, or NLM_F_ACK, is answered with
 * NLMSG_ERROR after the replies before it (a seed-style message asks for
 * no ACK); a message whose nlmsg_len does not fit ends the walk.
 */
static void nlchan_unit_input(struct sk_buff *skb)
{
	struct nlchan_answers ans = { .in = skb };
	unsigned int step;

	while ((step = nlchan_unit_step(nlmsg_hdr(skb), skb->len))) {
		struct nlmsghdr *nlh = nlmsg_hdr(skb);
		struct nlchan_request req = { .skb = skb };
		int err = 0;

		ans.last = skb->len - step < NLMSG_HDRLEN;
		if (nlchan_unit_parse(nlh, &req))
			err = nlchan_unit_request(&ans, nlh, &req);

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

/**
 * nlchan_unit_sk() - the unit's kernel socket, for one broadcast
 *
 * Read once per broadcast and handed to nlchan_unit_broadcast_send().
 * Return: the socket, or NULL when the module has no classic unit.
 */
struct sock *nlchan_unit_sk(void)
{
	return READ_ONCE(nlchan_unit_sock);
}

/* Sends (and frees) @skb to NLCHAN_GROUP of @sk; true if a listener missed it. */
bool nlchan_unit_broadcast_send(struct sock *sk, struct sk_buff *skb, gfp_t gfp)
{
	int err = nlmsg_multicast(sk, skb, 0, NLCHAN_GROUP, gfp);

	/* -ESRCH: nobody listens. -ENOBUFS: some listener missed it. */
	return err && err != -ESRCH;
}

/* The unit in use, or -1 when the module has none. */
int nlchan_unit_in_use(void)
{
	return nlchan_unit_sk() ? (int)nlchan_unit_wanted : -1;
}

/*
 * True when the kernel itself runs this load: request_module() (a generic
 * netlink look-up of the family by any user) starts modprobe from a
 * kernel thread. A user's or the init system's modprobe has a user-space
 * parent.
 */
static bool nlchan_autoload(void)
{
	bool kernel;

	rcu_read_lock();
	kernel = rcu_dereference(current->real_parent)->flags & PF_KTHREAD;
	rcu_read_unlock();
	return kernel;
}

/*
 * Creates the kernel socket of the unit asked for with unit=N, which must
 * be free: a taken unit fails the load with -EBUSY. The line that says so
 * is logged once, by the load the image (or its user) runs; the loads any
 * user can start through the family's alias, which fail the same way,
 * log it at debug level only.
 */
int nlchan_unit_init(void)
{
	struct netlink_kernel_cfg cfg = {
		.groups	= NLCHAN_GROUP,
		.flags	= NL_CFG_F_NONROOT_RECV,
		.input	= nlchan_unit_input,
	};
	unsigned int unit = nlchan_unit_wanted;
	struct sock *sk;

	if (unit == NLCHAN_UNIT_NONE)
		return 0;

	/* NULL nearly always means another driver has the unit. */
	sk = netlink_kernel_create(&init_net, unit, &cfg);
	if (!sk) {
		if (nlchan_autoload())
			pr_debug("netlink unit %u is already in use (autoload)\n",
				 unit);
		else
			pr_err("netlink unit %u is already in use: choose a free one (options nlchan unit=N, N %d to %d) or none\n",
			       unit, NLCHAN_UNIT_MIN, NLCHAN_UNIT_LIMIT - 1);
		return -EBUSY;
	}
	WRITE_ONCE(nlchan_unit_sock, sk);
	return 0;
}

void nlchan_unit_exit(void)
{
	struct sock *sk = nlchan_unit_sk();

	WRITE_ONCE(nlchan_unit_sock, NULL);
	if (sk)
		netlink_kernel_release(sk);
}
