/* SPDX-License-Identifier: MIT */
/*
 * The per-CPU banks of heap and mmap totals (include/leaksnoop.h, struct
 * slot_delta): how a retired bank's cells are folded into running totals
 * that a report adds to `stack_stats`.  How many slots the banks cover is
 * decided at load (attach/map_sizes.h).
 */
#ifndef LS_SLOT_DELTAS_H
#define LS_SLOT_DELTAS_H

#include <stdbool.h>
#include <stdint.h>

#include "attach/tracer.h"
#include "leaksnoop.h"

/* Running totals of one slot over every bank read so far. */
struct slot_totals {
	int64_t alloc_bytes, allocs, freed_bytes, frees;
	uint64_t held_since_ns; /* when it went from holding nothing to holding; 0: holds nothing */
	struct age_slot young[LS_AGE_SLOTS]; /* epochs as in struct stack_stats */
};

/*
 * Fold one slot's cells of a retired bank (one per CPU) into its totals.
 * now_ns: when the bank was retired; it dates a slot that went back to
 * holding without a new allocation (a failed realloc gives its block back)
 * and tells the cells' full epochs.  age_epoch_ns: 0 without the age filter.
 */
void slot_totals_fold(struct slot_totals *totals, const struct slot_delta *cells, int ncpus,
		      uint64_t now_ns, uint64_t age_epoch_ns);

/* Add a slot's totals to what `stack_stats` holds for it. */
void slot_totals_apply(const struct slot_totals *totals, struct stack_stats *stats);

#endif
