// SPDX-License-Identifier: MIT
/*
 * A Go target's parts of a report (session_state.h): the Go heap from the
 * runtime's memory profile after the maps' stacks, and the goroutine groups:
 * the probes' counts since attach per `go` statement, merged with the
 * runtime's own list of every goroutine alive (those of before attach
 * included), each group with its states and the frame where most wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/aggregate.h"
#include "collect/collect.h"
#include "collect/collect_threads.h"
#include "collect/go_goroutines.h"
#include "collect/go_heap.h"
#include "common/clock.h"
#include "report/report.h"
#include "session_state.h"
#include "symbols/symbolize.h"
/*
 * The Go heap's stacks after the maps' (a Go target): the runtime's memory
 * profile read from its memory.  A profile that cannot be read is said once,
 * and the report goes on without it.
 */
int report_add_go_heap(struct session *s, struct report_state *st, struct snapshot *snap)
{
	const struct stack_sample *heap;
	int n = go_heap_read(s->go_heap, &heap);
	size_t total;

	if (n < 0) {
		char why[128];

		snprintf(why, sizeof(why), "%s", n == -EPROTO ?
			 "runtime.mbuckets does not hold a memory profile leaksnoop can read" :
			 strerror(-n));
		if (strcmp(why, st->go_heap_said))
			fprintf(stderr, "leaksnoop: the Go heap is not shown: %s\n", why);
		snprintf(st->go_heap_said, sizeof(st->go_heap_said), "%s", why);
		return 0;
	}
	st->go_heap_said[0] = '\0';
	total = snap->count + (size_t)n;
	if (total > st->with_go_heap_cap) {
		struct stack_sample *grown = realloc(st->with_go_heap, total * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		st->with_go_heap = grown;
		st->with_go_heap_cap = total;
	}
	memcpy(st->with_go_heap, snap->stacks, snap->count * sizeof(*snap->stacks));
	memcpy(st->with_go_heap + snap->count, heap, (size_t)n * sizeof(*heap));
	snap->stacks = st->with_go_heap;
	snap->count = total;
	return report_state_reserve_rows(st, total);
}

/*
 * A Go heap stack starts inside the runtime's allocator (runtime.makeslice,
 * newobject...): as pprof does, those frames are left out up to the first
 * one that is not the runtime's, unless no other frame remains.
 */
void report_hide_runtime_frames(struct report_stack *stack)
{
	size_t first = 0;

	while (first < stack->depth && stack->frames[first].symbol &&
	       !strncmp(stack->frames[first].symbol, "runtime.", 8))
		first++;
	if (!first || first == stack->depth)
		return;
	memmove(stack->frames, stack->frames + first,
		(stack->depth - first) * sizeof(*stack->frames));
	stack->depth -= first;
}

/* Is pc in the runtime's own code?  Remembered per pc: a report asks for many alike. */
static bool in_runtime(struct session *s, struct report_state *st, uint64_t pc, bool resume_pc)
{
	size_t slot = (size_t)((pc * 0x9e3779b97f4a7c15ULL) >> 51) % GO_PC_CACHE;
	struct frame frame;

	if (st->go_pc_seen[slot] == pc)
		return st->go_pc_runtime[slot];
	/* A parked goroutine resumes at pcs[0]; the rest are return addresses. */
	symbolize_address(s->symbolizer, pc, !resume_pc, &frame);
	st->go_pc_seen[slot] = pc;
	st->go_pc_runtime[slot] = frame.symbol && !strncmp(frame.symbol, "runtime.", 8);
	return st->go_pc_runtime[slot];
}

struct waiting_context {
	struct session *s;
	struct report_state *st;
};

/* A parked stack is walked up to its first frame outside the runtime. */
static bool walk_on(uint64_t pc, bool resume, void *arg)
{
	struct waiting_context *ctx = arg;

	return in_runtime(ctx->s, ctx->st, pc, resume);
}

/*
 * Where a goroutine waits: the first frame of its parked stack outside the
 * runtime, as a return address (its resume pc plus one when that is the
 * one).  A goroutine of the runtime's own waits in the function it was
 * started with: the frame under runtime.goexit at the stack's root.
 */
static uint64_t waiting_pc(const struct go_goroutine *g, void *arg)
{
	struct waiting_context *ctx = arg;

	for (unsigned i = 0; i < g->depth; i++)
		if (!in_runtime(ctx->s, ctx->st, g->pcs[i], i == 0))
			return i ? g->pcs[i] : g->pcs[0] + 1;
	if (g->depth > 2)
		return g->pcs[g->depth - 2];
	return g->depth ? g->pcs[0] + 1 : 0;
}

/*
 * Merge the runtime's list into the groups; false when it could not be read
 * (the target has gone, say), the groups then keep the probes' counts.
 */
static bool add_live_goroutines(struct session *s, struct report_state *st, struct report *r,
				size_t *count)
{
	struct waiting_context ctx = { s, st };
	const struct go_goroutine *list;
	int n = s->go_goroutines ? go_goroutines_read(s->go_goroutines, &list, walk_on, &ctx) :
				   -ENOENT;
	long groups;

	if (n < 0) {
		char why[128];

		snprintf(why, sizeof(why), "%s", n == -EPROTO ?
			 "runtime.allgs does not hold goroutines leaksnoop can read" : strerror(-n));
		if (s->go_goroutines && n != -ESRCH && strcmp(why, st->go_list_said))
			fprintf(stderr, "leaksnoop: goroutines alive at attach are not grouped: "
				"%s\n", why);
		snprintf(st->go_list_said, sizeof(st->go_list_said), "%s", why);
		return false;
	}
	st->go_list_said[0] = '\0';
	groups = goroutine_groups_add_live(st->go_groups, *count, s->opts->max_stacks, list,
					   (size_t)n, s->go_attach_ids, s->go_attach_count,
					   waiting_pc, &ctx, &r->goroutines_ungrouped);
	if (groups < 0)
		return false;
	*count = (size_t)groups;
	r->goroutine_list_read = true;
	return true;
}

/* A group's creation stack: the probes' (from the go statement up), or its site alone. */
static void creation_frames(struct session *s, struct report_goroutine *rg)
{
	const struct goroutine_group *g = rg->group;

	if (g->stack_hash) {
		rg->depth = symbolize_stack(s->symbolizer, collector_trace(s->collector,
									   g->stack_hash),
					    rg->frames);
		if (rg->depth)
			return;
	}
	rg->depth = g->gopc ? 1 : 0;
	if (g->gopc)
		symbolize_address(s->symbolizer, g->gopc, true, &rg->frames[0]);
}

void report_add_goroutines(struct session *s, struct report_state *st, struct report *r,
			   bool periodic)
{
	unsigned long long now = monotonic_ns();
	size_t n = collect_go_sites(s->go_sites_fd, st->go_sites, s->opts->max_stacks);

	n = goroutine_groups_from_sites(st->go_sites, n, st->go_groups);
	r->goroutines_tracked = true;
	r->go_reasons = s->go_reasons;
	if (add_live_goroutines(s, st, r, &n)) {
		for (size_t i = 0; i < n; i++) {
			r->goroutines_live += st->go_groups[i].live - st->go_groups[i].preexisting;
			r->goroutines_preexisting += st->go_groups[i].preexisting;
		}
	} else {
		uint64_t exits = r->go_preexisting_exits;

		for (size_t i = 0; i < n; i++)
			r->goroutines_live += st->go_groups[i].live;
		r->goroutines_preexisting = s->goroutines_preexisting > exits ?
			s->goroutines_preexisting - exits : 0;
	}
	goroutine_groups_finish(st->go_groups, n, (double)(now - st->prev_go_ns) / 1e9,
				periodic ? st->go_history : NULL);
	if (periodic)
		st->prev_go_ns = now;
	r->goroutine_count = n < MAX_THREAD_GROUPS ? n : MAX_THREAD_GROUPS;
	r->goroutines = st->goroutines;
	for (size_t i = 0; i < r->goroutine_count; i++) {
		struct report_goroutine *rg = &st->goroutines[i];

		rg->group = &st->go_groups[i];
		creation_frames(s, rg);
		if (rg->group->waiting_count)
			symbolize_address(s->symbolizer, rg->group->waiting_pc, true,
					  &rg->waiting_in);
	}
}
