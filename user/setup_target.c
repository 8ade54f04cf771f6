// SPDX-License-Identifier: MIT
/*
 * The target of a run (run.h): launched or checked, and what in it to probe.
 * Nothing is loaded into the kernel here; a launched command is held before
 * its first instruction until the session releases it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach/preflight.h"
#include "run.h"

int run_find_allocator(const struct options *o, pid_t pid, const char *exe,
		       struct allocator *alloc)
{
	int err = exe ? allocator_find_for_exe(exe, o->obj_path, alloc) :
			allocator_find_for_pid(pid, o->obj_path, alloc);

	if (err == -ESRCH)
		return fail(EXIT_RUNTIME, "PID %d has no user memory to trace (kernel thread or "
			    "zombie?)", (int)pid);
	if (err && o->obj_path)
		return fail(EXIT_RUNTIME, "-O %s: %s", o->obj_path,
			    err == -ENOEXEC ? "not an ELF file that defines malloc and free" :
					      strerror(-err));
	if (err)
		return fail(EXIT_RUNTIME, "no recognizable allocator (malloc and free) in %s; name "
			    "it with -O PATH", exe ? exe : "the target's mappings");
	err = allocator_resolve(alloc);
	if (err)
		return fail(EXIT_RUNTIME, "cannot resolve malloc/free in %s: %s (stripped of "
			    ".dynsym? name another file with -O)", alloc->shown_path,
			    strerror(-err));
	return 0;
}

/*
 * A Go program gets goroutine probes and no heap probes: its heap is
 * garbage-collected, and the heap probes' uretprobes would rewrite return
 * addresses on goroutine stacks, which Go moves.
 */
static int find_go_runtime(struct run *run, const char *exe)
{
	const struct options *o = &run->opts;
	int err;

	run->is_go = o->force_go || go_is_binary(exe);
	if (!run->is_go)
		return 0;
	if (o->obj_path)
		return fail(EXIT_USAGE, "%s is a Go program: its heap is garbage-collected and "
			    "leaksnoop puts no return probes in Go code (drop -O)", exe);
	err = go_runtime_resolve(exe, &run->go);
	if (err == -ENOENT)
		return fail(EXIT_RUNTIME, "%s: runtime.newproc/runtime.goexit1 not found, in its "
			    "symbols or its .gopclntab: not a Go program leaksnoop can read", exe);
	if (err == -ENOTSUP)
		return fail(EXIT_RUNTIME, "%s: built with %s and without DWARF: runtime.g's "
			    "layout is known here for %s only (a build without -ldflags=-w is "
			    "read from its DWARF)", exe, run->go.version[0] ? run->go.version :
			    "an unknown Go release", go_g_layout_versions());
	if (err)
		return fail(EXIT_RUNTIME, "%s: cannot read its Go runtime: %s", exe, strerror(-err));
	snprintf(run->alloc.name, sizeof(run->alloc.name), "go");
	return 0;
}

/* --growth probes no allocator: any process, any language. */
static int use_growth_mode(struct run *run)
{
	snprintf(run->alloc.name, sizeof(run->alloc.name), "growth");
	return 0;
}

int run_start_target(struct run *run)
{
	const struct options *o = &run->opts;
	char exe[64];
	int err;

	if (o->system_wide) {
		/* The allocator this machine's programs use: the one leaksnoop itself runs on. */
		run->pid = 0;
		return run_find_allocator(o, getpid(), NULL, &run->alloc);
	}
	if (!o->command) {
		run->pid = tgid_of(o->pid);
		if (run->pid != o->pid && o->verbose)
			fprintf(stderr, "leaksnoop: %d is a thread of process %d: tracing the process\n",
				(int)o->pid, (int)run->pid);
		err = check_pid(run->pid) ? EXIT_RUNTIME : 0;
		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)run->pid);
		if (!err && o->growth)
			return use_growth_mode(run);
		if (!err)
			err = find_go_runtime(run, exe);
		if (err || run->is_go)
			return err;
		return run_find_allocator(o, run->pid, NULL, &run->alloc);
	}
	err = launch_prepare(o->command, &run->child);
	/* Its libraries' unwind rows are read when the loader hands over to it. */
	run->child.stop_at_entry = o->unwind_dwarf;
	if (err == -EINVAL)
		return fail(EXIT_USAGE, "cannot parse command '%s'", o->command);
	if (err)
		return fail(EXIT_RUNTIME, "cannot run '%s': %s", o->command, strerror(-err));
	run->pid = run->child.pid;
	if (o->growth)
		return use_growth_mode(run);
	err = find_go_runtime(run, run->child.exe);
	if (err || run->is_go)
		return err;
	return run_find_allocator(o, run->pid, run->child.exe, &run->alloc);
}
