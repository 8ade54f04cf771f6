// SPDX-License-Identifier: MIT
/*
 * The probes of a run, attached in the order that loses nothing (run.h):
 * the heap object first (it owns the shared maps), the kernel's and the page
 * faults' tracepoints, then the allocator, goroutine or thread probes, the
 * processes followed, and last the collectors that read the maps.  Each step's
 * failure is one message and an exit status; main() detaches what was
 * attached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/late_allocators.h"
#include "attach/oom_watch.h"
#include "attach/preflight.h"
#include "attach/procs.h"
#include "attach/thread_probes.h"
#include "collect/aggregate.h"
#include "collect/collect.h"
#include "collect/collect_threads.h"
#include "collect/go_goroutines.h"
#include "collect/go_heap.h"
#include "collect/unwinder.h"
#include "run.h"
#include "verdict/leak_check.h"

/* Sample Go allocations through the runtime's own profiler when it runs, or --go-allocs. */
static void choose_go_alloc_probe(struct run *run)
{
	long rate = run->opts.command ? 512 * 1024 : go_read_memprofilerate(run->pid, &run->go);

	run->go.alloc_probe = GO_ALLOC_NONE;
	if (run->opts.go_allocs && run->go.mallocgc_offset) {
		run->go.alloc_probe = GO_ALLOC_MALLOCGC;
		run->go.sample_bytes = rate > 0 ? (uint64_t)rate : 512 * 1024;
	} else if (rate > 0 && run->go.profilealloc_offset) {
		run->go.alloc_probe = GO_ALLOC_PROFILEALLOC;
		run->go.sample_bytes = rate;
	} else if (run->opts.verbose) {
		fprintf(stderr, "leaksnoop: Go allocation rate not sampled: the program's memory "
			"profiling is off (MemProfileRate 0); --go-allocs probes runtime.mallocgc "
			"instead (about 1 us per allocation)\n");
	}
}

/*
 * The Go heap from the runtime's own memory profile: no probe, a read of its
 * memory per report.  Under -c a position-independent executable's base is
 * not known yet (it has not been exec'd): its heap is not read.
 */
static void open_go_heap(struct run *run)
{
	const struct go_globals *g = &run->go.globals;
	uint64_t bias;

	if (!g->mbuckets || !g->memprofilerate) {
		fprintf(stderr, "leaksnoop: %s: runtime.mbuckets or runtime.MemProfileRate not "
			"found: the Go heap is not shown\n", run->go.path);
		return;
	}
	if (run->go.pie && run->opts.command) {
		if (run->opts.verbose)
			fprintf(stderr, "leaksnoop: the Go heap of a position-independent command "
				"is not read under -c (use -p)\n");
		return;
	}
	bias = run->go.pie ? go_exe_bias(run->pid, &run->go) : 0;
	run->go_heap = go_heap_new(run->pid, g->mbuckets + bias, g->memprofilerate + bias);
}

