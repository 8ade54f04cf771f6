// SPDX-License-Identifier: MIT
/*
 * leaksnoop: which call stacks hold memory a process has not freed.
 *
 * main() only wires the pieces together: options -> checks -> allocator
 * discovery -> BPF load and attach (tracer.c) -> reporting loop (session.c).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "collect/aggregate.h"
#include "attach/allocator.h"
#include "collect/collect.h"
#include "collect/collect_threads.h"
#include "diff/diff.h"
#include "attach/launch.h"
#include "report/live.h"
#include "options.h"
#include "attach/procs.h"
#include "session.h"
#include "symbols/symbolize.h"
#include "attach/thread_probes.h"
#include "attach/go_runtime.h"
#include "attach/tracer.h"
#include "collect/unwinder.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int fail(int status, const char *fmt, ...)
{
	va_list args;

	fputs("leaksnoop: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	return status;
}

static bool has_capability(int cap)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &header, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* Root, or CAP_BPF + CAP_PERFMON (CAP_SYS_ADMIN covers both). */
static int check_privileges(void)
{
	bool admin = has_capability(CAP_SYS_ADMIN);
	bool bpf = admin || has_capability(CAP_BPF);
	bool perfmon = admin || has_capability(CAP_PERFMON);

	if (bpf && perfmon)
		return 0;
	return fail(EXIT_RUNTIME, "missing %s%s%s: run as root (sudo leaksnoop ...) or grant "
		    "CAP_BPF and CAP_PERFMON", bpf ? "" : "CAP_BPF",
		    !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON");
}

static int check_kernel(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return fail(EXIT_RUNTIME, "this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			    "it needs CONFIG_DEBUG_INFO_BTF=y");
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK))
		return fail(EXIT_RUNTIME, "this kernel has no uprobes: it needs CONFIG_UPROBES=y "
			    "and CONFIG_UPROBE_EVENTS=y");
	return 0;
}

/* Tracepoints are found through tracefs; mount it where the kernel expects it. */
static int ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return fail(EXIT_RUNTIME, "tracefs is not mounted and mounting it on "
			    "/sys/kernel/tracing failed: %s (or use --no-mmap)", strerror(errno));
	if (verbose)
		fprintf(stderr, "leaksnoop: mounted tracefs on /sys/kernel/tracing\n");
	return 0;
}

/* The process a thread ID belongs to: -p accepts either. */
static pid_t tgid_of(pid_t pid)
{
	char path[64], line[128];
	pid_t tgid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid > 0 ? tgid : pid;
}

