// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-fuzz: sends datagrams of random shape to the nlchan module and
 * checks every answer against a model of the documented protocol.
 *
 *   nlchan-fuzz [-u UNIT] [-n DATAGRAMS] [-s SEED] [-v]
 *   nlchan-fuzz -g [-n DATAGRAMS] [-s SEED] [-v]
 *
 * -v shows the whole datagram of a mismatch, not only its first 64 bytes.
 *
 * Classic unit (protocol v1), the default: empty datagrams, headers
 * shorter than NLMSG_HDRLEN, random bytes, nlmsg_len larger than the
 * datagram, smaller than a header (0 included), seed-style type-0 messages
 * with and without a NUL (alone or among others), and batches of many
 * messages (unaligned lengths, payloads up to 4000 bytes, unknown and
 * control types, random flags) with a garbage tail.
 *
 * Generic netlink (protocol v2), with -g: the family's id and group are
 * looked up through nlctrl. Batches of requests to the family (and to no
 * family) with random flags, genlmsghdr commands, versions and reserved
 * bytes, headers cut short, and attribute streams with unknown, zero and
 * nested-flagged types, nla_len below 4 or past the end, duplicate
 * payloads, payloads up to 4000 bytes and trailing bytes.
 *
 * Datagrams are 0 to 4096 bytes. The module answers in the sender's
 * context, so every answer to a datagram is queued when sendto() returns:
 * the fuzzer then reads them all (without waiting) and compares them, one
 * by one and byte by byte, with what the model says the kernel must send.
 * Classic unit: netlink_rcv_skb() rules plus the module's (REPLY for
 * SEND/ECHO/seed, NLMSG_ERROR -EMSGSIZE for a payload over NLCHAN_MSG_LEN,
 * -EOPNOTSUPP for an unknown type, an ACK when NLM_F_ACK is set). Generic
 * netlink: the same walk by genl_rcv(), the 6.1 core's checks (-ENOENT
 * for no such family, -EINVAL for a short or reserved-bits header and
 * for attributes that strict validation refuses, -EOPNOTSUPP for an
 * unknown command or a dump), then the module's (-EINVAL for another
 * family version, -EMSGSIZE, a REPLY command with the payload attribute).
 * It must run as root (CAP_NET_ADMIN).
 *
 * Datagram boundaries are checked too: only replies to requests flagged
 * NLCHAN_F_GATHER may share a datagram (never an ACK or error), and such a
 * datagram is at most NLCHAN_GATHER_MAX bytes; generic netlink replies
 * always come one per datagram.
 *
 * Output: the seed, the counts sent, the answers by type and errno, the
 * datagrams of gathered replies, the module counter increases the model
 * predicts, and the mismatches. Exit status 0 when every answer matched,
 * nothing was dropped and (classic unit) some replies were gathered.
 */
#include "nltest.h"

#define MAX_DATAGRAM	4096
#define MAX_ANSWERS	(2 * MAX_DATAGRAM / NLMSG_HDRLEN)
#define MAX_REPORTED	10

/* One answer the model expects. */
struct answer {
	int error;		/* NLMSG_ERROR with this errno (0: ACK) */
	int reply;		/* else a REPLY */
	int gather;		/* REPLY to a request flagged NLCHAN_F_GATHER */
	uint32_t seq;
	const uint8_t *data;	/* REPLY payload, or the request (error) */
	uint32_t len;		/* REPLY payload length */
};

/* What the model predicts for the module's counters. */
struct counters {
	unsigned long long received, replied, errors;
};

/* Answers seen, by kind; datagrams of gathered replies. */
struct tally {
	unsigned long long replies, acks, emsgsize, eopnotsupp, einval,
			   eperm, enoent, other, gathered;
};

static uint64_t rng;
static uint32_t port;
/* Generic netlink mode (-g), and the ids nlctrl gave. */
static int genl;
static struct nlt_genl ids;

static void expect_reply(struct answer *a, const struct nlmsghdr *req,
			 const void *data, uint32_t len)
{
	*a = (struct answer){ .reply = 1, .seq = req->nlmsg_seq, .data = data,
			      .len = len,
			      .gather = !!(req->nlmsg_flags & NLCHAN_F_GATHER) };
}

