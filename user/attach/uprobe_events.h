/* SPDX-License-Identifier: MIT */
/*
 * Uprobes defined in tracefs (uprobe_events) for this leaksnoop instance, in
 * a group of its own ("leaksnoop_PID").  Unlike the uprobe PMU's events, a
 * tracefs event can be opened with inherit: a child the target forks gets its
 * copy inside fork, before it runs, so the probes are in the child from its
 * first instruction.  Definitions outlive a killed tracer: a janitor process
 * started here removes them once leaksnoop (and anything it forked) is gone,
 * and each start removes those of instances that are dead.
 */
#ifndef LS_UPROBE_EVENTS_H
#define LS_UPROBE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct uprobe_events;

/*
 * Make the instance's group ready: tracefs writable, stale groups removed,
 * the janitor started.  -errno when tracefs cannot be written (the caller
 * falls back to the uprobe PMU).
 */
int uprobe_events_new(struct uprobe_events **out, bool verbose);
void uprobe_events_free(struct uprobe_events *ev);

/*
 * The descriptor whose closing, by every process that holds it, tells the
 * janitor to remove the definitions: the caller closes it once the events
 * are closed.  -1 without one (ev NULL, or taken already).
 */
int uprobe_events_take_keepalive(struct uprobe_events *ev);

/* Define a uprobe (retprobe: a uretprobe) at path+offset; its tracepoint id or -errno. */
long uprobe_events_define(struct uprobe_events *ev, const char *path, uint64_t offset,
			  bool retprobe);

#endif
