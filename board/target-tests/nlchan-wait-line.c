// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-wait-line: waits until a line of FILE matches a basic regular
 * expression (as grep's), looking every 10 ms, for the on-target suites'
 * wait_for. A shell loop cannot poll that often on every board: busybox's
 * sleep and read -t take whole seconds in Buildroot's and OpenWrt's
 * default configurations, and each grep is a fork and exec.
 *
 *   nlchan-wait-line FILE REGEX [SECONDS]
 *
 * SECONDS: how long to wait at most (default 60). A FILE that does not
 * exist yet is waited for too. The wait is poll() with no descriptors,
 * which every kernel has (not nanosleep(): see nlchan-stress's pause).
 *
 * Exits 0 when a line matched, 1 when none did in time, 2 on bad usage.
 */
#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS 10

static int usage(void)
{
	fprintf(stderr, "usage: nlchan-wait-line FILE REGEX [SECONDS]\n");
	return 2;
}

/* 1 when a line of FILE matches, 0 when none does (or FILE is absent). */
static int matches(const char *file, const regex_t *re)
{
	char line[4096];
	FILE *f = fopen(file, "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = regexec(re, line, 0, NULL, 0) == 0;
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	unsigned long seconds = 60, polls;
	regex_t re;
	char *end;
	int err;

	if (argc < 3 || argc > 4)
		return usage();
	if (argc == 4) {
		errno = 0;
		seconds = strtoul(argv[3], &end, 10);
		if (errno || end == argv[3] || *end || seconds > 86400) {
			fprintf(stderr, "nlchan-wait-line: SECONDS %s is not 0 to 86400\n",
				argv[3]);
			return 2;
		}
	}
	err = regcomp(&re, argv[2], REG_NOSUB);
	if (err) {
		char why[128];

		regerror(err, &re, why, sizeof(why));
		fprintf(stderr, "nlchan-wait-line: bad regex %s: %s\n", argv[2], why);
		return 2;
	}
	for (polls = 0;; polls++) {
		if (matches(argv[1], &re))
			break;
		if (polls >= seconds * (1000 / POLL_MS)) {
			regfree(&re);
			return 1;
		}
		poll(NULL, 0, POLL_MS);
	}
	regfree(&re);
	return 0;
}
