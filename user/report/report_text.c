// SPDX-License-Identifier: MIT
/* -f text: a header line with totals, then the top stacks with their frames. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "report.h"

const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case LS_KIND_HEAP: return "heap";
	case LS_KIND_MMAP: return "mmap";
	case LS_KIND_GO_ALLOC: return "go_alloc";
	case LS_KIND_GROWTH: return "growth";
	case LS_KIND_KERNEL: return "kernel";
	case LS_KIND_GO_HEAP: return "go_heap";
	case LS_KIND_FD: return "fd";
	}
	return "unknown";
}

const char *fd_type_name(uint32_t type, const char **socket_family)
{
	static const char *const names[LS_FD_TYPES] = {
		[LS_FD_FILE] = "file", [LS_FD_DIRECTORY] = "directory",
		[LS_FD_DEVICE] = "device", [LS_FD_PIPE] = "pipe",
		[LS_FD_SOCKET_UNIX] = "socket", [LS_FD_SOCKET_INET] = "socket",
		[LS_FD_SOCKET_INET6] = "socket", [LS_FD_SOCKET_NETLINK] = "socket",
		[LS_FD_SOCKET_OTHER] = "socket", [LS_FD_EVENTFD] = "eventfd",
		[LS_FD_TIMERFD] = "timerfd", [LS_FD_SIGNALFD] = "signalfd",
		[LS_FD_EPOLL] = "epoll", [LS_FD_INOTIFY] = "inotify", [LS_FD_MEMFD] = "memfd",
		[LS_FD_PIDFD] = "pidfd", [LS_FD_USERFAULTFD] = "userfaultfd",
		[LS_FD_OTHER] = "other",
	};
	static const char *const families[LS_FD_TYPES] = {
		[LS_FD_SOCKET_UNIX] = "unix", [LS_FD_SOCKET_INET] = "inet",
		[LS_FD_SOCKET_INET6] = "inet6", [LS_FD_SOCKET_NETLINK] = "netlink",
		[LS_FD_SOCKET_OTHER] = "other",
	};

	if (socket_family)
		*socket_family = type < LS_FD_TYPES ? families[type] : NULL;
	return type < LS_FD_TYPES ? names[type] : "other";
}

/* A descriptor stack's open ones by type: "socket/inet 3, file 2". */
static void write_fd_types(FILE *out, const struct fd_type_counts *types)
{
	const char *sep = "";

	for (uint32_t t = 0; t < LS_FD_TYPES; t++) {
		const char *family;
		const char *name = fd_type_name(t, &family);

		if (types->open[t] <= 0)
			continue;
		fprintf(out, "%s%s%s%s %d", sep, name, family ? "/" : "", family ? family : "",
			types->open[t]);
		sep = ", ";
	}
}

