// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --kernel: kernel allocations per kernel stack, from the kmem, percpu and
 * vmalloc tracepoints (no kprobes needed).  An allocation is recorded when
 * the target (or, with no target, any process) is the current task; a free is
 * matched wherever it happens (RCU callbacks, workqueues, another process).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "stack.bpf.h"
#include "procs.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 target_tgid = 0; /* 0: every process */
const volatile __u32 self_tgid = 0;   /* leaksnoop itself, never traced */
const volatile __u64 page_bytes = 4096;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LS_DEFAULT_MAX_ALLOCS);
	__type(key, struct kernel_block_key);
	__type(value, struct alloc_record);
} kernel_blocks SEC(".maps");

/*
 * Tracepoint programs do not nest on a CPU (an allocation in an interrupt
 * during one is not traced), so one scratch per CPU is enough.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
} kernel_scratch SEC(".maps");

/*
 * The proc an allocation in the current context is charged to: the target or
 * a process it forked (map `procs`), or with no target any process but ours
 * (all as proc 0); LS_NO_PROC when it is not traced.
 */
static __always_inline __u32 wanted_proc(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, *found;

	if (!target_tgid)
		return tgid != self_tgid ? 0 : LS_NO_PROC;
	found = bpf_map_lookup_elem(&procs, &tgid);
	if (found)
		return *found == LS_IGNORED_PROC ? LS_NO_PROC : *found;
	return tgid == target_tgid ? 0 : LS_NO_PROC;
}

/* The kernel stack of the allocation, stored once; its stats slot for proc. */
static __always_inline __u32 kernel_stack_slot(void *ctx, __u32 proc)
{
	__u32 zero = 0;
	struct stack_scratch *scratch = bpf_map_lookup_elem(&kernel_scratch, &zero);
	long bytes;

	if (!scratch)
		return LS_NO_SLOT;
	bytes = bpf_get_stack(ctx, scratch->trace.ips, sizeof(scratch->trace.ips), 0);
	if (bytes <= 0) {
		count(LS_CNT_DROP_STACK, 1);
		return proc_slot_of(LS_UNKNOWN_STACK, LS_KIND_KERNEL, proc);
	}
	scratch->trace.depth = bytes / sizeof(__u64);
	return proc_slot_of(store_trace(scratch), LS_KIND_KERNEL, proc);
}

static __always_inline void release_kernel(__u64 addr, __u32 space)
{
	struct kernel_block_key key = { .addr = addr, .space = space };
	struct alloc_record *found = bpf_map_lookup_elem(&kernel_blocks, &key), released;
	struct stack_stats *stats;

	if (!found)
		return;
	released = *found;
	/* Only one of two racing frees of the same block gets to account it. */
	if (bpf_map_delete_elem(&kernel_blocks, &key))
		return;
	stats = stats_at(released.slot);
	if (stats)
		stats_sub(stats, &released);
}

static __always_inline void record_kernel(void *ctx, __u64 addr, __u32 space, __u64 size)
{
	struct kernel_block_key key = { .addr = addr, .space = space };
	struct alloc_record rec = { .size = size };
	struct stack_stats *stats;
	__u32 proc;

	if (!addr || (proc = wanted_proc()) == LS_NO_PROC)
		return;
	rec.time_ns = age_epoch_ns ? age_now_ns() : 0;
	rec.slot = kernel_stack_slot(ctx, proc);
	stats = stats_at(rec.slot);
	if (!stats) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return;
	}
	/* A block at this address whose free we never saw (not traced in an interrupt). */
	release_kernel(addr, space);
	if (bpf_map_update_elem(&kernel_blocks, &key, &rec, BPF_NOEXIST)) {
		count(LS_CNT_DROP_ALLOC_FULL, 1);
		return;
	}
	stats_add(stats, &rec);
}

SEC("tracepoint/kmem/kmalloc")
int kmalloc(struct trace_event_raw_kmalloc *ctx)
{
	record_kernel(ctx, (__u64)ctx->ptr, LS_KSPACE_SLAB, ctx->bytes_alloc);
	return 0;
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int kmem_cache_alloc(struct trace_event_raw_kmem_cache_alloc *ctx)
{
	record_kernel(ctx, (__u64)ctx->ptr, LS_KSPACE_SLAB, ctx->bytes_alloc);
	return 0;
}

SEC("tracepoint/kmem/kfree")
int kfree(struct trace_event_raw_kfree *ctx)
{
	release_kernel((__u64)ctx->ptr, LS_KSPACE_SLAB);
	return 0;
}

SEC("tracepoint/kmem/kmem_cache_free")
int kmem_cache_free(struct trace_event_raw_kmem_cache_free *ctx)
{
	release_kernel((__u64)ctx->ptr, LS_KSPACE_SLAB);
	return 0;
}

SEC("tracepoint/kmem/mm_page_alloc")
int mm_page_alloc(struct trace_event_raw_mm_page_alloc *ctx)
{
	/* A failed allocation reports pfn -1. */
	if (ctx->pfn != ~0UL)
		record_kernel(ctx, ctx->pfn + 1, LS_KSPACE_PAGE, page_bytes << ctx->order);
	return 0;
}

SEC("tracepoint/kmem/mm_page_free")
int mm_page_free(struct trace_event_raw_mm_page_free *ctx)
{
	release_kernel(ctx->pfn + 1, LS_KSPACE_PAGE); /* +1: pfn 0 is a page too */
	return 0;
}

SEC("tracepoint/kmem/mm_page_free_batched")
int mm_page_free_batched(struct trace_event_raw_mm_page_free_batched *ctx)
{
	release_kernel(ctx->pfn + 1, LS_KSPACE_PAGE);
	return 0;
}

SEC("tracepoint/percpu/percpu_alloc_percpu")
int percpu_alloc(struct trace_event_raw_percpu_alloc_percpu *ctx)
{
	__u64 bytes = ctx->size;

	/* bytes_alloc (every CPU's copy) exists since Linux 6.1. */
	if (bpf_core_field_exists(ctx->bytes_alloc))
		bytes = BPF_CORE_READ(ctx, bytes_alloc);
	record_kernel(ctx, (__u64)ctx->ptr, LS_KSPACE_PERCPU, bytes);
	return 0;
}

SEC("tracepoint/percpu/percpu_free_percpu")
int percpu_free(struct trace_event_raw_percpu_free_percpu *ctx)
{
	release_kernel((__u64)ctx->ptr, LS_KSPACE_PERCPU);
	return 0;
}

SEC("tracepoint/vmalloc/alloc_vmap_area")
int vmap_alloc(struct trace_event_raw_alloc_vmap_area *ctx)
{
	if (!ctx->failed)
		record_kernel(ctx, ctx->addr, LS_KSPACE_VMALLOC, ctx->size);
	return 0;
}

SEC("tracepoint/vmalloc/free_vmap_area_noflush")
int vmap_free(struct trace_event_raw_free_vmap_area_noflush *ctx)
{
	release_kernel(ctx->va_start, LS_KSPACE_VMALLOC);
	return 0;
}