static void expect_error(struct answer *a, const uint8_t *req, int err)
{
	struct nlmsghdr h;

	memcpy(&h, req, sizeof(h));
	*a = (struct answer){ .error = err, .seq = h.nlmsg_seq, .data = req };
}

/*
 * The module's handling of one request it is given; returns the errno to
 * report, after adding a REPLY to @a (at *@n) when there is one.
 */
static int model_request(const uint8_t *msg, uint32_t plen, uint16_t type,
			 struct answer *a, size_t *n, struct counters *c)
{
	struct nlmsghdr h;

	memcpy(&h, msg, sizeof(h));
	c->received++;
	if (plen > NLCHAN_MSG_LEN) {
		c->errors++;
		return -EMSGSIZE;
	}
	if (type == NLCHAN_MSG_SEND) {
		expect_reply(&a[(*n)++], &h, NLCHAN_GREETING,
			     strlen(NLCHAN_GREETING));
	} else if (type == NLCHAN_MSG_ECHO) {
		expect_reply(&a[(*n)++], &h, msg + NLMSG_HDRLEN, plen);
	} else {
		c->errors++;
		return -EOPNOTSUPP;
	}
	c->replied++;
	return 0;
}

/* A seed-style message (the seed's C client): type 0, flags 0. */
static int is_seed(const struct nlmsghdr *h)
{
	return h->nlmsg_type == NLCHAN_MSG_SEED && !h->nlmsg_flags;
}

/*
 * What the kernel must answer to datagram @dg on the classic unit:
 * netlink_rcv_skb()'s walk, in which seed-style messages are requests too
 * (a SEND whose payload ends at its first NUL byte).
 */
static size_t model(const uint8_t *dg, size_t len, struct answer *a,
		    struct counters *c)
{
	struct nlmsghdr h;
	size_t n = 0, off = 0;
	int err;

	while (len - off >= NLMSG_HDRLEN) {
		size_t rest = len - off, step;

		memcpy(&h, dg + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > rest)
			break;
		err = 0;
		if (is_seed(&h))
			err = model_request(dg + off,
					    strnlen((const char *)dg + off + NLMSG_HDRLEN,
						    h.nlmsg_len - NLMSG_HDRLEN),
					    NLCHAN_MSG_SEND, a, &n, c);
		else if ((h.nlmsg_flags & NLM_F_REQUEST) &&
			 h.nlmsg_type >= NLMSG_MIN_TYPE)
			err = model_request(dg + off, h.nlmsg_len - NLMSG_HDRLEN,
					    h.nlmsg_type, a, &n, c);
		if ((h.nlmsg_flags & NLM_F_ACK) || err)
			expect_error(&a[n++], dg + off, err);
		step = NLMSG_ALIGN(h.nlmsg_len);
		off += step < rest ? step : rest;
	}
	return n;
}

/*
 * The strict attribute validation of the 6.1 core for the family's policy
 * (one attribute, NLCHAN_ATTR_PAYLOAD, NLA_BINARY without a length):
 * returns 0 and the last payload attribute's data in @data, @plen (none:
 * 0 bytes), or -EINVAL.
 */
static int genl_model_attrs(const uint8_t *attrs, int len,
			    const uint8_t **data, uint32_t *plen)
{
	const struct nlattr *nla;
	int rest;

	*data = NULL;
	*plen = 0;
	nlt_for_each_attr(nla, attrs, len, rest) {
		uint16_t type = nla->nla_type & NLA_TYPE_MASK;

		if (type == NLCHAN_ATTR_UNSPEC || type > NLCHAN_ATTR_MAX)
			return -EINVAL;		/* NL_VALIDATE_MAXTYPE */
		if (nla->nla_type & NLA_F_NESTED)
			return -EINVAL;		/* NL_VALIDATE_NESTED */
		*data = nlt_attr_data(nla);
		*plen = nlt_attr_len(nla);
	}
	return rest > 0 ? -EINVAL : 0;		/* NL_VALIDATE_TRAILING */
}

/*
 * What generic netlink answers to one request @msg (nlmsg_len checked by
 * the walk) for the family: the core's checks, then the module's. Returns
 * the errno; a REPLY is added to @a (at *@n) when there is one.
 */
static int genl_model_request(const uint8_t *msg, struct answer *a, size_t *n,
			      struct counters *c)
{
	struct genlmsghdr g;
	struct nlmsghdr h;
	const uint8_t *data;
	uint32_t plen;
	uint16_t flags;
	int err;