const char *human_bytes(double bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double magnitude = bytes < 0 ? -bytes : bytes;
	int unit = 0;

	while (magnitude >= 1024 && unit < 4) {
		magnitude /= 1024;
		bytes /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(buf, size, "%.0f B", bytes);
	else
		snprintf(buf, size, "%.1f %s", bytes, units[unit]);
	return buf;
}

static void write_frame(FILE *out, size_t index, const struct frame *f)
{
	fprintf(out, "        #%-2zu 0x%016" PRIx64 " ", index, f->addr);
	if (f->symbol)
		fprintf(out, "%s+0x%" PRIx64, f->symbol, f->offset);
	else
		fputs("[unknown]", out);
	if (f->module && f->symbol)
		fprintf(out, " (%s)", f->module);
	else if (f->module)
		fprintf(out, " (%s+0x%" PRIx64 ")", f->module, f->offset);
	if (f->file)
		fprintf(out, " %s:%d", f->file, f->line);
	fputc('\n', out);
}

static void write_threads(FILE *out, const struct report *r)
{
	char bytes[32];
	size_t shown = 0;

	if (!r->threads_tracked)
		return;
	fprintf(out, "\n  threads created since attach: %llu live, %llu leaked (exited, never joined "
		"nor detached: %s of stacks held)",
		(unsigned long long)r->threads_live, (unsigned long long)r->threads_leaked,
		human_bytes((double)r->thread_stack_bytes_leaked, bytes, sizeof(bytes)));
	if (r->threads_preexisting)
		fprintf(out, "; %u threads existed before attach (not classified)",
			r->threads_preexisting);
	fputc('\n', out);
	for (size_t i = 0; i < r->thread_count; i++) {
		const struct thread_group *g = r->threads[i].group;

		if (!g->count)
			continue;
		fprintf(out, "\n  #%zu threads %s: %llu (%s of stacks) | created %llu, gone %llu",
			++shown, thread_state_name(g->state), (unsigned long long)g->count,
			human_bytes((double)g->stack_bytes, bytes, sizeof(bytes)),
			(unsigned long long)g->created, (unsigned long long)g->gone);
		if (g->state == THREAD_LIVE)
			fprintf(out, " | growth %+.1f/s", g->growth_per_s);
		fputc('\n', out);
		if (r->threads[i].pid && r->threads[i].pid != r->pid)
			fprintf(out, "      in child process PID %d\n", (int)r->threads[i].pid);
		for (size_t f = 0; f < r->threads[i].depth; f++)
			write_frame(out, f, &r->threads[i].frames[f]);
	}
}

/*
 * Stacks counted by what they allocated, not by what they hold: Go's
 * collected heap (sampled), and --growth's new pages.
 */
static void write_allocated_only(FILE *out, const struct report *r, uint32_t kind,
				 const char *title, const char *unit)
{
	char total[32], rate[32];
	size_t shown = 0;

	for (size_t i = 0; i < r->stack_count; i++) {
		const struct stack_row *row = r->stacks[i].row;

		if (row->sample->key.kind != kind || !row->sample->stats.alloc_bytes)
			continue;
		if (!shown)
			fprintf(out, "\n  %s:\n", title);
		fprintf(out, "\n  #%zu %s: %s in %llu %s | %s/s since attach\n", ++shown,
			kind_name(kind),
			human_bytes((double)row->sample->stats.alloc_bytes, total, sizeof(total)),
			(unsigned long long)row->sample->stats.alloc_count, unit,
			human_bytes(r->elapsed_s > 0 ? row->sample->stats.alloc_bytes / r->elapsed_s : 0,
				    rate, sizeof(rate)));
		for (size_t f = 0; f < r->stacks[i].depth; f++)
			write_frame(out, f, &r->stacks[i].frames[f]);
	}
}

/* "states: chan receive 30, select 2", then the frame where most of them wait. */
static void write_goroutine_states(FILE *out, const struct report *r,
				   const struct report_goroutine *rg)
{
	const struct goroutine_group *g = rg->group;
	const char *sep = "";

	fputs("      states:", out);
	for (unsigned slot = 0; slot < GO_STATE_SLOTS; slot++) {
		const char *name;

		if (!g->states[slot])
			continue;
		name = slot >= GO_STATE_WAIT ?
			go_state_name(r->go_reasons, GO_STATUS_WAITING, slot - GO_STATE_WAIT) :
			go_state_name(r->go_reasons, slot, 0);
		if (name)
			fprintf(out, "%s %s %u", sep, name, g->states[slot]);
		else
			fprintf(out, "%s wait reason %u: %u", sep, slot - GO_STATE_WAIT,
				g->states[slot]);
		sep = ",";
	}
	fputc('\n', out);
	if (!g->waiting_count)
		return;
	fprintf(out, "      %llu of them waiting in:\n", (unsigned long long)g->waiting_count);
	write_frame(out, 0, &rg->waiting_in);
}

static void write_goroutines(FILE *out, const struct report *r)
{
	size_t shown = 0;

	if (!r->goroutines_tracked)
		return;
	fprintf(out, "\n  goroutines created since attach and still running: %llu",
		(unsigned long long)r->goroutines_live);
	fprintf(out, "; %llu from before attach still running\n",
		(unsigned long long)r->goroutines_preexisting);
	for (size_t i = 0; i < r->goroutine_count; i++) {
		const struct goroutine_group *g = r->goroutines[i].group;

		if (!g->live)
			continue;
		fprintf(out, "\n  #%zu goroutines live: %llu | growth %+.1f/s | created %llu, ended %llu"
			" since attach", ++shown, (unsigned long long)g->live, g->growth_per_s,
			(unsigned long long)g->created, (unsigned long long)g->exited);
		if (r->goroutine_list_read)
			fprintf(out, " | %llu from before attach", (unsigned long long)g->preexisting);
		fputc('\n', out);
		if (r->goroutine_list_read)
			write_goroutine_states(out, r, &r->goroutines[i]);
		fputs("      created by:\n", out);
		for (size_t f = 0; f < r->goroutines[i].depth; f++)
			write_frame(out, f, &r->goroutines[i].frames[f]);
	}
}

/* --leak-check: bytes and blocks per verdict, in valgrind's words. */
static void write_verdicts(FILE *out, const char *lead, const struct reachability *reach,
			   const char *suppressed_by)
{
	static const char *const words[VERDICT_COUNT] = {
		"definitely lost", "indirectly lost", "possibly lost", "still reachable",
	};
	char bytes[32];

	fputs(lead, out);
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, "%s %s %s in %llu", v ? "," : "", words[v],
			human_bytes((double)reach->of[v].bytes, bytes, sizeof(bytes)),
			(unsigned long long)reach->of[v].allocs);
	if (suppressed_by)
		fprintf(out, " (suppressed: leak:%s)", suppressed_by);
	fputc('\n', out);
}