static int check_pid(pid_t pid)
{
	char path[64];

	if (kill(pid, 0) && errno == ESRCH)
		return fail(EXIT_RUNTIME, "PID %d not found (is the process running?)", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (access(path, R_OK))
		return fail(EXIT_RUNTIME, "cannot read %s: %s (run as root to trace another "
			    "user's process)", path, strerror(errno));
	return 0;
}

static int find_allocator(const struct options *o, pid_t pid, const char *exe,
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

static FILE *open_output(const struct options *o)
{
	int fd;

	if (!o->output_path || o->format == FORMAT_PPROF || o->format == FORMAT_SVG)
		return stdout; /* pprof, svg: the session writes one file per report */
	fd = open(o->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static unsigned long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct run {
	struct options opts;
	struct launched child;
	struct allocator alloc;
	struct tracer tracer;
	struct collector *collector;
	struct thread_collector *threads;
	unsigned threads_preexisting;
	bool is_go;
	struct go_runtime go;
	unsigned goroutines_preexisting;
	struct symbolizer *symbolizer;
	struct proc_follower *procs;
	struct unwinder *unwinder; /* --unwind dwarf */
	FILE *out;
	int listen_fd;
	pid_t pid;
};

/* Sample Go allocations through the runtime's own profiler when it runs, or --go-allocs. */
static void choose_go_alloc_probe(struct run *run)
{
	long rate = run->opts.command ? 512 * 1024 : go_read_memprofilerate(run->pid, &run->go);

	run->go.alloc_probe = GO_ALLOC_NONE;
	if (run->opts.go_allocs && run->go.mallocgc_offset) {
		run->go.alloc_probe = GO_ALLOC_MALLOCGC;
		run->go.sample_bytes = rate > 0 ? (uint64_t)rate : 512 * 1024;
	} else if (rate > 0 && run->go.profilealloc_offset) {
		run->go.alloc_probe = GO_ALLOC_PROFILEALLOC;
		run->go.sample_bytes = rate;
	} else if (run->opts.verbose) {
		fprintf(stderr, "leaksnoop: Go allocation rate not sampled: the program's memory "
			"profiling is off (MemProfileRate 0); --go-allocs probes runtime.mallocgc "
			"instead (about 1 us per allocation)\n");
	}
}

static int attach_goroutines(struct run *run)
{
	enum { MAX_PREEXISTING = LS_MAX_TRACKED_THREADS };
	uint64_t *goids = calloc(MAX_PREEXISTING, sizeof(*goids));
	int count = 0, err;

	if (!goids)
		return fail(EXIT_RUNTIME, "out of memory");
	/* Read before attach: a goroutine in both lists would never be seen to end. */
	if (!run->opts.command) {
		count = go_read_live_goids(run->pid, &run->go, goids, MAX_PREEXISTING);
		if (count < 0) {
			if (run->opts.verbose)
				fprintf(stderr, "leaksnoop: cannot read runtime.allgs (%s): goroutines "
					"from before attach are not covered\n", strerror(-count));
			count = 0;
		}
	}
	run->goroutines_preexisting = count;
	choose_go_alloc_probe(run);
	err = tracer_attach_goroutines(&run->tracer, run->pid, &run->go, goids, count,
				       run->opts.verbose);
	free(goids);
	if (err)
		return fail(EXIT_RUNTIME, "cannot attach the goroutine probes: %s", strerror(-err));
	return 0;
}

/* Thread tracking is best effort: without pthread_create there is nothing to track. */
/* Another process's thread probes (a child, another -p): tracked like the target's. */
static void attach_child_threads(struct run *run, pid_t pid)
{
	struct thread_library lib;
	int err = thread_library_find_for_pid(pid, &lib);

	if (!err)
		err = tracer_attach_thread_probes(&run->tracer, pid, &lib, false);
	if (err && run->opts.verbose)
		fprintf(stderr, "leaksnoop: threads of PID %d not tracked: %s\n", (int)pid,
			strerror(-err));
}

static int attach_threads(struct run *run)
{
	const struct options *o = &run->opts;
	struct thread_library lib;
	int err = o->command ? thread_library_find_for_exe(run->child.exe, &lib) :
			       thread_library_find_for_pid(run->pid, &lib);

	if (err) {
		if (o->verbose)
			fprintf(stderr, "leaksnoop: threads not tracked: no pthread_create found\n");
		return 0;
	}
	if (!o->command)
		run->threads_preexisting = count_existing_threads(run->pid);
	err = tracer_attach_threads(&run->tracer, run->pid, &lib, o->verbose);
	if (err)
		return fail(EXIT_RUNTIME, "cannot attach the thread probes to %s: %s (or use "
			    "--no-threads)", lib.shown_path, strerror(-err));
	for (unsigned i = 0; i < o->more_pid_count; i++)
		attach_child_threads(run, tgid_of(o->more_pids[i]));
	run->threads = thread_collector_new(tracer_threads_fd(&run->tracer),
					    tracer_thread_stacks_fd(&run->tracer), o->max_stacks);
	return run->threads ? 0 : fail(EXIT_RUNTIME, "out of memory");
}

static int start_collecting(struct run *run);

/*
 * System-wide, programs linked with jemalloc or tcmalloc never call glibc's
 * malloc: the installed ones are probed too.
 */
static void attach_system_allocators(struct run *run)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib" };
	static const char *const libs[] = { "libjemalloc.so.2", "libtcmalloc.so.4",
					    "libtcmalloc_minimal.so.4" };
	struct allocator extra;
	char path[4096];

	for (size_t l = 0; l < sizeof(libs) / sizeof(libs[0]); l++) {
		for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[d], libs[l]);
			if (access(path, R_OK))
				continue;
			if (allocator_find_for_exe("/proc/self/exe", path, &extra) ||
			    allocator_resolve(&extra) ||
			    tracer_attach_allocator(&run->tracer, -1, &extra, run->opts.verbose))
				fprintf(stderr, "leaksnoop: %s not probed: programs using it are not "
					"seen\n", path);
			else if (run->opts.verbose)
				fprintf(stderr, "leaksnoop: also probing %s\n", path);
			break; /* one file per library */
		}
	}
}

#define CGROUP2_MAGIC 0x63677270

static bool on_cgroup2(const char *path, struct stat *st)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == CGROUP2_MAGIC && !stat(path, st) &&
	       S_ISDIR(st->st_mode);
}

