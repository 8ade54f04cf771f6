// SPDX-License-Identifier: MIT
/*
 * A busy pool that never holds more than 1024 blocks: `pool SECONDS` runs
 * POOL_THREADS threads, each owning 256 of the pool's 1024 slots, replacing a
 * random one of its slots again and again (free, then pool_refill() mallocs
 * 64 bytes), for SECONDS.  So the site pool_refill holds at most 1024 blocks
 * (65,536 bytes) at every instant, and at least 1024 - POOL_THREADS.  Then it
 * prints "done" and keeps the 1024 blocks until killed.  With --wait (before
 * or after SECONDS) it prints "ready PID" and starts on SIGUSR1.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL_SLOTS 1024
#define POOL_THREADS 4
#define SLOTS_PER_THREAD (POOL_SLOTS / POOL_THREADS)

static volatile sig_atomic_t go;
static void *pool[POOL_SLOTS];
static double stop_at;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void *pool_refill(void)
{
	return malloc(64);
}

static void *churn(void *arg)
{
	void **mine = pool + (uintptr_t)arg * SLOTS_PER_THREAD;
	uint64_t rng = 0x9e3779b97f4a7c15ULL * ((uintptr_t)arg + 1);

	for (long i = 0;; i++) {
		size_t slot;

		if (i % 4096 == 0 && now_s() >= stop_at)
			return NULL;
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		slot = rng % SLOTS_PER_THREAD;
		free(mine[slot]);
		mine[slot] = pool_refill();
	}
}

int main(int argc, char **argv)
{
	double seconds = 5;
	int wait = 0;
	pthread_t ids[POOL_THREADS];

	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else
			seconds = atof(argv[i]);
	}
	if (wait) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	for (int i = 0; i < POOL_SLOTS; i++)
		pool[i] = pool_refill();
	stop_at = now_s() + seconds;
	for (uintptr_t t = 0; t < POOL_THREADS; t++)
		pthread_create(&ids[t], NULL, churn, (void *)t);
	for (int t = 0; t < POOL_THREADS; t++)
		pthread_join(ids[t], NULL);
	printf("done\n");
	for (;;)
		pause();
}
