// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The OOM killer's choices, told to user space as they are made: one event
 * per victim (struct oom_victim_event), whatever process it is; user space
 * keeps those it traces (user/attach/oom_watch.c).  Kills are rare: nothing
 * is filtered here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "leaksnoop.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} oom_victims SEC(".maps");

/* Events lost to a full ring (user space reads it at once; never seen). */
__u64 oom_victims_dropped = 0;

SEC("tracepoint/oom/mark_victim")
int watch_oom_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct oom_victim_event *event = bpf_ringbuf_reserve(&oom_victims, sizeof(*event), 0);
	unsigned comm_at;

	if (!event) {
		__sync_fetch_and_add(&oom_victims_dropped, 1);
		return 0;
	}
	event->time_ns = bpf_ktime_get_ns();
	event->pid = (__u32)ctx->pid;
	event->chooser_tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	/* The sizes came with the comm in Linux 6.2; before, only the pid. */
	event->total_vm_kb = event->anon_rss_kb = event->file_rss_kb = event->shmem_rss_kb = 0;
	event->comm[0] = '\0';
	if (bpf_core_field_exists(ctx->anon_rss)) {
		event->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		event->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		event->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		event->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
		comm_at = BPF_CORE_READ(ctx, __data_loc_comm) & 0xffff;
		bpf_probe_read_kernel_str(event->comm, sizeof(event->comm), (char *)ctx + comm_at);
	}
	bpf_ringbuf_submit(event, 0);
	return 0;
}
