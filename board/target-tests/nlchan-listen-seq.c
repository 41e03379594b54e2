// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-listen-seq: a listener that shows the broadcasts' sequence
 * numbers, on the classic unit or (-g) on the generic netlink family.
 *
 *   nlchan-listen-seq [-u UNIT | -g] [-c COUNT] [-i IDLE]
 *
 * Joins the broadcast group (the generic netlink group's id comes from
 * nlctrl), says "nlchan-listen-seq: listening" on stderr, then prints
 * "seq=N len=L" for each broadcast, until COUNT broadcasts came or none
 * came for IDLE seconds (default 5). The last line counts them and the
 * gaps between consecutive sequence numbers:
 *   nlchan-listen-seq: received=R first=F last=L gaps=G missing=M enobufs=E
 * Exit status 0 unless the socket failed; messages of other types (or not
 * from the kernel) are counted as foreign=N and otherwise ignored.
 */
#include "nltest.h"

int main(int argc, char **argv)
{
	static uint8_t buf[8192];
	unsigned long long count = 0, received = 0, gaps = 0, missing = 0;
	unsigned long long enobufs = 0, foreign = 0, idle = 5;
	unsigned int unit = NLCHAN_UNIT_SEED;
	uint32_t first = 0, last = 0;
	struct nlt_genl ids = { 0 };
	int opt, fd, group = NLCHAN_GROUP, use_genl = 0;

	nlt_prog = "nlchan-listen-seq";
	while ((opt = getopt(argc, argv, "u:gc:i:")) != -1) {
		if (opt == 'u') {
			unit = (unsigned int)nlt_number(optarg);
		} else if (opt == 'g') {
			use_genl = 1;
		} else if (opt == 'c') {
			count = nlt_number(optarg);
		} else if (opt == 'i') {
			idle = nlt_number(optarg);
		} else {
			fprintf(stderr, "usage: %s [-u UNIT | -g] [-c COUNT] [-i IDLE]\n",
				nlt_prog);
			return 2;
		}
	}
	if (use_genl) {
		nlt_genl_ids(&ids);
		group = (int)ids.group;
	}
	fd = nlt_open(use_genl ? NETLINK_GENERIC : unit, 0);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group)) < 0)
		nlt_die("NETLINK_ADD_MEMBERSHIP");
	nlt_timeout(fd, (int)idle);
	fprintf(stderr, "%s: listening\n", nlt_prog);

	while (!count || received < count) {
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf), 0,
				       (struct sockaddr *)&from, &flen);
		size_t avail;

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
		for (avail = (size_t)len; NLMSG_OK(m, avail); m = NLMSG_NEXT(m, avail)) {
			const struct genlmsghdr *g = NLMSG_DATA(m);
			int ours = from.nl_pid == 0 &&
				   (use_genl ? m->nlmsg_type == ids.family &&
					       m->nlmsg_len >= NLMSG_LENGTH(GENL_HDRLEN) &&
					       g->cmd == NLCHAN_CMD_BROADCAST :
					       m->nlmsg_type == NLCHAN_MSG_BROADCAST);

			if (!ours) {
				foreign++;
				continue;
			}
			if (received && m->nlmsg_seq != last + 1) {
				gaps++;
				missing += m->nlmsg_seq - last - 1;
			}
			if (!received)
				first = m->nlmsg_seq;
			last = m->nlmsg_seq;
			received++;
			printf("seq=%u len=%u\n", m->nlmsg_seq,
			       m->nlmsg_len - NLMSG_HDRLEN);
		}
		fflush(stdout);
	}
	printf("%s: received=%llu first=%u last=%u gaps=%llu missing=%llu enobufs=%llu foreign=%llu\n",
	       nlt_prog, received, first, last, gaps, missing, enobufs, foreign);
	close(fd);
	return 0;
}
