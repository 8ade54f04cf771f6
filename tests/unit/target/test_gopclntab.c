// SPDX-License-Identifier: MIT
/*
 * .gopclntab (user/target/gopclntab.c) on a Go program the build makes
 * (tests/progs/goleak/main.go): every function the symbol table names is
 * named alike, with its entry; file:line as the source has them; and the
 * same answers from the binary stripped of its symbols and DWARF.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/gopclntab.h"

#define FIXTURES "build/fixtures/"

struct go_binary {
	Elf *elf;
	int fd;
	uint8_t *pclntab;
	size_t size;
	Elf_Scn *symtab;
};

static Elf_Scn *section_named(Elf *elf, const char *name)
{
	size_t names;
	Elf_Scn *scn = NULL;

	elf_getshdrstrndx(elf, &names);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;

		gelf_getshdr(scn, &shdr);
		if (!strcmp(elf_strptr(elf, names, shdr.sh_name), name))
			return scn;
	}
	return NULL;
}

static void open_binary(const char *path, struct go_binary *b)
{
	Elf_Scn *scn;
	Elf_Data *data;

	elf_version(EV_CURRENT);
	b->fd = open(path, O_RDONLY);
	cr_assert_geq(b->fd, 0, "%s: build it with make unit", path);
	b->elf = elf_begin(b->fd, ELF_C_READ, NULL);
	scn = section_named(b->elf, ".gopclntab");
	cr_assert_not_null(scn, "%s has no .gopclntab", path);
	data = elf_getdata(scn, NULL);
	b->size = data->d_size;
	b->pclntab = malloc(b->size);
	memcpy(b->pclntab, data->d_buf, b->size);
	b->symtab = section_named(b->elf, ".symtab");
}

static void close_binary(struct go_binary *b)
{
	free(b->pclntab);
	elf_end(b->elf);
	close(b->fd);
}

/* The address of a function in the unstripped fixture's symbol table. */
static uint64_t symbol_address(struct go_binary *b, const char *name)
{
	Elf_Data *data = elf_getdata(b->symtab, NULL);
	GElf_Shdr shdr;

	gelf_getshdr(b->symtab, &shdr);
	for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
		GElf_Sym sym;

		gelf_getsym(data, (int)i, &sym);
		if (!strcmp(elf_strptr(b->elf, shdr.sh_link, sym.st_name), name))
			return sym.st_value;
	}
	return 0;
}

/*
 * The symbol table's name for what the runtime's table calls name: assembly
 * functions get an ".abi0" suffix there, array types' equality functions
 * their length where the runtime writes "[...]", and the linker writes '.'
 * where the runtime keeps a middle dot (U+00B7) in generated names.
 */
static bool same_function(const char *symtab, const char *runtime)
{
	char dotted[1024];
	size_t len = 0;

	for (const char *p = runtime; *p && len + 1 < sizeof(dotted); p++) {
		if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xb7) {
			dotted[len++] = '.';
			p++;
		} else {
			dotted[len++] = *p;
		}
	}
	dotted[len] = '\0';
	runtime = dotted;
	if (strchr(symtab, '['))
		return !strncmp(symtab, runtime, strcspn(runtime, "["));
	return !strncmp(symtab, runtime, len) && (!symtab[len] || !strcmp(symtab + len, ".abi0"));
}

Test(gopclntab, names_every_function_the_symbol_table_names)
{
	struct go_binary b;
	struct gopclntab *t;
	uint32_t magic;
	Elf_Data *data;
	GElf_Shdr shdr;
	size_t functions = 0, named_alike = 0;

	open_binary(FIXTURES "go_fixture", &b);
	t = gopclntab_open(b.pclntab, b.size, &magic);
	cr_assert_not_null(t, "magic %#x", magic);
	cr_assert_gt(gopclntab_count(t), 1000);
	data = elf_getdata(b.symtab, NULL);
	gelf_getshdr(b.symtab, &shdr);
	for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
		GElf_Sym sym;
		struct go_pc_info info;

		gelf_getsym(data, (int)i, &sym);
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_size)
			continue;
		functions++;
		if (gopclntab_lookup(t, sym.st_value + sym.st_size / 2, &info) &&
		    info.entry == sym.st_value &&
		    same_function(elf_strptr(b.elf, shdr.sh_link, sym.st_name), info.function))
			named_alike++;

	}
	cr_assert_gt(functions, 1000);
	cr_assert_eq(named_alike, functions, "%zu of %zu functions named alike", named_alike,
		     functions);
	gopclntab_free(t);
	close_binary(&b);
}

