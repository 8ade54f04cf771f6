// SPDX-License-Identifier: MIT
/*
 * Finding the module that provides malloc (the executable itself, a mapped
 * jemalloc/tcmalloc/mimalloc, or libc) and resolving its family of functions
 * to probe points (probe_point.c), aliases probed once.  Reads ELF files and
 * /proc/PID/maps only.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator.h"
#include "target/elf_module.h"
#include "probe_point.h"
#include "target/procmaps.h"

static const struct {
	const char *name;
	enum alloc_handler handler;
	unsigned args; /* integer arguments the entry probe reads */
} family[ALLOC_FUNCTION_COUNT] = {
	{ "malloc", HANDLER_MALLOC, 1 },
	{ "calloc", HANDLER_CALLOC, 2 },
	{ "realloc", HANDLER_REALLOC, 2 },
	{ "reallocarray", HANDLER_REALLOCARRAY, 3 },
	{ "posix_memalign", HANDLER_POSIX_MEMALIGN, 3 },
	{ "aligned_alloc", HANDLER_MEMALIGN, 2 },
	{ "memalign", HANDLER_MEMALIGN, 2 },
	{ "valloc", HANDLER_MALLOC, 1 },
	{ "pvalloc", HANDLER_MALLOC, 1 },
	{ "free", HANDLER_FREE, 1 },
};

static const char *const dedicated_allocators[] = { "jemalloc", "tcmalloc", "mimalloc" };

static bool file_defines_malloc(const char *path)
{
	static const char *const names[] = { "malloc", "free", NULL };

	return elf_file_defines(path, names);
}

static const char *allocator_kind(const char *path, bool is_exe)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(dedicated_allocators) / sizeof(*dedicated_allocators); i++)
		if (strstr(base, dedicated_allocators[i]))
			return dedicated_allocators[i];
	if (is_exe)
		return "static";
	/* musl's libc.so lives in a directory named for it; its loader is ld-musl-*. */
	if (strstr(path, "musl"))
		return "musl";
	if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5))
		return "glibc";
	return "custom";
}

static void set_paths(struct allocator *out, const char *open_path, const char *shown_path,
		      bool is_exe)
{
	snprintf(out->path, sizeof(out->path), "%s", open_path);
	snprintf(out->shown_path, sizeof(out->shown_path), "%s", shown_path);
	snprintf(out->name, sizeof(out->name), "%s", allocator_kind(shown_path, is_exe));
}

static int use_override(const char *obj_path, struct allocator *out)
{
	if (access(obj_path, R_OK))
		return -errno;
	if (!file_defines_malloc(obj_path))
		return -ENOEXEC;
	set_paths(out, obj_path, obj_path, false);
	return 0;
}

/* Rank a mapped file as a malloc provider: 3 exe, 2 dedicated allocator, 1 libc, 0 no. */
static int provider_rank(const struct mapping *m, const char *exe, const char *open_path)
{
	const char *kind;

	if (!m->executable || !mapping_is_file(m))
		return 0;
	if (exe && !strcmp(m->path, exe))
		return file_defines_malloc(open_path) ? 3 : 0;
	kind = allocator_kind(m->path, false);
	if (strcmp(kind, "glibc") && strcmp(kind, "musl") && strcmp(kind, "custom"))
		return file_defines_malloc(open_path) ? 2 : 0;
	if (!strcmp(kind, "glibc") || !strcmp(kind, "musl"))
		return file_defines_malloc(open_path) ? 1 : 0;
	return 0;
}

int allocator_find_for_pid(pid_t pid, const char *obj_path, struct allocator *out)
{
	struct mapping_list maps;
	char exe[4096], link[64], open_path[4096];
	int best_rank = 0, err;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (obj_path)
		return use_override(obj_path, out);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	err = mappings_read_pid(pid, &maps);
	if (err)
		return err;
	for (size_t i = 0; i < maps.count; i++) {
		const struct mapping *m = &maps.items[i];
		int rank;

		mapping_open_path(pid, m, open_path, sizeof(open_path));
		rank = m->executable ? provider_rank(m, n > 0 ? exe : NULL, open_path) : 0;
		if (rank > best_rank) {
			best_rank = rank;
			set_paths(out, open_path, m->path, rank == 3);
		}
	}
	mappings_free(&maps);
	return best_rank ? 0 : -ENOENT;
}

int allocator_from_mapping(pid_t pid, const struct mapping *m, bool is_exe,
			   struct allocator *out)
{
	static const char *const names[] = { "malloc", "free", NULL };
	char open_path[4096];

	memset(out, 0, sizeof(*out));
	mapping_open_path(pid, m, open_path, sizeof(open_path));
	/* A library's malloc serves others only if exported; an executable's need not be. */
	if (!elf_file_has_functions(open_path, names, !is_exe))
		return -ENOENT;
	set_paths(out, open_path, m->path, is_exe);
	return allocator_resolve(out);
}

