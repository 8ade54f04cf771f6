// SPDX-License-Identifier: MIT
/*
 * Goroutine groups (goroutine_groups.h): live counts, creation rates and
 * growth per `go` statement, sorted.  Pure logic over what collect_threads.c
 * read.
 */
#include <stdlib.h>

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

size_t goroutine_groups(const struct go_site_entry *sites, size_t count, double interval_s,
			struct count_history *history, struct goroutine_group *groups)
{
	for (size_t i = 0; i < count; i++) {
		const struct go_site *s = &sites[i].site;
		struct goroutine_group *g = &groups[i];
		uint64_t prev;

		g->gopc = sites[i].gopc;
		g->stack_hash = s->stack_hash;
		g->created = s->created;
		g->exited = s->exited < s->created ? s->exited : s->created;
		g->live = g->created - g->exited;
		g->growth_per_s = 0;
		if (history) {
			prev = count_history_swap(history, g->gopc, g->live);
			if (interval_s > 0)
				g->growth_per_s = ((double)g->live - (double)prev) / interval_s;
		}
	}
	qsort(groups, count, sizeof(*groups), compare_groups);
	return count;
}
