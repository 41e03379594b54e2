// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-bench-seed: the seed's C client (shared/seeds, "netlink使用"),
 * with its bugs fixed and looped for timing: it still sends a seed-style
 * request (type 0, flags 0, a malloc'd message, sendto + recvfrom), but of
 * exactly NLMSG_LENGTH(strlen(text)) bytes instead of NLMSG_SPACE(125)
 * (the padding bug), bound with nl_pid 0 instead of the fixed port 100,
 * and it checks every return value and the reply's sender.
 *
 *   nlchan-bench-seed [-c COUNT] [-u UNIT]
 *
 * The module answers each request with its greeting. Prints one JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <linux/nlchan.h>
#include "nlchan-bench-rtt.h"

typedef struct _user_msg_info {
	struct nlmsghdr hdr;
	char msg[NLCHAN_MSG_LEN];
} user_msg_info;

int main(int argc, char **argv)
{
	unsigned long count = 1000, unit = NLCHAN_UNIT_SEED, i;
	const char *umsg = "hello netlink!!";
	struct sockaddr_nl saddr, daddr;
	struct nlmsghdr *nlh;
	user_msg_info u_info;
	uint64_t start, t0;
	int opt, skfd, bad = 0;
	socklen_t len;
	ssize_t ret;

	while ((opt = getopt(argc, argv, "c:u:")) != -1) {
		if (opt == 'c')
			bad |= rtt_arg(optarg, 1, RTT_MAX_SAMPLES, &count);
		else if (opt == 'u')
			bad |= rtt_arg(optarg, 0, 31, &unit);
		else
			bad = 1;
	}
	if (bad) {
		fprintf(stderr, "usage: %s [-c COUNT] [-u UNIT]\n", argv[0]);
		return 64;
	}
	skfd = socket(AF_NETLINK, SOCK_RAW, (int)unit);
	if (skfd == -1) {
		perror("create socket error");
		return 69;
	}
	memset(&saddr, 0, sizeof(saddr));
	saddr.nl_family = AF_NETLINK;
	if (bind(skfd, (struct sockaddr *)&saddr, sizeof(saddr)) != 0) {
		perror("bind() error");
		close(skfd);
		return 69;
	}
	memset(&daddr, 0, sizeof(daddr));
	daddr.nl_family = AF_NETLINK;

	nlh = malloc(NLMSG_SPACE(NLCHAN_MSG_LEN));
	if (!nlh)
		return 71;
	memset(nlh, 0, sizeof(*nlh));
	nlh->nlmsg_len = NLMSG_LENGTH(strlen(umsg));
	memcpy(NLMSG_DATA(nlh), umsg, strlen(umsg));

	start = rtt_now_ns();
	for (i = 0; i < count; i++) {
		t0 = rtt_now_ns();
		ret = sendto(skfd, nlh, nlh->nlmsg_len, 0,
			     (struct sockaddr *)&daddr, sizeof(daddr));
		if (ret != (ssize_t)nlh->nlmsg_len) {
			perror("sendto error");
			return 74;
		}
		len = sizeof(daddr);
		ret = recvfrom(skfd, &u_info, sizeof(u_info), 0,
			       (struct sockaddr *)&daddr, &len);
		if (ret < NLMSG_HDRLEN || daddr.nl_pid != 0 ||
		    u_info.hdr.nlmsg_type != NLCHAN_MSG_REPLY) {
			fprintf(stderr, "recv from kernel error\n");
			return 76;
		}
		rtt_samples[i] = rtt_now_ns() - t0;
	}
	rtt_report("c-seed", count, (unsigned int)strlen(umsg),
		   rtt_now_ns() - start);
	close(skfd);
	free(nlh);
	return 0;
}