/* The Go heap's totals, as the runtime's own memory profile has them. */
static void write_go_heap(FILE *out, const struct report *r)
{
	char inuse[32], allocated[32], rate[32];

	if (!r->go_heap_read)
		return;
	fprintf(out, "  Go heap (the runtime's memory profile, as of its last GC; one sample per "
		"%s allocated, scaled as pprof does): %s in use in %" PRId64 " objects, from "
		"%zu stacks | %s allocated in %llu since the process started\n",
		human_bytes((double)r->go_heap_rate, rate, sizeof(rate)),
		human_bytes((double)r->go_heap.inuse_bytes, inuse, sizeof(inuse)),
		r->go_heap.inuse_objects, r->go_heap.stacks,
		human_bytes((double)r->go_heap.alloc_bytes, allocated, sizeof(allocated)),
		(unsigned long long)r->go_heap.alloc_objects);
	if (r->go_heap_rate <= 0)
		fputs("    (memory profiling is off in this process: MemProfileRate is 0)\n", out);
}

/* The report's leak check: its totals and what it cost the target, or why it did not run. */
static void write_leak_check(FILE *out, const struct report *r)
{
	const struct leak_check_result *lc = r->leak_check;
	char scanned[32], suppressed[32];
	uint64_t suppressed_bytes = reachability_all(&r->suppressed).bytes;

	if (!lc) {
		if (r->leak_check_skipped)
			fprintf(out, "  leak check skipped: %s\n", r->leak_check_skipped);
		return;
	}
	write_verdicts(out, "  leak check:", &r->verdicts, NULL);
	fprintf(out, "    target held %.1f ms, %s scanned%s%s%s\n", lc->frozen_ms,
		human_bytes((double)lc->scanned_bytes, scanned, sizeof(scanned)),
		suppressed_bytes ? ", suppressed " : "",
		suppressed_bytes ? human_bytes((double)suppressed_bytes, suppressed,
					       sizeof(suppressed)) : "",
		lc->exact ? "" : " (attached mid-life: memory the allocator holds outside the "
				 "blocks seen is scanned as roots)");
}

