/* SPDX-License-Identifier: MIT */
/*
 * The checks before anything is loaded or attached: privileges, the kernel's
 * BTF and uprobes, tracefs, the target PID, a --cgroup path.  Each failing
 * check prints one line saying what is missing and how to get it, and
 * returns -errno; nothing here changes the target.
 */
#ifndef LS_PREFLIGHT_H
#define LS_PREFLIGHT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Root, or CAP_BPF + CAP_PERFMON (CAP_SYS_ADMIN covers both). */
int check_privileges(void);

/* BTF (/sys/kernel/btf/vmlinux) and the uprobe PMU. */
int check_kernel(void);

/* Tracepoints are found through tracefs; mount it where the kernel expects it. */
int ensure_tracefs(bool verbose);

/* The process a thread ID belongs to: -p accepts either. */
pid_t tgid_of(pid_t pid);

/* The process exists and its mappings can be read. */
int check_pid(pid_t pid);

/*
 * --cgroup PATH: its cgroup ID (the directory's inode) and its depth below
 * the cgroup2 root, which bpf_get_current_ancestor_cgroup_id() compares at.
 * -EINVAL when PATH is not a cgroup v2 directory.
 */
int resolve_cgroup(const char *path, uint64_t *id, uint32_t *level);

#endif