static int compare_ids(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Every goroutine, read from runtime.allgs at each report: the reader is
 * made here, and its first read gives the ids of the goroutines alive at
 * attach (sorted), grouped later by their creation site like the others.
 * Returns how many, 0 when the list cannot be read.
 */
static size_t read_goroutines_at_attach(struct run *run)
{
	const struct go_goroutine *list;
	uint64_t bias;
	int n;

	if (!run->go.globals.allgs || (run->go.pie && run->opts.command))
		return 0;
	bias = run->go.pie ? go_exe_bias(run->pid, &run->go) : 0;
	run->go_goroutines = go_goroutines_new(run->pid, run->go.globals.allgs + bias,
					       &run->go.g);
	if (!run->go_goroutines || run->opts.command)
		return 0; /* -c: nothing runs before attach */
	n = go_goroutines_read(run->go_goroutines, &list, NULL, NULL);
	if (n < 0 && run->opts.verbose)
		fprintf(stderr, "leaksnoop: cannot read runtime.allgs (%s): goroutines from before "
			"attach are not covered\n", strerror(-n));
	if (n <= 0 || !(run->go_attach_ids = malloc((size_t)n * sizeof(uint64_t))))
		return 0;
	for (int i = 0; i < n; i++)
		run->go_attach_ids[i] = list[i].goid;
	qsort(run->go_attach_ids, (size_t)n, sizeof(uint64_t), compare_ids);
	run->go_attach_count = (size_t)n;
	return (size_t)n;
}

static int attach_goroutines(struct run *run)
{
	/* Read before attach: a goroutine in both lists would never be seen to end. */
	size_t count = read_goroutines_at_attach(run);
	int err;

	run->goroutines_preexisting = (unsigned)count;
	open_go_heap(run);
	choose_go_alloc_probe(run);
	/* The probes know as many as their map holds; the reports know them all. */
	err = tracer_attach_goroutines(&run->tracer, run->pid, &run->go, run->go_attach_ids,
				       count < LS_MAX_TRACKED_THREADS ? count :
				       LS_MAX_TRACKED_THREADS, run->opts.verbose);
	if (err)
		return fail(EXIT_RUNTIME, "cannot attach the goroutine probes: %s", strerror(-err));
	return 0;
}

/* Thread tracking is best effort: without pthread_create there is nothing to track. */
/* Another process's thread probes (a child, another -p): tracked like the target's. */
static void attach_child_threads(struct run *run, pid_t pid)
{
	struct thread_library lib;
	int err = thread_library_find_for_pid(pid, &lib);

	if (!err)
		err = tracer_attach_thread_probes(&run->tracer, pid, &lib, false);
	if (err && run->opts.verbose)
		fprintf(stderr, "leaksnoop: threads of PID %d not tracked: %s\n", (int)pid,
			strerror(-err));
}

static int attach_threads(struct run *run)
{
	const struct options *o = &run->opts;
	struct thread_library lib;
	int err = o->command ? thread_library_find_for_exe(run->child.exe, &lib) :
			       thread_library_find_for_pid(run->pid, &lib);

	if (err) {
		if (o->verbose)
			fprintf(stderr, "leaksnoop: threads not tracked: no pthread_create found\n");
		return 0;
	}
	if (!o->command)
		run->threads_preexisting = count_existing_threads(run->pid);
	err = tracer_attach_threads(&run->tracer, run->pid, &lib, o->verbose);
	if (err)
		return fail(EXIT_RUNTIME, "cannot attach the thread probes to %s: %s (or use "
			    "--no-threads)", lib.shown_path, strerror(-err));
	for (unsigned i = 0; i < o->more_pid_count; i++)
		attach_child_threads(run, tgid_of(o->more_pids[i]));
	run->threads = thread_collector_new(tracer_threads_fd(&run->tracer),
					    tracer_thread_stacks_fd(&run->tracer), o->max_stacks);
	return run->threads ? 0 : fail(EXIT_RUNTIME, "out of memory");
}

static int start_collecting(struct run *run);

/*
 * System-wide, programs linked with jemalloc or tcmalloc never call glibc's
 * malloc: the installed ones are probed too.
 */
static void attach_system_allocators(struct run *run)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib" };
	static const char *const libs[] = { "libjemalloc.so.2", "libtcmalloc.so.4",
					    "libtcmalloc_minimal.so.4" };
	struct allocator extra;
	char path[4096];

	for (size_t l = 0; l < sizeof(libs) / sizeof(libs[0]); l++) {
		for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[d], libs[l]);
			if (access(path, R_OK))
				continue;
			if (allocator_find_for_exe("/proc/self/exe", path, &extra) ||
			    allocator_resolve(&extra) ||
			    tracer_attach_allocator(&run->tracer, -1, &extra, run->opts.verbose))
				fprintf(stderr, "leaksnoop: %s not probed: programs using it are not "
					"seen\n", path);
			else if (run->opts.verbose)
				fprintf(stderr, "leaksnoop: also probing %s\n", path);
			late_allocators_probed(run->late, 0, path);
			break; /* one file per library */
		}
	}
}