/*
 * --cgroup PATH: its cgroup ID (the directory's inode) and its depth below
 * the cgroup2 root, which bpf_get_current_ancestor_cgroup_id() compares at.
 */
static int resolve_cgroup(const char *path, uint64_t *id, uint32_t *level)
{
	char real[PATH_MAX], *slash;
	struct stat st, up;

	if (!realpath(path, real) || !on_cgroup2(real, &st))
		return fail(EXIT_USAGE, "--cgroup %s: not a cgroup v2 directory (e.g. "
			    "/sys/fs/cgroup/system.slice/nginx.service)", path);
	*id = st.st_ino;
	*level = 0;
	while ((slash = strrchr(real, '/')) && slash != real) {
		*slash = '\0';
		if (!on_cgroup2(real, &up) || up.st_dev != st.st_dev)
			break;
		++*level;
	}
	return 0;
}

/* -p given again: each process gets its proc and its own allocator's probes. */
static int attach_more_pids(struct run *run)
{
	const struct options *o = &run->opts;

	for (unsigned i = 0; i < o->more_pid_count; i++) {
		pid_t pid = tgid_of(o->more_pids[i]);
		struct allocator alloc;
		int err = check_pid(pid);

		if (!err)
			err = find_allocator(o, pid, NULL, &alloc);
		if (err)
			return err;
		err = tracer_add_process(&run->tracer, pid);
		if (err)
			return fail(EXIT_RUNTIME, "cannot trace PID %d as well: %s", (int)pid,
				    strerror(-err));
		if (tracer_attach_allocator(&run->tracer, pid, &alloc, o->verbose))
			return EXIT_RUNTIME;
	}
	return 0;
}

/* A child the target forked: the allocator probes again, for its PID. */
static int attach_child(void *arg, pid_t pid)
{
	struct run *run = arg;

	if (run->opts.system_wide)
		return 0; /* the probes fire in every process already */
	if (tracer_attach_allocator(&run->tracer, pid, &run->alloc, run->opts.verbose))
		return -EIO;
	if (run->threads)
		attach_child_threads(run, pid);
	return 0;
}

/* Children forked after attach are traced too, and an execve starts a new image. */
static int follow_processes(struct run *run)
{
	int err = tracer_follow_processes(&run->tracer, run->opts.verbose);

	if (err)
		return fail(EXIT_RUNTIME, "cannot attach the fork/exec tracepoints: %s",
			    strerror(-err));
	run->procs = proc_follower_new(tracer_procs_table_fd(&run->tracer),
				       tracer_procs_used_fd(&run->tracer), run->pid, attach_child,
				       run, run->opts.verbose);
	return run->procs ? 0 : fail(EXIT_RUNTIME, "out of memory");
}

/* --unwind dwarf: the tables' maps, filled for each traced process as it is seen. */
static int start_unwinder(struct run *run)
{
	run->unwinder = unwinder_new(tracer_unwind_rows_fd(&run->tracer), LS_DEFAULT_UNWIND_ROWS,
				     tracer_unwind_spaces_fd(&run->tracer), run->opts.verbose);
	if (!run->unwinder)
		return fail(EXIT_RUNTIME, "cannot map the unwind tables: %s", strerror(errno));
	unwinder_poll(run->unwinder, run->procs);
	return 0;
}

