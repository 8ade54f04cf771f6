// SPDX-License-Identifier: MIT
/*
 * --unwind dwarf's tables (unwinder.h): each module's rows built once
 * (unwind_table.c) and written into `unwind_rows`, each traced process's
 * executable mappings into `unwind_spaces`, refreshed when the walk meets an
 * unknown pc.  It writes these two maps and reads no stack.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "leaksnoop.h"
#include "target/procmaps.h"
#include "attach/procs.h"
#include "unwind_table.h"
#include "unwinder.h"

/*
 * A process whose walk missed is reloaded after this long at first; each
 * reload that finds no new mapping (the misses come from code outside any
 * file, e.g. a JIT) doubles the wait, up to the maximum.
 */
#define RELOAD_MIN_NS 20000000ULL
#define RELOAD_MAX_NS 5000000000ULL

/* How often the reload thread looks at the processes' miss counts. */
#define WATCH_INTERVAL_US 10000

struct unwind_module {
	unsigned dev_major, dev_minor;
	uint64_t inode;
	struct unwind_table table; /* its segments; the rows live in the map */
	uint32_t first_row, row_count;
};

struct proc_space {
	bool loaded;
	bool gone; /* hidden by the follower: exited, or replaced by execve */
	pid_t pid;
	uint32_t mapping_count;
	unsigned long long loaded_ns, reload_wait_ns;
};

struct unwinder {
	int spaces_fd;
	struct unwind_row *rows; /* the map `unwind_rows`, mapped */
	size_t rows_bytes;
	uint32_t row_capacity, rows_used;
	struct unwind_module *modules;
	size_t module_count, module_cap;
	struct proc_space procs[LS_UNWIND_PROCS];
	bool verbose, full_said;
	/*
	 * A thread of its own reloads the processes that missed, so that a
	 * report being written (symbolizing can take a while) does not delay
	 * it; the lock covers everything above.
	 */
	pthread_mutex_t lock;
	pthread_t watcher;
	bool watching;
	volatile bool stop;
};

static void *watch_misses(void *arg);

struct unwinder *unwinder_new(int rows_fd, uint32_t row_capacity, int spaces_fd, bool verbose)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->spaces_fd = spaces_fd;
	u->row_capacity = row_capacity;
	u->verbose = verbose;
	/* An array map's elements are 8-byte aligned: struct unwind_row is 16 bytes. */
	u->rows_bytes = (size_t)row_capacity * sizeof(struct unwind_row);
	u->rows = mmap(NULL, u->rows_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, rows_fd, 0);
	if (u->rows == MAP_FAILED) {
		free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	u->watching = !pthread_create(&u->watcher, NULL, watch_misses, u);
	return u;
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	u->stop = true;
	if (u->watching)
		pthread_join(u->watcher, NULL);
	pthread_mutex_destroy(&u->lock);
	munmap(u->rows, u->rows_bytes);
	for (size_t i = 0; i < u->module_count; i++)
		unwind_table_free(&u->modules[i].table);
	free(u->modules);
	free(u);
}

/* The rows of the file behind m, as the target sees it. */
static int build_table(pid_t pid, const struct mapping *m, struct unwind_table *table)
{
	char path[4200];

	mapping_open_path(pid, m, path, sizeof(path));
	return unwind_table_build(path, table);
}

/* Copy a module's rows into the map; a module that does not fit gets none. */
static void store_rows(struct unwinder *u, struct unwind_module *mod, const char *path)
{
	struct unwind_table *t = &mod->table;

	if (t->count > u->row_capacity - u->rows_used) {
		if (!u->full_said)
			fprintf(stderr, "leaksnoop: no room for the unwind rows of %s (%zu rows, %u of "
				"%u used): stacks end in it\n", path, t->count, u->rows_used,
				u->row_capacity);
		u->full_said = true;
		t->count = 0;
	}
	if (t->count)
		memcpy(&u->rows[u->rows_used], t->rows, t->count * sizeof(*t->rows));
	mod->first_row = u->rows_used;
	mod->row_count = (uint32_t)t->count;
	u->rows_used += (uint32_t)t->count;
	free(t->rows); /* the map has them now */
	t->rows = NULL;
}

static struct unwind_module *module_of(struct unwinder *u, pid_t pid, const struct mapping *m)
{
	struct unwind_module *mod;
	int err;

