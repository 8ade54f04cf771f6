// SPDX-License-Identifier: MIT
/*
 * A report from the maps (session_state.h): the collector's snapshot,
 * aggregated with its trends, each stack symbolized in its own process's
 * address space, threads and goroutines grouped by creation site.  It fills
 * struct report (report/report.h) and prints nothing: the writers do.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "attach/late_allocators.h"
#include "attach/launch.h"
#include "attach/oom_watch.h"
#include "attach/procs.h"
#include "collect/collect.h"
#include "collect/collect_threads.h"
#include "collect/go_heap.h"
#include "report/report.h"
#include "session_state.h"
#include "symbols/proc_symbolizers.h"
#include "symbols/symbolize.h"
#include "verdict/leak_check.h"
#include "verdict/suppressions.h"

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

/* The symbolizer for proc's addresses: the target's, or the process's own. */
static struct symbolizer *symbolizer_of(struct session *s, struct report_state *st, uint32_t proc)
{
	return st->proc_syms ? proc_symbolizer(st->proc_syms, proc, s->symbolizer) : s->symbolizer;
}

/*
 * Drop the stacks of images replaced by execve and of children whose exit a
 * report has already shown: the memory they held is gone with them.
 */
static void hide_gone_procs(struct proc_follower *procs, struct proc_symbolizers *syms,
			    struct snapshot *snap)
{
	size_t kept = 0;

	proc_follower_check_exits(procs);
	proc_symbolizers_refresh(syms);
	for (size_t i = 0; i < snap->count; i++) {
		const struct stack_key *key = &snap->stacks[i].key;
		bool user_memory = key->kind == LS_KIND_HEAP || key->kind == LS_KIND_MMAP;

		/* A process's descriptors outlive an exec (not close-on-exec ones), not its exit. */
		if (key->kind == LS_KIND_FD ? !proc_follower_exit_shown(procs, key->proc) :
		    !user_memory || !proc_follower_hidden(procs, key->proc))
			snap->stacks[kept++] = snap->stacks[i];
	}
	snap->count = kept;
}

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
		struct symbolizer *sym = symbolizer_of(s, st, proc);

		st->threads[i].group = &st->groups[i];
		st->threads[i].pid = s->procs && proc ? proc_follower_pid(s->procs, proc) : s->pid;
		st->threads[i].depth = symbolize_stack(sym,
						       collector_trace(s->collector, st->groups[i].stack_hash),
						       st->threads[i].frames);
	}
}

