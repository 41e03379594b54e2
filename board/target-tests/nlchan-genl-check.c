// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-genl-check: named requests to the generic netlink family, each
 * with the one answer the protocol (and the 6.1 generic netlink core in
 * front of the module) must give.
 *
 *   nlchan-genl-check [-p]
 *
 * The family's id comes from nlctrl. The socket asks for extended acks
 * (NETLINK_EXT_ACK), so the errors nlchan itself reports (a payload over
 * NLCHAN_MSG_LEN, another family version) must carry a message. Each case
 * prints "ok NAME" or "FAILED NAME: why" (and the extended-ack message
 * when there is one); the last lines give the module counter increases
 * the cases cause. Exit status 0 when every case passed. Run as root.
 *
 * -p: run as a user without CAP_NET_ADMIN (module loaded without
 * allow_unprivileged): the same requests must then get -EPERM before
 * nlchan looks at them, except those the core refuses before it checks
 * rights on every kernel (a cut-short genlmsghdr, an unknown command or
 * family) and, from 6.0, the header rules (reserved field, flags), which
 * that core checks first. Nothing is counted.
 */
#include <sys/utsname.h>

#include "nltest.h"

#define MAX_ANSWERS	8

/* One answer a case must get back. */
struct expect {
	unsigned int req;	/* for the datagram's request number req (from 0) */
	int err;		/* NLMSG_ERROR with this errno; 0 with !reply: an ACK */
	int reply;		/* a REPLY carrying data/len */
	const void *data;
	uint32_t len;
	int need_msg;		/* the error must carry an extended-ack message */
};

static struct nlt_genl ids;
static int fd;
static uint32_t seq = 1000;
static unsigned long long received, replied, errors;
static unsigned int failures;
static uint8_t buf[8192];
static int unprivileged;	/* -p */
static int core_checks_header;	/* the kernel is 6.0 or later */

/* Starts a request at @p: nlmsghdr and genlmsghdr; returns its length. */
static size_t put_request(uint8_t *p, uint16_t flags, uint8_t cmd,
			  uint8_t version)
{
	struct nlmsghdr h = {
		.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN),
		.nlmsg_type = ids.family,
		.nlmsg_flags = NLM_F_REQUEST | flags,
		.nlmsg_seq = ++seq,
	};
	struct genlmsghdr g = { .cmd = cmd, .version = version };

	memcpy(p, &h, sizeof(h));
	memcpy(p + NLMSG_HDRLEN, &g, sizeof(g));
	return NLMSG_LENGTH(GENL_HDRLEN);
}

/* Appends @len bytes of @data (padded) to the request at @p, of @off bytes. */
static size_t put_bytes(uint8_t *p, size_t off, const void *data, size_t len)
{
	struct nlmsghdr h;

	memcpy(p + off, data, len);
	memset(p + off + len, 0, NLA_ALIGN(len) - len);
	off += NLA_ALIGN(len);
	memcpy(&h, p, sizeof(h));
	h.nlmsg_len = (uint32_t)off;
	memcpy(p, &h, sizeof(h));
	return off;
}

/* Appends an attribute claiming @nla_len bytes and carrying @len of @data. */
static size_t put_attr_raw(uint8_t *p, size_t off, uint16_t type,
			   uint16_t nla_len, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = nla_len, .nla_type = type };

	off = put_bytes(p, off, &a, sizeof(a));
	return len ? put_bytes(p, off, data, len) : off;
}

static size_t put_attr(uint8_t *p, size_t off, uint16_t type,
		       const void *data, size_t len)
{
	return put_attr_raw(p, off, type, (uint16_t)(NLA_HDRLEN + len), data, len);
}

