/* SPDX-License-Identifier: MIT */
/*
 * The processes a run follows besides its target.
 */
#ifndef LS_PROCS_H
#define LS_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "leaksnoop.h"

struct mapping_list;

/*
 * The processes traced besides the target: children it forks (and theirs),
 * and new images after execve.  The BPF side numbers them (map `proc_table`,
 * include/leaksnoop.h); this side attaches the allocator probes to each new
 * child, names each proc's PID, and hides what is gone: an image replaced by
 * execve (its memory went with it) and a child that exited, once its final
 * numbers were shown.  Symbolizing each one's addresses is
 * symbols/proc_symbolizers.h's.
 */
struct proc_follower;

/*
 * Attach the probes a new child needs (from_target: the target's child, or
 * grandchild...); returns 0 or -errno.
 */
typedef int (*attach_child_fn)(void *arg, pid_t pid, bool from_target);

struct proc_follower *proc_follower_new(int table_fd, int used_fd, pid_t target,
					attach_child_fn attach, void *arg, bool verbose);
void proc_follower_free(struct proc_follower *f);

/* Read the procs the kernel added since the last call and attach to new children. */
void proc_follower_poll(struct proc_follower *f);

/* Before a report: mark children that have exited since the last one. */
void proc_follower_check_exits(struct proc_follower *f);

/* After a report: exited children were shown once and are hidden from now on. */
void proc_follower_report_done(struct proc_follower *f);

pid_t proc_follower_pid(const struct proc_follower *f, uint32_t proc);
/* A child forked from the target (however deep) that has not exec'd: the target's code. */
bool proc_follower_forked_image(const struct proc_follower *f, uint32_t proc);
/* The proc of pid's current image (after execve, a new one), or LS_NO_PROC. */
uint32_t proc_follower_image_of(const struct proc_follower *f, pid_t pid);
/*
 * pid mapped new code (the libraries of an image it exec'd, a dlopen): the
 * mappings kept for it, should it exit before a report, are read again.
 */
void proc_follower_remap(struct proc_follower *f, pid_t pid);

const char *proc_follower_comm(const struct proc_follower *f, uint32_t proc);
/* Its cgroup v2 path when it was adopted, and the container that names, or NULL. */
const char *proc_follower_cgroup(const struct proc_follower *f, uint32_t proc);
const char *proc_follower_container(const struct proc_follower *f, uint32_t proc);
bool proc_follower_hidden(const struct proc_follower *f, uint32_t proc);
/* proc is an image an exec replaced. */
bool proc_follower_replaced(const struct proc_follower *f, uint32_t proc);
/* proc's process exited and a report has shown it (an image replaced by exec has not). */
bool proc_follower_exit_shown(const struct proc_follower *f, uint32_t proc);
bool proc_follower_exited(const struct proc_follower *f, uint32_t proc);
uint32_t proc_follower_count(const struct proc_follower *f);

/* Every process given with a repeated -p has exited (true when there is none). */
bool proc_follower_given_gone(struct proc_follower *f);

/* The process's name from /proc/PID/comm; comm is left as it was when it is gone. */
void read_process_comm(pid_t pid, char *comm, size_t size);

/* Gone, or a zombie nobody reaped yet (its memory is freed either way). */
bool process_gone(pid_t pid);

/* Its state letter in /proc/PID/stat ('R', 'S', 'T' stopped, 'Z'...), 0 when it has none. */
char process_state(pid_t pid);

pid_t proc_follower_target(const struct proc_follower *f);

/*
 * proc's mappings as they were when it was adopted, for symbolizing it after
 * it has gone (the caller may take the list), or NULL.
 */
struct mapping_list *proc_follower_adopted_maps(struct proc_follower *f, uint32_t proc);

#endif
