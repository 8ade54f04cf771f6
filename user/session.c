// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect/collect.h"
#include "collect/collect_threads.h"
#include "attach/launch.h"
#include "report/live.h"
#include "attach/procs.h"
#include "report/report.h"
#include "session.h"
#include "collect/unwinder.h"
#include "symbols/symbolize.h"

/* How often new children are looked for, in milliseconds. */
#define FOLLOW_POLL_MS 20

/* Thread groups printed per report (the rest are in the totals). */
#define MAX_THREAD_GROUPS 64

static unsigned long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int session_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	return sigprocmask(SIG_BLOCK, &set, NULL) ? -errno : 0;
}

bool session_stop_requested(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM);
}

/* The target's executable; kept as it was when the target has gone. */
static void read_exe(pid_t pid, char *exe, size_t size)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	snprintf(exe, size, "%s", path);
}

static size_t symbolize_trace(struct symbolizer *sym, const struct stack_trace *trace,
			      struct frame *frames)
{
	size_t depth = trace ? trace->depth : 0, n;

	/* A zero return address ends the frame chain (the unwinder's sentinel). */
	for (n = 0; n < depth && trace->ips[n]; n++)
		symbolize_address(sym, trace->ips[n], true, &frames[n]);
	return n;
}

/*
 * Drop the stacks of images replaced by execve and of children whose exit a
 * report has already shown: the memory they held is gone with them.
 */
static void hide_gone_procs(struct proc_follower *procs, struct snapshot *snap)
{
	size_t kept = 0;

	proc_follower_check_exits(procs);
	for (size_t i = 0; i < snap->count; i++) {
		const struct stack_key *key = &snap->stacks[i].key;
		bool user_memory = key->kind == LS_KIND_HEAP || key->kind == LS_KIND_MMAP;

		if (!user_memory || !proc_follower_hidden(procs, key->proc))
			snap->stacks[kept++] = snap->stacks[i];
	}
	snap->count = kept;
}

struct report_state {
	struct growth_history *history;
	struct stack_row *rows;
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
};

/* Thread groups, their totals and their creation stacks, into the report. */
/*
 * A process that exited took its threads with it (they are neither live nor
 * leaked any more): its groups are left out; so are a replaced image's.
 */
static size_t drop_gone_processes(struct session *s, struct thread_group *groups, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t proc = groups[i].proc;

		if (s->procs && proc && (proc_follower_exited(s->procs, proc) ||
					 proc_follower_hidden(s->procs, proc)))
			continue;
		groups[kept++] = groups[i];
	}
	return kept;
}

static void add_threads(struct session *s, struct report_state *st, struct report *r,
			bool periodic)
{
	struct thread_snapshot snap;
	size_t n;

	r->threads_tracked = true;
	r->threads_preexisting = s->threads_preexisting;
	if (thread_collector_read(s->threads, &snap))
		return;
	n = thread_groups(&snap, s->default_stack_bytes, periodic ? st->thread_history : NULL,
			  st->prev_threads_ns, st->groups);
	if (periodic)
		st->prev_threads_ns = snap.time_ns;
	n = drop_gone_processes(s, st->groups, n);
	for (size_t i = 0; i < n; i++) {
		const struct thread_group *g = &st->groups[i];

		if (g->state == THREAD_LIVE)
			r->threads_live += g->count;
		else {
			r->threads_leaked += g->count;
			r->thread_stack_bytes_leaked += g->stack_bytes;
		}
	}
	r->thread_count = n < MAX_THREAD_GROUPS ? n : MAX_THREAD_GROUPS;
	r->threads = st->threads;
	for (size_t i = 0; i < r->thread_count; i++) {
		uint32_t proc = st->groups[i].proc;
		struct symbolizer *sym = s->procs ?
			proc_follower_symbolizer(s->procs, proc, s->symbolizer) : s->symbolizer;

		st->threads[i].group = &st->groups[i];
		st->threads[i].pid = s->procs && proc ? proc_follower_pid(s->procs, proc) : s->pid;
		st->threads[i].depth = symbolize_trace(sym,
						       collector_trace(s->collector, st->groups[i].stack_hash),
						       st->threads[i].frames);
	}
}

