// SPDX-License-Identifier: MIT
/* One numeric field of /proc/PID/status (proc_status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_status.h"

long proc_status_number(pid_t pid, const char *field, long fallback)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long value = fallback;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return fallback;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			value = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return value;
}
