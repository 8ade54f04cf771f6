// SPDX-License-Identifier: MIT
/*
 * Thread groups (thread_groups.h): the snapshot's threads grouped and
 * sorted, leaked stacks' bytes counted.  Pure logic over what
 * collect_threads.c read.
 */
#include <stdlib.h>
#include <string.h>

#include "thread_groups.h"

const char *thread_state_name(enum thread_state state)
{
	return state == THREAD_LEAKED ? "leaked" : "live";
}

static struct thread_group *group_for(struct thread_group *groups, size_t *count,
				      uint64_t hash, uint32_t proc, enum thread_state state)
{
	for (size_t i = 0; i < *count; i++)
		if (groups[i].stack_hash == hash && groups[i].proc == proc &&
		    groups[i].state == state)
			return &groups[i];
	groups[*count] = (struct thread_group){ .stack_hash = hash, .proc = proc, .state = state };
	return &groups[(*count)++];
}

static const struct thread_stack_stats *stack_stats(const struct thread_snapshot *snap,
						    uint64_t hash, uint32_t proc)
{
	for (size_t i = 0; i < snap->stack_count; i++)
		if (snap->stacks[i].key.stack_hash == hash && snap->stacks[i].key.proc == proc)
			return &snap->stacks[i].stats;
	return NULL;
}

static int compare_groups(const void *a, const void *b)
{
	const struct thread_group *x = a, *y = b;

	if (x->state != y->state)
		return x->state == THREAD_LEAKED ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	return x->stack_hash < y->stack_hash ? -1 : x->stack_hash > y->stack_hash;
}

size_t thread_groups(const struct thread_snapshot *snap, uint64_t default_stack_bytes,
		     struct count_history *history, uint64_t prev_time_ns,
		     struct thread_group *groups)
{
	double interval_s = snap->time_ns > prev_time_ns ?
		(double)(snap->time_ns - prev_time_ns) / 1e9 : 0;
	size_t count = 0;

	for (size_t i = 0; i < snap->thread_count; i++) {
		const struct thread_record *rec = &snap->threads[i].record;
		enum thread_state state = rec->exited ? THREAD_LEAKED : THREAD_LIVE;
		struct thread_group *g;

		if (rec->exited && rec->detached)
			continue; /* being retired: holds nothing */
		g = group_for(groups, &count, rec->stack_hash, rec->proc, state);
		g->count++;
		g->stack_bytes += rec->stack_bytes ? rec->stack_bytes : default_stack_bytes;
	}
	/* Stacks whose threads are all gone still say how many they made. */
	for (size_t i = 0; i < snap->stack_count; i++)
		if (snap->stacks[i].stats.created)
			group_for(groups, &count, snap->stacks[i].key.stack_hash,
				  snap->stacks[i].key.proc, THREAD_LIVE);
	for (size_t i = 0; i < count; i++) {
		const struct thread_stack_stats *stats =
			stack_stats(snap, groups[i].stack_hash, groups[i].proc);
		/* One history entry per (stack, process). */
		uint64_t key = groups[i].stack_hash ^ (groups[i].proc * 0x9e3779b97f4a7c15ULL);
		uint64_t prev;

		if (stats) {
			groups[i].created = stats->created;
			groups[i].gone = stats->gone;
		}
		if (groups[i].state != THREAD_LIVE || !history)
			continue;
		prev = count_history_swap(history, key, groups[i].count);
		if (interval_s > 0)
			groups[i].growth_per_s = ((double)groups[i].count - (double)prev) / interval_s;
	}
	qsort(groups, count, sizeof(*groups), compare_groups);
	return count;
}
