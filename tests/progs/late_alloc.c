// SPDX-License-Identifier: MIT
/*
 * An allocator loaded after attach.  `late_alloc [--wait] [--exit] [--tight N] LIB`
 * prints "ready PID" and, with --wait, waits for SIGUSR1; then dlopens LIB
 * (libtcmalloc_minimal.so.4, say) and calls its own malloc and free, found
 * with dlsym in LIB's scope (this program's other calls stay on libc):
 *
 *   default      after 300 ms (with --wait: once it has printed "loaded" and
 *                got SIGUSR1 again, when the tracer says LIB is probed):
 *                  late_leak    6 x malloc(123) held              738 / 6
 *                  late_churn  10 x malloc(77), each freed          0 / 0
 *   --tight N    at once: N x malloc(64) held, one every 20 us, in
 *                tight_site; it prints "tight N 20": what leaksnoop saw
 *                of them says how long LIB ran unprobed.
 *
 * Then it prints "done" and sleeps until killed (--exit: exits, its blocks held).
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TIGHT_PERIOD_US 20

static void *(*lib_malloc)(size_t);
static void (*lib_free)(void *);
static void *volatile sink;
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void spin_us(long us)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while ((now.tv_sec - start.tv_sec) * 1000000L + (now.tv_nsec - start.tv_nsec) / 1000 < us);
}

__attribute__((noinline)) void late_leak(void)
{
	for (int i = 0; i < 6; i++)
		sink = lib_malloc(123);
}

__attribute__((noinline)) void late_churn(void)
{
	for (int i = 0; i < 10; i++) {
		sink = lib_malloc(77);
		lib_free(sink);
	}
}

__attribute__((noinline)) void tight_site(long n)
{
	for (long i = 0; i < n; i++) {
		sink = lib_malloc(64);
		spin_us(TIGHT_PERIOD_US);
	}
}

int main(int argc, char **argv)
{
	int wait_signal = 0, exit_when_done = 0;
	long tight = 0;
	void *lib;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait_signal = 1;
		else if (!strcmp(argv[i], "--exit"))
			exit_when_done = 1;
		else if (!strcmp(argv[i], "--tight") && i + 1 < argc)
			tight = atol(argv[++i]);
	}
	if (i >= argc) {
		fprintf(stderr, "usage: late_alloc [--wait] [--exit] [--tight N] LIB\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (wait_signal && !go)
		pause();
	lib = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib || !(lib_malloc = (void *(*)(size_t))dlsym(lib, "malloc")) ||
	    !(lib_free = (void (*)(void *))dlsym(lib, "free"))) {
		fprintf(stderr, "late_alloc: %s\n", dlerror());
		return 1;
	}
	if (tight) {
		tight_site(tight);
		printf("tight %ld %d\n", tight, TIGHT_PERIOD_US);
	} else {
		if (wait_signal) {
			go = 0;
			printf("loaded\n");
			fflush(stdout);
			while (!go)
				pause();
		} else {
			usleep(300 * 1000);
		}
		late_leak();
		late_churn();
	}
	printf("done\n");
	fflush(stdout);
	while (!exit_when_done)
		pause();
	return 0;
}