static int attach_all(struct run *run)
{
	const struct options *o = &run->opts;
	struct tracer_config cfg = {
		.tgid = run->pid,
		.min_size = o->min_size,
		.max_size = o->max_size,
		.age_epoch_ns = age_epoch_ns_for(o->older_ms),
		.sample_rate = o->sample_rate,
		.max_allocs = o->max_allocs,
		.max_stacks = o->max_stacks,
		.track_mmap = !o->no_mmap,
		.system_wide = o->system_wide,
		.comm = o->comm,
		.unwind_rows = o->unwind_dwarf ? LS_DEFAULT_UNWIND_ROWS : 0,
		.growth = o->growth,
	};
	int err;

	if (o->cgroup) {
		err = resolve_cgroup(o->cgroup, &cfg.cgroup_id, &cfg.cgroup_level);
		if (err)
			return err;
	}
	if (o->floor) {
		err = tracer_attach_floor(&run->tracer, run->pid, &run->alloc, o->floor);
		return err ? fail(EXIT_RUNTIME, "cannot attach the floor probes: %s",
				  strerror(-err)) : 0;
	}
	err = tracer_load(&run->tracer, &cfg);
	if (err)
		return fail(EXIT_RUNTIME, "cannot load the BPF programs: %s (run with -v for the "
			    "verifier's log)", strerror(-err));
	if (o->verbose && run->is_go)
		fprintf(stderr, "leaksnoop: pid %d is a Go program: goroutines tracked, its "
			"garbage-collected heap not probed\n", (int)run->pid);
	else if (o->verbose && !o->growth)
		fprintf(stderr, "leaksnoop: allocator %s (%s), pid %d\n", run->alloc.shown_path,
			run->alloc.name, (int)run->pid);
	if (o->kernel) {
		err = tracer_attach_kernel(&run->tracer, &cfg, o->verbose);
		if (err)
			return fail(EXIT_RUNTIME, "cannot attach the kernel allocation tracepoints: %s",
				    strerror(-err));
	}
	if (o->growth) {
		/* No probe on any call: the page-fault tracepoint is all. */
		err = tracer_attach_growth(&run->tracer, run->pid, o->verbose);
		if (err)
			return fail(EXIT_RUNTIME, "cannot attach the page-fault tracepoint: %s",
				    strerror(-err));
		return start_collecting(run);
	}
	if (run->is_go && o->more_pid_count)
		return fail(EXIT_USAGE, "PID %d is a Go program: -p more than once traces heaps "
			    "of C, C++ and Rust programs", (int)run->pid);
	if (run->is_go) {
		err = attach_goroutines(run);
		if (err)
			return err;
	} else if (tracer_attach_allocator(&run->tracer, o->system_wide ? -1 : run->pid,
					   &run->alloc, o->verbose)) {
		return EXIT_RUNTIME;
	} else {
		if (o->system_wide && !o->obj_path)
			attach_system_allocators(run);
		err = attach_more_pids(run);
		if (err)
			return err;
		err = follow_processes(run);
		if (!err && o->unwind_dwarf)
			err = start_unwinder(run);
		if (err)
			return err;
	}
	if (!o->no_mmap && tracer_attach_mmap(&run->tracer, o->verbose))
		return EXIT_RUNTIME;
	if (!o->no_threads) {
		err = attach_threads(run);
		if (err)
			return err;
	}
	return start_collecting(run);
}

static int start_collecting(struct run *run)
{
	const struct options *o = &run->opts;
	struct stats_maps maps = {
		.stats_fd = tracer_stats_fd(&run->tracer),
		.slots_used_fd = tracer_slots_used_fd(&run->tracer),
		.traces_fd = tracer_traces_fd(&run->tracer),
		.counters_fd = tracer_counters_fd(&run->tracer),
	};

	tracer_delta_banks(&run->tracer, &maps.banks);

	run->collector = collector_new(&maps, o->max_stacks, o->sample_rate);
	if (!run->collector)
		return fail(EXIT_RUNTIME, "out of memory");
	return 0;
}

