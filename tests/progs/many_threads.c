// SPDX-License-Identifier: MIT
/*
 * Thousands of threads at once: `many_threads N` starts N threads (default
 * 2000), each keeps one malloc(100) from thread_block and frees one
 * malloc(50) from thread_churn, all alive together (a barrier), then joins
 * them.  Truth: thread_block holds N x 100 bytes in N blocks; thread_churn
 * holds nothing of N.  With --wait it starts on SIGUSR1, prints "done", then
 * waits to be killed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t all_alive;
static void *volatile *kept;
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

__attribute__((noinline)) static void *thread_block(void)
{
	return malloc(100);
}

__attribute__((noinline)) static void thread_churn(void)
{
	char *volatile p = malloc(50);

	free(p);
}

static void *run(void *index)
{
	pthread_barrier_wait(&all_alive);
	kept[(long)index] = thread_block();
	thread_churn();
	pthread_barrier_wait(&all_alive);
	return NULL;
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "--wait");
	long n = argc > 1 + wait ? atol(argv[1 + wait]) : 2000;
	pthread_t *ids = calloc(n, sizeof(*ids));
	pthread_attr_t attr;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kept = calloc(n, sizeof(*kept));
	if (!ids || !kept || n < 1)
		return 1;
	if (wait) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_barrier_init(&all_alive, NULL, (unsigned)n);
	for (long i = 0; i < n; i++)
		if (pthread_create(&ids[i], &attr, run, (void *)i)) {
			perror("pthread_create");
			return 1;
		}
	for (long i = 0; i < n; i++)
		pthread_join(ids[i], NULL);
	printf("done\n");
	if (wait)
		for (;;)
			pause();
	return 0;
}
