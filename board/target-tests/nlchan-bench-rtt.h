/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Shared by the C round-trip baselines: the clock, the percentile of the
 * recorded samples (nearest rank, exact: the samples are sorted) and the
 * JSON line that `nlchan ping --json` prints too, so that the benchmark
 * reads every client the same way.
 */
#ifndef NLCHAN_BENCH_RTT_H
#define NLCHAN_BENCH_RTT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RTT_MAX_SAMPLES 100000

static uint64_t rtt_samples[RTT_MAX_SAMPLES];

static inline uint64_t rtt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int rtt_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted samples, in permille. */
static inline uint64_t rtt_percentile(unsigned long n, unsigned int permille)
{
	unsigned long rank = (n * permille + 999) / 1000;

	if (rank < 1)
		rank = 1;
	return rtt_samples[rank - 1];
}

static inline void rtt_report(const char *client, unsigned long n,
			      unsigned int size, uint64_t elapsed_ns)
{
	qsort(rtt_samples, n, sizeof(rtt_samples[0]), rtt_cmp);
	printf("{\"client\":\"%s\",\"count\":%lu,\"size\":%u,\"batch\":1,"
	       "\"received\":%lu,\"min_ns\":%llu,\"p50_ns\":%llu,"
	       "\"p99_ns\":%llu,\"max_ns\":%llu,\"msgs_per_s\":%llu,"
	       "\"elapsed_ns\":%llu}\n",
	       client, n, size, n,
	       (unsigned long long)rtt_samples[0],
	       (unsigned long long)rtt_percentile(n, 500),
	       (unsigned long long)rtt_percentile(n, 990),
	       (unsigned long long)rtt_samples[n - 1],
	       (unsigned long long)(elapsed_ns ?
				    n * 1000000000ull / elapsed_ns : 0),
	       (unsigned long long)elapsed_ns);
}

/* Parses a number from @min to @max into @v; returns 1 when invalid. */
static inline int rtt_arg(const char *s, unsigned long min, unsigned long max,
			  unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*s || *end || errno || *v < min || *v > max;
}

#endif /* NLCHAN_BENCH_RTT_H */
