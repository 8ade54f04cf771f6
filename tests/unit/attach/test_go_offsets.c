// SPDX-License-Identifier: MIT
/*
 * Finding the Go runtime's structures (user/attach/go_offsets.c) in a Go
 * program the build makes (tests/progs/goleak), built as is and stripped of
 * .symtab and DWARF: the release from .go.buildinfo, the table's runtime.g
 * layout equal to the DWARF's, the globals the code names equal to the
 * symbol table's, and the stripped build's answers equal to the full one's.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "attach/go_offsets.h"
#include "target/elf_module.h"

#define FULL "build/fixtures/go_fixture"
#define STRIPPED "build/fixtures/go_fixture_stripped"

static struct elf_module *open_module(const char *path)
{
	struct elf_module *mod = NULL;

	cr_assert_eq(elf_module_open(path, &mod), 0, "%s", path);
	return mod;
}

Test(go_offsets, the_release_comes_from_go_buildinfo_in_both_builds)
{
	struct elf_module *full = open_module(FULL), *stripped = open_module(STRIPPED);
	char a[32], b[32];

	cr_assert_eq(go_build_version(full, a, sizeof(a)), 0);
	cr_assert_eq(go_build_version(stripped, b, sizeof(b)), 0);
	cr_assert_str_eq(a, b);
	cr_assert(!strncmp(a, "go1.", 4), "%s", a);
	cr_assert_eq(go_build_version(full, a, 4), -ENOENT, "too small a buffer is refused");
	elf_module_close(full);
	elf_module_close(stripped);
}

Test(go_offsets, the_table_layout_equals_the_dwarf_layout)
{
	struct elf_module *full = open_module(FULL), *stripped = open_module(STRIPPED);
	struct go_g_layout dwarf, table;
	char version[32];

	cr_assert_eq(go_build_version(full, version, sizeof(version)), 0);
	cr_assert_eq(go_g_layout_from_dwarf(full, &dwarf), 0);
	cr_assert_eq(go_g_layout_from_dwarf(stripped, &table), -ENODATA);
	cr_assert_eq(go_g_layout_for_version(version, &table), 0,
		     "%s is not in the table (%s)", version, go_g_layout_versions());
	cr_assert_eq(table.goid, dwarf.goid);
	cr_assert_eq(table.gopc, dwarf.gopc);
	cr_assert_eq(table.startpc, dwarf.startpc);
	cr_assert_eq(table.status, dwarf.status);
	cr_assert_eq(table.waitreason, dwarf.waitreason);
	cr_assert_eq(table.sched_sp, dwarf.sched_sp);
	cr_assert_eq(table.sched_pc, dwarf.sched_pc);
	cr_assert_eq(table.sched_bp, dwarf.sched_bp);
	elf_module_close(full);
	elf_module_close(stripped);
}

Test(go_offsets, a_release_out_of_the_table_is_refused)
{
	struct go_g_layout layout;

	cr_assert_eq(go_g_layout_for_version("go1.7.1", &layout), -ENOTSUP);
	cr_assert_eq(go_g_layout_for_version("go1.190", &layout), -ENOTSUP);
	cr_assert_eq(go_g_layout_for_version("", &layout), -ENOTSUP);
	cr_assert_eq(go_g_layout_for_version("go1.19", &layout), 0);
}

/* Data follows text in a Go executable's layout. */
static uint64_t newproc_of(const struct elf_module *mod)
{
	return elf_module_function_vaddr(mod, "runtime.newproc");
}

Test(go_offsets, globals_from_the_code_equal_the_symbol_table)
{
	struct elf_module *full = open_module(FULL), *stripped = open_module(STRIPPED);
	struct go_globals code, symtab, bare;

	go_globals_from_code(full, &code);
	cr_assert(full->has_symtab);
	symtab.allgs = elf_file_object_vaddr(FULL, "runtime.allgs");
	symtab.mbuckets = elf_file_object_vaddr(FULL, "runtime.mbuckets");
	symtab.memprofilerate = elf_file_object_vaddr(FULL, "runtime.MemProfileRate");
	cr_assert(symtab.allgs && symtab.mbuckets && symtab.memprofilerate);
	cr_assert_eq(code.allgs, symtab.allgs, "%#lx %#lx", code.allgs, symtab.allgs);
	cr_assert_eq(code.mbuckets, symtab.mbuckets);
	cr_assert_eq(code.memprofilerate, symtab.memprofilerate);
	/*
	 * The stripped build links its data elsewhere: three distinct words of
	 * a data segment past the code, from the code alone (the integration tests read
	 * them live: tests/integration/test_goroutines.py, test_go_heap.py).
	 */
	cr_assert(!stripped->has_symtab);
	go_globals_find(stripped, &bare);
	cr_assert(bare.allgs && bare.mbuckets && bare.memprofilerate);
	cr_assert(bare.allgs != bare.mbuckets && bare.mbuckets != bare.memprofilerate);
	for (size_t i = 0; i < 3; i++) {
		uint64_t at = i == 0 ? bare.allgs : i == 1 ? bare.mbuckets : bare.memprofilerate;
		bool in_data = false;

		for (size_t s = 0; s < stripped->segment_count; s++)
			in_data |= !stripped->segments[s].executable &&
				    at >= stripped->segments[s].vaddr &&
				    at + 8 <= stripped->segments[s].vaddr +
						      stripped->segments[s].memsz &&
				    stripped->segments[s].vaddr > newproc_of(stripped);
		cr_assert(in_data, "%#lx", (unsigned long)at);
	}
	elf_module_close(full);
	elf_module_close(stripped);
}

Test(go_offsets, a_stripped_module_names_go_functions_from_its_pclntab)
{
	struct elf_module *stripped = open_module(STRIPPED);
	const struct elf_symbol *sym;
	uint64_t newproc = elf_module_function_vaddr(stripped, "runtime.newproc"), offset;

	cr_assert(newproc);
	cr_assert(elf_module_function_vaddr(stripped, "main.leakOnChannel"));
	sym = elf_module_lookup(stripped, newproc + 3, &offset);
	cr_assert(sym && !strcmp(sym->name, "runtime.newproc") && offset == 3);
	cr_assert(elf_module_has_frame_pointers(stripped));
	elf_module_close(stripped);
}
