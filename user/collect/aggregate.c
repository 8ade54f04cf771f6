// SPDX-License-Identifier: MIT
/*
 * Aggregation (aggregate.h): rows with their age-filtered holdings, trends
 * kept per stack from report to report, and the sort orders.  Pure logic over
 * a snapshot, unit-tested without BPF.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"

uint64_t age_epoch_ns_for(unsigned older_ms)
{
	uint64_t older_ns = (uint64_t)older_ms * 1000000ULL;

	if (!older_ns)
		return 0;
	return (older_ns + LS_AGE_EPOCHS_PER_WINDOW - 1) / LS_AGE_EPOCHS_PER_WINDOW;
}

/*
 * A slot for epoch e holds blocks allocated in [e*L, (e+1)*L).  It is young
 * if any of them may be younger than the threshold; so blocks up to one epoch
 * (a quarter of the threshold) older than it can still count as young.
 */
void age_young_part(const struct stack_stats *stats, const struct age_filter *filter,
		    uint64_t now_ns, int64_t *bytes, int64_t *count)
{
	uint64_t now_epoch, first_young;

	*bytes = 0;
	*count = 0;
	if (!filter->epoch_ns)
		return;
	now_epoch = now_ns / filter->epoch_ns;
	first_young = now_ns > filter->older_ns ? (now_ns - filter->older_ns) / filter->epoch_ns : 0;
	for (int i = 0; i < LS_AGE_SLOTS; i++) {
		const struct age_slot *slot = &stats->young[i];

		if (slot->epoch < first_young || slot->count <= 0)
			continue;
		if (slot->epoch < now_epoch &&
		    now_epoch - slot->epoch > LS_AGE_SLOTS - LS_AGE_GUARD_EPOCHS)
			continue;
		*bytes += slot->bytes;
		*count += slot->count;
	}
}

/* Open-addressing table of (stack key -> bytes at the previous report). */
struct history_entry {
	struct stack_key key;
	int64_t bytes;
	double recent_growth[TREND_INTERVALS]; /* bytes/s, newest at [intervals % N] */
	unsigned intervals, grew_intervals, flat_intervals;
	bool ever_grew;
	bool used;
};

struct growth_history {
	struct history_entry *entries;
	size_t capacity, used;
	uint64_t start_ns;
};

void growth_history_set_start(struct growth_history *h, uint64_t start_ns)
{
	h->start_ns = start_ns;
}

/*
 * The leak score is the median growth (negative counts as none) of the last
 * TREND_INTERVALS reports, fewer at the start taking the smallest: a steady
 * leak scores its rate, a bursty one too, while a stack that grew to a size
 * and stopped (a cache, a pool) drops to zero within two reports, however big.
 */
static double median_recent(const struct history_entry *h)
{
	unsigned n = h->intervals < TREND_INTERVALS ? h->intervals : TREND_INTERVALS;
	double v[TREND_INTERVALS], swap;

	for (unsigned i = 0; i < n; i++)
		v[i] = h->recent_growth[i];
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (v[j] < v[i]) {
				swap = v[i];
				v[i] = v[j];
				v[j] = swap;
			}
	return n == TREND_INTERVALS ? v[TREND_INTERVALS / 2] : n ? v[0] : 0;
}

/* Fold one interval's growth into the stack's trend. */
static void update_trend(struct history_entry *prev, struct stack_row *row)
{
	bool grew = row->growth_bytes_per_s > 0;

	prev->recent_growth[prev->intervals++ % TREND_INTERVALS] = grew ? row->growth_bytes_per_s : 0;
	prev->grew_intervals = grew ? prev->grew_intervals + 1 : 0;
	prev->flat_intervals = grew ? 0 : prev->flat_intervals + 1;
	prev->ever_grew |= grew;
	row->leak_score = median_recent(prev);
	row->grew_intervals = prev->grew_intervals;
	row->plateaued = prev->ever_grew && prev->flat_intervals >= PLATEAU_INTERVALS;
}

struct growth_history *growth_history_new(void)
{
	return calloc(1, sizeof(struct growth_history));
}

void growth_history_free(struct growth_history *h)
{
	if (!h)
		return;
	free(h->entries);
	free(h);
}

static size_t key_hash(const struct stack_key *key)
{
	uint64_t h = key->stack_hash ^ ((uint64_t)key->kind * 0x9e3779b97f4a7c15ULL);

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h ^ (h >> 29));
}

static struct history_entry *history_slot(struct growth_history *h, const struct stack_key *key)
{
	size_t i = key_hash(key) & (h->capacity - 1);

