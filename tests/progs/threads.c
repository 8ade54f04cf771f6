// SPDX-License-Identifier: MIT
/*
 * Threads with an exactly known fate, created from distinct sites.  With
 * --wait it starts on SIGUSR1; it prints "done" once every fate is settled,
 * then sleeps until killed (the blocked and pool threads stay alive).
 *
 *   joined_site       3 threads, exit, joined                  gone 3
 *   detach_call_site  2 threads, pthread_detach, exit          gone 2
 *   detach_attr_site  2 threads created detached, exit         gone 2
 *   leak_site         4 threads (256 KiB stacks), exit, never
 *                     joined nor detached                      leaked 4, 1 MiB of stacks
 *   blocked_site      2 threads blocked forever                live 2
 *   pool_site         a pool that grows by 1 thread per 100 ms
 *                     up to 10, all blocked                    live 10 (growth while it grows)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static pthread_mutex_t forever = PTHREAD_MUTEX_INITIALIZER;
static volatile int exited;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void *quick(void *arg)
{
	(void)arg;
	__sync_fetch_and_add(&exited, 1);
	return NULL;
}

static void *blocked(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&forever); /* held by main: never returns */
	return NULL;
}

void joined_site(void)
{
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, quick, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

void detach_call_site(void)
{
	pthread_t t;

	for (int i = 0; i < 2; i++) {
		pthread_create(&t, NULL, quick, NULL);
		pthread_detach(t);
	}
}

void detach_attr_site(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 2; i++)
		pthread_create(&t, &attr, quick, NULL);
	pthread_attr_destroy(&attr);
}

void leak_site(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < 4; i++)
		pthread_create(&t, &attr, quick, NULL);
	pthread_attr_destroy(&attr);
}

void blocked_site(void)
{
	pthread_t t;

	for (int i = 0; i < 2; i++)
		pthread_create(&t, NULL, blocked, NULL);
}

void pool_site(void)
{
	pthread_t t;

	for (int i = 0; i < 10; i++) {
		pthread_create(&t, NULL, blocked, NULL);
		usleep(100 * 1000);
	}
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "--wait");

	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_mutex_lock(&forever);
	if (wait) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	joined_site();
	detach_call_site();
	detach_attr_site();
	leak_site();
	blocked_site();
	while (exited < 11) /* every quick thread has run to its end */
		usleep(1000);
	usleep(100 * 1000);
	pool_site();
	printf("done\n");
	for (;;)
		pause();
}
