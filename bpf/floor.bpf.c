// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Empty probes, for `make bench` only: attached where leaksnoop would attach
 * its real ones (or at the functions' entries), they measure what the probes
 * alone cost the target, the floor under any uprobe-based tracer; and an
 * empty program on --fds's system call tracepoints, the floor under any
 * tracer of descriptors that uses them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("uprobe")
int floor_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int floor_exit(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_syscall(void *ctx)
{
	return 0;
}
