// SPDX-License-Identifier: MIT
/*
 * Many allocations, for the sampling test: many_leaks() leaks 80000 blocks of
 * 100 bytes (8,000,000 bytes); many_churn() allocates and frees 80000 more,
 * one at a time (one address, reused); many_batch() holds 20000 at once at
 * as many addresses, then frees them all.
 * `many N` does both in N threads at once (N x those numbers), for the test
 * of threads whose calls overlap.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

void many_leaks(void)
{
	for (int i = 0; i < 80000; i++)
		sink = malloc(100);
}

void many_churn(void)
{
	for (int i = 0; i < 80000; i++) {
		char *volatile p = malloc(100);

		free(p);
	}
}

void many_batch(void)
{
	static __thread void *held[20000];

	for (int i = 0; i < 20000; i++)
		held[i] = malloc(100);
	for (int i = 0; i < 20000; i++)
		free(held[i]);
}

static void *leak_and_churn(void *unused)
{
	many_leaks();
	many_churn();
	many_batch();
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 0;
	pthread_t ids[16];

	if (threads < 1 || threads > 16) {
		leak_and_churn(NULL);
	} else {
		for (int i = 0; i < threads; i++)
			pthread_create(&ids[i], NULL, leak_and_churn, NULL);
		for (int i = 0; i < threads; i++)
			pthread_join(ids[i], NULL);
	}
	puts("done");
	return 0;
}
