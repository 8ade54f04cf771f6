// SPDX-License-Identifier: MIT
/*
 * The processes traced besides the target, on the BPF side: the fork and
 * exec tracepoints that number them (map `proc_table`), another -p
 * entered by hand, and the watch on executable mappings.  Attaching probes to each new child is procs.c's.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>

#include "heap.skel.h"
#include "leaksnoop.h"
#include "tracer.h"
#include "tracer_links.h"

int tracer_follow_processes(struct tracer *t, bool verbose)
{
	struct bpf_program *progs[] = { t->skel->progs.follow_fork, t->skel->progs.follow_exec };

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		int err = tracer_attach_kept(t, progs[i]);

		if (err)
			return err;
	}
	if (verbose)
		fprintf(stderr, "leaksnoop: sched_process_fork, sched_process_exec (children and "
			"new images followed)\n");
	return 0;
}

int tracer_watch_mappings(struct tracer *t, bool verbose)
{
	int err = tracer_attach_kept(t, t->skel->progs.watch_exec_mmap_done);

	/* The exit first: an mmap told at its entry is always told at its exit. */
	if (!err)
		err = tracer_attach_kept(t, t->skel->progs.watch_exec_mmap);
	if (err)
		return err;
	/* The exec tracepoint (tracer_follow_processes) tells of each new image from now on. */
	t->skel->bss->watch_mappings = 1;
	if (verbose)
		fprintf(stderr, "leaksnoop: sys_enter_mmap, sched_process_exec (allocators mapped "
			"after attach)\n");
	return 0;
}

int tracer_open_vma_iter(struct tracer *t, pid_t pid)
{
	union bpf_iter_link_info info = { .task.pid = (__u32)pid };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	struct bpf_link *link;
	int fd;

	if (pid) {
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	link = bpf_program__attach_iter(t->skel->progs.list_file_vmas, &opts);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		fd = -errno;
	bpf_link__destroy(link); /* the iterator holds the program */
	return fd;
}

int tracer_add_process(struct tracer *t, pid_t tgid)
{
	__u32 zero = 0, index = 0, key = (__u32)tgid;
	struct proc_entry entry = { .tgid = (__u32)tgid, .origin = LS_PROC_GIVEN };

	if (bpf_map__lookup_elem(t->skel->maps.procs_used, &zero, sizeof(zero), &index,
				 sizeof(index), 0))
		return -errno;
	if (index >= LS_MAX_PROCS)
		return -ENOSPC;
	if (bpf_map__update_elem(t->skel->maps.proc_table, &index, sizeof(index), &entry,
				 sizeof(entry), BPF_ANY) ||
	    bpf_map__update_elem(t->skel->maps.procs, &key, sizeof(key), &index, sizeof(index),
				 BPF_ANY))
		return -errno;
	index++;
	if (bpf_map__update_elem(t->skel->maps.procs_used, &zero, sizeof(zero), &index,
				 sizeof(index), BPF_ANY))
		return -errno;
	/* From now on the probes read each call's TGID. */
	t->skel->bss->procs_followed = 1;
	return 0;
}
