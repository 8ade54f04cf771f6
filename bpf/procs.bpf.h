/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The traced processes besides the target, TGID -> proc index (see
 * include/leaksnoop.h), or LS_IGNORED_PROC for one the system-wide filters
 * left out, and how many procs were handed out.  Filled by bpf/heap.bpf.c;
 * the other probe files use the same maps (user space reuses their fds).
 */
#ifndef LS_PROCS_BPF_H
#define LS_PROCS_BPF_H

#include "leaksnoop.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} procs SEC(".maps");

/* [0]: procs handed out so far (the target's is put in before attach). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} procs_used SEC(".maps");

#endif /* LS_PROCS_BPF_H */
