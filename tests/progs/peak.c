// SPDX-License-Identifier: MIT
/*
 * A peak and a fall: `peak [--wait]` prints "ready PID" (with --wait it waits
 * for SIGUSR1), keeps 5 blocks of 1,000 bytes from kept_site, allocates 100
 * blocks of 10,000 bytes in burst_site and holds them 2.5 s ("peak"), frees
 * 90 of them and prints "done", then sleeps until killed: burst_site holds
 * 1,000,000 bytes at the peak and 100,000 at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BURST 100
#define BURST_BYTES 10000
#define KEPT 5

static volatile sig_atomic_t go;
/* Not static: the compiler may not drop blocks nothing reads. */
void *burst[BURST], *kept[KEPT];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

__attribute__((noinline)) void kept_site(void)
{
	for (int i = 0; i < KEPT; i++)
		kept[i] = malloc(1000);
}

__attribute__((noinline)) void burst_site(void)
{
	for (int i = 0; i < BURST; i++) {
		burst[i] = malloc(BURST_BYTES);
		memset(burst[i], 1, BURST_BYTES);
	}
}

int main(int argc, char **argv)
{
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (argc > 1 && !strcmp(argv[1], "--wait") && !go)
		pause();
	kept_site();
	burst_site();
	printf("peak\n");
	fflush(stdout);
	usleep(2500 * 1000);
	for (int i = 10; i < BURST; i++)
		free(burst[i]);
	printf("done\n");
	fflush(stdout);
	for (;;)
		pause();
}
