// SPDX-License-Identifier: MIT
/* Aggregation: age filter, growth, plateaus, leak score, sorting (user/collect/aggregate.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "collect/aggregate.h"

#define MS 1000000ULL

static struct stack_sample sample(uint64_t hash, int64_t bytes, int64_t count)
{
	struct stack_sample s;

	memset(&s, 0, sizeof(s));
	s.key.stack_hash = hash;
	s.stats.outstanding_bytes = bytes;
	s.stats.outstanding_count = count;
	s.stats.alloc_bytes = bytes;
	s.stats.alloc_count = count;
	return s;
}

Test(aggregate, epoch_is_a_quarter_of_the_threshold)
{
	cr_assert_eq(age_epoch_ns_for(0), 0);
	cr_assert_eq(age_epoch_ns_for(500), 125 * MS);
	cr_assert_eq(age_epoch_ns_for(1), 250000);
}

Test(aggregate, young_slots_are_subtracted_old_ones_are_not)
{
	struct age_filter filter = { .older_ns = 500 * MS, .epoch_ns = 125 * MS };
	struct stack_stats stats;
	uint64_t now = 10000 * MS; /* epoch 80 */
	int64_t bytes, count;

	memset(&stats, 0, sizeof(stats));
	stats.young[80 % LS_AGE_SLOTS] = (struct age_slot){ 80, 100, 1 }; /* now */
	stats.young[77 % LS_AGE_SLOTS] = (struct age_slot){ 76 + 1, 200, 2 }; /* 375-500 ms old */
	stats.young[75 % LS_AGE_SLOTS] = (struct age_slot){ 75, 400, 4 }; /* >= 625 ms old */
	stats.young[73 % LS_AGE_SLOTS] = (struct age_slot){ 73, 800, 8 }; /* older still */
	age_young_part(&stats, &filter, now, &bytes, &count);
	cr_assert_eq(bytes, 300);
	cr_assert_eq(count, 3);
}

Test(aggregate, no_threshold_means_nothing_is_young)
{
	struct age_filter filter = { 0 };
	struct stack_stats stats;
	int64_t bytes, count;

	memset(&stats, 0, sizeof(stats));
	stats.young[0] = (struct age_slot){ 0, 100, 1 };
	age_young_part(&stats, &filter, 0, &bytes, &count);
	cr_assert_eq(bytes, 0);
	cr_assert_eq(count, 0);
}

Test(aggregate, rows_sort_by_bytes_and_compute_growth)
{
	struct stack_sample samples[3] = {
		sample(1, 1000, 10), sample(2, 5000, 1), sample(3, 0, 0),
	};
	struct snapshot snap = { .time_ns = 2000 * MS, .stacks = samples, .count = 3 };
	struct age_filter filter = { 0 };
	struct growth_history *h = growth_history_new();
	struct stack_row rows[3];
	int64_t bytes, allocs;
	size_t holding;

	samples[2].stats.alloc_bytes = 7;
	cr_assert_eq(aggregate_rows(&snap, &filter, h, 0, rows), 3);
	cr_assert_eq(rows[0].sample->key.stack_hash, 2);
	cr_assert_eq(rows[1].sample->key.stack_hash, 1);
	cr_assert_eq(rows[2].sample->key.stack_hash, 3);
	cr_assert_float_eq(rows[0].growth_bytes_per_s, 2500.0, 1e-9);
	aggregate_totals(rows, 3, &bytes, &allocs, &holding);
	cr_assert_eq(bytes, 6000);
	cr_assert_eq(allocs, 11);
	cr_assert_eq(holding, 2);

	/* One second later stack 1 grew by 500 bytes and stack 2 shrank by 1000. */
	samples[0].stats.outstanding_bytes = 1500;
	samples[1].stats.outstanding_bytes = 4000;
	snap.time_ns = 3000 * MS;
	aggregate_rows(&snap, &filter, h, 2000 * MS, rows);
	for (int i = 0; i < 3; i++) {
		if (rows[i].sample->key.stack_hash == 1)
			cr_assert_float_eq(rows[i].growth_bytes_per_s, 500.0, 1e-9);
		if (rows[i].sample->key.stack_hash == 2)
			cr_assert_float_eq(rows[i].growth_bytes_per_s, -1000.0, 1e-9);
	}
	growth_history_free(h);
}

Test(aggregate, oldest_age_counts_from_when_the_stack_last_held_nothing)
{
	struct stack_sample s = sample(9, 64, 1);
	struct snapshot snap = { .time_ns = 5000 * MS, .stacks = &s, .count = 1 };
	struct age_filter filter = { 0 };
	struct stack_row row;

	s.stats.outstanding_since_ns = 1500 * MS;
	aggregate_rows(&snap, &filter, NULL, 0, &row);
	cr_assert_eq(row.oldest_age_ms, 3500);
}

