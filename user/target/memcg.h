/* SPDX-License-Identifier: MIT */
/*
 * A process's memory cgroup, v2 or v1, as an OOM report names it: its path,
 * the limit that binds it (its own or an ancestor's, the smallest), its usage
 * and how many OOM kills it has seen; v2's memory.high events too.
 */
#ifndef LS_MEMCG_H
#define LS_MEMCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct memcg {
	int version;              /* 2, or 1 (the v1 memory controller) */
	char path[1024];          /* below the hierarchy's root: "/system.slice/x.service" */
	char dir[2048];           /* its directory: mount point and path */
	uint64_t limit_bytes;     /* the smallest limit from it up to the root; 0: none */
	char limit_path[1024];    /* the cgroup that sets it */
	uint64_t usage_bytes;     /* memory.current (v2) or memory.usage_in_bytes (v1) */
	uint64_t oom_kills;       /* memory.events (v2) or memory.oom_control (v1) "oom_kill" */
	uint64_t high_events;     /* v2 memory.events "high": reclaim forced above memory.high */
	uint64_t max_events;      /* v2 memory.events "max": usage met memory.max */
	char limit_dir[2048];     /* the directory of the cgroup that sets the limit */
	/* memcg_watch's: the usage file the v1 threshold is registered on, or -1. */
	int watched_usage_fd;
	uint64_t threshold_bytes; /* v1: the usage that fires it */
	unsigned threshold_percent; /* of the limit */
};

/*
 * The memory controller's path in a /proc/PID/cgroup text: a v1 line whose
 * controllers include "memory", else (v2 only) the "0::" line.  Returns the
 * version (1 or 2) or -ENOENT.
 */
int memcg_path_in(const char *proc_cgroup, char *path, size_t size);

/* A limit file's value: "max" and v1's "unlimited" (≥ 2^62) are 0.  -EINVAL if not a number. */
int memcg_parse_limit(const char *text, uint64_t *bytes);

/* The value of "key N" among a flat keyed file's lines (memory.events); 0 when absent. */
uint64_t memcg_parse_key(const char *text, const char *key);

/* pid's memory cgroup now.  0 or a negative errno (no memory controller, pid gone). */
int memcg_read(pid_t pid, struct memcg *m);

/*
 * The memory cgroup whose directory has inode id in the hierarchy that has the
 * memory controller (what BPF reads from a task): for a process on its way
 * out, whose /proc/PID/cgroup no longer names it.  0 or a negative errno.
 */
int memcg_read_id(uint64_t id, struct memcg *m);

/* The same cgroup's counters read again (usage, kills, high events).  0 or a negative errno. */
int memcg_refresh(struct memcg *m);

/*
 * Be told when the cgroup nears the limit that binds it: v1, an eventfd the
 * kernel signals when the limiting cgroup's usage crosses percent of its
 * limit (cgroup.event_control); v2, its memory.events, which the kernel
 * marks changed (POLLPRI) at each memory.high or memory.max event.  Returns
 * the descriptor for poll(), its events in *events, or a negative errno
 * (v1 without a limit: -ENOENT).  memcg_unwatch closes it.
 */
int memcg_watch(struct memcg *m, unsigned percent, short *events);
void memcg_unwatch(struct memcg *m, int fd);

/*
 * After poll() said fd is ready: whether the cgroup is near its limit now
 * (v1: usage at or above the threshold, the kernel tells crossings both
 * ways; v2: high or max events rose since the last look).  why says which.
 */
bool memcg_watch_fired(struct memcg *m, int fd, char *why, size_t size);

#endif
