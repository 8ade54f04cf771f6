/* SPDX-License-Identifier: MIT */
/*
 * A report as every writer receives it (struct report: totals, stacks with
 * their frames, thread and goroutine groups), and the writers' entry points.
 * Writers print; they neither read maps nor symbolize.
 */
#ifndef LS_REPORT_H
#define LS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "collect/aggregate.h"
#include "symbols/symbolize.h"
#include "attach/go_offsets.h"
#include "attach/oom_watch.h"
#include "collect/goroutine_groups.h"
#include "collect/thread_groups.h"
#include "target/proc_memory.h"
#include "verdict/leak_check.h"

/* The four pprof sample types, for --sample (folded, svg). */
enum sample_type {
	SAMPLE_INUSE_SPACE,
	SAMPLE_INUSE_OBJECTS,
	SAMPLE_ALLOC_SPACE,
	SAMPLE_ALLOC_OBJECTS,
	SAMPLE_FDS,          /* --fds: open descriptors (descriptor stacks only) */
};

/* A stack ready to print: its row and its symbolized frames, innermost first. */
struct report_stack {
	const struct stack_row *row;
	struct frame frames[LS_MAX_STACK_DEPTH];
	size_t depth;
	bool complete;               /* the walk reached the thread's root */
	const char *no_fp_module;    /* frames past this module may be missing, or NULL */
	pid_t pid;                   /* the process holding it (the target, or a child) */
	bool process_exited;         /* a child that has exited: its final numbers */
	const char *comm;            /* that process's name, or NULL */
	const char *cgroup;          /* its cgroup v2 path, or NULL */
	const char *container_id;    /* the container that path names, or NULL */
	const struct reachability *reach; /* --leak-check's verdicts, or NULL */
	const char *suppressed_by;   /* the --suppressions pattern its frames match, or NULL */
	struct fd_type_counts fd_types; /* kind fd: its open descriptors by type */
};

/* A group of threads ready to print: its creation stack symbolized. */
struct report_thread {
	const struct thread_group *group;
	pid_t pid;                        /* the process that created them */
	struct frame frames[LS_MAX_STACK_DEPTH];
	size_t depth;
};

/* Live goroutines of one `go` statement, symbolized. */
struct report_goroutine {
	const struct goroutine_group *group;
	struct frame frames[LS_MAX_STACK_DEPTH];
	size_t depth;
	struct frame waiting_in; /* where most of them wait; valid when group->waiting_count */
};

/*
 * The target's memory beside what is tracked: its resident anonymous memory
 * is the heap and anonymous mappings; what the tracked blocks and regions do
 * not account for is fragmentation, the allocator's caches and headers,
 * memory from before attach, or memory not allocated through malloc/mmap.
 */
struct report_memory {
	bool read;
	struct proc_memory now;
	int64_t held_bytes;        /* tracked blocks and regions, every age */
	int64_t unexplained_bytes; /* rss_anon - held, not below 0 */
	int64_t anon_growth_bytes; /* since attach */
	int64_t held_growth_bytes;
};

/*
 * The high-water mark of held bytes since attach, as the periodic reports
 * saw it (at most one a interval), and the report's top stacks then, copied
 * (report_peak.c).
 */
struct report_peak {
	bool set;
	int64_t held_bytes;   /* outstanding_bytes of that report */
	int64_t held_allocs;
	struct timespec wall_time;
	double elapsed_s;
	unsigned seq;         /* the report that reached it */
	struct report_stack *stacks;
	size_t stack_count;
	struct stack_row *rows;        /* what the stacks point into */
	struct stack_sample *samples;
	char *strings;
};

/* A report written because the target's memory cgroup neared its limit. */
struct report_pressure {
	const struct memcg *memcg;
	char why[128];
};

/* One periodic report, independent of the output format. */
struct report {
	unsigned seq;
	struct timespec wall_time;
	double elapsed_s;
	bool final;
	bool target_exited;     /* the final report after the target's exit */
	pid_t pid;
	char comm[32];
	const char *allocator;  /* "glibc", "jemalloc", ... */
	const char *exe;        /* the target's executable as it sees it, or NULL */
	unsigned older_ms;
	unsigned sample_rate;   /* 1: exact */
	bool growth;            /* --growth: new pages per stack, nothing else probed */
	bool escalated;         /* --escalate: exact, while growth mode saw the target grow */
	enum sample_type sample; /* --sample: what folded and svg output weigh */
	bool color;             /* text: ANSI colours (a terminal, no NO_COLOR) */
	double report_ms;       /* time to read the maps, aggregate and symbolize */

