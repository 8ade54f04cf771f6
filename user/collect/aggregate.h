/* SPDX-License-Identifier: MIT */
/*
 * From one snapshot of the maps to rows a report can print: the age filter,
 * growth since the previous report, plateaus and the leak score, sorting and
 * totals.  Policy lives here, not in bpf/; nothing here reads a map.
 */
#ifndef LS_AGGREGATE_H
#define LS_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leaksnoop.h"

/* One stack as read from the maps (collect.c), before any policy. */
struct stack_sample {
	struct stack_key key;
	struct stack_stats stats;
	const struct stack_trace *trace; /* NULL for LS_UNKNOWN_STACK or when missing */
	uint32_t slot; /* in `stack_stats`: what its blocks in `allocs` name */
	uint64_t object_size; /* go_heap: the size its bucket counts (pprof's "bytes") */
};

/* Everything read from the maps at one instant. */
struct snapshot {
	uint64_t time_ns; /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */
	struct stack_sample *stacks;
	size_t count;
	uint64_t counters[LS_CNT_MAX];
};

/* A stack as reported: what it holds now (after the age filter) and its trend. */
struct stack_row {
	const struct stack_sample *sample;
	int64_t bytes;        /* outstanding, older than the age threshold */
	int64_t count;
	double growth_bytes_per_s; /* since the previous report (kind fd: descriptors a second) */
	uint64_t oldest_age_ms;
	/* Trends across reports (need a growth_history). */
	double growth_total_bytes_per_s; /* held bytes over the whole run */
	double leak_score;     /* bytes/s: median growth of the last TREND_INTERVALS reports */
	unsigned grew_intervals; /* consecutive reports in which it grew, up to this one */
	bool plateaued;        /* grew once, then not in the last PLATEAU_INTERVALS reports */
	int64_t lost_bytes;    /* --leak-check: definitely and indirectly lost (0 without) */
};

/* Reports without growth after which a stack that grew counts as plateaued. */
#define PLATEAU_INTERVALS 3
/* Reports the leak score looks back over. */
#define TREND_INTERVALS 3

/* Age-filter parameters shared with the BPF side. */
struct age_filter {
	uint64_t older_ns; /* report blocks at least this old */
	uint64_t epoch_ns; /* 0: no young slots kept (older_ns == 0) */
};

/* The epoch length the BPF side uses for a threshold of older_ms. */
uint64_t age_epoch_ns_for(unsigned older_ms);

/* Bytes and blocks of a stack younger than the threshold at time now_ns. */
void age_young_part(const struct stack_stats *stats, const struct age_filter *filter,
		    uint64_t now_ns, int64_t *bytes, int64_t *count);

/* Per-stack memory of the previous report, for growth rates. */
struct growth_history;

struct growth_history *growth_history_new(void);
/* When tracing started (CLOCK_MONOTONIC ns), for growth over the whole run. */
void growth_history_set_start(struct growth_history *h, uint64_t start_ns);
void growth_history_free(struct growth_history *h);

/*
 * Turn a snapshot into rows, one per stack, sorted by outstanding bytes (then
 * total allocated bytes), and remember this report's bytes for the next
 * growth rate.  prev_time_ns is when the previous report was taken (attach
 * time for the first one).  rows must hold snap->count entries.
 */
size_t aggregate_rows(const struct snapshot *snap, const struct age_filter *filter,
		      struct growth_history *history, uint64_t prev_time_ns,
		      struct stack_row *rows);

/*
 * The same rows between two periodic reports (a live request): growth since
 * the last one, and the trends (leak score, intervals grown, plateau) as it
 * left them; history is read, not changed.
 */
size_t aggregate_rows_seen(const struct snapshot *snap, const struct age_filter *filter,
			   struct growth_history *history, uint64_t prev_time_ns,
			   struct stack_row *rows);

/* --fds: descriptors open (older than the threshold), opened since attach, and their stacks. */
void aggregate_fds(const struct stack_row *rows, size_t count, int64_t *open, uint64_t *opened,
		   size_t *stacks_holding);

/* Allocated bytes and blocks since attach, and frees, over every stack of snap. */
void aggregate_allocated(const struct snapshot *snap, uint64_t *bytes, uint64_t *allocs,
			 uint64_t *frees);

/* Re-sort rows by leak score (steady growth first), then by held bytes. */
void aggregate_sort_by_growth(struct stack_row *rows, size_t count);

/* Re-sort rows by lost bytes (--leak-check's verdicts), then by held bytes. */
void aggregate_sort_by_lost(struct stack_row *rows, size_t count);

/* The Go heap's totals over rows: pprof's four sample types, scaled. */
struct go_heap_totals {
	int64_t inuse_bytes, inuse_objects;
	uint64_t alloc_bytes, alloc_objects;
	size_t stacks;
};

void aggregate_go_heap(const struct stack_row *rows, size_t count, struct go_heap_totals *t);

/*
 * Bytes process image proc holds in heap blocks and anonymous mappings, of
 * every age: what its anonymous memory can be explained by.
 */
int64_t aggregate_held(const struct stack_row *rows, size_t count, uint32_t proc);

/* Totals over rows (after the age filter), the Go heap's left out. */
void aggregate_totals(const struct stack_row *rows, size_t count, int64_t *bytes,
		      int64_t *allocs, size_t *stacks_holding);

#endif