/* Live goroutines per `go` statement, into the report. */
static void add_goroutines(struct session *s, struct report_state *st, struct report *r,
			   bool periodic)
{
	unsigned long long now = monotonic_ns();
	size_t n = collect_go_sites(s->go_sites_fd, st->go_sites, s->opts->max_stacks);
	uint64_t preexisting_exits;

	n = goroutine_groups(st->go_sites, n, (double)(now - st->prev_go_ns) / 1e9,
			     periodic ? st->go_history : NULL, st->go_groups);
	if (periodic)
		st->prev_go_ns = now;
	r->goroutines_tracked = true;
	for (size_t i = 0; i < n; i++)
		r->goroutines_live += st->go_groups[i].live;
	preexisting_exits = r->go_preexisting_exits;
	r->goroutines_preexisting = s->goroutines_preexisting > preexisting_exits ?
		s->goroutines_preexisting - preexisting_exits : 0;
	r->goroutine_count = n < MAX_THREAD_GROUPS ? n : MAX_THREAD_GROUPS;
	r->goroutines = st->goroutines;
	for (size_t i = 0; i < r->goroutine_count; i++) {
		st->goroutines[i].group = &st->go_groups[i];
		st->goroutines[i].depth = symbolize_trace(s->symbolizer,
							  collector_trace(s->collector, st->go_groups[i].stack_hash),
							  st->goroutines[i].frames);
	}
}

/* -f pprof, svg: report 1 goes to PATH, report N to PATH.(N-1), as INTERFACE.md says. */
static int write_report_file(struct session *s, const struct report *r)
{
	char path[4096];
	int err;

	if (r->seq == 1)
		snprintf(path, sizeof(path), "%s", s->opts->output_path);
	else
		snprintf(path, sizeof(path), "%s.%u", s->opts->output_path, r->seq - 1);
	err = s->opts->format == FORMAT_SVG ? report_write_svg_file(path, r) :
					      report_write_pprof(path, r);
	if (err)
		fprintf(stderr, "leaksnoop: cannot write %s: %s\n", path, strerror(-err));
	return 0; /* a failed file loses one report, not the session */
}

/*
 * Read the maps and fill *r.  A periodic report advances the trends (growth
 * since the previous one, the sequence number); a live one (--listen) reads
 * the same numbers without touching them.  exited: the target has gone, so
 * whatever it still held was never freed and the age threshold no longer
 * applies.  all_stacks: every stack, not the top N (a profile).
 */
