// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-bench-loop: the C baseline written the best way: one socket bound
 * with nl_pid 0, static buffers, ECHO requests of exactly NLMSG_LENGTH(size)
 * bytes, sendto + recv in a tight loop, the sender and sequence checked.
 *
 *   nlchan-bench-loop [-c COUNT] [-s SIZE] [-u UNIT]
 *
 * Prints one JSON line (min/p50/p99/max round trip in ns, replies/s).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <linux/nlchan.h>
#include "nlchan-bench-rtt.h"

static unsigned char tx[NLMSG_LENGTH(NLCHAN_MSG_LEN)];
static unsigned char rx[8192];

int main(int argc, char **argv)
{
	unsigned long count = 1000, size = 64, unit = NLCHAN_UNIT_DEFAULT, i;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct sockaddr_nl from;
	struct nlmsghdr *req = (struct nlmsghdr *)tx;
	uint64_t start, t0;
	socklen_t fromlen;
	int opt, fd, bad = 0;

	while ((opt = getopt(argc, argv, "c:s:u:")) != -1) {
		if (opt == 'c')
			bad |= rtt_arg(optarg, 1, RTT_MAX_SAMPLES, &count);
		else if (opt == 's')
			bad |= rtt_arg(optarg, 0, NLCHAN_MSG_LEN, &size);
		else if (opt == 'u')
			bad |= rtt_arg(optarg, 0, 31, &unit);
		else
			bad = 1;
	}
	if (bad) {
		fprintf(stderr, "usage: %s [-c COUNT] [-s SIZE] [-u UNIT]\n", argv[0]);
		return 64;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)unit);
	if (fd < 0 || bind(fd, (struct sockaddr *)&kernel, sizeof(kernel))) {
		perror("nlchan-bench-loop: socket/bind");
		return 69;
	}
	memset(tx + NLMSG_HDRLEN, 'x', NLCHAN_MSG_LEN);
	req->nlmsg_len = NLMSG_LENGTH(size);
	req->nlmsg_type = NLCHAN_MSG_ECHO;
	req->nlmsg_flags = NLM_F_REQUEST;
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
		if (n < NLMSG_HDRLEN || rep->nlmsg_type != NLCHAN_MSG_REPLY) {
			fprintf(stderr, "nlchan-bench-loop: bad reply\n");
			return 76;
		}
		rtt_samples[i] = rtt_now_ns() - t0;
	}
	rtt_report("c-loop", count, (unsigned int)size, rtt_now_ns() - start);
	close(fd);
	return 0;
}
