// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "collect_threads.h"

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

/*
 * Walk a hash map key by key (thread events are rare, the maps small).  A key
 * deleted during the walk makes the kernel restart from the first key; the
 * bound keeps that finite.
 */
static size_t read_threads(struct thread_collector *c)
{
	__u32 key = 0, next;
	size_t n = 0;
	bool first = true;

	while (n < LS_MAX_TRACKED_THREADS &&
	       !bpf_map_get_next_key(c->threads_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (!bpf_map_lookup_elem(c->threads_fd, &key, &c->threads[n].record))
			c->threads[n++].tid = key;
	}
	return n;
}

static size_t read_stacks(struct thread_collector *c)
{
	__u64 key = 0, next;
	size_t n = 0;
	bool first = true;

	while (n < c->max_stacks &&
	       !bpf_map_get_next_key(c->stacks_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (!bpf_map_lookup_elem(c->stacks_fd, &key, &c->stacks[n].stats))
			c->stacks[n++].stack_hash = key;
	}
	return n;
}

int thread_collector_read(struct thread_collector *c, struct thread_snapshot *snap)
{
	struct timespec now;

	snap->threads = c->threads;
	snap->thread_count = read_threads(c);
	snap->stacks = c->stacks;
	snap->stack_count = read_stacks(c);
	clock_gettime(CLOCK_MONOTONIC, &now);
	snap->time_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	return 0;
}

size_t collect_go_sites(int go_sites_fd, struct go_site_entry *sites, size_t max)
{
	__u64 key = 0, next;
	size_t n = 0;
	bool first = true;

	while (n < max && !bpf_map_get_next_key(go_sites_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (!bpf_map_lookup_elem(go_sites_fd, &key, &sites[n].site))
			sites[n++].gopc = key;
	}
	return n;
}
