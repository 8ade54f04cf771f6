// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/procmaps.h"
#include "procs.h"
#include "symbols/symbolize.h"

/* Processes with a symbolizer of their own at once; the rest use the target's. */
#define MAX_CHILD_SYMBOLIZERS 256

struct proc_state {
	pid_t pid;
	uint32_t origin;
	char comm[16];
	/*
	 * Its mappings when it was adopted: a process that exits before a report
	 * needs them to be symbolized (a symbolizer per process costs ~40 ms, so
	 * one is made only when a report needs it).
	 */
	struct mapping_list maps;
	bool superseded;  /* its process exec'd: a newer proc stands for it */
	bool exited;      /* a child that is gone */
	bool exit_shown;  /* ... and a report showed its final numbers */
};

struct proc_follower {
	int table_fd, used_fd;
	pid_t target;
	attach_child_fn attach;
	void *arg;
	bool verbose;
	uint32_t seen;
	struct proc_state procs[LS_MAX_PROCS];
	struct {
		pid_t pid;
		struct symbolizer *sym;
	} symbolizers[MAX_CHILD_SYMBOLIZERS];
	size_t symbolizer_count;
};

struct proc_follower *proc_follower_new(int table_fd, int used_fd, pid_t target,
					attach_child_fn attach, void *arg, bool verbose)
{
	struct proc_follower *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->table_fd = table_fd;
	f->used_fd = used_fd;
	f->target = target;
	f->attach = attach;
	f->arg = arg;
	f->verbose = verbose;
	f->procs[0].pid = target;
	f->procs[0].origin = LS_PROC_TARGET;
	f->seen = 1;
	return f;
}

void proc_follower_free(struct proc_follower *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->seen; i++)
		mappings_free(&f->procs[i].maps);
	for (size_t i = 0; i < f->symbolizer_count; i++)
		symbolizer_free(f->symbolizers[i].sym);
	free(f);
}

void read_process_comm(pid_t pid, char *comm, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)size, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

static void adopt(struct proc_follower *f, uint32_t index, const struct proc_entry *entry)
{
	struct proc_state *p = &f->procs[index];
	int err;

	p->pid = (pid_t)entry->tgid;
	p->origin = entry->origin;
	memcpy(p->comm, entry->comm, sizeof(p->comm) - 1);
	read_process_comm(p->pid, p->comm, sizeof(p->comm));
	if (entry->origin == LS_PROC_UNUSED) {
		p->superseded = true; /* an index lost to a race: nothing is charged to it */
		return;
	}
	if (mappings_read_pid(p->pid, &p->maps))
		p->maps.count = 0;
	if (entry->origin == LS_PROC_SEEN || entry->origin == LS_PROC_GIVEN)
		return; /* probed already: system-wide, or attached at start */
	if (entry->origin == LS_PROC_EXEC) {
		if (entry->parent < index)
			f->procs[entry->parent].superseded = true;
		if (f->verbose)
			fprintf(stderr, "leaksnoop: PID %d ran execve: what its previous image held is "
				"no longer reported\n", (int)p->pid);
		return;
	}
	/* A fork: the child runs untraced until its probes are attached. */
	err = f->attach(f->arg, p->pid);
	if (err)
		fprintf(stderr, "leaksnoop: cannot follow child PID %d: %s\n", (int)p->pid,
			strerror(-err));
	else if (f->verbose)
		fprintf(stderr, "leaksnoop: following child PID %d (forked by PID %d)\n",
			(int)p->pid, (int)f->procs[entry->parent].pid);
}

void proc_follower_poll(struct proc_follower *f)
{
	__u32 zero = 0, used = 0;

	if (bpf_map_lookup_elem(f->used_fd, &zero, &used))
		return;
	if (used > LS_MAX_PROCS)
		used = LS_MAX_PROCS;
	while (f->seen < used) {
		struct proc_entry entry;
		__u32 index = f->seen;

		/* The kernel fills an entry just after taking its index: read it again later. */
		if (bpf_map_lookup_elem(f->table_fd, &index, &entry) || !entry.tgid)
			return;
		adopt(f, index, &entry);
		f->seen++;
	}
}