	memcpy(&h, msg, sizeof(h));
	if (h.nlmsg_type != ids.family)
		return -ENOENT;
	if (h.nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return -EINVAL;
	memcpy(&g, msg + NLMSG_HDRLEN, sizeof(g));
	/* resv_start_op 0: every command's header is checked. */
	flags = h.nlmsg_flags;
	if ((flags & NLM_F_DUMP) == NLM_F_DUMP)
		flags &= ~NLM_F_DUMP;
	if (g.reserved || (flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO)))
		return -EINVAL;
	if (g.cmd != NLCHAN_CMD_SEND && g.cmd != NLCHAN_CMD_ECHO)
		return -EOPNOTSUPP;
	err = genl_model_attrs(msg + NLMSG_LENGTH(GENL_HDRLEN),
			       (int)(h.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)),
			       &data, &plen);
	if (err)
		return err;
	/* A dump is refused by its start, after the attributes' check. */
	if ((h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
		return -EOPNOTSUPP;
	/* The request reaches nlchan: counted from here. */
	c->received++;
	if (g.version != NLCHAN_GENL_VERSION) {
		c->errors++;
		return -EINVAL;
	}
	if (plen > NLCHAN_MSG_LEN) {
		c->errors++;
		return -EMSGSIZE;
	}
	if (g.cmd == NLCHAN_CMD_SEND)
		expect_reply(&a[(*n)++], &h, NLCHAN_GREETING,
			     strlen(NLCHAN_GREETING));
	else
		expect_reply(&a[(*n)++], &h, data, plen);
	a[*n - 1].gather = 0;
	c->replied++;
	return 0;
}

/* What generic netlink answers to datagram @dg: genl_rcv()'s walk. */
static size_t genl_model(const uint8_t *dg, size_t len, struct answer *a,
			 struct counters *c)
{
	struct nlmsghdr h;
	size_t n = 0, off = 0;
	int err;

	while (len - off >= NLMSG_HDRLEN) {
		size_t rest = len - off, step;

		memcpy(&h, dg + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > rest)
			break;
		err = 0;
		if ((h.nlmsg_flags & NLM_F_REQUEST) &&
		    h.nlmsg_type >= NLMSG_MIN_TYPE)
			err = genl_model_request(dg + off, a, &n, c);
		if ((h.nlmsg_flags & NLM_F_ACK) || err)
			expect_error(&a[n++], dg + off, err);
		step = NLMSG_ALIGN(h.nlmsg_len);
		off += step < rest ? step : rest;
	}
	return n;
}

/* Writes a header at @p. */
static void put_header(uint8_t *p, uint32_t nlmsg_len, uint16_t type,
		       uint16_t flags)
{
	struct nlmsghdr h = {
		.nlmsg_len = nlmsg_len,
		.nlmsg_type = type,
		.nlmsg_flags = flags,
		.nlmsg_seq = (uint32_t)nlt_rand(&rng),
		.nlmsg_pid = nlt_chance(&rng, 90) ? 0 : (uint32_t)nlt_rand(&rng),
	};

	memcpy(p, &h, sizeof(h));
}

static uint16_t random_type(void)
{
	uint32_t r = nlt_range(&rng, 0, 99);

	if (r < 45)
		return NLCHAN_MSG_ECHO;
	if (r < 46)
		return NLCHAN_MSG_SEND;
	if (r < 50)
		return nlt_chance(&rng, 50) ? NLCHAN_MSG_REPLY : NLCHAN_MSG_BROADCAST;
	if (r < 70)
		return (uint16_t)nlt_range(&rng, 0, NLMSG_MIN_TYPE - 1);
	return (uint16_t)nlt_range(&rng, NLCHAN_MSG_BROADCAST + 1, 0xffff);
}

static uint16_t random_flags(void)
{
	uint16_t f = (uint16_t)nlt_rand(&rng);

	if (nlt_chance(&rng, 70))
		f = NLM_F_REQUEST | (nlt_chance(&rng, 30) ? NLM_F_ACK : 0) |
		    (nlt_chance(&rng, 50) ? NLCHAN_F_GATHER : 0) |
		    (nlt_chance(&rng, 10) ? (f & ~0x7) : 0);
	return f;
}

static uint32_t random_payload_len(uint32_t room)
{
	uint32_t r = nlt_range(&rng, 0, 99), len;

	/* Mostly short, as the answers quote the requests: under emulation
	 * with KASAN, time goes with the bytes moved.
	 */
	if (r < 60)
		len = nlt_range(&rng, 0, NLCHAN_MSG_LEN);
	else if (r < 85)
		len = nlt_range(&rng, NLCHAN_MSG_LEN + 1, 300);
	else if (r < 90)
		len = nlt_range(&rng, 301, 4000);
	else
		len = nlt_range(&rng, 0, 3);
	return len < room ? len : room;
}

/* A seed-style message: type 0, flags 0, payload with or without a NUL. */
static size_t make_seed(uint8_t *p, size_t room)
{
	uint32_t plen = nlt_range(&rng, 0, nlt_chance(&rng, 50) ? 200 : 4000);
	uint32_t i;

	if (plen > room - NLMSG_HDRLEN)
		plen = room - NLMSG_HDRLEN;
	put_header(p, NLMSG_LENGTH(plen), NLCHAN_MSG_SEED, 0);
	for (i = 0; i < plen; i++)
		p[NLMSG_HDRLEN + i] = (uint8_t)nlt_range(&rng, 1, 255);
	if (plen && nlt_chance(&rng, 50))
		p[NLMSG_HDRLEN + nlt_range(&rng, 0, plen - 1)] = 0;
	return NLMSG_HDRLEN + plen;
}

/* A classic-unit message in the @room bytes at @p; returns its length. */
static size_t make_unit_msg(uint8_t *p, size_t room)
{
	uint32_t plen;

	if (nlt_chance(&rng, 8))
		return make_seed(p, room);
	plen = random_payload_len(room - NLMSG_HDRLEN);
	put_header(p, NLMSG_LENGTH(plen), random_type(), random_flags());
	nlt_fill(&rng, p + NLMSG_HDRLEN, plen);
	return NLMSG_HDRLEN + plen;
}

/* nlmsg_type of a generic netlink request: mostly the family's. */
static uint16_t random_genl_type(void)
{
	uint32_t r = nlt_range(&rng, 0, 99);

	if (r < 90)
		return ids.family;
	if (r < 95)	/* above GENL_MAX_ID: no family has it */
		return (uint16_t)nlt_range(&rng, 1024, 0xffff);
	return (uint16_t)nlt_range(&rng, 0, NLMSG_MIN_TYPE - 1);
}

static uint16_t random_genl_flags(void)
{
	uint32_t r = nlt_range(&rng, 0, 99);
	uint16_t f = NLM_F_REQUEST | (nlt_chance(&rng, 30) ? NLM_F_ACK : 0);

	if (r < 80)
		return f | (nlt_chance(&rng, 10) ? NLM_F_ECHO : 0);
	if (r < 85)
		return f | NLM_F_DUMP;
	if (r < 90)
		return f | NLCHAN_F_GATHER;
	if (r < 95)
		return (uint16_t)nlt_rand(&rng);
	return f & ~NLM_F_REQUEST;
}

static uint8_t random_genl_cmd(void)
{
	uint32_t r = nlt_range(&rng, 0, 99);

	if (r < 55)
		return NLCHAN_CMD_ECHO;
	if (r < 65)
		return NLCHAN_CMD_SEND;
	if (r < 75)
		return nlt_chance(&rng, 50) ? NLCHAN_CMD_REPLY : NLCHAN_CMD_BROADCAST;
	if (r < 80)
		return NLCHAN_CMD_UNSPEC;
	return (uint8_t)nlt_rand(&rng);
}

static uint16_t random_attr_type(void)
{
	uint32_t r = nlt_range(&rng, 0, 99);

	if (r < 85)
		return NLCHAN_ATTR_PAYLOAD;
	if (r < 90)
		return NLCHAN_ATTR_UNSPEC;
	if (r < 95)
		return (uint16_t)nlt_range(&rng, NLCHAN_ATTR_MAX + 1, 0xffff);
	if (r < 98)
		return NLCHAN_ATTR_PAYLOAD | NLA_F_NESTED;
	return NLCHAN_ATTR_PAYLOAD | NLA_F_NET_BYTEORDER;
}

/*
 * Attributes in the @room bytes at @p: mostly one payload, sometimes
 * none, several, broken lengths or trailing bytes. Returns their length.
 */
static size_t make_attrs(uint8_t *p, size_t room)
{
	uint32_t r = nlt_range(&rng, 0, 99);
	unsigned int count = r < 10 ? 0 : r < 80 ? 1 : r < 95 ? 2 : 3, i;
	size_t off = 0;

	for (i = 0; i < count && room - off >= NLA_HDRLEN; i++) {
		uint32_t plen = random_payload_len(room - off - NLA_HDRLEN);
		struct nlattr nla = {
			.nla_len = (uint16_t)(NLA_HDRLEN + plen),
			.nla_type = random_attr_type(),
		};

		if (nlt_chance(&rng, 4))
			nla.nla_len = (uint16_t)nlt_range(&rng, 0, NLA_HDRLEN - 1);
		else if (nlt_chance(&rng, 4))
			nla.nla_len += (uint16_t)nlt_range(&rng, 1, 500);
		memcpy(p + off, &nla, sizeof(nla));
		nlt_fill(&rng, p + off + NLA_HDRLEN, plen);
		off += NLA_HDRLEN + plen;
		if (i + 1 < count || nlt_chance(&rng, 50)) {
			size_t pad = NLA_ALIGN(off) - off;

			if (pad > room - off)
				break;
			memset(p + off, 0, pad);
			off += pad;
		}
	}
	if (nlt_chance(&rng, 4) && off < room) {
		size_t tail = nlt_range(&rng, 1, 8);

		if (tail > room - off)
			tail = room - off;
		nlt_fill(&rng, p + off, tail);
		off += tail;
	}
	return off;
}

/* A generic netlink message in the @room bytes at @p; returns its length. */
static size_t make_genl_msg(uint8_t *p, size_t room)
{
	struct genlmsghdr g = {
		.cmd = random_genl_cmd(),
		.version = nlt_chance(&rng, 90) ? NLCHAN_GENL_VERSION :
			   (uint8_t)nlt_rand(&rng),
		.reserved = nlt_chance(&rng, 95) ? 0 : (uint16_t)nlt_rand(&rng),
	};
	size_t len = NLMSG_HDRLEN;

	if (room - len >= GENL_HDRLEN) {
		memcpy(p + len, &g, sizeof(g));
		len += GENL_HDRLEN;
		len += make_attrs(p + len, room - len);
	}
	/*
	 * A genlmsghdr cut short: the message ends there, so that the walk
	 * never reads its rest as the header of another message (whose type
	 * could be any family's).
	 */
	if (nlt_chance(&rng, 3))
		len = nlt_range(&rng, NLMSG_HDRLEN, NLMSG_LENGTH(GENL_HDRLEN) - 1);
	put_header(p, (uint32_t)len, random_genl_type(), random_genl_flags());
	return len;
}

/*
 * A batch of messages made by @make_msg, maybe a broken last header, maybe
 * a garbage tail.
 */
static size_t make_batch(uint8_t *dg, size_t (*make_msg)(uint8_t *, size_t))
{
	unsigned int count = nlt_range(&rng, 1, 8), i;
	size_t off = 0;

	for (i = 0; i < count && MAX_DATAGRAM - off >= NLMSG_HDRLEN; i++) {
		off += make_msg(dg + off, MAX_DATAGRAM - off);
		if (i + 1 < count) {
			size_t pad = NLMSG_ALIGN(off) - off;

			if (off + pad > MAX_DATAGRAM)
				break;
			memset(dg + off, 0, pad);
			off += pad;
		}
	}
	if (off >= NLMSG_HDRLEN && nlt_chance(&rng, 5)) {
		/* Break the last header's length. */
		struct nlmsghdr h;
		size_t last = off - NLMSG_HDRLEN;

		memcpy(&h, dg + last, sizeof(h));
		h.nlmsg_len = nlt_chance(&rng, 50) ? nlt_range(&rng, 0, 15) :
			      h.nlmsg_len + nlt_range(&rng, 1, 5000);
		memcpy(dg + last, &h, sizeof(h));
	}
	if (nlt_chance(&rng, 40) && off < MAX_DATAGRAM) {
		size_t tail = nlt_chance(&rng, 75) ? nlt_range(&rng, 1, 15) :
			      nlt_range(&rng, 16, 64);

		if (tail > MAX_DATAGRAM - off)
			tail = MAX_DATAGRAM - off;
		nlt_fill(&rng, dg + off, tail);
		off += tail;
	}
	return off;
}

/*
 * In generic netlink mode, random bytes must not reach nlctrl or another
 * family (the model knows nlchan's only): a header that would is given
 * the family's type.
 */
static void keep_to_family(uint8_t *dg, size_t len)
{
	struct nlmsghdr h;

	if (!genl || len < NLMSG_HDRLEN)
		return;
	memcpy(&h, dg, sizeof(h));
	if (h.nlmsg_type >= NLMSG_MIN_TYPE && h.nlmsg_type < 1024) {
		h.nlmsg_type = ids.family;
		memcpy(dg, &h, sizeof(h));
	}
}

/* One datagram of a random shape in @dg; returns its length. */
static size_t make_datagram(uint8_t *dg)
{
	uint32_t r = nlt_range(&rng, 0, 99);
	size_t len;

	if (r < 2)
		return 0;
	if (r < 7) {
		len = nlt_range(&rng, 1, NLMSG_HDRLEN - 1);
		nlt_fill(&rng, dg, len);
		return len;
	}
	if (r < 12) {
		len = nlt_range(&rng, NLMSG_HDRLEN, MAX_DATAGRAM);
		nlt_fill(&rng, dg, len);
		keep_to_family(dg, len);
		return len;
	}
	if (r < 22) {
		/* One header whose nlmsg_len is too large or too small. */
		len = nlt_range(&rng, NLMSG_HDRLEN, MAX_DATAGRAM);
		nlt_fill(&rng, dg, len);
		put_header(dg, nlt_chance(&rng, 50) ?
			   nlt_range(&rng, 0, NLMSG_HDRLEN - 1) :
			   (uint32_t)len + nlt_range(&rng, 1, 100000),
			   genl ? random_genl_type() : random_type(),
			   genl ? random_genl_flags() : random_flags());
		return len;
	}
	if (genl)
		return make_batch(dg, make_genl_msg);
	if (r < 30)
		return make_seed(dg, MAX_DATAGRAM);
	return make_batch(dg, make_unit_msg);
}

/* Bytes of a datagram shown on a mismatch (-v: all). */
static size_t dump_max = 64;

static void hexdump(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < dump_max; i++)
		fprintf(stderr, "%02x%s", p[i], i % 16 == 15 ? "\n" : " ");
	fprintf(stderr, "%s", i % 16 ? "\n" : "");
}

