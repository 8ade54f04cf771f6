/* SPDX-License-Identifier: MIT */
/*
 * Which allocator a process (or a command about to run) uses, and each of
 * its functions' probe points.  Files are read, nothing is attached: the
 * tracer attaches what this finds.
 */
#ifndef LS_ALLOCATOR_H
#define LS_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Which BPF entry program handles a function (bpf/heap.bpf.c). */
enum alloc_handler {
	HANDLER_MALLOC,         /* size in arg 1 */
	HANDLER_CALLOC,
	HANDLER_MEMALIGN,       /* size in arg 2 */
	HANDLER_POSIX_MEMALIGN,
	HANDLER_REALLOC,
	HANDLER_REALLOCARRAY,
	HANDLER_FREE,
};

/* One function of the allocator, resolved to a probe point in its file. */
struct alloc_probe {
	const char *name;
	enum alloc_handler handler;
	bool has_return;       /* also a return probe (everything but free) */
	uint64_t vaddr;        /* function entry, link-time address */
	uint64_t file_offset;  /* where the probe goes (entry + delta) */
	uint64_t delta;
	const char *placement; /* why this point (for -v) */
	const char *alias_of;  /* same address as an earlier function: not attached again */
};

#define ALLOC_FUNCTION_COUNT 10

struct allocator {
	char path[4096];       /* file to attach to, as this process opens it */
	char shown_path[4096]; /* as the target sees it */
	char name[32];         /* "glibc", "jemalloc", "tcmalloc", "static", ... */
	struct alloc_probe probes[ALLOC_FUNCTION_COUNT];
	size_t probe_count;
};

/*
 * Find the module providing malloc to a running process: the executable if it
 * defines malloc itself (static, or its own allocator), else a mapped
 * jemalloc/tcmalloc/mimalloc, else libc.  obj_path (-O) overrides.
 */
int allocator_find_for_pid(pid_t pid, const char *obj_path, struct allocator *out);

/* The same, before exec, for the executable of a command to be started. */
int allocator_find_for_exe(const char *exe_path, const char *obj_path, struct allocator *out);

struct mapping;

/*
 * The file pid maps at m, when it defines malloc and free, resolved (is_exe:
 * it is the process's executable).  -ENOENT for any other file.
 */
int allocator_from_mapping(pid_t pid, const struct mapping *m, bool is_exe,
			   struct allocator *out);

/* Resolve every family function of the chosen file to a probe point. */
int allocator_resolve(struct allocator *alloc);

#endif
