// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The OOM killer's choices, told to user space as they are made: one event
 * per victim (struct oom_victim_event), whatever process it is; user space
 * keeps those it traces (user/attach/oom_watch.c).  Kills are rare: nothing
 * is filtered here.  The sizes are read as the tracepoint's own record
 * reads them (get_mm_counter: a per-CPU counter's shared part).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "leaksnoop.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} oom_victims SEC(".maps");

/* Events lost to a full ring (user space reads it at once; never seen). */
__u64 oom_victims_dropped = 0;

/* The kernel's enum mm_counter_type. */
#define LS_MM_FILEPAGES 0
#define LS_MM_ANONPAGES 1
#define LS_MM_SHMEMPAGES 3

static __always_inline __u64 mm_pages(struct mm_struct *mm, int counter)
{
	__s64 pages = BPF_CORE_READ(mm, rss_stat[counter].count);

	return pages > 0 ? (__u64)pages : 0;
}

/* Levels of the cgroup tree looked up for a limit that was reached. */
#define LS_MEMCG_LEVELS 8

/* The page counters from the victim's memory cgroup up: which limit it met. */
static __always_inline void find_limit_reached(struct cgroup_subsys_state *css,
					       struct oom_victim_event *event)
{
	/* css is the first member of struct mem_cgroup. */
	struct page_counter *counter = &((struct mem_cgroup *)css)->memory;

	event->limit_pages = 0;
	event->usage_pages = css ? BPF_CORE_READ(counter, usage.counter) : 0;
	for (int level = 0; css && counter && level < LS_MEMCG_LEVELS; level++) {
		__u64 usage = BPF_CORE_READ(counter, usage.counter);
		__u64 max = BPF_CORE_READ(counter, max);

		/* PAGE_COUNTER_MAX (no limit) is far above any usage. */
		if (max && usage >= max - max / 10) {
			event->limit_pages = max;
			event->usage_pages = usage;
			return;
		}
		counter = BPF_CORE_READ(counter, parent);
	}
}

SEC("tp_btf/mark_victim")
int BPF_PROG(watch_oom_victim, struct task_struct *task, uid_t uid)
{
	struct oom_victim_event *event = bpf_ringbuf_reserve(&oom_victims, sizeof(*event), 0);
	int memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct mm_struct *mm = task->mm;
	struct cgroup_subsys_state *css;

	if (!event) {
		__sync_fetch_and_add(&oom_victims_dropped, 1);
		return 0;
	}
	event->tgid = task->tgid;
	event->chooser_tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	bpf_probe_read_kernel_str(event->comm, sizeof(event->comm), task->comm);
	event->total_vm_pages = mm ? BPF_CORE_READ(mm, total_vm) : 0;
	event->anon_pages = mm ? mm_pages(mm, LS_MM_ANONPAGES) : 0;
	event->file_pages = mm ? mm_pages(mm, LS_MM_FILEPAGES) : 0;
	event->shmem_pages = mm ? mm_pages(mm, LS_MM_SHMEMPAGES) : 0;
	css = memory >= 0 && memory < CGROUP_SUBSYS_COUNT ?
		BPF_CORE_READ(task, cgroups, subsys[memory]) : NULL;
	event->memcg_id = css ? BPF_CORE_READ(css, cgroup, kn, id) : 0;
	find_limit_reached(css, event);
	bpf_ringbuf_submit(event, 0);
	return 0;
}
