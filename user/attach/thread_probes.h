/* SPDX-License-Identifier: MIT */
/*
 * Where the thread probes go: the module providing pthread_create and its
 * create/join/detach functions' offsets; and the counts read from /proc
 * (threads that predate attach, the default stack size).  Nothing attached.
 */
#ifndef LS_THREAD_PROBES_H
#define LS_THREAD_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum thread_handler {
	THREAD_CREATE, /* entry and return */
	THREAD_DETACH, /* entry */
	THREAD_JOIN,   /* entry and return: pthread_join and its variants */
};

struct thread_probe {
	const char *name;
	enum thread_handler handler;
	uint64_t file_offset;
};

#define THREAD_FUNCTION_COUNT 6

/* The module providing pthread_create (libc since glibc 2.34, else libpthread). */
struct thread_library {
	char path[4096];       /* as this process opens it */
	char shown_path[4096]; /* as the target sees it */
	struct thread_probe probes[THREAD_FUNCTION_COUNT];
	size_t probe_count;
};

/* For a running process, from its mappings. */
int thread_library_find_for_pid(pid_t pid, struct thread_library *out);

/* For a command about to run: the executable if static, else this process's library. */
int thread_library_find_for_exe(const char *exe_path, struct thread_library *out);

/* Threads of pid that exist now (they predate attach and are not classified). */
unsigned count_existing_threads(pid_t pid);

/* The default thread stack size of pid (its RLIMIT_STACK, as glibc uses it). */
uint64_t default_thread_stack_bytes(pid_t pid);

#endif
