/* SPDX-License-Identifier: MIT */
/*
 * The per-CPU banks of heap and mmap totals (include/leaksnoop.h, struct
 * slot_delta): how many slots they cover, and how a retired bank's cells
 * are folded into running totals that a report adds to `stack_stats`.
 */
#ifndef LS_SLOT_DELTAS_H
#define LS_SLOT_DELTAS_H

#include <stdbool.h>
#include <stdint.h>

#include "leaksnoop.h"

/* The banks' maps: the switch that names the live bank, and both banks. */
struct delta_banks {
	int switch_fd;
	int bank_fd[2]; /* bank_fd[0] is live at load */
	uint32_t slots; /* slots they cover; 0: none */
	uint64_t age_epoch_ns; /* of their young cells; 0: no age filter */
};

/* Running totals of one slot over every bank read so far. */
struct slot_totals {
	int64_t alloc_bytes, allocs, freed_bytes, frees;
	uint64_t held_since_ns; /* when it went from holding nothing to holding; 0: holds nothing */
	struct age_slot young[LS_AGE_SLOTS]; /* epochs as in struct stack_stats */
};

/* Slots the banks cover: as many as LS_DELTA_BANK_BUDGET allows. */
uint32_t delta_bank_slots(uint32_t max_stacks, int ncpus);

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
