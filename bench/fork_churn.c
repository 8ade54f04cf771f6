// SPDX-License-Identifier: MIT
/*
 * Fork churn for `make bench`: N x (fork + waitpid) of a child that makes
 * one malloc and exits at once (a pre-forking server's worker, shortest).
 * With --wait it starts on SIGUSR1.  Prints "ns_per_op X" per fork+wait.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;
void *volatile sink;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	struct timespec a, b;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2 && !strcmp(argv[2], "--wait")) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		pid_t child = fork();

		if (child == 0) {
			sink = malloc(64);
			_exit(0);
		}
		waitpid(child, NULL, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_op %.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
