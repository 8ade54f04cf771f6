// SPDX-License-Identifier: MIT
/*
 * Kernel allocations with a known truth, for --kernel: keep_eventfds() opens
 * 64 eventfds and keeps them (the kernel holds each one's objects),
 * churn_eventfds() opens and closes 64 more (the kernel frees theirs).
 * With --wait it prints "ready PID", starts on SIGUSR1, prints "done" and
 * then sleeps until killed, its 64 eventfds still open.  With --fork after
 * --wait, a child it forks does the same (printing "child PID" first).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVENTFDS 64

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

__attribute__((noinline)) static int keep_eventfds(int *fds)
{
	for (int i = 0; i < EVENTFDS; i++)
		if ((fds[i] = eventfd(0, 0)) < 0)
			return -1;
	return 0;
}

__attribute__((noinline)) static int churn_eventfds(void)
{
	for (int i = 0; i < EVENTFDS; i++) {
		int fd = eventfd(0, 0);

		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "--wait");
	int in_child = argc > 2 && !strcmp(argv[2], "--fork");
	int fds[EVENTFDS];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (wait) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	if (in_child) {
		pid_t child = fork();

		if (child < 0)
			return 1;
		if (child > 0)
			for (;;)
				pause();
		printf("child %d\n", (int)getpid());
	}
	if (keep_eventfds(fds) || churn_eventfds()) {
		perror("eventfd");
		return 1;
	}
	printf("done\n");
	if (wait)
		for (;;)
			pause();
	return 0;
}
