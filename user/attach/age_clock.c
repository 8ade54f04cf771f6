// SPDX-License-Identifier: MIT
/*
 * The age clock (age_clock.h): one thread writing CLOCK_MONOTONIC into the
 * mmap'ed map every tick.  It reads nothing back.
 */
#include <errno.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "age_clock.h"
#include "leaksnoop.h"

uint64_t age_clock_tick_ns(uint64_t epoch_ns)
{
	uint64_t tick_ns = epoch_ns / 16;

	if (epoch_ns < LS_AGE_CLOCK_MIN_EPOCH_NS)
		return 0;
	if (tick_ns < LS_AGE_CLOCK_TICK_NS)
		return LS_AGE_CLOCK_TICK_NS;
	/* Stopping waits for the tick in progress: keep an exit prompt. */
	return tick_ns < LS_AGE_CLOCK_MAX_TICK_NS ? tick_ns : LS_AGE_CLOCK_MAX_TICK_NS;
}

static void *tick(void *arg)
{
	struct age_clock *clock = arg;
	struct timespec period = { (time_t)(clock->tick_ns / 1000000000ULL),
				   (long)(clock->tick_ns % 1000000000ULL) };

	while (!clock->stop) {
		nanosleep(&period, NULL);
		*clock->now_ns = monotonic_ns();
	}
	return NULL;
}

int age_clock_start(struct age_clock *clock, int map_fd, uint64_t tick_ns)
{
	void *page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
			  map_fd, 0);
	int err;

	if (page == MAP_FAILED)
		return -errno;
	clock->now_ns = page;
	clock->tick_ns = tick_ns;
	clock->stop = false;
	*clock->now_ns = monotonic_ns(); /* before any probe is attached */
	err = pthread_create(&clock->thread, NULL, tick, clock);
	if (err) {
		munmap(page, (size_t)sysconf(_SC_PAGESIZE));
		clock->now_ns = NULL;
		return -err;
	}
	clock->running = true;
	return 0;
}

void age_clock_stop(struct age_clock *clock)
{
	if (!clock->running)
		return;
	clock->stop = true;
	pthread_join(clock->thread, NULL);
	munmap((void *)clock->now_ns, (size_t)sysconf(_SC_PAGESIZE));
	clock->now_ns = NULL;
	clock->running = false;
}
