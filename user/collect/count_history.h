/* SPDX-License-Identifier: MIT */
/*
 * Counts per key remembered from one report to the next, for the growth of
 * thread and goroutine groups.
 */
#ifndef LS_COUNT_HISTORY_H
#define LS_COUNT_HISTORY_H

#include <stdint.h>

/* A count per key (a creation stack, a go statement) kept from one report to the next. */
struct count_history;

struct count_history *count_history_new(void);
void count_history_free(struct count_history *h);

/* Remember now for key; returns the count it had at the previous report (0 if new). */
uint64_t count_history_swap(struct count_history *h, uint64_t key, uint64_t now);

#endif
