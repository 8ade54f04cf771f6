// SPDX-License-Identifier: MIT
/* Call frame information to unwind rows, on hand-written CFI (fixtures/cfi_fixture.S). */
#include <criterion/criterion.h>
#include <errno.h>

#include "target/elf_module.h"
#include "collect/unwind_table.h"

#define CFI_FIXTURE "build/fixtures/libcfi_fixture.so"

static struct unwind_table table;
static struct elf_module *mod;

static void load(void)
{
	cr_assert_eq(unwind_table_build(CFI_FIXTURE, &table), 0);
	cr_assert_eq(elf_module_open(CFI_FIXTURE, &mod), 0);
}

static void unload(void)
{
	unwind_table_free(&table);
	elf_module_close(mod);
}

/* The row at function name + delta. */
static const struct unwind_row *row_at(const char *name, uint64_t delta)
{
	uint64_t start = elf_module_function_vaddr(mod, name);

	cr_assert_neq(start, 0, "no %s", name);
	return unwind_table_find(table.rows, table.count, start + delta);
}

static void expect(const struct unwind_row *row, int cfa_rule, int cfa_offset, int bp_rule,
		   int bp_offset)
{
	cr_assert_not_null(row);
	cr_expect_eq(row->cfa_rule, cfa_rule, "pc %#llx: rule %d, not %d",
		     (unsigned long long)row->pc, row->cfa_rule, cfa_rule);
	cr_expect_eq(row->cfa_offset, cfa_offset, "pc %#llx: CFA offset %d, not %d",
		     (unsigned long long)row->pc, row->cfa_offset, cfa_offset);
	cr_expect_eq(row->bp_rule, bp_rule, "pc %#llx", (unsigned long long)row->pc);
	if (bp_rule == LS_BP_AT_CFA)
		cr_expect_eq(row->bp_offset, bp_offset, "pc %#llx", (unsigned long long)row->pc);
}

TestSuite(unwind_table, .init = load, .fini = unload);

Test(unwind_table, rows_follow_the_stack_pointer_through_push_and_sub)
{
	expect(row_at("cfi_sp_frame", 0), LS_CFA_SP, 8, LS_BP_SAME, 0);
	expect(row_at("cfi_sp_frame", 1), LS_CFA_SP, 16, LS_BP_SAME, 0);  /* after push %rbx */
	expect(row_at("cfi_sp_frame", 5), LS_CFA_SP, 40, LS_BP_SAME, 0);  /* after sub $24 */
	expect(row_at("cfi_sp_frame", 0xa), LS_CFA_SP, 16, LS_BP_SAME, 0); /* before pop */
	expect(row_at("cfi_sp_frame", 0xb), LS_CFA_SP, 8, LS_BP_SAME, 0);  /* at ret */
}

Test(unwind_table, rows_switch_to_the_frame_pointer_and_say_where_rbp_was_saved)
{
	expect(row_at("cfi_bp_frame", 0), LS_CFA_SP, 8, LS_BP_SAME, 0);
	expect(row_at("cfi_bp_frame", 1), LS_CFA_SP, 16, LS_BP_AT_CFA, -16);
	expect(row_at("cfi_bp_frame", 4), LS_CFA_BP, 16, LS_BP_AT_CFA, -16);
	expect(row_at("cfi_bp_frame", 6), LS_CFA_SP, 8, LS_BP_AT_CFA, -16);
}

Test(unwind_table, code_without_an_fde_and_a_threads_root_are_marked)
{
	expect(row_at("cfi_no_fde", 0), LS_CFA_UNKNOWN, 0, LS_BP_SAME, 0);
	expect(row_at("cfi_sp_frame", 0xc), LS_CFA_UNKNOWN, 0, LS_BP_SAME, 0); /* padding */
	cr_expect_eq(row_at("cfi_root", 0)->cfa_rule, LS_CFA_ROOT);
	cr_expect_eq(row_at("cfi_root", 2)->cfa_rule, LS_CFA_UNKNOWN); /* past its FDE */
	cr_expect_null(unwind_table_find(table.rows, table.count,
					 elf_module_function_vaddr(mod, "cfi_sp_frame") - 1));
}

Test(unwind_table, rows_are_sorted_and_neighbours_differ)
{
	cr_assert_gt(table.count, 8);
	for (size_t i = 1; i < table.count; i++) {
		const struct unwind_row *a = &table.rows[i - 1], *b = &table.rows[i];

		cr_expect_lt(a->pc, b->pc, "row %zu", i);
		cr_expect(a->cfa_rule != b->cfa_rule || a->cfa_offset != b->cfa_offset ||
			  a->bp_rule != b->bp_rule || a->bp_offset != b->bp_offset,
			  "rows %zu and %zu say the same", i - 1, i);
	}
}

Test(unwind_table, bias_maps_runtime_to_link_time_addresses)
{
	uint64_t bias = 0;

	cr_assert_eq(table.segment_count, 1);
	/* The executable segment mapped at 0x7f0000001000 from its page's file offset. */
	cr_assert_eq(unwind_table_bias(&table, 0x7f0000001000ULL,
				       table.segments[0].offset & ~4095ULL, &bias), 0);
	cr_expect_eq(bias + table.segments[0].vaddr - (table.segments[0].offset & 4095),
		     0x7f0000001000ULL);
	cr_expect_eq(unwind_table_bias(&table, 0x7f0000001000ULL, 1 << 30, &bias), -ENOENT);
}

Test(unwind_table, without_the_index_the_section_gives_the_same_rows)
{
	struct unwind_table read_from_section;

	/* Linked with --no-eh-frame-hdr, as static executables and musl-gcc's are. */
	cr_assert_eq(unwind_table_build("build/fixtures/libcfi_noindex.so", &read_from_section), 0);
	cr_assert_eq(read_from_section.count, table.count);
	for (size_t i = 0; i < table.count; i++) {
		const struct unwind_row *a = &table.rows[i], *b = &read_from_section.rows[i];

		cr_expect(a->pc == b->pc && a->cfa_rule == b->cfa_rule &&
			  a->cfa_offset == b->cfa_offset && a->bp_rule == b->bp_rule &&
			  a->bp_offset == b->bp_offset, "row %zu differs", i);
	}
	unwind_table_free(&read_from_section);
}

Test(unwind_table, files_without_call_frame_information_are_refused)
{
	struct unwind_table none;

	/* Debug info only: .eh_frame without its bytes (NOBITS). */
	cr_expect_lt(unwind_table_build("build/fixtures/.debug/fixture_stripped.debug", &none), 0);
	cr_expect_eq(unwind_table_build("/nonexistent/file", &none), -ENOENT);
	cr_expect_eq(unwind_table_build("tests/unit/fixtures/cfi_fixture.S", &none), -ENOEXEC);
}