/* The NLMSGERR_ATTR_MSG of an error carrying extended-ack TLVs, or NULL. */
static const char *ext_ack_msg(const struct nlmsghdr *m)
{
	const struct nlmsgerr *e = NLMSG_DATA(m);
	size_t off = NLMSG_LENGTH(sizeof(*e));
	const struct nlattr *a;
	int rest;

	if (!(m->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(m->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	if (off > m->nlmsg_len)
		return NULL;
	nlt_for_each_attr(a, (const uint8_t *)m + off, m->nlmsg_len - off, rest)
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG &&
		    nlt_attr_len(a) > 0 &&
		    ((const char *)nlt_attr_data(a))[nlt_attr_len(a) - 1] == '\0')
			return nlt_attr_data(a);
	return NULL;
}

/* Checks message @m against @x, for request header @req; NULL when right. */
static const char *check_one(const struct nlmsghdr *m, const struct expect *x,
			     const struct nlmsghdr *req, const char **msg)
{
	const struct genlmsghdr *g = NLMSG_DATA(m);
	const struct nlattr *a = (const struct nlattr *)((const uint8_t *)g + GENL_HDRLEN);
	const struct nlmsgerr *e = NLMSG_DATA(m);

	if (m->nlmsg_seq != req->nlmsg_seq)
		return "wrong nlmsg_seq";
	if (x->reply) {
		if (m->nlmsg_type != ids.family || m->nlmsg_pid)
			return "expected a REPLY from the kernel";
		if (m->nlmsg_len != NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + x->len)) ||
		    g->cmd != NLCHAN_CMD_REPLY || g->version != NLCHAN_GENL_VERSION ||
		    a->nla_type != NLCHAN_ATTR_PAYLOAD ||
		    a->nla_len != NLA_HDRLEN + x->len ||
		    memcmp(nlt_attr_data(a), x->data, x->len))
			return "REPLY differs";
		return NULL;
	}
	if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return "expected an NLMSG_ERROR";
	if (memcmp(&e->msg, req, sizeof(*req)))
		return "NLMSG_ERROR does not quote the request";
	*msg = ext_ack_msg(m);
	if (e->error != x->err) {
		static char why[64];

		snprintf(why, sizeof(why), "error %d (%s), want %d", e->error,
			 strerror(-e->error), x->err);
		return why;
	}
	if (x->need_msg && !*msg)
		return "no extended-ack message";
	return NULL;
}