/* -p given again: each process gets its proc and its own allocator's probes. */
static int attach_more_pids(struct run *run)
{
	const struct options *o = &run->opts;

	for (unsigned i = 0; i < o->more_pid_count; i++) {
		pid_t pid = tgid_of(o->more_pids[i]);
		struct allocator alloc;
		int err = check_pid(pid) ? EXIT_RUNTIME : 0;

		if (!err)
			err = run_find_allocator(o, pid, NULL, &alloc);
		if (err)
			return err;
		err = tracer_add_process(&run->tracer, pid);
		if (err)
			return fail(EXIT_RUNTIME, "cannot trace PID %d as well: %s", (int)pid,
				    strerror(-err));
		if (tracer_attach_allocator(&run->tracer, pid, &alloc, o->verbose))
			return EXIT_RUNTIME;
		late_allocators_probed(run->late, pid, alloc.path);
		late_allocators_mapped_at_attach(run->late, pid);
	}
	return 0;
}

/* An allocator mapped after attach: for its process, or system-wide for all. */
static int probe_late_allocator(void *arg, pid_t pid, const struct allocator *alloc)
{
	struct run *run = arg;

	return tracer_attach_allocator(&run->tracer, run->opts.system_wide ? -1 : pid, alloc,
				       run->opts.verbose);
}

/* New code in a followed process: the mappings kept for it if it exits unseen. */
static void note_new_code(void *arg, pid_t pid)
{
	struct run *run = arg;

	if (run->procs)
		proc_follower_remap(run->procs, pid);
}

/*
 * The watch on executable mappings, before anything is probed: a file the
 * target maps from now on is told, and judged after what attach probes.
 * -O names the one file to probe: nothing is watched.
 */
static int watch_late_allocators(struct run *run)
{
	int err;

	if (run->opts.obj_path)
		return 0;
	run->late = late_allocators_new(&run->tracer, run->opts.system_wide, probe_late_allocator,
					note_new_code, run, run->opts.verbose);
	if (!run->late)
		return fail(EXIT_RUNTIME, "cannot read ring buffer new_mappings: %s",
			    strerror(errno));
	err = tracer_watch_mappings(&run->tracer, run->opts.verbose);
	if (err)
		return fail(EXIT_RUNTIME, "cannot attach tracepoint syscalls/sys_enter_mmap: %s",
			    strerror(-err));
	return 0;
}

/*
 * System-wide, the processes running already: every allocator file they map
 * that is not probed yet (a container's libc) is probed.
 */
static void probe_running_allocators(struct run *run)
{
	unsigned files = late_allocators_scan(run->late, 0);

	if (run->opts.verbose)
		fprintf(stderr, "leaksnoop: the running processes map %u more allocator file%s\n",
			files, files == 1 ? "" : "s");
}

/* A child the target forked: the allocator probes again, for its PID. */
static int attach_child(void *arg, pid_t pid, bool from_target)
{
	struct run *run = arg;
	int err;

	if (run->opts.system_wide)
		return 0; /* the probes fire in every process already */
	if (from_target && tracer_children_inherit(&run->tracer))
		return 0; /* it carries the target's probes since fork */
	err = tracer_attach_allocator(&run->tracer, pid, &run->alloc, run->opts.verbose) ? -EIO : 0;
	if (!err && run->threads)
		attach_child_threads(run, pid);
	tracer_release_child(&run->tracer, pid); /* held at fork until now, if it was */
	return err;
}

/*
 * Children from their first instruction: they inherit the target's probes
 * inside fork, or where they cannot, they are held at fork until their own
 * are attached, or last, traced once seen (~20 ms after fork).
 */
