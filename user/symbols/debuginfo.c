// SPDX-License-Identifier: MIT
/*
 * Finding a module's separate debug file (by build id or .gnu_debuglink,
 * inside the target's root first) and reading file:line from DWARF with
 * libdw (debuginfo.h).  Reads files only.
 */
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debuginfo.h"
#include "target/elf_module.h"

static int try_path(const char *root, const char *path, char *buf, size_t size)
{
	const char *prefixes[2] = { root, "" };

	for (int i = 0; i < 2; i++) {
		if (!prefixes[i])
			continue;
		if ((size_t)snprintf(buf, size, "%s%s", prefixes[i], path) >= size)
			continue;
		if (access(buf, R_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

int debuginfo_find(const struct elf_module *mod, const char *root, const char *orig_path,
		   char *buf, size_t size)
{
	char candidate[4096], dir[4096];

	if (mod->build_id[0] && strlen(mod->build_id) > 2) {
		snprintf(candidate, sizeof(candidate), "/usr/lib/debug/.build-id/%.2s/%s.debug",
			 mod->build_id, mod->build_id + 2);
		if (!try_path(root, candidate, buf, size))
			return 0;
	}
	if (!mod->debuglink || !orig_path || orig_path[0] != '/')
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s", orig_path);
	dirname(dir);
	snprintf(candidate, sizeof(candidate), "%s/%s", dir, mod->debuglink);
	if (strcmp(candidate, orig_path) && !try_path(root, candidate, buf, size))
		return 0;
	snprintf(candidate, sizeof(candidate), "%s/.debug/%s", dir, mod->debuglink);
	if (!try_path(root, candidate, buf, size))
		return 0;
	snprintf(candidate, sizeof(candidate), "/usr/lib/debug%s/%s", dir, mod->debuglink);
	if (!try_path(root, candidate, buf, size))
		return 0;
	return -ENOENT;
}

struct line_table {
	int fd;
	Dwarf *dwarf;
};

struct line_table *line_table_open(const char *path)
{
	struct line_table *table;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Dwarf *dwarf;

	if (fd < 0)
		return NULL;
	dwarf = dwarf_begin(fd, DWARF_C_READ);
	if (!dwarf) {
		close(fd);
		return NULL;
	}
	table = calloc(1, sizeof(*table));
	if (!table) {
		dwarf_end(dwarf);
		close(fd);
		return NULL;
	}
	table->fd = fd;
	table->dwarf = dwarf;
	return table;
}

void line_table_close(struct line_table *table)
{
	if (!table)
		return;
	dwarf_end(table->dwarf);
	close(table->fd);
	free(table);
}

/* Without .debug_aranges (Go emits none), find the CU whose ranges hold vaddr. */
static int find_cu(Dwarf *dwarf, uint64_t vaddr, Dwarf_Die *cu)
{
	Dwarf_Off offset = 0, next;
	size_t header;

	while (dwarf_nextcu(dwarf, offset, &next, &header, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(dwarf, offset + header, cu) && dwarf_haspc(cu, vaddr) > 0)
			return 0;
		offset = next;
	}
	return -ENOENT;
}

int line_table_lookup(struct line_table *table, uint64_t vaddr, const char **file, int *line)
{
	Dwarf_Die cu;
	Dwarf_Line *entry;
	const char *src;

	if (!table || (!dwarf_addrdie(table->dwarf, vaddr, &cu) && find_cu(table->dwarf, vaddr, &cu)))
		return -ENOENT;
	entry = dwarf_getsrc_die(&cu, vaddr);
	if (!entry || dwarf_lineno(entry, line) || *line <= 0)
		return -ENOENT;
	src = dwarf_linesrc(entry, NULL, NULL);
	if (!src)
		return -ENOENT;
	*file = src;
	return 0;
}