/* The header of request number @i of the datagram at @req. */
static const struct nlmsghdr *request(const uint8_t *req, unsigned int i)
{
	struct nlmsghdr h;
	size_t off = 0;

	while (i--) {
		memcpy(&h, req + off, sizeof(h));
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return (const struct nlmsghdr *)(req + off);
}

/* True when @name is one of the @n names at @names. */
static int named(const char *name, const char *const *names, size_t n)
{
	while (n--)
		if (!strcmp(name, names[n]))
			return 1;
	return 0;
}

/*
 * What a sender without CAP_NET_ADMIN gets for case @name instead of the
 * @n answers @x: written to @out, returns how many.
 */
static size_t unprivileged_answers(const char *name, const struct expect *x,
				   size_t n, struct expect *out)
{
	static const char *const before_rights[] = {
		"genlmsghdr_cut_short_einval", "command_0_eopnotsupp",
		"command_reply_eopnotsupp", "command_broadcast_eopnotsupp",
		"command_200_eopnotsupp", "no_such_family_enoent",
	};
	static const char *const header_rules[] = {
		"genlmsghdr_reserved_not_0_einval",
		"gather_flag_refused_by_strict_flags_einval",
	};
	unsigned int requests = 0;
	size_t i;

	if (named(name, before_rights, sizeof(before_rights) / sizeof(*before_rights)) ||
	    (core_checks_header &&
	     named(name, header_rules, sizeof(header_rules) / sizeof(*header_rules)))) {
		memcpy(out, x, n * sizeof(*x));
		return n;
	}
	for (i = 0; i < n; i++)
		if (x[i].req + 1 > requests)
			requests = x[i].req + 1;
	for (i = 0; i < requests; i++)
		out[i] = (struct expect){ .req = (unsigned int)i, .err = -EPERM };
	return requests;
}

/*
 * Sends the @len bytes at @req (one datagram) and checks that exactly the
 * @n answers @x come back, in order; reports the case @name.
 */
static void run_case(const char *name, const uint8_t *req, size_t len,
		     const struct expect *x, size_t n)
{
	const char *why = NULL, *msg = NULL;
	struct expect mapped[MAX_ANSWERS];
	size_t i = 0;
	ssize_t got;

	if (unprivileged) {
		n = unprivileged_answers(name, x, n, mapped);
		x = mapped;
	}

	nlt_send(fd, req, len);
	while (!why && (got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
		size_t avail;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			break;
		if (got < 0)
			nlt_die("recv");
		for (avail = (size_t)got; !why && NLMSG_OK(m, avail);
		     m = NLMSG_NEXT(m, avail), i++)
			why = i < n ? check_one(m, &x[i], request(req, x[i].req), &msg) :
			      "more answers than expected";
	}
	if (!why && i != n)
		why = "fewer answers than expected";
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	if (why) {
		failures++;
		printf("FAILED %s: %s (request seq %u)\n", name, why,
		       request(req, 0)->nlmsg_seq);
	} else {
		printf("ok %s%s%s%s\n", name, msg ? " (extended ack: \"" : "",
		       msg ? msg : "", msg ? "\")" : "");
	}
}

/* One request, one expected answer. */
static void one(const char *name, const uint8_t *req, size_t len,
		struct expect x)
{
	run_case(name, req, len, &x, 1);
}

/* Counts what reaching nlchan does to its counters. */
static void counted(int err, int replies)
{
	if (unprivileged)
		return;
	received += err ? 1 : replies;
	if (err)
		errors++;
	else
		replied += replies;
}

static const struct expect einval = { .err = -EINVAL };
static const struct expect eopnotsupp = { .err = -EOPNOTSUPP };

static void cases_valid(uint8_t *r)
{
	static uint8_t payload[4000];
	struct expect x[4];
	unsigned int i;
	size_t len;

	memset(payload, 'p', sizeof(payload));

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, payload, NLCHAN_MSG_LEN);
	one("echo_125_bytes", r, len, (struct expect){ .reply = 1,
	    .data = payload, .len = NLCHAN_MSG_LEN });
	counted(0, 1);

	len = put_request(r, 0, NLCHAN_CMD_SEND, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "hello", 5);
	one("send_gets_greeting", r, len, (struct expect){ .reply = 1,
	    .data = NLCHAN_GREETING, .len = strlen(NLCHAN_GREETING) });
	counted(0, 1);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	one("echo_without_payload_attribute", r, len,
	    (struct expect){ .reply = 1, .data = "", .len = 0 });
	counted(0, 1);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "first", 5);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "second", 6);
	one("duplicate_payload_last_wins", r, len,
	    (struct expect){ .reply = 1, .data = "second", .len = 6 });
	counted(0, 1);

	len = put_request(r, NLM_F_ACK, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "ack", 3);
	x[0] = (struct expect){ .reply = 1, .data = "ack", .len = 3 };
	x[1] = (struct expect){ .err = 0 };
	run_case("echo_then_ack", r, len, x, 2);
	counted(0, 1);

	/* Three requests in one datagram: three replies, in order. */
	len = 0;
	for (i = 0; i < 3; i++) {
		size_t start = len;

		len += put_request(r + start, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
		len = start + put_attr(r + start, len - start, NLCHAN_ATTR_PAYLOAD,
				       payload, 10 + i);
		x[i] = (struct expect){ .req = i, .reply = 1, .data = payload,
					.len = 10 + i };
	}
	run_case("batch_of_three_echoes", r, len, x, 3);
	counted(0, 3);
}

static void cases_nlchan_errors(uint8_t *r)
{
	static uint8_t payload[4000];
	size_t len;

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, payload, NLCHAN_MSG_LEN + 1);
	one("payload_126_bytes_emsgsize", r, len,
	    (struct expect){ .err = -EMSGSIZE, .need_msg = 1 });
	counted(-EMSGSIZE, 0);

	len = put_request(r, 0, NLCHAN_CMD_SEND, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, payload, sizeof(payload));
	one("send_4000_bytes_emsgsize", r, len,
	    (struct expect){ .err = -EMSGSIZE, .need_msg = 1 });
	counted(-EMSGSIZE, 0);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, 0);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "v0", 2);
	one("family_version_0_einval", r, len,
	    (struct expect){ .err = -EINVAL, .need_msg = 1 });
	counted(-EINVAL, 0);

	len = put_request(r, 0, NLCHAN_CMD_SEND, NLCHAN_GENL_VERSION + 1);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "v2", 2);
	one("family_version_2_einval", r, len,
	    (struct expect){ .err = -EINVAL, .need_msg = 1 });
	counted(-EINVAL, 0);
}

