// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Go goroutines, from outside the process: which `go` statements leave
 * goroutines running.  Two entry probes and no return probe (a uretprobe
 * rewrites a return address on the goroutine stack, which Go moves):
 *
 *  - runtime.newproc: the word at %rsp is the return address into the
 *    function holding the `go` statement, the PC Go itself records as the
 *    new goroutine's g.gopc.  Its frame-pointer chain is the creation stack.
 *  - runtime.goexit1: the exiting goroutine's g is in R14 (Go's register
 *    ABI); g.gopc names the site it was created at.
 *
 * Live per site = created - exited.  Goroutines that existed at attach were
 * listed by user space (runtime.allgs) into `go_preexisting`: their exits do
 * not count against any site.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "stack.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Offsets in runtime.g, read from the binary's DWARF by user space. */
const volatile __u64 g_goid_offset = 0;
const volatile __u64 g_gopc_offset = 0;
/* Bytes between allocation samples (the runtime's MemProfileRate, or ours). */
const volatile __u64 go_sample_bytes = 512 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_scratch);
} go_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_DEFAULT_MAX_STACKS);
	__type(key, __u64);
	__type(value, struct go_site);
} go_sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_MAX_TRACKED_THREADS);
	__type(key, __u64);
	__type(value, __u8);
} go_preexisting SEC(".maps");

/* Per thread: bytes allocated since the last sample (runtime.mallocgc path). */
struct go_alloc_state {
	__u64 countdown;
	struct stack_scratch scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct go_alloc_state);
} go_alloc_states SEC(".maps");

/* Set by user space: every probe sits on its function's `jbe morestack`. */
const volatile bool probes_on_stack_check = false;

#define X86_FLAGS_CF 0x01
#define X86_FLAGS_ZF 0x40

/*
 * The probes sit on the `jbe morestack` after `cmp 0x10(%r14),%rsp`.  When that
 * jump is about to be taken (the stack must grow, or the goroutine is asked
 * to yield), the runtime runs morestack and then enters the function again:
 * the probe would fire twice for one call.  So it does nothing this time.
 * The flags the cmp left say whether the jump is taken; g.stackguard0 read
 * now may differ from what the cmp read (another thread sets it to ask the
 * goroutine to yield), which lost a creation now and then.  Only a probe at
 * the entry, where no cmp ran yet, has to read it.
 */
static __always_inline bool entering_morestack(struct pt_regs *regs)
{
	/* Each register read once, so clang cannot fold them into one ctx access
	 * at a variable offset, which the verifier refuses. */
	__u64 g, sp, stackguard0;

	if (probes_on_stack_check)
		return BPF_CORE_READ(regs, flags) & (X86_FLAGS_CF | X86_FLAGS_ZF);
	g = BPF_CORE_READ(regs, r14);
	sp = BPF_CORE_READ(regs, sp);
	if (bpf_probe_read_user(&stackguard0, sizeof(stackguard0), (void *)(g + 16)))
		return false;
	return sp <= stackguard0;
}

/* The creation stack at newproc's entry: the go statement, then its callers. */
static __always_inline __u64 creation_stack(struct pt_regs *regs, __u64 gopc)
{
	struct stack_scratch *scratch = bpf_task_storage_get(&go_scratch, bpf_get_current_task_btf(),
							     0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!scratch) {
		count(LS_CNT_DROP_STACK, 1);
		return LS_UNKNOWN_STACK;
	}
	/* walk_user_stack starts at regs' IP: make it the go statement's PC. */
	walk_user_stack(regs, scratch);
	scratch->trace.ips[0] = gopc;
	return store_trace(scratch);
}

