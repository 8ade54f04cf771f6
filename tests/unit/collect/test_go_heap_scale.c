// SPDX-License-Identifier: MIT
/*
 * pprof's scaling of the Go runtime's heap samples (go_heap_scale in
 * user/collect/go_heap.c): as runtime/pprof's scaleHeapSample computes it.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "collect/go_heap.h"

Test(go_heap_scale, an_exact_profile_is_left_as_is)
{
	int64_t count, bytes;

	go_heap_scale(500, 4096000, 1, &count, &bytes);
	cr_assert_eq(count, 500);
	cr_assert_eq(bytes, 4096000);
	go_heap_scale(0, 0, 512 * 1024, &count, &bytes);
	cr_assert_eq(count + bytes, 0);
}

Test(go_heap_scale, a_sample_stands_for_the_expected_allocations)
{
	int64_t count, bytes;
	double scale = 1 / (1 - exp(-(8192.0 / 524288.0)));

	/* Eight samples of 8 KiB objects at one sample per 512 KiB. */
	go_heap_scale(8, 8 * 8192, 524288, &count, &bytes);
	cr_assert_eq(count, (int64_t)(8 * scale));
	cr_assert_eq(bytes, (int64_t)(8 * 8192 * scale));
	cr_assert(bytes > 4000000 && bytes < 4300000, "about 4 MB: %ld", (long)bytes);
	/* Big objects are always sampled: scaled by barely more than one. */
	go_heap_scale(1, 4 << 20, 524288, &count, &bytes);
	cr_assert_eq(count, 1);
	cr_assert(bytes >= 4 << 20 && bytes < (4 << 20) + 2000);
}