Test(aggregate, young_blocks_are_held_back_from_the_row)
{
	struct stack_sample s = sample(4, 1000, 10);
	struct snapshot snap = { .time_ns = 10000 * MS, .stacks = &s, .count = 1 };
	struct age_filter filter = { .older_ns = 500 * MS, .epoch_ns = 125 * MS };
	struct stack_row row;

	s.stats.young[80 % LS_AGE_SLOTS] = (struct age_slot){ 80, 300, 3 };
	aggregate_rows(&snap, &filter, NULL, 0, &row);
	cr_assert_eq(row.bytes, 700);
	cr_assert_eq(row.count, 7);
	s.stats.young[80 % LS_AGE_SLOTS] = (struct age_slot){ 80, 1000, 10 };
	aggregate_rows(&snap, &filter, NULL, 0, &row);
	cr_assert_eq(row.bytes, 0);
	cr_assert_eq(row.count, 0);
	cr_assert_eq(row.oldest_age_ms, 0);
}

Test(aggregate, history_grows_past_its_first_capacity)
{
	enum { N = 1000 };
	static struct stack_sample samples[N];
	static struct stack_row rows[N];
	struct snapshot snap = { .time_ns = 1000 * MS, .stacks = samples, .count = N };
	struct age_filter filter = { 0 };
	struct growth_history *h = growth_history_new();

	for (int i = 0; i < N; i++)
		samples[i] = sample(i + 1, 10, 1);
	aggregate_rows(&snap, &filter, h, 0, rows);
	snap.time_ns = 2000 * MS;
	aggregate_rows(&snap, &filter, h, 1000 * MS, rows);
	for (int i = 0; i < N; i++)
		cr_assert_float_eq(rows[i].growth_bytes_per_s, 0.0, 1e-9);
	growth_history_free(h);
}

/* Three stacks over six one-second reports: a steady leak, a big flat one, a cache. */
Test(aggregate, leak_score_ranks_steady_growth_above_big_flat_and_plateaued)
{
	struct stack_sample samples[3] = {
		sample(0x1, 0, 0), sample(0x2, 1 << 20, 100), sample(0x3, 0, 0),
	};
	struct snapshot snap = { .stacks = samples, .count = 3 };
	struct age_filter filter = { 0 };
	struct growth_history *h = growth_history_new();
	struct stack_row rows[3];
	uint64_t prev = 0;

	for (int t = 1; t <= 6; t++) {
		samples[0].stats.outstanding_bytes = 100 * t; /* +100 B/s, always */
		samples[0].stats.outstanding_count = t;
		samples[2].stats.outstanding_bytes = t <= 2 ? 5000 * t : 10000; /* stops at 2 s */
		samples[2].stats.outstanding_count = t <= 2 ? t : 2;
		snap.time_ns = t * 1000 * MS;
		aggregate_rows(&snap, &filter, h, prev, rows);
		prev = snap.time_ns;
	}
	aggregate_sort_by_growth(rows, 3);
	cr_assert_eq(rows[0].sample->key.stack_hash, 0x1);
	cr_assert_float_eq(rows[0].leak_score, 100.0, 1e-9);
	cr_assert_eq(rows[0].grew_intervals, 6);
	cr_assert_not(rows[0].plateaued);
	cr_assert_float_eq(rows[0].growth_total_bytes_per_s, 100.0, 1e-9);
	/* The big flat stack grew only into its first report (from 0 at attach): no score,
	 * it comes next by its size; the cache grew for two seconds, then stopped. */
	cr_assert_eq(rows[1].sample->key.stack_hash, 0x2);
	cr_assert_float_eq(rows[1].leak_score, 0.0, 1e-9);
	cr_assert(rows[1].plateaued);
	cr_assert_eq(rows[2].sample->key.stack_hash, 0x3);
	cr_assert_float_eq(rows[2].leak_score, 0.0, 1e-9);
	cr_assert(rows[2].plateaued);
	cr_assert_eq(rows[2].grew_intervals, 0);
	growth_history_free(h);
}

/* A live request between reports sees the trends the last report left, and changes none. */
Test(aggregate, a_live_read_sees_the_trends_and_leaves_them)
{
	struct age_filter filter = { 0 };
	struct growth_history *h = growth_history_new();
	struct stack_sample s;
	struct snapshot snap = { .stacks = &s, .count = 1 };
	struct stack_row row, peeked;

	/* Reports each second: 1000 bytes more each time. */
	for (int report = 1; report <= 4; report++) {
		s = sample(7, 1000 * report, report);
		snap.time_ns = (uint64_t)report * 1000 * MS;
		aggregate_rows(&snap, &filter, h, (uint64_t)(report - 1) * 1000 * MS, &row);
	}
	cr_assert_float_eq(row.leak_score, 1000.0, 1e-6);
	/* Half a second later, a live read. */
	s = sample(7, 4500, 5);
	snap.time_ns = 4500 * MS;
	aggregate_rows_seen(&snap, &filter, h, 4000 * MS, &peeked);
	cr_assert_float_eq(peeked.leak_score, 1000.0, 1e-6);
	cr_assert_eq(peeked.grew_intervals, row.grew_intervals);
	cr_assert_float_eq(peeked.growth_bytes_per_s, 1000.0, 1e-6); /* 500 B since the last report */
	/* The next report's growth is from the last report's 4000 bytes, not the live read's. */
	s = sample(7, 6000, 6);
	snap.time_ns = 5000 * MS;
	aggregate_rows(&snap, &filter, h, 4000 * MS, &row);
	cr_assert_float_eq(row.growth_bytes_per_s, 2000.0, 1e-6);
	cr_assert_eq(row.grew_intervals, 5);
	growth_history_free(h);
}
