/* SPDX-License-Identifier: MIT */
/*
 * The OOM killer's choices as they are made (bpf/oom.bpf.c): each victim's
 * process, its memory as the kernel counted it, and the memory cgroup whose
 * limit it ran into.  The session keeps those it traces and writes their
 * reports at once, while what they held is still in the maps.
 */
#ifndef LS_OOM_WATCH_H
#define LS_OOM_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/memcg.h"

struct oom_watch;

/* One victim, as the session is told of it. */
struct oom_kill {
	pid_t tgid;               /* the victim's process */
	pid_t chooser;            /* the process whose allocation failed */
	char comm[16];
	uint64_t total_vm_bytes;
	uint64_t rss_anon_bytes, rss_file_bytes, rss_shmem_bytes;
	bool memcg_read;          /* memcg is its memory cgroup, read when told */
	bool limit_reached;       /* a cgroup's usage, its or an ancestor's, was within a tenth of its limit */
	struct memcg memcg;       /* usage_bytes: when it was chosen */
};

typedef void (*oom_kill_fn)(void *arg, const struct oom_kill *kill);

/* Load and attach the tracepoint.  NULL with errno set (a kernel without it: ENOENT). */
struct oom_watch *oom_watch_new(void);
void oom_watch_free(struct oom_watch *w);

/* For poll(): readable when a victim was chosen. */
int oom_watch_fd(const struct oom_watch *w);

/* Tell told(arg, ...) of each victim chosen since the last call. */
void oom_watch_poll(struct oom_watch *w, oom_kill_fn told, void *arg);

/* Kills whose events the ring had no room for. */
uint64_t oom_watch_dropped(const struct oom_watch *w);

#endif