	while (h->entries[i].used && memcmp(&h->entries[i].key, key, sizeof(*key)))
		i = (i + 1) & (h->capacity - 1);
	return &h->entries[i];
}

static int history_reserve(struct growth_history *h, size_t more)
{
	struct history_entry *old = h->entries;
	size_t old_capacity = h->capacity, capacity = old_capacity ? old_capacity : 64;

	while ((h->used + more) * 2 > capacity)
		capacity *= 2;
	if (capacity == old_capacity)
		return 0;
	h->entries = calloc(capacity, sizeof(*h->entries));
	if (!h->entries) {
		h->entries = old;
		return -1;
	}
	h->capacity = capacity;
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i].used)
			*history_slot(h, &old[i].key) = old[i];
	free(old);
	return 0;
}

static int compare_rows(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->sample->stats.alloc_bytes != y->sample->stats.alloc_bytes)
		return x->sample->stats.alloc_bytes > y->sample->stats.alloc_bytes ? -1 : 1;
	if (x->sample->key.stack_hash != y->sample->key.stack_hash)
		return x->sample->key.stack_hash < y->sample->key.stack_hash ? -1 : 1;
	return (int)x->sample->key.kind - (int)y->sample->key.kind;
}

/* The stack's entry in h when it has one (nothing is added). */
static struct history_entry *history_find(struct growth_history *h, const struct stack_key *key)
{
	struct history_entry *entry = h && h->capacity ? history_slot(h, key) : NULL;

	return entry && entry->used ? entry : NULL;
}

/* A row's trends as the last periodic report left them, that entry unchanged. */
static void trend_as_seen(const struct history_entry *seen, struct stack_row *row)
{
	row->leak_score = median_recent(seen);
	row->grew_intervals = seen->grew_intervals;
	row->plateaued = seen->ever_grew && seen->flat_intervals >= PLATEAU_INTERVALS;
}

/*
 * The rows of snap; with advance, history takes this report's growth (a
 * periodic report), without, it is only read (a live request).
 */
static size_t fill_rows(const struct snapshot *snap, const struct age_filter *filter,
			struct growth_history *history, uint64_t prev_time_ns,
			struct stack_row *rows, bool advance)
{
	double interval_s = snap->time_ns > prev_time_ns ?
		(double)(snap->time_ns - prev_time_ns) / 1e9 : 0.0;
	bool remember = advance && history && history_reserve(history, snap->count) == 0;

	for (size_t i = 0; i < snap->count; i++) {
		const struct stack_sample *s = &snap->stacks[i];
		struct stack_row *row = &rows[i];
		int64_t young_bytes, young_count, trended;
		struct history_entry *prev = remember ? history_slot(history, &s->key) : NULL;
		struct history_entry *seen = advance ? NULL : history_find(history, &s->key);
		int64_t prev_bytes = prev && prev->used ? prev->bytes : seen ? seen->bytes : 0;

		age_young_part(&s->stats, filter, snap->time_ns, &young_bytes, &young_count);
		row->sample = s;
		row->bytes = s->stats.outstanding_bytes - young_bytes;
		row->count = s->stats.outstanding_count - young_count;
		if (row->bytes < 0 || row->count <= 0) {
			row->bytes = 0;
			row->count = 0;
		}
		/* Descriptors have no size: their trends are in descriptors. */
		trended = s->key.kind == LS_KIND_FD ? row->count : row->bytes;
		row->growth_bytes_per_s = interval_s > 0 ? (double)(trended - prev_bytes) / interval_s : 0;
		row->oldest_age_ms = row->count && snap->time_ns > s->stats.outstanding_since_ns ?
			(snap->time_ns - s->stats.outstanding_since_ns) / 1000000ULL : 0;
		row->growth_total_bytes_per_s = 0;
		row->leak_score = 0;
		row->grew_intervals = 0;
		row->plateaued = false;
		row->lost_bytes = 0;
		if (prev) {
			bool first = !prev->used;

			if (first) {
				history->used++;
				*prev = (struct history_entry){ .key = s->key, .used = true };
			}
			if (snap->time_ns > history->start_ns)
				row->growth_total_bytes_per_s = (double)trended /
					((double)(snap->time_ns - history->start_ns) / 1e9);
			if (interval_s > 0)
				update_trend(prev, row);
			prev->bytes = trended;
		}
		if (seen) {
			if (snap->time_ns > history->start_ns)
				row->growth_total_bytes_per_s = (double)trended /
					((double)(snap->time_ns - history->start_ns) / 1e9);
			trend_as_seen(seen, row);
		}
	}
	qsort(rows, snap->count, sizeof(*rows), compare_rows);
	return snap->count;
}

