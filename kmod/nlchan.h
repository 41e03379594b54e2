/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of the nlchan module.
 *
 *   nlchan_main.c       init, exit, allow_unprivileged and own_device
 *   nlchan_parse.c      request parsing and validation, no state
 *   nlchan_request.c    what a request gets, whatever the transport
 *   nlchan_unit.c       protocol v1: the classic netlink unit, unit=
 *   nlchan_genl.c       protocol v2: the generic netlink family
 *   nlchan_broadcast.c  nlchan_broadcast(), on both transports, from any
 *                       context
 *   nlchan_driver.c     the platform driver: send_msg and the counters
 *   nlchan_trace.h      the tracepoints of the message path
 *   nlchan_kunit.c      KUnit suite of nlchan_parse.c (nlchan-kunit.ko,
 *                       built where the kernel has CONFIG_KUNIT)
 */
#ifndef _NLCHAN_H
#define _NLCHAN_H

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/platform_device.h>
#include <linux/skbuff.h>
#include <linux/types.h>

struct nlmsghdr;
struct sock;

/* Name of the platform driver, and of the device own_device=1 registers. */
#define NLCHAN_DRIVER_NAME	"nlchan"

/* allow_unprivileged (nlchan_main.c); read-only once the module is loaded. */
extern bool nlchan_allow_unprivileged;

/*
 * Counters, shown in sysfs and documented in
 * Documentation/ABI/testing/sysfs-driver-nlchan. After any sequence of
 * requests: received == replied + errors + dropped.
 */
struct nlchan_stats {
	atomic_long_t received;		/* requests that reached nlchan */
	atomic_long_t replied;		/* replies the sender's socket took */
	atomic_long_t errors;		/* requests answered with an errno */
	atomic_long_t dropped;		/* replies the sender's socket refused */
	atomic_long_t broadcast;	/* broadcasts sent, listened to or not */
	atomic_long_t broadcast_lost;	/* broadcasts some listener missed */
	atomic_long_t broadcast_dropped; /* deferred broadcasts never sent */
	atomic_long_t log_suppressed;	/* SEND log lines rate-limited away */
};

extern struct nlchan_stats nlchan_stats;

/* What a request asks for, whatever the transport carried it. */
enum nlchan_op {
	NLCHAN_OP_SEND,
	NLCHAN_OP_ECHO,
	NLCHAN_OP_UNKNOWN,	/* answered -EOPNOTSUPP */
	NLCHAN_OP_INVALID,	/* malformed: answered -EINVAL */
};

/* One request: its datagram (for the sender's port and rights) and data. */
struct nlchan_request {
	const struct sk_buff *skb;
	enum nlchan_op op;
	const void *data;
	unsigned int len;
};

/* The payload of a reply; points at the request's data or a constant. */
struct nlchan_reply {
	const void *data;
	unsigned int len;
};

unsigned int nlchan_unit_step(const struct nlmsghdr *nlh,
			      unsigned int remaining);
bool nlchan_unit_parse(const struct nlmsghdr *nlh, struct nlchan_request *req);
int nlchan_request_validate(const struct nlchan_request *req);
int nlchan_genl_validate(const struct nlmsghdr *nlh, const char **why);

void nlchan_request_init(void);
int nlchan_request_answer(const struct nlchan_request *req,
			  struct nlchan_reply *reply);
void nlchan_request_failed(void);
void nlchan_request_sent(u32 portid, unsigned int replies, int err);

int nlchan_unit_init(void);
void nlchan_unit_exit(void);
int nlchan_unit_in_use(void);
struct sock *nlchan_unit_sk(void);
struct sk_buff *nlchan_unit_broadcast_new(const void *data, size_t len,
					  gfp_t gfp);
bool nlchan_unit_broadcast_send(struct sock *sk, struct sk_buff *skb,
				gfp_t gfp);

int nlchan_genl_init(void);
void nlchan_genl_exit(void);
struct sk_buff *nlchan_genl_broadcast_new(const void *data, size_t len,
					  gfp_t gfp);
bool nlchan_genl_broadcast_send(struct sk_buff *skb, gfp_t gfp);

void nlchan_broadcast_exit(void);

extern struct platform_driver nlchan_driver;

#endif /* _NLCHAN_H */
