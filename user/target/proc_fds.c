// SPDX-License-Identifier: MIT
/* Open descriptors of a process, from /proc/PID/fd (proc_fds.h). */
#include <dirent.h>
#include <stdio.h>

#include "proc_fds.h"

unsigned proc_fds_count(pid_t pid)
{
	char path[64];
	unsigned count = 0;
	struct dirent *entry;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((entry = readdir(dir)))
		count += entry->d_name[0] != '.';
	closedir(dir);
	return count;
}
