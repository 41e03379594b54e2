// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * nlchan-bench-peak: runs a command and prints its peak resident set size,
 * for the benchmark's memory comparison.
 *
 *   nlchan-bench-peak COMMAND [ARG...]
 *
 * Prints "peak_rss_kb=N" on stderr once COMMAND has exited: ru_maxrss from
 * wait4(), which is the child's VmHWM as the kernel saw it at exit, with
 * its split per-task RSS counters synced first. Reading VmHWM from
 * /proc/PID/status while the program runs is not exact: those counters
 * are folded in only every 64 page faults, so a small program shows almost
 * nothing. Exits with COMMAND's status (128 + signal when killed).
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	pid_t pid;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: nlchan-bench-peak COMMAND [ARG...]\n");
		return 64;
	}
	pid = fork();
	if (pid < 0) {
		perror("nlchan-bench-peak: fork");
		return 71;
	}
	if (!pid) {
		execvp(argv[1], argv + 1);
		perror("nlchan-bench-peak: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("nlchan-bench-peak: wait4");
		return 71;
	}
	fprintf(stderr, "peak_rss_kb=%ld\n", ru.ru_maxrss);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
