/* SPDX-License-Identifier: MIT */
/*
 * A symbolizer per process followed (attach/procs.h): a child that exec'd or
 * loaded other libraries has addresses the target's symbolizer cannot name.
 * One is made only when a report needs it (~40 ms each), at most
 * MAX_PROC_SYMBOLIZERS; the rest use the target's, whose code a child forked
 * from it shares until an exec.
 */
#ifndef LS_PROC_SYMBOLIZERS_H
#define LS_PROC_SYMBOLIZERS_H

#include <stdint.h>

struct proc_follower;
struct symbolizer;
struct proc_symbolizers;

struct proc_symbolizers *proc_symbolizers_new(struct proc_follower *procs);
void proc_symbolizers_free(struct proc_symbolizers *ps);

/* The symbolizer for proc's address space (target's for the target's PID or on failure). */
struct symbolizer *proc_symbolizer(struct proc_symbolizers *ps, uint32_t proc,
				   struct symbolizer *target);

/* Before a report: the living processes' symbolizers follow their mappings (dlopen, exec). */
void proc_symbolizers_refresh(struct proc_symbolizers *ps);

/* After a report: a process shown gone needs no symbolizer any more. */
void proc_symbolizers_prune(struct proc_symbolizers *ps);

#endif
