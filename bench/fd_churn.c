// SPDX-License-Identifier: MIT
/*
 * Descriptor churn for `make bench`: N x (open("/dev/null") + close), what
 * --fds's tracepoints cost a process, traced or not; `fd_churn N [ROUNDS]
 * [--wait]` runs it ROUNDS times (default 1) and prints the fastest round's
 * "ns_per_op X" per open+close pair: the machine's noise only ever slows a
 * round.  With --wait it starts on SIGUSR1.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* One round of n open+close pairs: ns per pair. */
static double churn(long n)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		close(open("/dev/null", O_RDONLY));
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
}

int main(int argc, char **argv)
{
	bool wait = argc > 1 && !strcmp(argv[argc - 1], "--wait");
	int numbers = argc - 1 - wait;
	long n = numbers > 0 ? atol(argv[1]) : 200000;
	long rounds = numbers > 1 ? atol(argv[2]) : 1;
	double best = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (wait) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	for (long r = 0; r < rounds; r++) {
		double ns = churn(n);

		if (r == 0 || ns < best)
			best = ns;
	}
	printf("ns_per_op %.1f\n", best);
	return 0;
}
