/* SPDX-License-Identifier: MIT */
/*
 * Reading the thread and goroutine maps into snapshots.
 */
#ifndef LS_COLLECT_THREADS_H
#define LS_COLLECT_THREADS_H

#include "goroutine_groups.h"
#include "thread_groups.h"

/* Reads the thread maps (at most LS_MAX_TRACKED_THREADS records: O(threads)). */
struct thread_collector;

struct thread_collector *thread_collector_new(int threads_fd, int stacks_fd, uint32_t max_stacks);
void thread_collector_free(struct thread_collector *c);

/* Fill snap (valid until the next call).  Returns 0 or -errno. */
int thread_collector_read(struct thread_collector *c, struct thread_snapshot *snap);

/* Read map `go_sites` into sites (at most max); returns how many. */
size_t collect_go_sites(int go_sites_fd, struct go_site_entry *sites, size_t max);

#endif
