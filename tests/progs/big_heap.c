// SPDX-License-Identifier: MIT
/*
 * A target for the leak check's hold: COUNT blocks of SIZE bytes, filled
 * with a byte that is no pointer, held by a table that a global points to
 * (all reachable).  Prints "ready", then a tick every 20 ms on stdout and
 * "signal N" when SIGUSR1 arrives, so that a test sees it run on and get
 * its signals after a check.  `big_heap COUNT SIZE [LOST [exit|fork]]`: LOST
 * more blocks whose pointers are dropped (definitely lost); "exit": return
 * from main once ready instead (a check at exit, valgrind's); "fork": fork a
 * child that exits at once before every tick, and reap it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void **table;
static volatile sig_atomic_t signals;

static void on_usr1(int sig)
{
	(void)sig;
	signals++;
}

/* Where a lost block's pointer goes before it is dropped: the compiler cannot drop the malloc. */
void *volatile last_lost;

__attribute__((noinline)) static void lost_block(size_t size)
{
	last_lost = malloc(size);
	memset(last_lost, 0x11, size);
}

int main(int argc, char **argv)
{
	size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	size_t size = argc > 2 ? strtoul(argv[2], NULL, 10) : 1024;
	size_t lost = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	unsigned tick = 0, seen = 0;
	int forking = argc > 4 && !strcmp(argv[4], "fork");

	signal(SIGUSR1, on_usr1);
	table = malloc(count * sizeof(*table));
	for (size_t i = 0; i < count; i++) {
		table[i] = malloc(size);
		memset(table[i], 0x11, size);
	}
	for (size_t i = 0; i < lost; i++)
		lost_block(size);
	last_lost = NULL;
	printf("ready\n");
	fflush(stdout);
	if (argc > 4 && !strcmp(argv[4], "exit"))
		return 0;
	for (;;) {
		usleep(20000);
		if (forking) {
			pid_t child = fork();

			if (child == 0)
				_exit(0);
			if (child < 0 || waitpid(child, NULL, 0) != child)
				printf("fork failed\n");
		}
		if (signals != seen) {
			seen = signals;
			printf("signal %u\n", seen);
		}
		printf("tick %u\n", ++tick);
		fflush(stdout);
	}
}
