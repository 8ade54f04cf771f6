// SPDX-License-Identifier: MIT
/*
 * Probes on the kernel's side: --kernel's kmem, percpu and vmalloc
 * tracepoints, and --growth's user page-fault tracepoint.  Each is its own
 * BPF object sharing the heap object's stack maps.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "growth.skel.h"
#include "heap.skel.h"
#include "kernel.skel.h"
#include "perf_events.h"
#include "tracer.h"
#include "tracer_links.h"

int tracer_attach_kernel(struct tracer *t, const struct tracer_config *cfg, bool verbose)
{
	struct kernel_bpf *skel = kernel_bpf__open();
	struct bpf_program *prog;
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = cfg->tgid;
	skel->rodata->self_tgid = (__u32)getpid();
	skel->rodata->page_bytes = (__u64)sysconf(_SC_PAGESIZE);
	skel->rodata->age_epoch_ns = cfg->age_epoch_ns;
	skel->rodata->age_clock_ticks = tracer_clock_ticks(cfg);
	bpf_map__set_max_entries(skel->maps.kernel_blocks, cfg->max_allocs);
	bpf_object__for_each_program(prog, skel->obj) {
		/* A tracepoint this kernel lacks (vmalloc's appeared in Linux 6.3, for one). */
		char category[64], name[64];

		if (tracepoint_of_section(bpf_program__section_name(prog), category, name) &&
		    tracepoint_id(category, name) == -ENOENT) {
			bpf_program__set_autoload(prog, false);
			if (verbose)
				fprintf(stderr, "leaksnoop: this kernel has no tracepoint %s/%s: "
					"not traced\n", category, name);
		}
	}
	err = tracer_share_maps(t, skel->obj);
	/* Children the target forks: their kernel allocations are theirs too. */
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.procs, bpf_map__fd(t->skel->maps.procs));
	if (!err)
		err = kernel_bpf__load(skel);
	if (err) {
		kernel_bpf__destroy(skel);
		return err;
	}
	t->kernel = skel;
	err = tracer_start_age_clock(t, cfg); /* with --growth, no heap probe has started it */
	if (err)
		return err;
	bpf_object__for_each_program(prog, skel->obj) {
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
