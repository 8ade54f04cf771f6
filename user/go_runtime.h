/* SPDX-License-Identifier: MIT */
#ifndef LS_GO_RUNTIME_H
#define LS_GO_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the goroutine probes need to know about one Go executable. */
struct go_runtime {
	char path[4096];          /* the executable, as this process opens it */
	uint64_t newproc_offset;  /* file offsets of the probed functions */
	uint64_t goexit1_offset;
	uint64_t goid_offset;     /* in runtime.g, from DWARF */
	uint64_t gopc_offset;
	uint64_t status_offset;   /* runtime.g.atomicstatus */
	uint64_t allgs_vaddr;     /* link-time address of runtime.allgs, 0 if absent */
};

/* True when the ELF file is a Go executable (it has runtime.newproc). */
bool go_is_binary(const char *path);

/*
 * Resolve the probe points and runtime.g's layout.  Returns 0, -ENOENT when
 * the runtime functions are missing (stripped), or -ENODATA without DWARF for
 * runtime.g (built with -ldflags=-w).
 */
int go_runtime_resolve(const char *path, struct go_runtime *rt);

/*
 * Read the goroutine ids alive in process pid now, from runtime.allgs through
 * /proc/PID/mem.  Returns how many were stored in ids (at most max), or -errno.
 */
int go_read_live_goids(pid_t pid, const struct go_runtime *rt, uint64_t *ids, size_t max);

#endif