/* DT_NEEDED entries naming a dedicated allocator, resolved in the usual directories. */
static int find_needed_allocator(const char *exe_path, char *found, size_t size)
{
	static const char *const dirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/local/lib",
		"/lib64", "/usr/lib64", "/lib", "/usr/lib",
	};
	int fd = open(exe_path, O_RDONLY | O_CLOEXEC), err = -ENOENT;
	Elf_Scn *scn = NULL;
	Elf *elf;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && err && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		for (int i = 0; err && gelf_getdyn(data, i, &dyn); i++) {
			const char *needed;

			if (dyn.d_tag != DT_NEEDED ||
			    !(needed = elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val)) ||
			    !strcmp(allocator_kind(needed, false), "custom") ||
			    !strcmp(allocator_kind(needed, false), "glibc"))
				continue;
			for (size_t d = 0; err && d < sizeof(dirs) / sizeof(*dirs); d++) {
				snprintf(found, size, "%s/%s", dirs[d], needed);
				if (!access(found, R_OK))
					err = 0;
			}
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/* A program linked against musl: its loader (PT_INTERP ld-musl-*) is musl's libc.so itself. */
static int find_musl_loader(const char *exe_path, char *found, size_t size)
{
	int fd = open(exe_path, O_RDONLY | O_CLOEXEC), err = -ENOENT;
	char resolved[PATH_MAX];
	size_t phnum;
	Elf *elf;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	for (size_t i = 0; elf && !elf_getphdrnum(elf, &phnum) && i < phnum && err; i++) {
		GElf_Phdr phdr;
		Elf_Data *data;
		char interp[256];

		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_INTERP ||
		    !(data = elf_getdata_rawchunk(elf, phdr.p_offset, phdr.p_filesz, ELF_T_BYTE)))
			continue;
		snprintf(interp, sizeof(interp), "%.*s", (int)data->d_size, (const char *)data->d_buf);
		if (strstr(interp, "ld-musl") && realpath(interp, resolved)) {
			snprintf(found, size, "%s", resolved);
			err = 0;
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/* The libc this process uses: a command started from here gets the same one. */
static int find_own_libc(char *found, size_t size)
{
	struct mapping_list maps;
	int err = mappings_read_pid(getpid(), &maps);

	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < maps.count && err; i++) {
		const struct mapping *m = &maps.items[i];

		if (m->executable && mapping_is_file(m) &&
		    !strcmp(allocator_kind(m->path, false), "glibc")) {
			snprintf(found, size, "%s", m->path);
			err = 0;
		}
	}
	mappings_free(&maps);
	return err;
}

int allocator_find_for_exe(const char *exe_path, const char *obj_path, struct allocator *out)
{
	char lib[4096];

	memset(out, 0, sizeof(*out));
	if (obj_path)
		return use_override(obj_path, out);
	if (file_defines_malloc(exe_path)) {
		set_paths(out, exe_path, exe_path, true);
		return 0;
	}
	if (!find_needed_allocator(exe_path, lib, sizeof(lib)) ||
	    !find_musl_loader(exe_path, lib, sizeof(lib)) || !find_own_libc(lib, sizeof(lib))) {
		set_paths(out, lib, lib, false);
		return 0;
	}
	return -ENOENT;
}

static bool has_probe(const struct allocator *alloc, const char *name)
{
	for (size_t i = 0; i < alloc->probe_count; i++)
		if (!strcmp(alloc->probes[i].name, name))
			return true;
	return false;
}

int allocator_resolve(struct allocator *alloc)
{
	struct elf_module *mod;
	int err = elf_module_open(alloc->path, &mod);

	if (err)
		return err;
	alloc->probe_count = 0;
	for (size_t i = 0; i < ALLOC_FUNCTION_COUNT; i++) {
		struct alloc_probe *probe = &alloc->probes[alloc->probe_count];
		struct probe_choice choice;
		uint64_t vaddr = elf_module_function_vaddr(mod, family[i].name);

		/* glibc's reallocarray calls realloc through the PLT: realloc's probes see it. */
		if (!vaddr || (!strcmp(family[i].name, "reallocarray") && !strcmp(alloc->name, "glibc")))
			continue;
		*probe = (struct alloc_probe){
			.name = family[i].name, .handler = family[i].handler,
			.has_return = family[i].handler != HANDLER_FREE, .vaddr = vaddr,
		};
		for (size_t j = 0; j < alloc->probe_count; j++)
			if (alloc->probes[j].vaddr == vaddr)
				probe->alias_of = alloc->probes[j].name;
		if (probe_point_place(mod, vaddr, PROBE_C_ARGS(family[i].args), &probe->file_offset,
				      &choice)) {
			err = -ENOEXEC;
			break;
		}
		probe->delta = choice.delta;
		probe->placement = choice.reason;
		alloc->probe_count++;
	}
	elf_module_close(mod);
	if (!err && (!has_probe(alloc, "malloc") || !has_probe(alloc, "free")))
		err = -ENOENT;
	return err;
}