static void hold_children_unless_inherited(struct run *run)
{
	int err;

	if (!tracer_inherit_to_children(&run->tracer, run->pid, run->opts.verbose))
		return;
	err = tracer_hold_children(&run->tracer, run->opts.verbose);
	if (err && run->opts.verbose)
		fprintf(stderr, "leaksnoop: children cannot be held at fork either (%s): each is "
			"traced once it is seen, ~20 ms after its fork\n", strerror(-err));
}

/* Children forked after attach are traced too, and an execve starts a new image. */
static int follow_processes(struct run *run)
{
	int err = tracer_follow_processes(&run->tracer, run->opts.verbose);

	if (err)
		return fail(EXIT_RUNTIME, "cannot attach the fork/exec tracepoints: %s",
			    strerror(-err));
	run->procs = proc_follower_new(tracer_procs_table_fd(&run->tracer),
				       tracer_procs_used_fd(&run->tracer), run->pid, attach_child,
				       run, run->opts.verbose);
	return run->procs ? 0 : fail(EXIT_RUNTIME, "out of memory");
}

/* --unwind dwarf: the tables' maps, filled for each traced process as it is seen. */
static int start_unwinder(struct run *run)
{
	run->unwinder = unwinder_new(tracer_unwind_rows_fd(&run->tracer), LS_DEFAULT_UNWIND_ROWS,
				     tracer_unwind_spaces_fd(&run->tracer), run->opts.verbose);
	if (!run->unwinder)
		return fail(EXIT_RUNTIME, "cannot map the unwind tables: %s", strerror(errno));
	unwinder_poll(run->unwinder, run->procs);
	return 0;
}

void run_tracer_config(const struct options *o, pid_t pid, struct tracer_config *cfg)
{
	*cfg = (struct tracer_config){
		.tgid = pid,
		.min_size = o->min_size,
		.max_size = o->max_size,
		.age_epoch_ns = age_epoch_ns_for(o->older_ms),
		.sample_rate = o->sample_rate,
		.max_allocs = o->max_allocs,
		.max_stacks = o->max_stacks,
		.track_mmap = !o->no_mmap,
		.system_wide = o->system_wide,
		.comm = o->comm,
		.unwind_rows = o->unwind_dwarf ? LS_DEFAULT_UNWIND_ROWS : 0,
		.growth = o->growth,
	};
}

struct leak_check *run_new_leak_check(const struct options *o, pid_t pid, const struct tracer *t,
				      bool traced_leader)
{
	struct leak_check_params params = {
		.pid = pid,
		.max_slots = o->max_stacks,
		.max_bytes = o->leak_check_max_bytes,
		.traced_leader = traced_leader,
	};

	params.blocks_fd = tracer_blocks_fd(t, &params.buckets);
	params.mmaps_fd = o->no_mmap ? -1 : tracer_mmaps_fd(t, &params.mmaps_max);
	if (params.blocks_fd < 0) {
		errno = ENOENT;
		return NULL;
	}
	return leak_check_new(&params);
}

