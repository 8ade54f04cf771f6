/* SPDX-License-Identifier: MIT */
/*
 * Live goroutines grouped by the `go` statement that created them.
 */
#ifndef LS_GOROUTINE_REPORT_H
#define LS_GOROUTINE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "count_history.h"
#include "leaksnoop.h"

/* One `go` statement as read from map `go_sites`. */
struct go_site_entry {
	uint64_t gopc;
	struct go_site site;
};

/* Live goroutines of one creation site, like a pprof goroutine profile's "created by". */
struct goroutine_group {
	uint64_t gopc;
	uint64_t stack_hash;
	uint64_t live;
	uint64_t created, exited;
	double growth_per_s; /* of live, since the previous report */
};

/* Groups sorted by live count (then created); groups holds count entries. */
size_t goroutine_groups(const struct go_site_entry *sites, size_t count, double interval_s,
			struct count_history *history, struct goroutine_group *groups);

#endif
