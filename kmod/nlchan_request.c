// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a request gets, whatever the transport carried it: the sender's
 * rights and the payload's length are checked, a SEND is logged (rate
 * limited, as the seed logs it) and answered with the greeting, an ECHO
 * with its own payload. The counters are kept here too, and the
 * tracepoints (nlchan_trace.h) are defined here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/netlink.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/string.h>

#include "linux/nlchan.h"
#include "nlchan.h"

#define CREATE_TRACE_POINTS
#include "nlchan_trace.h"

struct nlchan_stats nlchan_stats;

/*
 * A batch of thousands of SENDs must not stall a board whose console is a
 * 115200-baud UART: at most 10 lines every 5 s, the rest are counted in
 * log_suppressed. RATELIMIT_MSG_ON_RELEASE (set by nlchan_request_init())
 * keeps ___ratelimit() from adding its own "callbacks suppressed" warning.
 */
static DEFINE_RATELIMIT_STATE(nlchan_log_rs, 5 * HZ, 10);

/* Run once, before any request can arrive. */
void nlchan_request_init(void)
{
	ratelimit_set_flags(&nlchan_log_rs, RATELIMIT_MSG_ON_RELEASE);
}

static void nlchan_log_send(const struct nlchan_request *req)
{
	if (!__ratelimit(&nlchan_log_rs)) {
		atomic_long_inc(&nlchan_stats.log_suppressed);
		return;
	}
	pr_info("port %u sent %u bytes: \"%*pE\"\n",
		NETLINK_CB(req->skb).portid, req->len, (int)req->len,
		req->data);
}

/* The sender's rights first, then what nlchan_parse.c says of the content. */
static int nlchan_check(const struct nlchan_request *req)
{
	if (!nlchan_allow_unprivileged &&
	    !netlink_capable(req->skb, CAP_NET_ADMIN))
		return -EPERM;
	return nlchan_request_validate(req);
}

/**
 * nlchan_request_answer() - check a request and find its reply
 * @req: the request; its length is the transport's, not yet checked
 * @reply: set to the reply's payload on success
 *
 * Counts the request as received, and as an error when it fails.
 * Return: 0, or the errno to report to the sender.
 */
int nlchan_request_answer(const struct nlchan_request *req,
			  struct nlchan_reply *reply)
{
	int err;

	atomic_long_inc(&nlchan_stats.received);
	err = nlchan_check(req);
	trace_nlchan_request(NETLINK_CB(req->skb).portid, req->op, req->len,
			     err);
	if (err) {
		atomic_long_inc(&nlchan_stats.errors);
		return err;
	}

	if (req->op == NLCHAN_OP_SEND) {
		nlchan_log_send(req);
		reply->data = NLCHAN_GREETING;
		reply->len = strlen(NLCHAN_GREETING);
	} else {
		reply->data = req->data;
		reply->len = req->len;
	}
	return 0;
}

/**
 * nlchan_request_failed() - count an answered request left without reply
 *
 * For a request whose reply could not be built (no memory): it becomes an
 * error, reported to the sender by the caller.
 */
void nlchan_request_failed(void)
{
	atomic_long_inc(&nlchan_stats.errors);
}

/**
 * nlchan_request_sent() - count the fate of replies handed to the sender
 * @portid: the sender's port
 * @replies: how many replies the datagram carried
 * @err: what netlink_unicast() returned: 0 or more when the sender's
 *	socket took the datagram, a negative errno when it did not (the
 *	replies are dropped: the sender could not receive an error either)
 */
void nlchan_request_sent(u32 portid, unsigned int replies, int err)
{
	if (err < 0) {
		atomic_long_add(replies, &nlchan_stats.dropped);
		trace_nlchan_drop(false, portid, replies, err);
		return;
	}
	atomic_long_add(replies, &nlchan_stats.replied);
	trace_nlchan_reply(portid, replies);
}
