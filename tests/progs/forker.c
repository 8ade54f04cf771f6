// SPDX-License-Identifier: MIT
/*
 * A target that forks and execs, for following processes.  Truth:
 *
 *   parent_leak     in the parent: 3 x malloc(100)        held 300 / 3
 *   inherited       in the parent: 1 x malloc(50), freed by the child only:
 *                   the parent still holds it                  held 50 / 1
 *   child_leak      in the child: 5 x malloc(200)         held 1000 / 5
 *   child_churn     in the child: 10 x malloc(64) + free       held 0 / 0
 *   child_threads   in the child: 2 threads never joined (leaked once they
 *                   exit), then 1 joined (gone), from two pthread_create calls
 *
 * The child waits on a pipe until the parent is told (SIGUSR2, by the test,
 * once leaksnoop follows the child) and then allocates; both print "done"
 * and wait to be killed.  `forker --wait exec PROG ARGS...` instead leaks
 * 4 x malloc(100) in before_exec and then execs PROG: nothing of it must be
 * reported once the new image runs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sink;
static volatile sig_atomic_t go, go_child;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	go_child = 1;
}

__attribute__((noinline)) void parent_leak(void)
{
	for (int i = 0; i < 3; i++)
		sink = malloc(100);
}

__attribute__((noinline)) void *inherited(void)
{
	return malloc(50);
}

__attribute__((noinline)) void child_leak(void)
{
	for (int i = 0; i < 5; i++)
		sink = malloc(200);
}

__attribute__((noinline)) void child_churn(void)
{
	for (int i = 0; i < 10; i++) {
		char *volatile p = malloc(64);

		free(p);
	}
}

static void *thread_body(void *arg)
{
	return arg;
}

__attribute__((noinline)) void child_threads(void)
{
	pthread_t thread;

	for (int i = 0; i < 2; i++)
		pthread_create(&thread, NULL, thread_body, NULL);
	pthread_create(&thread, NULL, thread_body, NULL);
	pthread_join(thread, NULL);
	usleep(100 * 1000); /* the two others have exited by now */
}

__attribute__((noinline)) void before_exec(void)
{
	for (int i = 0; i < 4; i++)
		sink = malloc(100);
}

static void child(void *block)
{
	while (!go_child)
		pause();
	child_leak();
	child_churn();
	child_threads();
	free(block);
	printf("child done %d\n", (int)getpid());
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "--wait");
	char **rest = argv + 1 + wait;
	void *block;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	if (wait) {
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	if (rest[0] && !strcmp(rest[0], "exec") && rest[1]) {
		before_exec();
		execv(rest[1], rest + 1);
		perror("execv");
		return 1;
	}
	parent_leak();
	block = inherited();
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		child(block);
	printf("child %d\n", (int)pid);
	printf("done\n");
	for (;;)
		pause();
}
