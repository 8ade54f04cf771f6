/* SPDX-License-Identifier: MIT */
/*
 * One ELF file's call frame information as rows for the BPF unwinder.
 */
#ifndef LS_UNWIND_TABLE_H
#define LS_UNWIND_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "leaksnoop.h"

/*
 * One module's call frame information as rows for the BPF unwinder
 * (include/leaksnoop.h, --unwind dwarf): sorted by pc, a row holding from its
 * pc to the next one's, neighbours with the same rules merged, and a
 * LS_CFA_UNKNOWN row wherever no FDE covers the code.
 */
#define UNWIND_MAX_SEGMENTS 8

struct unwind_table {
	struct unwind_row *rows;
	size_t count;
	struct {
		uint64_t vaddr, offset, filesz;
	} segments[UNWIND_MAX_SEGMENTS]; /* the executable PT_LOADs */
	size_t segment_count;
};

/*
 * Rows from the .eh_frame of the ELF file at path: its FDEs found through
 * the .eh_frame_hdr index (PT_GNU_EH_FRAME), else read from the section.
 * Returns 0, -ENOENT when the file has neither, -ENOTSUP for an index
 * encoded unusually, or -errno.
 */
int unwind_table_build(const char *path, struct unwind_table *out);
void unwind_table_free(struct unwind_table *table);

/*
 * Runtime minus link-time address for a mapping of the file's executable
 * segment at map_start (file offset map_offset); -ENOENT when none holds it.
 */
int unwind_table_bias(const struct unwind_table *table, uint64_t map_start, uint64_t map_offset,
		      uint64_t *bias);

/* The row that holds at pc, or NULL: the search the BPF unwinder does. */
const struct unwind_row *unwind_table_find(const struct unwind_row *rows, size_t count,
					   uint64_t pc);

#endif