static void write_stack(FILE *out, const struct report_stack *stack, size_t rank, bool color,
			pid_t target)
{
	const struct stack_row *row = stack->row;
	const struct stack_stats *stats = &row->sample->stats;
	char held[32], rate[32], total[32];

	char score[32];

	/* A growing stack in red, the others in bold, when a person reads a terminal. */
	fputs(!color ? "" : row->leak_score > 0 ? "\033[1;31m" : "\033[1m", out);
	if (row->sample->key.kind == LS_KIND_FD) {
		fprintf(out, "\n  #%zu fd open: %" PRId64 " (", rank, row->count);
		write_fd_types(out, &stack->fd_types);
		fprintf(out, ") | growth %.1f/s | oldest %.1f s | opened %llu since attach%s\n",
			row->growth_bytes_per_s, (double)row->oldest_age_ms / 1000.0,
			(unsigned long long)stats->alloc_count, color ? "\033[0m" : "");
	} else if (row->sample->key.kind == LS_KIND_GO_HEAP)
		fprintf(out, "\n  #%zu go_heap in use: %s (%" PRId64 " bytes) in %" PRId64
			" objects | growth %s/s | allocated %s in %llu since the process started"
			"%s\n", rank, human_bytes((double)row->bytes, held, sizeof(held)),
			row->bytes, row->count,
			human_bytes(row->growth_bytes_per_s, rate, sizeof(rate)),
			human_bytes((double)stats->alloc_bytes, total, sizeof(total)),
			(unsigned long long)stats->alloc_count, color ? "\033[0m" : "");
	else
		fprintf(out, "\n  #%zu %s held: %s (%" PRId64 " bytes) in %" PRId64 " allocations"
			" | growth %s/s | oldest %.1f s | allocated %s in %llu since attach%s\n",
			rank, kind_name(row->sample->key.kind),
			human_bytes((double)row->bytes, held, sizeof(held)), row->bytes, row->count,
			human_bytes(row->growth_bytes_per_s, rate, sizeof(rate)),
			(double)row->oldest_age_ms / 1000.0,
			human_bytes((double)stats->alloc_bytes, total, sizeof(total)),
			(unsigned long long)stats->alloc_count, color ? "\033[0m" : "");
	/* Descriptors have no size: their leak score is in descriptors a second. */
	if (row->sample->key.kind == LS_KIND_FD)
		snprintf(score, sizeof(score), "%.1f", row->leak_score);
	else
		human_bytes(row->leak_score, score, sizeof(score));
	fprintf(out, "      trend: leak score %s/s, grew %u interval%s in a row%s\n",
		score, row->grew_intervals,
		row->grew_intervals == 1 ? "" : "s",
		row->plateaued ? " | plateaued: stopped growing (a cache, not a leak?)" : "");
	if (stack->reach)
		write_verdicts(out, "      leak check:", stack->reach, stack->suppressed_by);
	if (stack->pid != target)
		fprintf(out, "      in %sprocess PID %d%s%s%s%s%s%s%s%s\n", target ? "child " : "",
			(int)stack->pid, stack->comm ? " (" : "", stack->comm ? stack->comm : "",
			stack->comm ? ")" : "", stack->container_id ? ", container " : "",
			stack->container_id ? stack->container_id : "",
			!target && stack->cgroup ? ", cgroup " : "",
			!target && stack->cgroup ? stack->cgroup : "",
			stack->process_exited ? ", exited: what it held when it ended" : "");
	if (!stack->depth)
		fputs("        [stack not captured]\n", out);
	for (size_t i = 0; i < stack->depth; i++)
		write_frame(out, i, &stack->frames[i]);
	if (stack->depth && !stack->complete)
		fprintf(out, "        (stack truncated%s%s%s)\n",
			stack->no_fp_module ? ": " : "",
			stack->no_fp_module ? stack->no_fp_module : "",
			stack->no_fp_module ? " keeps no frame pointers, so callers past it may be "
					      "missing; the allocation site #0 is right" : "");
}

