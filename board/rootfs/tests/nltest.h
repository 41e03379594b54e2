/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Helpers shared by the on-target test programs: a netlink socket on the
 * nlchan unit, its drop counter, a seeded PRNG and error exits. Protocol
 * constants come from the uapi header, never retyped.
 */
#ifndef NLTEST_H
#define NLTEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/nlchan.h>
#include <linux/sock_diag.h>

/* Name of the running program, for messages. */
static const char *nlt_prog = "nltest";

/* Prints "prog: what: strerror(errno)" and exits 1. */
static inline void nlt_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", nlt_prog, what, strerror(errno));
	exit(1);
}

/* Parses a decimal or 0x number argument, or exits 2. */
static inline unsigned long long nlt_number(const char *arg)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || !*arg || *end) {
		fprintf(stderr, "%s: not a number: '%s'\n", nlt_prog, arg);
		exit(2);
	}
	return v;
}

/*
 * Parses the options every helper takes: -u UNIT, -n COUNT and, when @seed
 * is not NULL, -s SEED. Anything else prints "usage: PROG @usage" and exits
 * with status 2.
 */
static inline void nlt_options(int argc, char **argv, const char *usage,
			       unsigned int *unit, unsigned long long *count,
			       unsigned long long *seed)
{
	int opt;

	while ((opt = getopt(argc, argv, seed ? "u:n:s:" : "u:n:")) != -1) {
		if (opt == 'u') {
			*unit = (unsigned int)nlt_number(optarg);
		} else if (opt == 'n') {
			*count = nlt_number(optarg);
		} else if (opt == 's' && seed) {
			*seed = nlt_number(optarg);
		} else {
			fprintf(stderr, "usage: %s %s\n", nlt_prog, usage);
			exit(2);
		}
	}
}

/*
 * Opens a netlink socket on @unit bound to a kernel-assigned port. A
 * @rcvbuf above 0 forces the receive buffer size (SO_RCVBUFFORCE, root).
 */
static inline int nlt_open(unsigned int unit, int rcvbuf)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)unit);
	if (fd < 0)
		nlt_die("socket(AF_NETLINK)");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		nlt_die("bind");
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		nlt_die("SO_RCVBUFFORCE");
	return fd;
}

/* Sets a receive timeout of @secs seconds on @fd. */
static inline void nlt_timeout(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		nlt_die("SO_RCVTIMEO");
}

/* Sends @len bytes to the kernel (port 0) as one datagram. */
static inline void nlt_send(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	ssize_t n;

	n = sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	if (n < 0)
		nlt_die("sendto");
	if ((size_t)n != len) {
		fprintf(stderr, "%s: short send: %zd of %zu bytes\n",
			nlt_prog, n, len);
		exit(1);
	}
}

/* Messages the kernel dropped for @fd (SO_MEMINFO, SK_MEMINFO_DROPS). */
static inline uint32_t nlt_drops(int fd)
{
	uint32_t info[SK_MEMINFO_VARS];
	socklen_t len = sizeof(info);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) < 0)
		nlt_die("SO_MEMINFO");
	return info[SK_MEMINFO_DROPS];
}

/* splitmix64: a small, seeded, reproducible PRNG. */
static inline uint64_t nlt_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [lo, hi]. */
static inline uint32_t nlt_range(uint64_t *state, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(nlt_rand(state) % ((uint64_t)hi - lo + 1));
}

/* True with probability @percent / 100. */
static inline int nlt_chance(uint64_t *state, unsigned int percent)
{
	return nlt_rand(state) % 100 < percent;
}

/* Fills @len bytes at @buf with random bytes. */
static inline void nlt_fill(uint64_t *state, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)nlt_rand(state);
}

#endif /* NLTEST_H */
