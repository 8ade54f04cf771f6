// SPDX-License-Identifier: MIT
/*
 * The symbolizer (symbolize.h): a process's mappings read through
 * /proc/PID/root, each module parsed once (elf_module.c, debuginfo.c) and its
 * symbols binary-searched; Go code named by its .gopclntab, as the Go
 * runtime and pprof name it; kernel frames through kallsyms.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "debuginfo.h"
#include "target/elf_module.h"
#include "target/gopclntab.h"
#include "kallsyms.h"
#include "symbolize.h"

/* libstdc++'s demangler, the one the C++ toolchain itself uses. */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *length, int *status);

/* A file loaded once, shared by every mapping of the same build id (or inode). */
struct module_entry {
	unsigned dev_major, dev_minor;
	uint64_t inode;
	struct elf_module *elf;  /* NULL when the file could not be read */
	struct line_table *lines;
	struct module_entry *same_build; /* entry that owns elf/lines, or NULL if this one does */
	bool frame_pointers;
};

struct symbolizer {
	pid_t pid;
	char root[64];
	struct mapping_list mappings;
	struct module_entry *modules;
	size_t module_count, module_cap;
	struct kallsyms kernel; /* read at the first kernel frame */
	bool kernel_read;
};

bool stack_reaches_root(const struct frame *frames, size_t depth)
{
	static const char *const roots[] = {
		"_start", "__libc_start_main", "__libc_start_call_main", "start_thread", "clone",
		"clone3", "__clone3", "runtime.goexit", "runtime.goexit.abi0", "runtime.mstart",
		"runtime.rt0_go.abi0",
		/* kernel stacks: a system call, a kernel thread, an interrupt */
		"entry_SYSCALL_64_after_hwframe", "entry_SYSCALL_64", "ret_from_fork",
		"ret_from_fork_asm", "asm_sysvec_apic_timer_interrupt", "asm_exc_page_fault",
	};
	const char *last = depth ? frames[depth - 1].symbol : NULL;

	for (size_t i = 0; last && i < sizeof(roots) / sizeof(*roots); i++)
		if (!strcmp(last, roots[i]))
			return true;
	return false;
}

const char *stack_module_without_fp(const struct frame *frames, size_t depth)
{
	for (size_t i = 1; i + 1 < depth; i++)
		if (frames[i].frame_pointers == 0)
			return frames[i].module;
	return depth && frames[0].frame_pointers == 0 && !stack_reaches_root(frames, depth) ?
		frames[0].module : NULL;
}

const char *demangle(const char *name, char *buf, size_t size)
{
	char *out;
	int status = -1;

	if (strncmp(name, "_Z", 2))
		return name;
	out = __cxa_demangle(name, NULL, NULL, &status);
	if (status || !out) {
		free(out);
		return name;
	}
	snprintf(buf, size, "%s", out);
	free(out);
	return buf;
}

/* Replace mangled names in place so each is demangled once per module. */
static void demangle_module(struct elf_module *mod)
{
	char buf[1024];

	for (size_t i = 0; i < mod->string_count; i++) {
		const char *pretty = demangle(mod->string_pool[i], buf, sizeof(buf));
		char *copy;

		if (pretty == mod->string_pool[i] || !(copy = strdup(pretty)))
			continue;
		for (size_t s = 0; s < mod->symbol_count; s++)
			if (mod->symbols[s].name == mod->string_pool[i])
				mod->symbols[s].name = copy;
		free(mod->string_pool[i]);
		mod->string_pool[i] = copy;
	}
}

struct symbolizer *symbolizer_new(pid_t pid)
{
	struct symbolizer *sym = calloc(1, sizeof(*sym));

	if (!sym)
		return NULL;
	sym->pid = pid;
	snprintf(sym->root, sizeof(sym->root), "/proc/%d/root", (int)pid);
	return sym;
}

void symbolizer_free(struct symbolizer *sym)
{
	if (!sym)
		return;
	for (size_t i = 0; i < sym->module_count; i++) {
		if (sym->modules[i].same_build)
			continue;
		line_table_close(sym->modules[i].lines);
		elf_module_close(sym->modules[i].elf);
	}
	free(sym->modules);
	mappings_free(&sym->mappings);
	kallsyms_free(&sym->kernel);
	free(sym);
}

