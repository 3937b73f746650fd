// SPDX-License-Identifier: GPL-2.0-only
/*
 * c2c: the one-way cost of passing a cache line between two CPUs, the
 * figure that tells this machine's two vCPU placements apart (about 30 ns
 * when the hypervisor keeps them near each other, about 160 ns when it
 * does not; it flips on a scale of seconds to minutes).  The wall-clock
 * benchmarks tag every sample with it.
 *
 *   c2c [CPU_A CPU_B]      (default 0 1)
 *
 * Two threads, one per CPU, hand a counter back and forth on one cache
 * line; 7 rounds of 20,000 round trips; prints the median one-way time
 * and the placement: "c2c 34.1 ns near" (below 90 ns), "... far" (below
 * 300 ns) or "... busy" (a thread was descheduled: the CPUs are not free,
 * and a wall-clock sample taken now says nothing).
 * Exit 1 if a CPU cannot be used.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"

#define ROUNDS 7
#define TRIPS 20000
#define NEAR_NS 90.0
#define FAR_NS 300.0	/* beyond: a thread was descheduled, the CPUs are not free */

static struct {
	_Alignas(64) volatile uint64_t v;
} line;

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The other side: answers every odd value with the next even one. */
static void *echo(void *arg)
{
	uint64_t want = 1, v;

	if (pin(*(int *)arg)) {
		__atomic_store_n(&line.v, UINT64_MAX, __ATOMIC_RELEASE);
		return (void *)1;
	}
	__atomic_store_n(&line.v, 0, __ATOMIC_RELEASE);
	for (;;) {
		v = __atomic_load_n(&line.v, __ATOMIC_ACQUIRE);
		if (v == UINT64_MAX)
			return NULL;
		if (v != want)
			continue;
		__atomic_store_n(&line.v, want + 1, __ATOMIC_RELEASE);
		want += 2;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int a = argc > 2 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
	double ns[ROUNDS];
	uint64_t v = 0;
	pthread_t t;

	line.v = 2;	/* until the echo thread runs on its CPU (0) or cannot (UINT64_MAX) */
	if (pin(a) || pthread_create(&t, NULL, echo, &b)) {
		fprintf(stderr, "c2c: cannot run on cpus %d and %d\n", a, b);
		return 1;
	}
	while ((v = __atomic_load_n(&line.v, __ATOMIC_ACQUIRE)) == 2)
		;
	if (v) {
		pthread_join(t, NULL);
		fprintf(stderr, "c2c: cannot run on cpu %d\n", b);
		return 1;
	}
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = bench_now();

		for (int i = 0; i < TRIPS; i++) {
			__atomic_store_n(&line.v, ++v, __ATOMIC_RELEASE);
			while (__atomic_load_n(&line.v, __ATOMIC_ACQUIRE) != v + 1)
				;
			v++;
		}
		ns[r] = (bench_now() - t0) * 1e9 / (2.0 * TRIPS);
	}
	__atomic_store_n(&line.v, UINT64_MAX, __ATOMIC_RELEASE);	/* the echo thread ends */
	pthread_join(t, NULL);
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp);
	printf("c2c %.1f ns %s\n", ns[ROUNDS / 2],
	       ns[ROUNDS / 2] < NEAR_NS ? "near" : ns[ROUNDS / 2] < FAR_NS ? "far" : "busy");
	return 0;
}
