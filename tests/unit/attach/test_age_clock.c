// SPDX-License-Identifier: MIT
/* The age clock's tick for each age-filter epoch (user/attach/age_clock.c). */
#include <criterion/criterion.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "attach/age_clock.h"
#include "leaksnoop.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* What the probes see through the map's page: a memfd stands in for the map. */
static volatile uint64_t *shared_page(int fd)
{
	void *page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, fd, 0);

	cr_assert_neq(page, MAP_FAILED);
	return page;
}

Test(age_clock, is_set_at_start_and_kept_within_a_tick_of_now)
{
	int fd = memfd_create("age_clock", 0);
	struct age_clock clock = { 0 };
	volatile uint64_t *seen;
	uint64_t before = monotonic_ns(), first;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, sysconf(_SC_PAGESIZE)), 0);
	seen = shared_page(fd);
	cr_assert_eq(age_clock_start(&clock, fd, LS_AGE_CLOCK_TICK_NS), 0);
	first = *seen;
	cr_assert_geq(first, before, "set before any probe could read it");
	cr_assert_leq(first, monotonic_ns());
	usleep(50 * 1000);
	cr_assert_gt(*seen, first + 30 * 1000000ULL, "it ticks");
	cr_assert_leq(monotonic_ns() - *seen, 10 * LS_AGE_CLOCK_TICK_NS, "and keeps up");
	age_clock_stop(&clock);
	first = *seen;
	usleep(10 * 1000);
	cr_assert_eq(*seen, first, "stopped");
	age_clock_stop(&clock); /* twice: harmless */
	close(fd);
}

Test(age_clock, a_descriptor_that_cannot_be_mapped_is_an_error)
{
	struct age_clock clock = { 0 };

	cr_assert_lt(age_clock_start(&clock, -1, LS_AGE_CLOCK_TICK_NS), 0);
	age_clock_stop(&clock);
}

Test(age_clock, ticks_a_sixteenth_of_an_epoch_and_not_for_short_ones)
{
	/* The default -o 500: epochs of 125 ms, a tick of 7.8 ms (128 a second, not 500). */
	cr_assert_eq(age_clock_tick_ns(125000000ULL), 7812500ULL);
	cr_assert_eq(age_clock_tick_ns(LS_AGE_CLOCK_MIN_EPOCH_NS), LS_AGE_CLOCK_TICK_NS);
	cr_assert_eq(age_clock_tick_ns(LS_AGE_CLOCK_MIN_EPOCH_NS - 1), 0, "the kernel's clock");
	cr_assert_eq(age_clock_tick_ns(0), 0, "no age filter");
	cr_assert_eq(age_clock_tick_ns(60ULL * 1000000000ULL), LS_AGE_CLOCK_MAX_TICK_NS,
		     "a prompt stop");
}

Test(age_clock, keeps_a_longer_tick)
{
	int fd = memfd_create("age_clock", 0);
	struct age_clock clock = { 0 };
	volatile uint64_t *seen;
	uint64_t first;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, sysconf(_SC_PAGESIZE)), 0);
	seen = shared_page(fd);
	cr_assert_eq(age_clock_start(&clock, fd, 100 * 1000000ULL), 0);
	first = *seen;
	usleep(30 * 1000);
	cr_assert_eq(*seen, first, "no tick before 100 ms");
	usleep(150 * 1000);
	cr_assert_gt(*seen, first, "a tick after it");
	age_clock_stop(&clock);
	close(fd);
}