/* Room for count rows (and their suppression patterns); 0 or -ENOMEM. */
int report_state_reserve_rows(struct report_state *st, size_t count)
{
	struct stack_row *rows;
	const char **suppressed_by;

	if (count <= st->rows_cap)
		return 0;
	rows = realloc(st->rows, count * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	st->rows = rows;
	suppressed_by = realloc(st->suppressed_by, count * sizeof(*suppressed_by));
	if (!suppressed_by)
		return -ENOMEM;
	memset(suppressed_by, 0, count * sizeof(*suppressed_by));
	st->suppressed_by = suppressed_by;
	st->rows_cap = count;
	return 0;
}

/*
 * m->now beside what proc's tracked blocks and regions hold: what they do not
 * explain, and with growth (the target's), both grown since attach.
 */
static void set_beside_held(const struct report_state *st, struct report_memory *m, size_t n,
			    uint32_t proc, bool growth)
{
	m->read = true;
	m->held_bytes = aggregate_held(st->rows, n, proc);
	m->unexplained_bytes = (int64_t)m->now.rss_anon_bytes - m->held_bytes;
	if (m->unexplained_bytes < 0)
		m->unexplained_bytes = 0;
	if (growth && st->memory_base_read) {
		m->anon_growth_bytes = (int64_t)m->now.rss_anon_bytes - st->memory_base_anon;
		m->held_growth_bytes = m->held_bytes - st->memory_base_held;
	}
}

/*
 * The target's memory beside what is tracked (not a Go program's: its heap
 * is the runtime's, not blocks; not system-wide: no one process).  Growth is
 * counted from the first report's.
 */
static void read_memory(struct session *s, struct report_state *st, struct report *r, size_t n)
{
	uint32_t proc = s->procs ? proc_follower_image_of(s->procs, s->pid) : 0;
	struct report_memory *m = &r->memory;

	if (!s->pid || s->go_sites_fd >= 0 || (s->opts->growth && !s->escalated) || proc == LS_NO_PROC ||
	    proc_memory_read(s->pid, &m->now))
		return;
	if (!st->memory_base_read) {
		st->memory_base_read = true;
		st->memory_base_anon = (int64_t)m->now.rss_anon_bytes;
		st->memory_base_held = aggregate_held(st->rows, n, proc);
	}
	set_beside_held(st, m, n, proc, true);
}

/* Events the probes could not record: any makes the block table incomplete. */
static uint64_t dropped_events(const struct snapshot *snap)
{
	return snap->counters[LS_CNT_DROP_ALLOC_FULL] + snap->counters[LS_CNT_DROP_STATS_FULL] +
	       snap->counters[LS_CNT_DROP_STATE] + snap->counters[LS_CNT_DROP_THREAD] +
	       snap->counters[LS_CNT_DROP_PROC] + snap->counters[LS_CNT_DROP_MAPPING] +
	       snap->counters[LS_CNT_DROP_FD];
}

/* --fds: a descriptor stack's open ones by type (map `fd_types`, at its slot). */
static void read_fd_types(const struct session *s, struct report_stack *stack)
{
	uint32_t slot = stack->row->sample->slot;

	memset(&stack->fd_types, 0, sizeof(stack->fd_types));
	if (s->fd_types_fd >= 0 && stack->row->sample->key.kind == LS_KIND_FD)
		bpf_map_lookup_elem(s->fd_types_fd, &slot, &stack->fd_types);
}

/*
 * --leak-check: the table holds every block of the process only when the
 * command was traced from its first instruction and nothing was dropped or
 * filtered out; only then are the allocator's own pages no roots.
 */
static bool table_is_complete(const struct session *s, const struct snapshot *snap)
{
	const struct options *o = s->opts;

	/* An escalation's table starts when it does: what came before is not in it. */
	return s->child && !s->escalated && !o->min_size && o->max_size == UINT64_MAX &&
	       !dropped_events(snap);
}

/* The proc (map `proc_table`) of the target's current image: its blocks are checked. */
static uint32_t checked_proc(const struct session *s)
{
	return s->procs ? proc_follower_image_of(s->procs, s->pid) : 0;
}

/* The verdicts of a row's stack, or NULL: only the target's heap is checked. */
static const struct reachability *row_verdicts(const struct session *s, const struct stack_row *row)
{
	return leak_check_verdicts(s->leak_check, &row->sample->key, row->sample->slot);
}

/* The stacks of the threads the probes saw created, for the leak check's roots. */
static void hand_thread_stacks(struct session *s)
{
	struct thread_snapshot snap;

	if (s->threads && !thread_collector_read(s->threads, &snap))
		leak_check_thread_stacks(s->leak_check, &snap, s->default_stack_bytes);
}

/* Mark, and give each row its blocks' numbers: the same blocks, counted one by one. */
static void mark_rows(struct session *s, struct report_state *st, const struct snapshot *snap,
		      const struct age_filter *filter, size_t n, uint32_t checked)
{
	uint64_t first_young = 0;

	if (filter->epoch_ns && snap->time_ns > filter->older_ns)
		first_young = (snap->time_ns - filter->older_ns) / filter->epoch_ns;
	hand_thread_stacks(s);
	leak_check_mark(s->leak_check, table_is_complete(s, snap), filter->epoch_ns, first_young);
	if (!leak_check_result(s->leak_check)->done)
		return; /* no verdicts: the rows keep the maps' numbers */
	for (size_t i = 0; i < n; i++) {
		struct stack_row *row = &st->rows[i];
		const struct reachability *reach = row_verdicts(s, row);

		if (row->sample->key.kind != LS_KIND_HEAP || row->sample->key.proc != checked)
			continue; /* a stack the check did not look at keeps the maps' numbers */
		row->bytes = reach ? (int64_t)reachability_all(reach).bytes : 0;
		row->count = reach ? (int64_t)reachability_all(reach).allocs : 0;
		row->lost_bytes = reach ? (int64_t)reachability_lost(reach).bytes : 0;
	}
}

/*
 * Per row, the suppression that covers it, and the report's verdicts with
 * the suppressed stacks set apart.  Rows with verdicts are symbolized here
 * when there are suppressions, top N or not: the summary counts them all.
 */
static void add_verdicts(struct session *s, struct report_state *st, struct report *r, size_t n)
{
	static struct frame frames[LS_MAX_STACK_DEPTH];

	for (size_t i = 0; i < n; i++) {
		const struct stack_row *row = &st->rows[i];
		const struct reachability *reach = row_verdicts(s, row);
		struct reachability *into = &r->verdicts;

		st->suppressed_by[i] = NULL;
		if (!reach)
			continue;
		if (s->suppressions) {
			size_t depth = symbolize_stack(s->symbolizer, row->sample->trace, frames);

			st->suppressed_by[i] = suppressions_match(s->suppressions, frames, depth);
		}
		if (st->suppressed_by[i])
			into = &r->suppressed;
		for (int v = 0; v < VERDICT_COUNT; v++) {
			into->of[v].bytes += reach->of[v].bytes;
			into->of[v].allocs += reach->of[v].allocs;
		}
	}
}

/* A skipped check is said once, not at every report, until the reason changes. */
static void say_skipped(struct report_state *st, const char *why)
{
	if (!strcmp(st->leak_check_said, why))
		return;
	snprintf(st->leak_check_said, sizeof(st->leak_check_said), "%s", why);
	fprintf(stderr, "leaksnoop: leak check skipped: %s\n", why);
}

/*
 * An OOM report of a process that is not the target (a child, or any
 * process system-wide): its user stacks alone.
 */
static void keep_only_process(const struct session *s, pid_t pid, struct snapshot *snap)
{
	size_t kept = 0;

	for (size_t i = 0; i < snap->count; i++) {
		const struct stack_key *key = &snap->stacks[i].key;

		if (s->procs && key->kind != LS_KIND_KERNEL &&
		    proc_follower_pid(s->procs, key->proc) == pid)
			snap->stacks[kept++] = snap->stacks[i];
	}
	snap->count = kept;
}

/* What an OOM victim held, as the kernel counted it when it was chosen. */
static void oom_memory(const struct oom_kill *kill, struct report_state *st, struct report *r,
		       size_t n, uint32_t proc, bool target)
{
	struct report_memory *m = &r->memory;

	m->now.rss_anon_bytes = kill->rss_anon_bytes;
	m->now.rss_file_bytes = kill->rss_file_bytes;
	m->now.rss_shmem_bytes = kill->rss_shmem_bytes;
	m->now.rss_bytes = kill->rss_anon_bytes + kill->rss_file_bytes + kill->rss_shmem_bytes;
	set_beside_held(st, m, n, proc, target);
}

int build_report(struct session *s, struct report_state *st, const struct report_request *req,
		 struct report *out)
{
	const struct options *o = s->opts;
	bool periodic = req->periodic, final = req->final, all_stacks = req->all_stacks;
	/* A process the OOM killer chose is gone in a moment: nothing it holds is freed. */
	bool exited = req->exited || req->oom;
	const struct oom_kill *oom = req->oom;
	/* Another process than the target: its report alone. */
	pid_t only = oom && oom->tgid != s->pid ? oom->tgid : 0;
	unsigned older_ms = exited ? 0 : o->older_ms;
	struct age_filter filter = {
		.older_ns = (uint64_t)older_ms * 1000000ULL,
		.epoch_ns = exited ? 0 : age_epoch_ns_for(o->older_ms),
	};
	unsigned long long started_ns = monotonic_ns();
	struct snapshot snap;
	struct report r = { 0 };
	size_t n;
	/* The OOM reaper is freeing the victim's memory: it cannot be scanned. */
	bool checking = periodic && s->leak_check && !oom, held = false;
	uint32_t checked = checking ? checked_proc(s) : LS_NO_PROC;
	int err;

	/* The maps are read while the target is held: the blocks and the totals agree. */
	if (checking)
		held = !leak_check_hold(s->leak_check, checked, s->child && s->child->held_at_exit);
	err = collector_read(s->collector, &snap);
	if (held && !err)
		leak_check_copy(s->leak_check);
	if (checking) {
		int stop = leak_check_release(s->leak_check);

		if (stop && s->child)
			launch_requeue(s->child, stop);
	}
	if (err)
		return err;
	if (s->procs)
		hide_gone_procs(s->procs, st->proc_syms, &snap);
	if (only)
		keep_only_process(s, only, &snap);
	if (s->go_heap && (err = report_add_go_heap(s, st, &snap)))
		return err;
	n = periodic ? aggregate_rows(&snap, &filter, st->history, st->prev_ns, st->rows) :
		       aggregate_rows_seen(&snap, &filter, st->history, st->prev_ns, st->rows);
	if (checking)
		mark_rows(s, st, &snap, &filter, n, checked);
	if (o->sort_by_growth)
		aggregate_sort_by_growth(st->rows, n);
	if (o->sort_by_lost)
		aggregate_sort_by_lost(st->rows, n);
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
	r.pid = only ? only : s->pid;
	snprintf(r.comm, sizeof(r.comm), "%s", only ? oom->comm : st->comm);
	r.oom = oom;
	r.oom_kills = st->oom_kills;
	r.pressure = req->pressure;
	r.allocator = s->allocator;
	r.exe = s->exe[0] ? s->exe : NULL;
	r.older_ms = older_ms;
	r.sample_rate = o->sample_rate;
	r.growth = o->growth && !s->escalated;
	r.escalated = s->escalated;
	r.sample = (enum sample_type)o->sample_type;
	r.color = s->color;
	r.target_exited = exited;
	aggregate_totals(st->rows, n, &r.outstanding_bytes, &r.outstanding_allocs,
			 &r.stacks_holding);
	if (s->go_heap && !st->go_heap_said[0]) {
		r.go_heap_read = true;
		r.go_heap_rate = go_heap_rate(s->go_heap);
		aggregate_go_heap(st->rows, n, &r.go_heap);
	}
	aggregate_allocated(&snap, &r.alloc_bytes, &r.allocs, &r.frees);
	if (periodic)
		st->alloc_bytes_seen = r.alloc_bytes;
	r.frees_untracked = snap.counters[LS_CNT_FREES_UNTRACKED];
	r.dropped_events = dropped_events(&snap);
	/* A live request (--listen) shows the last periodic check's verdicts. */
	if (s->leak_check) {
		const struct leak_check_result *result = leak_check_result(s->leak_check);

		if (result->done) {
			if (o->verbose && checking)
				fprintf(stderr, "leaksnoop: leak check: %llu blocks, target held %.1f ms, "
					"%llu bytes copied, %llu scanned, marked in %.1f ms%s\n",
					(unsigned long long)result->blocks, result->frozen_ms,
					(unsigned long long)result->copied_bytes,
					(unsigned long long)result->scanned_bytes, result->mark_ms,
					result->exact ? "" : " (allocator memory scanned as roots)");
			r.leak_check = result;
			add_verdicts(s, st, &r, n);
			st->leak_check_said[0] = '\0';
		} else if (checking) {
			r.leak_check_skipped = result->why;
			say_skipped(st, result->why);
		}
	}
	r.realloc_failures = snap.counters[LS_CNT_REALLOC_FAILED];
	r.go_unknown_exits = snap.counters[LS_CNT_GO_UNKNOWN_EXITS];
	r.calls_in_task_storage = snap.counters[LS_CNT_CALLS_IN_TASK_STORAGE];
	r.dropped_stacks = snap.counters[LS_CNT_DROP_STACK];
	r.dropped_processes = snap.counters[LS_CNT_DROP_PROC];
	r.dropped_mappings = snap.counters[LS_CNT_DROP_MAPPING];
	r.dropped_fds = snap.counters[LS_CNT_DROP_FD];
	r.dropped_oom_kills = oom_watch_dropped(s->oom);
	if (s->fd_types_fd >= 0) {
		r.fds_tracked = true;
		r.fds_preexisting = s->fds_preexisting;
		aggregate_fds(st->rows, n, &r.fds_open, &r.fds_opened, &r.fd_stacks);
	}
	r.late_allocators = late_allocators_list(s->late, &r.late_allocator_count);
	if (oom)
		oom_memory(oom, st, &r, n, s->procs ? proc_follower_image_of(s->procs, r.pid) : 0,
			   !only);
	else if (!exited)
		read_memory(s, st, &r, n);
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
		struct symbolizer *sym = symbolizer_of(s, st, proc);

		st->stacks[i].row = &st->rows[i];
		st->stacks[i].pid = s->procs ? proc_follower_pid(s->procs, proc) : s->pid;
		st->stacks[i].process_exited = s->procs && proc_follower_exited(s->procs, proc);
		st->stacks[i].comm = s->procs ? proc_follower_comm(s->procs, proc) : NULL;
		st->stacks[i].cgroup = s->procs ? proc_follower_cgroup(s->procs, proc) : NULL;
		st->stacks[i].container_id = s->procs ? proc_follower_container(s->procs, proc) : NULL;
		st->stacks[i].depth = symbolize_stack(sym, st->rows[i].sample->trace,
						      st->stacks[i].frames);
		if (st->rows[i].sample->key.kind == LS_KIND_GO_HEAP)
			report_hide_runtime_frames(&st->stacks[i]);
		read_fd_types(s, &st->stacks[i]);
		st->stacks[i].complete = stack_reaches_root(st->stacks[i].frames, st->stacks[i].depth);
		/* With call frame information, frame pointers are not what ends a walk. */
		st->stacks[i].no_fp_module = st->stacks[i].complete || o->unwind_dwarf ? NULL :
			stack_module_without_fp(st->stacks[i].frames, st->stacks[i].depth);
		r.stacks_complete += st->stacks[i].complete;
		r.stacks_without_fp += st->stacks[i].no_fp_module != NULL;
		st->stacks[i].reach = r.leak_check ? row_verdicts(s, &st->rows[i]) : NULL;
		st->stacks[i].suppressed_by = r.leak_check ? st->suppressed_by[i] : NULL;
	}
	r.unwind_dwarf = o->unwind_dwarf;
	if (s->threads)
		add_threads(s, st, &r, periodic);
	r.go_preexisting_exits = snap.counters[LS_CNT_GO_PREEXISTING_EXITS];
	if (s->go_sites_fd >= 0)
		report_add_goroutines(s, st, &r, periodic);
	/* The held bytes' high-water mark, growth mode aside (it holds no blocks). */
	if (periodic && !r.growth && report_peak_consider(st->peak, &r) < 0)
		return -ENOMEM;
	r.peak = final && st->peak->set ? st->peak : NULL;
	r.report_ms = (double)(monotonic_ns() - started_ns) / 1e6;
	*out = r;
	return 0;
}