size_t aggregate_rows(const struct snapshot *snap, const struct age_filter *filter,
		      struct growth_history *history, uint64_t prev_time_ns,
		      struct stack_row *rows)
{
	return fill_rows(snap, filter, history, prev_time_ns, rows, true);
}

size_t aggregate_rows_seen(const struct snapshot *snap, const struct age_filter *filter,
			   struct growth_history *history, uint64_t prev_time_ns,
			   struct stack_row *rows)
{
	return fill_rows(snap, filter, history, prev_time_ns, rows, false);
}

static int compare_growth(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	if (x->leak_score != y->leak_score)
		return x->leak_score > y->leak_score ? -1 : 1;
	return compare_rows(a, b);
}

void aggregate_sort_by_growth(struct stack_row *rows, size_t count)
{
	qsort(rows, count, sizeof(*rows), compare_growth);
}

static int compare_lost(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	if (x->lost_bytes != y->lost_bytes)
		return x->lost_bytes > y->lost_bytes ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return 0;
}

void aggregate_sort_by_lost(struct stack_row *rows, size_t count)
{
	qsort(rows, count, sizeof(*rows), compare_lost);
}

void aggregate_totals(const struct stack_row *rows, size_t count, int64_t *bytes,
		      int64_t *allocs, size_t *stacks_holding)
{
	*bytes = 0;
	*allocs = 0;
	*stacks_holding = 0;
	for (size_t i = 0; i < count; i++) {
		if (rows[i].sample->key.kind == LS_KIND_GO_HEAP || rows[i].sample->key.kind == LS_KIND_FD)
			continue; /* the runtime's profile, descriptors: their own totals */
		*bytes += rows[i].bytes;
		*allocs += rows[i].count;
		if (rows[i].count)
			(*stacks_holding)++;
	}
}

int64_t aggregate_held(const struct stack_row *rows, size_t count, uint32_t proc)
{
	int64_t held = 0;

	for (size_t i = 0; i < count; i++) {
		const struct stack_sample *s = rows[i].sample;

		if (s->key.proc == proc && (s->key.kind == LS_KIND_HEAP || s->key.kind == LS_KIND_MMAP))
			held += s->stats.outstanding_bytes;
	}
	return held;
}

void aggregate_go_heap(const struct stack_row *rows, size_t count, struct go_heap_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < count; i++) {
		const struct stack_sample *s = rows[i].sample;

		if (s->key.kind != LS_KIND_GO_HEAP)
			continue;
		t->inuse_bytes += rows[i].bytes;
		t->inuse_objects += rows[i].count;
		t->alloc_bytes += s->stats.alloc_bytes;
		t->alloc_objects += s->stats.alloc_count;
		t->stacks++;
	}
}

void aggregate_allocated(const struct snapshot *snap, uint64_t *bytes, uint64_t *allocs,
			 uint64_t *frees)
{
	int64_t outstanding = 0;
	uint64_t tracked = 0;

	*bytes = 0;
	*allocs = 0;
	for (size_t i = 0; i < snap->count; i++) {
		const struct stack_sample *s = &snap->stacks[i];

		if (s->key.kind == LS_KIND_GO_ALLOC || s->key.kind == LS_KIND_GO_HEAP ||
		    s->key.kind == LS_KIND_FD)
			continue; /* sampled estimates, descriptors: their own totals */
		*bytes += s->stats.alloc_bytes;
		*allocs += s->stats.alloc_count;
		if (s->key.kind == LS_KIND_GROWTH)
			continue; /* new pages: never freed one by one */
		tracked += s->stats.alloc_count;
		outstanding += s->stats.outstanding_count;
	}
	*frees = outstanding >= 0 && (uint64_t)outstanding <= tracked ? tracked - outstanding : 0;
}

void aggregate_fds(const struct stack_row *rows, size_t count, int64_t *open, uint64_t *opened,
		   size_t *stacks_holding)
{
	*open = 0;
	*opened = 0;
	*stacks_holding = 0;
	for (size_t i = 0; i < count; i++) {
		if (rows[i].sample->key.kind != LS_KIND_FD)
			continue;
		*open += rows[i].count;
		*opened += rows[i].sample->stats.alloc_count;
		if (rows[i].count)
			(*stacks_holding)++;
	}
}
