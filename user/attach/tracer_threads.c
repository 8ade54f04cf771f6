// SPDX-License-Identifier: MIT
/*
 * The thread and goroutine probes: pthread_create/join/detach and the clone
 * and exit tracepoints; runtime.newproc, runtime.goexit1 and the Go
 * allocation sample.  Each is its own BPF object sharing the heap object's
 * stack maps (tracer_share_maps), loaded only when the run tracks them.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>

#include "go_runtime.h"
#include "goroutines.skel.h"
#include "heap.skel.h"
#include "thread_probes.h"
#include "threads.skel.h"
#include "tracer.h"
#include "tracer_links.h"

static struct bpf_program *thread_program(struct threads_bpf *skel, enum thread_handler h,
					  bool retprobe)
{
	switch (h) {
	case THREAD_CREATE: return retprobe ? skel->progs.create_exit : skel->progs.create_enter;
	case THREAD_DETACH: return retprobe ? NULL : skel->progs.detach_enter;
	case THREAD_JOIN: return retprobe ? skel->progs.join_exit : skel->progs.join_enter;
	}
	return NULL;
}

static int load_threads(struct tracer *t, pid_t pid)
{
	struct threads_bpf *skel = threads_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = pid;
	err = tracer_share_maps(t, skel->obj);
	/* The processes followed (forks, execs): their threads are tracked too. */
	if (!err)
		err = tracer_share_procs(t, skel->obj);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.thread_stacks,
					       bpf_map__max_entries(t->skel->maps.stack_traces));
	if (!err)
		err = threads_bpf__load(skel);
	if (err) {
		threads_bpf__destroy(skel);
		return err;
	}
	t->threads = skel;
	return 0;
}

int tracer_attach_thread_probes(struct tracer *t, pid_t pid, const struct thread_library *lib,
				bool verbose)
{
	int err;

	if (!t->threads)
		return -ENOENT;
	for (size_t i = 0; i < lib->probe_count; i++) {
		const struct thread_probe *p = &lib->probes[i];
		struct bpf_program *ret = thread_program(t->threads, p->handler, true);

		err = tracer_attach_uprobe(t, thread_program(t->threads, p->handler, false), pid, lib->path,
				 p->file_offset, false);
		if (!err && ret)
			err = tracer_attach_uprobe(t, ret, pid, lib->path, p->file_offset, true);
		if (err)
			return err;
		if (verbose)
			fprintf(stderr, "leaksnoop: %s%s at %s+0x%llx (threads)\n", p->name,
				ret ? " (entry and return)" : "", lib->shown_path,
				(unsigned long long)p->file_offset);
	}
	return 0;
}

int tracer_attach_threads(struct tracer *t, pid_t pid, const struct thread_library *lib,
			  bool verbose)
{
	struct bpf_program *tracepoints[3];
	int err = load_threads(t, pid);

	if (!err)
		err = tracer_attach_thread_probes(t, pid, lib, verbose);
	if (err)
		return err;
	tracepoints[0] = t->threads->progs.clone3_exit;
	tracepoints[1] = t->threads->progs.clone_exit_tp;
	tracepoints[2] = t->threads->progs.thread_exit;
	for (size_t i = 0; i < 3; i++) {
		err = tracer_attach_kept(t, tracepoints[i]);
		if (err)
			return err;
		if (verbose)
			fprintf(stderr, "leaksnoop: %s (threads)\n",
				bpf_program__section_name(tracepoints[i]));
	}
	return 0;
}

static int load_goroutines(struct tracer *t, const struct go_runtime *rt)
{
	struct goroutines_bpf *skel = goroutines_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->g_goid_offset = rt->g.goid;
	skel->rodata->g_gopc_offset = rt->g.gopc;
	skel->rodata->probes_on_stack_check = rt->probes_on_stack_check;
	if (rt->sample_bytes)
		skel->rodata->go_sample_bytes = rt->sample_bytes;
	err = tracer_share_maps(t, skel->obj);
	if (!err)
		err = goroutines_bpf__load(skel);
	if (err) {
		goroutines_bpf__destroy(skel);
		return err;
	}
	t->goroutines = skel;
	return 0;
}

int tracer_attach_goroutines(struct tracer *t, pid_t pid, const struct go_runtime *rt,
			     const uint64_t *goids, size_t goid_count, bool verbose)
{
	int fd, err = load_goroutines(t, rt);
	__u8 one = 1;

	if (err)
		return err;
	fd = bpf_map__fd(t->goroutines->maps.go_preexisting);
	for (size_t i = 0; i < goid_count; i++)
		bpf_map_update_elem(fd, &goids[i], &one, BPF_ANY);
	/* Entry probes only: a uretprobe would rewrite a return address on a goroutine
	 * stack, and Go moves its stacks. */
	err = tracer_attach_uprobe(t, t->goroutines->progs.newproc_enter, pid, rt->path, rt->newproc_offset,
			 false);
	if (!err)
		err = tracer_attach_uprobe(t, t->goroutines->progs.goexit1_enter, pid, rt->path,
				 rt->goexit1_offset, false);
	if (!err && rt->alloc_probe == GO_ALLOC_PROFILEALLOC)
		err = tracer_attach_uprobe(t, t->goroutines->progs.profilealloc_enter, pid, rt->path,
				 rt->profilealloc_offset, false);
	if (!err && rt->alloc_probe == GO_ALLOC_MALLOCGC)
		err = tracer_attach_uprobe(t, t->goroutines->progs.mallocgc_enter, pid, rt->path,
				 rt->mallocgc_offset, false);
	if (!err && verbose && rt->alloc_probe != GO_ALLOC_NONE)
		fprintf(stderr, "leaksnoop: Go allocations sampled every %llu bytes through %s\n",
			(unsigned long long)rt->sample_bytes,
			rt->alloc_probe == GO_ALLOC_MALLOCGC ? "runtime.mallocgc (--go-allocs)" :
							       "runtime.profilealloc (the runtime's own samples)");
	if (!err && verbose)
		fprintf(stderr, "leaksnoop: runtime.newproc at +0x%llx and runtime.goexit1 at +0x%llx "
			"(goroutines; %s runtime.g: goid at %llu, gopc at %llu, from %s; %s)\n",
			(unsigned long long)rt->newproc_offset, (unsigned long long)rt->goexit1_offset,
			rt->version[0] ? rt->version : "Go", (unsigned long long)rt->g.goid,
			(unsigned long long)rt->g.gopc,
			rt->g_from_dwarf ? "DWARF" : "the release's table",
			rt->probes_on_stack_check ? "on the stack checks' jumps" :
						    "at entry: g.stackguard0 read at each call");
	return err;
}
