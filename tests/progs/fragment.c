// SPDX-License-Identifier: MIT
/*
 * A heap fragmented on purpose: `fragment [--wait]` prints "ready PID" (and
 * with --wait waits for SIGUSR1), then in fragment_site allocates 40,000
 * blocks of 1,000 bytes and frees every other one: 20,000 held (20,000,000
 * bytes), and the freed half stays resident in holes glibc cannot return.
 * It prints "done" and sleeps until killed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS 40000
#define BLOCK_BYTES 1000

static void *blocks[BLOCKS];
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

__attribute__((noinline)) void fragment_site(void)
{
	for (int i = 0; i < BLOCKS; i++) {
		blocks[i] = malloc(BLOCK_BYTES);
		memset(blocks[i], 1, BLOCK_BYTES); /* resident */
	}
	for (int i = 0; i < BLOCKS; i += 2) {
		free(blocks[i]);
		blocks[i] = NULL;
	}
}

int main(int argc, char **argv)
{
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (argc > 1 && !strcmp(argv[1], "--wait") && !go)
		pause();
	fragment_site();
	printf("done\n");
	fflush(stdout);
	for (;;)
		pause();
}
