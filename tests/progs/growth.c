// SPDX-License-Identifier: MIT
/*
 * Memory growth without a malloc in sight, for --growth: with --wait it starts
 * on SIGUSR1, then touch_pages() writes the first byte of each of 2048 fresh
 * anonymous pages (8 MiB, 2048 new pages), then rewrite() writes the same pages
 * again (no new memory), prints "done" and lingers.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES 2048

static volatile sig_atomic_t go;
static char *region;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

void touch_pages(void)
{
	long page = sysconf(_SC_PAGESIZE);

	for (long i = 0; i < PAGES; i++)
		region[i * page] = 1;
}

void rewrite(void)
{
	long page = sysconf(_SC_PAGESIZE);

	for (int round = 0; round < 10; round++)
		for (long i = 0; i < PAGES; i++)
			region[i * page] = (char)round;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	region = mmap(NULL, PAGES * sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (argc > 1 && !strcmp(argv[1], "--wait")) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	touch_pages();
	rewrite();
	printf("done\n");
	for (;;)
		pause();
}
