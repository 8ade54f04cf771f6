// SPDX-License-Identifier: MIT
/*
 * The periodic report (session_state.h) handed to the writer -f chose:
 * text, the top view, JSON and folded to the output stream, pprof and SVG
 * one file per report.  After writing, the processes shown gone are let go.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach/procs.h"
#include "report/report.h"
#include "session_state.h"
#include "symbols/proc_symbolizers.h"
#include "verdict/suppressions.h"

/*
 * -f pprof, svg: report 1 goes to PATH, report N to PATH.(N-1), as INTERFACE.md
 * says; the report of another process the OOM killer chose, to PATH.oom-PID.
 */
static int write_report_file(struct session *s, const struct report *r)
{
	char path[4096];
	int err;

	if (r->oom && r->pid != s->pid)
		snprintf(path, sizeof(path), "%s.oom-%d", s->opts->output_path, (int)r->pid);
	else if (r->seq == 1)
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
 * With the final report, the peak as a profile of its own where the format
 * is one (pprof, svg, folded): PATH.peak, for `leaksnoop diff` or `go tool
 * pprof -diff_base PATH.peak PATH.N`.  JSON and text carry it inline.
 */
static void write_peak_file(struct session *s, const struct report *final)
{
	const struct options *o = s->opts;
	struct report peak;
	char path[4096];
	int err = 0;

	if (!final->peak || !o->output_path || o->format == FORMAT_TEXT || o->format == FORMAT_JSON)
		return;
	report_peak_as_report(final->peak, final, &peak);
	snprintf(path, sizeof(path), "%s.peak", o->output_path);
	if (o->format == FORMAT_FOLDED) {
		FILE *f = fopen(path, "we");

		if (f) {
			report_write_folded(f, &peak);
			err = fclose(f) ? -errno : 0;
		} else {
			err = -errno;
		}
	} else {
		err = o->format == FORMAT_SVG ? report_write_svg_file(path, &peak) :
						report_write_pprof(path, &peak);
	}
	if (err)
		fprintf(stderr, "leaksnoop: cannot write %s: %s\n", path, strerror(-err));
}

/* Leaked threads whose creation stack no suppression covers. */
static uint64_t unsuppressed_threads(const struct session *s, const struct report *r)
{
	uint64_t leaked = 0;

	for (size_t i = 0; i < r->thread_count; i++) {
		const struct report_thread *t = &r->threads[i];

		if (t->group->state == THREAD_LEAKED &&
		    !suppressions_match(s->suppressions, t->frames, t->depth))
			leaked += t->group->count;
	}
	return leaked;
}

/*
 * Goroutines of the standard library's and the test framework's own, which
 * goleak leaves out too: the runtime's (GC workers, the finalizer...), the
 * testing package's, and the signal loop os/signal starts.
 */
static bool is_framework_goroutine(const struct report_goroutine *g)
{
	static const char *const packages[] = { "runtime.", "testing.", "os/signal." };
	const char *creator = g->depth ? g->frames[0].symbol : NULL;
	const char *waiting = g->group->waiting_count ? g->waiting_in.symbol : NULL;

	for (size_t i = 0; i < sizeof(packages) / sizeof(*packages); i++) {
		size_t n = strlen(packages[i]);

		if ((creator && !strncmp(creator, packages[i], n)) ||
		    (waiting && !strncmp(waiting, "testing.", 8)))
			return true;
	}
	return false;
}

/*
 * Goroutines the command started and left running when it exited, as goleak
 * finds them: the framework's own aside, and those a suppression names by
 * their creation stack or by the frame where they wait.
 */
static uint64_t unsuppressed_goroutines(const struct session *s, const struct report *r)
{
	uint64_t running = 0;

	if (!s->child || !r->target_exited)
		return 0;
	for (size_t i = 0; i < r->goroutine_count; i++) {
		const struct report_goroutine *g = &r->goroutines[i];

		if (is_framework_goroutine(g) ||
		    suppressions_match(s->suppressions, g->frames, g->depth) ||
		    (g->group->waiting_count &&
		     suppressions_match(s->suppressions, &g->waiting_in, 1)))
			continue;
		running += g->group->live - g->group->preexisting;
	}
	return running;
}

/*
 * --fds: descriptors the command opened and still held when it exited, as
 * valgrind --track-fds reports them: a leak unless a suppression covers its
 * stack (0, 1 and 2 are never recorded).  Counted over the stacks shown
 * (-T): every one in the usual case of fewer stacks than that.
 */
static int64_t unsuppressed_fds(const struct session *s, const struct report *r)
{
	int64_t left = 0;

	if (!s->child || !r->target_exited || !r->fds_tracked)
		return 0;
	/* The command's own: a child that exited holding some is its own report's. */
	for (size_t i = 0; i < r->stack_count; i++) {
		const struct report_stack *stack = &r->stacks[i];

		if (stack->row->sample->key.kind == LS_KIND_FD && stack->pid == s->pid &&
		    !suppressions_match(s->suppressions, stack->frames, stack->depth))
			left += stack->row->count;
	}
	return left;
}

/*
 * After the final report: LeakSanitizer's summary line, and whether
 * --error-exitcode applies.
 */
static void conclude(struct session *s, const struct report *r)
{
	struct verdict_count lost = reachability_lost(&r->verdicts);
	uint64_t threads = unsuppressed_threads(s, r), goroutines = unsuppressed_goroutines(s, r);
	int64_t fds = unsuppressed_fds(s, r);

	if (s->opts->leak_check && r->leak_check)
		fprintf(stderr, "SUMMARY: leaksnoop: %llu bytes leaked in %llu allocations.\n",
			(unsigned long long)lost.bytes, (unsigned long long)lost.allocs);
	else if (s->opts->leak_check)
		fprintf(stderr, "leaksnoop: no leak check at the end: %s\n",
			r->leak_check_skipped ? r->leak_check_skipped : "not run");
	if (threads)
		fprintf(stderr, "leaksnoop: %llu thread%s leaked (exited, never joined nor detached)\n",
			(unsigned long long)threads, threads == 1 ? "" : "s");
	if (goroutines)
		fprintf(stderr, "leaksnoop: %llu goroutine%s still running at exit\n",
			(unsigned long long)goroutines, goroutines == 1 ? "" : "s");
	if (fds)
		fprintf(stderr, "leaksnoop: %lld descriptor%s left open at exit (opened after attach, "
			"never closed)\n", (long long)fds, fds == 1 ? "" : "s");
	s->leak_found = lost.allocs || threads || goroutines || fds;
}

/* Build the report req asks for and write it in the format -f chose. */
static int write_requested(struct session *s, struct report_state *st,
			   struct report_request *req)
{
	const struct options *o = s->opts;
	bool final = req->final;
	struct report r;
	int err;

	/* Profiles and flame graphs show every stack; reports for people the top N. */
	req->all_stacks = o->format == FORMAT_PPROF || o->format == FORMAT_SVG ||
			  o->format == FORMAT_FOLDED;
	err = build_report(s, st, req, &r);
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
	if (final) {
		write_peak_file(s, &r);
		conclude(s, &r);
	}
	/* After writing: it may free the symbolizers of gone processes the frames point into. */
	if (s->procs)
		proc_follower_report_done(s->procs);
	if (st->proc_syms)
		proc_symbolizers_prune(st->proc_syms);
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

int write_report(struct session *s, struct report_state *st, bool final, bool exited)
{
	struct report_request req = { .periodic = true, .final = final, .exited = exited };

	return write_requested(s, st, &req);
}

int write_oom_report(struct session *s, struct report_state *st, const struct oom_kill *kill,
		     bool final)
{
	/* The target's is its last periodic report; another process's stands apart. */
	struct report_request req = { .periodic = final, .final = final, .exited = final,
				      .oom = kill };
	int err;

	st->oom_kills++;
	err = write_requested(s, st, &req);
	/* On disk before the kernel has finished what it started (-w). */
	fflush(s->out);
	if (s->out != stdout)
		fsync(fileno(s->out));
	return err;
}

int write_pressure_report(struct session *s, struct report_state *st,
			  const struct report_pressure *pressure)
{
	struct report_request req = { .periodic = true, .pressure = pressure };

	return write_requested(s, st, &req);
}
