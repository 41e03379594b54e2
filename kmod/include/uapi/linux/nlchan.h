/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * nlchan wire protocol: version 1 (a classic netlink unit) and version 2
 * (a generic netlink family), served side by side by the same module.
 *
 * This header is the single source of truth for every protocol constant:
 * the kernel module includes it; the Rust library's constants are
 * generated from it into app/src/proto/generated.rs, which is committed,
 * and a test regenerates them and fails on any difference (and checks
 * them against a C program compiled with this very header).
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
 * nlmsg_pid 0 and, in nlmsg_seq, the broadcast's sequence number: 1 for
 * the module's first broadcast, one more for each next one (wrapping at
 * 2^32 to 1). One broadcast has the same number on both transports, so a
 * listener sees a gap for every broadcast it missed, on any kernel.
 * Broadcasts sent at the same time from two contexts may arrive in either
 * order: a number lower than the last one seen is late, not a loss.
 *
 * The module takes no classic unit unless the module option unit=N asks
 * for one: on Allwinner BSP kernels 30 and 31 belong to Wi-Fi drivers
 * (XRadio's NL_FOR_XRADIO and bcmdhd's NETLINK_OXYGEN 30, bcmdhd's
 * BCM_NL_USER 31) that load late and fail silently when their unit is
 * taken. Version 1 is there for the seed's clients, which use
 * NLCHAN_UNIT_SEED: an image that has them sets unit=30 (or another free
 * unit, at least NLCHAN_UNIT_MIN: lower units are the kernel's own). A unit
 * asked for that is taken fails the load with -EBUSY. unit=none, the
 * default, is generic netlink only. /sys/module/nlchan/parameters/unit
 * reads back the unit in use, or "none" when there is none.
 *
 * Version 2, generic netlink: family NLCHAN_GENL_NAME, version
 * NLCHAN_GENL_VERSION, resolved through nlctrl (CTRL_CMD_GETFAMILY).
 * Requests are NLCHAN_CMD_SEND and NLCHAN_CMD_ECHO carrying the payload
 * as attribute NLCHAN_ATTR_PAYLOAD (NLA_BINARY, at most NLCHAN_MSG_LEN
 * bytes; absent means empty). Replies are NLCHAN_CMD_REPLY with the
 * payload attribute, unicast to the sender's port with the request's
 * nlmsg_seq and nlmsg_pid 0. Errors, ACKs and privileges are those of
 * version 1 (-EMSGSIZE for a payload over NLCHAN_MSG_LEN, with an
 * extended-ack message on kernels that have them); also -EINVAL, on every
 * kernel, for a malformed attribute (unknown, truncated, flagged
 * NLA_F_NESTED, or followed by stray bytes), a non-zero genlmsghdr.reserved,
 * nlmsg_flags beyond NLM_F_REQUEST, NLM_F_ACK and NLM_F_ECHO, or a
 * genlmsghdr version other than NLCHAN_GENL_VERSION. The sender's rights
 * are checked before any of these (-EPERM), except that 6.0 and later
 * kernels check the reserved field and the flags first. Broadcasts are
 * NLCHAN_CMD_BROADCAST, with the sequence number in nlmsg_seq, to
 * multicast group NLCHAN_GENL_MCGRP (its id, too, comes from nlctrl),
 * which any user may join: broadcast payloads are readable by every local
 * user.
 * NLCHAN_F_GATHER belongs to version 1: generic netlink answers each
 * request in a datagram of its own and refuses the flag (-EINVAL).
 *
 * Keep each value a plain literal on its own #define line, for the test
 * app/tests/proto_generated.rs that parses them (not a build script).
 */
#ifndef _UAPI_LINUX_NLCHAN_H
#define _UAPI_LINUX_NLCHAN_H

/* Newest protocol version described by this header. */
#define NLCHAN_PROTO_VERSION	2

/* The seed's unit (its NETLINK_TEST), for unit=30: never taken unless asked. */
#define NLCHAN_UNIT_SEED	30

/* Lowest unit the module accepts: the kernel names every unit below. */
#define NLCHAN_UNIT_MIN		23

/* Units are below this (the kernel's MAX_LINKS). */
#define NLCHAN_UNIT_LIMIT	32

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

/* Version 2: the generic netlink family, its version and its group. */
#define NLCHAN_GENL_NAME	"nlchan"
#define NLCHAN_GENL_VERSION	1
#define NLCHAN_GENL_MCGRP	"broadcast"

/* Generic netlink commands (genlmsghdr.cmd). */
#define NLCHAN_CMD_UNSPEC	0
#define NLCHAN_CMD_SEND		1
#define NLCHAN_CMD_ECHO		2
#define NLCHAN_CMD_REPLY	3
#define NLCHAN_CMD_BROADCAST	4

/* Generic netlink attributes. */
#define NLCHAN_ATTR_UNSPEC	0
#define NLCHAN_ATTR_PAYLOAD	1
#define NLCHAN_ATTR_MAX		1

#endif /* _UAPI_LINUX_NLCHAN_H */
