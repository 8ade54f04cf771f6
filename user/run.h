/* SPDX-License-Identifier: MIT */
/*
 * One run of the tracer, as main() wires it: the target chosen
 * (setup_target.c), the probes attached in order (setup_attach.c), then the
 * session (session.h).  Everything a run holds, so that main() can take it
 * down in one place whatever step failed.
 */
#ifndef LS_RUN_H
#define LS_RUN_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "attach/allocator.h"
#include "attach/go_runtime.h"
#include "attach/launch.h"
#include "attach/tracer.h"
#include "options.h"

struct collector;
struct thread_collector;
struct symbolizer;
struct proc_follower;
struct late_allocators;
struct oom_watch;
struct unwinder;
struct leak_check;
struct suppressions;

struct go_heap;
struct go_goroutines;

struct run {
	struct options opts;
	struct launched child;
	struct allocator alloc;
	struct tracer tracer;
	struct collector *collector;
	struct thread_collector *threads;
	unsigned threads_preexisting;
	bool is_go;
	struct go_runtime go;
	struct go_heap *go_heap;           /* the runtime's memory profile, read at each report */
	struct go_goroutines *go_goroutines; /* the runtime's goroutine list, read at each report */
	uint64_t *go_attach_ids;           /* goroutines alive at attach, sorted */
	size_t go_attach_count;
	unsigned goroutines_preexisting;
	struct symbolizer *symbolizer;
	struct proc_follower *procs;
	struct late_allocators *late; /* allocators mapped after attach, or NULL (-O) */
	struct oom_watch *oom;        /* the OOM killer's choices, or NULL */
	struct unwinder *unwinder; /* --unwind dwarf */
	struct leak_check *leak_check;     /* --leak-check */
	struct suppressions *suppressions; /* --suppressions */
	FILE *out;
	int listen_fd;
	pid_t pid;
};

/*
 * Which process (or every process) and what in it to probe: -c's command
 * launched and held before its first instruction, -p's process checked, the
 * allocator or the Go runtime found.  Returns an exit status (0: go on).
 */
int run_start_target(struct run *run);

/* pid's allocator (exe: from the file, not the mappings), with its message on failure. */
int run_find_allocator(const struct options *o, pid_t pid, const char *exe,
		       struct allocator *alloc);

/*
 * Load the BPF programs and attach every family the options ask for, then
 * make the collectors.  Returns an exit status (0: go on).
 */
int run_attach_all(struct run *run);

/* The tracer's configuration the options make, for process pid (0: every process). */
void run_tracer_config(const struct options *o, pid_t pid, struct tracer_config *cfg);

/*
 * --leak-check's reader of t's block table, for pid (traced_leader: -c's
 * command, ptrace'd by us already).  NULL with errno ENOENT when t has no
 * heap probes (--floor), ENOMEM.
 */
struct leak_check *run_new_leak_check(const struct options *o, pid_t pid, const struct tracer *t,
				      bool traced_leader);

/* A collector of t's maps, sized as the options say; NULL when out of memory. */
struct collector *run_new_collector(struct tracer *t, const struct options *o);

#endif