static int start_reporting(struct run *run)
{
	run->symbolizer = symbolizer_new(run->pid);
	if (!run->symbolizer)
		return fail(EXIT_RUNTIME, "out of memory");
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
		return fail(EXIT_RUNTIME, "%s: runtime.newproc/runtime.goexit1 not found (not a Go "
			    "program, or stripped of its symbol table)", exe);
	if (err)
		return fail(EXIT_RUNTIME, "%s: no DWARF for runtime.g (built with -ldflags=-w?): "
			    "goroutine tracking needs its goid and gopc offsets", exe);
	snprintf(run->alloc.name, sizeof(run->alloc.name), "go");
	return 0;
}

/* --growth probes no allocator: any process, any language. */
static int use_growth_mode(struct run *run)
{
	snprintf(run->alloc.name, sizeof(run->alloc.name), "growth");
	return 0;
}

static int start_target(struct run *run)
{
	const struct options *o = &run->opts;
	char exe[64];
	int err;

	if (o->system_wide) {
		/* The allocator this machine's programs use: the one leaksnoop itself runs on. */
		run->pid = 0;
		return find_allocator(o, getpid(), NULL, &run->alloc);
	}
	if (!o->command) {
		run->pid = tgid_of(o->pid);
		if (run->pid != o->pid && o->verbose)
			fprintf(stderr, "leaksnoop: %d is a thread of process %d: tracing the process\n",
				(int)o->pid, (int)run->pid);
		err = check_pid(run->pid);
		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)run->pid);
		if (!err && o->growth)
			return use_growth_mode(run);
		if (!err)
			err = find_go_runtime(run, exe);
		if (err || run->is_go)
			return err;
		return find_allocator(o, run->pid, NULL, &run->alloc);
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
	return find_allocator(o, run->pid, run->child.exe, &run->alloc);
}

static void announce(const struct run *run)
{
	const struct options *o = &run->opts;

	if (o->floor) {
		fprintf(stderr, "Tracing PID %d with empty probes at the %s (benchmark floor)... "
			"Ctrl-C to end.\n", (int)run->pid,
			o->floor == FLOOR_ENTRY ? "functions' entries" : "chosen probe points");
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

static int trace(struct run *run)
{
	struct session s = { 0 };
	int err;

	err = start_target(run);
	if (!err)
		err = attach_all(run);
	if (!err)
		err = start_reporting(run);
	if (!err && session_stop_requested())
		err = fail(EXIT_OK, "interrupted while attaching; nothing traced");
	if (err)
		return err;
	s.attach_ns = monotonic_ns();
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
	s.unwinder = run->unwinder;
	s.more_targets = run->opts.more_pid_count > 0;
	s.threads = run->threads;
	s.threads_preexisting = run->threads_preexisting;
	s.default_stack_bytes = default_thread_stack_bytes(run->pid);
	s.go_sites_fd = tracer_go_sites_fd(&run->tracer);
	s.goroutines_preexisting = run->goroutines_preexisting;
	s.out = run->out;
	s.listen_fd = run->listen_fd;
	/* Colours and the redrawn view only for a person at a terminal. */
	s.color = run->opts.format == FORMAT_TEXT && run->out == stdout && isatty(STDOUT_FILENO) &&
		  !getenv("NO_COLOR");
	s.top_view = run->opts.top_view && run->opts.format == FORMAT_TEXT &&
		     run->out == stdout && isatty(STDOUT_FILENO);
	if (run->opts.top_view && !s.top_view)
		fprintf(stderr, "leaksnoop: --top-view needs text output to a terminal; printing "
			"reports as usual\n");
	err = session_run(&s);
	if (err)
		return fail(EXIT_RUNTIME, "reading the maps failed: %s", strerror(-err));
	return EXIT_OK;
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
	status = check_privileges();
	if (!status)
		status = check_kernel();
	if (!status && !run.opts.no_mmap)
		status = ensure_tracefs();
	if (status)
		return status;
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
	tracer_destroy(&run.tracer);
	if (run.child.pid > 0 && (status || run.child.release_fd >= 0))
		launch_abort(&run.child);
	collector_free(run.collector);
	thread_collector_free(run.threads);
	proc_follower_free(run.procs);
	unwinder_free(run.unwinder);
	symbolizer_free(run.symbolizer);
	if (run.out != stdout)
		fclose(run.out);
	if (run.listen_fd >= 0)
		close(run.listen_fd);
	return status;
}
