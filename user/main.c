// SPDX-License-Identifier: MIT
/*
 * leaksnoop: which call stacks hold memory a process has not freed.
 *
 * main() only wires the stages together, in the order a record flows:
 * options -> checks before attach (attach/preflight.c) -> the target
 * (setup_target.c) -> the probes (setup_attach.c, attach/) -> the reporting
 * loop (session.c: collect/, symbols/, report/) -> everything taken down.
 * `leaksnoop diff` reads files only (diff/).  No stage's work is done here.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "attach/preflight.h"
#include "attach/late_allocators.h"
#include "attach/oom_watch.h"
#include "target/proc_fds.h"
#include "attach/procs.h"
#include "attach/thread_probes.h"
#include "collect/collect.h"
#include "collect/go_goroutines.h"
#include "collect/go_heap.h"
#include "collect/collect_threads.h"
#include "collect/unwinder.h"
#include "diff/diff.h"
#include "report/live.h"
#include "run.h"
#include "session.h"
#include "symbols/symbolize.h"
#include "verdict/leak_check.h"
#include "verdict/suppressions.h"

static bool verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static FILE *open_output(const struct options *o)
{
	int fd;

	if (!o->output_path || o->format == FORMAT_PPROF || o->format == FORMAT_SVG)
		return stdout; /* pprof, svg: the session writes one file per report */
	fd = open(o->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static int start_reporting(struct run *run)
{
	run->symbolizer = symbolizer_new(run->pid);
	if (!run->symbolizer)
		return fail(EXIT_RUNTIME, "out of memory");
	return 0;
}

static void announce(const struct run *run)
{
	const struct options *o = &run->opts;

	if (o->floor) {
		fprintf(stderr, "Tracing PID %d with empty probes at the %s (benchmark floor)... "
			"Ctrl-C to end.\n", (int)run->pid,
			o->floor == FLOOR_ENTRY ? "functions' entries" :
			o->floor == FLOOR_FDS	? "descriptor system calls' tracepoints" :
						  "chosen probe points");
		return;
	}
	if (o->system_wide) {
		fprintf(stderr, "Tracing every process using %s (%s malloc%s%s), reports every %u s "
			"of blocks older than %u ms... Ctrl-C to end.\n", run->alloc.shown_path,
			run->alloc.name, o->no_mmap ? "" : ", anonymous mmap",
			o->kernel ? ", kernel allocations" : "", o->interval_s, o->older_ms);
		return;
	}
	fprintf(stderr, "Tracing %s %d (%s%s%s%s%s), reports every %u s of blocks older than "
		"%u ms... Ctrl-C to end.\n", o->command ? "command, PID" : "PID", (int)run->pid,
		run->alloc.name, run->opts.growth ? ": page faults" : run->is_go ? " goroutines" :
									    " malloc",
		o->no_mmap || o->growth ? "" : ", anonymous mmap", run->threads ? ", threads" : "",
		o->kernel ? ", kernel allocations" : "", o->interval_s, o->older_ms);
}

/* --leak-check: what it reads, sized as the maps are. */
static int start_leak_check(struct run *run)
{
	const struct options *o = &run->opts;

	run->leak_check = run_new_leak_check(o, run->pid, &run->tracer, o->command != NULL);
	if (!run->leak_check && errno == ENOENT)
		return fail(EXIT_USAGE, "--leak-check needs the heap probes: not with --floor");
	if (!run->leak_check)
		return fail(EXIT_RUNTIME, "out of memory");
	/* -c: the last check is made at the command's exit, its memory still there. */
	run->child.hold_at_exit = o->command != NULL;
	return 0;
}

static int trace(struct run *run)
{
	struct session s = { 0 };
	int err;

	err = run_start_target(run);
	if (!err)
		err = run_attach_all(run);
	if (!err)
		err = start_reporting(run);
	/* With --growth --escalate, each escalation checks with its own table. */
	if (!err && run->opts.leak_check && !run->opts.growth)
		err = start_leak_check(run);
	if (!err && session_stop_requested())
		err = fail(EXIT_OK, "interrupted while attaching; nothing traced");
	if (err)
		return err;
	s.attach_ns = monotonic_ns();
	/* goleak from outside: the command's goroutines are read at its exit, before it ends. */
	if (run->opts.command && run->is_go && run->opts.error_exitcode >= 0)
		run->child.hold_at_exit = true;
	if (run->opts.command && launch_release(&run->child))
		return fail(EXIT_RUNTIME, "cannot start '%s'", run->opts.command);
	symbolizer_refresh(run->symbolizer);
	announce(run);
	s.opts = &run->opts;
	s.pid = run->pid;
	s.child = run->opts.command ? &run->child : NULL;
	s.allocator = run->alloc.name;
	s.collector = run->collector;
	s.symbolizer = run->symbolizer;
	s.procs = run->procs;
	s.late = run->late;
	s.oom = run->oom;
	s.fd_types_fd = tracer_fd_types_fd(&run->tracer);
	s.fds_preexisting = run->opts.fds ? proc_fds_count(run->pid) : 0;
	s.children_inherit = tracer_children_inherit(&run->tracer);
	s.children_held = tracer_holds_children(&run->tracer);
	s.unwinder = run->unwinder;
	s.more_targets = run->opts.more_pid_count > 0;
	s.threads = run->threads;
	s.threads_preexisting = run->threads_preexisting;
	s.default_stack_bytes = default_thread_stack_bytes(run->pid);
	s.go_sites_fd = tracer_go_sites_fd(&run->tracer);
	s.go_heap = run->go_heap;
	s.go_goroutines = run->go_goroutines;
	s.go_attach_ids = run->go_attach_ids;
	s.go_attach_count = run->go_attach_count;
	s.go_reasons = &run->go.reasons;
	s.goroutines_preexisting = run->goroutines_preexisting;
	s.out = run->out;
	s.listen_fd = run->listen_fd;
	s.leak_check = run->leak_check;
	s.suppressions = run->suppressions;
	/* Colours and the redrawn view only for a person at a terminal. */
	s.color = run->opts.format == FORMAT_TEXT && run->out == stdout && isatty(STDOUT_FILENO) &&
		  !getenv("NO_COLOR");
	s.top_view = run->opts.top_view && run->opts.format == FORMAT_TEXT &&
		     run->out == stdout && isatty(STDOUT_FILENO);
	if (run->opts.top_view && !s.top_view)
		fprintf(stderr, "leaksnoop: --top-view needs text output to a terminal; printing "
			"reports as usual\n");
	err = session_run(&s);
	launch_finish(&run->child); /* held at its exit for the last check: let it end */
	if (err)
		return fail(EXIT_RUNTIME, "reading the maps failed: %s", strerror(-err));
	if (s.leak_found && run->opts.error_exitcode >= 0)
		return run->opts.error_exitcode;
	/* -c: the command's own status, so that `leaksnoop -c "make check"` fails with it. */
	return run->opts.command && run->child.exit_status >= 0 ? run->child.exit_status : EXIT_OK;
}

int main(int argc, char **argv)
{
	struct run run = { .child = { .release_fd = -1 }, .listen_fd = -1 };
	int status, parsed;

	if (argc > 1 && !strcmp(argv[1], "diff"))
		return diff_main(argc - 1, argv + 1); /* reads files: no BPF, no privileges */
	/* First of all, so that a Ctrl-C during set-up is read, not fatal. */
	if (session_block_signals())
		return fail(EXIT_RUNTIME, "cannot block signals: %s", strerror(errno));
	parsed = options_parse(argc, argv, &run.opts);
	if (parsed)
		return parsed > 0 ? EXIT_OK : EXIT_USAGE;
	verbose = run.opts.verbose;
	libbpf_set_print(libbpf_log);
	if (run.opts.suppressions_path) {
		char why[512];

		run.suppressions = suppressions_load(run.opts.suppressions_path, why, sizeof(why));
		if (!run.suppressions)
			return fail(EXIT_USAGE, "%s", why);
	}
	if (check_privileges() || check_kernel() ||
	    (!run.opts.no_mmap && ensure_tracefs(verbose)))
		return EXIT_RUNTIME;
	if (run.opts.listen) {
		run.listen_fd = live_listen(run.opts.listen, run.opts.listen_public);
		if (run.listen_fd == -EACCES)
			return fail(EXIT_USAGE, "--listen %s is not a loopback address: add "
				    "--listen-public to serve it to the network", run.opts.listen);
		if (run.listen_fd == -EINVAL)
			return fail(EXIT_USAGE, "invalid --listen '%s': expected ADDR:PORT, e.g. "
				    "127.0.0.1:9090", run.opts.listen);
		if (run.listen_fd < 0)
			return fail(EXIT_RUNTIME, "cannot listen on %s: %s", run.opts.listen,
				    strerror(-run.listen_fd));
	}
	run.out = open_output(&run.opts);
	if (!run.out)
		return fail(EXIT_RUNTIME, "cannot write %s: %s", run.opts.output_path,
			    strerror(errno));
	status = trace(&run);

	/* Probes go first, so the target runs untraced while we tidy up. */
	tracer_destroy(&run.tracer, run.opts.verbose);
	if (run.child.pid > 0 && (status || run.child.release_fd >= 0))
		launch_abort(&run.child);
	leak_check_free(run.leak_check);
	suppressions_free(run.suppressions);
	collector_free(run.collector);
	go_heap_free(run.go_heap);
	go_goroutines_free(run.go_goroutines);
	free(run.go_attach_ids);
	go_wait_reasons_free(&run.go.reasons);
	thread_collector_free(run.threads);
	proc_follower_free(run.procs);
	late_allocators_free(run.late);
	oom_watch_free(run.oom);
	unwinder_free(run.unwinder);
	symbolizer_free(run.symbolizer);
	if (run.out != stdout)
		fclose(run.out);
	if (run.listen_fd >= 0)
		close(run.listen_fd);
	return status;
}
