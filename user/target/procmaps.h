/* SPDX-License-Identifier: MIT */
/*
 * A process's mappings, as /proc/PID/maps lists them: what every stage reads
 * to know which file holds an address.
 */
#ifndef LS_PROCMAPS_H
#define LS_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* One line of /proc/PID/maps. */
struct mapping {
	uint64_t start;
	uint64_t end;
	uint64_t file_offset;
	uint64_t inode;
	unsigned dev_major;
	unsigned dev_minor;
	bool readable, writable, executable;
	char *path; /* "" for anonymous; "[heap]", "[stack]"... as the kernel prints */
};

struct mapping_list {
	struct mapping *items;
	size_t count;
};

/* Parse one maps line into *m (path newly allocated).  Returns 0 or -EINVAL. */
int mapping_parse_line(const char *line, struct mapping *m);

/* Read a whole maps file; returns 0 or a negative errno. */
int mappings_read_stream(FILE *stream, struct mapping_list *list);
int mappings_read_pid(pid_t pid, struct mapping_list *list);

/* The mapping that contains addr, or NULL (list is sorted, as the kernel writes it). */
const struct mapping *mappings_find(const struct mapping_list *list, uint64_t addr);

/* True when the path names a file (not anonymous, not a [pseudo] mapping). */
bool mapping_is_file(const struct mapping *m);

/* " (deleted)" suffix the kernel adds when the file was removed after mapping. */
bool mapping_is_deleted(const struct mapping *m);

/*
 * Where this process can open the file pid mapped at m: inside pid's mount
 * namespace (/proc/PID/root), or through the mapping itself when the file was
 * deleted or replaced since (/proc/PID/map_files).
 */
void mapping_open_path(pid_t pid, const struct mapping *m, char *buf, size_t size);

void mappings_free(struct mapping_list *list);

#endif