SEC("uprobe")
int newproc_enter(struct pt_regs *ctx)
{
	struct go_site *site, fresh = { 0 };
	__u64 gopc;

	if (entering_morestack(ctx) ||
	    bpf_probe_read_user(&gopc, sizeof(gopc), (void *)PT_REGS_SP(ctx)))
		return 0;
	site = bpf_map_lookup_elem(&go_sites, &gopc);
	if (!site) {
		fresh.stack_hash = creation_stack(ctx, gopc);
		bpf_map_update_elem(&go_sites, &gopc, &fresh, BPF_NOEXIST);
		site = bpf_map_lookup_elem(&go_sites, &gopc);
		if (!site) {
			count(LS_CNT_DROP_STACK, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&site->created, 1);
	return 0;
}

/* A sampled allocation of `weight` bytes (`blocks` objects) from the caller's stack. */
static __always_inline void add_go_sample(struct pt_regs *regs, struct stack_scratch *scratch,
					  __u64 weight, __u64 blocks)
{
	struct stack_stats *stats;
	__u64 ret;

	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(regs)))
		return;
	walk_user_stack(regs, scratch);
	scratch->trace.ips[0] = ret;
	stats = stats_of(store_trace(scratch), LS_KIND_GO_ALLOC);
	if (!stats) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return;
	}
	__sync_fetch_and_add(&stats->alloc_bytes, weight);
	__sync_fetch_and_add(&stats->alloc_count, blocks);
}

/*
 * runtime.profilealloc(mp, x, size): the runtime's own memory-profile sample,
 * taken on average once per MemProfileRate bytes (Poisson).  A sample of
 * size s stands for s / (1 - exp(-s/R)) bytes; s + R^2/(R + s) is that within
 * 5% without floating point.
 */
SEC("uprobe")
int profilealloc_enter(struct pt_regs *ctx)
{
	__u64 size = ctx->cx, rate = go_sample_bytes, weight;
	struct go_alloc_state *state = bpf_task_storage_get(&go_alloc_states,
							     bpf_get_current_task_btf(), 0,
							     BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!state || !size || entering_morestack(ctx))
		return 0;
	weight = size + rate * rate / (rate + size);
	add_go_sample(ctx, &state->scratch, weight, (weight + size / 2) / size);
	return 0;
}

/*
 * runtime.mallocgc(size, typ, needzero), with --go-allocs: every allocation
 * traps, so only one per go_sample_bytes bytes of each thread is recorded,
 * standing for max(size, go_sample_bytes) bytes.
 */
SEC("uprobe")
int mallocgc_enter(struct pt_regs *ctx)
{
	__u64 size = ctx->ax, rate = go_sample_bytes, weight;
	struct go_alloc_state *state = bpf_task_storage_get(&go_alloc_states,
							     bpf_get_current_task_btf(), 0,
							     BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!state || !size || entering_morestack(ctx))
		return 0;
	state->countdown += size;
	if (state->countdown < rate)
		return 0;
	state->countdown = size >= rate ? state->countdown - size : state->countdown - rate;
	weight = size >= rate ? size : rate;
	add_go_sample(ctx, &state->scratch, weight, (weight + size / 2) / size);
	return 0;
}

SEC("uprobe")
int goexit1_enter(struct pt_regs *ctx)
{
	__u64 g = ctx->r14, goid, gopc;
	struct go_site *site;

	if (entering_morestack(ctx))
		return 0;
	if (bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + g_goid_offset)) ||
	    bpf_probe_read_user(&gopc, sizeof(gopc), (void *)(g + g_gopc_offset)))
		return 0;
	if (bpf_map_lookup_elem(&go_preexisting, &goid)) {
		bpf_map_delete_elem(&go_preexisting, &goid);
		count(LS_CNT_GO_PREEXISTING_EXITS, 1);
		return 0;
	}
	site = bpf_map_lookup_elem(&go_sites, &gopc);
	/* Never more exits than creations: an exit of a goroutine created in the
	 * instant between the allgs read and the attach is counted apart. */
	if (!site || site->exited >= site->created) {
		count(LS_CNT_GO_UNKNOWN_EXITS, 1);
		return 0;
	}
	__sync_fetch_and_add(&site->exited, 1);
	return 0;
}
