// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-echo-loop: an ECHO client for the concurrency test.
 *
 *   nlchan-echo-loop [-u UNIT] [-n REQUESTS] [-s SEED]
 *
 * Sends REQUESTS ECHO requests with random payloads (0 to NLCHAN_MSG_LEN
 * bytes), one to four per datagram, some asking for an ACK, and checks that
 * every answer carries its request's sequence number, in order, and that
 * every echo is byte-exact. Exit status 0 when all matched.
 */
#include "nltest.h"

#define MAX_BATCH	4

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

int main(int argc, char **argv)
{
	static uint8_t tx[MAX_BATCH * NLMSG_SPACE(NLCHAN_MSG_LEN)];
	static uint8_t rx[8192];
	static struct request req[MAX_BATCH];
	unsigned long long count = 1000, seed = 1, sent = 0, replies = 0, acks = 0;
	unsigned int unit = NLCHAN_UNIT_DEFAULT;
	uint32_t seq = 0;
	uint64_t rng;
	int fd;

	nlt_prog = "nlchan-echo-loop";
	nlt_options(argc, argv, "[-u UNIT] [-n REQUESTS] [-s SEED]", &unit, &count, &seed);
	rng = seed;
	fd = nlt_open(unit, 0);
	nlt_timeout(fd, 30);

	while (sent < count) {
		unsigned int batch = nlt_range(&rng, 1, MAX_BATCH), i;
		struct nlmsghdr *m = NULL;
		size_t off = 0, avail = 0;

		if (batch > count - sent)
			batch = (unsigned int)(count - sent);
		for (i = 0; i < batch; i++) {
			struct request *r = &req[i];
			struct nlmsghdr h;

			r->seq = ++seq;
			r->len = nlt_range(&rng, 0, NLCHAN_MSG_LEN);
			r->ack = nlt_chance(&rng, 25);
			nlt_fill(&rng, r->data, r->len);
			h = (struct nlmsghdr){
				.nlmsg_len = NLMSG_LENGTH(r->len),
				.nlmsg_type = NLCHAN_MSG_ECHO,
				.nlmsg_flags = NLM_F_REQUEST | (r->ack ? NLM_F_ACK : 0),
				.nlmsg_seq = r->seq,
			};
			off = NLMSG_ALIGN(off);
			memcpy(tx + off, &h, sizeof(h));
			memcpy(tx + off + NLMSG_HDRLEN, r->data, r->len);
			off += NLMSG_LENGTH(r->len);
		}
		nlt_send(fd, tx, off);
		sent += batch;

		for (i = 0; i < batch; i++) {
			const struct request *r = &req[i];

			m = next_message(fd, rx, sizeof(rx), &avail, m);
			if (m->nlmsg_type != NLCHAN_MSG_REPLY || m->nlmsg_seq != r->seq)
				fail(r, m, "expected its REPLY");
			if (m->nlmsg_len != NLMSG_LENGTH(r->len) ||
			    memcmp(NLMSG_DATA(m), r->data, r->len))
				fail(r, m, "echo differs from the request");
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