	int64_t outstanding_bytes;  /* after the age filter, over every stack */
	int64_t outstanding_allocs;
	size_t stacks_holding;      /* stacks with outstanding blocks */
	uint64_t alloc_bytes;       /* since attach */
	uint64_t allocs;
	uint64_t frees;
	uint64_t frees_untracked;   /* frees of blocks allocated before attach */
	uint64_t dropped_events;
	uint64_t dropped_stacks;
	uint64_t dropped_processes; /* forks and execs not followed (`proc_table` full), in dropped_events too */
	uint64_t dropped_mappings;  /* executable mappings not told (`new_mappings` full), too */
	uint64_t dropped_fds;       /* descriptors not recorded (`fds` full), too */
	uint64_t dropped_oom_kills; /* OOM kills not told (`oom_victims` full); not in dropped_events */
	/* --fds: descriptors open (older than the threshold) and opened since attach. */
	bool fds_tracked;
	int64_t fds_open;
	uint64_t fds_opened;
	size_t fd_stacks;            /* stacks holding open descriptors */
	unsigned fds_preexisting;    /* open at attach: not classified */
	struct report_memory memory; /* the target's (-p, -c), not a Go program's */
	const struct oom_kill *oom;  /* the OOM killer chose this process (attach/oom_watch.h), or NULL */
	uint64_t oom_kills;          /* traced processes it chose since attach */
	const struct report_pressure *pressure; /* written because its cgroup neared its limit, or NULL */
	const struct report_peak *peak; /* the final report's: the most held since attach, or NULL */
	const struct late_allocator *late_allocators; /* probed after attach (attach/late_allocators.h) */
	size_t late_allocator_count;
	uint64_t realloc_failures;  /* realloc returned NULL and kept the block (-v) */
	uint64_t go_unknown_exits;  /* goroutines seen ending, not starting (-v) */
	uint64_t calls_in_task_storage; /* calls whose TID slot was taken (-v) */

	struct report_stack *stacks; /* top N */
	size_t stack_count;
	size_t stacks_complete;      /* of stack_count */
	size_t stacks_without_fp;    /* truncated in a module without frame pointers */
	bool unwind_dwarf;           /* --unwind dwarf: walked with call frame information */

	bool threads_tracked;
	uint64_t threads_live, threads_leaked;
	uint64_t thread_stack_bytes_leaked;
	unsigned threads_preexisting; /* existed at attach: not classified */
	struct report_thread *threads;
	size_t thread_count;

	/* The Go runtime's memory profile (kind go_heap stacks), when read. */
	bool go_heap_read;
	struct go_heap_totals go_heap;
	int64_t go_heap_rate;  /* MemProfileRate: one sample per this many bytes */

	bool goroutines_tracked;
	uint64_t goroutines_live;        /* created since attach, not ended */
	uint64_t goroutines_preexisting; /* alive at attach and not ended since */
	struct report_goroutine *goroutines;
	size_t goroutine_count;
	uint64_t go_preexisting_exits;
	bool goroutine_list_read;  /* every goroutine read from the runtime's list */
	uint64_t goroutines_ungrouped; /* of those, in sites past the table's room */
	const struct go_wait_reasons *go_reasons; /* the names of the groups' states */

	/* --leak-check: this report's check (NULL when off), or why it was skipped. */
	const struct leak_check_result *leak_check;
	const char *leak_check_skipped;
	struct reachability verdicts;   /* over every stack, suppressed ones left out */
	struct reachability suppressed; /* what the suppressions left out */
};

/* r holds more than the peak p kept (or p is empty): keep r's.  1 kept, 0 not, -ENOMEM. */
int report_peak_consider(struct report_peak *p, const struct report *r);
void report_peak_free(struct report_peak *p);
/* The peak as a report of its own, the rest of final's header kept: a profile of it. */
void report_peak_as_report(const struct report_peak *p, const struct report *final,
			   struct report *out);

const char *kind_name(uint32_t kind);
/* "socket", "file", ...: an fd type's name (enum ls_fd_type); socket_family its family or NULL. */
const char *fd_type_name(uint32_t type, const char **socket_family);

/* Value of one stack for a sample type. */
int64_t sample_value(const struct report_stack *s, enum sample_type type);

/* "1.2 MiB" style, into buf. */
const char *human_bytes(double bytes, char *buf, size_t size);

void report_write_text(FILE *out, const struct report *r);
void report_write_json(FILE *out, const struct report *r);
void report_write_folded(FILE *out, const struct report *r);
void report_write_top(FILE *out, const struct report *r);
/* Interactive flame graph of r, weighed by r->sample. */
void report_write_svg(FILE *out, const struct report *r);
int report_write_svg_file(const char *path, const struct report *r);

struct pb_buffer;
/* profile.proto bytes of r (not compressed); 0 or -errno. */
int report_encode_pprof(const struct report *r, struct pb_buffer *out);
/* A pprof goroutine profile of r's groups, by creation site; 0 or -errno. */
int report_encode_goroutine_pprof(const struct report *r, struct pb_buffer *out);
/* The same gzip'd, in a new buffer (*data, freed by the caller). */
int report_gzip_goroutine_pprof(const struct report *r, unsigned char **data, size_t *len);
/* Gzip'd profile.proto of r into path (created 0600); 0 or -errno. */
int report_write_pprof(const char *path, const struct report *r);
/* Gzip'd profile.proto of r in a new buffer (*data, freed by the caller). */
int report_gzip_pprof(const struct report *r, unsigned char **data, size_t *len);

/* Prometheus text format of r (the live endpoint's /metrics). */
void report_write_metrics(FILE *out, const struct report *r);

#endif