int run_attach_all(struct run *run)
{
	const struct options *o = &run->opts;
	struct tracer_config cfg;
	int err;

	run_tracer_config(o, run->pid, &cfg);

	if (o->cgroup) {
		if (resolve_cgroup(o->cgroup, &cfg.cgroup_id, &cfg.cgroup_level))
			return EXIT_USAGE;
	}
	if (o->floor) {
		err = tracer_attach_floor(&run->tracer, run->pid, &run->alloc, o->floor);
		return err ? fail(EXIT_RUNTIME, "cannot attach the floor probes: %s",
				  strerror(-err)) : 0;
	}
	err = tracer_load(&run->tracer, &cfg);
	if (err)
		return fail(EXIT_RUNTIME, "cannot load the BPF programs: %s (run with -v for the "
			    "verifier's log)", strerror(-err));
	if (o->verbose && run->is_go)
		fprintf(stderr, "leaksnoop: pid %d is a Go program: goroutines tracked, its "
			"garbage-collected heap not probed\n", (int)run->pid);
	else if (o->verbose && !o->growth)
		fprintf(stderr, "leaksnoop: allocator %s (%s), pid %d\n", run->alloc.shown_path,
			run->alloc.name, (int)run->pid);
	if (o->kernel) {
		err = tracer_attach_kernel(&run->tracer, &cfg, o->verbose);
		if (err)
			return fail(EXIT_RUNTIME, "cannot attach the kernel allocation tracepoints: %s",
				    strerror(-err));
	}
	if (o->growth) {
		/* No probe on any call: the page-fault tracepoint is all. */
		err = tracer_attach_growth(&run->tracer, run->pid, o->verbose);
		if (err)
			return fail(EXIT_RUNTIME, "cannot attach the page-fault tracepoint: %s",
				    strerror(-err));
		return start_collecting(run);
	}
	if (run->is_go && o->more_pid_count)
		return fail(EXIT_USAGE, "PID %d is a Go program: -p more than once traces heaps "
			    "of C, C++ and Rust programs", (int)run->pid);
	if (run->is_go) {
		err = attach_goroutines(run);
		if (err)
			return err;
	} else {
		/*
		 * The fork tracepoint first: a child that inherits the probes is
		 * numbered before it runs, never taken for the target.
		 */
		err = o->system_wide ? 0 : follow_processes(run);
		if (!err && !o->system_wide && !o->children_when_seen)
			hold_children_unless_inherited(run);
		if (!err)
			err = watch_late_allocators(run);
		if (!err && tracer_attach_allocator(&run->tracer, o->system_wide ? -1 : run->pid,
						    &run->alloc, o->verbose))
			return EXIT_RUNTIME;
		if (err)
			return err;
		late_allocators_probed(run->late, 0, run->alloc.path);
		if (!o->system_wide && !o->command)
			late_allocators_mapped_at_attach(run->late, run->pid);
		if (o->system_wide && !o->obj_path)
			attach_system_allocators(run);
		err = attach_more_pids(run);
		if (err)
			return err;
		if (o->system_wide)
			probe_running_allocators(run);
		err = o->system_wide ? follow_processes(run) : 0;
		if (!err && o->unwind_dwarf)
			err = start_unwinder(run);
		if (err)
			return err;
	}
	if (!o->no_mmap && tracer_attach_mmap(&run->tracer, o->verbose))
		return EXIT_RUNTIME;
	if (o->fds) {
		err = tracer_attach_fds(&run->tracer, &cfg, o->max_fds, o->verbose);
		if (err)
			return fail(EXIT_RUNTIME, "cannot attach the descriptor tracepoints: %s",
				    strerror(-err));
	}
	if (!o->no_threads) {
		err = attach_threads(run);
		if (err)
			return err;
	}
	return start_collecting(run);
}

/*
 * The OOM killer's choices, in every mode: a traced process it kills gets
 * its report at once.  A kernel without the tracepoint traces the rest.
 */
static void watch_oom_kills(struct run *run)
{
	run->oom = oom_watch_new();
	if (!run->oom && run->opts.verbose)
		fprintf(stderr, "leaksnoop: OOM kills not watched (tracepoint oom/mark_victim: "
			"%s): a process the OOM killer chooses gets its final report when it is "
			"gone\n", strerror(errno));
}

struct collector *run_new_collector(struct tracer *t, const struct options *o)
{
	struct stats_maps maps = {
		.stats_fd = tracer_stats_fd(t),
		.slots_used_fd = tracer_slots_used_fd(t),
		.traces_fd = tracer_traces_fd(t),
		.counters_fd = tracer_counters_fd(t),
	};

	tracer_delta_banks(t, &maps.banks);
	return collector_new(&maps, o->max_stacks, o->sample_rate);
}

static int start_collecting(struct run *run)
{
	watch_oom_kills(run);
	run->collector = run_new_collector(&run->tracer, &run->opts);
	if (!run->collector)
		return fail(EXIT_RUNTIME, "out of memory");
	return 0;
}
