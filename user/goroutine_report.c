// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include "goroutine_report.h"

/* Live count per site at the previous report. */
struct goroutine_history {
	uint64_t *gopcs, *live;
	size_t count, cap;
};

struct goroutine_history *goroutine_history_new(void)
{
	return calloc(1, sizeof(struct goroutine_history));
}

void goroutine_history_free(struct goroutine_history *h)
{
	if (!h)
		return;
	free(h->gopcs);
	free(h->live);
	free(h);
}

/* Previous live count of gopc (0 when new), then remember the current one. */
static uint64_t swap_live(struct goroutine_history *h, uint64_t gopc, uint64_t live)
{
	uint64_t prev;

	for (size_t i = 0; i < h->count; i++) {
		if (h->gopcs[i] == gopc) {
			prev = h->live[i];
			h->live[i] = live;
			return prev;
		}
	}
	if (h->count == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		uint64_t *gopcs = realloc(h->gopcs, cap * sizeof(*gopcs)), *lives;

		if (!gopcs)
			return live;
		h->gopcs = gopcs;
		lives = realloc(h->live, cap * sizeof(*lives));
		if (!lives)
			return live;
		h->live = lives;
		h->cap = cap;
	}
	h->gopcs[h->count] = gopc;
	h->live[h->count++] = live;
	return 0;
}

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
			struct goroutine_history *history, struct goroutine_group *groups)
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
			prev = swap_live(history, g->gopc, g->live);
			if (interval_s > 0)
				g->growth_per_s = ((double)g->live - (double)prev) / interval_s;
		}
	}
	qsort(groups, count, sizeof(*groups), compare_groups);
	return count;
}