static void count_error(struct tally *t, int err)
{
	switch (err) {
	case 0:
		t->acks++;
		break;
	case -EMSGSIZE:
		t->emsgsize++;
		break;
	case -EOPNOTSUPP:
		t->eopnotsupp++;
		break;
	case -EINVAL:
		t->einval++;
		break;
	case -EPERM:
		t->eperm++;
		break;
	case -ENOENT:
		t->enoent++;
		break;
	default:
		t->other++;
	}
}

/* Compares a generic netlink REPLY @m with the expected answer @a. */
static const char *compare_genl_reply(const struct nlmsghdr *m,
				      const struct answer *a)
{
	static const uint8_t zeros[NLA_ALIGNTO];
	const struct genlmsghdr *g = NLMSG_DATA(m);
	const struct nlattr *nla = (const struct nlattr *)((const uint8_t *)g + GENL_HDRLEN);

	if (m->nlmsg_type != ids.family)
		return "expected a message of the family";
	if (m->nlmsg_pid || m->nlmsg_flags)
		return "REPLY with nlmsg_pid or flags set";
	if (m->nlmsg_len != NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + a->len)))
		return "REPLY of the wrong length";
	if (g->cmd != NLCHAN_CMD_REPLY || g->version != NLCHAN_GENL_VERSION ||
	    g->reserved)
		return "REPLY with a wrong genlmsghdr";
	if (nla->nla_type != NLCHAN_ATTR_PAYLOAD ||
	    nla->nla_len != NLA_HDRLEN + a->len ||
	    memcmp(nlt_attr_data(nla), a->data, a->len))
		return "REPLY payload differs";
	if (memcmp((const uint8_t *)nlt_attr_data(nla) + a->len, zeros,
		   NLA_ALIGN(a->len) - a->len))
		return "REPLY padding is not zero";
	return NULL;
}

