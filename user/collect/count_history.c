// SPDX-License-Identifier: MIT
/*
 * A count per creation site kept between reports (count_history.h).
 */
#include <stdlib.h>

#include "count_history.h"

/* Few keys (creation sites), looked up once per report: a plain array does. */
struct count_history {
	uint64_t *keys, *counts;
	size_t count, cap;
};

struct count_history *count_history_new(void)
{
	return calloc(1, sizeof(struct count_history));
}

void count_history_free(struct count_history *h)
{
	if (!h)
		return;
	free(h->keys);
	free(h->counts);
	free(h);
}

uint64_t count_history_swap(struct count_history *h, uint64_t key, uint64_t now)
{
	uint64_t prev;

	for (size_t i = 0; i < h->count; i++) {
		if (h->keys[i] == key) {
			prev = h->counts[i];
			h->counts[i] = now;
			return prev;
		}
	}
	if (h->count == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		uint64_t *keys = realloc(h->keys, cap * sizeof(*keys)), *counts;

		if (!keys)
			return now; /* out of memory: no growth rather than a wrong one */
		h->keys = keys;
		counts = realloc(h->counts, cap * sizeof(*counts));
		if (!counts)
			return now;
		h->counts = counts;
		h->cap = cap;
	}
	h->keys[h->count] = key;
	h->counts[h->count++] = now;
	return 0;
}
