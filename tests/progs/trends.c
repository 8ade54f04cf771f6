// SPDX-License-Identifier: MIT
/*
 * Two stacks, two trends: steady_leak() leaks 1 KiB every 100 ms for as long
 * as it runs; fill_cache() builds a 200 KiB cache in its first second and then
 * holds it untouched.  With --wait it starts on SIGUSR1.  Runs SECONDS (argv).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;
void *kept[4096];
static int count;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

void steady_leak(void)
{
	kept[count++ % 4096] = malloc(1024);
}

void fill_cache(void)
{
	kept[count++ % 4096] = malloc(20 * 1024);
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2 && !strcmp(argv[2], "--wait")) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	for (int tick = 0; tick < seconds * 10; tick++) {
		steady_leak();
		if (tick < 10)
			fill_cache();
		usleep(100 * 1000);
	}
	printf("done\n");
	return 0;
}
