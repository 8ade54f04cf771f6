// SPDX-License-Identifier: MIT
/*
 * Parallel link release and background event teardown (detach.h).  The
 * child made here does nothing but close the events it is handed: it
 * inherits no output and writes none, and it never touches the target.
 */
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "detach.h"

/* Threads releasing links at once: each mostly sleeps in the kernel's synchronization. */
#define DETACH_THREADS 16

struct link_batch {
	struct bpf_link **links;
	size_t count;
	atomic_size_t next;
};

static void *destroy_some(void *arg)
{
	struct link_batch *batch = arg;
	size_t i;

	while ((i = atomic_fetch_add(&batch->next, 1)) < batch->count)
		bpf_link__destroy(batch->links[i]);
	return NULL;
}

void links_destroy_parallel(struct bpf_link **links, size_t count)
{
	struct link_batch batch = { .links = links, .count = count };
	pthread_t threads[DETACH_THREADS];
	size_t started = 0;

	while (started < DETACH_THREADS && started < count &&
	       !pthread_create(&threads[started], NULL, destroy_some, &batch))
		started++;
	destroy_some(&batch); /* whatever no thread took, or all of them without threads */
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

static int compare_fds(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * In the child: every descriptor but the sorted events (and last_fd) closed,
 * then the events one by one, then last_fd.
 */
static _Noreturn void close_events_and_exit(const int *sorted, size_t count, int last_fd)
{
	unsigned int low = 0;

	setsid(); /* a Ctrl-C for the terminal is not for this process */
	prctl(PR_SET_NAME, "leaksnoop-close");
	if (last_fd >= 0) {
		int moved = fcntl(last_fd, F_DUPFD_CLOEXEC, sorted[count - 1] + 1);

		close(last_fd);
		last_fd = moved;
	}
	for (size_t i = 0; i < count; i++) {
		if ((unsigned int)sorted[i] > low)
			close_range(low, (unsigned int)sorted[i] - 1, 0);
		low = (unsigned int)sorted[i] + 1;
	}
	if (last_fd >= 0 && (unsigned int)last_fd > low)
		close_range(low, (unsigned int)last_fd - 1, 0);
	close_range(last_fd >= 0 ? (unsigned int)last_fd + 1 : low, ~0U, 0);
	for (size_t i = 0; i < count; i++)
		close(sorted[i]);
	if (last_fd >= 0)
		close(last_fd);
	_exit(0);
}

void events_release_in_background(int *fds, size_t count, int last_fd, bool verbose)
{
	pid_t child;

	if (!count) {
		if (last_fd >= 0)
			close(last_fd);
		return;
	}
	/* Disabled, an event whose probe still traps records nothing until it is gone. */
	for (size_t i = 0; i < count; i++)
		ioctl(fds[i], PERF_EVENT_IOC_DISABLE, 0);
	qsort(fds, count, sizeof(*fds), compare_fds);
	child = fork();
	if (child == 0)
		close_events_and_exit(fds, count, last_fd);
	if (verbose && child > 0)
		fprintf(stderr, "leaksnoop: every program detached; the kernel removes the %zu "
			"probe events in the background (PID %d, ~0.1 s each)\n", count, (int)child);
	for (size_t i = 0; i < count; i++)
		close(fds[i]); /* the child's copies keep them; without a child, this waits */
	if (last_fd >= 0)
		close(last_fd);
}