/* Gone, or a zombie nobody reaped yet (its memory is freed either way). */
static bool process_gone(pid_t pid)
{
	char path[64], state = 0;
	FILE *stat;
	int matched;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = fopen(path, "re");
	if (!stat)
		return true;
	/* "PID (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'. */
	matched = fscanf(stat, "%*d (%*[^)]) %c", &state);
	fclose(stat);
	return matched == 1 && (state == 'Z' || state == 'X');
}

void proc_follower_check_exits(struct proc_follower *f)
{
	for (uint32_t i = 1; i < f->seen; i++) {
		struct proc_state *p = &f->procs[i];

		if (!p->exited && p->pid != f->target && process_gone(p->pid))
			p->exited = true;
	}
	/* A child's own symbolizer follows its mappings while it lives (dlopen, exec). */
	for (size_t i = 0; i < f->symbolizer_count; i++)
		if (!process_gone(f->symbolizers[i].pid))
			symbolizer_refresh(f->symbolizers[i].sym);
}

void proc_follower_report_done(struct proc_follower *f)
{
	for (uint32_t i = 1; i < f->seen; i++)
		if (f->procs[i].exited) {
			f->procs[i].exit_shown = true;
			mappings_free(&f->procs[i].maps);
		}
	/* A process shown gone needs no symbolizer any more. */
	for (size_t i = 0; i < f->symbolizer_count;) {
		if (process_gone(f->symbolizers[i].pid)) {
			symbolizer_free(f->symbolizers[i].sym);
			f->symbolizers[i] = f->symbolizers[--f->symbolizer_count];
		} else {
			i++;
		}
	}
}

const char *proc_follower_comm(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && f->procs[proc].comm[0] ? f->procs[proc].comm : NULL;
}

pid_t proc_follower_pid(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen ? f->procs[proc].pid : 0;
}

bool proc_follower_hidden(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && (f->procs[proc].superseded || f->procs[proc].exit_shown);
}

bool proc_follower_exited(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && f->procs[proc].exited;
}

bool proc_follower_given_gone(struct proc_follower *f)
{
	proc_follower_poll(f);
	for (uint32_t i = 1; i < f->seen; i++)
		if (f->procs[i].origin == LS_PROC_GIVEN && !process_gone(f->procs[i].pid))
			return false;
	return true;
}

uint32_t proc_follower_count(const struct proc_follower *f)
{
	return f->seen;
}

struct symbolizer *proc_follower_symbolizer(struct proc_follower *f, uint32_t proc,
					    struct symbolizer *target_symbolizer)
{
	pid_t pid = proc_follower_pid(f, proc);

	if (!pid || pid == f->target)
		return target_symbolizer;
	for (size_t i = 0; i < f->symbolizer_count; i++)
		if (f->symbolizers[i].pid == pid)
			return f->symbolizers[i].sym;
	if (f->symbolizer_count == MAX_CHILD_SYMBOLIZERS)
		return target_symbolizer; /* forked from it: the same code until an exec */
	f->symbolizers[f->symbolizer_count].sym = symbolizer_new(pid);
	if (!f->symbolizers[f->symbolizer_count].sym)
		return target_symbolizer;
	f->symbolizers[f->symbolizer_count].pid = pid;
	if (process_gone(pid) && f->procs[proc].maps.count)
		/* Its files as the host sees them: its own root went with it. */
		symbolizer_set_mappings(f->symbolizers[f->symbolizer_count].sym,
					&f->procs[proc].maps, "");
	else
		symbolizer_refresh(f->symbolizers[f->symbolizer_count].sym);
	return f->symbolizers[f->symbolizer_count++].sym;
}
