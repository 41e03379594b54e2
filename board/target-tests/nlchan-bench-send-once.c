// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-bench-send-once: the one-shot C client, as tight as it gets, for
 * the benchmark's per-process comparison with `nlchan send TEXT`: one
 * socket bound with nl_pid 0, one SEND of exactly NLMSG_LENGTH(len) bytes,
 * the reply received (from the kernel, same sequence number) and its
 * payload printed on a line of its own. No sysfs, no generic netlink.
 *
 *   nlchan-bench-send-once [-u UNIT] TEXT
 *
 * Exits 0 when the reply was printed, 75 when none came within 5 s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <linux/nlchan.h>

static unsigned char tx[NLMSG_SPACE(NLCHAN_MSG_LEN)];
static unsigned char rx[8192];

int main(int argc, char **argv)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	struct nlmsghdr *req = (struct nlmsghdr *)tx;
	const struct nlmsghdr *rep = (const struct nlmsghdr *)rx;
	struct sockaddr_nl from;
	socklen_t fromlen;
	unsigned long unit = NLCHAN_UNIT_SEED;
	size_t len;
	ssize_t n;
	char *end;
	int opt, fd;

	while ((opt = getopt(argc, argv, "u:")) != -1) {
		if (opt != 'u')
			goto usage;
		unit = strtoul(optarg, &end, 10);
		if (!*optarg || *end || unit > 31)
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	len = strlen(argv[optind]);
	if (len > NLCHAN_MSG_LEN) {
		fprintf(stderr, "nlchan-bench-send-once: over %d bytes\n",
			NLCHAN_MSG_LEN);
		return 64;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)unit);
	if (fd < 0 || bind(fd, (struct sockaddr *)&kernel, sizeof(kernel)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		perror("nlchan-bench-send-once: socket/bind");
		return 69;
	}
	memcpy(NLMSG_DATA(req), argv[optind], len);
	req->nlmsg_len = NLMSG_LENGTH(len);
	req->nlmsg_type = NLCHAN_MSG_SEND;
	req->nlmsg_flags = NLM_F_REQUEST;
	req->nlmsg_seq = 1;
	if (sendto(fd, tx, req->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		perror("nlchan-bench-send-once: sendto");
		return 74;
	}
	do {
		fromlen = sizeof(from);
		n = recvfrom(fd, rx, sizeof(rx), 0, (struct sockaddr *)&from,
			     &fromlen);
	} while ((n < 0 && errno == EINTR) ||
		 (n >= NLMSG_HDRLEN && (from.nl_pid != 0 || rep->nlmsg_seq != 1)));
	if (n < 0 && errno == EAGAIN) {
		fprintf(stderr, "nlchan-bench-send-once: no reply\n");
		return 75;
	}
	if (n < NLMSG_HDRLEN || !NLMSG_OK(rep, (size_t)n) ||
	    rep->nlmsg_type != NLCHAN_MSG_REPLY) {
		fprintf(stderr, "nlchan-bench-send-once: bad reply\n");
		return 76;
	}
	fwrite(NLMSG_DATA(rep), 1, rep->nlmsg_len - NLMSG_HDRLEN, stdout);
	putchar('\n');
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: nlchan-bench-send-once [-u UNIT] TEXT\n");
	return 64;
}
