/* SPDX-License-Identifier: MIT */
#ifndef LS_AGE_CLOCK_H
#define LS_AGE_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The clock the probes read block ages from (map `age_clock`, see
 * include/leaksnoop.h): a thread writes CLOCK_MONOTONIC into the mmap'ed
 * map every LS_AGE_CLOCK_TICK_NS, so that no allocation or free has to ask
 * the kernel for the time.
 */
struct age_clock {
	volatile uint64_t *now_ns; /* the map's value, mmap'ed */
	pthread_t thread;
	volatile bool stop;
	bool running;
};

/* Map the clock, set it, and keep it current until age_clock_stop.  Returns 0 or -errno. */
int age_clock_start(struct age_clock *clock, int map_fd);
void age_clock_stop(struct age_clock *clock);

#endif
