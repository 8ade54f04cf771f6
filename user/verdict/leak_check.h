/* SPDX-License-Identifier: MIT */
/*
 * --leak-check, one report's worth: hold the target (freeze.h), copy its
 * blocks' list, mappings and scannable memory (image.h), let it go, then
 * mark on the copy (mark.h) and add the verdicts up per stack slot.  The
 * target is held only for the copy; the mark runs while it runs on.
 *
 * Roots are the stopped threads' registers, each thread's stack from its
 * stack pointer less the 128-byte red zone, and every copied mapping that is
 * not the allocator's.  When the table holds every block of the process
 * (-c, nothing dropped or filtered: `exact`), the allocator's own memory is
 * no root, as valgrind scans none of its heap but the blocks: an anonymous
 * mapping holding blocks is scanned only where the program mmap'd it itself
 * (map `mmaps`, which never records the allocator's own mmaps; the kernel
 * may merge both into one mapping).  Otherwise (-p: blocks from before
 * attach are unknown; or --no-mmap) all of their memory but the blocks is
 * scanned as roots: a block the tracer never saw can hold the only pointer
 * to one it did, and allocator metadata's stale pointers can only hide a
 * leak, never invent one.
 */
#ifndef LS_LEAK_CHECK_H
#define LS_LEAK_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "collect/thread_groups.h"
#include "leaksnoop.h"
#include "mark.h"

/* Bytes and blocks per verdict, for a stack or a whole report. */
struct reachability {
	struct {
		uint64_t bytes, allocs;
	} of[VERDICT_COUNT];
};

/* A category's bytes and blocks (or two categories' together). */
struct verdict_count {
	uint64_t bytes, allocs;
};

/* What a leak is, for the summary, --error-exitcode and --sort lost: definitely + indirectly lost. */
struct verdict_count reachability_lost(const struct reachability *r);

/* Every category together: what the checked blocks hold. */
struct verdict_count reachability_all(const struct reachability *r);

struct leak_check_params {
	pid_t pid;
	int blocks_fd;        /* map `allocs` */
	int mmaps_fd;         /* map `mmaps`; -1 with --no-mmap */
	uint32_t mmaps_max;   /* its size */
	uint32_t buckets;
	uint32_t max_slots;   /* slots of `stack_stats` */
	uint64_t max_bytes;   /* copy at most this much; more: the check is skipped, said why */
	bool traced_leader;   /* -c: the command is ptrace'd by us already */
};

struct leak_check_result {
	bool done;            /* false: skipped this time, `why` says why */
	char why[256];
	bool exact;           /* the allocator's pages were no roots */
	double frozen_ms;     /* how long the target was held */
	double mark_ms;
	uint64_t copied_bytes, scanned_bytes, unreadable_bytes;
	uint64_t blocks;
	uint64_t heuristic_blocks[HEURISTIC_COUNT];
};

struct leak_check;

struct leak_check *leak_check_new(const struct leak_check_params *params);
void leak_check_free(struct leak_check *lc);

/*
 * Stop the target, whose blocks are proc's in the table (leader_stopped:
 * -c's command is held at its exit already); room for the copy and the
 * blocks is made first.  0, or -errno with the result's `why` set; nothing
 * is held then.
 */
int leak_check_hold(struct leak_check *lc, uint32_t proc, bool leader_stopped);

/* While held: read the blocks, the mappings and the memory. */
void leak_check_copy(struct leak_check *lc);

/*
 * The threads the probes saw created (pthread_t, which glibc and musl keep
 * at the top of the thread's stack mapping, and the stack's size): their
 * stacks and TLS are roots even where the kernel merged a stack's mapping
 * with the allocator's, and even when the thread is gone (at exit) and its
 * stack pointer unknown.  Those of threads the checked process created, from
 * the thread maps' snapshot (a size of 0: default_stack_bytes).  Call
 * before leak_check_mark; copied.
 */
void leak_check_thread_stacks(struct leak_check *lc, const struct thread_snapshot *threads,
			      uint64_t default_stack_bytes);

/*
 * Let the target go.  Returns -c's main-thread stop that the hold took
 * over and that launch must still handle (launch_requeue), or 0.
 */
int leak_check_release(struct leak_check *lc);

/*
 * Mark the copy and add the verdicts up per slot, leaving out blocks of
 * epoch first_young_epoch or later (epoch_ns 0: none left out), as the
 * report's age filter does.  exact: see above.
 */
void leak_check_mark(struct leak_check *lc, bool exact, uint64_t epoch_ns,
		     uint64_t first_young_epoch);

const struct leak_check_result *leak_check_result(const struct leak_check *lc);

/*
 * The verdicts of the stack key holding slot in `stack_stats`, or NULL: not
 * a heap stack of the checked process, or none of its blocks classified.
 */
const struct reachability *leak_check_verdicts(const struct leak_check *lc,
					       const struct stack_key *key, uint32_t slot);

#endif