/* Compares received message @m with the expected answer @a. */
static const char *compare(const struct nlmsghdr *m, size_t avail,
			   const struct answer *a)
{
	const struct nlmsgerr *e = NLMSG_DATA(m);
	struct nlmsghdr req;
	uint32_t rlen;

	if (m->nlmsg_len > avail)
		return "message longer than the datagram";
	if (m->nlmsg_seq != a->seq)
		return "wrong nlmsg_seq";
	if (a->reply && genl)
		return compare_genl_reply(m, a);
	if (a->reply) {
		if (m->nlmsg_type != NLCHAN_MSG_REPLY)
			return "expected a REPLY";
		if (m->nlmsg_pid || m->nlmsg_flags)
			return "REPLY with nlmsg_pid or flags set";
		if (m->nlmsg_len != NLMSG_LENGTH(a->len) ||
		    memcmp(NLMSG_DATA(m), a->data, a->len))
			return "REPLY payload differs";
		return NULL;
	}
	if (m->nlmsg_type != NLMSG_ERROR)
		return "expected an NLMSG_ERROR";
	if (m->nlmsg_pid != port)
		return "NLMSG_ERROR not addressed to our port";
	if (m->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return "NLMSG_ERROR too short";
	if (e->error != a->error) {
		static char why[80];

		snprintf(why, sizeof(why),
			 "wrong errno in NLMSG_ERROR: %d, want %d (seq %u)",
			 e->error, a->error, a->seq);
		return why;
	}
	memcpy(&req, a->data, sizeof(req));
	if (memcmp(&e->msg, &req, sizeof(req)))
		return "NLMSG_ERROR does not quote the request's header";
	if (!a->error)
		return m->nlmsg_len == NLMSG_LENGTH(sizeof(*e)) &&
		       m->nlmsg_flags == NLM_F_CAPPED ? NULL : "malformed ACK";
	rlen = req.nlmsg_len - NLMSG_HDRLEN;
	if (m->nlmsg_len != NLMSG_LENGTH(sizeof(*e)) + NLMSG_ALIGN(rlen) ||
	    m->nlmsg_flags ||
	    memcmp(NLMSG_DATA(&e->msg), a->data + NLMSG_HDRLEN, rlen))
		return "NLMSG_ERROR does not quote the request's payload";
	return NULL;
}

/*
 * Reads every queued answer and checks it against @a[0..@n); returns the
 * number of mismatches (0 or 1: the first one ends the comparison).
 */
static int check_answers(int fd, const struct answer *a, size_t n,
			 struct tally *t, const char **why)
{
	static uint8_t buf[65536];
	size_t i = 0;
	ssize_t len;

	*why = NULL;
	while ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		struct nlmsghdr *m = (struct nlmsghdr *)buf;
		size_t avail = (size_t)len, first = i;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			nlt_die("recv");
		}
		for (; NLMSG_OK(m, avail); m = NLMSG_NEXT(m, avail)) {
			if (i > first && (!a[i - 1].gather ||
					  (i < n && !a[i].gather))) {
				*why = "an answer shares a datagram without NLCHAN_F_GATHER";
				return 1;
			}
			if (i >= n) {
				*why = "more answers than expected";
				return 1;
			}
			if (m->nlmsg_type == NLMSG_ERROR &&
			    m->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				count_error(t, ((struct nlmsgerr *)NLMSG_DATA(m))->error);
			else if (m->nlmsg_type == (genl ? ids.family : NLCHAN_MSG_REPLY))
				t->replies++;
			*why = compare(m, avail, &a[i++]);
			if (*why)
				return 1;
		}
		if (i - first > 1) {
			if (len > NLCHAN_GATHER_MAX) {
				*why = "gathered replies larger than NLCHAN_GATHER_MAX";
				return 1;
			}
			t->gathered++;
		}
	}
	if (i != n) {
		*why = "fewer answers than expected";
		return 1;
	}
	return 0;
}

