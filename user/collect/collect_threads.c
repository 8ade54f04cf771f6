// SPDX-License-Identifier: MIT
/*
 * Reading maps `threads`, `thread_stacks` and `go_sites` (collect_threads.h)
 * in batches, O(threads).  Grouping them is thread_groups.c's and
 * goroutine_groups.c's.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "collect_threads.h"
#include "map_walk.h"

struct thread_collector {
	int threads_fd, stacks_fd;
	uint32_t max_stacks;
	struct thread_entry *threads;
	struct thread_stack_entry *stacks;
};

struct thread_collector *thread_collector_new(int threads_fd, int stacks_fd, uint32_t max_stacks)
{
	struct thread_collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->threads_fd = threads_fd;
	c->stacks_fd = stacks_fd;
	c->max_stacks = max_stacks;
	c->threads = calloc(LS_MAX_TRACKED_THREADS, sizeof(*c->threads));
	c->stacks = calloc(max_stacks, sizeof(*c->stacks));
	if (!c->threads || !c->stacks) {
		thread_collector_free(c);
		return NULL;
	}
	return c;
}

void thread_collector_free(struct thread_collector *c)
{
	if (!c)
		return;
	free(c->threads);
	free(c->stacks);
	free(c);
}

/* Where read_map puts each entry: an array of structs holding the key and the value. */
struct entry_array {
	uint8_t *entries;
	size_t entry_size, key_off, key_size, value_off, value_size, count;
};

static bool copy_entry(const void *key, const void *value, void *arg)
{
	struct entry_array *a = arg;
	uint8_t *entry = a->entries + a->count++ * a->entry_size;

	memcpy(entry + a->key_off, key, a->key_size);
	memcpy(entry + a->value_off, value, a->value_size);
	return true;
}

/*
 * Read up to max entries of a hash map into an array of structs, each holding
 * its key at key_off and its value (value_size bytes) at value_off.  The maps
 * read here are small and change rarely, so key by key will do.
 */
static size_t read_map(int fd, void *entries, size_t entry_size, size_t key_off,
		       size_t key_size, size_t value_off, size_t value_size, size_t max)
{
	struct entry_array a = { entries, entry_size, key_off, key_size, value_off, value_size, 0 };

	map_walk(fd, key_size, value_size, max, copy_entry, &a);
	return a.count;
}

int thread_collector_read(struct thread_collector *c, struct thread_snapshot *snap)
{
	struct timespec now;

	snap->threads = c->threads;
	snap->thread_count = read_map(c->threads_fd, c->threads, sizeof(*c->threads),
				      offsetof(struct thread_entry, tid), sizeof(__u32),
				      offsetof(struct thread_entry, record), sizeof(struct thread_record),
				      LS_MAX_TRACKED_THREADS);
	snap->stacks = c->stacks;
	snap->stack_count = read_map(c->stacks_fd, c->stacks, sizeof(*c->stacks),
				     offsetof(struct thread_stack_entry, key),
				     sizeof(struct thread_stack_key),
				     offsetof(struct thread_stack_entry, stats),
				     sizeof(struct thread_stack_stats), c->max_stacks);
	clock_gettime(CLOCK_MONOTONIC, &now);
	snap->time_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	return 0;
}

size_t collect_go_sites(int go_sites_fd, struct go_site_entry *sites, size_t max)
{
	return read_map(go_sites_fd, sites, sizeof(*sites), offsetof(struct go_site_entry, gopc),
			sizeof(__u64), offsetof(struct go_site_entry, site), sizeof(struct go_site),
			max);
}
