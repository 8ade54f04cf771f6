/* SPDX-License-Identifier: MIT */
/*
 * The reporting loop as main() starts it: what it is handed once the probes
 * are attached, and the signal handling set up before attach so that a Ctrl-C
 * during attach is read, not fatal.
 */
#ifndef LS_SESSION_H
#define LS_SESSION_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "options.h"

struct collector;
struct symbolizer;
struct launched;
struct thread_collector;
struct proc_follower;
struct unwinder;
struct leak_check;
struct suppressions;
struct go_heap;
struct go_goroutines;
struct go_wait_reasons;
struct late_allocators;
struct oom_watch;

/* What the reporting loop needs once the probes are attached. */
struct session {
	const struct options *opts;
	pid_t pid;
	struct launched *child;  /* -c: our child, reaped here; NULL with -p */
	const char *allocator;
	char exe[4096];          /* the target's executable, read at attach */
	struct collector *collector;
	struct symbolizer *symbolizer;
	struct proc_follower *procs;       /* forks and execs followed, or NULL */
	bool children_inherit;             /* the target's children carry its probes from fork */
	bool children_held;                /* ... or wait at fork for theirs (tracer_hold_children) */
	struct late_allocators *late;      /* allocators mapped after attach, or NULL */
	struct oom_watch *oom;             /* the OOM killer's choices, or NULL (no tracepoint) */
	bool escalated;                    /* --escalate: collector is the exact tracer's for now */
	int fd_types_fd;                   /* --fds: map `fd_types`, or -1 */
	unsigned fds_preexisting;          /* --fds: descriptors the target had open at attach */
	struct unwinder *unwinder;         /* --unwind dwarf, or NULL */
	bool more_targets;                 /* -p given more than once: run until all exit */
	struct thread_collector *threads;  /* NULL with --no-threads */
	unsigned threads_preexisting;
	unsigned long long default_stack_bytes;
	int go_sites_fd;                   /* -1 when the target is not a Go program */
	struct go_heap *go_heap;           /* the Go runtime's memory profile, or NULL */
	struct go_goroutines *go_goroutines; /* the runtime's goroutine list, or NULL */
	const uint64_t *go_attach_ids;     /* goroutines alive at attach, sorted */
	size_t go_attach_count;
	const struct go_wait_reasons *go_reasons; /* the release's wait reason names */
	unsigned goroutines_preexisting;
	FILE *out;
	int listen_fd;                /* --listen, or -1 */
	bool color;                   /* text output to a terminal, NO_COLOR unset */
	bool top_view;                /* --top-view on a terminal */
	unsigned long long attach_ns; /* CLOCK_MONOTONIC at attach */
	struct leak_check *leak_check;          /* --leak-check, or NULL */
	const struct suppressions *suppressions; /* --suppressions, or NULL */
	bool leak_found; /* the final report shows a leak no suppression covers */
};

/*
 * Report every interval until COUNT reports, SIGINT/SIGTERM or the target's
 * exit; the last report is marked final.  Signals must already be blocked
 * (session_block_signals) so none is lost during attach.  Returns 0 or -errno.
 */
int session_run(struct session *s);

/* Block SIGINT, SIGTERM and SIGCHLD; they are read through a signalfd. */
int session_block_signals(void);

/* True when SIGINT or SIGTERM is pending (e.g. Ctrl-C during attach). */
bool session_stop_requested(void);

#endif
