/* SPDX-License-Identifier: MIT */
/*
 * Threads grouped by creation stack, process and state (live, or leaked:
 * exited but never joined nor detached).
 */
#ifndef LS_THREAD_REPORT_H
#define LS_THREAD_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "count_history.h"
#include "leaksnoop.h"

/* The thread maps as read at one instant (collect_threads.c). */
struct thread_entry {
	uint32_t tid;
	struct thread_record record;
};

struct thread_stack_entry {
	struct thread_stack_key key;
	struct thread_stack_stats stats;
};

struct thread_snapshot {
	uint64_t time_ns;
	struct thread_entry *threads;
	size_t thread_count;
	struct thread_stack_entry *stacks;
	size_t stack_count;
};

enum thread_state {
	THREAD_LEAKED, /* exited, never joined nor detached: its stack is still mapped */
	THREAD_LIVE,   /* running */
};

/* Threads of one creation stack of one process in one state. */
struct thread_group {
	uint64_t stack_hash;
	uint32_t proc;         /* which process (map `proc_table`) */
	enum thread_state state;
	uint64_t count;
	uint64_t stack_bytes;
	uint64_t created;      /* by this stack since attach, any state */
	uint64_t gone;         /* joined, or detached and exited */
	double growth_per_s;   /* of the live count, since the previous report */
};

/*
 * Group the snapshot's threads by creation stack, process and state, leaked first then
 * by count; default_stack_bytes stands for threads whose attr set no size.
 * groups must hold 2 * (stack_count + thread_count) entries.  Returns how many.
 */
size_t thread_groups(const struct thread_snapshot *snap, uint64_t default_stack_bytes,
		     struct count_history *history, uint64_t prev_time_ns,
		     struct thread_group *groups);

const char *thread_state_name(enum thread_state state);

#endif