	for (size_t i = 0; i < u->module_count; i++) {
		mod = &u->modules[i];
		if (mod->inode == m->inode && mod->dev_major == m->dev_major &&
		    mod->dev_minor == m->dev_minor)
			return mod;
	}
	if (u->module_count == u->module_cap) {
		size_t cap = u->module_cap ? 2 * u->module_cap : 32;
		struct unwind_module *grown = realloc(u->modules, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		u->modules = grown;
		u->module_cap = cap;
	}
	mod = &u->modules[u->module_count++];
	memset(mod, 0, sizeof(*mod));
	mod->dev_major = m->dev_major;
	mod->dev_minor = m->dev_minor;
	mod->inode = m->inode;
	err = build_table(pid, m, &mod->table);
	if (err) {
		if (u->verbose)
			fprintf(stderr, "leaksnoop: %s: no call frame information to unwind with "
				"(%s): stacks end in it\n", m->path, strerror(-err));
	}
	store_rows(u, mod, m->path);
	if (!err && u->verbose)
		fprintf(stderr, "leaksnoop: %s: %u unwind rows\n", m->path, mod->row_count);
	return mod;
}

static int load_locked(struct unwinder *u, uint32_t proc, pid_t pid)
{
	struct mapping_list maps = { 0 };
	struct unwind_space *space;
	struct proc_space *p;
	int err;

	if (proc >= LS_UNWIND_PROCS)
		return -ENOSPC;
	p = &u->procs[proc];
	p->loaded = true;
	p->pid = pid;
	p->loaded_ns = monotonic_ns();
	err = mappings_read_pid(pid, &maps);
	if (err)
		return err;
	space = calloc(1, sizeof(*space));
	if (!space) {
		mappings_free(&maps);
		return -ENOMEM;
	}
	/* /proc/PID/maps is sorted by address, as the BPF search needs. */
	for (size_t i = 0; i < maps.count && space->count < LS_UNWIND_MAPPINGS; i++) {
		const struct mapping *m = &maps.items[i];
		struct unwind_mapping *um = &space->mappings[space->count];
		struct unwind_module *mod;
		uint64_t bias;

		if (!m->executable || !mapping_is_file(m))
			continue;
		mod = module_of(u, pid, m);
		if (!mod)
			continue;
		um->start = m->start;
		um->end = m->end;
		um->first_row = mod->first_row;
		um->row_count = mod->row_count;
		if (unwind_table_bias(&mod->table, m->start, m->file_offset, &bias))
			um->row_count = 0;
		um->bias = bias;
		space->count++;
	}
	mappings_free(&maps);
	/* A walk racing this update may read a mix of old and new: it is bounded. */
	err = bpf_map_update_elem(u->spaces_fd, &proc, space, BPF_ANY) ? -errno : 0;
	/* No new mapping since the last load: wait longer before the next. */
	p->reload_wait_ns = p->reload_wait_ns && space->count == p->mapping_count ?
		2 * p->reload_wait_ns : RELOAD_MIN_NS;
	if (p->reload_wait_ns > RELOAD_MAX_NS)
		p->reload_wait_ns = RELOAD_MAX_NS;
	p->mapping_count = space->count;
	free(space);
	return err;
}

int unwinder_load(struct unwinder *u, uint32_t proc, pid_t pid)
{
	int err;

	pthread_mutex_lock(&u->lock);
	err = load_locked(u, proc, pid);
	pthread_mutex_unlock(&u->lock);
	return err;
}

/* The BPF walk met a pc in no mapping of proc since its space was written. */
static bool missed(const struct unwinder *u, uint32_t proc)
{
	struct unwind_space space;

	return !bpf_map_lookup_elem(u->spaces_fd, &proc, &space) && space.misses;
}

/* Reload the spaces of the processes whose walks missed (see struct unwinder). */
static void reload_missed(struct unwinder *u)
{
	unsigned long long now = monotonic_ns();

	for (uint32_t proc = 0; proc < LS_UNWIND_PROCS; proc++) {
		struct proc_space *p = &u->procs[proc];

		if (!p->loaded || p->gone || now - p->loaded_ns < p->reload_wait_ns ||
		    !missed(u, proc))
			continue;
		if (u->verbose)
			fprintf(stderr, "leaksnoop: PID %d ran code outside its known mappings: "
				"reading them again\n", (int)p->pid);
		load_locked(u, proc, p->pid);
	}
}

static void *watch_misses(void *arg)
{
	struct unwinder *u = arg;

	while (!u->stop) {
		pthread_mutex_lock(&u->lock);
		reload_missed(u);
		pthread_mutex_unlock(&u->lock);
		usleep(WATCH_INTERVAL_US);
	}
	return NULL;
}

void unwinder_reload_pid(struct unwinder *u, pid_t pid)
{
	pthread_mutex_lock(&u->lock);
	for (uint32_t proc = 0; proc < LS_UNWIND_PROCS; proc++)
		if (u->procs[proc].loaded && !u->procs[proc].gone && u->procs[proc].pid == pid)
			load_locked(u, proc, pid);
	pthread_mutex_unlock(&u->lock);
}

void unwinder_poll(struct unwinder *u, struct proc_follower *procs)
{
	uint32_t count = procs ? proc_follower_count(procs) : 1;

	if (count > LS_UNWIND_PROCS)
		count = LS_UNWIND_PROCS;
	pthread_mutex_lock(&u->lock);
	for (uint32_t proc = 0; proc < count; proc++) {
		struct proc_space *p = &u->procs[proc];
		pid_t pid = procs ? proc_follower_pid(procs, proc) : p->pid;

		p->gone = pid <= 0 || (procs && proc_follower_hidden(procs, proc));
		if (p->loaded || p->gone)
			continue;
		if (load_locked(u, proc, pid) && u->verbose)
			fprintf(stderr, "leaksnoop: cannot read the mappings of PID %d for "
				"unwinding\n", (int)pid);
	}
	pthread_mutex_unlock(&u->lock);
}
