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

/*
 * Per thread: the last fault's instruction, stack and frame pointers and the
 * stack they gave.  A loop touching page after page (memset, a heap growing)
 * faults again and again from the same frame: it reuses the stack instead of
 * walking it anew.
 */
struct growth_state {
	__u64 ip, sp, bp, stack_hash;
	struct stack_scratch scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct growth_state);
} growth_states SEC(".maps");

SEC("tracepoint/exceptions/page_fault_user")
int user_write_fault(struct page_fault_args *ctx)
{
	struct task_struct *task;
	struct growth_state *state;
	struct stack_stats *stats;
	struct pt_regs *regs;
	__u64 sp, bp;

	if (!(ctx->error_code & FAULT_WRITE) || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	task = bpf_get_current_task_btf();
	state = bpf_task_storage_get(&growth_states, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!state || !regs) {
		count(LS_CNT_DROP_STATE, 1);
		return 0;
	}
	sp = BPF_CORE_READ(regs, sp);
	bp = BPF_CORE_READ(regs, bp);
	if (!state->stack_hash || state->ip != ctx->ip || state->sp != sp || state->bp != bp) {
		state->stack_hash = capture_stack(ctx, &state->scratch, true);
		state->ip = ctx->ip;
		state->sp = sp;
		state->bp = bp;
	}
	stats = stats_of(state->stack_hash, LS_KIND_GROWTH);
	if (!stats) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return 0;
	}
	__sync_fetch_and_add(&stats->alloc_bytes, page_bytes);
	__sync_fetch_and_add(&stats->alloc_count, 1);
	return 0;
}
