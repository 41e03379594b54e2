// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-echo-loop: an ECHO client for the concurrency test.
 *
 *   nlchan-echo-loop [-u UNIT | -g] [-n REQUESTS] [-s SEED] [-t SECONDS]
 *
 * Sends REQUESTS ECHO requests with random payloads (0 to NLCHAN_MSG_LEN
 * bytes), one to four per datagram, some asking for an ACK, to the classic
 * unit or (-g) to the generic netlink family, and checks that
 * every answer carries its request's sequence number, in order, and that
 * every echo is byte-exact. Exit status 0 when all matched; an answer that
 * does not come within SECONDS (default 30) fails the run.
 */
#include "nltest.h"

#define MAX_BATCH	4

/* Generic netlink (-g), and the family's id. */
static int genl;
static struct nlt_genl ids;

struct request {
	uint32_t seq;
	uint32_t len;
	int ack;
	uint8_t data[NLCHAN_MSG_LEN];
};

/* Reads the next message from the kernel into @buf; returns it. */
static struct nlmsghdr *next_message(int fd, uint8_t *buf, size_t size,
				     size_t *avail, struct nlmsghdr *m)
{
	ssize_t len;

	if (m) {
		m = NLMSG_NEXT(m, *avail);
		if (NLMSG_OK(m, *avail))
			return m;
	}
	do {
		len = recv(fd, buf, size, 0);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		nlt_die(errno == EAGAIN ? "recv (no answer within 30 s)" : "recv");
	*avail = (size_t)len;
	m = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(m, *avail)) {
		fprintf(stderr, "%s: malformed datagram of %zd bytes\n",
			nlt_prog, len);
		exit(1);
	}
	return m;
}

static void fail(const struct request *r, const struct nlmsghdr *m,
		 const char *why)
{
	fprintf(stderr,
		"%s: request seq %u (%u bytes): %s (got type 0x%x seq %u len %u)\n",
		nlt_prog, r->seq, r->len, why, m->nlmsg_type, m->nlmsg_seq,
		m->nlmsg_len);
	exit(1);
}

/* Puts the ECHO request @r at @p; returns its nlmsg_len. */
static uint32_t put_echo(uint8_t *p, const struct request *r)
{
	struct nlmsghdr h = {
		.nlmsg_len = NLMSG_LENGTH(r->len),
		.nlmsg_type = NLCHAN_MSG_ECHO,
		.nlmsg_flags = NLM_F_REQUEST | (r->ack ? NLM_F_ACK : 0),
		.nlmsg_seq = r->seq,
	};
	struct genlmsghdr g = { .cmd = NLCHAN_CMD_ECHO, .version = NLCHAN_GENL_VERSION };
	struct nlattr a = {
		.nla_len = (uint16_t)(NLA_HDRLEN + r->len),
		.nla_type = NLCHAN_ATTR_PAYLOAD,
	};
	size_t off = NLMSG_HDRLEN;

	if (genl) {
		h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_HDRLEN + r->len);
		h.nlmsg_type = ids.family;
		memcpy(p + off, &g, sizeof(g));
		memcpy(p + off + GENL_HDRLEN, &a, sizeof(a));
		off += GENL_HDRLEN + NLA_HDRLEN;
	}
	memcpy(p, &h, sizeof(h));
	memcpy(p + off, r->data, r->len);
	return h.nlmsg_len;
}

/* Why @m is not the echo of @r, or NULL. */
static const char *not_echo(const struct nlmsghdr *m, const struct request *r)
{
	const struct genlmsghdr *g = NLMSG_DATA(m);
	const struct nlattr *a = (const struct nlattr *)((const uint8_t *)g + GENL_HDRLEN);

	if (m->nlmsg_type != (genl ? ids.family : NLCHAN_MSG_REPLY) ||
	    m->nlmsg_seq != r->seq)
		return "expected its REPLY";
	if (!genl)
		return m->nlmsg_len != NLMSG_LENGTH(r->len) ||
		       memcmp(NLMSG_DATA(m), r->data, r->len) ?
		       "echo differs from the request" : NULL;
	if (m->nlmsg_len != NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + r->len)) ||
	    g->cmd != NLCHAN_CMD_REPLY || a->nla_type != NLCHAN_ATTR_PAYLOAD ||
	    a->nla_len != NLA_HDRLEN + r->len ||
	    memcmp(nlt_attr_data(a), r->data, r->len))
		return "echo differs from the request";
	return NULL;
}

int main(int argc, char **argv)
{
	static uint8_t tx[MAX_BATCH * NLMSG_SPACE(GENL_HDRLEN + NLA_HDRLEN + NLCHAN_MSG_LEN)];
	static uint8_t rx[8192];
	static struct request req[MAX_BATCH];
	unsigned long long count = 1000, seed = 1, sent = 0, replies = 0, acks = 0;
	unsigned int unit = NLCHAN_UNIT_SEED, timeout = 30;
	uint32_t seq = 0;
	uint64_t rng;
	int fd, opt;

	nlt_prog = "nlchan-echo-loop";
	while ((opt = getopt(argc, argv, "u:n:s:t:g")) != -1) {
		if (opt == 'u') {
			unit = (unsigned int)nlt_number(optarg);
		} else if (opt == 'n') {
			count = nlt_number(optarg);
		} else if (opt == 's') {
			seed = nlt_number(optarg);
		} else if (opt == 't') {
			timeout = (unsigned int)nlt_number(optarg);
		} else if (opt == 'g') {
			genl = 1;
		} else {
			fprintf(stderr, "usage: %s [-u UNIT | -g] [-n REQUESTS] [-s SEED] [-t SECONDS]\n",
				nlt_prog);
			return 2;
		}
	}
	if (!timeout) {
		fprintf(stderr, "%s: -t takes a number of seconds above 0\n", nlt_prog);
		return 2;
	}
	if (genl) {
		nlt_genl_ids(&ids);
		unit = NETLINK_GENERIC;
	}
	rng = seed;
	fd = nlt_open(unit, 0);
	nlt_timeout(fd, (int)timeout);

	while (sent < count) {
		unsigned int batch = nlt_range(&rng, 1, MAX_BATCH), i;
		struct nlmsghdr *m = NULL;
		size_t off = 0, avail = 0;

		if (batch > count - sent)
			batch = (unsigned int)(count - sent);
		for (i = 0; i < batch; i++) {
			struct request *r = &req[i];

			r->seq = ++seq;
			r->len = nlt_range(&rng, 0, NLCHAN_MSG_LEN);
			r->ack = nlt_chance(&rng, 25);
			nlt_fill(&rng, r->data, r->len);
			off = NLMSG_ALIGN(off);
			off += put_echo(tx + off, r);
		}
		nlt_send(fd, tx, off);
		sent += batch;

		for (i = 0; i < batch; i++) {
			const struct request *r = &req[i];
			const char *why;

			m = next_message(fd, rx, sizeof(rx), &avail, m);
			why = not_echo(m, r);
			if (why)
				fail(r, m, why);
			replies++;
			if (!r->ack)
				continue;
			m = next_message(fd, rx, sizeof(rx), &avail, m);
			if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq != r->seq ||
			    m->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
			    ((struct nlmsgerr *)NLMSG_DATA(m))->error)
				fail(r, m, "expected its ACK");
			acks++;
		}
	}
	printf("nlchan-echo-loop: seed %llu requests=%llu replies=%llu acks=%llu drops=%u\n",
	       seed, sent, replies, acks, nlt_drops(fd));
	close(fd);
	return 0;
}
