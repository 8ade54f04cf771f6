// SPDX-License-Identifier: MIT
/*
 * A leak that runs until the OOM killer ends it: `oom_leak [--wait]` prints
 * "ready PID" (with --wait it waits for SIGUSR1), keeps 5 blocks of 1,000
 * bytes from kept_site, then in leak_site allocates 1 MiB blocks and writes
 * every page of each, forever.  After each malloc returns it prints
 * "held N" (N blocks from leak_site so far) before touching the block, so
 * the last line read is what the tracer must show when the kill came.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEAK_BYTES (1 << 20)
#define KEPT_BLOCKS 5
#define KEPT_BYTES 1000

static volatile sig_atomic_t go;
static void *kept[KEPT_BLOCKS];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

__attribute__((noinline)) void kept_site(void)
{
	for (int i = 0; i < KEPT_BLOCKS; i++) {
		kept[i] = malloc(KEPT_BYTES);
		memset(kept[i], 1, KEPT_BYTES);
	}
}

__attribute__((noinline)) void *leak_site(void)
{
	return malloc(LEAK_BYTES);
}

int main(int argc, char **argv)
{
	char line[32];

	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (argc > 1 && !strcmp(argv[1], "--wait") && !go)
		pause();
	kept_site();
	for (unsigned long held = 1;; held++) {
		char *block = leak_site();
		int n;

		if (!block)
			return 1;
		n = snprintf(line, sizeof(line), "held %lu\n", held);
		if (write(STDOUT_FILENO, line, (size_t)n) != n)
			return 1;
		for (size_t at = 0; at < LEAK_BYTES; at += 4096)
			block[at] = 1;
		usleep(2000); /* a pace the tracer's reports can follow */
	}
}
