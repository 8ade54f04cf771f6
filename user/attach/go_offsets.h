/* SPDX-License-Identifier: MIT */
/*
 * Where a Go executable keeps what leaksnoop reads, found with or without
 * DWARF and .symtab: the toolchain release (.go.buildinfo), runtime.g's field
 * offsets (DWARF, else a table per release), and the runtime globals
 * (.symtab, else the instructions of the runtime functions that use them).
 */
#ifndef LS_GO_OFFSETS_H
#define LS_GO_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

struct elf_module;

/* Byte offsets of the runtime.g fields leaksnoop reads. */
struct go_g_layout {
	uint64_t goid, gopc, startpc;
	uint64_t status;     /* atomicstatus: uint32 */
	uint64_t waitreason; /* uint8 */
	uint64_t sched_sp, sched_pc, sched_bp; /* the saved registers of a parked g */
};

/* Link-time addresses of runtime globals; 0 where not found. */
struct go_globals {
	uint64_t allgs;          /* []*g */
	uint64_t mbuckets;       /* *bucket: the memory profile's list */
	uint64_t memprofilerate; /* int */
};

/*
 * The toolchain release the executable was built with ("go1.19.8"), from
 * .go.buildinfo (Go 1.13+).  Returns 0, or -ENOENT without one.
 */
int go_build_version(const struct elf_module *mod, char *buf, size_t size);

/* runtime.g's layout from the DWARF type; 0 or -ENODATA. */
int go_g_layout_from_dwarf(const struct elf_module *mod, struct go_g_layout *layout);

/* The table's layout for a release ("go1.19.8"); 0 or -ENOTSUP when not covered. */
int go_g_layout_for_version(const char *version, struct go_g_layout *layout);

/* The releases the table covers, for messages ("go1.19"). */
const char *go_g_layout_versions(void);

/* The runtime globals from .symtab where present, else from the runtime's code. */
void go_globals_find(const struct elf_module *mod, struct go_globals *globals);

/* The same from the code alone (what a stripped executable allows). */
void go_globals_from_code(const struct elf_module *mod, struct go_globals *globals);

#endif
