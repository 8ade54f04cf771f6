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
	uint64_t wait_reason_strings; /* [...]string: runtime.waitReasonStrings, .symtab only */
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

/*
 * A goroutine's state as the runtime's tracebacks and goroutine profiles
 * print it: the wait reason of a waiting one ("chan receive", "select",
 * "IO wait", ...), else its status ("runnable", "running", "syscall").
 */
#define GO_STATUS_DEAD 6     /* runtime._Gdead: a free g, not a goroutine */
#define GO_STATUS_WAITING 4  /* runtime._Gwaiting: waitreason says why */
#define GO_STATUS_SCAN 0x1000 /* the GC's bit over any status */
#define GO_MAX_WAIT_REASONS 64

/* The release's wait reason names (read from the executable where it can). */
struct go_wait_reasons {
	const char *name[GO_MAX_WAIT_REASONS]; /* NULL where unknown */
	char *owned;                           /* the names read from the file */
};

void go_wait_reasons_find(const struct elf_module *mod, const char *version,
			  struct go_wait_reasons *reasons);
void go_wait_reasons_free(struct go_wait_reasons *reasons);

/* The state's name for a status (scan bit cleared) and wait reason; NULL for a reason unnamed. */
const char *go_state_name(const struct go_wait_reasons *reasons, uint32_t status,
			  unsigned reason);

/* The runtime globals from .symtab where present, else from the runtime's code. */
void go_globals_find(const struct elf_module *mod, struct go_globals *globals);

/* The same from the code alone (what a stripped executable allows). */
void go_globals_from_code(const struct elf_module *mod, struct go_globals *globals);

#endif
