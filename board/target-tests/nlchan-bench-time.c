// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-bench-time: runs a command N times in a row (fork, exec, wait) and
 * prints the wall time of the runs, for the benchmark's whole-process
 * figures: start-up, set-up, the work and the exit, as a shell script that
 * runs the command once per event pays them. The board has no `time` with
 * sub-millisecond resolution; this reads CLOCK_MONOTONIC.
 *
 *   nlchan-bench-time [-n RUNS] [-k] COMMAND [ARG...]
 *
 * The command's stdout goes to /dev/null (with -k it is kept, printed
 * before the result line, e.g. for the command's own timing of its main
 * loop); its stderr is kept. Every run
 * must exit 0 (else the exit status is 70 and nothing is printed). Prints
 * one JSON line: {"runs":N,"total_ns":T,"min_ns":M,"p50_ns":P,"max_ns":X},
 * the per-run figures over at most RTT_MAX_SAMPLES runs. On a shared host
 * the median of many runs is the steadier figure: the total takes in every
 * stall of the emulator.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nlchan-bench-rtt.h"

int main(int argc, char **argv)
{
	unsigned long runs = 1, i;
	uint64_t total = 0;
	int opt, bad = 0, keep = 0, null;

	while ((opt = getopt(argc, argv, "+n:k")) != -1) {
		if (opt == 'n')
			bad |= rtt_arg(optarg, 1, RTT_MAX_SAMPLES, &runs);
		else if (opt == 'k')
			keep = 1;
		else
			bad = 1;
	}
	if (bad || optind >= argc) {
		fprintf(stderr, "usage: nlchan-bench-time [-n RUNS] [-k] COMMAND [ARG...]\n");
		return 64;
	}
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0) {
		perror("nlchan-bench-time: /dev/null");
		return 71;
	}
	for (i = 0; i < runs; i++) {
		uint64_t t0 = rtt_now_ns(), dt;
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("nlchan-bench-time: fork");
			return 71;
		}
		if (!pid) {
			if (!keep && dup2(null, STDOUT_FILENO) < 0)
				_exit(126);
			execvp(argv[optind], argv + optind);
			perror("nlchan-bench-time: exec");
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid) {
			perror("nlchan-bench-time: waitpid");
			return 71;
		}
		dt = rtt_now_ns() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "nlchan-bench-time: run %lu of %s: status %#x\n",
				i + 1, argv[optind], status);
			return 70;
		}
		total += dt;
		rtt_samples[i] = dt;
	}
	qsort(rtt_samples, runs, sizeof(rtt_samples[0]), rtt_cmp);
	printf("{\"runs\":%lu,\"total_ns\":%llu,\"min_ns\":%llu,\"p50_ns\":%llu,"
	       "\"max_ns\":%llu}\n",
	       runs, (unsigned long long)total,
	       (unsigned long long)rtt_samples[0],
	       (unsigned long long)rtt_percentile(runs, 500),
	       (unsigned long long)rtt_samples[runs - 1]);
	return 0;
}
