// SPDX-License-Identifier: MIT
/*
 * Goroutine groups (user/collect/goroutine_groups.c): the probes' sites
 * merged with the runtime's list of live goroutines, those alive at attach
 * counted apart, states per wait reason, the most common waiting frame, and
 * a full table counted but not grouped.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "collect/goroutine_groups.h"

static struct go_goroutine live_g(uint64_t goid, uint64_t gopc, uint32_t status, uint8_t reason,
				  uint64_t waiting)
{
	struct go_goroutine g = { .goid = goid, .gopc = gopc, .status = status,
				  .waitreason = reason, .depth = 1 };

	g.pcs[0] = waiting;
	return g;
}

/* The test's goroutines wait where their pcs[0] says. */
static uint64_t waiting_at_pc0(const struct go_goroutine *g, void *arg)
{
	(void)arg;
	return g->pcs[0];
}

Test(goroutine_groups, live_goroutines_join_their_sites_and_new_sites_get_groups)
{
	struct go_site_entry sites[] = {
		{ .gopc = 0x100, .site = { .created = 3, .exited = 1, .stack_hash = 7 } },
	};
	struct goroutine_group groups[4];
	struct go_goroutine list[] = {
		live_g(10, 0x100, GO_STATUS_WAITING, 14, 0x500), /* chan receive */
		live_g(11, 0x100, GO_STATUS_WAITING, 14, 0x500),
		live_g(12, 0x100, GO_STATUS_WAITING, 9, 0x600), /* select */
		live_g(2, 0x200, 1, 0, 0x700),                  /* runnable, from before attach */
		live_g(3, 0x200, GO_STATUS_WAITING, 19, 0x800), /* sleep, from before attach */
	};
	uint64_t attach_ids[] = { 2, 3, 12 };
	uint64_t ungrouped;
	size_t n = goroutine_groups_from_sites(sites, 1, groups);
	long merged = goroutine_groups_add_live(groups, n, 4, list, 5, attach_ids, 3,
						waiting_at_pc0, NULL, &ungrouped);

	cr_assert_eq(merged, 2);
	cr_assert_eq(ungrouped, 0);
	goroutine_groups_finish(groups, 2, 1.0, NULL);
	/* Sorted by live: the probes' site (3 live) first. */
	cr_assert_eq(groups[0].gopc, 0x100);
	cr_assert_eq(groups[0].live, 3, "the list counts, not the probes' created - exited");
	cr_assert_eq(groups[0].preexisting, 1);
	cr_assert_eq(groups[0].created, 3);
	cr_assert_eq(groups[0].exited, 1);
	cr_assert_eq(groups[0].stack_hash, 7);
	cr_assert_eq(groups[0].states[GO_STATE_WAIT + 14], 2);
	cr_assert_eq(groups[0].states[GO_STATE_WAIT + 9], 1);
	cr_assert_eq(groups[0].waiting_pc, 0x500);
	cr_assert_eq(groups[0].waiting_count, 2);
	cr_assert_eq(groups[1].gopc, 0x200);
	cr_assert_eq(groups[1].live, 2);
	cr_assert_eq(groups[1].preexisting, 2);
	cr_assert_eq(groups[1].stack_hash, 0, "seen only live: no creation stack stored");
	cr_assert_eq(groups[1].states[1], 1);
	cr_assert_eq(groups[1].states[GO_STATE_WAIT + 19], 1);
	cr_assert_eq(groups[1].waiting_count, 1);
}

Test(goroutine_groups, sites_past_the_room_are_counted_not_grouped)
{
	struct goroutine_group groups[1];
	struct go_goroutine list[] = {
		live_g(1, 0x100, 1, 0, 0), live_g(2, 0x200, 1, 0, 0), live_g(3, 0x200, 1, 0, 0),
	};
	uint64_t ungrouped;
	long n = goroutine_groups_add_live(groups, 0, 1, list, 3, NULL, 0, NULL, NULL,
					   &ungrouped);

	cr_assert_eq(n, 1);
	cr_assert_eq(groups[0].live, 1);
	cr_assert_eq(ungrouped, 2);
	cr_assert_eq(groups[0].waiting_count, 0, "no waiting frame without a callback");
}

Test(goroutine_groups, growth_leaves_out_those_of_before_attach)
{
	struct count_history *history = count_history_new();
	struct goroutine_group g = { .gopc = 0x100, .live = 12, .preexisting = 10 };

	goroutine_groups_finish(&g, 1, 2.0, history);
	cr_assert_float_eq(g.growth_per_s, 1.0, 1e-9, "2 started since attach over 2 s");
	g.live = 8;
	g.preexisting = 6; /* four of the old ones ended */
	goroutine_groups_finish(&g, 1, 2.0, history);
	cr_assert_float_eq(g.growth_per_s, 0.0, 1e-9);
	count_history_free(history);
}
