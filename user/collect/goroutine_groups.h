/* SPDX-License-Identifier: MIT */
/*
 * Goroutines grouped by the `go` statement that created them: the probes'
 * counts since attach per site (map `go_sites`), and, where the runtime's
 * goroutine list could be read, every goroutine alive now with its state and
 * where it waits, those alive at attach included.
 */
#ifndef LS_GOROUTINE_REPORT_H
#define LS_GOROUTINE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "count_history.h"
#include "go_goroutines.h"
#include "leaksnoop.h"

/* One `go` statement as read from map `go_sites`. */
struct go_site_entry {
	uint64_t gopc;
	struct go_site site;
};

/* State slots of a group: the statuses, then waiting with reason r at GO_STATE_WAIT + r. */
#define GO_STATE_WAIT 16
#define GO_STATE_SLOTS (GO_STATE_WAIT + GO_MAX_WAIT_REASONS)

/* Live goroutines of one creation site, like a pprof goroutine profile's "created by". */
struct goroutine_group {
	uint64_t gopc;
	uint64_t stack_hash;  /* the creation stack the probes stored; 0 for a site seen only live */
	uint64_t live;        /* running now (with the live list: every one, attach's too) */
	uint64_t preexisting; /* of live: alive at attach */
	uint64_t created, exited; /* since attach, by the probes */
	double growth_per_s;  /* of those started since attach and live, since the previous report */
	uint32_t states[GO_STATE_SLOTS]; /* live goroutines per state (with the live list) */
	uint64_t waiting_pc;  /* where most of them wait (their first frame outside the runtime) */
	uint64_t waiting_count; /* how many wait there */
};

/* The groups of the probes' sites (counts since attach); returns count. */
size_t goroutine_groups_from_sites(const struct go_site_entry *sites, size_t count,
				   struct goroutine_group *groups);

/* Per goroutine, the pc where it waits, or 0 (the caller symbolizes). */
typedef uint64_t (*go_waiting_pc_fn)(const struct go_goroutine *g, void *arg);

/*
 * Count every live goroutine into its site's group (new groups for sites the
 * probes never saw, up to cap; those past it are left out and counted in
 * *ungrouped): live, preexisting (its id in attach_ids, sorted), states and
 * the most common waiting pc.  Returns the number of groups, or -ENOMEM.
 */
long goroutine_groups_add_live(struct goroutine_group *groups, size_t count, size_t cap,
			       const struct go_goroutine *live, size_t n,
			       const uint64_t *attach_ids, size_t attach_count,
			       go_waiting_pc_fn waiting_pc, void *arg, uint64_t *ungrouped);

/* Growth since the previous report (history may be NULL), then sort by live count. */
void goroutine_groups_finish(struct goroutine_group *groups, size_t count, double interval_s,
			     struct count_history *history);

#endif
