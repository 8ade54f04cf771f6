// SPDX-License-Identifier: MIT
/*
 * Probes on the kernel's side: --kernel's kmem, percpu and vmalloc
 * tracepoints, --fds's system call tracepoints (bpf/fds.bpf.c) and
 * --growth's user page-fault tracepoint.  Each is its own BPF object
 * sharing the heap object's stack maps.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fds.skel.h"
#include "growth.skel.h"
#include "heap.skel.h"
#include "kernel.skel.h"
#include "leaksnoop.h"
#include "perf_events.h"
#include "tracer.h"
#include "tracer_links.h"

/* Programs on tracepoints this kernel lacks are not loaded; what goes unseen is said. */
static void skip_missing_tracepoints(struct bpf_object *obj, const char *unseen, bool verbose)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		char category[64], name[64];

		if (tracepoint_of_section(bpf_program__section_name(prog), category, name) &&
		    tracepoint_id(category, name) == -ENOENT) {
			bpf_program__set_autoload(prog, false);
			if (verbose)
				fprintf(stderr, "leaksnoop: this kernel has no tracepoint %s/%s: %s\n",
					category, name, unseen);
		}
	}
}

/*
 * The heap object's stack maps and its table of followed processes, shared
 * with obj before it loads: the target's children are traced by it too.
 */
static int share_with_heap(struct tracer *t, struct bpf_object *obj)
{
	int err = tracer_share_maps(t, obj);

	return err ? err : tracer_share_procs(t, obj);
}

/* Attach every program of obj that was loaded, each said with -v. */
static int attach_loaded(struct tracer *t, struct bpf_object *obj, bool verbose)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		int err;

		if (!bpf_program__autoload(prog))
			continue;
		err = tracer_attach_kept(t, prog);
		if (err)
			return err;
		if (verbose)
			fprintf(stderr, "leaksnoop: %s\n", bpf_program__section_name(prog));
	}
	return 0;
}

int tracer_attach_kernel(struct tracer *t, const struct tracer_config *cfg, bool verbose)
{
	struct kernel_bpf *skel = kernel_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = cfg->tgid;
	skel->rodata->self_tgid = (__u32)getpid();
	skel->rodata->page_bytes = (__u64)sysconf(_SC_PAGESIZE);
	skel->rodata->age_epoch_ns = cfg->age_epoch_ns;
	skel->rodata->age_clock_ticks = tracer_clock_ticks(cfg);
	bpf_map__set_max_entries(skel->maps.kernel_blocks, cfg->max_allocs);
	/* vmalloc's tracepoints appeared in Linux 6.3, for one. */
	skip_missing_tracepoints(skel->obj, "not traced", verbose);
	err = share_with_heap(t, skel->obj);
	if (!err)
		err = kernel_bpf__load(skel);
	if (err) {
		kernel_bpf__destroy(skel);
		return err;
	}
	t->kernel = skel;
	err = tracer_start_age_clock(t, cfg); /* with --growth, no heap probe has started it */
	return err ? err : attach_loaded(t, skel->obj, verbose);
}

/* exit at the exit of every call that makes descriptors (LS_FD_EXIT_CALLS), close at close's entry. */
int tracer_attach_fd_calls(struct tracer *t, struct bpf_program *exit, struct bpf_program *close,
			   bool verbose)
{
#define LS_FD_CALL_NAME(name, nr) "sys_exit_" #name,
	static const char *const exits[] = { LS_FD_EXIT_CALLS(LS_FD_CALL_NAME) };
#undef LS_FD_CALL_NAME

	int fd;

	for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
		fd = perf_event_tracepoint("syscalls", exits[i]);

		/* openat2 came with Linux 5.6, close_range with 5.9, ... */
		if (fd == -ENOENT) {
			if (verbose)
				fprintf(stderr, "leaksnoop: this kernel has no tracepoint "
					"syscalls/%s: its descriptors are not seen\n", exits[i]);
			continue;
		}
		if (fd < 0)
			return fd;
		fd = tracer_attach_through_event(t, exit, fd);
		if (fd < 0)
			return fd;
		if (verbose)
			fprintf(stderr, "leaksnoop: tracepoint/syscalls/%s\n", exits[i]);
	}
	fd = perf_event_tracepoint("syscalls", "sys_enter_close");
	return fd < 0 ? fd : tracer_attach_through_event(t, close, fd);
}

int tracer_attach_fds(struct tracer *t, const struct tracer_config *cfg, uint32_t max_fds,
		      bool verbose)
{
	struct fds_bpf *skel = fds_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = cfg->tgid;
	skel->rodata->age_epoch_ns = cfg->age_epoch_ns;
	skel->rodata->age_clock_ticks = tracer_clock_ticks(cfg);
	bpf_map__set_max_entries(skel->maps.fds, max_fds);
	bpf_map__set_max_entries(skel->maps.fd_types, cfg->max_stacks);
	err = share_with_heap(t, skel->obj);
	if (!err)
		err = fds_bpf__load(skel);
	if (err) {
		fds_bpf__destroy(skel);
		return err;
	}
	t->fds = skel;
	err = tracer_attach_fd_calls(t, skel->progs.fd_sys_exit, skel->progs.fd_enter_close,
				     verbose);
	return err ? err : tracer_attach_kept(t, skel->progs.fd_exec);
}

int tracer_fd_types_fd(const struct tracer *t)
{
	return t->fds ? bpf_map__fd(t->fds->maps.fd_types) : -1;
}

int tracer_attach_growth(struct tracer *t, pid_t pid, bool verbose)
{
	struct growth_bpf *skel = growth_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = pid;
	skel->rodata->page_bytes = (__u64)sysconf(_SC_PAGESIZE);
	err = tracer_share_maps(t, skel->obj);
	if (!err)
		err = growth_bpf__load(skel);
	if (err) {
		growth_bpf__destroy(skel);
		return err;
	}
	t->growth = skel;
	err = tracer_attach_kept(t, skel->progs.user_write_fault);
	if (!err && verbose)
		fprintf(stderr, "leaksnoop: tracepoint/exceptions/page_fault_user (growth mode: "
			"write faults charged to the writing stack)\n");
	return err;
}
