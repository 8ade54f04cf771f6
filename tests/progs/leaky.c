// SPDX-License-Identifier: MIT
/*
 * Leaks with an exactly known truth, for the integration tests.  With
 * --wait it prints "ready" and waits for SIGUSR1 (so a tracer can attach with
 * -p first); then it runs every case once, prints "done" and, with --linger,
 * sleeps until killed.  The truth per site (bytes / blocks still held):
 *
 *   leak_a            10 x malloc(1000)                    10000 / 10
 *   leak_b            5 x calloc(3, 100)                    1500 / 5
 *   churn             1000 x malloc(512) + free                0 / 0
 *   realloc_chain     realloc NULL->10->100->1000->5000     5000 / 1
 *   realloc_to_zero   malloc(77), realloc(p, 0)                0 / 0
 *   memalign_posix    3 x posix_memalign(64, 256)            768 / 3
 *   memalign_aligned  2 x aligned_alloc(64, 128)             256 / 2
 *   dup_strings       4 x strdup("hello world")               48 / 4
 *   cross_thread      20 x malloc(256) freed by a thread       0 / 0
 *   thread_leak       (in that thread) 7 x malloc(300)      2100 / 7
 *   lib_leak          (libleakylib.so) 8 x malloc(333)      2664 / 8
 *   mmap_leak         3 x mmap(64 KiB), 1 unmapped        131072 / 2  (kind mmap)
 *   mmap_unmapped     4 x mmap(32 KiB), all unmapped           0 / 0  (kind mmap)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void lib_leak(int count, size_t size);

static volatile sig_atomic_t go;
static void *keep[256];
static int kept;

static void hold(void *p)
{
	keep[kept++ % 256] = p;
}

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

void leak_a(void)
{
	for (int i = 0; i < 10; i++)
		hold(malloc(1000));
}

void leak_b(void)
{
	for (int i = 0; i < 5; i++)
		hold(calloc(3, 100));
}

void churn(void)
{
	for (int i = 0; i < 1000; i++) {
		char *volatile p = malloc(512); /* volatile: no malloc/free elision */

		p[0] = (char)i;
		free(p);
	}
}

void realloc_chain(void)
{
	char *p = realloc(NULL, 10);

	p = realloc(p, 100);
	p = realloc(p, 1000);
	p = realloc(p, 5000);
	hold(p);
}

void realloc_to_zero(void)
{
	char *p = malloc(77);

	p = realloc(p, 0);
	hold(p);
}

void memalign_posix(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = NULL;

		if (posix_memalign(&p, 64, 256) == 0)
			hold(p);
	}
}

void memalign_aligned(void)
{
	for (int i = 0; i < 2; i++)
		hold(aligned_alloc(64, 128));
}

void dup_strings(void)
{
	for (int i = 0; i < 4; i++)
		hold(strdup("hello world"));
}

static void *thread_leak(void *blocks)
{
	void **list = blocks;

	for (int i = 0; i < 20; i++)
		free(list[i]);
	for (int i = 0; i < 7; i++)
		hold(malloc(300));
	return NULL;
}

void cross_thread(void)
{
	static void *blocks[20];
	pthread_t thread;

	for (int i = 0; i < 20; i++)
		blocks[i] = malloc(256);
	pthread_create(&thread, NULL, thread_leak, blocks);
	pthread_join(thread, NULL);
}

void mmap_leak(void)
{
	void *regions[3];

	for (int i = 0; i < 3; i++)
		regions[i] = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(regions[1], 65536);
}

void mmap_unmapped(void)
{
	for (int i = 0; i < 4; i++) {
		void *p = mmap(NULL, 32768, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		munmap(p, 32768);
	}
}

int main(int argc, char **argv)
{
	int wait = 0, linger = 0;

	for (int i = 1; i < argc; i++) {
		wait |= !strcmp(argv[i], "--wait");
		linger |= !strcmp(argv[i], "--linger");
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (wait) {
		signal(SIGUSR1, on_usr1);
		printf("ready %d\n", (int)getpid());
		while (!go)
			pause();
	}
	leak_a();
	leak_b();
	churn();
	realloc_chain();
	realloc_to_zero();
	memalign_posix();
	memalign_aligned();
	dup_strings();
	cross_thread();
	lib_leak(8, 333);
	mmap_leak();
	mmap_unmapped();
	printf("done\n");
	while (linger)
		pause();
	return 0;
}