/*
 * The target's memory beside what is tracked, and in words when its
 * anonymous memory grew by more than the tracked bytes explain.
 */
static void write_memory(FILE *out, const struct report_memory *m)
{
	char rss[32], anon[32], file[32], swap[32], held[32], unexplained[32], grew[32];

	if (!m->read)
		return;
	fprintf(out, "  memory: RSS %s (anonymous %s, file %s, swap %s); held in tracked blocks "
		"and regions %s; anonymous memory they do not explain %s\n",
		human_bytes((double)m->now.rss_bytes, rss, sizeof(rss)),
		human_bytes((double)m->now.rss_anon_bytes, anon, sizeof(anon)),
		human_bytes((double)m->now.rss_file_bytes, file, sizeof(file)),
		human_bytes((double)m->now.swap_bytes, swap, sizeof(swap)),
		human_bytes((double)m->held_bytes, held, sizeof(held)),
		human_bytes((double)m->unexplained_bytes, unexplained, sizeof(unexplained)));
	/* A growth of which 1 MiB or more, and a quarter or more, is not in tracked blocks. */
	if (m->anon_growth_bytes - m->held_growth_bytes < (1 << 20) ||
	    (m->anon_growth_bytes - m->held_growth_bytes) * 4 < m->anon_growth_bytes)
		return;
	fprintf(out, "  anonymous memory grew %s since attach, of which tracked blocks %s: the "
		"rest of the growth is not in blocks allocated since attach (fragmentation, "
		"allocator caches, memory from before attach, or memory not allocated through "
		"malloc)\n", human_bytes((double)m->anon_growth_bytes, grew, sizeof(grew)),
		human_bytes((double)m->held_growth_bytes, held, sizeof(held)));
}

/* The OOM killer's choice, in one line before the stacks that explain it. */
static void write_oom(FILE *out, const struct oom_kill *kill)
{
	char anon[32], usage[32], limit[32];

	if (!kill)
		return;
	fprintf(out, "  OOM kill: the kernel's OOM killer chose pid %d (%s) with %s of anonymous "
		"memory resident", (int)kill->tgid, kill->comm,
		human_bytes((double)kill->rss_anon_bytes, anon, sizeof(anon)));
	if (kill->memcg_read && kill->memcg.limit_bytes)
		fprintf(out, "; its memory cgroup %s used %s of the %s limit set by %s%s",
			kill->memcg.path, human_bytes((double)kill->memcg.usage_bytes, usage,
						      sizeof(usage)),
			human_bytes((double)kill->memcg.limit_bytes, limit, sizeof(limit)),
			kill->memcg.limit_path, kill->limit_reached ? "" : " (not at its limit: "
			"the machine ran out)");
	else if (kill->memcg_read)
		fprintf(out, "; its memory cgroup %s sets no limit", kill->memcg.path);
	fputs(". What it held then:\n", out);
}

/* The innermost frame a person would look at: the first named one. */
static const struct frame *site_frame(const struct report_stack *stack)
{
	for (size_t f = 0; f < stack->depth; f++)
		if (stack->frames[f].symbol)
			return &stack->frames[f];
	return stack->depth ? &stack->frames[0] : NULL;
}

