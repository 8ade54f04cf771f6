/* SPDX-License-Identifier: MIT */
/*
 * Reading the per-stack maps into a snapshot.
 */
#ifndef LS_COLLECT_H
#define LS_COLLECT_H

#include "aggregate.h"
#include "attach/tracer.h"
#include "slot_deltas.h"

/*
 * Reads the per-stack maps into a snapshot: O(stacks) in batches, whatever
 * the number of outstanding blocks.  Stack frames never change once stored,
 * so each is fetched from the kernel once and cached here.
 */
struct collector;

/* sample_rate: with -s N each recorded block stands for N; values are scaled up. */
/* The maps a collector reads (see include/leaksnoop.h). */
struct stats_maps {
	int stats_fd, slots_used_fd, traces_fd, counters_fd;
	struct delta_banks banks;
};

struct collector *collector_new(const struct stats_maps *maps, uint32_t max_stacks,
				 uint32_t sample_rate);
void collector_free(struct collector *c);

/* The frames stored for a stack hash (cached), or NULL. */
const struct stack_trace *collector_trace(struct collector *c, uint64_t hash);

/* Fill snap (valid until the next call).  Returns 0 or -errno. */
int collector_read(struct collector *c, struct snapshot *snap);

#endif
