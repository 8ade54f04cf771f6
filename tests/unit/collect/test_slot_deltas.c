// SPDX-License-Identifier: MIT
/* Folding per-CPU bank cells into totals (user/collect/slot_deltas.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "collect/aggregate.h"
#include "collect/slot_deltas.h"

#define EPOCH_NS 125000000ULL /* -o 500 */

Test(slot_deltas, a_block_freed_on_another_cpu_and_bank_cancels_its_allocation)
{
	struct slot_totals totals = { 0 };
	struct slot_delta first[2] = {
		{ .alloc_bytes = 300, .allocs = 3, .first_alloc_ns = 5000 },
		{ .alloc_bytes = 100, .allocs = 1, .first_alloc_ns = 4000 },
	};
	struct slot_delta second[2] = {
		{ 0 },
		{ .freed_bytes = 200, .frees = 2 },
	};
	struct stack_stats stats = { 0 };

	slot_totals_fold(&totals, first, 2, 9000, 0);
	cr_assert_eq(totals.held_since_ns, 4000, "held since the earliest CPU's first allocation");
	slot_totals_fold(&totals, second, 2, 19000, 0);
	cr_assert_eq(totals.held_since_ns, 4000, "still holding: the date stays");
	slot_totals_apply(&totals, &stats);
	cr_assert_eq(stats.outstanding_bytes, 200);
	cr_assert_eq(stats.outstanding_count, 2);
	cr_assert_eq(stats.alloc_bytes, 400);
	cr_assert_eq(stats.alloc_count, 4);
	cr_assert_eq(stats.outstanding_since_ns, 4000);
}

Test(slot_deltas, holding_again_after_holding_nothing_dates_from_the_new_bank)
{
	struct slot_totals totals = { 0 };
	struct slot_delta all_freed = { .alloc_bytes = 64, .allocs = 1, .freed_bytes = 64,
					.frees = 1, .first_alloc_ns = 1000 };
	struct slot_delta again = { .alloc_bytes = 32, .allocs = 1, .first_alloc_ns = 7000 };
	struct slot_delta given_back = { .freed_bytes = -32, .frees = -1 };

	slot_totals_fold(&totals, &all_freed, 1, 2000, 0);
	cr_assert_eq(totals.held_since_ns, 0);
	slot_totals_fold(&totals, &again, 1, 8000, 0);
	cr_assert_eq(totals.held_since_ns, 7000);

	/* A failed realloc gives a block back without an allocation: dated by the read. */
	memset(&totals, 0, sizeof(totals));
	slot_totals_fold(&totals, &all_freed, 1, 2000, 0);
	slot_totals_fold(&totals, &given_back, 1, 9000, 0);
	cr_assert_eq(totals.held_since_ns, 9000);
}

Test(slot_deltas, the_shared_date_counts_only_while_the_shared_totals_hold)
{
	struct slot_totals totals = { .allocs = 1, .alloc_bytes = 8, .held_since_ns = 500 };
	struct stack_stats stale = { .outstanding_since_ns = 100 };
	struct stack_stats holding = { .outstanding_count = 1, .outstanding_bytes = 8,
				       .outstanding_since_ns = 100 };

	slot_totals_apply(&totals, &stale);
	cr_assert_eq(stale.outstanding_since_ns, 500);
	slot_totals_apply(&totals, &holding);
	cr_assert_eq(holding.outstanding_since_ns, 100);
	cr_assert_eq(holding.outstanding_count, 2);
}

Test(slot_deltas, young_cells_fold_under_their_full_epoch)
{
	/* An uptime whose epochs no longer fit the cells' 32 bits. */
	uint64_t now_epoch = (1ULL << 32) + 10, now_ns = now_epoch * EPOCH_NS + 1;
	struct slot_totals totals = { 0 };
	struct slot_delta cpus[2] = { 0 };
	struct stack_stats stats = { 0 };
	struct age_filter filter = { .older_ns = 4 * EPOCH_NS, .epoch_ns = EPOCH_NS };
	int64_t bytes, count;

	/* CPU 0 allocated 3 blocks this epoch and 2 two epochs ago; CPU 1 freed one of those 2. */
	cpus[0].young[now_epoch % LS_AGE_SLOTS] = (struct age_cell){ (uint32_t)now_epoch, 3, 300 };
	cpus[0].young[(now_epoch - 2) % LS_AGE_SLOTS] =
		(struct age_cell){ (uint32_t)(now_epoch - 2), 2, 20 };
	cpus[1].young[(now_epoch - 2) % LS_AGE_SLOTS] =
		(struct age_cell){ (uint32_t)(now_epoch - 2), -1, -10 };
	cpus[0].allocs = 5;
	cpus[0].alloc_bytes = 320;
	cpus[1].frees = 1;
	cpus[1].freed_bytes = 10;
	slot_totals_fold(&totals, cpus, 2, now_ns, EPOCH_NS);
	cr_assert_eq(totals.young[now_epoch % LS_AGE_SLOTS].epoch, now_epoch);
	cr_assert_eq(totals.young[(now_epoch - 2) % LS_AGE_SLOTS].count, 1);

	slot_totals_apply(&totals, &stats);
	age_young_part(&stats, &filter, now_ns, &bytes, &count);
	cr_assert_eq(count, 4, "all four held blocks are younger than 500 ms");
	cr_assert_eq(bytes, 310);
}

Test(slot_deltas, a_cell_the_ring_has_moved_past_is_old)
{
	uint64_t now_epoch = 1000, now_ns = now_epoch * EPOCH_NS;
	struct slot_totals totals = { 0 };
	struct slot_delta late = { 0 }, stale = { 0 };

	late.young[now_epoch % LS_AGE_SLOTS] = (struct age_cell){ (uint32_t)now_epoch, 1, 64 };
	slot_totals_fold(&totals, &late, 1, now_ns, EPOCH_NS);
	/* A free, counted later, of a block from LS_AGE_SLOTS epochs before: same ring slot. */
	stale.young[now_epoch % LS_AGE_SLOTS] =
		(struct age_cell){ (uint32_t)(now_epoch - LS_AGE_SLOTS), -1, -64 };
	slot_totals_fold(&totals, &stale, 1, now_ns + EPOCH_NS, EPOCH_NS);
	cr_assert_eq(totals.young[now_epoch % LS_AGE_SLOTS].epoch, now_epoch);
	cr_assert_eq(totals.young[now_epoch % LS_AGE_SLOTS].count, 1);
	cr_assert_eq(totals.young[now_epoch % LS_AGE_SLOTS].bytes, 64);
}
