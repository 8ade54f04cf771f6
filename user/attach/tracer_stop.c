// SPDX-License-Identifier: MIT
/*
 * Children held at fork until their probes are attached (bpf/stop.bpf.c),
 * where they cannot inherit the target's: the program loaded and attached
 * after the fork tracepoint, each child continued once its probes are there,
 * and a keeper (common/keeper.h) that continues whichever are still held if
 * leaksnoop is killed first.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/keeper.h"
#include "leaksnoop.h"
#include "procs.h"
#include "stop.skel.h"
#include "heap.skel.h"
#include "tracer.h"
#include "tracer_links.h"

/* Continue every forked process of `proc_table` (fd) that is stopped. */
static void continue_held(int table_fd)
{
	for (__u32 index = 1; index < LS_MAX_PROCS; index++) {
		struct proc_entry entry;

		if (bpf_map_lookup_elem(table_fd, &index, &entry) || !entry.tgid)
			break;
		/* Stopped ('T'), as a held child waits; not one a debugger holds ('t'). */
		if (entry.origin == LS_PROC_FORK && process_state((pid_t)entry.tgid) == 'T')
			kill((pid_t)entry.tgid, SIGCONT);
	}
}

/*
 * At the pipe's end of file leaksnoop's programs may still be attached for a
 * moment (a process's descriptors close one by one): a child held in that
 * moment is continued by a later pass.
 */
static void continue_held_at_end(int kept, void *arg)
{
	const struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };

	(void)arg;
	for (int pass = 0; pass < 20; pass++) {
		continue_held(kept);
		nanosleep(&pause, NULL);
	}
}

int tracer_hold_children(struct tracer *t, bool verbose)
{
	struct stop_bpf *skel = stop_bpf__open();
	struct bpf_link *link;
	int err;

	if (!skel)
		return -errno;
	err = tracer_share_procs(t, skel->obj);
	if (!err)
		err = stop_bpf__load(skel);
	if (err) {
		stop_bpf__destroy(skel);
		return err;
	}
	t->hold_keeper_fd = keeper_start("leaksnoop-cont", bpf_map__fd(t->skel->maps.proc_table),
					 continue_held_at_end, NULL);
	if (t->hold_keeper_fd < 0) {
		stop_bpf__destroy(skel);
		return t->hold_keeper_fd;
	}
	t->stop = skel;
	/* Its own link, not kept with the others: it goes first at the end (tracer_release_held). */
	link = bpf_program__attach(skel->progs.hold_new_child);
	if (!link)
		return -errno;
	t->stop_link = link;
	err = 0;
	if (!err && verbose)
		fprintf(stderr, "leaksnoop: a child the target forks is stopped before its first "
			"instruction until its probes are attached (its parent may see it stop and "
			"continue: CLD_STOPPED, CLD_CONTINUED)\n");
	return err;
}

bool tracer_holds_children(const struct tracer *t)
{
	return t->stop != NULL;
}

void tracer_release_child(struct tracer *t, pid_t pid)
{
	/* LEAKSNOOP_KEEP_HELD: left to the keeper, as if leaksnoop were killed (a test). */
	if (t->stop && !getenv("LEAKSNOOP_KEEP_HELD"))
		kill(pid, SIGCONT);
}

void tracer_release_held(struct tracer *t)
{
	if (!t->stop)
		return;
	/* Detached first: no child is held from now on. */
	bpf_link__destroy(t->stop_link);
	t->stop_link = NULL;
	continue_held(bpf_map__fd(t->skel->maps.proc_table));
	if (t->hold_keeper_fd >= 0)
		close(t->hold_keeper_fd);
	stop_bpf__destroy(t->stop);
	t->stop = NULL;
}
