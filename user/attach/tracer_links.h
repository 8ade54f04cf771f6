/* SPDX-License-Identifier: MIT */
/*
 * What the tracer_*.c files share and nothing else calls: keeping a link so
 * that tracer_destroy takes it down, sharing the heap object's maps with
 * another BPF object before it loads, and the age clock's start.
 */
#ifndef LS_TRACER_LINKS_H
#define LS_TRACER_LINKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracer.h"

struct bpf_object;
struct bpf_program;

/* Keep link for tracer_destroy; destroys it when it cannot be kept.  0 or -errno. */
int tracer_keep_link(struct tracer *t, struct bpf_link *link);

/* Attach a program that needs no target (a tracepoint) and keep its link. */
int tracer_attach_kept(struct tracer *t, struct bpf_program *prog);
/* exit at each sys_exit_ tracepoint of LS_FD_EXIT_CALLS this kernel has, close at sys_enter_close. */
int tracer_attach_fd_calls(struct tracer *t, struct bpf_program *exit, struct bpf_program *close,
			   bool verbose);

/* A uprobe (or uretprobe) on path+offset for process pid (-1: every process). */
int tracer_attach_uprobe(struct tracer *t, struct bpf_program *prog, pid_t pid, const char *path,
			 uint64_t offset, bool retprobe);

/*
 * Attach prog through the perf event fd and keep both: the link for
 * tracer_destroy to release, a copy of the event for detach.c to close.
 * The fd is the link's from here on, or closed on failure.
 */
int tracer_attach_through_event(struct tracer *t, struct bpf_program *prog, int fd);

/* Keep a perf event with no program (closed last, detach.h); closes it on failure. */
int tracer_keep_event(struct tracer *t, int fd);

/* The uprobe PMU's event for pid, not inherited (what tracer_attach_uprobe does otherwise). */
int tracer_attach_uprobe_pmu(struct tracer *t, struct bpf_program *prog, pid_t pid,
			     const char *path, uint64_t offset, bool retprobe);

/* tracer_attach_uprobe for the target when its children inherit (tracer_inherit.c). */
int tracer_attach_inherited_uprobe(struct tracer *t, struct bpf_program *prog, const char *path,
				   uint64_t offset, bool retprobe);

/* Close the per-thread inherit events, at the end, before the others. */
void tracer_close_inherited(struct tracer *t);

/* Before obj loads: its copies of the shared maps become the heap object's. */
int tracer_share_maps(struct tracer *t, struct bpf_object *obj);

/* Before obj loads: its table of followed processes (bpf/procs.bpf.h) becomes the heap object's. */
int tracer_share_procs(struct tracer *t, struct bpf_object *obj);

/* Whether the probes date blocks by the tracer's clock, and its start (once). */
bool tracer_clock_ticks(const struct tracer_config *cfg);
int tracer_start_age_clock(struct tracer *t, const struct tracer_config *cfg);

#endif
