// SPDX-License-Identifier: MIT
/*
 * A pre-forking server's shape, for children traced from their first
 * instruction.  `prefork [--wait] N` starts a thread (before leaksnoop can
 * attach) and, with --wait, prints "ready PID" and waits for SIGUSR1; then:
 *
 *   parent_site              in the parent: 2 x malloc(1000)          held 2000 / 2
 *   child_first_line         in each of N children, forked one after another,
 *                            their first call after fork: 7 x malloc(100)   held 700 / 7
 *   grandchild_first_line    in a child of the first child: 3 x malloc(50)  held 150 / 3
 *   thread_child_first_line  in a child forked by the thread that existed
 *                            before attach: 5 x malloc(300)               held 1500 / 5
 *   leaf_site                in a child that execs `prefork --leaf`, on the
 *                            new image's first lines: 9 x malloc(40)      held 360 / 9
 *
 * Each process prints "child PID" when it has allocated and then sleeps; the
 * parent prints "done" when all have.  The parent makes a process group of
 * its own, which every child joins: the test ends them with one kill.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile sink;
static volatile sig_atomic_t go;
static int ready_pipe[2];
static const char *self;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void say_child(void)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "child %d\n", (int)getpid());

	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		_exit(1);
}

/* A child's end: tell the parent it has allocated, then wait to be killed. */
static void child_done(void)
{
	char byte = 1;

	say_child();
	if (write(ready_pipe[1], &byte, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

__attribute__((noinline)) void parent_site(void)
{
	for (int i = 0; i < 2; i++)
		sink = malloc(1000);
}

__attribute__((noinline)) void child_first_line(void)
{
	for (int i = 0; i < 7; i++)
		sink = malloc(100);
}

__attribute__((noinline)) void grandchild_first_line(void)
{
	for (int i = 0; i < 3; i++)
		sink = malloc(50);
}

__attribute__((noinline)) void thread_child_first_line(void)
{
	for (int i = 0; i < 5; i++)
		sink = malloc(300);
}

__attribute__((noinline)) void leaf_site(void)
{
	for (int i = 0; i < 9; i++)
		sink = malloc(40);
}

static volatile int thread_go;

/* Started before attach; forks once the main thread says so. */
static void *forking_thread(void *arg)
{
	(void)arg;
	while (!thread_go)
		usleep(1000);
	if (fork() == 0) {
		thread_child_first_line();
		child_done();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bool wait = argc > 1 && !strcmp(argv[1], "--wait");
	int children = argc > 1 + wait ? atoi(argv[1 + wait]) : 100;
	pthread_t thread;
	char byte;

	self = argv[0];
	if (argc > 1 && !strcmp(argv[1], "--leaf")) {
		leaf_site();
		ready_pipe[1] = atoi(argv[2]);
		child_done();
	}
	setpgid(0, 0);
	if (pipe(ready_pipe) || pthread_create(&thread, NULL, forking_thread, NULL))
		return 1;
	signal(SIGUSR1, on_usr1);
	if (wait) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		while (!go)
			pause();
	}
	parent_site();
	for (int i = 0; i < children; i++) {
		if (fork() == 0) {
			child_first_line();
			if (i == 0 && fork() == 0) {
				grandchild_first_line();
				child_done();
			}
			child_done();
		}
	}
	thread_go = 1;
	pthread_join(thread, NULL);
	if (fork() == 0) {
		char fd[16];

		snprintf(fd, sizeof(fd), "%d", ready_pipe[1]);
		execl(self, self, "--leaf", fd, (char *)NULL);
		_exit(127);
	}
	/* N children, the grandchild, the thread's child and the exec'd one. */
	for (int i = 0; i < children + 3; i++)
		if (read(ready_pipe[0], &byte, 1) != 1)
			return 1;
	printf("done\n");
	fflush(stdout);
	for (;;)
		pause();
}
