// SPDX-License-Identifier: MIT
/*
 * Goroutine groups (goroutine_groups.h): live counts, states, waiting frames
 * and growth per `go` statement, sorted.  Pure logic over what
 * collect_threads.c and go_goroutines.c read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goroutine_groups.h"

static int compare_groups(const void *a, const void *b)
{
	const struct goroutine_group *x = a, *y = b;

	if (x->live != y->live)
		return x->live > y->live ? -1 : 1;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return x->gopc < y->gopc ? -1 : x->gopc > y->gopc;
}

size_t goroutine_groups_from_sites(const struct go_site_entry *sites, size_t count,
				   struct goroutine_group *groups)
{
	for (size_t i = 0; i < count; i++) {
		const struct go_site *s = &sites[i].site;
		struct goroutine_group *g = &groups[i];

		memset(g, 0, sizeof(*g));
		g->gopc = sites[i].gopc;
		g->stack_hash = s->stack_hash;
		g->created = s->created;
		g->exited = s->exited < s->created ? s->exited : s->created;
		g->live = g->created - g->exited;
	}
	return count;
}

/* Open addressing over 64-bit keys (0 never a key: each has bit 63 set). */
struct table {
	uint64_t *keys;
	uint64_t *values;
	size_t mask;
};

static int table_init(struct table *t, size_t entries)
{
	size_t size = 16;

	while (size < 2 * entries)
		size *= 2;
	t->keys = calloc(size, sizeof(*t->keys));
	t->values = calloc(size, sizeof(*t->values));
	t->mask = size - 1;
	return t->keys && t->values ? 0 : -ENOMEM;
}

static void table_free(struct table *t)
{
	free(t->keys);
	free(t->values);
}

static uint64_t *table_slot(struct table *t, uint64_t key, bool *fresh)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;

	for (size_t i = (size_t)(h >> 20) & t->mask;; i = (i + 1) & t->mask) {
		if (t->keys[i] == key) {
			*fresh = false;
			return &t->values[i];
		}
		if (!t->keys[i]) {
			t->keys[i] = key;
			t->values[i] = 0;
			*fresh = true;
			return &t->values[i];
		}
	}
}

static bool was_alive_at_attach(uint64_t goid, const uint64_t *ids, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] == goid)
			return true;
		if (ids[mid] < goid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static unsigned state_slot(const struct go_goroutine *g)
{
	if (g->status == GO_STATUS_WAITING && g->waitreason && g->waitreason < GO_MAX_WAIT_REASONS)
		return GO_STATE_WAIT + g->waitreason;
	return g->status < GO_STATE_WAIT ? g->status : 0;
}

/* A goroutine's group and where it waits, sorted to count the waiting frames. */
struct wait_pair {
	size_t group;
	uint64_t pc;
};

static int compare_pairs(const void *a, const void *b)
{
	const struct wait_pair *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* Each group's most common waiting pc, from the pairs sorted. */
static void count_waiting(struct goroutine_group *groups, struct wait_pair *pairs, size_t n)
{
	qsort(pairs, n, sizeof(*pairs), compare_pairs);
	for (size_t i = 0, run; i < n; i += run) {
		struct goroutine_group *g = &groups[pairs[i].group];

		for (run = 1; i + run < n && !compare_pairs(&pairs[i], &pairs[i + run]); run++)
			;
		if (run > g->waiting_count) {
			g->waiting_count = run;
			g->waiting_pc = pairs[i].pc;
		}
	}
}

long goroutine_groups_add_live(struct goroutine_group *groups, size_t count, size_t cap,
			       const struct go_goroutine *live, size_t n,
			       const uint64_t *attach_ids, size_t attach_count,
			       go_waiting_pc_fn waiting_pc, void *arg, uint64_t *ungrouped)
{
	struct table by_site = { 0 }; /* gopc -> group + 1 (0: no room for it) */
	struct wait_pair *pairs = malloc((n ? n : 1) * sizeof(*pairs));
	size_t paired = 0;
	bool fresh;

	*ungrouped = 0;
	if (!pairs || table_init(&by_site, cap + 1)) {
		free(pairs);
		table_free(&by_site);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		groups[i].live = 0; /* the list counts them all, attach's too */
		*table_slot(&by_site, groups[i].gopc | 1ULL << 63, &fresh) = i + 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct go_goroutine *g = &live[i];
		uint64_t *site = table_slot(&by_site, g->gopc | 1ULL << 63, &fresh);
		struct goroutine_group *group;
		uint64_t pc;

		if (fresh && count < cap) {
			memset(&groups[count], 0, sizeof(groups[count]));
			groups[count].gopc = g->gopc;
			*site = ++count;
		}
		if (!*site) {
			(*ungrouped)++; /* no room for its site: counted, not grouped */
			continue;
		}
		group = &groups[*site - 1];
		group->live++;
		group->preexisting += was_alive_at_attach(g->goid, attach_ids, attach_count);
		group->states[state_slot(g)]++;
		pc = waiting_pc ? waiting_pc(g, arg) : 0;
		if (pc)
			pairs[paired++] = (struct wait_pair){ *site - 1, pc };
	}
	count_waiting(groups, pairs, paired);
	free(pairs);
	table_free(&by_site);
	return (long)count;
}

void goroutine_groups_finish(struct goroutine_group *groups, size_t count, double interval_s,
			     struct count_history *history)
{
	for (size_t i = 0; i < count; i++) {
		struct goroutine_group *g = &groups[i];
		uint64_t prev;

		uint64_t since_attach = g->live - g->preexisting;

		/* Those of before attach were there at the start: they are no growth. */
		g->growth_per_s = 0;
		if (history) {
			prev = count_history_swap(history, g->gopc, since_attach);
			if (interval_s > 0)
				g->growth_per_s = ((double)since_attach - (double)prev) / interval_s;
		}
	}
	qsort(groups, count, sizeof(*groups), compare_groups);
}
