/* SPDX-License-Identifier: MIT */
/*
 * The clock thread that dates blocks for the probes (map `age_clock`):
 * started by the tracer when probes that date blocks are attached.  It only
 * writes the time; ages are computed in collect/.
 */
#ifndef LS_AGE_CLOCK_H
#define LS_AGE_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The clock the probes read block ages from (map `age_clock`, see
 * include/leaksnoop.h): a thread writes CLOCK_MONOTONIC into the mmap'ed
 * map every tick, so that no allocation or free has to ask the kernel for
 * the time.
 */
struct age_clock {
	volatile uint64_t *now_ns; /* the map's value, mmap'ed */
	uint64_t tick_ns;
	pthread_t thread;
	volatile bool stop;
	bool running;
};

/*
 * The clock's tick for age-filter epochs of epoch_ns: a sixteenth of an
 * epoch, so that a block is dated at most that much early, from
 * LS_AGE_CLOCK_TICK_NS to LS_AGE_CLOCK_MAX_TICK_NS.  0 when the epochs are too short for a tick: the
 * probes then ask the kernel.
 */
uint64_t age_clock_tick_ns(uint64_t epoch_ns);

/*
 * Map the clock, set it, and keep it current every tick_ns until
 * age_clock_stop.  Returns 0 or -errno.
 */
int age_clock_start(struct age_clock *clock, int map_fd, uint64_t tick_ns);
void age_clock_stop(struct age_clock *clock);

#endif
