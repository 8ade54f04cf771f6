// SPDX-License-Identifier: MIT
/*
 * Allocation workload for `make bench`.
 *
 *   workload pairs OPS            one thread: OPS x (malloc(64) + free)
 *   workload mixed OPS THREADS    THREADS threads, OPS operations each: a working
 *                                 set of 1024 slots per thread, each operation
 *                                 replaces a random slot with a block of random
 *                                 size (16 B .. 4 KiB, log-uniform) made by
 *                                 malloc (70%), calloc (15%) or realloc (15%);
 *                                 one operation in 10000 leaks its block
 *   workload hold COUNT           allocate COUNT 32-byte blocks from 64 call
 *                                 stacks and keep them (for report timing)
 *
 * With --wait it prints "ready PID" and starts on SIGUSR1, so a tracer can
 * attach first.  It prints "ns_per_op X" (per malloc+free pair, or per
 * operation), then with --linger sleeps until killed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 1024

static volatile sig_atomic_t go;
static long ops_per_thread;
void *volatile leaked_sink;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void run_pairs(long ops)
{
	for (long i = 0; i < ops; i++) {
		char *volatile p = malloc(64);

		free(p);
	}
}

static void *run_mixed_thread(void *arg)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (uintptr_t)arg;
	void **slots = calloc(SLOTS, sizeof(*slots));

	for (long i = 0; i < ops_per_thread; i++) {
		uint64_t r = next_random(&rng);
		size_t slot = r % SLOTS, size = (size_t)16 << ((r >> 12) % 9);
		unsigned kind = (r >> 20) % 100;

		size += (r >> 32) % size;
		if (i % 10000 == 9999) {
			leaked_sink = slots[slot]; /* dropped on the floor: a leak */
			slots[slot] = NULL;
		}
		if (kind < 15 && slots[slot]) {
			slots[slot] = realloc(slots[slot], size);
			continue;
		}
		free(slots[slot]);
		slots[slot] = kind < 30 ? calloc(1, size) : malloc(size);
	}
	for (size_t i = 0; i < SLOTS; i++)
		free(slots[i]);
	free(slots);
	return NULL;
}

static void run_mixed(long ops, int threads)
{
	pthread_t ids[64];

	ops_per_thread = ops;
	for (int t = 0; t < threads && t < 64; t++)
		pthread_create(&ids[t], NULL, run_mixed_thread, (void *)(uintptr_t)(t + 1));
	for (int t = 0; t < threads && t < 64; t++)
		pthread_join(ids[t], NULL);
}

/* 64 distinct call stacks: the recursion depth tells them apart. */
static void hold_at_depth(int depth, long count, void **out)
{
	if (depth > 0) {
		hold_at_depth(depth - 1, count, out);
		return;
	}
	for (long i = 0; i < count; i++)
		out[i] = malloc(32);
}

static void run_hold(long count)
{
	void **blocks = malloc(count * sizeof(*blocks));
	long per_stack = count / 64;

	for (int s = 0; s < 64; s++)
		hold_at_depth(s, s == 63 ? count - 63 * per_stack : per_stack, blocks + s * per_stack);
	leaked_sink = blocks;
}

int main(int argc, char **argv)
{
	int wait = 0, linger = 0, positional = 0;
	const char *mode = "pairs";
	long a = 1000000, b = 2;
	double start, elapsed;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else if (!strcmp(argv[i], "--linger"))
			linger = 1;
		else if (positional == 0 && ++positional)
			mode = argv[i];
		else if (positional == 1 && ++positional)
			a = atol(argv[i]);
		else if (positional == 2 && ++positional)
			b = atol(argv[i]);
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (wait) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	start = now_ns();
	if (!strcmp(mode, "mixed"))
		run_mixed(a, (int)b);
	else if (!strcmp(mode, "hold"))
		run_hold(a);
	else
		run_pairs(a);
	elapsed = now_ns() - start;
	printf("ns_per_op %.3f\n", elapsed / (double)(strcmp(mode, "mixed") ? a : a * b));
	while (linger)
		pause();
	return 0;
}
