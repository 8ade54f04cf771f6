// SPDX-License-Identifier: MIT
/* The map sizes the tracer sets before load (user/attach/map_sizes.c). */
#include <criterion/criterion.h>

#include "attach/map_sizes.h"
#include "leaksnoop.h"

Test(map_sizes, banks_cover_every_stack_until_the_budget_runs_out)
{
	uint64_t per_slot_64 = 2 * sizeof(struct slot_delta) * 64;

	cr_assert_eq(delta_bank_slots(16384, 2), 16384);
	cr_assert_eq(delta_bank_slots(10, 1024), 10);
	cr_assert_eq(delta_bank_slots(16384, 64), LS_DELTA_BANK_BUDGET / per_slot_64);
	cr_assert_lt(delta_bank_slots(16384, 64), 16384);
	cr_assert_eq(delta_bank_slots(16384, 0), 16384); /* unknown CPUs count as one */
}

Test(map_sizes, the_block_table_has_half_again_as_many_slots_as_blocks_asked_for)
{
	uint32_t buckets = block_buckets(1048576);

	cr_assert_geq((uint64_t)buckets * LS_BUCKET_SLOTS, 1048576ULL * 3 / 2);
	cr_assert_lt((uint64_t)(buckets - 1) * LS_BUCKET_SLOTS, 1048576ULL * 3 / 2);
	cr_assert_eq(block_buckets(1), 1, "a table has at least one bucket");
}
