/* SPDX-License-Identifier: MIT */
/*
 * Separate debug info and DWARF line tables for the symbolizer.
 */
#ifndef LS_DEBUGINFO_H
#define LS_DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

struct elf_module;

/*
 * Find the separate debug file of a module: by build id under
 * /usr/lib/debug/.build-id/, then by .gnu_debuglink next to the file, in its
 * .debug/ directory and under /usr/lib/debug/.  Each is looked for inside
 * `root` (the target's /proc/PID/root) first, then on the host.  `orig_path`
 * is the module's path as the target sees it.  Returns 0 and the path in buf.
 */
int debuginfo_find(const struct elf_module *mod, const char *root, const char *orig_path,
		   char *buf, size_t size);

/* File:line from DWARF for one ELF file. */
struct line_table;

/* Open the DWARF of path; NULL if it has none. */
struct line_table *line_table_open(const char *path);
void line_table_close(struct line_table *table);

/* Source file (base name kept as in DWARF) and line of vaddr; 0 or -ENOENT. */
int line_table_lookup(struct line_table *table, uint64_t vaddr, const char **file, int *line);

#endif
