// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-bench-listen: the C listener the benchmark compares `nlchan
 * listen` with (peak RSS): join group 1, print each broadcast's payload on
 * a line, stop after IDLE seconds without one.
 *
 *   nlchan-bench-listen [-i IDLE] [-u UNIT]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <linux/nlchan.h>

static unsigned char rx[8192];

int main(int argc, char **argv)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	unsigned long idle = 5, unit = NLCHAN_UNIT_SEED, lost = 0, seen = 0;
	struct timeval tv = { 0 };
	int opt, fd, group = NLCHAN_GROUP;
	char *end;

	while ((opt = getopt(argc, argv, "i:u:")) != -1) {
		unsigned long v = strtoul(optarg, &end, 10);

		if (*end || !*optarg)
			return 64;
		if (opt == 'i')
			idle = v;
		else if (opt == 'u')
			unit = v;
		else
			return 64;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)unit);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group))) {
		perror("nlchan-bench-listen: socket/bind/join");
		return 69;
	}
	tv.tv_sec = (time_t)idle;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fprintf(stderr, "nlchan-bench-listen: listening\n");
	for (;;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rx;
		ssize_t n = recv(fd, rx, sizeof(rx), 0);

		if (n < 0 && errno == ENOBUFS) {
			lost++;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n < NLMSG_HDRLEN || nlh->nlmsg_len > (size_t)n ||
		    nlh->nlmsg_len < NLMSG_HDRLEN ||
		    nlh->nlmsg_type != NLCHAN_MSG_BROADCAST)
			continue;
		printf("%.*s\n", (int)(nlh->nlmsg_len - NLMSG_HDRLEN),
		       (const char *)NLMSG_DATA(nlh));
		seen++;
	}
	fprintf(stderr, "nlchan-bench-listen: %lu received, %lu lost reports\n",
		seen, lost);
	close(fd);
	return 0;
}
