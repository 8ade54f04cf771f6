/* SPDX-License-Identifier: MIT */
/*
 * A process's memory as the kernel counts it (/proc/PID/status): resident
 * anonymous, file and shared memory, and swap; what reports put beside the
 * bytes leaksnoop tracks.
 */
#ifndef LS_PROC_MEMORY_H
#define LS_PROC_MEMORY_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct proc_memory {
	uint64_t rss_bytes;        /* VmRSS */
	uint64_t rss_anon_bytes;   /* RssAnon: the heap and anonymous mappings */
	uint64_t rss_file_bytes;   /* RssFile */
	uint64_t rss_shmem_bytes;  /* RssShmem */
	uint64_t swap_bytes;       /* VmSwap */
};

/* Parse a status file's lines into *m.  0, or -ENOENT when VmRSS is missing (a kernel thread). */
int proc_memory_parse(FILE *status, struct proc_memory *m);

/* pid's memory now.  0 or a negative errno. */
int proc_memory_read(pid_t pid, struct proc_memory *m);

#endif
