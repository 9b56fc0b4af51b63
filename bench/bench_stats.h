/*
 * Shared helpers of tether's benchmark programs: clocks and the median /
 * min / max summary every figure is reported with. Results go to stdout as
 * "result NAME MEDIAN MIN MAX UNIT" lines that bench/run_bench.py reads.
 */
#ifndef TETHER_BENCH_STATS_H
#define TETHER_BENCH_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall time. */
static inline uint64_t bench_now_ns(void)
{
	return bench_clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread only: what a call costs the application's
 * thread, not the server's or the driver's worker threads. */
static inline uint64_t bench_cpu_ns(void)
{
	return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct bench_summary {
	double median, min, max;
};

/* Sorts @v in place. */
static inline struct bench_summary bench_summarize(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	struct bench_summary s = {v[n / 2], v[0], v[n - 1]};
	if (n % 2 == 0)
		s.median = (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* The value at quantile @q (0..1) of sorted @v. */
static inline double bench_quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static inline void bench_report(const char *name, struct bench_summary s, const char *unit)
{
	printf("result %-34s %14.4g %14.4g %14.4g %s\n", name, s.median, s.min, s.max, unit);
	fflush(stdout);
}

#endif
