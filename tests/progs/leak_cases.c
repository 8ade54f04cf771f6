// SPDX-License-Identifier: MIT
/*
 * Blocks of every reachability category, each from its own function, so
 * that a leak check's verdicts can be compared site by site with valgrind's
 * (tests/integration/test_leak_check.py):
 *
 *   cache_entry      4 x 100  reachable: a global array points to them
 *   dropped          3 x 200  definitely lost: their pointers were dropped
 *   list_head        1 x 48   definitely lost: the head of a lost list
 *   list_node        2 x 48   indirectly lost: reached only from the head
 *   interior_only    1 x 300  possibly lost: a global points 40 bytes in
 *   cycle_node       2 x 64   lost cycle: one definitely, one indirectly lost
 *   on_thread_stack  1 x 128  reachable: only a blocked thread's stack has it
 *   in_tls           1 x 144  reachable: only a thread-local variable has it
 *   in_mapping       1 x 160  reachable: only an anonymous mapping has it
 *   in_old_table     1 x 176  reachable: only a table allocated first has it
 *   old_table        1 x 64   the table (with "wait", allocated before attach)
 *
 * No argument: set up, then return from main (the check at exit, as
 * valgrind's).  "--wait": allocate old_table, print "ready", wait for
 * SIGUSR1 (the tracer attaches meanwhile), set up the rest, print "done" and
 * sleep until killed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

struct node {
	struct node *next;
	char payload[40];
};

/* Global, not static: stores the program never reads again must stay. */
void *cache[4];
char *interior;
__thread void *tls_pointer;
void **mapping;
void **old_table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static volatile sig_atomic_t go;

NOINLINE void *cache_entry(void) { return malloc(100); }
NOINLINE void *dropped(void) { return malloc(200); }
NOINLINE struct node *list_head(void) { return malloc(sizeof(struct node)); }
NOINLINE struct node *list_node(void) { return malloc(sizeof(struct node)); }
NOINLINE char *interior_only(void) { return malloc(300); }
NOINLINE struct node *cycle_node(void) { return malloc(64); }
NOINLINE void *on_thread_stack(void) { return malloc(128); }
NOINLINE void *in_tls(void) { return malloc(144); }
NOINLINE void *in_mapping(void) { return malloc(160); }
NOINLINE void *in_old_table(void) { return malloc(176); }
NOINLINE void **old_table_alloc(void) { return calloc(8, sizeof(void *)); }

/* Overwrite what is left of the frames below, so no stale pointer stays there. */
NOINLINE void clobber_stack(void)
{
	volatile char scratch[16384];

	memset((char *)scratch, 0, sizeof(scratch));
}

static void *holder(void *arg)
{
	void *volatile mine = on_thread_stack();

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&never, &lock);
	return mine;
}

NOINLINE void set_up(void)
{
	struct node *head, *a, *b;
	pthread_t thread;

	for (int i = 0; i < 4; i++)
		cache[i] = cache_entry();
	for (int i = 0; i < 3; i++)
		*(volatile char *)dropped() = 1;
	head = list_head();
	head->next = list_node();
	head->next->next = list_node();
	head->next->next->next = NULL;
	interior = interior_only() + 40;
	a = cycle_node();
	b = cycle_node();
	a->next = b;
	b->next = a;
	tls_pointer = in_tls();
	mapping = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mapping == MAP_FAILED)
		exit(1);
	mapping[7] = in_mapping();
	if (old_table)
		old_table[3] = in_old_table();
	pthread_create(&thread, NULL, holder, NULL);
	pthread_detach(thread);
	usleep(100000); /* the thread is blocked with its block on its stack */
}

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

int main(int argc, char **argv)
{
	int wait_mode = argc > 1 && !strcmp(argv[1], "--wait");

	if (wait_mode) {
		sigset_t none, usr1;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL); /* so that it waits in sigsuspend */
		signal(SIGUSR1, on_usr1);
		old_table = old_table_alloc();
		printf("ready\n");
		fflush(stdout);
		sigemptyset(&none);
		while (!go)
			sigsuspend(&none);
	}
	set_up();
	clobber_stack();
	if (wait_mode) {
		printf("done\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	return 0;
}
