// SPDX-License-Identifier: MIT
/* A process's resident and swapped memory from /proc/PID/status (proc_memory.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "proc_memory.h"

int proc_memory_parse(FILE *status, struct proc_memory *m)
{
	static const struct {
		const char *field;
		size_t offset;
	} fields[] = {
		{ "VmRSS:", offsetof(struct proc_memory, rss_bytes) },
		{ "RssAnon:", offsetof(struct proc_memory, rss_anon_bytes) },
		{ "RssFile:", offsetof(struct proc_memory, rss_file_bytes) },
		{ "RssShmem:", offsetof(struct proc_memory, rss_shmem_bytes) },
		{ "VmSwap:", offsetof(struct proc_memory, swap_bytes) },
	};
	bool has_rss = false;
	char line[256];

	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), status)) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
			size_t len = strlen(fields[i].field);
			uint64_t kib;

			if (strncmp(line, fields[i].field, len) ||
			    sscanf(line + len, "%" SCNu64, &kib) != 1)
				continue;
			*(uint64_t *)((char *)m + fields[i].offset) = kib * 1024;
			has_rss |= i == 0;
		}
	}
	return has_rss ? 0 : -ENOENT;
}

int proc_memory_read(pid_t pid, struct proc_memory *m)
{
	char path[64];
	FILE *status;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = fopen(path, "re");
	if (!status)
		return -errno;
	err = proc_memory_parse(status, m);
	fclose(status);
	return err;
}