/* The line of path holding text (1-based), 0 when none. */
static int source_line(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0, found = 0;

	cr_assert_not_null(f, "%s", path);
	while (!found && fgets(line, sizeof(line), f))
		if (n++, strstr(line, text))
			found = n;
	fclose(f);
	return found;
}

Test(gopclntab, gives_file_and_line_as_the_source_has_them)
{
	struct go_binary b;
	struct gopclntab *t;
	struct go_pc_info info;
	uint32_t magic;
	uint64_t entry;

	open_binary(FIXTURES "go_fixture", &b);
	t = gopclntab_open(b.pclntab, b.size, &magic);
	entry = symbol_address(&b, "main.leakOnChannel");
	cr_assert(gopclntab_lookup(t, entry, &info));
	cr_assert_str_eq(info.function, "main.leakOnChannel");
	cr_assert_not_null(info.file);
	cr_assert(strstr(info.file, "tests/progs/goleak/main.go"), "%s", info.file);
	cr_assert_eq(info.line, source_line("tests/progs/goleak/main.go", "func leakOnChannel("),
		     "func leakOnChannel is not on line %d", info.line);
	cr_assert_not(gopclntab_lookup(t, 0x1000, &info), "below the text");
	gopclntab_free(t);
	close_binary(&b);
}

Test(gopclntab, a_stripped_binary_answers_alike)
{
	struct go_binary full, stripped;
	struct gopclntab *a, *b;
	uint32_t magic;
	static const char *const functions[] = {
		"main.leakOnChannel", "main.leakOnSelect", "main.main", "runtime.newproc",
		"runtime.goexit1", "runtime.mallocgc",
	};

	open_binary(FIXTURES "go_fixture", &full);
	open_binary(FIXTURES "go_fixture_stripped", &stripped);
	cr_assert_null(stripped.symtab, "stripped: no .symtab");
	a = gopclntab_open(full.pclntab, full.size, &magic);
	b = gopclntab_open(stripped.pclntab, stripped.size, &magic);
	cr_assert_not_null(b);
	cr_assert_eq(gopclntab_count(a), gopclntab_count(b));
	for (size_t i = 0; i < sizeof(functions) / sizeof(*functions); i++) {
		uint64_t entry = symbol_address(&full, functions[i]);
		struct go_pc_info x, y;

		cr_assert_neq(entry, 0, "%s", functions[i]);
		cr_assert(gopclntab_lookup(a, entry + 4, &x));
		cr_assert(gopclntab_lookup(b, entry + 4, &y), "%s", functions[i]);
		cr_assert_str_eq(y.function, functions[i]);
		cr_assert_eq(y.entry, entry);
		cr_assert_eq(y.line, x.line);
		cr_assert_str_eq(y.file, x.file);
	}
	gopclntab_free(a);
	gopclntab_free(b);
	close_binary(&full);
	close_binary(&stripped);
}

Test(gopclntab, what_is_no_pclntab_is_refused)
{
	uint8_t junk[64] = { 0xfa, 0xff, 0xff, 0xfe };
	uint32_t magic;

	cr_assert_null(gopclntab_open(junk, sizeof(junk), &magic));
	cr_assert_eq(magic, 0xfefffffau);
	cr_assert_null(gopclntab_open(junk, 4, &magic));
	memcpy(junk, "\xf1\xff\xff\xff\0\0\1\x08", 8); /* Go 1.20's header, nothing behind */
	cr_assert_null(gopclntab_open(junk, sizeof(junk), &magic));
	cr_assert_eq(magic, 0xfffffff1u);
}
