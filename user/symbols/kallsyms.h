/* SPDX-License-Identifier: MIT */
/*
 * Kernel frames' names, from /proc/kallsyms.
 */
#ifndef LS_KALLSYMS_H
#define LS_KALLSYMS_H

#include <stdint.h>
#include <stdio.h>

/* Kernel text symbols from /proc/kallsyms, sorted by address. */
struct kernel_symbol {
	uint64_t addr;
	char *name;
	const char *module; /* "[kernel]" or "[module_name]", shared */
};

struct kallsyms {
	struct kernel_symbol *symbols;
	size_t count;
	char **modules; /* the distinct module names, owned here */
	size_t module_count;
};

/* True for an address in the kernel half of x86-64's address space. */
static inline int is_kernel_address(uint64_t addr)
{
	return addr >= 0xffff800000000000ULL;
}

/*
 * Read the text symbols (types t/T/w/W) of a kallsyms file.  Symbols whose
 * address reads as 0 (kptr_restrict) are skipped.  Returns 0 or -errno;
 * an empty table (no readable address) is not an error.
 */
int kallsyms_read(FILE *in, struct kallsyms *table);
void kallsyms_free(struct kallsyms *table);

#define LS_KERNEL_SYMBOL_MAX_SIZE (256 * 1024)

/* The symbol holding addr, and addr's offset into it; NULL when none does. */
const struct kernel_symbol *kallsyms_lookup(const struct kallsyms *table, uint64_t addr,
					    uint64_t *offset);

#endif
