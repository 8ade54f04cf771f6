/* SPDX-License-Identifier: MIT */
/*
 * Allocators that appear after attach: a library dlopen'd, the image a
 * process execs, a container's own libc seen system-wide.  The BPF side tells
 * of a traced process that mapped a file executable for the first time (ring
 * buffer `new_mappings`); here its file mappings are listed as the kernel
 * holds them (iterator `list_file_vmas`), every file not judged yet is judged
 * once (does it define malloc and free?), and an allocator is handed to the
 * caller to probe.  Files are told apart by the inode under the mapping, as
 * the probes are: two containers of one image share their libc's probes.
 */
#ifndef LS_LATE_ALLOCATORS_H
#define LS_LATE_ALLOCATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "allocator.h"

struct late_allocators;
struct tracer;

/* Probe alloc for pid (system-wide: for every process).  0 or a negative errno. */
typedef int (*probe_allocator_fn)(void *arg, pid_t pid, const struct allocator *alloc);
/* pid mapped new code, and its files were judged. */
typedef void (*mapped_code_fn)(void *arg, pid_t pid);

/* One allocator probed after attach, and how long after its mapping. */
struct late_allocator {
	pid_t pid;             /* the process that mapped it first */
	char path[512];        /* as that process sees it */
	char name[32];         /* "jemalloc", "glibc", ... */
	double probed_after_ms; /* from its mmap to its probes attached */
};

/*
 * Reads t's `new_mappings` and lists with its iterator.  system_wide: a file
 * probed once serves every process; otherwise each process's files are its own.
 */
struct late_allocators *late_allocators_new(struct tracer *t, bool system_wide,
					    probe_allocator_fn probe, mapped_code_fn mapped,
					    void *arg, bool verbose);
void late_allocators_free(struct late_allocators *la);

/* The file at path is probed already for pid (0: for every traced process). */
void late_allocators_probed(struct late_allocators *la, pid_t pid, const char *path);

/*
 * Judge every executable file pid (0: every process) maps now: system-wide
 * at start, what runs already, a container's libc among it.  Returns how
 * many files were probed.
 */
unsigned late_allocators_scan(struct late_allocators *la, pid_t pid);

/* What pid maps at attach is its own business: judged, none probed (-p: its allocator is). */
void late_allocators_mapped_at_attach(struct late_allocators *la, pid_t pid);

/* For poll(): readable when mappings were told. */
int late_allocators_fd(const struct late_allocators *la);

/* Read what was told and judge the new files. */
void late_allocators_poll(struct late_allocators *la);

const struct late_allocator *late_allocators_list(const struct late_allocators *la,
						  size_t *count);

#endif
