/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nlchan wire protocol, version 1.
 *
 * This header is the single source of truth for every protocol constant:
 * the kernel module includes it, and the Rust library generates its
 * constants from it at build time (and a test checks them against a C
 * program compiled with this very header).
 *
 * A message is a struct nlmsghdr followed by an opaque payload of at most
 * NLCHAN_MSG_LEN bytes; the payload length is nlmsg_len - NLMSG_HDRLEN.
 * Senders must set nlmsg_len to NLMSG_LENGTH(payload length), never more.
 *
 * Requests (user -> kernel):
 *   NLCHAN_MSG_SEND  the kernel logs the payload and replies
 *                    NLCHAN_MSG_REPLY carrying NLCHAN_GREETING.
 *   NLCHAN_MSG_ECHO  the kernel replies NLCHAN_MSG_REPLY carrying the same
 *                    payload.
 *   type 0, flags 0  (NLCHAN_MSG_SEED) the seed's C client: handled as
 *                    NLCHAN_MSG_SEND, payload cut at the first NUL byte.
 *
 * Replies are unicast to the sender's port id, carry the request's
 * nlmsg_seq and nlmsg_pid 0. Errors come back as NLMSG_ERROR with a
 * negative errno: -EMSGSIZE (payload over NLCHAN_MSG_LEN), -EOPNOTSUPP
 * (unknown type), -EPERM (sender lacks CAP_NET_ADMIN). NLM_F_ACK asks for
 * an acknowledgment (NLMSG_ERROR with error 0) after the reply.
 *
 * Batches: a datagram may carry many requests (NLMSG_NEXT rules); each is
 * answered, in order. By default each REPLY comes in a datagram of its
 * own. A request flagged NLCHAN_F_GATHER lets its REPLY share a datagram
 * with the neighbouring replies that asked for it too (as netlink dumps
 * do), so one recvmsg() takes many; such a datagram is never larger than
 * NLCHAN_GATHER_MAX bytes. An NLMSG_ERROR (or ACK) always comes in a
 * datagram of its own, after the replies to the requests before it.
 *
 * Broadcasts (kernel -> group NLCHAN_GROUP): NLCHAN_MSG_BROADCAST with
 * nlmsg_seq 0 and nlmsg_pid 0.
 *
 * Keep every value a plain literal on its own #define line: the Rust
 * build script parses them.
 */
#ifndef _UAPI_LINUX_NLCHAN_H
#define _UAPI_LINUX_NLCHAN_H

/* Protocol version described by this header. */
#define NLCHAN_PROTO_VERSION	1

/* Netlink unit (protocol number) used unless the module is told otherwise. */
#define NLCHAN_UNIT_DEFAULT	30

/* Multicast group that receives NLCHAN_MSG_BROADCAST. */
#define NLCHAN_GROUP		1

/* Largest payload, in bytes (the seed's MSG_LEN). */
#define NLCHAN_MSG_LEN		125

/* Message types; all at or above NLMSG_MIN_TYPE (0x10). */
#define NLCHAN_MSG_SEND		0x10
#define NLCHAN_MSG_ECHO		0x11
#define NLCHAN_MSG_REPLY	0x12
#define NLCHAN_MSG_BROADCAST	0x13

/*
 * Request flag (nlmsg_flags, a per-family modifier bit like NLM_F_ROOT):
 * the sender accepts its REPLY gathered with others in one datagram.
 */
#define NLCHAN_F_GATHER		0x100

/* Largest datagram of gathered replies, in bytes. */
#define NLCHAN_GATHER_MAX	4096

/* Type of a seed-style request (with flags 0), handled as a SEND. */
#define NLCHAN_MSG_SEED		0

/* Payload of the reply to NLCHAN_MSG_SEND (no NUL byte is sent). */
#define NLCHAN_GREETING		"hello users!!!"

#endif /* _UAPI_LINUX_NLCHAN_H */
