// SPDX-License-Identifier: MIT
/*
 * The heap probes: the allocator's entry and return uprobes (as many files
 * and processes as are traced), the empty floor probes of --floor, and the
 * anonymous mmap/munmap/mremap tracepoints.  Loading is tracer.c's.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "floor.skel.h"
#include "heap.skel.h"
#include "tracer.h"
#include "tracer_links.h"

static struct bpf_program *entry_program(struct heap_bpf *skel, enum alloc_handler handler)
{
	switch (handler) {
	case HANDLER_MALLOC: return skel->progs.malloc_enter;
	case HANDLER_CALLOC: return skel->progs.calloc_enter;
	case HANDLER_MEMALIGN: return skel->progs.memalign_enter;
	case HANDLER_POSIX_MEMALIGN: return skel->progs.posix_memalign_enter;
	case HANDLER_REALLOC: return skel->progs.realloc_enter;
	case HANDLER_REALLOCARRAY: return skel->progs.reallocarray_enter;
	case HANDLER_FREE: return skel->progs.free_enter;
	}
	return NULL;
}

int tracer_attach_allocator(struct tracer *t, pid_t pid, const struct allocator *alloc,
			    bool verbose)
{
	for (size_t i = 0; i < alloc->probe_count; i++) {
		const struct alloc_probe *p = &alloc->probes[i];
		int err;

		if (p->alias_of) {
			if (verbose)
				fprintf(stderr, "leaksnoop: %s is %s (same address), probed once\n",
					p->name, p->alias_of);
			continue;
		}
		err = tracer_attach_uprobe(t, entry_program(t->skel, p->handler), pid, alloc->path,
				 p->file_offset, false);
		/* The return probe shares the entry's point: one trap serves both. */
		if (!err && p->has_return)
			err = tracer_attach_uprobe(t, t->skel->progs.alloc_exit, pid, alloc->path,
					 p->file_offset, true);
		if (err) {
			fprintf(stderr, "leaksnoop: cannot attach to %s in %s: %s\n", p->name,
				alloc->shown_path, strerror(-err));
			return err;
		}
		if (verbose)
			fprintf(stderr, "leaksnoop: %s%s at %s+0x%llx (entry+%llu: %s)\n", p->name,
				p->has_return ? " (entry and return)" : "", alloc->shown_path,
				(unsigned long long)p->file_offset, (unsigned long long)p->delta,
				p->placement);
	}
	return 0;
}

int tracer_attach_floor(struct tracer *t, pid_t pid, const struct allocator *alloc,
			enum floor_mode mode)
{
	memset(t, 0, sizeof(*t));
	t->floor = floor_bpf__open_and_load();
	if (!t->floor)
		return -errno;
	if (mode == FLOOR_FDS)
		return tracer_attach_fd_calls(t, t->floor->progs.floor_syscall,
					      t->floor->progs.floor_syscall, false);
	for (size_t i = 0; i < alloc->probe_count; i++) {
		const struct alloc_probe *p = &alloc->probes[i];
		uint64_t offset = p->file_offset - (mode == FLOOR_ENTRY ? p->delta : 0);
		int err;

		if (p->alias_of)
			continue;
		err = tracer_attach_uprobe(t, t->floor->progs.floor_entry, pid, alloc->path, offset, false);
		if (!err && p->has_return)
			err = tracer_attach_uprobe(t, t->floor->progs.floor_exit, pid, alloc->path, offset, true);
		if (err)
			return err;
	}
	return 0;
}

int tracer_attach_mmap(struct tracer *t, bool verbose)
{
	struct bpf_program *progs[] = {
		t->skel->progs.mmap_enter, t->skel->progs.mmap_exit, t->skel->progs.munmap_enter,
		t->skel->progs.mremap_enter, t->skel->progs.mremap_exit,
	};

	for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++) {
		int err = tracer_attach_kept(t, progs[i]);

		if (err) {
			fprintf(stderr, "leaksnoop: cannot attach tracepoint %s: %s\n",
				bpf_program__section_name(progs[i]), strerror(-err));
			return err;
		}
		if (verbose)
			fprintf(stderr, "leaksnoop: %s (anonymous regions as kind mmap)\n",
				bpf_program__section_name(progs[i]));
	}
	return 0;
}
