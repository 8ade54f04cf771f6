// SPDX-License-Identifier: MIT
/*
 * Leaks through code built without frame pointers (tests/tests.mk builds this
 * file with -O2 -fomit-frame-pointer), for --unwind dwarf.  After SIGUSR1:
 *   chain_leaf <- chain_middle <- chain_outer <- main: 10 x malloc(100) held;
 *   dup_site: 5 x strdup of 31 characters (32 bytes) held, through libc's strdup;
 *   churn_site: 20 x malloc(40), all freed;
 *   thread_leaf <- thread_main (a thread, joined): 4 x malloc(48) held;
 *   map_site: one anonymous mmap of 65536 bytes held;
 * then dlopen()s libleakylib.so (next to this program, not mapped before) and
 * calls lib_leak(1, 72), waits 300 ms, calls lib_leak(8, 72): 9 blocks held.
 * Prints "done" and sleeps until killed.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
/* Keeps a call from becoming a jump (no tail call) without a frame pointer. */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

static volatile sig_atomic_t go;
void *held[64];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

NOINLINE void *chain_leaf(size_t size)
{
	void *p = malloc(size);

	KEEP(p);
	return p;
}

NOINLINE void *chain_middle(size_t size)
{
	void *p = chain_leaf(size);

	KEEP(p);
	return p;
}

NOINLINE void *chain_outer(size_t size)
{
	void *p = chain_middle(size);

	KEEP(p);
	return p;
}

NOINLINE char *dup_site(const char *text)
{
	char *p = strdup(text);

	KEEP(p);
	return p;
}

NOINLINE void churn_site(void)
{
	void *p = malloc(40);

	KEEP(p);
	free(p);
}

NOINLINE void *thread_leaf(void)
{
	void *p = malloc(48);

	KEEP(p);
	return p;
}

NOINLINE void *thread_main(void *arg)
{
	void **out = arg;

	for (int i = 0; i < 4; i++)
		out[i] = thread_leaf();
	return NULL;
}

NOINLINE void *map_site(void)
{
	void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	KEEP(p);
	return p;
}

/* libleakylib.so from this program's directory, loaded only now. */
static int leak_from_library(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	void (*lib_leak)(int, size_t);
	void *lib;

	if (n <= 0)
		return -1;
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, "libleakylib.so");
	lib = dlopen(path, RTLD_NOW);
	if (!lib)
		return -1;
	lib_leak = (void (*)(int, size_t))dlsym(lib, "lib_leak");
	if (!lib_leak)
		return -1;
	lib_leak(1, 72);
	usleep(300 * 1000);
	lib_leak(8, 72);
	return 0;
}

int main(void)
{
	pthread_t thread;
	int n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	while (!go)
		pause();
	for (int i = 0; i < 10; i++)
		held[n++] = chain_outer(100);
	for (int i = 0; i < 5; i++)
		held[n++] = dup_site("thirty-one characters of text!!");
	for (int i = 0; i < 20; i++)
		churn_site();
	if (pthread_create(&thread, NULL, thread_main, &held[n]) || pthread_join(thread, NULL))
		return 1;
	n += 4;
	held[n++] = map_site();
	if (leak_from_library()) {
		fprintf(stderr, "nofp: %s\n", dlerror());
		return 1;
	}
	printf("done\n");
	for (;;)
		pause();
}
