/* SPDX-License-Identifier: MIT */
/*
 * The BPF side as user space drives it: load the programs a run needs, attach
 * them to a target (or every process), hand the maps' descriptors to the
 * collectors, and detach everything.  Which functions and files to probe is
 * decided before (allocator.h, thread_probes.h, go_runtime.h); reading what
 * the maps hold is collect/'s.
 */
#ifndef LS_TRACER_H
#define LS_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "age_clock.h"
#include "allocator.h"

struct heap_bpf;
struct floor_bpf;
struct threads_bpf;
struct goroutines_bpf;
struct growth_bpf;
struct kernel_bpf;
struct fds_bpf;
struct go_runtime;
struct thread_library;
struct bpf_link;

/* Where the empty floor probes of --floor go (benchmarking only). */
enum floor_mode {
	FLOOR_NONE,
	FLOOR_ENTRY,  /* every function's first instruction, as the peers probe */
	FLOOR_CHOSEN, /* the points leaksnoop chooses */
	FLOOR_FDS,    /* --fds's system call tracepoints */
};

struct tracer_config {
	pid_t tgid;             /* process whose syscalls the tracepoints keep */
	uint64_t min_size, max_size;
	uint64_t age_epoch_ns;
	uint32_t sample_rate;
	uint32_t max_allocs, max_stacks;
	bool track_mmap;
	bool system_wide;       /* tgid 0: every process that calls the allocator */
	const char *comm;       /* system-wide filters, or NULL / 0 */
	uint64_t cgroup_id;
	uint32_t cgroup_level;
	uint32_t unwind_rows;   /* --unwind dwarf: room for this many rows; 0: frame pointers */
	bool growth;            /* --growth: no allocator probe, nothing dated but kernel blocks */
};

/* The loaded BPF programs and every link attached so far. */
struct uprobe_events;

struct tracer {
	struct heap_bpf *skel;
	struct floor_bpf *floor;
	struct threads_bpf *threads;
	struct goroutines_bpf *goroutines;
	struct growth_bpf *growth;
	struct kernel_bpf *kernel;
	struct fds_bpf *fds;          /* --fds, or NULL */
	struct stop_bpf *stop;        /* children held at fork (tracer_hold_children), or NULL */
	struct bpf_link *stop_link;
	int hold_keeper_fd;           /* the keeper's pipe, with stop */
	struct bpf_link **links;
	size_t link_count, link_cap;
	int *event_fds;           /* a copy of each link's perf event, closed last (detach.h) */
	size_t event_count, event_cap;
	struct uprobe_events *inherit; /* uprobes the target's children inherit, or NULL */
	pid_t inherit_target;
	int *inherit_fds;         /* the per-thread events that fork copies (no program) */
	size_t inherit_count, inherit_cap;
	struct age_clock age_clock; /* running when the probes date blocks by it */
};

/* The per-CPU banks' maps (include/leaksnoop.h): the switch that names the live bank, and both. */
struct delta_banks {
	int switch_fd;
	int bank_fd[2]; /* bank_fd[0] is live at load */
	uint32_t slots; /* slots they cover; 0: none */
	uint64_t age_epoch_ns; /* of their young cells; 0: no age filter */
};

/* Open, size and load the BPF object; nothing attached yet. */
int tracer_load(struct tracer *t, const struct tracer_config *cfg);

/* Attach the allocator's entry and return probes for process pid. */
int tracer_attach_allocator(struct tracer *t, pid_t pid, const struct allocator *alloc,
			    bool verbose);

/* Load the empty programs and attach them as `mode` says, instead of the real ones. */
int tracer_attach_floor(struct tracer *t, pid_t pid, const struct allocator *alloc,
			enum floor_mode mode);

/*
 * Load the thread probes (sharing `stack_traces` and `counters` with the heap
 * probes) and attach them to lib for process pid.
 */
int tracer_attach_threads(struct tracer *t, pid_t pid, const struct thread_library *lib,
			  bool verbose);
/* The thread uprobes again, for a child the target forked (tracer_attach_threads first). */
int tracer_attach_thread_probes(struct tracer *t, pid_t pid, const struct thread_library *lib,
				bool verbose);

/*
 * Load the goroutine probes and attach them (entry probes only) to a Go
 * executable; goids lists the goroutines alive before attach.
 */
int tracer_attach_goroutines(struct tracer *t, pid_t pid, const struct go_runtime *rt,
			     const uint64_t *goids, size_t goid_count, bool verbose);

