// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protocol v2: the generic netlink family NLCHAN_GENL_NAME. SEND and ECHO
 * are commands carrying the payload in NLCHAN_ATTR_PAYLOAD; replies go to
 * the sender's port with its sequence number; broadcasts go to the family's
 * multicast group NLCHAN_GENL_MCGRP. Generic netlink walks the datagrams
 * and answers errors and ACKs (netlink_rcv_skb()); what a request gets is
 * decided by nlchan_request.c, as for the classic unit.
 *
 * The generic netlink core checks requests more strictly with each
 * release: 5.2 parses a new family's attributes strictly, 6.0 refuses a
 * non-zero genlmsghdr.reserved and nlmsg_flags beyond REQUEST, ACK and
 * ECHO. nlchan applies the strictest rules itself, so that every kernel
 * gives a request the same answer, and counts none of the requests they
 * refuse. The privilege check comes first (GENL_ADMIN_PERM), as on the
 * classic unit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cache.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/skbuff.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "linux/nlchan.h"
#include "compat.h"
#include "nlchan.h"

/*
 * The payload is opaque bytes. Its 125-byte limit is checked with the
 * classic unit's, by nlchan_request.c, so that a long payload gets
 * -EMSGSIZE on both transports (a policy length would answer -ERANGE).
 */
static const struct nla_policy nlchan_genl_policy[NLCHAN_ATTR_MAX + 1] = {
	[NLCHAN_ATTR_PAYLOAD] = { .type = NLA_BINARY },
};

static int nlchan_genl_doit(struct sk_buff *skb, struct genl_info *info);

/*
 * No command dumps, but each command has a dump operation, so that the core
 * checks privilege (GENL_ADMIN_PERM) before it refuses a dump on every
 * kernel: from 6.2 it looks the dump operation up first, and without one
 * would answer -EOPNOTSUPP to an unprivileged dump too. Its start refuses
 * the request, uncounted: -EINVAL when nlchan's rules refuse it (as the
 * 5.6 and later cores do, parsing a dump's attributes before the start),
 * else -EOPNOTSUPP.
 */
static int nlchan_genl_dump_start(struct netlink_callback *cb)
{
	const char *why;

	return nlchan_genl_validate(cb->nlh, &why) ?: -EOPNOTSUPP;
}

static int nlchan_genl_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return 0;
}

/* .flags is set by nlchan_genl_init(), from allow_unprivileged. */
static struct genl_ops nlchan_genl_ops[] __ro_after_init = {
	{
		.cmd = NLCHAN_CMD_SEND,
		.doit = nlchan_genl_doit,
		NLCHAN_GENL_OP_POLICY(nlchan_genl_policy)
		.start = nlchan_genl_dump_start,
		.dumpit = nlchan_genl_dumpit,
	},
	{
		.cmd = NLCHAN_CMD_ECHO,
		.doit = nlchan_genl_doit,
		NLCHAN_GENL_OP_POLICY(nlchan_genl_policy)
		.start = nlchan_genl_dump_start,
		.dumpit = nlchan_genl_dumpit,
	},
};

static const struct genl_multicast_group nlchan_genl_mcgrps[] = {
	{ .name = NLCHAN_GENL_MCGRP },
};

static struct genl_family nlchan_genl_family = {
	.name = NLCHAN_GENL_NAME,
	.version = NLCHAN_GENL_VERSION,
	.maxattr = NLCHAN_ATTR_MAX,
	.parallel_ops = true,
	.module = THIS_MODULE,
#if NLCHAN_HAVE_STATIC_GENL_FAMILY
	.ops = nlchan_genl_ops,
	.n_ops = ARRAY_SIZE(nlchan_genl_ops),
	.mcgrps = nlchan_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(nlchan_genl_mcgrps),
#endif
	NLCHAN_GENL_FAMILY_POLICY(nlchan_genl_policy)
};

