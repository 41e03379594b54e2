// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-bench-loop: the C baseline written the best way: one socket bound
 * with nl_pid 0, static buffers, ECHO requests of exactly NLMSG_LENGTH(size)
 * bytes, sendto + recv in a tight loop, the sender and sequence checked.
 * With -g the same over generic netlink: the family's id looked up through
 * nlctrl once, then ECHO commands carrying the payload attribute.
 *
 *   nlchan-bench-loop [-c COUNT] [-s SIZE] [-u UNIT | -g]
 *
 * Prints one JSON line (min/p50/p99/max round trip in ns, replies/s);
 * its client is "c-loop" or, with -g, "c-loop-genl".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <linux/nlchan.h>
#include "nlchan-bench-rtt.h"
#include "nltest.h"

static unsigned char tx[NLMSG_LENGTH(GENL_HDRLEN + NLA_HDRLEN + NLCHAN_MSG_LEN)];
static unsigned char rx[8192];

int main(int argc, char **argv)
{
	unsigned long count = 1000, size = 64, unit = NLCHAN_UNIT_SEED, i;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct sockaddr_nl from;
	struct nlmsghdr *req = (struct nlmsghdr *)tx;
	uint64_t start, t0;
	socklen_t fromlen;
	int opt, fd, bad = 0, genl = 0;
	struct nlt_genl ids = { 0 };
	uint16_t reply_type = NLCHAN_MSG_REPLY;

	nlt_prog = "nlchan-bench-loop";
	while ((opt = getopt(argc, argv, "c:s:u:g")) != -1) {
		if (opt == 'c')
			bad |= rtt_arg(optarg, 1, RTT_MAX_SAMPLES, &count);
		else if (opt == 's')
			bad |= rtt_arg(optarg, 0, NLCHAN_MSG_LEN, &size);
		else if (opt == 'u')
			bad |= rtt_arg(optarg, 0, 31, &unit);
		else if (opt == 'g')
			genl = 1;
		else
			bad = 1;
	}
	if (bad) {
		fprintf(stderr, "usage: %s [-c COUNT] [-s SIZE] [-u UNIT | -g]\n", argv[0]);
		return 64;
	}
	if (genl) {
		if (nlt_genl_resolve(&ids) < 0) {
			perror("nlchan-bench-loop: generic netlink family " NLCHAN_GENL_NAME);
			return 69;
		}
		unit = NETLINK_GENERIC;
		reply_type = ids.family;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)unit);
	if (fd < 0 || bind(fd, (struct sockaddr *)&kernel, sizeof(kernel))) {
		perror("nlchan-bench-loop: socket/bind");
		return 69;
	}
	memset(tx + NLMSG_HDRLEN, 'x', sizeof(tx) - NLMSG_HDRLEN);
	req->nlmsg_len = NLMSG_LENGTH(size);
	req->nlmsg_type = NLCHAN_MSG_ECHO;
	req->nlmsg_flags = NLM_F_REQUEST;
	if (genl) {
		struct genlmsghdr g = { .cmd = NLCHAN_CMD_ECHO,
					.version = NLCHAN_GENL_VERSION };
		struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + size),
				    .nla_type = NLCHAN_ATTR_PAYLOAD };

		memcpy(tx + NLMSG_HDRLEN, &g, sizeof(g));
		memcpy(tx + NLMSG_HDRLEN + GENL_HDRLEN, &a, sizeof(a));
		req->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_HDRLEN + size);
		req->nlmsg_type = ids.family;
	}
	start = rtt_now_ns();
	for (i = 0; i < count; i++) {
		const struct nlmsghdr *rep = (const struct nlmsghdr *)rx;
		ssize_t n;

		req->nlmsg_seq = (uint32_t)i + 1;
		t0 = rtt_now_ns();
		if (sendto(fd, tx, req->nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel)) < 0) {
			perror("nlchan-bench-loop: sendto");
			return 74;
		}
		do {
			fromlen = sizeof(from);
			n = recvfrom(fd, rx, sizeof(rx), 0,
				     (struct sockaddr *)&from, &fromlen);
		} while ((n < 0 && errno == EINTR) ||
			 (n >= NLMSG_HDRLEN && (from.nl_pid != 0 ||
			  rep->nlmsg_seq != req->nlmsg_seq)));
		if (n < NLMSG_HDRLEN || rep->nlmsg_type != reply_type) {
			fprintf(stderr, "nlchan-bench-loop: bad reply\n");
			return 76;
		}
		rtt_samples[i] = rtt_now_ns() - t0;
	}
	rtt_report(genl ? "c-loop-genl" : "c-loop", count, (unsigned int)size,
		   rtt_now_ns() - start);
	close(fd);
	return 0;
}
