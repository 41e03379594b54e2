// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-seed-batch: seed-style SEND requests (type 0, flags 0, as the
 * seed's C client sends them), several in one datagram, and what came back.
 *
 *   nlchan-seed-batch [-u UNIT] [-n MESSAGES] [-p]
 *
 * Sends one datagram of MESSAGES seed-style messages carrying "hello
 * netlink!!", numbered 1, 2, ... in nlmsg_seq, each of exactly
 * NLMSG_LENGTH(15) bytes, or with -p of NLMSG_SPACE(NLCHAN_MSG_LEN) bytes
 * as the seed's client sent them (a NUL after the text, then non-zero
 * filler the module must not read as payload). The module answers in the
 * sender's context, so every answer is queued when sendto() returns: the
 * program then reads them all without waiting and prints each, then a
 * summary line. Exit status 0 when every message got a REPLY carrying
 * NLCHAN_GREETING from the kernel, in order, and nothing else came.
 */
#include "nltest.h"

#define TEXT		"hello netlink!!"
#define MAX_MESSAGES	16

/* Prints @len bytes, escaping what is not printable ASCII. */
static void print_escaped(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

/* Reads every queued answer; returns how many were the expected REPLY. */
static unsigned int read_answers(int fd, unsigned int n, unsigned int *other)
{
	static uint8_t buf[8192];
	unsigned int next = 1, good = 0;
	struct sockaddr_nl from;
	socklen_t flen;
	ssize_t len;

	for (;;) {
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
		size_t avail;

		flen = sizeof(from);
		len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			       (struct sockaddr *)&from, &flen);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			break;
		if (len < 0)
			nlt_die("recv");
		for (avail = (size_t)len; NLMSG_OK(m, avail); m = NLMSG_NEXT(m, avail)) {
			uint32_t plen = m->nlmsg_len - NLMSG_HDRLEN;
			int ok = from.nl_pid == 0 &&
				 m->nlmsg_type == NLCHAN_MSG_REPLY &&
				 m->nlmsg_seq == next && next <= n &&
				 plen == strlen(NLCHAN_GREETING) &&
				 !memcmp(NLMSG_DATA(m), NLCHAN_GREETING, plen);

			printf("answer: from port %u, type 0x%x, seq %u, %u bytes \"",
			       from.nl_pid, m->nlmsg_type, m->nlmsg_seq, plen);
			print_escaped(NLMSG_DATA(m), plen);
			printf("\"%s\n", ok ? "" : " (unexpected)");
			if (ok) {
				good++;
				next++;
			} else {
				(*other)++;
			}
		}
	}
	return good;
}

int main(int argc, char **argv)
{
	static uint8_t dg[MAX_MESSAGES * NLMSG_SPACE(NLCHAN_MSG_LEN)];
	unsigned long long n = 4;
	unsigned int unit = NLCHAN_UNIT_SEED, i, good, other = 0;
	size_t off = 0, size;
	int opt, padded = 0, fd;

	nlt_prog = "nlchan-seed-batch";
	while ((opt = getopt(argc, argv, "u:n:p")) != -1) {
		if (opt == 'u') {
			unit = (unsigned int)nlt_number(optarg);
		} else if (opt == 'n') {
			n = nlt_number(optarg);
		} else if (opt == 'p') {
			padded = 1;
		} else {
			fprintf(stderr, "usage: %s [-u UNIT] [-n MESSAGES] [-p]\n",
				nlt_prog);
			return 2;
		}
	}
	if (!n || n > MAX_MESSAGES) {
		fprintf(stderr, "%s: 1 to %d messages\n", nlt_prog, MAX_MESSAGES);
		return 2;
	}
	size = padded ? NLMSG_SPACE(NLCHAN_MSG_LEN) : NLMSG_LENGTH(strlen(TEXT));

	for (i = 0; i < n; i++) {
		struct nlmsghdr h = {
			.nlmsg_len = (uint32_t)size,
			.nlmsg_seq = i + 1,
		};

		memcpy(dg + off, &h, sizeof(h));
		if (padded)
			memset(dg + off + NLMSG_HDRLEN, 0xa5, size - NLMSG_HDRLEN);
		memcpy(dg + off + NLMSG_HDRLEN, TEXT, strlen(TEXT) + padded);
		off += NLMSG_ALIGN(size);
	}
	/* The last message needs no padding after it. */
	off -= NLMSG_ALIGN(size) - size;

	fd = nlt_open(unit, 0);
	nlt_send(fd, dg, off);
	good = read_answers(fd, (unsigned int)n, &other);
	close(fd);
	printf("nlchan-seed-batch: unit %u, %llu seed-style messages of %zu bytes in one datagram of %zu bytes: replies=%u other=%u\n",
	       unit, n, size, off, good, other);
	return good == n && !other ? 0 : 1;
}
