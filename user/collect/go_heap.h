/* SPDX-License-Identifier: MIT */
/*
 * The Go heap as the runtime's own memory profile has it, read from outside
 * with no probe: the list runtime.mbuckets, one bucket per (stack, size),
 * each with the allocations and frees the last completed GC cycle
 * published.  What runtime.MemProfile and /debug/pprof/heap are made of.
 */
#ifndef LS_GO_HEAP_H
#define LS_GO_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aggregate.h"

struct go_heap;

/* Where the profile lives in pid (run-time addresses: link-time plus the load bias). */
struct go_heap *go_heap_new(pid_t pid, uint64_t mbuckets_addr, uint64_t memprofilerate_addr);
void go_heap_free(struct go_heap *h);

/*
 * Read the profile: one sample per bucket that has published any
 * allocation, kind LS_KIND_GO_HEAP, key.stack_hash the bucket's address,
 * values scaled as pprof scales them (go_heap_scale).  The samples and their
 * traces live until the next read.  Returns how many, or -errno: -EPROTO
 * when the list does not look like the runtime's (a layout this reader does
 * not know).  Once the process has gone, the last read is returned again:
 * it is the process's final profile.
 */
int go_heap_read(struct go_heap *h, const struct stack_sample **samples);

/* The MemProfileRate the last read found (0: profiling off). */
int64_t go_heap_rate(const struct go_heap *h);

/*
 * pprof's scaling of a sampled (count, bytes): each sample stands for
 * 1 / (1 - exp(-average size / rate)) allocations.  rate <= 1: as is.
 */
void go_heap_scale(int64_t count, int64_t bytes, int64_t rate, int64_t *scaled_count,
		   int64_t *scaled_bytes);

#endif
