// SPDX-License-Identifier: MIT
/* Kernel symbol lookup from a kallsyms text (user/symbols/kallsyms.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "symbols/kallsyms.h"

static const char sample[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81234560 t do_eventfd\n"
	"ffffffff81234000 T __x64_sys_eventfd2\n"
	"ffffffff82000000 D some_data\n"
	"ffffffffc0a01000 t ext4_fill_super\t[ext4]\n"
	"ffffffff81230000 W weak_thing\n"
	"0000000000000000 T hidden_by_kptr_restrict\n"
	"not a line\n";

static void read_sample(struct kallsyms *table)
{
	FILE *in = fmemopen((void *)sample, strlen(sample), "r");

	cr_assert_not_null(in);
	cr_assert_eq(kallsyms_read(in, table), 0);
	fclose(in);
}

Test(kallsyms, keeps_text_symbols_sorted_with_their_module)
{
	struct kallsyms table;

	read_sample(&table);
	/* _stext, weak_thing, __x64_sys_eventfd2, do_eventfd, ext4_fill_super */
	cr_assert_eq(table.count, 5);
	for (size_t i = 1; i < table.count; i++)
		cr_assert_lt(table.symbols[i - 1].addr, table.symbols[i].addr);
	cr_assert_str_eq(table.symbols[4].name, "ext4_fill_super");
	cr_assert_str_eq(table.symbols[4].module, "[ext4]");
	cr_assert_str_eq(table.symbols[0].module, "[kernel]");
	kallsyms_free(&table);
}

Test(kallsyms, an_address_resolves_to_the_symbol_before_it)
{
	struct kallsyms table;
	const struct kernel_symbol *s;
	uint64_t offset;

	read_sample(&table);
	s = kallsyms_lookup(&table, 0xffffffff81234599ULL, &offset);
	cr_assert_not_null(s);
	cr_assert_str_eq(s->name, "do_eventfd");
	cr_assert_eq(offset, 0x39);
	s = kallsyms_lookup(&table, 0xffffffff81234000ULL, &offset);
	cr_assert_str_eq(s->name, "__x64_sys_eventfd2");
	cr_assert_eq(offset, 0);
	/* Before the first symbol, or far past the last one: none. */
	cr_assert_null(kallsyms_lookup(&table, 0xffffffff80000000ULL, &offset));
	cr_assert_null(kallsyms_lookup(&table, 0xffffffffc0f00000ULL, &offset));
	kallsyms_free(&table);
}

Test(kallsyms, unreadable_addresses_give_an_empty_table)
{
	static const char hidden[] = "0000000000000000 T _stext\n0000000000000000 t do_eventfd\n";
	FILE *in = fmemopen((void *)hidden, strlen(hidden), "r");
	struct kallsyms table;
	uint64_t offset;

	cr_assert_eq(kallsyms_read(in, &table), 0);
	fclose(in);
	cr_assert_eq(table.count, 0);
	cr_assert_null(kallsyms_lookup(&table, 0xffffffff81234599ULL, &offset));
	kallsyms_free(&table);
}
