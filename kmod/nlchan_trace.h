/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of nlchan's message path, under events/nlchan/ in tracefs:
 *
 *   echo 1 >/sys/kernel/tracing/events/nlchan/enable
 *   cat /sys/kernel/tracing/trace_pipe
 *
 * (or trace-cmd record -e nlchan). Without CONFIG_TRACEPOINTS they compile
 * to nothing.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM nlchan

#if !defined(_NLCHAN_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _NLCHAN_TRACE_H

#include <linux/tracepoint.h>
#include <linux/types.h>

/* A request that reached nlchan, and the errno it is answered with (or 0). */
TRACE_EVENT(nlchan_request,
	    TP_PROTO(u32 portid, int op, unsigned int len, int err),
	    TP_ARGS(portid, op, len, err),
	    TP_STRUCT__entry(__field(u32, portid)
			     __field(int, op)
			     __field(unsigned int, len)
			     __field(int, err)),
	    TP_fast_assign(__entry->portid = portid;
			   __entry->op = op;
			   __entry->len = len;
			   __entry->err = err;),
	    TP_printk("portid=%u op=%s len=%u err=%d", __entry->portid,
		      __print_symbolic(__entry->op, { 0, "send" },
				       { 1, "echo" }, { 2, "unknown" },
				       { 3, "invalid" }),
		      __entry->len, __entry->err)
);

/* A datagram of @replies replies that the sender's socket took. */
TRACE_EVENT(nlchan_reply,
	    TP_PROTO(u32 portid, unsigned int replies),
	    TP_ARGS(portid, replies),
	    TP_STRUCT__entry(__field(u32, portid)
			     __field(unsigned int, replies)),
	    TP_fast_assign(__entry->portid = portid;
			   __entry->replies = replies;),
	    TP_printk("portid=%u replies=%u", __entry->portid,
		      __entry->replies)
);

/* A broadcast sent: its sequence number, length, and whether one missed it. */
TRACE_EVENT(nlchan_broadcast,
	    TP_PROTO(u32 seq, unsigned int len, bool unit, bool lost),
	    TP_ARGS(seq, len, unit, lost),
	    TP_STRUCT__entry(__field(u32, seq)
			     __field(unsigned int, len)
			     __field(bool, unit)
			     __field(bool, lost)),
	    TP_fast_assign(__entry->seq = seq;
			   __entry->len = len;
			   __entry->unit = unit;
			   __entry->lost = lost;),
	    TP_printk("seq=%u len=%u transports=%s lost=%d", __entry->seq,
		      __entry->len, __entry->unit ? "unit,genl" : "genl",
		      __entry->lost)
);

/*
 * Messages nlchan could not deliver: replies the sender's socket refused
 * (@portid, @count of them, @err from netlink), or a broadcast deferred
 * from hard-IRQ context that could not be sent (@portid 0, @count 1).
 */
TRACE_EVENT(nlchan_drop,
	    TP_PROTO(bool broadcast, u32 portid, unsigned int count, int err),
	    TP_ARGS(broadcast, portid, count, err),
	    TP_STRUCT__entry(__field(bool, broadcast)
			     __field(u32, portid)
			     __field(unsigned int, count)
			     __field(int, err)),
	    TP_fast_assign(__entry->broadcast = broadcast;
			   __entry->portid = portid;
			   __entry->count = count;
			   __entry->err = err;),
	    TP_printk("%s portid=%u count=%u err=%d",
		      __entry->broadcast ? "broadcast" : "reply",
		      __entry->portid, __entry->count, __entry->err)
);

#endif /* _NLCHAN_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE nlchan_trace
#include <trace/define_trace.h>
