/* SPDX-License-Identifier: MIT */
/*
 * The command line as INTERFACE.md defines it: every option's value once parsed,
 * and the exit statuses.  Nothing here
 * looks at the target or the kernel.
 */
#ifndef LS_OPTIONS_H
#define LS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/fail.h"

enum output_format {
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_FOLDED,
	FORMAT_PPROF,
	FORMAT_SVG,
};

#define LS_MAX_MORE_PIDS 31

struct options {
	pid_t pid;               /* -p; 0 when -c */
	pid_t more_pids[LS_MAX_MORE_PIDS];     /* -p given again: more processes, reported by PID */
	unsigned more_pid_count;
	const char *command;     /* -c */
	unsigned interval_s;     /* seconds between reports */
	unsigned count;          /* reports before exiting; 0: until the end */
	unsigned older_ms;       /* -o: report blocks older than this */
	unsigned top;            /* -T */
	enum output_format format;
	const char *output_path; /* -w */
	uint64_t min_size;       /* -z */
	uint64_t max_size;       /* -Z */
	const char *obj_path;    /* -O */
	bool verbose;
	bool no_threads;
	bool children_when_seen; /* children probed when seen, not inherited in fork */
	bool no_mmap;
	bool force_go;           /* --go */
	bool go_allocs;          /* --go-allocs: probe runtime.mallocgc */
	bool sort_by_growth;     /* --sort growth */
	int sample_type;         /* --sample: enum sample_type */
	bool top_view;           /* --top-view */
	bool growth;             /* --growth */
	bool escalate;           /* --escalate: growth mode turns exact for a process that grows */
	unsigned escalate_after; /* --escalate-after N: reports in a row that grew */
	uint64_t escalate_bytes; /* --escalate-bytes: new memory a report must show to count */
	unsigned escalate_for_s; /* --escalate-for SECONDS: how long exact tracing stays */
	bool fds;                /* --fds: descriptors per opening stack */
	uint32_t max_fds;        /* --max-fds: size of the open-descriptor map */
	unsigned near_limit_percent; /* --near-limit PERCENT: extra report near the cgroup limit; 0 off */
	bool kernel;             /* --kernel: kernel allocations in the target's context */
	bool unwind_dwarf;       /* --unwind dwarf: stacks from .eh_frame, not frame pointers */
	bool system_wide;        /* neither -p nor -c: every process using the allocator */
	const char *comm;        /* --comm: system-wide, only processes of this name */
	const char *cgroup;      /* --cgroup: system-wide, only this cgroup v2 subtree */
	const char *listen;      /* --listen ADDR:PORT */
	bool listen_public;      /* --listen-public */
	unsigned sample_rate;    /* -s: record one allocation in N (1: all) */
	int floor;               /* --floor: enum floor_mode, benchmarking only */
	uint32_t max_allocs;     /* --max-allocs: size of the outstanding-block map */
	uint32_t max_stacks;     /* --max-stacks: size of the per-stack maps */
	bool leak_check;         /* --leak-check: verdicts by reachability at each report */
	uint64_t leak_check_max_bytes; /* --leak-check-max-bytes: most memory copied for it */
	bool sort_by_lost;       /* --sort lost */
	int error_exitcode;      /* --error-exitcode N: status when a leak is left; -1: none */
	const char *suppressions_path; /* --suppressions FILE */
};

/* Memory the leak check copies at most, by default. */
#define LS_DEFAULT_LEAK_CHECK_MAX_BYTES (4ULL << 30)

/* Exit statuses of the command (INTERFACE.md). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};


/*
 * Parse argv into *opts.  Returns 0 to go on, 1 when the request was served
 * (--help, --version), or -EINVAL after printing one line about the problem.
 */
int options_parse(int argc, char **argv, struct options *opts);

/* Parse a decimal count >= 1 that fits in unsigned; returns -EINVAL if not. */
int parse_positive(const char *text, unsigned *value);

#endif
