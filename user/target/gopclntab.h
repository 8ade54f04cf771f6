/* SPDX-License-Identifier: MIT */
/*
 * A Go executable's `.gopclntab`, the table the runtime itself uses for
 * tracebacks: every function's entry, name and pc-to-file:line tables.  It is
 * there even in binaries stripped of `.symtab` and DWARF (`-ldflags=-s -w`),
 * so it names Go frames whatever was stripped.  The formats of Go 1.16
 * (magic 0xfffffffa), 1.18 (0xfffffff0) and 1.20+ (0xfffffff1) are read.
 * Pure parsing of a buffer: nothing here opens a file.
 */
#ifndef LS_GOPCLNTAB_H
#define LS_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gopclntab;

/* What the table says of one pc. */
struct go_pc_info {
	const char *function; /* in the table's buffer */
	uint64_t entry;       /* the function's first instruction */
	const char *file;     /* NULL when the table has no file for this pc */
	int line;             /* 0 when unknown */
};

/*
 * A reader over data[0..size), the section's bytes, which must outlive it.
 * NULL when it is no pclntab of a known version (*version_magic says which
 * magic it had, 0 when too short).
 */
struct gopclntab *gopclntab_open(const uint8_t *data, size_t size, uint32_t *version_magic);
void gopclntab_free(struct gopclntab *t);

/*
 * In a position-independent executable the header's text start is 0 in the
 * file (a relocation fills it in at load): the start of .text stands for it.
 */
void gopclntab_set_text_start_if_unset(struct gopclntab *t, uint64_t text_start);

/* The function holding pc, with file:line; false when pc is in none. */
bool gopclntab_lookup(const struct gopclntab *t, uint64_t pc, struct go_pc_info *info);

/* Functions in the table, and the entry of the i-th (sorted by entry). */
size_t gopclntab_count(const struct gopclntab *t);
uint64_t gopclntab_entry(const struct gopclntab *t, size_t i);

#endif
