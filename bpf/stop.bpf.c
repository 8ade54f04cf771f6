// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Children held at fork until their probes are attached, where they cannot
 * inherit the target's (tracefs not writable): a child that a traced process
 * forks gets SIGSTOP before its first instruction, and user space continues
 * it once its probes are there (user/attach/tracer_stop.c).  Loaded only
 * then; bpf_send_signal_task is a kfunc of Linux 6.13 and later.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "procs.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type,
				__u64 value) __ksym;

#define LS_SIGSTOP 19

/*
 * Attached after bpf/heap.bpf.c's follow_fork, which runs first and numbers
 * the child in `procs`: a child it could not number (the table full) is not
 * held, since nothing would continue it.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(hold_new_child, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = child->tgid, *proc;

	if (child->pid != child->tgid)
		return 0; /* a thread */
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc && *proc != LS_IGNORED_PROC)
		bpf_send_signal_task(child, LS_SIGSTOP, PIDTYPE_TGID, 0);
	return 0;
}