/*
 * --kernel: the kmem/percpu/vmalloc tracepoints, recording what cfg->tgid (or
 * with 0, any process) allocates in the kernel.
 */
int tracer_attach_kernel(struct tracer *t, const struct tracer_config *cfg, bool verbose);

/*
 * From now on, the target's uprobes are tracefs events that its children
 * inherit inside fork, traced from their first instruction with no probe
 * attached to them.  -errno when tracefs cannot be written: the children
 * then get their probes when they are seen (tracer_attach_* for their PID).
 */
int tracer_inherit_to_children(struct tracer *t, pid_t target, bool verbose);

/* Whether a child the target forks carries its probes already (inherited). */
bool tracer_children_inherit(const struct tracer *t);

/*
 * Where children cannot inherit the probes: from now on a child that a
 * traced process forks is stopped before its first instruction, to be
 * continued once its probes are attached (tracer_release_child).  -errno
 * where the kernel cannot (bpf_send_signal_task is Linux 6.13's).
 */
int tracer_hold_children(struct tracer *t, bool verbose);
bool tracer_holds_children(const struct tracer *t);
/* pid's probes are attached (or cannot be): let it run. */
void tracer_release_child(struct tracer *t, pid_t pid);
/* Hold no more children and continue any still held (tracer_destroy does it first). */
void tracer_release_held(struct tracer *t);

/* Follow the target's forks and execs (map `proc_table`); children need their own probes. */
int tracer_follow_processes(struct tracer *t, bool verbose);
int tracer_procs_table_fd(const struct tracer *t);

/*
 * Tell user space of each file a traced process maps executable for the
 * first time (map `new_mappings`): allocators loaded after attach.
 */
int tracer_watch_mappings(struct tracer *t, bool verbose);
int tracer_new_mappings_fd(const struct tracer *t);
/*
 * The file mappings of process pid (0: of every process) as struct
 * vma_record, read from the returned descriptor until EOF; -errno.
 */
int tracer_open_vma_iter(struct tracer *t, pid_t pid);

/* Another process to trace besides the target (-p again), before its probes are attached. */
int tracer_add_process(struct tracer *t, pid_t tgid);
int tracer_procs_used_fd(const struct tracer *t);

/* --growth: the page-fault tracepoint only, for process pid. */
int tracer_attach_growth(struct tracer *t, pid_t pid, bool verbose);

/*
 * --fds: the descriptor system calls' tracepoints, recording what cfg->tgid
 * and the processes it forks open (at most max_fds at a time).
 */
int tracer_attach_fds(struct tracer *t, const struct tracer_config *cfg, uint32_t max_fds,
		      bool verbose);
/* Map `fd_types` (include/leaksnoop.h), or -1 without --fds. */
int tracer_fd_types_fd(const struct tracer *t);

/* Maps of the --unwind dwarf tables (include/leaksnoop.h). */
int tracer_unwind_rows_fd(const struct tracer *t);
int tracer_unwind_spaces_fd(const struct tracer *t);

/* Map `go_sites`, or -1 when the goroutine probes are not loaded. */
int tracer_go_sites_fd(const struct tracer *t);

/* Maps of the thread probes, or -1 when they are not loaded. */
int tracer_threads_fd(const struct tracer *t);
int tracer_thread_stacks_fd(const struct tracer *t);

/* Attach the anonymous mmap/munmap/mremap syscall tracepoints. */
int tracer_attach_mmap(struct tracer *t, bool verbose);

/* Map fds the collector reads. */
int tracer_stats_fd(const struct tracer *t);
int tracer_slots_used_fd(const struct tracer *t);
/* The per-CPU banks of heap and mmap totals (include/leaksnoop.h). */
void tracer_delta_banks(const struct tracer *t, struct delta_banks *banks);
int tracer_traces_fd(const struct tracer *t);
/* Map `allocs`, the block table, and its number of buckets; -1 without heap probes. */
int tracer_blocks_fd(const struct tracer *t, uint32_t *buckets);
/* Map `mmaps`, the program's anonymous regions, and its size; -1 without heap probes. */
int tracer_mmaps_fd(const struct tracer *t, uint32_t *max_entries);
int tracer_counters_fd(const struct tracer *t);

/*
 * Detach every program (links first, in parallel), unload, and hand the perf
 * events to a child that closes them: returns without waiting for the kernel.
 * verbose: say so.
 */
void tracer_destroy(struct tracer *t, bool verbose);

#endif
