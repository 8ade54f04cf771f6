// SPDX-License-Identifier: MIT
/* The symbolizer against live fixture processes built by `make unit`. */
#include <criterion/criterion.h>
#include <string.h>

#include "target/elf_module.h"
#include "fixture_run.h"
#include "symbols/symbolize.h"

#define FIXTURES "build/fixtures/"

static void resolve(const char *program, int index, uint64_t delta, struct frame *out,
		    struct symbolizer **keep)
{
	struct fixture f;

	cr_assert_eq(fixture_start(program, &f), 0, "cannot start %s", program);
	cr_assert_gt(f.count, index);
	*keep = symbolizer_new(f.pid);
	cr_assert_eq(symbolizer_refresh(*keep), 0);
	symbolize_address(*keep, f.addrs[index] + delta, false, out);
	fixture_stop(&f);
}

static int line_of(const char *path, const char *needle)
{
	char line[512];
	int number = 0;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		number++;
		if (strstr(line, needle)) {
			fclose(f);
			return number;
		}
	}
	fclose(f);
	return -1;
}

Test(symbolize, pie_global_function_with_offset_file_and_line)
{
	struct symbolizer *sym;
	struct frame fr;

	resolve(FIXTURES "fixture_pie", 0, 4, &fr, &sym);
	cr_assert_str_eq(fr.symbol, "fixture_global_function");
	cr_assert_eq(fr.offset, 4);
	cr_assert(strstr(fr.module, "fixture_pie"));
	cr_assert_not_null(fr.file);
	cr_assert(strstr(fr.file, "fixture.c"), "file %s", fr.file);
	/* Inside the function: from its signature to its closing brace. */
	cr_assert_geq(fr.line, line_of("tests/unit/fixtures/fixture.c", "fixture_global_function(int x)"));
	cr_assert_leq(fr.line, line_of("tests/unit/fixtures/fixture.c", "return x * 3 + 1;") + 1);
	symbolizer_free(sym);
}

Test(symbolize, non_pie_executable_uses_link_addresses)
{
	struct symbolizer *sym;
	struct frame fr;

	resolve(FIXTURES "fixture_nopie", 1, 0, &fr, &sym);
	cr_assert_str_eq(fr.symbol, "fixture_static_function");
	cr_assert_eq(fr.offset, 0);
	symbolizer_free(sym);
}

Test(symbolize, shared_library_load_bias)
{
	struct symbolizer *sym;
	struct frame fr;

	resolve(FIXTURES "fixture_pie", 2, 2, &fr, &sym);
	cr_assert_str_eq(fr.symbol, "fixture_lib_function");
	cr_assert_eq(fr.offset, 2);
	cr_assert(strstr(fr.module, "libfixture.so"), "module %s", fr.module);
	symbolizer_free(sym);
}

Test(symbolize, stripped_binary_uses_separate_debug_info)
{
	struct symbolizer *sym;
	struct frame fr;
	struct elf_module *mod;

	/* The stripped file alone does not know the static function... */
	cr_assert_eq(elf_module_open(FIXTURES "fixture_stripped", &mod), 0);
	cr_assert_not(mod->has_symtab);
	cr_assert_str_eq(mod->debuglink, "fixture_stripped.debug");
	elf_module_close(mod);
	/* ...its .debug/ file does, with lines. */
	resolve(FIXTURES "fixture_stripped", 1, 0, &fr, &sym);
	cr_assert_str_eq(fr.symbol, "fixture_static_function");
	cr_assert_not_null(fr.file);
	cr_assert(strstr(fr.file, "fixture.c"));
	symbolizer_free(sym);
}

Test(symbolize, cxx_names_are_demangled)
{
	struct symbolizer *sym;
	struct frame fr;

	resolve(FIXTURES "fixture_cxx", 0, 1, &fr, &sym);
	cr_assert_str_eq(fr.symbol, "inventory::Shelf::restock(int)");
	cr_assert_eq(fr.offset, 1);
	symbolizer_free(sym);
}

