// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --growth: new memory per stack without a probe on any call.  A user write
 * fault is the moment a page of private memory comes into being (first touch
 * of an anonymous page, or the copy of a shared one); it is charged to the
 * stack that wrote.  A process in steady state takes no such faults, so the
 * cost is paid only when memory grows.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stack.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 target_tgid = 0;
const volatile __u64 page_bytes = 4096;

#define FAULT_WRITE 0x2 /* x86 page-fault error code: the access was a write */

/* exceptions:page_fault_user, as its format file describes it. */
struct page_fault_args {
	__u64 common;
	unsigned long address;
	unsigned long ip;
	unsigned long error_code;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_scratch);
} growth_scratch SEC(".maps");

SEC("tracepoint/exceptions/page_fault_user")
int user_write_fault(struct page_fault_args *ctx)
{
	struct stack_scratch *scratch;
	struct stack_stats *stats;

	if (!(ctx->error_code & FAULT_WRITE) || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	scratch = bpf_task_storage_get(&growth_scratch, bpf_get_current_task_btf(), 0,
				       BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!scratch) {
		count(LS_CNT_DROP_STATE, 1);
		return 0;
	}
	stats = stats_of(capture_stack(ctx, scratch, true), LS_KIND_GROWTH);
	if (!stats) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return 0;
	}
	__sync_fetch_and_add(&stats->alloc_bytes, page_bytes);
	__sync_fetch_and_add(&stats->alloc_count, 1);
	return 0;
}
