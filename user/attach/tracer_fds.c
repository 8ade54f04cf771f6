// SPDX-License-Identifier: MIT
/*
 * --fds: the descriptor tracepoints (bpf/fds.bpf.c), their own BPF object
 * sharing the heap object's stack maps and its table of followed processes,
 * so that a descriptor's stack is kind LS_KIND_FD beside the heap's.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>

#include "fds.skel.h"
#include "heap.skel.h"
#include "perf_events.h"
#include "tracer.h"
#include "tracer_links.h"

/* Programs on system calls this kernel does not have (openat2 before 5.6, ...): not loaded. */
static void skip_missing(struct fds_bpf *skel, bool verbose)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		char category[64], name[64];

		if (tracepoint_of_section(bpf_program__section_name(prog), category, name) &&
		    tracepoint_id(category, name) == -ENOENT) {
			bpf_program__set_autoload(prog, false);
			if (verbose)
				fprintf(stderr, "leaksnoop: this kernel has no tracepoint %s/%s: its "
					"descriptors are not seen\n", category, name);
		}
	}
}

int tracer_attach_fds(struct tracer *t, const struct tracer_config *cfg, uint32_t max_fds,
		      bool verbose)
{
	struct fds_bpf *skel = fds_bpf__open();
	struct bpf_program *prog;
	unsigned attached = 0;
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = cfg->tgid;
	skel->rodata->age_epoch_ns = cfg->age_epoch_ns;
	skel->rodata->age_clock_ticks = tracer_clock_ticks(cfg);
	bpf_map__set_max_entries(skel->maps.fds, max_fds);
	bpf_map__set_max_entries(skel->maps.fd_types, cfg->max_stacks);
	skip_missing(skel, verbose);
	err = tracer_share_maps(t, skel->obj);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.procs, bpf_map__fd(t->skel->maps.procs));
	if (!err)
		err = fds_bpf__load(skel);
	if (err) {
		fds_bpf__destroy(skel);
		return err;
	}
	t->fds = skel;
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		err = tracer_attach_kept(t, prog);
		if (err)
			return err;
		attached++;
	}
	if (verbose)
		fprintf(stderr, "leaksnoop: %u system call tracepoints (descriptors opened and "
			"closed)\n", attached);
	return 0;
}

int tracer_fd_types_fd(const struct tracer *t)
{
	return t->fds ? bpf_map__fd(t->fds->maps.fd_types) : -1;
}