Test(symbolize, return_address_resolves_to_the_call)
{
	struct symbolizer *sym;
	struct frame fr;
	struct fixture f;
	struct elf_module *mod;
	const struct elf_symbol *s;
	uint64_t off;

	/* The address just past a function's end is the return address of a call at its end. */
	cr_assert_eq(elf_module_open(FIXTURES "fixture_nopie", &mod), 0);
	s = elf_module_lookup(mod, elf_module_function_vaddr(mod, "fixture_global_function"), &off);
	cr_assert_not_null(s);
	cr_assert_eq(fixture_start(FIXTURES "fixture_nopie", &f), 0);
	sym = symbolizer_new(f.pid);
	cr_assert_eq(symbolizer_refresh(sym), 0);
	symbolize_address(sym, s->addr + s->size, true, &fr);
	cr_assert_str_eq(fr.symbol, "fixture_global_function");
	cr_assert_eq(fr.offset, s->size);
	fixture_stop(&f);
	symbolizer_free(sym);
	elf_module_close(mod);
}

Test(symbolize, unknown_addresses_print_module_and_offset_not_garbage)
{
	struct symbolizer *sym;
	struct frame fr;

	resolve(FIXTURES "fixture_pie", 0, 0, &fr, &sym);
	symbolize_address(sym, 0x10, true, &fr);
	cr_assert_null(fr.symbol);
	cr_assert_null(fr.module);
	cr_assert_eq(fr.addr, 0x10);
	symbolizer_free(sym);
}

Test(symbolize, symbols_survive_the_target_exit)
{
	struct symbolizer *sym;
	struct frame fr;
	struct fixture f;

	cr_assert_eq(fixture_start(FIXTURES "fixture_pie", &f), 0);
	sym = symbolizer_new(f.pid);
	cr_assert_eq(symbolizer_refresh(sym), 0);
	fixture_stop(&f);
	cr_assert_neq(symbolizer_refresh(sym), 0); /* gone: the old mappings are kept */
	symbolize_address(sym, f.addrs[0], false, &fr);
	cr_assert_str_eq(fr.symbol, "fixture_global_function");
	cr_assert_not_null(fr.file);
	symbolizer_free(sym);
}

Test(symbolize, demangle_leaves_c_names_alone)
{
	char buf[128];

	cr_assert_str_eq(demangle("malloc", buf, sizeof(buf)), "malloc");
	cr_assert_str_eq(demangle("_ZN3foo3barEv", buf, sizeof(buf)), "foo::bar()");
	cr_assert_str_eq(demangle("_Zgarbage", buf, sizeof(buf)), "_Zgarbage");
}

Test(symbolize, stack_quality_from_roots_and_frame_pointers)
{
	struct frame frames[3] = {
		{ .symbol = "__strdup", .module = "/lib/libc.so.6", .frame_pointers = 0 },
		{ .symbol = "main", .module = "/bin/app", .frame_pointers = 1 },
		{ .symbol = "__libc_start_call_main", .module = "/lib/libc.so.6", .frame_pointers = 0 },
	};

	cr_assert(stack_reaches_root(frames, 3));
	cr_assert_not(stack_reaches_root(frames, 1));
	cr_assert_str_eq(stack_module_without_fp(frames, 1), "/lib/libc.so.6");
	frames[0].frame_pointers = 1;
	cr_assert_null(stack_module_without_fp(frames, 2));
	cr_assert_null(stack_module_without_fp(frames, 3)); /* the root's own module does not matter */
}

Test(symbolize, frame_pointer_detection_on_fixtures)
{
	struct elf_module *mod;

	/* The fixtures are built with -O1: gcc omits frame pointers there. */
	cr_assert_eq(elf_module_open(FIXTURES "fixture_nopie", &mod), 0);
	cr_assert_not(elf_module_has_frame_pointers(mod));
	elf_module_close(mod);
	cr_assert_eq(elf_module_open("build/progs/leaky", &mod), 0); /* -fno-omit-frame-pointer */
	cr_assert(elf_module_has_frame_pointers(mod));
	elf_module_close(mod);
}
