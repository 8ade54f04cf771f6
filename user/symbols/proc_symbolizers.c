// SPDX-License-Identifier: MIT
/*
 * Symbolizers of the processes followed besides the target, made on demand
 * and freed once their process has been shown gone.  Which processes exist
 * is attach/procs.c's to say; this file only names their addresses.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "attach/procs.h"
#include "proc_symbolizers.h"
#include "symbolize.h"

#define MAX_PROC_SYMBOLIZERS 256

struct proc_symbolizers {
	struct proc_follower *procs;
	struct {
		pid_t pid;
		bool replaced;          /* an image an exec replaced: its mappings frozen */
		uint32_t proc;          /* which, when replaced */
		struct symbolizer *sym;
	} items[MAX_PROC_SYMBOLIZERS];
	size_t count;
};

struct proc_symbolizers *proc_symbolizers_new(struct proc_follower *procs)
{
	struct proc_symbolizers *ps = calloc(1, sizeof(*ps));

	if (ps)
		ps->procs = procs;
	return ps;
}

void proc_symbolizers_free(struct proc_symbolizers *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->count; i++)
		symbolizer_free(ps->items[i].sym);
	free(ps);
}

/*
 * A live process's mappings from /proc; a gone one's as they were adopted.
 * One that exits while they are read may leave them half read: it is looked
 * at again afterwards.
 */
static void read_mappings(struct symbolizer *sym, pid_t pid, struct mapping_list *adopted)
{
	/* Unread: gone, or exiting with its address space torn down already. */
	bool unread = process_gone(pid) || symbolizer_refresh(sym);

	if ((unread || process_gone(pid)) && adopted && adopted->count)
		/* Its files as the host sees them: its own root went with it. */
		symbolizer_set_mappings(sym, adopted, "");
}

/*
 * An image an exec replaced, from the mappings kept for it (what it opened
 * outlives it: descriptors); the current one's when none were kept.
 */
static struct symbolizer *replaced_image(struct proc_symbolizers *ps, uint32_t proc, pid_t pid,
					 struct symbolizer *target)
{
	struct mapping_list *kept = proc_follower_adopted_maps(ps->procs, proc);
	struct symbolizer *sym;

	for (size_t i = 0; i < ps->count; i++)
		if (ps->items[i].replaced && ps->items[i].proc == proc)
			return ps->items[i].sym;
	if (!kept || !kept->count || ps->count == MAX_PROC_SYMBOLIZERS ||
	    !(sym = symbolizer_new(pid)))
		return target;
	symbolizer_set_mappings(sym, kept, "");
	ps->items[ps->count].pid = pid;
	ps->items[ps->count].replaced = true;
	ps->items[ps->count].proc = proc;
	ps->items[ps->count].sym = sym;
	ps->count++;
	return sym;
}

struct symbolizer *proc_symbolizer(struct proc_symbolizers *ps, uint32_t proc,
				   struct symbolizer *target)
{
	pid_t pid = proc_follower_pid(ps->procs, proc);
	struct mapping_list *adopted;
	struct symbolizer *sym;

	if (pid && proc_follower_replaced(ps->procs, proc))
		return replaced_image(ps, proc, pid, target);
	if (!pid || pid == proc_follower_target(ps->procs))
		return target;
	for (size_t i = 0; i < ps->count; i++)
		if (ps->items[i].pid == pid && !ps->items[i].replaced)
			return ps->items[i].sym;
	if (ps->count == MAX_PROC_SYMBOLIZERS)
		return target; /* forked from it: the same code until an exec */
	sym = symbolizer_new(pid);
	if (!sym)
		return target;
	adopted = proc_follower_adopted_maps(ps->procs, proc);
	if (process_gone(pid) && (!adopted || !adopted->count) &&
	    proc_follower_forked_image(ps->procs, proc)) {
		/* Gone before it was named, never exec'd: its parent's code. */
		symbolizer_free(sym);
		return target;
	}
	read_mappings(sym, pid, adopted);
	ps->items[ps->count].pid = pid;
	ps->items[ps->count].replaced = false;
	ps->items[ps->count].sym = sym;
	ps->count++;
	return sym;
}

void proc_symbolizers_refresh(struct proc_symbolizers *ps)
{
	for (size_t i = 0; i < ps->count; i++) {
		pid_t pid = ps->items[i].pid;

		if (!process_gone(pid) && !ps->items[i].replaced)
			read_mappings(ps->items[i].sym, pid,
				      proc_follower_adopted_maps(ps->procs,
								 proc_follower_image_of(ps->procs, pid)));
	}
}

void proc_symbolizers_prune(struct proc_symbolizers *ps)
{
	for (size_t i = 0; i < ps->count;) {
		if (process_gone(ps->items[i].pid)) {
			symbolizer_free(ps->items[i].sym);
			ps->items[i] = ps->items[--ps->count];
		} else {
			i++;
		}
	}
}