static struct module_entry *find_module(struct symbolizer *sym, const struct mapping *m)
{
	for (size_t i = 0; i < sym->module_count; i++) {
		struct module_entry *e = &sym->modules[i];

		if (e->inode == m->inode && e->dev_major == m->dev_major &&
		    e->dev_minor == m->dev_minor)
			return e->same_build ? e->same_build : e;
	}
	return NULL;
}

static struct module_entry *find_build_id(struct symbolizer *sym, const char *build_id)
{
	for (size_t i = 0; i < sym->module_count; i++) {
		struct module_entry *e = &sym->modules[i];

		if (!e->same_build && e->elf && e->elf->build_id[0] &&
		    !strcmp(e->elf->build_id, build_id))
			return e;
	}
	return NULL;
}

/* Path through which this process can read the file the target mapped. */
static void module_open_path(const struct symbolizer *sym, const struct mapping *m,
			     char *buf, size_t size)
{
	if (mapping_is_deleted(m))
		snprintf(buf, size, "/proc/%d/map_files/%llx-%llx", (int)sym->pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
	else
		snprintf(buf, size, "%s%s", sym->root, m->path);
}

/*
 * Once the process is gone, /proc/PID/root leads nowhere: a file at the same
 * path here is the one it mapped if it is the same inode (a process on the
 * host's files; one in a container of its own stays unnamed).
 */
static bool same_file_here(const struct mapping *m)
{
	struct stat st;

	return !mapping_is_deleted(m) && !stat(m->path, &st) && st.st_ino == m->inode &&
	       major(st.st_dev) == m->dev_major && minor(st.st_dev) == m->dev_minor;
}

static void load_debug_info(struct module_entry *entry, const char *root,
			    const struct mapping *m)
{
	struct elf_module *mod = entry->elf;
	char debug_path[4096];

	if (!debuginfo_find(mod, root, m->path, debug_path, sizeof(debug_path))) {
		elf_module_merge_symbols(mod, debug_path);
		entry->lines = line_table_open(debug_path);
	}
	if (!entry->lines && mod->has_dwarf)
		entry->lines = line_table_open(mod->path);
}

static int load_module(struct symbolizer *sym, const struct mapping *m)
{
	struct module_entry entry = {
		.dev_major = m->dev_major, .dev_minor = m->dev_minor, .inode = m->inode,
	};
	const char *root = sym->root;
	char path[4096];

	if (sym->module_count == sym->module_cap) {
		size_t grown = sym->module_cap ? sym->module_cap * 2 : 32;
		struct module_entry *mods = realloc(sym->modules, grown * sizeof(*mods));

		if (!mods)
			return -ENOMEM;
		sym->modules = mods;
		sym->module_cap = grown;
	}
	module_open_path(sym, m, path, sizeof(path));
	if (elf_module_open(path, &entry.elf) && same_file_here(m) &&
	    elf_module_open(m->path, &entry.elf) == 0)
		root = "";
	if (entry.elf) {
		struct module_entry *twin = entry.elf->build_id[0] ?
			find_build_id(sym, entry.elf->build_id) : NULL;

		if (twin) {
			elf_module_close(entry.elf);
			entry.elf = twin->elf;
			entry.same_build = twin;
		} else {
			entry.frame_pointers = elf_module_has_frame_pointers(entry.elf);
			load_debug_info(&entry, root, m);
			demangle_module(entry.elf);
		}
	}
	sym->modules[sym->module_count++] = entry;
	return 0;
}

static int load_new_modules(struct symbolizer *sym)
{
	for (size_t i = 0; i < sym->mappings.count; i++) {
		const struct mapping *m = &sym->mappings.items[i];
		int err;

		if (!m->executable || !mapping_is_file(m) || find_module(sym, m))
			continue;
		err = load_module(sym, m);
		if (err)
			return err;
	}
	return 0;
}

int symbolizer_refresh(struct symbolizer *sym)
{
	struct mapping_list fresh;
	int err = mappings_read_pid(sym->pid, &fresh);

	if (err)
		return err; /* keep what we had: the target may have exited */
	if (!fresh.count) {
		/* Exiting (an OOM victim, say): its address space is being torn down. */
		mappings_free(&fresh);
		return -ESRCH;
	}
	mappings_free(&sym->mappings);
	sym->mappings = fresh;
	return load_new_modules(sym);
}

void symbolizer_set_mappings(struct symbolizer *sym, struct mapping_list *list, const char *root)
{
	mappings_free(&sym->mappings);
	sym->mappings = *list;
	list->items = NULL;
	list->count = 0;
	snprintf(sym->root, sizeof(sym->root), "%s", root);
	load_new_modules(sym);
}

/* A kernel frame: symbol and module ("[kernel]", "[ext4]") from /proc/kallsyms. */
static void symbolize_kernel_address(struct symbolizer *sym, uint64_t addr, uint64_t lookup,
				     struct frame *frame)
{
	const struct kernel_symbol *found;
	uint64_t offset;

	if (!sym->kernel_read) {
		FILE *in = fopen("/proc/kallsyms", "r");

		sym->kernel_read = true;
		if (in) {
			kallsyms_read(in, &sym->kernel);
			fclose(in);
		}
	}
	frame->offset = addr;
	frame->frame_pointers = 1; /* the kernel's unwinder does not need them */
	found = kallsyms_lookup(&sym->kernel, lookup, &offset);
	if (!found)
		return;
	frame->symbol = found->name;
	frame->module = found->module;
	frame->offset = offset + (addr - lookup);
}

void symbolize_address(struct symbolizer *sym, uint64_t addr, bool return_address,
		       struct frame *frame)
{
	uint64_t lookup = return_address && addr ? addr - 1 : addr;
	const struct mapping *m = mappings_find(&sym->mappings, lookup);
	const struct module_entry *entry;
	const struct elf_symbol *found;
	uint64_t vaddr, sym_offset;
	struct go_pc_info go;

	memset(frame, 0, sizeof(*frame));
	frame->addr = addr;
	frame->frame_pointers = -1;
	if (is_kernel_address(addr)) {
		symbolize_kernel_address(sym, addr, lookup, frame);
		return;
	}
	if (!m || !mapping_is_file(m)) {
		frame->offset = addr;
		return;
	}
	frame->module = m->path;
	frame->offset = addr - m->start + m->file_offset; /* module+offset when unresolved */
	frame->map_start = m->start;
	frame->map_end = m->end;
	frame->map_file_offset = m->file_offset;
	entry = find_module(sym, m);
	if (entry && entry->elf && entry->elf->build_id[0])
		frame->build_id = entry->elf->build_id;
	if (entry && entry->elf)
		frame->frame_pointers = entry->frame_pointers;
	if (!entry || !entry->elf ||
	    elf_module_offset_to_vaddr(entry->elf, lookup - m->start + m->file_offset, &vaddr))
		return;
	if (entry->elf->go_pclntab && gopclntab_lookup(entry->elf->go_pclntab, vaddr, &go)) {
		frame->symbol = go.function;
		frame->offset = vaddr - go.entry + (addr - lookup);
		frame->file = go.file;
		frame->line = go.line;
		return;
	}
	found = elf_module_lookup(entry->elf, vaddr, &sym_offset);
	if (found) {
		frame->symbol = found->name;
		frame->offset = sym_offset + (addr - lookup);
	}
	line_table_lookup(entry->lines, vaddr, &frame->file, &frame->line);
}

size_t symbolize_stack(struct symbolizer *sym, const struct stack_trace *trace,
		       struct frame *frames)
{
	size_t depth = trace ? trace->depth : 0, n;

	/* A zero return address ends the frame chain (the unwinder's sentinel). */
	for (n = 0; n < depth && trace->ips[n]; n++)
		symbolize_address(sym, trace->ips[n], true, &frames[n]);
	return n;
}
