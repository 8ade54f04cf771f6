/* SPDX-License-Identifier: MIT */
/*
 * What the goroutine probes need from a Go executable: the runtime functions'
 * probe points, runtime.g's layout, and runtime globals read from the live
 * process.  Nothing is attached here.
 */
#ifndef LS_GO_RUNTIME_H
#define LS_GO_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "go_offsets.h"

/* How Go allocations are sampled, if at all. */
enum go_alloc_probe {
	GO_ALLOC_NONE,
	GO_ALLOC_PROFILEALLOC, /* the runtime's own samples: cheap, needs MemProfileRate > 0 */
	GO_ALLOC_MALLOCGC,     /* --go-allocs: every allocation traps, one per N bytes kept */
};

/* What the goroutine probes need to know about one Go executable. */
struct go_runtime {
	char path[4096];          /* the executable, as this process opens it */
	bool pie;                 /* ET_DYN: loaded at a base chosen at exec */
	uint64_t newproc_offset;  /* file offsets of the probed functions */
	uint64_t goexit1_offset;
	uint64_t profilealloc_offset; /* 0 when absent */
	uint64_t mallocgc_offset;
	bool probes_on_stack_check; /* each probe on the jbe of its stack-bound check */
	char version[32];         /* "go1.19.8", "" when .go.buildinfo is missing */
	struct go_g_layout g;     /* runtime.g's offsets: DWARF, else the release's table */
	bool g_from_dwarf;
	struct go_globals globals; /* link-time addresses; 0 where not found */
	struct go_wait_reasons reasons; /* owned: go_wait_reasons_free at the end */
	enum go_alloc_probe alloc_probe; /* chosen by the caller */
	uint64_t sample_bytes;
};

/* True when the ELF file is a Go executable (it has runtime.newproc). */
bool go_is_binary(const char *path);

/*
 * Resolve the probe points and runtime.g's layout.  Returns 0, -ENOENT when
 * the runtime functions are missing, or -ENOTSUP when neither DWARF nor the
 * table covers runtime.g for rt->version.
 */
int go_runtime_resolve(const char *path, struct go_runtime *rt);

/* The runtime's MemProfileRate in pid (0: memory profiling off), or -errno. */
long go_read_memprofilerate(pid_t pid, const struct go_runtime *rt);

/* Load bias of the executable in pid: 0 for ET_EXEC, the PIE's base otherwise. */
uint64_t go_exe_bias(pid_t pid, const struct go_runtime *rt);

#endif
