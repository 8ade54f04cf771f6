// SPDX-License-Identifier: MIT
/* libFuzzer target: the ELF, DWARF and call frame readers on arbitrary (truncated, hostile) files. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "symbols/debuginfo.h"
#include "target/elf_module.h"
#include "attach/probe_point.h"
#include "collect/unwind_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "malloc", "free", NULL };
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	struct elf_module *mod;
	struct line_table *lines;
	struct unwind_table table;
	char path[64];

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (!elf_module_open(path, &mod)) {
		uint64_t offset, vaddr, file_offset;
		struct probe_choice choice;

		for (size_t i = 0; i < mod->symbol_count && i < 64; i++) {
			elf_module_lookup(mod, mod->symbols[i].addr + 1, &offset);
			if (!elf_module_vaddr_to_offset(mod, mod->symbols[i].addr, &file_offset))
				elf_module_offset_to_vaddr(mod, file_offset, &vaddr);
			probe_point_place(mod, mod->symbols[i].addr, PROBE_C_ARGS(2), &file_offset,
					  &choice);
		}
		elf_module_function_vaddr(mod, "malloc");
		elf_module_close(mod);
	}
	elf_file_defines(path, names);
	elf_file_object_vaddr(path, "runtime.allgs");
	lines = line_table_open(path);
	if (lines) {
		const char *file;
		int line;

		for (uint64_t a = 0; a < 0x2000; a += 0x101)
			line_table_lookup(lines, a, &file, &line);
		line_table_close(lines);
	}
	if (!unwind_table_build(path, &table)) {
		uint64_t bias;

		for (size_t i = 0; i < table.count; i++)
			unwind_table_find(table.rows, table.count, table.rows[i].pc + 1);
		unwind_table_bias(&table, 0x1000, 0, &bias);
		unwind_table_free(&table);
	}
out:
	close(fd);
	return 0;
}
