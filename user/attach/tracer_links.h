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

/* A uprobe (or uretprobe) on path+offset for process pid (-1: every process). */
int tracer_attach_uprobe(struct tracer *t, struct bpf_program *prog, pid_t pid, const char *path,
			 uint64_t offset, bool retprobe);

/* Before obj loads: its copies of the shared maps become the heap object's. */
int tracer_share_maps(struct tracer *t, struct bpf_object *obj);

/* Whether the probes date blocks by the tracer's clock, and its start (once). */
bool tracer_clock_ticks(const struct tracer_config *cfg);
int tracer_start_age_clock(struct tracer *t, const struct tracer_config *cfg);

#endif
