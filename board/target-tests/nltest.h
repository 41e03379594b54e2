/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Helpers shared by the on-target test programs: a netlink socket on the
 * nlchan unit, the generic netlink family's ids looked up through nlctrl,
 * a socket's drop counter, a seeded PRNG and error exits. Protocol
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

#include <linux/genetlink.h>
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

/* True when attribute @a is whole within the @rest bytes from it. */
static inline int nlt_attr_ok(const struct nlattr *a, int rest)
{
	return rest >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= rest;
}

/* Walks the attributes of the @len bytes at @head (@rest: bytes left). */
#define nlt_for_each_attr(a, head, len, rest)				\
	for ((a) = (const struct nlattr *)(head), (rest) = (int)(len);	\
	     nlt_attr_ok(a, rest);						\
	     (rest) -= NLA_ALIGN((a)->nla_len),				\
	     (a) = (const struct nlattr *)((const char *)(a) +		\
					   NLA_ALIGN((a)->nla_len)))

static inline const void *nlt_attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static inline int nlt_attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* The generic netlink family's ids, as nlctrl gives them. */
struct nlt_genl {
	uint16_t family;	/* nlmsg_type of the family's messages */
	uint32_t group;		/* id of the multicast group NLCHAN_GENL_MCGRP */
};

/* The id of group NLCHAN_GENL_MCGRP in CTRL_ATTR_MCAST_GROUPS @groups. */
static inline uint32_t nlt_genl_group(const struct nlattr *groups)
{
	const struct nlattr *g, *a;
	int rest, left;

	nlt_for_each_attr(g, nlt_attr_data(groups), nlt_attr_len(groups), rest) {
		uint32_t id = 0;
		int named = 0;

		nlt_for_each_attr(a, nlt_attr_data(g), nlt_attr_len(g), left) {
			uint16_t type = a->nla_type & NLA_TYPE_MASK;

			if (type == CTRL_ATTR_MCAST_GRP_NAME &&
			    nlt_attr_len(a) == sizeof(NLCHAN_GENL_MCGRP))
				named = !memcmp(nlt_attr_data(a), NLCHAN_GENL_MCGRP,
						sizeof(NLCHAN_GENL_MCGRP));
			else if (type == CTRL_ATTR_MCAST_GRP_ID &&
				 nlt_attr_len(a) == sizeof(id))
				memcpy(&id, nlt_attr_data(a), sizeof(id));
		}
		if (named)
			return id;
	}
	return 0;
}

/* Reads the family and group ids from a CTRL_CMD_NEWFAMILY message. */
static inline int nlt_genl_parse(const struct nlmsghdr *m, struct nlt_genl *ids)
{
	const struct nlattr *a;
	int rest;

	ids->family = 0;
	ids->group = 0;
	nlt_for_each_attr(a, (const char *)NLMSG_DATA(m) + GENL_HDRLEN,
			  m->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), rest) {
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (type == CTRL_ATTR_FAMILY_ID && nlt_attr_len(a) == 2)
			memcpy(&ids->family, nlt_attr_data(a), 2);
		else if (type == CTRL_ATTR_MCAST_GROUPS)
			ids->group = nlt_genl_group(a);
	}
	if (!ids->family || !ids->group) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * Looks the family NLCHAN_GENL_NAME and its multicast group up through
 * nlctrl (CTRL_CMD_GETFAMILY), as any generic netlink client must: the
 * ids are the kernel's choice. Returns 0, or -1 with errno set (ENOENT:
 * no such family, that is nlchan is not loaded). The lookup loads nlchan
 * through its family alias when the kernel can run modprobe.
 */
static inline int nlt_genl_resolve(struct nlt_genl *ids)
{
	static uint8_t buf[8192];
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		struct nlattr a;
		char name[NLA_ALIGN(sizeof(NLCHAN_GENL_NAME))];
	} req = {
		.n = { .nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_HDRLEN +
						 sizeof(NLCHAN_GENL_NAME)),
		       .nlmsg_type = GENL_ID_CTRL,
		       .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.g = { .cmd = CTRL_CMD_GETFAMILY, .version = 2 },
		.a = { .nla_len = NLA_HDRLEN + sizeof(NLCHAN_GENL_NAME),
		       .nla_type = CTRL_ATTR_FAMILY_NAME },
		.name = NLCHAN_GENL_NAME,
	};
	const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	int fd, err = EPROTO;
	ssize_t len;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -1;
	nlt_timeout(fd, 10);
	if (sendto(fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		goto fail_errno;
	do {
		len = recv(fd, buf, sizeof(buf), 0);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		goto fail_errno;
	if (!NLMSG_OK(m, (size_t)len))
		goto fail;
	if (m->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(m);

		if (m->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0)
			err = -e->error;
		goto fail;
	}
	close(fd);
	return nlt_genl_parse(m, ids);

fail_errno:
	err = errno;
fail:
	close(fd);
	errno = err;
	return -1;
}

/* nlt_genl_resolve(), or exits 1 saying why. */
static inline void nlt_genl_ids(struct nlt_genl *ids)
{
	if (nlt_genl_resolve(ids) < 0)
		nlt_die("generic netlink family " NLCHAN_GENL_NAME " (CTRL_CMD_GETFAMILY)");
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