/*
 * Sends an empty datagram; returns 1 if netlink_sendmsg() refused it with
 * ENODATA (kernels with the zero-length check), 0 if it was sent.
 */
static int send_empty(int fd)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	if (!sendto(fd, "", 0, 0, (struct sockaddr *)&to, sizeof(to)))
		return 0;
	if (errno != ENODATA)
		nlt_die("sendto (empty datagram)");
	return 1;
}

int main(int argc, char **argv)
{
	static uint8_t dg[MAX_DATAGRAM];
	static struct answer answers[MAX_ANSWERS];
	unsigned long long count = 100000, i, bytes = 0, mismatches = 0;
	unsigned long long empty_refused = 0;
	unsigned long long seed = 0x6e6c6368616e0001ULL;
	unsigned int unit = NLCHAN_UNIT_SEED;
	struct counters c = { 0 };
	struct tally t = { 0 };
	struct sockaddr_nl self;
	socklen_t slen = sizeof(self);
	int fd, opt;
	uint32_t drops;

	nlt_prog = "nlchan-fuzz";
	while ((opt = getopt(argc, argv, "u:n:s:gv")) != -1) {
		if (opt == 'u') {
			unit = (unsigned int)nlt_number(optarg);
		} else if (opt == 'n') {
			count = nlt_number(optarg);
		} else if (opt == 's') {
			seed = nlt_number(optarg);
		} else if (opt == 'g') {
			genl = 1;
		} else if (opt == 'v') {
			dump_max = MAX_DATAGRAM;
		} else {
			fprintf(stderr, "usage: %s [-u UNIT | -g] [-n DATAGRAMS] [-s SEED] [-v]\n",
				nlt_prog);
			return 2;
		}
	}
	rng = seed;
	if (genl) {
		nlt_genl_ids(&ids);
		printf("nlchan-fuzz: seed 0x%llx, %llu datagrams, generic netlink family %s id 0x%x\n",
		       seed, count, NLCHAN_GENL_NAME, ids.family);
	} else {
		printf("nlchan-fuzz: seed 0x%llx, %llu datagrams, unit %u\n",
		       seed, count, unit);
	}
	fflush(stdout);

	/* Room for every answer to the largest batch. */
	fd = nlt_open(genl ? NETLINK_GENERIC : unit, 8 << 20);
	if (getsockname(fd, (struct sockaddr *)&self, &slen) < 0)
		nlt_die("getsockname");
	port = self.nl_pid;

	for (i = 0; i < count; i++) {
		size_t len = make_datagram(dg);
		size_t n = genl ? genl_model(dg, len, answers, &c) :
			   model(dg, len, answers, &c);
		const char *why;

		if (!len) {
			/* Debian's 6.1 (and mainline since 6.6) refuses an
			 * empty send before it reaches the module.
			 */
			if (send_empty(fd))
				empty_refused++;
		} else {
			nlt_send(fd, dg, len);
		}
		bytes += len;
		if (check_answers(fd, answers, n, &t, &why)) {
			if (++mismatches <= MAX_REPORTED) {
				fprintf(stderr,
					"nlchan-fuzz: datagram %llu (%zu bytes, %zu answers expected): %s\n",
					i, len, n, why);
				hexdump(dg, len);
			}
			/* Resynchronise: drop what is left of this one. */
			while (recv(fd, dg, sizeof(dg), MSG_DONTWAIT) >= 0 ||
			       errno == EINTR)
				;
		}
		if ((i + 1) % 25000 == 0) {
			printf("nlchan-fuzz: %llu datagrams sent\n", i + 1);
			fflush(stdout);
		}
	}
	drops = nlt_drops(fd);
	close(fd);

	printf("nlchan-fuzz: sent datagrams=%llu bytes=%llu (empty ones refused by the socket with ENODATA: %llu)\n",
	       count, bytes, empty_refused);
	printf("nlchan-fuzz: answers REPLY=%llu ACK=%llu EMSGSIZE=%llu EOPNOTSUPP=%llu EINVAL=%llu EPERM=%llu ENOENT=%llu other=%llu\n",
	       t.replies, t.acks, t.emsgsize, t.eopnotsupp, t.einval, t.eperm,
	       t.enoent, t.other);
	printf("nlchan-fuzz: datagrams of gathered replies=%llu\n", t.gathered);
	printf("nlchan-fuzz: expect received=%llu replied=%llu errors=%llu\n",
	       c.received, c.replied, c.errors);
	printf("nlchan-fuzz: mismatches=%llu drops=%u\n", mismatches, drops);
	/* Generic netlink never gathers; the classic unit must have. */
	if (!genl && !t.gathered)
		fprintf(stderr, "nlchan-fuzz: no replies were ever gathered\n");
	return mismatches || drops || (!genl && !t.gathered) ? 1 : 0;
}
