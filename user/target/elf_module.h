/* SPDX-License-Identifier: MIT */
/*
 * An ELF file of the target, read once.
 */
#ifndef LS_ELF_MODULE_H
#define LS_ELF_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gopclntab;

struct elf_symbol {
	uint64_t addr; /* link-time virtual address */
	uint64_t size;
	const char *name; /* points into the module's string pool */
	int rank;         /* higher wins when two names share an address */
};

struct elf_segment {
	uint64_t vaddr, memsz;
	uint64_t file_offset, filesz;
	bool executable;
};

/*
 * One ELF file as the symbolizer and the attacher need it: loadable segments
 * (to translate between runtime addresses, file offsets and link-time
 * addresses), function symbols sorted by address, and the identity used to
 * find separate debug info.
 */
struct elf_module {
	char *path;
	bool is_dyn;          /* ET_DYN: PIE executable or shared library */
	char build_id[41];    /* lowercase hex, "" when absent */
	char *debuglink;      /* .gnu_debuglink file name, or NULL */
	bool has_symtab;      /* .symtab present (not stripped) */
	bool has_dwarf;       /* .debug_info with contents */
	struct elf_segment *segments;
	size_t segment_count;
	struct elf_symbol *symbols;
	size_t symbol_count;
	char **string_pool;   /* names owned by the module */
	size_t string_count;
	/*
	 * Go executables: the runtime's own function table (.gopclntab, mapped
	 * from the file), which names every Go function and line even when
	 * .symtab and DWARF are stripped; NULL otherwise.
	 */
	struct gopclntab *go_pclntab;
	void *go_pclntab_map;
	size_t go_pclntab_map_len;
	uint64_t go_buildinfo_vaddr; /* .go.buildinfo (the toolchain version), 0 if absent */
	uint64_t go_buildinfo_size;
	int fd;               /* kept open so a later DWARF read works after the target exits */
};

/* Open an ELF file and read its segments, symbols and identity. */
int elf_module_open(const char *path, struct elf_module **out);

/* Add the function symbols of another file (e.g. separate debug info). */
int elf_module_merge_symbols(struct elf_module *mod, const char *path);

void elf_module_close(struct elf_module *mod);

/* Symbol containing vaddr (offset set), or NULL. */
const struct elf_symbol *elf_module_lookup(const struct elf_module *mod, uint64_t vaddr,
					   uint64_t *offset);

/* Link-time address of a data symbol (STT_OBJECT) in path's .symtab; 0 if absent. */
uint64_t elf_file_object_vaddr(const char *path, const char *name);

/* True when the ELF file at path defines every function named (NULL-terminated). */
bool elf_file_defines(const char *path, const char *const *names);

/*
 * The same read quickly, without making a module: from one symbol table
 * (.dynsym: a library's exports; with exported false .symtab as well).
 */
bool elf_file_has_functions(const char *path, const char *const *names, bool exported);

/* Link-time address of a defined function by name; 0 if absent. */
uint64_t elf_module_function_vaddr(const struct elf_module *mod, const char *name);

/* File offset <-> link-time address through the PT_LOAD segments; -ENOENT if unmapped. */
int elf_module_vaddr_to_offset(const struct elf_module *mod, uint64_t vaddr, uint64_t *offset);
int elf_module_offset_to_vaddr(const struct elf_module *mod, uint64_t offset, uint64_t *vaddr);

/*
 * Does the code keep frame pointers?  Samples up to 256 functions and counts
 * those that open with push %rbp; mov %rsp,%rbp (after an endbr64).  Go code
 * always keeps them, with its own prologue.  Returns true when most do.
 */
bool elf_module_has_frame_pointers(const struct elf_module *mod);

/* Read len bytes of the file at link-time address vaddr. */
int elf_module_read(const struct elf_module *mod, uint64_t vaddr, void *buf, size_t len);

#endif
