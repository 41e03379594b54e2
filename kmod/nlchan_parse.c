// SPDX-License-Identifier: GPL-2.0-only
/*
 * Request parsing and validation, without state or side effects: how a
 * datagram of the classic unit splits into messages, what each asks for,
 * which errno a request's length and operation give, and the rules a
 * generic netlink request must follow. Used by nlchan_unit.c and
 * nlchan_genl.c, and tested on its own by nlchan_kunit.c.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/netlink.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "linux/nlchan.h"
#include "nlchan.h"

/**
 * nlchan_unit_step() - bytes from one message of a datagram to the next
 * @nlh: the message, at least NLMSG_HDRLEN bytes of it readable
 * @remaining: bytes from @nlh to the end of the datagram
 *
 * By netlink_rcv_skb()'s rules: a message whose nlmsg_len is below the
 * header or past the datagram's end ends the walk, and the last message's
 * padding may be left out.
 * Return: the step (at least NLMSG_HDRLEN), or 0 when the walk ends here.
 */
unsigned int nlchan_unit_step(const struct nlmsghdr *nlh, unsigned int remaining)
{
	if (remaining < NLMSG_HDRLEN)
		return 0;
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > remaining)
		return 0;
	return min_t(unsigned int, NLMSG_ALIGN(nlh->nlmsg_len), remaining);
}

/**
 * nlchan_unit_parse() - what one message of the classic unit asks for
 * @nlh: the message, whose nlmsg_len nlchan_unit_step() accepted
 * @req: its op, data and len are set when the message is a request
 *
 * Requests are messages flagged NLM_F_REQUEST of a type at or above
 * NLMSG_MIN_TYPE, and seed-style messages (type NLCHAN_MSG_SEED, flags 0:
 * the seed's C client), which are SENDs whose payload ends at its first
 * NUL byte.
 * Return: true for a request, false for a message nlchan leaves alone.
 */
bool nlchan_unit_parse(const struct nlmsghdr *nlh, struct nlchan_request *req)
{
	req->data = nlmsg_data(nlh);
	req->len = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (nlh->nlmsg_type == NLCHAN_MSG_SEED && !nlh->nlmsg_flags) {
		req->op = NLCHAN_OP_SEND;
		req->len = strnlen(req->data, req->len);
		return true;
	}
	if (!(nlh->nlmsg_flags & NLM_F_REQUEST) ||
	    nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return false;

	switch (nlh->nlmsg_type) {
	case NLCHAN_MSG_SEND:
		req->op = NLCHAN_OP_SEND;
		break;
	case NLCHAN_MSG_ECHO:
		req->op = NLCHAN_OP_ECHO;
		break;
	default:
		req->op = NLCHAN_OP_UNKNOWN;
	}
	return true;
}

/**
 * nlchan_request_validate() - the errno a request's content gives
 * @req: the request
 *
 * The sender's rights are the caller's to check first.
 * Return: 0, -EINVAL (malformed), -EMSGSIZE (payload over NLCHAN_MSG_LEN)
 * or -EOPNOTSUPP (unknown operation), in that order.
 */
int nlchan_request_validate(const struct nlchan_request *req)
{
	if (req->op == NLCHAN_OP_INVALID)
		return -EINVAL;
	if (req->len > NLCHAN_MSG_LEN)
		return -EMSGSIZE;
	if (req->op == NLCHAN_OP_UNKNOWN)
		return -EOPNOTSUPP;
	return 0;
}

/**
 * nlchan_genl_validate() - apply the strictest core's rules to a request
 * @nlh: the request; the core has checked that it holds a genlmsghdr
 * @why: set to the reason when the request is refused
 *
 * The rules of the 6.0 and later generic netlink core for a family whose
 * resv_start_op is 0, and of the 5.2 and later core's strict attribute
 * parsing: no genlmsghdr.reserved, no nlmsg_flags beyond REQUEST, ACK,
 * ECHO and DUMP (both of its bits: nlchan_genl_dump_start() checks dumps
 * too), only known attributes, none flagged
 * NLA_F_NESTED, none truncated and no bytes after the last (whose padding
 * may be left out).
 * Return: 0, or -EINVAL.
 */
int nlchan_genl_validate(const struct nlmsghdr *nlh, const char **why)
{
	const struct genlmsghdr *hdr = nlmsg_data(nlh);
	u16 flags = nlh->nlmsg_flags;
	const struct nlattr *nla;
	int rem;

	if (hdr->reserved) {
		*why = "genlmsghdr.reserved field is not 0";
		return -EINVAL;
	}
	if ((flags & NLM_F_DUMP) == NLM_F_DUMP)
		flags &= ~NLM_F_DUMP;
	if (flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO)) {
		*why = "ambiguous or reserved bits set in nlmsg_flags";
		return -EINVAL;
	}
	nla_for_each_attr(nla, genlmsg_data(hdr), genlmsg_len(hdr), rem) {
		if (nla->nla_type & NLA_F_NESTED) {
			*why = "NLA_F_NESTED set on a non-nested attribute";
			return -EINVAL;
		}
		if (nla_type(nla) < 1 || nla_type(nla) > NLCHAN_ATTR_MAX) {
			*why = "unknown attribute type";
			return -EINVAL;
		}
	}
	if (rem > 0) {
		*why = "bytes leftover after parsing attributes";
		return -EINVAL;
	}
	return 0;
}
