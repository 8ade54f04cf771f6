// SPDX-License-Identifier: MIT
/* Threads grouped by creation stack, process and state (user/collect/thread_groups.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "collect/thread_groups.h"

#define MS 1000000ULL

static struct thread_entry thread(uint32_t tid, uint64_t stack, int exited, int detached,
				  uint64_t stack_bytes)
{
	struct thread_entry e;

	memset(&e, 0, sizeof(e));
	e.tid = tid;
	e.record.stack_hash = stack;
	e.record.exited = exited;
	e.record.detached = detached;
	e.record.stack_bytes = stack_bytes;
	return e;
}

Test(thread_groups, groups_by_stack_and_state_leaked_first)
{
	struct thread_entry threads[] = {
		thread(10, 0xa, 0, 0, 0), thread(11, 0xa, 1, 0, 0), thread(12, 0xb, 1, 0, 4096),
		thread(13, 0xb, 1, 0, 4096), thread(14, 0xb, 1, 1, 4096), thread(15, 0xa, 0, 1, 0),
	};
	struct thread_stack_entry stacks[] = {
		{ { .stack_hash = 0xa }, { .created = 5, .gone = 2 } },
		{ { .stack_hash = 0xb }, { .created = 3, .gone = 0 } },
		{ { .stack_hash = 0xc }, { .created = 7, .gone = 7 } },
	};
	struct thread_snapshot snap = { .time_ns = 1000 * MS, .threads = threads, .thread_count = 6,
					.stacks = stacks, .stack_count = 3 };
	struct thread_group groups[18];
	size_t n = thread_groups(&snap, 1000, NULL, 0, groups);

	cr_assert_eq(n, 5);
	/* Leaked first, biggest count first: 0xb (2 threads, 8 KiB), then 0xa (1, default size). */
	cr_assert_eq(groups[0].state, THREAD_LEAKED);
	cr_assert_eq(groups[0].stack_hash, 0xb);
	cr_assert_eq(groups[0].count, 2);
	cr_assert_eq(groups[0].stack_bytes, 8192);
	cr_assert_eq(groups[0].created, 3);
	cr_assert_eq(groups[1].state, THREAD_LEAKED);
	cr_assert_eq(groups[1].stack_hash, 0xa);
	cr_assert_eq(groups[1].stack_bytes, 1000);
	/* Live: 0xa has two running (one of them detached), 0xc made 7 and all are gone. */
	cr_assert_eq(groups[2].state, THREAD_LIVE);
	cr_assert_eq(groups[2].stack_hash, 0xa);
	cr_assert_eq(groups[2].count, 2);
	cr_assert_eq(groups[2].gone, 2);
	cr_assert_eq(groups[4].stack_hash, 0xc);
	cr_assert_eq(groups[4].count, 0);
	cr_assert_eq(groups[4].gone, 7);
}

Test(thread_groups, live_growth_between_reports)
{
	struct thread_entry threads[4] = {
		thread(1, 0xd, 0, 0, 0), thread(2, 0xd, 0, 0, 0), thread(3, 0xd, 0, 0, 0),
		thread(4, 0xd, 0, 0, 0),
	};
	struct thread_snapshot snap = { .time_ns = 1000 * MS, .threads = threads, .thread_count = 1 };
	struct count_history *h = count_history_new();
	struct thread_group groups[8];

	thread_groups(&snap, 0, h, 0, groups);
	snap.thread_count = 4;
	snap.time_ns = 3000 * MS;
	cr_assert_eq(thread_groups(&snap, 0, h, 1000 * MS, groups), 1);
	cr_assert_float_eq(groups[0].growth_per_s, 1.5, 1e-9);
	count_history_free(h);
}