static int build_report(struct session *s, struct report_state *st, struct report *out,
			bool periodic, bool final, bool exited, bool all_stacks)
{
	const struct options *o = s->opts;
	unsigned older_ms = exited ? 0 : o->older_ms;
	struct age_filter filter = {
		.older_ns = (uint64_t)older_ms * 1000000ULL,
		.epoch_ns = exited ? 0 : age_epoch_ns_for(o->older_ms),
	};
	unsigned long long started_ns = monotonic_ns();
	struct snapshot snap;
	struct report r = { 0 };
	size_t n;
	int err = collector_read(s->collector, &snap);

	if (err)
		return err;
	if (s->procs)
		hide_gone_procs(s->procs, &snap);
	n = aggregate_rows(&snap, &filter, periodic ? st->history : NULL, st->prev_ns, st->rows);
	if (o->sort_by_growth)
		aggregate_sort_by_growth(st->rows, n);
	if (periodic)
		st->prev_ns = snap.time_ns;
	symbolizer_refresh(s->symbolizer);
	if (s->pid) {
		read_process_comm(s->pid, st->comm, sizeof(st->comm));
		read_exe(s->pid, s->exe, sizeof(s->exe));
	}

	r.seq = periodic ? ++st->seq : st->seq;
	clock_gettime(CLOCK_REALTIME, &r.wall_time);
	r.elapsed_s = (double)(snap.time_ns - s->attach_ns) / 1e9;
	r.final = final;
	r.pid = s->pid;
	snprintf(r.comm, sizeof(r.comm), "%s", st->comm);
	r.allocator = s->allocator;
	r.exe = s->exe[0] ? s->exe : NULL;
	r.older_ms = older_ms;
	r.sample_rate = o->sample_rate;
	r.growth = o->growth;
	r.sample = (enum sample_type)o->sample_type;
	r.color = s->color;
	r.target_exited = exited;
	aggregate_totals(st->rows, n, &r.outstanding_bytes, &r.outstanding_allocs,
			 &r.stacks_holding);
	aggregate_allocated(&snap, &r.alloc_bytes, &r.allocs, &r.frees);
	r.frees_untracked = snap.counters[LS_CNT_FREES_UNTRACKED];
	r.dropped_events = snap.counters[LS_CNT_DROP_ALLOC_FULL] +
			   snap.counters[LS_CNT_DROP_STATS_FULL] + snap.counters[LS_CNT_DROP_STATE] +
			   snap.counters[LS_CNT_DROP_THREAD];
	r.realloc_failures = snap.counters[LS_CNT_REALLOC_FAILED];
	r.go_unknown_exits = snap.counters[LS_CNT_GO_UNKNOWN_EXITS];
	r.calls_in_task_storage = snap.counters[LS_CNT_CALLS_IN_TASK_STORAGE];
	r.dropped_stacks = snap.counters[LS_CNT_DROP_STACK];
	/* A profile holds every stack, as a Go heap profile does; the others the top N. */
	r.stack_count = all_stacks ? n : n < o->top ? n : o->top;
	if (r.stack_count > st->stacks_cap) {
		struct report_stack *grown = realloc(st->stacks, r.stack_count * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		st->stacks = grown;
		st->stacks_cap = r.stack_count;
	}
	r.stacks = st->stacks;
	for (size_t i = 0; i < r.stack_count; i++) {
		uint32_t proc = st->rows[i].sample->key.proc;
		struct symbolizer *sym = s->procs ?
			proc_follower_symbolizer(s->procs, proc, s->symbolizer) : s->symbolizer;

		st->stacks[i].row = &st->rows[i];
		st->stacks[i].pid = s->procs ? proc_follower_pid(s->procs, proc) : s->pid;
		st->stacks[i].process_exited = s->procs && proc_follower_exited(s->procs, proc);
		st->stacks[i].comm = s->procs ? proc_follower_comm(s->procs, proc) : NULL;
		st->stacks[i].depth = symbolize_trace(sym, st->rows[i].sample->trace,
						      st->stacks[i].frames);
		st->stacks[i].complete = stack_reaches_root(st->stacks[i].frames, st->stacks[i].depth);
		/* With call frame information, frame pointers are not what ends a walk. */
		st->stacks[i].no_fp_module = st->stacks[i].complete || o->unwind_dwarf ? NULL :
			stack_module_without_fp(st->stacks[i].frames, st->stacks[i].depth);
		r.stacks_complete += st->stacks[i].complete;
		r.stacks_without_fp += st->stacks[i].no_fp_module != NULL;
	}
	r.unwind_dwarf = o->unwind_dwarf;
	if (s->threads)
		add_threads(s, st, &r, periodic);
	r.go_preexisting_exits = snap.counters[LS_CNT_GO_PREEXISTING_EXITS];
	if (s->go_sites_fd >= 0)
		add_goroutines(s, st, &r, periodic);
	r.report_ms = (double)(monotonic_ns() - started_ns) / 1e6;
	*out = r;
	return 0;
}

static int write_report(struct session *s, struct report_state *st, bool final, bool exited)
{
	const struct options *o = s->opts;
	struct report r;
	/* Profiles and flame graphs show every stack; reports for people the top N. */
	bool all_stacks = o->format == FORMAT_PPROF || o->format == FORMAT_SVG ||
			  o->format == FORMAT_FOLDED;
	int err = build_report(s, st, &r, true, final, exited, all_stacks);

	if (err)
		return err;
	switch (o->format) {
	case FORMAT_TEXT:
		if (s->top_view)
			report_write_top(s->out, &r);
		else
			report_write_text(s->out, &r);
		break;
	case FORMAT_JSON: report_write_json(s->out, &r); break;
	case FORMAT_FOLDED: report_write_folded(s->out, &r); break;
	case FORMAT_PPROF:
	case FORMAT_SVG: err = write_report_file(s, &r); break;
	}
	/* After writing: it may free the symbolizers of gone processes the frames point into. */
	if (s->procs)
		proc_follower_report_done(s->procs);
	if (o->verbose && r.frees_untracked)
		fprintf(stderr, "leaksnoop: %llu frees of blocks allocated before attach were "
			"ignored (never counted)\n", (unsigned long long)r.frees_untracked);
	if (o->verbose && r.realloc_failures)
		fprintf(stderr, "leaksnoop: %llu failed reallocs kept their block\n",
			(unsigned long long)r.realloc_failures);
	if (o->verbose && r.go_unknown_exits)
		fprintf(stderr, "leaksnoop: %llu goroutines ended that were started while attaching "
			"(counted at no site)\n", (unsigned long long)r.go_unknown_exits);
	if (o->verbose && r.calls_in_task_storage)
		fprintf(stderr, "leaksnoop: %llu allocator calls found their thread's slot taken "
			"and used task storage\n", (unsigned long long)r.calls_in_task_storage);
	return 0;
}

struct live_context {
	struct session *s;
	struct report_state *st;
};

/* --listen: the current numbers, read without advancing the periodic trends. */
static void render_live(const char *path, struct live_response *resp, void *arg)
{
	struct live_context *live = arg;
	struct report r;
	bool profile = !strcmp(path, "/debug/pprof/heap");

	if (!strcmp(path, "/")) {
		resp->status = 200;
		resp->body = strdup("leaksnoop: /metrics (Prometheus), /debug/pprof/heap (pprof)\n");
		resp->len = resp->body ? strlen(resp->body) : 0;
		return;
	}
	if ((!profile && strcmp(path, "/metrics")) ||
	    build_report(live->s, live->st, &r, false, false, false, profile))
		return;
	if (profile) {
		unsigned char *data;

		if (report_gzip_pprof(&r, &data, &resp->len))
			return;
		resp->body = (char *)data;
		resp->content_type = "application/octet-stream";
	} else {
		FILE *out = open_memstream(&resp->body, &resp->len);

		if (!out)
			return;
		report_write_metrics(out, &r);
		fclose(out);
		resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	}
	resp->status = 200;
}

/* pidfd of the target: readable once it exits.  -1 when unsupported. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	return -1;
#endif
}

/* -c: the command exec'd, reached its entry point or is exiting: read its mappings again. */
static void reload_images(void *arg)
{
	struct session *s = arg;

	symbolizer_refresh(s->symbolizer);
	if (!s->unwinder)
		return;
	if (s->procs)
		proc_follower_poll(s->procs); /* the new image's proc */
	unwinder_poll(s->unwinder, s->procs);
	unwinder_reload_pid(s->unwinder, s->pid);
}

static bool target_gone(struct session *s)
{
	if (s->child)
		return launch_poll(s->child, reload_images, s);
	if (!s->pid)
		return false; /* system-wide: no target to lose */
	if (!(kill(s->pid, 0) && errno == ESRCH))
		return false;
	return !s->more_targets || proc_follower_given_gone(s->procs);
}

int session_run(struct session *s)
{
	const struct options *o = s->opts;
	struct report_state st = { 0 };
	unsigned long long interval_ns = (unsigned long long)o->interval_s * 1000000000ULL;
	unsigned long long next_ns;
	struct pollfd fds[3];
	struct live_context live = { s, &st };
	sigset_t set;
	int sfd, pidfd, err = 0;
	size_t max = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	/* With several -p, the end is when the last one exits: polled, not one pidfd. */
	pidfd = s->more_targets ? -1 : open_pidfd(s->pid);
	max = o->max_stacks;
	st.history = growth_history_new();
	st.thread_history = count_history_new();
	st.groups = calloc(2 * (max + LS_MAX_TRACKED_THREADS), sizeof(*st.groups));
	st.threads = calloc(MAX_THREAD_GROUPS, sizeof(*st.threads));
	st.go_history = count_history_new();
	st.go_sites = calloc(max, sizeof(*st.go_sites));
	st.go_groups = calloc(max, sizeof(*st.go_groups));
	st.goroutines = calloc(MAX_THREAD_GROUPS, sizeof(*st.goroutines));
	st.rows = calloc(max, sizeof(*st.rows));
	st.stacks_cap = o->top < max ? o->top : max;
	st.stacks = calloc(st.stacks_cap, sizeof(*st.stacks));
	if (sfd < 0 || !st.history || !st.rows || !st.stacks || !st.thread_history || !st.groups ||
	    !st.threads || !st.go_history || !st.go_sites || !st.go_groups || !st.goroutines) {
		err = -ENOMEM;
		goto out;
	}
	if (s->pid) {
		read_process_comm(s->pid, st.comm, sizeof(st.comm));
		read_exe(s->pid, s->exe, sizeof(s->exe));
	} else {
		snprintf(st.comm, sizeof(st.comm), "system-wide");
	}
	st.prev_ns = st.prev_threads_ns = st.prev_go_ns = s->attach_ns;
	growth_history_set_start(st.history, s->attach_ns);
	next_ns = s->attach_ns + interval_ns;
	fds[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (;;) {
		unsigned long long now = monotonic_ns();
		int timeout_ms = now >= next_ns ? 0 : (int)((next_ns - now + 999999) / 1000000);
		bool final = false, exited = false;
		int ready;

		/* New children run untraced until attached: look for them often. */
		if (s->procs && timeout_ms > FOLLOW_POLL_MS)
			timeout_ms = FOLLOW_POLL_MS;
		ready = poll(fds, 3, timeout_ms); /* negative fds are skipped */
		if (s->procs)
			proc_follower_poll(s->procs);
		if (s->unwinder)
			unwinder_poll(s->unwinder, s->procs);

		if (ready < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (ready > 0 && (fds[0].revents & POLLIN)) {
			struct signalfd_siginfo info;

			if (read(sfd, &info, sizeof(info)) == sizeof(info) &&
			    info.ssi_signo != SIGCHLD)
				final = true;
		}
		if (ready > 0 && s->listen_fd >= 0 && (fds[2].revents & POLLIN) && s->collector)
			live_serve_one(s->listen_fd, render_live, &live);
		if ((ready > 0 && pidfd >= 0 && (fds[1].revents & POLLIN)) || target_gone(s))
			final = exited = true;
		if (!final && monotonic_ns() < next_ns)
			continue;
		if (!final && o->count && st.seq + 1 >= o->count)
			final = true;
		if (!s->collector) { /* --floor: probes only, nothing to report */
			if (final)
				break;
			next_ns += interval_ns;
			continue;
		}
		err = write_report(s, &st, final, exited);
		if (err || final)
			break;
		next_ns += interval_ns;
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	if (sfd >= 0)
		close(sfd);
	free(st.stacks);
	free(st.rows);
	free(st.threads);
	free(st.groups);
	count_history_free(st.thread_history);
	count_history_free(st.go_history);
	free(st.go_sites);
	free(st.go_groups);
	free(st.goroutines);
	growth_history_free(st.history);
	return err;
}