int report_state_init(struct report_state *st, struct session *s)
{
	size_t max = s->opts->max_stacks;

	st->history = growth_history_new();
	st->thread_history = count_history_new();
	st->groups = calloc(2 * (max + LS_MAX_TRACKED_THREADS), sizeof(*st->groups));
	st->threads = calloc(MAX_THREAD_GROUPS, sizeof(*st->threads));
	st->go_history = count_history_new();
	st->go_sites = calloc(max, sizeof(*st->go_sites));
	st->go_groups = calloc(max, sizeof(*st->go_groups));
	st->goroutines = calloc(MAX_THREAD_GROUPS, sizeof(*st->goroutines));
	st->rows = calloc(max, sizeof(*st->rows));
	st->suppressed_by = calloc(max, sizeof(*st->suppressed_by));
	st->rows_cap = max;
	st->stacks_cap = s->opts->top < max ? s->opts->top : max;
	st->stacks = calloc(st->stacks_cap, sizeof(*st->stacks));
	st->proc_syms = s->procs ? proc_symbolizers_new(s->procs) : NULL;
	st->peak = calloc(1, sizeof(*st->peak));
	if (!st->history || !st->rows || !st->suppressed_by || !st->stacks || !st->thread_history || !st->groups ||
	    !st->threads || !st->go_history || !st->go_sites || !st->go_groups ||
	    !st->goroutines || (s->procs && !st->proc_syms) || !st->peak)
		return -ENOMEM;
	if (s->pid) {
		struct proc_memory at_attach;

		read_process_comm(s->pid, st->comm, sizeof(st->comm));
		read_exe(s->pid, s->exe, sizeof(s->exe));
		/* Growth is since attach, when nothing was tracked yet. */
		if (!proc_memory_read(s->pid, &at_attach)) {
			st->memory_base_read = true;
			st->memory_base_anon = (int64_t)at_attach.rss_anon_bytes;
		}
	} else {
		snprintf(st->comm, sizeof(st->comm), "system-wide");
	}
	st->prev_ns = st->prev_threads_ns = st->prev_go_ns = s->attach_ns;
	growth_history_set_start(st->history, s->attach_ns);
	return 0;
}

void report_state_free(struct report_state *st)
{
	free(st->stacks);
	free(st->rows);
	free(st->with_go_heap);
	free(st->suppressed_by);
	free(st->threads);
	free(st->groups);
	count_history_free(st->thread_history);
	count_history_free(st->go_history);
	free(st->go_sites);
	free(st->go_groups);
	free(st->goroutines);
	growth_history_free(st->history);
	proc_symbolizers_free(st->proc_syms);
	if (st->peak)
		report_peak_free(st->peak);
	free(st->peak);
}
