// SPDX-License-Identifier: MIT
/*
 * Many allocations, for the sampling test: many_leaks() leaks 80000 blocks of
 * 100 bytes (8,000,000 bytes); many_churn() allocates and frees 80000 more.
 */
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

int main(void)
{
	many_leaks();
	many_churn();
	puts("done");
	return 0;
}