/* The final report's peak: when it was, and its top stacks one line each. */
static void write_peak(FILE *out, const struct report_peak *peak)
{
	char clock[16], held[32], bytes[32];
	struct tm tm;
	size_t shown = 0;

	if (!peak)
		return;
	localtime_r(&peak->wall_time.tv_sec, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	fprintf(out, "\n  peak: %s held in %" PRId64 " allocations at %s (report #%u, %.1f s after "
		"attach); its top stacks then:\n",
		human_bytes((double)peak->held_bytes, held, sizeof(held)), peak->held_allocs, clock,
		peak->seq, peak->elapsed_s);
	for (size_t i = 0; i < peak->stack_count && shown < 10; i++) {
		const struct report_stack *stack = &peak->stacks[i];
		const struct frame *site = site_frame(stack);

		if (!stack->row->count)
			continue;
		fprintf(out, "    #%zu %s %s in %" PRId64 " allocations at ", ++shown,
			kind_name(stack->row->sample->key.kind),
			human_bytes((double)stack->row->bytes, bytes, sizeof(bytes)), stack->row->count);
		if (site && site->symbol)
			fprintf(out, "%s", site->symbol);
		else
			fputs("[unknown]", out);
		if (site && site->file)
			fprintf(out, " %s:%d", site->file, site->line);
		fputc('\n', out);
	}
}

void report_write_text(FILE *out, const struct report *r)
{
	char clock[16], held[32], allocated[32];
	struct tm tm;
	size_t shown = 0;

	localtime_r(&r->wall_time.tv_sec, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	fprintf(out, "[%s] %s#%u pid %d (%s%s), %s: %s held in %" PRId64
		" allocations older than %u ms, from %zu stacks | since attach: %s in %llu"
		" allocations, %llu frees | dropped: %llu events, %llu stacks\n",
		clock, r->final ? "final report " : r->growth ? "growth-mode report " :
		r->escalated ? "escalated report (exact, growth mode saw it grow) " : "report ",
		r->seq, (int)r->pid, r->comm,
		r->oom ? ", killed by the OOM killer" : r->target_exited ? ", exited" : "",
		r->allocator, human_bytes((double)r->outstanding_bytes, held, sizeof(held)),
		r->outstanding_allocs, r->older_ms, r->stacks_holding,
		human_bytes((double)r->alloc_bytes, allocated, sizeof(allocated)),
		(unsigned long long)r->allocs, (unsigned long long)r->frees,
		(unsigned long long)r->dropped_events, (unsigned long long)r->dropped_stacks);
	write_oom(out, r->oom);
	if (r->fds_tracked)
		fprintf(out, "  descriptors: %" PRId64 " open from %zu stacks, %llu opened since "
			"attach; %u were open at attach (not classified)\n", r->fds_open, r->fd_stacks,
			(unsigned long long)r->fds_opened, r->fds_preexisting);
	if (r->pressure)
		fprintf(out, "  memory pressure: memory cgroup %s: %s; this report was written then\n",
			r->pressure->memcg->path, r->pressure->why);
	write_leak_check(out, r);
	write_memory(out, &r->memory);
	write_go_heap(out, r);
	for (size_t i = 0; i < r->stack_count; i++) {
		if (!r->stacks[i].row->count)
			continue;
		write_stack(out, &r->stacks[i], ++shown, r->color, r->pid);
	}
	if (!shown)
		fputs("  no outstanding allocations\n", out);
	else
		fprintf(out, "\n  stack quality: %zu of %zu stacks walked to the thread's root%s\n",
			r->stacks_complete, r->stack_count, r->stacks_without_fp ?
			" (--unwind dwarf walks through code without frame pointers)" : "");
	write_allocated_only(out, r, LS_KIND_GO_ALLOC, "Go allocations since attach (sampled "
			     "estimates; the GC frees them)", "objects (about)");
	write_allocated_only(out, r, LS_KIND_GROWTH, "New memory written since attach, per stack "
			     "(growth mode: page faults, no probe on any call)", "pages");
	write_peak(out, r->peak);
	write_threads(out, r);
	write_goroutines(out, r);
	if (r->sample_rate > 1)
		fprintf(out, "  (sampled: one allocation in %u recorded, numbers scaled up; a stack "
			"estimated from k blocks is within about 2/sqrt(k) of its true size)\n",
			r->sample_rate);
	fputc('\n', out);
	fflush(out);
}