/* A REPLY carrying @reply, to the sender of @info. */
static struct sk_buff *nlchan_genl_reply_new(struct genl_info *info,
					     const struct nlchan_reply *reply)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(nla_total_size(reply->len), GFP_KERNEL);
	if (!skb)
		return NULL;

	hdr = genlmsg_put(skb, 0, info->snd_seq, &nlchan_genl_family, 0,
			  NLCHAN_CMD_REPLY);
	if (!hdr || nla_put(skb, NLCHAN_ATTR_PAYLOAD, reply->len, reply->data)) {
		nlmsg_free(skb);
		return NULL;
	}
	genlmsg_end(skb, hdr);
	return skb;
}

/* What the request asks for; another family version makes it malformed. */
static enum nlchan_op nlchan_genl_op(struct genl_info *info)
{
	if (info->genlhdr->version != NLCHAN_GENL_VERSION) {
		nlchan_genl_err_msg(info, NULL, "unsupported nlchan family version");
		return NLCHAN_OP_INVALID;
	}
	return info->genlhdr->cmd == NLCHAN_CMD_SEND ?
	       NLCHAN_OP_SEND : NLCHAN_OP_ECHO;
}

static int nlchan_genl_doit(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *attr = info->attrs[NLCHAN_ATTR_PAYLOAD];
	struct nlchan_request req = {
		.skb = skb,
		.data = attr ? nla_data(attr) : NULL,
		.len = attr ? nla_len(attr) : 0,
	};
	struct nlchan_reply reply;
	struct sk_buff *out;
	const char *why;
	int err;

	err = nlchan_genl_validate(info->nlhdr, &why);
	if (err) {
		nlchan_genl_set_msg(info, why);
		return err;
	}

	req.op = nlchan_genl_op(info);
	err = nlchan_request_answer(&req, &reply);
	if (err == -EMSGSIZE)
		nlchan_genl_err_msg(info, attr, "payload over "
				    __stringify(NLCHAN_MSG_LEN) " bytes");
	if (err)
		return err;

	out = nlchan_genl_reply_new(info, &reply);
	if (!out) {
		nlchan_request_failed();
		return -ENOMEM;
	}
	/* A reply the sender cannot take is dropped, not reported. */
	nlchan_request_sent(info->snd_portid, 1,
			    genlmsg_unicast(genl_info_net(info), out,
					    info->snd_portid));
	return 0;
}

/* A BROADCAST message carrying @data, its nlmsg_seq still 0. */
struct sk_buff *nlchan_genl_broadcast_new(const void *data, size_t len,
					  gfp_t gfp)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(nla_total_size(len), gfp);
	if (!skb)
		return NULL;

	hdr = genlmsg_put(skb, 0, 0, &nlchan_genl_family, 0,
			  NLCHAN_CMD_BROADCAST);
	if (!hdr || nla_put(skb, NLCHAN_ATTR_PAYLOAD, len, data)) {
		nlmsg_free(skb);
		return NULL;
	}
	genlmsg_end(skb, hdr);
	return skb;
}

/* Sends (and frees) @skb to the family's group; true if a listener missed it. */
bool nlchan_genl_broadcast_send(struct sk_buff *skb, gfp_t gfp)
{
	int err = genlmsg_multicast(&nlchan_genl_family, skb, 0, 0, gfp);

	/* -ESRCH: nobody listens. -ENOBUFS: some listener missed it. */
	return err && err != -ESRCH;
}

int nlchan_genl_init(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(nlchan_genl_ops); i++)
		nlchan_genl_ops[i].flags = nlchan_allow_unprivileged ?
					   0 : GENL_ADMIN_PERM;

	err = nlchan_genl_register(&nlchan_genl_family, nlchan_genl_ops,
				   nlchan_genl_mcgrps);
	if (err)
		pr_err("cannot register generic netlink family %s: %d\n",
		       NLCHAN_GENL_NAME, err);
	return err;
}

void nlchan_genl_exit(void)
{
	genl_unregister_family(&nlchan_genl_family);
}
