// SPDX-License-Identifier: MIT
/*
 * Parsing /proc/PID/maps (procmaps.h).  The text comes from the kernel but
 * the paths from the target: parsed without trusting either (fuzzed).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

int mapping_parse_line(const char *line, struct mapping *m)
{
	char perms[5] = { 0 };
	int path_at = 0;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n",
		   &m->start, &m->end, perms, &m->file_offset, &m->dev_major,
		   &m->dev_minor, &m->inode, &path_at) < 7 || path_at == 0)
		return -EINVAL;
	if (m->end < m->start || strlen(perms) != 4)
		return -EINVAL;
	m->readable = perms[0] == 'r';
	m->writable = perms[1] == 'w';
	m->executable = perms[2] == 'x';
	len = strcspn(line + path_at, "\n");
	m->path = strndup(line + path_at, len);
	return m->path ? 0 : -ENOMEM;
}

int mappings_read_stream(FILE *stream, struct mapping_list *list)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	int err = 0;

	list->items = NULL;
	list->count = 0;
	while (getline(&line, &cap, stream) > 0) {
		struct mapping m;

		if (mapping_parse_line(line, &m))
			continue; /* a line we cannot read is skipped, not fatal */
		if (list->count == alloc) {
			size_t grown = alloc ? alloc * 2 : 64;
			struct mapping *items = realloc(list->items, grown * sizeof(*items));

			if (!items) {
				free(m.path);
				err = -ENOMEM;
				break;
			}
			list->items = items;
			alloc = grown;
		}
		list->items[list->count++] = m;
	}
	free(line);
	if (err)
		mappings_free(list);
	return err;
}

int mappings_read_pid(pid_t pid, struct mapping_list *list)
{
	char path[64];
	FILE *stream;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	stream = fopen(path, "re");
	if (!stream)
		return -errno;
	err = mappings_read_stream(stream, list);
	fclose(stream);
	if (!err && list->count == 0)
		return -ESRCH; /* a zombie or a kernel thread has no mappings */
	return err;
}

const struct mapping *mappings_find(const struct mapping_list *list, uint64_t addr)
{
	size_t lo = 0, hi = list->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mapping *m = &list->items[mid];

		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

bool mapping_is_file(const struct mapping *m)
{
	return m->path && m->path[0] == '/' && m->inode != 0;
}

bool mapping_is_deleted(const struct mapping *m)
{
	static const char suffix[] = " (deleted)";
	size_t len = m->path ? strlen(m->path) : 0;

	return len >= sizeof(suffix) - 1 &&
	       !strcmp(m->path + len - (sizeof(suffix) - 1), suffix);
}

void mapping_open_path(pid_t pid, const struct mapping *m, char *buf, size_t size)
{
	if (mapping_is_deleted(m))
		snprintf(buf, size, "/proc/%d/map_files/%llx-%llx", (int)pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
	else
		snprintf(buf, size, "/proc/%d/root%s", (int)pid, m->path);
}

void mappings_free(struct mapping_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].path);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
