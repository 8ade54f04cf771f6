// SPDX-License-Identifier: MIT
/*
 * Finding pthread_create and its kin in a process's or a command's libraries
 * (thread_probes.h), and reading /proc for the threads alive at attach and
 * the default stack size.  Reads files only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/elf_module.h"
#include "probe_point.h"
#include "target/procmaps.h"
#include "thread_probes.h"

static const struct {
	const char *name;
	enum thread_handler handler;
	unsigned args; /* integer arguments the entry probe reads */
} thread_functions[THREAD_FUNCTION_COUNT] = {
	{ "pthread_create", THREAD_CREATE, 2 },
	{ "pthread_detach", THREAD_DETACH, 1 },
	{ "pthread_join", THREAD_JOIN, 1 },
	{ "pthread_tryjoin_np", THREAD_JOIN, 1 },
	{ "pthread_timedjoin_np", THREAD_JOIN, 1 },
	{ "pthread_clockjoin_np", THREAD_JOIN, 1 },
};

static const char *const create_only[] = { "pthread_create", NULL };

static int resolve(struct thread_library *lib)
{
	struct elf_module *mod;
	int err = elf_module_open(lib->path, &mod);

	if (err)
		return err;
	lib->probe_count = 0;
	for (size_t i = 0; i < THREAD_FUNCTION_COUNT; i++) {
		uint64_t vaddr = elf_module_function_vaddr(mod, thread_functions[i].name);
		struct thread_probe *p = &lib->probes[lib->probe_count];
		struct probe_choice choice;

		if (!vaddr || probe_point_place(mod, vaddr, PROBE_C_ARGS(thread_functions[i].args),
						&p->file_offset, &choice))
			continue;
		p->name = thread_functions[i].name;
		p->handler = thread_functions[i].handler;
		lib->probe_count++;
	}
	elf_module_close(mod);
	return lib->probe_count && lib->probes[0].handler == THREAD_CREATE ? 0 : -ENOENT;
}

static bool is_thread_library(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libpthread", 10) || !strncmp(base, "libc.so", 7) ||
	       !strncmp(base, "libc-", 5);
}

int thread_library_find_for_pid(pid_t pid, struct thread_library *out)
{
	struct mapping_list maps;
	char exe[4096], link[64], path[4096];
	int err = mappings_read_pid(pid, &maps), found = 0;
	ssize_t n;

	if (err)
		return err;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	for (size_t i = 0; i < maps.count && !found; i++) {
		const struct mapping *m = &maps.items[i];

		if (!m->executable || !mapping_is_file(m) ||
		    (strcmp(m->path, exe) && !is_thread_library(m->path)))
			continue;
		mapping_open_path(pid, m, path, sizeof(path));
		if (elf_file_defines(path, create_only)) {
			snprintf(out->path, sizeof(out->path), "%s", path);
			snprintf(out->shown_path, sizeof(out->shown_path), "%s", m->path);
			found = 1;
		}
	}
	mappings_free(&maps);
	return found ? resolve(out) : -ENOENT;
}

int thread_library_find_for_exe(const char *exe_path, struct thread_library *out)
{
	struct mapping_list maps;
	int err, found = 0;

	if (elf_file_defines(exe_path, create_only)) {
		snprintf(out->path, sizeof(out->path), "%s", exe_path);
		snprintf(out->shown_path, sizeof(out->shown_path), "%s", exe_path);
		return resolve(out);
	}
	/* A dynamically linked command gets the same libc or libpthread as we have. */
	err = mappings_read_pid(getpid(), &maps);
	if (err)
		return err;
	for (size_t i = 0; i < maps.count && !found; i++) {
		const struct mapping *m = &maps.items[i];

		if (m->executable && mapping_is_file(m) && is_thread_library(m->path) &&
		    elf_file_defines(m->path, create_only)) {
			snprintf(out->path, sizeof(out->path), "%s", m->path);
			snprintf(out->shown_path, sizeof(out->shown_path), "%s", m->path);
			found = 1;
		}
	}
	mappings_free(&maps);
	return found ? resolve(out) : -ENOENT;
}

unsigned count_existing_threads(pid_t pid)
{
	char path[64];
	struct dirent *entry;
	unsigned count = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((entry = readdir(dir)))
		if (entry->d_name[0] != '.')
			count++;
	closedir(dir);
	return count;
}

uint64_t default_thread_stack_bytes(pid_t pid)
{
	char path[64], line[256];
	uint64_t bytes = 8ULL << 20;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return bytes;
	while (fgets(line, sizeof(line), f)) {
		char soft[32];

		if (strncmp(line, "Max stack size", 14) || sscanf(line + 14, "%31s", soft) != 1)
			continue;
		/* glibc uses 2 MiB when the limit is unlimited (ARCH_STACK_DEFAULT_SIZE). */
		bytes = strcmp(soft, "unlimited") ? strtoull(soft, NULL, 10) : 2ULL << 20;
	}
	fclose(f);
	return bytes;
}
