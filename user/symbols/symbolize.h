/* SPDX-License-Identifier: MIT */
/*
 * Naming addresses: a symbolizer per address space turns return addresses
 * into function, module, file and line.  It reads files and /proc; it never
 * reads a BPF map.
 */
#ifndef LS_SYMBOLIZE_H
#define LS_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "leaksnoop.h"
#include "target/procmaps.h"

/* One resolved frame; strings are owned by the symbolizer and live as long as it. */
struct frame {
	uint64_t addr;
	const char *symbol; /* demangled; NULL when unknown */
	uint64_t offset;    /* from the symbol's start, or from the module's start when unknown */
	const char *module; /* path as the target sees it; NULL when not in any file mapping */
	const char *file;   /* NULL without DWARF */
	int line;
	/* The mapping that holds addr (for pprof's mapping table); 0 when none. */
	uint64_t map_start, map_end, map_file_offset;
	const char *build_id; /* hex, or NULL */
	int frame_pointers;   /* the module keeps them: 1, does not: 0, unknown: -1 */
};

struct symbolizer;

/* A symbolizer for the address space of pid (opened through /proc/PID/root). */
struct symbolizer *symbolizer_new(pid_t pid);
void symbolizer_free(struct symbolizer *sym);

/*
 * Re-read the target's mappings and load modules not seen yet.  When the
 * target has gone, or is exiting with its address space torn down (no
 * mappings: -ESRCH), the last mappings and every loaded module stay usable,
 * so a final report after exit is still symbolized.  Returns 0 or -errno.
 */
int symbolizer_refresh(struct symbolizer *sym);

/* Use this list of mappings (for tests); the symbolizer takes ownership. */
void symbolizer_set_mappings(struct symbolizer *sym, struct mapping_list *list, const char *root);

/*
 * Resolve one address.  Stack frames are return addresses, so the symbol and
 * line are those of addr - 1 (the call), while frame->offset is that of addr.
 */
void symbolize_address(struct symbolizer *sym, uint64_t addr, bool return_address,
		       struct frame *frame);

/*
 * A stored stack's return addresses into frames (room for LS_MAX_STACK_DEPTH),
 * up to the first zero; returns how many.  trace may be NULL (none stored).
 */
size_t symbolize_stack(struct symbolizer *sym, const struct stack_trace *trace,
		       struct frame *frames);

/*
 * Stack quality.  A frame-pointer walk is complete when it reaches a thread's
 * root (_start, start_thread, runtime.goexit...).  A frame inside a module
 * built without frame pointers means the frames past it may be missing or
 * wrong: its first such module (frame 0 excepted: the allocation site is
 * always right) is returned, or NULL.
 */
bool stack_reaches_root(const struct frame *frames, size_t depth);
const char *stack_module_without_fp(const struct frame *frames, size_t depth);

/* Demangle a C++ name into buf; returns buf, or name itself when not mangled. */
const char *demangle(const char *name, char *buf, size_t size);

#endif
