// SPDX-License-Identifier: MIT
/*
 * Folding a retired per-CPU bank into running totals (slot_deltas.h): the
 * arithmetic the collector applies to each slot's cells.  No map is read here.
 */
#include "slot_deltas.h"

/* A young cell into the totals' ring, under its full epoch (the cell keeps 32 bits). */
static void fold_age_cell(struct age_slot *ring, const struct age_cell *cell, uint64_t now_epoch)
{
	uint64_t epoch = now_epoch - (uint32_t)((uint32_t)now_epoch - cell->epoch);
	struct age_slot *slot = &ring[epoch & (LS_AGE_SLOTS - 1)];

	if (!cell->count && !cell->bytes)
		return;
	if (slot->epoch > epoch)
		return; /* the ring moved past it: those blocks are old now */
	if (slot->epoch < epoch) {
		slot->epoch = epoch;
		slot->bytes = 0;
		slot->count = 0;
	}
	slot->bytes += cell->bytes;
	slot->count += cell->count;
}

static bool holds(const struct slot_totals *t)
{
	return t->allocs > t->frees;
}

void slot_totals_fold(struct slot_totals *totals, const struct slot_delta *cells, int ncpus,
		      uint64_t now_ns, uint64_t age_epoch_ns)
{
	bool held = holds(totals);
	uint64_t first = 0;

	for (int cpu = 0; cpu < ncpus; cpu++) {
		const struct slot_delta *d = &cells[cpu];

		totals->alloc_bytes += d->alloc_bytes;
		totals->allocs += d->allocs;
		totals->freed_bytes += d->freed_bytes;
		totals->frees += d->frees;
		if (d->first_alloc_ns && (!first || d->first_alloc_ns < first))
			first = d->first_alloc_ns;
		for (int i = 0; age_epoch_ns && i < LS_AGE_SLOTS; i++)
			fold_age_cell(totals->young, &d->young[i], now_ns / age_epoch_ns);
	}
	if (!holds(totals))
		totals->held_since_ns = 0;
	else if (!held)
		/*
		 * It held nothing at the last read: it started holding again at or
		 * after the bank's first allocation, so its oldest block is no older.
		 */
		totals->held_since_ns = first ? first : now_ns;
}

void slot_totals_apply(const struct slot_totals *totals, struct stack_stats *stats)
{
	/* outstanding_since_ns of `stack_stats` is stale once its own count is back at 0. */
	bool shared_since = stats->outstanding_count > 0 && stats->outstanding_since_ns;

	stats->outstanding_bytes += totals->alloc_bytes - totals->freed_bytes;
	stats->outstanding_count += totals->allocs - totals->frees;
	stats->alloc_bytes += totals->alloc_bytes;
	stats->alloc_count += totals->allocs;
	if (totals->held_since_ns &&
	    (!shared_since || totals->held_since_ns < stats->outstanding_since_ns))
		stats->outstanding_since_ns = totals->held_since_ns;
	/* A banked slot's ring in `stack_stats` is empty: the totals' ring is the whole of it. */
	for (int i = 0; i < LS_AGE_SLOTS; i++)
		if (totals->young[i].epoch >= stats->young[i].epoch)
			stats->young[i] = totals->young[i];
}
