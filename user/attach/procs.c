// SPDX-License-Identifier: MIT
/*
 * Following processes (procs.h): new entries of map `proc_table` adopted,
 * children given their probes, exits and replaced images noted.  It decides
 * what is hidden from reports; it neither reads stacks nor symbolizes.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/cgroup.h"
#include "target/procmaps.h"
#include "procs.h"

struct proc_state {
	pid_t pid;
	uint32_t origin;
	uint32_t parent;  /* the proc it was forked from or exec'd out of */
	char comm[16];
	uint64_t cgroup_id;   /* 0: not known from the BPF side (the target) */
	char cgroup[256];     /* its cgroup v2 path when adopted, "" when unknown */
	char container[72];   /* the container that path names, or "" */
	/*
	 * Its mappings when it was adopted: a process that exits before a report
	 * needs them to be symbolized (symbols/proc_symbolizers.c).
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
};

/*
 * Which cgroup p is in: a child is mostly in its parent's (same id, no
 * read); one gone already is looked up by the id the kernel gave.
 */
static void find_cgroup(struct proc_state *p, const struct proc_state *parent)
{
	if (parent && p->cgroup_id && parent->cgroup_id == p->cgroup_id) {
		memcpy(p->cgroup, parent->cgroup, sizeof(p->cgroup));
	} else if (cgroup_of_pid(p->pid, p->cgroup, sizeof(p->cgroup)) &&
		   (!p->cgroup_id || cgroup_path_of_id(p->cgroup_id, p->cgroup, sizeof(p->cgroup)))) {
		p->cgroup[0] = '\0';
		return;
	}
	if (!cgroup_container_id(p->cgroup, p->container, sizeof(p->container)))
		p->container[0] = '\0';
}

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
	if (target) {
		find_cgroup(&f->procs[0], NULL);
		/* Kept for when an exec replaces it: what it opened may outlive it. */
		if (mappings_read_pid(target, &f->procs[0].maps))
			f->procs[0].maps.count = 0;
	}
	f->seen = 1;
	return f;
}

void proc_follower_free(struct proc_follower *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->seen; i++)
		mappings_free(&f->procs[i].maps);
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

/* Forked (or exec'd) from the target, however many generations back? */
static bool descends_from_target(const struct proc_follower *f, uint32_t index)
{
	for (unsigned hops = 0; hops < LS_MAX_PROCS && index <= f->seen; hops++) {
		const struct proc_state *p = &f->procs[index];

		if (p->origin == LS_PROC_TARGET)
			return true;
		if (p->origin != LS_PROC_FORK && p->origin != LS_PROC_EXEC)
			return false;
		if (p->parent >= index)
			return false;
		index = p->parent;
	}
	return false;
}

static void adopt(struct proc_follower *f, uint32_t index, const struct proc_entry *entry)
{
	struct proc_state *p = &f->procs[index];
	int err;

	p->pid = (pid_t)entry->tgid;
	p->origin = entry->origin;
	p->parent = entry->parent;
	memcpy(p->comm, entry->comm, sizeof(p->comm) - 1);
	read_process_comm(p->pid, p->comm, sizeof(p->comm));
	p->cgroup_id = entry->cgroup_id;
	if (entry->origin == LS_PROC_UNUSED) {
		p->superseded = true; /* an index lost to a race: nothing is charged to it */
		return;
	}
	if (mappings_read_pid(p->pid, &p->maps))
		p->maps.count = 0;
	find_cgroup(p, entry->parent < index && entry->origin != LS_PROC_SEEN &&
		       entry->origin != LS_PROC_GIVEN ? &f->procs[entry->parent] : NULL);
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
	/*
	 * A fork: the target's children carry the probes they inherited; any
	 * other runs untraced until its probes are attached.  One that is gone
	 * already needed none.
	 */
	err = f->attach(f->arg, p->pid, descends_from_target(f, index));
	if (err && f->verbose && !process_gone(p->pid))
		fprintf(stderr, "leaksnoop: cannot follow child PID %d: %s\n", (int)p->pid,
			strerror(-err));
	else if (!err && f->verbose)
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

char process_state(pid_t pid)
{
	char path[64], state = 0;
	FILE *stat;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = fopen(path, "re");
	if (!stat)
		return 0;
	/* "PID (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'. */
	if (fscanf(stat, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(stat);
	return state;
}

bool process_gone(pid_t pid)
{
	char state;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	state = process_state(pid);
	return !state || state == 'Z' || state == 'X';
}

void proc_follower_check_exits(struct proc_follower *f)
{
	for (uint32_t i = 1; i < f->seen; i++) {
		struct proc_state *p = &f->procs[i];

		if (!p->exited && p->pid != f->target && process_gone(p->pid))
			p->exited = true;
	}
}

void proc_follower_report_done(struct proc_follower *f)
{
	for (uint32_t i = 1; i < f->seen; i++)
		if (f->procs[i].exited) {
			f->procs[i].exit_shown = true;
			mappings_free(&f->procs[i].maps);
		}
}

const char *proc_follower_comm(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && f->procs[proc].comm[0] ? f->procs[proc].comm : NULL;
}

const char *proc_follower_cgroup(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && f->procs[proc].cgroup[0] ? f->procs[proc].cgroup : NULL;
}

const char *proc_follower_container(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && f->procs[proc].container[0] ? f->procs[proc].container : NULL;
}

pid_t proc_follower_pid(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen ? f->procs[proc].pid : 0;
}

uint32_t proc_follower_image_of(const struct proc_follower *f, pid_t pid)
{
	for (uint32_t proc = f->seen; proc-- > 0;)
		if (f->procs[proc].pid == pid && !f->procs[proc].superseded)
			return proc;
	return LS_NO_PROC;
}

void proc_follower_remap(struct proc_follower *f, pid_t pid)
{
	uint32_t proc;

	/* An exec told first: the new image's mappings are not its old image's. */
	proc_follower_poll(f);
	proc = proc_follower_image_of(f, pid);
	struct mapping_list fresh;

	if (proc == LS_NO_PROC || f->procs[proc].exited || mappings_read_pid(pid, &fresh))
		return;
	if (!fresh.count) {
		mappings_free(&fresh); /* exiting: what was read before is better */
		return;
	}
	mappings_free(&f->procs[proc].maps);
	f->procs[proc].maps = fresh;
}

bool proc_follower_hidden(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && (f->procs[proc].superseded || f->procs[proc].exit_shown);
}

bool proc_follower_replaced(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && f->procs[proc].superseded &&
	       f->procs[proc].origin != LS_PROC_UNUSED;
}

bool proc_follower_exit_shown(const struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen && f->procs[proc].exit_shown;
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

pid_t proc_follower_target(const struct proc_follower *f)
{
	return f->target;
}

bool proc_follower_forked_image(const struct proc_follower *f, uint32_t proc)
{
	while (proc < f->seen && f->procs[proc].origin == LS_PROC_FORK && f->procs[proc].parent < proc)
		proc = f->procs[proc].parent;
	return proc < f->seen && f->procs[proc].origin == LS_PROC_TARGET;
}

struct mapping_list *proc_follower_adopted_maps(struct proc_follower *f, uint32_t proc)
{
	return proc < f->seen ? &f->procs[proc].maps : NULL;
}