/* Refused by the generic netlink core: nlchan never sees (or counts) them. */
static void cases_core_errors(uint8_t *r)
{
	struct nlmsghdr h;
	size_t len;

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr_raw(r, len, NLCHAN_ATTR_PAYLOAD, 3, "abcd", 4);
	one("nla_len_below_4_einval", r, len, einval);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr_raw(r, len, NLCHAN_ATTR_PAYLOAD, NLA_HDRLEN + 200,
			   "0123456789", 10);
	one("nla_len_past_the_end_einval", r, len, einval);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_UNSPEC, "zero", 4);
	one("attribute_type_0_einval", r, len, einval);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_MAX + 1, "unknown", 7);
	one("attribute_type_unknown_einval", r, len, einval);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD | NLA_F_NESTED, "nest", 4);
	one("payload_flagged_nested_einval", r, len, einval);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "abc", 3);
	len = put_bytes(r, len, "\x01\x02", 2);
	memcpy(&h, r, sizeof(h));
	h.nlmsg_len -= 2;	/* 2 bytes after the attribute, not 4 */
	memcpy(r, &h, sizeof(h));
	one("bytes_after_the_attributes_einval", r, h.nlmsg_len, einval);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	memcpy(&h, r, sizeof(h));
	h.nlmsg_len = NLMSG_HDRLEN + 2;
	memcpy(r, &h, sizeof(h));
	one("genlmsghdr_cut_short_einval", r, h.nlmsg_len, einval);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	r[NLMSG_HDRLEN + 2] = 1;	/* genlmsghdr.reserved */
	one("genlmsghdr_reserved_not_0_einval", r, len, einval);

	len = put_request(r, NLCHAN_F_GATHER, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	len = put_attr(r, len, NLCHAN_ATTR_PAYLOAD, "gather", 6);
	one("gather_flag_refused_by_strict_flags_einval", r, len, einval);

	len = put_request(r, 0, NLCHAN_CMD_UNSPEC, NLCHAN_GENL_VERSION);
	one("command_0_eopnotsupp", r, len, eopnotsupp);
	len = put_request(r, 0, NLCHAN_CMD_REPLY, NLCHAN_GENL_VERSION);
	one("command_reply_eopnotsupp", r, len, eopnotsupp);
	len = put_request(r, 0, NLCHAN_CMD_BROADCAST, NLCHAN_GENL_VERSION);
	one("command_broadcast_eopnotsupp", r, len, eopnotsupp);
	len = put_request(r, 0, 200, NLCHAN_GENL_VERSION);
	one("command_200_eopnotsupp", r, len, eopnotsupp);

	len = put_request(r, NLM_F_DUMP, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	one("dump_request_eopnotsupp", r, len, eopnotsupp);

	len = put_request(r, 0, NLCHAN_CMD_ECHO, NLCHAN_GENL_VERSION);
	memcpy(&h, r, sizeof(h));
	h.nlmsg_type = 0xfff0;	/* above GENL_MAX_ID */
	memcpy(r, &h, sizeof(h));
	one("no_such_family_enoent", r, len, (struct expect){ .err = -ENOENT });
}

int main(int argc, char **argv)
{
	static uint8_t req[8192];
	struct utsname u;
	int on = 1;

	nlt_prog = "nlchan-genl-check";
	if (argc == 2 && !strcmp(argv[1], "-p"))
		unprivileged = 1;
	else if (argc != 1)
		nlt_die("usage: nlchan-genl-check [-p]");
	if (uname(&u) < 0)
		nlt_die("uname");
	core_checks_header = atoi(u.release) >= 6;
	nlt_genl_ids(&ids);
	printf("nlchan-genl-check: family %s id 0x%x, group %s id %u\n",
	       NLCHAN_GENL_NAME, ids.family, NLCHAN_GENL_MCGRP, ids.group);
	/* Forcing the buffer size takes CAP_NET_ADMIN; one case at a time fits. */
	fd = nlt_open(NETLINK_GENERIC, unprivileged ? 0 : 1 << 20);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on)) < 0)
		nlt_die("NETLINK_EXT_ACK");

	cases_valid(req);
	cases_nlchan_errors(req);
	cases_core_errors(req);

	printf("nlchan-genl-check: expect received=%llu replied=%llu errors=%llu\n",
	       received, replied, errors);
	printf("nlchan-genl-check: %u failed, drops=%u\n", failures, nlt_drops(fd));
	close(fd);
	return failures ? 1 : 0;
}
