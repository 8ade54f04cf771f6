/* SPDX-License-Identifier: MIT */
/*
 * What the session's files share (session.h is what main() sees): the state
 * kept from one report to the next, and the report built from the maps that
 * the periodic writers (session_write.c) and the live endpoint
 * (session_live.c) both print.
 */
#ifndef LS_SESSION_STATE_H
#define LS_SESSION_STATE_H

#include <stdbool.h>

#include "session.h"

struct report;
struct live_response;
struct oom_kill;
struct report_peak;
struct report_pressure;

/* Thread groups printed per report (the rest are in the totals). */
#define MAX_THREAD_GROUPS 64
/* Pcs whose function's package (the runtime or not) is remembered, direct-mapped. */
#define GO_PC_CACHE 8192

struct report_state {
	struct growth_history *history;
	struct stack_row *rows;
	size_t rows_cap;                 /* of rows and suppressed_by */
	struct stack_sample *with_go_heap; /* the maps' stacks, then the Go heap's */
	size_t with_go_heap_cap;
	char go_heap_said[128];          /* why the Go heap was not read, said once */
	char go_list_said[128];          /* why the goroutine list was not read, said once */
	uint64_t go_pc_seen[GO_PC_CACHE];  /* a pc, and whether it is in runtime.* code */
	uint8_t go_pc_runtime[GO_PC_CACHE];
	struct report_stack *stacks;
	size_t stacks_cap;
	struct count_history *thread_history;
	struct count_history *go_history;
	struct go_site_entry *go_sites;
	struct goroutine_group *go_groups;
	struct report_goroutine *goroutines;
	struct thread_group *groups;
	struct report_thread *threads;
	unsigned long long prev_ns, prev_threads_ns, prev_go_ns;
	unsigned seq;
	char comm[32];
	struct proc_symbolizers *proc_syms; /* with s->procs: a symbolizer per process */
	const char **suppressed_by;  /* per row: the pattern that suppresses it, or NULL */
	char leak_check_said[256];   /* the last reason a check was skipped, said once */
	bool memory_base_read;       /* the memory at attach, what growth is counted from */
	int64_t memory_base_anon, memory_base_held;
	uint64_t oom_kills;          /* traced processes the OOM killer chose */
	struct report_peak *peak;    /* the periodic report that held the most */
	uint64_t alloc_bytes_seen;   /* since attach, at the last periodic report (growth: new memory) */
};

/* Room for s's reports (the options' sizes); 0 or -ENOMEM. */
int report_state_init(struct report_state *st, struct session *s);
void report_state_free(struct report_state *st);

/* What one report is for. */
struct report_request {
	bool periodic;   /* advances the trends (growth since the previous one, the sequence number) */
	bool final;      /* the session's last */
	bool exited;     /* the target has gone: whatever it held was never freed, of any age */
	bool all_stacks; /* every stack, not the top N (a profile) */
	/* The OOM killer chose this process: what it held then, and only its stacks. */
	const struct oom_kill *oom;
	const struct report_pressure *pressure; /* its cgroup nears its limit: why now */
};

/*
 * Read the maps and fill *r.  A periodic report advances the trends; a live
 * one (--listen) reads the same numbers without touching them.
 */
int build_report(struct session *s, struct report_state *st, const struct report_request *req,
		 struct report *out);

/* Room for count rows (and their suppression patterns); 0 or -ENOMEM. */
int report_state_reserve_rows(struct report_state *st, size_t count);

/* session_go.c: a Go target's parts of a report. */
struct snapshot;
struct report_stack;
/* The Go heap's stacks after the maps' in snap; 0 or -ENOMEM. */
int report_add_go_heap(struct session *s, struct report_state *st, struct snapshot *snap);
/* A Go heap stack without the runtime's allocator frames on top, as pprof shows it. */
void report_hide_runtime_frames(struct report_stack *stack);
/* Goroutine groups, their states and waiting frames, into r. */
void report_add_goroutines(struct session *s, struct report_state *st, struct report *r,
			   bool periodic);

/* The periodic report, in the format -f chose; the last one marked final.  0 or -errno. */
int write_report(struct session *s, struct report_state *st, bool final, bool exited);

/*
 * At once, the report of a process the OOM killer chose: the session's final
 * one when it is the target, else that process's alone.  With -w, synced to
 * disk before this returns.  0 or -errno.
 */
int write_oom_report(struct session *s, struct report_state *st, const struct oom_kill *kill,
		     bool final);

/* A periodic report now, because the target's memory cgroup nears its limit.  0 or -errno. */
int write_pressure_report(struct session *s, struct report_state *st,
			  const struct report_pressure *pressure);

/* session_pressure.c: --near-limit, the target's memory cgroup watched. */
struct pressure_watch;
/* NULL unless one -p or -c target and --near-limit is not 0. */
struct pressure_watch *pressure_watch_new(const struct session *s);
void pressure_watch_free(struct pressure_watch *w);
/* For poll(): the descriptor (or -1) and its events. */
int pressure_watch_fd(const struct pressure_watch *w, short *events);
/* The target's cgroup looked up again (a command may move itself into one): at each report. */
void pressure_watch_rearm(struct pressure_watch *w, const struct session *s);
/* poll() said ready: the extra report when it is news, at most one an interval.  0 or -errno. */
int pressure_watch_handle(struct pressure_watch *w, struct session *s, struct report_state *st);

/* What the live endpoint's handler is given. */
struct live_context {
	struct session *s;
	struct report_state *st;
};

/* --listen: the current numbers, read without advancing the periodic trends. */
void render_live(const char *path, struct live_response *resp, void *arg);

/* session_escalate.c: --escalate, growth mode turned exact for a while. */
struct escalation;
/* NULL unless --escalate. */
struct escalation *escalation_new(const struct session *s);
void escalation_free(struct escalation *e, const struct session *s);
/* After each growth report: count it, and attach the exact probes when the target kept growing. */
void escalation_after_report(struct escalation *e, struct session *s,
			     const struct report_state *st);
/* Exact probes attached: the periodic reports are escalation_write_report's. */
bool escalation_active(const struct escalation *e);
/* The exact report; the window's last detaches them.  0 or -errno. */
int escalation_write_report(struct escalation *e, struct session *s, struct report_state *st,
			    bool final, bool exited);

#endif
