// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "nlchan" of the request parsing and validation
 * (nlchan_parse.c, compiled into this test module): how a classic-unit
 * datagram splits into messages, what each asks for (seed-style messages
 * included), which errno a request's length and operation give, and the
 * generic netlink rules (reserved field, flags, attributes).
 *
 * Built as nlchan-kunit.ko where the kernel has CONFIG_KUNIT; loading it
 * runs the suite, whose KTAP is in the kernel log and, with
 * CONFIG_KUNIT_DEBUGFS, in /sys/kernel/debug/kunit/nlchan/results.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "nlchan_parse.c"

/*
 * The operation, compared as an int: 5.10's KUNIT_EXPECT_EQ() wants both
 * sides of one type, and an enum's constants are ints.
 */
#define EXPECT_OP(test, req, want) \
	KUNIT_EXPECT_EQ(test, (int)(req).op, (int)(want))

/* A datagram being built: messages and attributes appended in turn. */
struct nlchan_buf {
	u8 data[512] __aligned(NLMSG_ALIGNTO);
	unsigned int len;
};

/* Appends a message of @payload_len bytes at @payload; returns its header. */
static struct nlmsghdr *put_msg(struct nlchan_buf *b, u16 type, u16 flags,
				const void *payload, unsigned int payload_len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(b->data + b->len);

	memset(nlh, 0, NLMSG_SPACE(payload_len));
	nlh->nlmsg_len = NLMSG_LENGTH(payload_len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	memcpy(nlmsg_data(nlh), payload, payload_len);
	b->len += NLMSG_SPACE(payload_len);
	return nlh;
}

/* Starts a generic netlink request of version 1 and command @cmd. */
static struct nlmsghdr *put_genl(struct nlchan_buf *b, u16 flags, u8 cmd)
{
	struct genlmsghdr hdr = { .cmd = cmd, .version = NLCHAN_GENL_VERSION };

	return put_msg(b, GENL_MIN_ID, NLM_F_REQUEST | flags, &hdr,
		       sizeof(hdr));
}

/*
 * Appends an attribute claiming @nla_len bytes and carrying @len bytes of
 * @data, padded, to @nlh, the datagram's only message.
 */
static void put_attr(struct nlchan_buf *b, struct nlmsghdr *nlh, u16 type,
		     u16 nla_len, const void *data, unsigned int len)
{
	struct nlattr *nla = (struct nlattr *)(b->data + b->len);

	memset(nla, 0, NLA_ALIGN(NLA_HDRLEN + len));
	nla->nla_type = type;
	nla->nla_len = nla_len;
	memcpy(nla + 1, data, len);
	b->len += NLA_ALIGN(NLA_HDRLEN + len);
	nlh->nlmsg_len = b->len;
}

static void put_payload(struct nlchan_buf *b, struct nlmsghdr *nlh,
			const void *data, unsigned int len)
{
	put_attr(b, nlh, NLCHAN_ATTR_PAYLOAD, NLA_HDRLEN + len, data, len);
}

static void nlchan_test_step(struct kunit *test)
{
	struct nlchan_buf b = { };
	struct nlmsghdr *nlh = put_msg(&b, NLCHAN_MSG_ECHO, NLM_F_REQUEST,
				       "x", 1);

	/* 17 bytes, padded to 20. */
	KUNIT_EXPECT_EQ(test, nlchan_unit_step(nlh, 40), 20U);
	/* The last message's padding may be left out. */
	KUNIT_EXPECT_EQ(test, nlchan_unit_step(nlh, 18), 18U);
	KUNIT_EXPECT_EQ(test, nlchan_unit_step(nlh, 17), 17U);
	/* nlmsg_len past the datagram, or below the header: the walk ends. */
	KUNIT_EXPECT_EQ(test, nlchan_unit_step(nlh, 16), 0U);
	nlh->nlmsg_len = NLMSG_HDRLEN - 1;
	KUNIT_EXPECT_EQ(test, nlchan_unit_step(nlh, 40), 0U);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	KUNIT_EXPECT_EQ(test, nlchan_unit_step(nlh, 40), (unsigned int)NLMSG_HDRLEN);
	/* Fewer bytes than a header: nothing is read, the walk ends. */
	KUNIT_EXPECT_EQ(test, nlchan_unit_step(nlh, NLMSG_HDRLEN - 1), 0U);
}

static void nlchan_test_parse(struct kunit *test)
{
	struct nlchan_request req = { };
	struct nlchan_buf b = { };
	struct nlmsghdr *nlh;

	nlh = put_msg(&b, NLCHAN_MSG_SEND, NLM_F_REQUEST, "hello", 5);
	KUNIT_EXPECT_TRUE(test, nlchan_unit_parse(nlh, &req));
	EXPECT_OP(test, req, NLCHAN_OP_SEND);
	KUNIT_EXPECT_EQ(test, req.len, 5U);

	nlh = put_msg(&b, NLCHAN_MSG_ECHO, NLM_F_REQUEST | NLM_F_ACK, "ab", 2);
	KUNIT_EXPECT_TRUE(test, nlchan_unit_parse(nlh, &req));
	EXPECT_OP(test, req, NLCHAN_OP_ECHO);
	KUNIT_EXPECT_EQ(test, req.len, 2U);
	KUNIT_EXPECT_PTR_EQ(test, req.data, (const void *)nlmsg_data(nlh));

	nlh = put_msg(&b, 0x20, NLM_F_REQUEST, "", 0);
	KUNIT_EXPECT_TRUE(test, nlchan_unit_parse(nlh, &req));
	EXPECT_OP(test, req, NLCHAN_OP_UNKNOWN);

	/* Not requests: no NLM_F_REQUEST, or a type below NLMSG_MIN_TYPE. */
	nlh = put_msg(&b, NLCHAN_MSG_SEND, 0, "x", 1);
	KUNIT_EXPECT_FALSE(test, nlchan_unit_parse(nlh, &req));
	nlh = put_msg(&b, NLMSG_ERROR, NLM_F_REQUEST, "x", 1);
	KUNIT_EXPECT_FALSE(test, nlchan_unit_parse(nlh, &req));
	nlh = put_msg(&b, NLCHAN_MSG_SEED, NLM_F_REQUEST, "x", 1);
	KUNIT_EXPECT_FALSE(test, nlchan_unit_parse(nlh, &req));
}

/* The seed's client: type 0, flags 0, a string padded past its NUL. */
static void nlchan_test_parse_seed(struct kunit *test)
{
	static const char padded[20] = "hello netlink!!\0ato";
	struct nlchan_request req = { };
	struct nlchan_buf b = { };
	struct nlmsghdr *nlh;

	nlh = put_msg(&b, NLCHAN_MSG_SEED, 0, padded, sizeof(padded));
	KUNIT_EXPECT_TRUE(test, nlchan_unit_parse(nlh, &req));
	EXPECT_OP(test, req, NLCHAN_OP_SEND);
	KUNIT_EXPECT_EQ(test, req.len, 15U);

	/* No NUL: the whole payload, and not a byte past it. */
	nlh = put_msg(&b, NLCHAN_MSG_SEED, 0, "abc", 3);
	KUNIT_EXPECT_TRUE(test, nlchan_unit_parse(nlh, &req));
	KUNIT_EXPECT_EQ(test, req.len, 3U);

	nlh = put_msg(&b, NLCHAN_MSG_SEED, 0, "", 0);
	KUNIT_EXPECT_TRUE(test, nlchan_unit_parse(nlh, &req));
	KUNIT_EXPECT_EQ(test, req.len, 0U);
}

static void nlchan_test_validate(struct kunit *test)
{
	struct nlchan_request req = { .op = NLCHAN_OP_ECHO };

	req.len = NLCHAN_MSG_LEN;
	KUNIT_EXPECT_EQ(test, nlchan_request_validate(&req), 0);
	req.len = 0;
	KUNIT_EXPECT_EQ(test, nlchan_request_validate(&req), 0);
	req.len = NLCHAN_MSG_LEN + 1;
	KUNIT_EXPECT_EQ(test, nlchan_request_validate(&req), -EMSGSIZE);
	req.op = NLCHAN_OP_UNKNOWN;
	KUNIT_EXPECT_EQ(test, nlchan_request_validate(&req), -EMSGSIZE);
	req.len = 10;
	KUNIT_EXPECT_EQ(test, nlchan_request_validate(&req), -EOPNOTSUPP);
	req.op = NLCHAN_OP_INVALID;
	req.len = NLCHAN_MSG_LEN + 1;
	KUNIT_EXPECT_EQ(test, nlchan_request_validate(&req), -EINVAL);
}

/* @nlh must pass, or (@want_why set) fail with that reason. */
static void expect_genl(struct kunit *test, const struct nlmsghdr *nlh,
			const char *want_why)
{
	const char *why = NULL;
	int err = nlchan_genl_validate(nlh, &why);

	if (!want_why) {
		KUNIT_EXPECT_EQ(test, err, 0);
		return;
	}
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	KUNIT_EXPECT_STREQ(test, why ? why : "(none)", want_why);
}

static void nlchan_test_genl_header(struct kunit *test)
{
	struct nlchan_buf b = { };
	struct nlmsghdr *nlh;
	struct genlmsghdr *hdr;

	nlh = put_genl(&b, 0, NLCHAN_CMD_ECHO);
	expect_genl(test, nlh, NULL);
	nlh->nlmsg_flags |= NLM_F_ACK | NLM_F_ECHO;
	expect_genl(test, nlh, NULL);
	nlh->nlmsg_flags |= NLCHAN_F_GATHER;	/* NLM_F_ROOT's bit */
	expect_genl(test, nlh, "ambiguous or reserved bits set in nlmsg_flags");
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ATOMIC;
	expect_genl(test, nlh, "ambiguous or reserved bits set in nlmsg_flags");
	/* A dump (both bits) is checked as the core does: it passes. */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	expect_genl(test, nlh, NULL);

	nlh->nlmsg_flags = NLM_F_REQUEST;
	hdr = nlmsg_data(nlh);
	hdr->reserved = 1;
	expect_genl(test, nlh, "genlmsghdr.reserved field is not 0");
}

/*
 * A request whose one attribute, of @type, carries 4 bytes and claims
 * NLA_HDRLEN + 4 + @claim_more bytes: refused with @want_why.
 */
static void expect_one_attr(struct kunit *test, u16 type, int claim_more,
			    const char *want_why)
{
	struct nlchan_buf b = { };
	struct nlmsghdr *nlh = put_genl(&b, 0, NLCHAN_CMD_ECHO);

	put_attr(&b, nlh, type, NLA_HDRLEN + 4 + claim_more, "abcd", 4);
	expect_genl(test, nlh, want_why);
}

static void nlchan_test_genl_attrs(struct kunit *test)
{
	static const char payload[NLCHAN_MSG_LEN] = "p";
	struct nlchan_buf b = { };
	struct nlmsghdr *nlh;

	b.len = 0;
	nlh = put_genl(&b, 0, NLCHAN_CMD_ECHO);
	put_payload(&b, nlh, payload, sizeof(payload));
	expect_genl(test, nlh, NULL);

	/* The last attribute's padding left out; two payloads (last wins). */
	b.len = 0;
	nlh = put_genl(&b, 0, NLCHAN_CMD_SEND);
	put_payload(&b, nlh, "first", 5);
	put_payload(&b, nlh, "abc", 3);
	nlh->nlmsg_len -= 1;
	expect_genl(test, nlh, NULL);

	expect_one_attr(test, NLCHAN_ATTR_PAYLOAD | NLA_F_NESTED, 0,
			"NLA_F_NESTED set on a non-nested attribute");
	expect_one_attr(test, NLCHAN_ATTR_UNSPEC, 0, "unknown attribute type");
	expect_one_attr(test, NLCHAN_ATTR_MAX + 1, 0, "unknown attribute type");

	/* nla_len below the header, or past the end: bytes left over. */
	expect_one_attr(test, NLCHAN_ATTR_PAYLOAD, -(NLA_HDRLEN + 1),
			"bytes leftover after parsing attributes");
	expect_one_attr(test, NLCHAN_ATTR_PAYLOAD, 200,
			"bytes leftover after parsing attributes");

	/* Two stray bytes after the last attribute. */
	b.len = 0;
	nlh = put_genl(&b, 0, NLCHAN_CMD_ECHO);
	put_payload(&b, nlh, "abcd", 4);
	nlh->nlmsg_len += 2;
	expect_genl(test, nlh, "bytes leftover after parsing attributes");
}

static struct kunit_case nlchan_test_cases[] = {
	KUNIT_CASE(nlchan_test_step),
	KUNIT_CASE(nlchan_test_parse),
	KUNIT_CASE(nlchan_test_parse_seed),
	KUNIT_CASE(nlchan_test_validate),
	KUNIT_CASE(nlchan_test_genl_header),
	KUNIT_CASE(nlchan_test_genl_attrs),
	{ }
};

static struct kunit_suite nlchan_test_suite = {
	.name = "nlchan",
	.test_cases = nlchan_test_cases,
};

kunit_test_suite(nlchan_test_suite);

MODULE_DESCRIPTION("KUnit suite of nlchan's request parsing");
MODULE_LICENSE("GPL");
