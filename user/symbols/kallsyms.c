// SPDX-License-Identifier: MIT
/* Kernel stack frames are resolved with /proc/kallsyms (the kernel has no file to read). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kallsyms.h"

static int by_address(const void *a, const void *b)
{
	const struct kernel_symbol *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The shared copy of module name `name` (without brackets: the kernel itself). */
static const char *intern_module(struct kallsyms *table, const char *name)
{
	char label[80];
	char **grown;

	snprintf(label, sizeof(label), "[%s]", name && *name ? name : "kernel");
	for (size_t i = 0; i < table->module_count; i++)
		if (!strcmp(table->modules[i], label))
			return table->modules[i];
	grown = realloc(table->modules, (table->module_count + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	table->modules = grown;
	grown[table->module_count] = strdup(label);
	return grown[table->module_count] ? grown[table->module_count++] : NULL;
}

static int add_symbol(struct kallsyms *table, size_t *cap, uint64_t addr, const char *name,
		      const char *module)
{
	struct kernel_symbol *s;

	if (table->count == *cap) {
		size_t grown = *cap ? *cap * 2 : 4096;

		s = realloc(table->symbols, grown * sizeof(*s));
		if (!s)
			return -ENOMEM;
		table->symbols = s;
		*cap = grown;
	}
	s = &table->symbols[table->count];
	s->addr = addr;
	s->name = strdup(name);
	s->module = intern_module(table, module);
	if (!s->name || !s->module) {
		free(s->name);
		return -ENOMEM;
	}
	table->count++;
	return 0;
}

int kallsyms_read(FILE *in, struct kallsyms *table)
{
	char line[512], name[256], module[80];
	size_t cap = 0;

	memset(table, 0, sizeof(*table));
	while (fgets(line, sizeof(line), in)) {
		unsigned long long addr;
		char type;
		int fields;

		module[0] = 0;
		fields = sscanf(line, "%llx %c %255s [%79[^]]]", &addr, &type, name, module);
		if (fields < 3 || !addr || !strchr("tTwW", type))
			continue;
		if (add_symbol(table, &cap, addr, name, fields == 4 ? module : NULL)) {
			kallsyms_free(table);
			return -ENOMEM;
		}
	}
	qsort(table->symbols, table->count, sizeof(*table->symbols), by_address);
	return 0;
}

void kallsyms_free(struct kallsyms *table)
{
	for (size_t i = 0; i < table->count; i++)
		free(table->symbols[i].name);
	for (size_t i = 0; i < table->module_count; i++)
		free(table->modules[i]);
	free(table->symbols);
	free(table->modules);
	memset(table, 0, sizeof(*table));
}

const struct kernel_symbol *kallsyms_lookup(const struct kallsyms *table, uint64_t addr,
					    uint64_t *offset)
{
	size_t lo = 0, hi = table->count;

	/* The last symbol starting at or before addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (table->symbols[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* kallsyms has no sizes: an address far past a symbol's start is in none. */
	if (!lo || addr - table->symbols[lo - 1].addr > LS_KERNEL_SYMBOL_MAX_SIZE)
		return NULL;
	*offset = addr - table->symbols[lo - 1].addr;
	return &table->symbols[lo - 1];
}
