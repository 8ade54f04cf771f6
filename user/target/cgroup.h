/* SPDX-License-Identifier: MIT */
/*
 * A process's cgroup v2 path, and the container it names: what system-wide
 * reports label each process's stacks with.
 */
#ifndef LS_CGROUP_H
#define LS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The "0::" line of /proc/PID/cgroup ("/system.slice/x.service").  0 or a negative errno. */
int cgroup_of_pid(pid_t pid, char *path, size_t size);

/*
 * Where a cgroup hierarchy is mounted: controller NULL, the v2 one
 * (/sys/fs/cgroup, or .../unified on a hybrid system); else the v1 hierarchy
 * of that controller ("memory").  0 or a negative errno.
 */
int cgroup_mount(const char *controller, char *dir, size_t size);

/*
 * The cgroup whose directory has inode id (what bpf_get_current_cgroup_id
 * returns), as a path below the cgroup v2 mount: for a process gone before
 * its /proc/PID/cgroup was read.  0 or a negative errno.
 */
int cgroup_path_of_id(uint64_t id, char *path, size_t size);

/* The same in the hierarchy cgroup_mount(controller) names (v1's "memory", say). */
int cgroup_path_of_id_in(const char *controller, uint64_t id, char *path, size_t size);

/*
 * The container a cgroup path names, innermost first: a 64-hex-digit id as
 * docker, containerd, cri-o and podman name their scopes or directories
 * ("docker-ID.scope", "cri-containerd-ID.scope", "crio-ID.scope",
 * "libpod-ID.scope", ".../docker/ID", ".../kubepods/.../ID"), or a systemd
 * machine's name ("machine-NAME.scope", systemd-nspawn).  False when none.
 */
bool cgroup_container_id(const char *path, char *id, size_t size);

#endif
