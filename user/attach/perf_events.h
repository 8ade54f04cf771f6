/* SPDX-License-Identifier: MIT */
/*
 * The perf events the uprobes and tracepoints are attached through, opened
 * here rather than inside libbpf so that the tracer keeps a descriptor of
 * each: tearing an event down costs the kernel ~0.1 s (grace periods, under
 * one global mutex), and detach.c lets that happen after leaksnoop has gone.
 * Nothing is attached here.
 */
#ifndef LS_PERF_EVENTS_H
#define LS_PERF_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A uprobe (retprobe: uretprobe) on path+offset for process pid (-1: every process); fd or -errno. */
int perf_event_uprobe(const char *path, uint64_t offset, bool retprobe, pid_t pid);

/* The tracefs tracepoint CATEGORY/NAME, every process; fd or -errno. */
int perf_event_tracepoint(const char *category, const char *name);

/*
 * The tracepoint with this id (a tracefs uprobe event, say) for thread tid
 * and, with inherit, every thread and child it creates from now on; fd or -errno.
 */
int perf_event_tracepoint_task(long id, pid_t tid, bool inherit);

/* CATEGORY/NAME's id in tracefs, or -errno: -ENOENT when this kernel has no such tracepoint. */
long tracepoint_id(const char *category, const char *name);

/* A program section "tracepoint/CATEGORY/NAME" split into its two names; false for any other. */
bool tracepoint_of_section(const char *section, char category[64], char name[64]);

#endif
