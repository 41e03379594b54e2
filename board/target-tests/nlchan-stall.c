// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-stall: a sender whose receive buffer is full.
 *
 *   nlchan-stall [-u UNIT | -g] [-n REQUESTS]
 *
 * Sends REQUESTS ECHO requests of NLCHAN_MSG_LEN bytes (on the classic
 * unit, or with -g to the generic netlink family) on a socket with the
 * smallest receive buffer and reads nothing meanwhile: the module must drop
 * the replies that do not fit instead of waiting (an alarm fails the run
 * if a send blocks). While that socket is full, a second socket must still
 * get its echo. Then it reads what was queued: ENOBUFS first, then the
 * replies, in order. Every request is accounted for: queued + dropped
 * (the socket's drop counter) == REQUESTS, with dropped > 0.
 *
 * Prints "nlchan-stall: sent=N queued=Q dropped=D"; exit status 0 when all
 * of the above held.
 */
#include <signal.h>

#include "nltest.h"

/* Generic netlink (-g), and the family's id. */
static int genl;
static struct nlt_genl ids;

static void stalled(int sig)
{
	static const char msg[] = "nlchan-stall: a send blocked for 120 s: the module stalls\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* Sends one ECHO of @len bytes of @data with @seq on @fd. */
static void echo(int fd, uint32_t seq, const uint8_t *data, uint32_t len)
{
	uint8_t tx[NLMSG_LENGTH(GENL_HDRLEN + NLA_HDRLEN) + NLCHAN_MSG_LEN];
	struct nlmsghdr h = {
		.nlmsg_len = NLMSG_LENGTH(len),
		.nlmsg_type = NLCHAN_MSG_ECHO,
		.nlmsg_flags = NLM_F_REQUEST,
		.nlmsg_seq = seq,
	};
	struct genlmsghdr g = {
		.cmd = NLCHAN_CMD_ECHO,
		.version = NLCHAN_GENL_VERSION,
	};
	struct nlattr a = {
		.nla_len = (uint16_t)(NLA_HDRLEN + len),
		.nla_type = NLCHAN_ATTR_PAYLOAD,
	};
	size_t off = NLMSG_HDRLEN;

	if (genl) {
		h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_HDRLEN + len);
		h.nlmsg_type = ids.family;
		memcpy(tx + off, &g, sizeof(g));
		memcpy(tx + off + GENL_HDRLEN, &a, sizeof(a));
		off += GENL_HDRLEN + NLA_HDRLEN;
	}
	memcpy(tx, &h, sizeof(h));
	memcpy(tx + off, data, len);
	nlt_send(fd, tx, h.nlmsg_len);
}

/* True if @buf of @len bytes is the echo of @data with @seq. */
static int is_echo(const uint8_t *buf, ssize_t len, uint32_t seq,
		   const uint8_t *data)
{
	const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
	const struct genlmsghdr *g = NLMSG_DATA(m);
	const struct nlattr *a = (const struct nlattr *)((const uint8_t *)g + GENL_HDRLEN);

	if (genl)
		return len >= (ssize_t)NLMSG_LENGTH(GENL_HDRLEN + NLA_HDRLEN + NLCHAN_MSG_LEN) &&
		       m->nlmsg_type == ids.family && m->nlmsg_seq == seq &&
		       g->cmd == NLCHAN_CMD_REPLY &&
		       a->nla_len == NLA_HDRLEN + NLCHAN_MSG_LEN &&
		       !memcmp(nlt_attr_data(a), data, NLCHAN_MSG_LEN);
	/* The datagram is padded to NLMSG_ALIGN; nlmsg_len is not. */
	return len >= (ssize_t)NLMSG_LENGTH(NLCHAN_MSG_LEN) &&
	       m->nlmsg_len == NLMSG_LENGTH(NLCHAN_MSG_LEN) &&
	       m->nlmsg_type == NLCHAN_MSG_REPLY && m->nlmsg_seq == seq &&
	       !memcmp(NLMSG_DATA(m), data, NLCHAN_MSG_LEN);
}

int main(int argc, char **argv)
{
	static uint8_t rx[8192];
	uint8_t data[NLCHAN_MSG_LEN];
	unsigned int unit = NLCHAN_UNIT_SEED;
	unsigned long long count = 500, queued = 0, enobufs = 0, i;
	uint32_t expect_seq = 1, dropped;
	int fd, other, one = 1, opt;
	ssize_t len;

	nlt_prog = "nlchan-stall";
	while ((opt = getopt(argc, argv, "u:n:g")) != -1) {
		if (opt == 'u') {
			unit = (unsigned int)nlt_number(optarg);
		} else if (opt == 'n') {
			count = nlt_number(optarg);
		} else if (opt == 'g') {
			genl = 1;
		} else {
			fprintf(stderr, "usage: %s [-u UNIT | -g] [-n REQUESTS]\n", nlt_prog);
			return 2;
		}
	}
	if (genl) {
		nlt_genl_ids(&ids);
		unit = NETLINK_GENERIC;
	}
	memset(data, 'z', sizeof(data));
	signal(SIGALRM, stalled);
	alarm(120);

	fd = nlt_open(unit, 0);
	/* The kernel raises this to its minimum receive buffer. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)) < 0)
		nlt_die("SO_RCVBUF");
	for (i = 1; i <= count; i++)
		echo(fd, (uint32_t)i, data, NLCHAN_MSG_LEN);

	/* The module still answers others. */
	other = nlt_open(unit, 0);
	nlt_timeout(other, 30);
	echo(other, 7, data, NLCHAN_MSG_LEN);
	len = recv(other, rx, sizeof(rx), 0);
	if (len < 0)
		nlt_die("recv on the second socket");
	if (!is_echo(rx, len, 7, data)) {
		fprintf(stderr, "nlchan-stall: wrong echo on the second socket\n");
		return 1;
	}
	close(other);
	alarm(0);

	dropped = nlt_drops(fd);
	for (;;) {
		len = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);
		if (len < 0 && errno == ENOBUFS) {
			enobufs++;
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			break;
		if (len < 0)
			nlt_die("recv");
		/* Replies come in order; the dropped ones leave gaps. */
		while (expect_seq <= count &&
		       !is_echo(rx, len, expect_seq, data))
			expect_seq++;
		if (expect_seq > count) {
			fprintf(stderr, "nlchan-stall: unexpected or out-of-order reply\n");
			return 1;
		}
		expect_seq++;
		queued++;
	}
	printf("nlchan-stall: sent=%llu queued=%llu dropped=%u enobufs=%llu\n",
	       count, queued, dropped, enobufs);
	if (queued + dropped != count || !dropped || enobufs != 1) {
		fprintf(stderr, "nlchan-stall: want queued + dropped == sent, dropped > 0 and one ENOBUFS\n");
		return 1;
	}
	return 0;
}
