// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Heap and anonymous-mmap probes.
 *
 * Entry probes stash the arguments of an allocator call in per-thread storage;
 * return probes (uretprobes) see the result, capture the user stack once and
 * fold the block into its stack's counters.  Frees undo exactly what the
 * matching allocation did.  Everything here is mechanism; thresholds,
 * sorting and ages are decided in user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "stack.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by user space before load. */
const volatile __u32 target_tgid = 0;    /* for the syscall tracepoints */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
const volatile __u64 age_epoch_ns = 0;   /* 0: no age filter */
const volatile __u32 sample_rate = 1;    /* record one allocation in N */

#define MAP_ANONYMOUS 0x20
#define MAX_ERRNO 4095

enum pending_call {
	CALL_NONE = 0,
	CALL_MALLOC,         /* malloc, calloc, memalign, aligned_alloc, valloc, pvalloc */
	CALL_REALLOC,        /* realloc, reallocarray */
	CALL_POSIX_MEMALIGN,
};

/* Per-thread: the call in flight and scratch space for its stack. */
struct thread_state {
	__u32 call;          /* enum pending_call */
	__u32 in_allocator;  /* the allocator's own mmaps are heap, not kind mmap */
	__u32 record;        /* the returned block is to be recorded (size, sampling) */
	__u32 pad;
	__u64 size;
	__u64 out_ptr;       /* posix_memalign's memptr */
	__u64 old_ptr;       /* realloc's block, already released at entry */
	struct alloc_record old_record;
	__u64 mmap_len;
	__u64 mremap_old_addr;
	struct stack_scratch scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} thread_states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LS_DEFAULT_MAX_ALLOCS);
	__type(key, __u64);
	__type(value, struct alloc_record);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LS_DEFAULT_MAX_ALLOCS);
	__type(key, __u64);
	__type(value, struct alloc_record);
} mmaps SEC(".maps");


static __always_inline struct thread_state *thread_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&thread_states, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline bool size_wanted(__u64 size)
{
	return size >= min_size && size <= max_size;
}

/* With -s N, one allocation in N is recorded; the rest cost only the traps. */
static __always_inline bool sampled_out(void)
{
	return sample_rate > 1 && bpf_get_prandom_u32() % sample_rate;
}

static __always_inline void age_slot_add(struct stack_stats *stats, __u64 time_ns,
					 __s64 bytes, __s64 allocs)
{
	__u64 epoch = time_ns / age_epoch_ns;
	struct age_slot *slot = &stats->young[epoch & (LS_AGE_SLOTS - 1)];
	__u64 seen = slot->epoch;

	if (seen != epoch) {
		/* First block of a new epoch in this slot: the winner resets it. */
		if (__sync_val_compare_and_swap(&slot->epoch, seen, epoch) == seen) {
			slot->bytes = 0;
			slot->count = 0;
		}
	}
	__sync_fetch_and_add(&slot->bytes, bytes);
	__sync_fetch_and_add(&slot->count, allocs);
}

static __always_inline void age_slot_sub(struct stack_stats *stats,
					 const struct alloc_record *rec)
{
	__u64 epoch = rec->time_ns / age_epoch_ns;
	struct age_slot *slot = &stats->young[epoch & (LS_AGE_SLOTS - 1)];

	/* The slot moved on (an old block): no clock read needed to know it. */
	if (slot->epoch != epoch)
		return;
	if (bpf_ktime_get_ns() / age_epoch_ns - epoch > LS_AGE_SLOTS - LS_AGE_GUARD_EPOCHS)
		return;
	__sync_fetch_and_add(&slot->bytes, -(__s64)rec->size);
	__sync_fetch_and_add(&slot->count, -1);
}

static __always_inline void stats_add(struct stack_stats *stats,
				      const struct alloc_record *rec)
{
	__sync_fetch_and_add(&stats->outstanding_bytes, rec->size);
	if (__sync_fetch_and_add(&stats->outstanding_count, 1) == 0)
		stats->outstanding_since_ns = rec->time_ns;
	__sync_fetch_and_add(&stats->alloc_bytes, rec->size);
	__sync_fetch_and_add(&stats->alloc_count, 1);
	if (age_epoch_ns)
		age_slot_add(stats, rec->time_ns, rec->size, 1);
}

static __always_inline void stats_sub(struct stack_stats *stats,
				      const struct alloc_record *rec)
{
	__sync_fetch_and_add(&stats->outstanding_bytes, -(__s64)rec->size);
	__sync_fetch_and_add(&stats->outstanding_count, -1);
	if (age_epoch_ns)
		age_slot_sub(stats, rec);
}

/* Forget a block: it was freed (or unmapped) and its stack no longer holds it. */
static __always_inline bool release_block(void *table, __u64 addr, __u32 kind,
					  struct alloc_record *released)
{
	struct alloc_record *found = bpf_map_lookup_elem(table, &addr);
	struct stack_stats *stats;

	if (!found) {
		if (kind == LS_KIND_HEAP)
			count(LS_CNT_FREES_UNTRACKED, 1);
		return false;
	}
	*released = *found;
	/* Only one of two racing frees of the same block gets to account it. */
	if (bpf_map_delete_elem(table, &addr))
		return false;
	stats = stats_of(released->stack_hash, kind);
	if (stats)
		stats_sub(stats, released);
	return true;
}

/* Record a new block and charge it to the current user stack. */
static __always_inline void record_block(void *ctx, struct thread_state *state,
					 void *table, __u64 addr, __u64 size, __u32 kind)
{
	struct alloc_record rec = {
		.size = size,
		.time_ns = bpf_ktime_get_ns(),
	};
	struct alloc_record stale;
	struct stack_stats *stats;

	rec.stack_hash = capture_stack(ctx, &state->scratch, kind == LS_KIND_MMAP);
	stats = stats_of(rec.stack_hash, kind);
	if (!stats) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return;
	}
	if (bpf_map_update_elem(table, &addr, &rec, BPF_NOEXIST)) {
		/* A block at this address whose release we never saw: retire it. */
		if (!bpf_map_lookup_elem(table, &addr)) {
			count(LS_CNT_DROP_ALLOC_FULL, 1);
			return;
		}
		release_block(table, addr, kind, &stale);
		if (bpf_map_update_elem(table, &addr, &rec, BPF_NOEXIST)) {
			count(LS_CNT_DROP_ALLOC_FULL, 1);
			return;
		}
	}
	stats_add(stats, &rec);
}

static __always_inline int enter_alloc(__u32 call, __u64 size)
{
	struct thread_state *state = thread_state(true);

	if (!state) {
		count(LS_CNT_DROP_STATE, 1);
		return 0;
	}
	state->in_allocator = 1;
	state->call = call;
	state->record = size_wanted(size) && !sampled_out();
	state->size = size;
	return 0;
}

static __always_inline bool product_overflows(__u64 a, __u64 b)
{
	__u64 limit;

	if (!b)
		return false;
	limit = ~0ULL / b;
	/* Keep clang from turning this into a 128-bit multiply BPF cannot do. */
	asm volatile("" : "+r"(limit));
	return a > limit;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	return enter_alloc(CALL_MALLOC, size);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 nmemb, __u64 size)
{
	if (product_overflows(nmemb, size))
		return enter_alloc(CALL_NONE, 0); /* overflow: calloc fails */
	return enter_alloc(CALL_MALLOC, nmemb * size);
}

/* memalign(align, size) and aligned_alloc(align, size) */
SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 alignment, __u64 size)
{
	return enter_alloc(CALL_MALLOC, size);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 alignment, __u64 size)
{
	struct thread_state *state;

	enter_alloc(CALL_POSIX_MEMALIGN, size);
	state = thread_state(false);
	if (state)
		state->out_ptr = memptr;
	return 0;
}

/*
 * realloc releases the old block at entry, before the allocator can hand its
 * address to another thread; a failed realloc puts it back on return.
 */
static __always_inline int enter_realloc(__u64 ptr, __u64 size)
{
	struct thread_state *state;

	enter_alloc(CALL_REALLOC, size);
	state = thread_state(false);
	if (!state)
		return 0;
	state->old_ptr = 0;
	if (ptr && release_block(&allocs, ptr, LS_KIND_HEAP, &state->old_record))
		state->old_ptr = ptr;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	return enter_realloc(ptr, size);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 ptr, __u64 nmemb, __u64 size)
{
	if (product_overflows(nmemb, size))
		return enter_alloc(CALL_NONE, 0); /* overflow: fails, block kept */
	return enter_realloc(ptr, nmemb * size);
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	struct alloc_record released;

	if (ptr)
		release_block(&allocs, ptr, LS_KIND_HEAP, &released);
	return 0;
}

/* The realloc failed: the old block is still the caller's. */
static __always_inline void restore_old_block(struct thread_state *state)
{
	struct stack_stats *stats;
	__u64 addr = state->old_ptr;

	if (!addr)
		return;
	if (bpf_map_update_elem(&allocs, &addr, &state->old_record, BPF_NOEXIST))
		return;
	stats = stats_of(state->old_record.stack_hash, LS_KIND_HEAP);
	if (stats) {
		__sync_fetch_and_add(&stats->outstanding_bytes, state->old_record.size);
		__sync_fetch_and_add(&stats->outstanding_count, 1);
	}
	count(LS_CNT_REALLOC_FAILED, 1);
}

/* One return probe serves the whole family: the entry said what was called. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	struct thread_state *state = thread_state(false);
	__u32 call;
	__u64 addr = ret;

	if (!state)
		return 0;
	call = state->call;
	state->call = CALL_NONE;
	state->in_allocator = 0;
	if (call == CALL_NONE)
		return 0;

	if (call == CALL_POSIX_MEMALIGN) {
		if ((int)ret != 0 ||
		    bpf_probe_read_user(&addr, sizeof(addr), (void *)state->out_ptr))
			return 0;
	} else if (call == CALL_REALLOC && !ret) {
		/* realloc(p, 0) freed p; any other NULL is a failure that kept it. */
		if (state->size)
			restore_old_block(state);
		return 0;
	}
	if (addr && state->record)
		record_block(ctx, state, &allocs, addr, state->size, LS_KIND_HEAP);
	return 0;
}

static __always_inline bool is_target(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct thread_state *state;
	__u64 len = ctx->args[1], prot = ctx->args[2], flags = ctx->args[3];

	/* PROT_NONE is a reservation of address space (an arena, a guard), not memory. */
	if (!is_target() || !(flags & MAP_ANONYMOUS) || !prot || !size_wanted(len))
		return 0;
	state = thread_state(true);
	if (state && !state->in_allocator)
		state->mmap_len = len;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct thread_state *state;
	__u64 len;

	if (!is_target())
		return 0;
	state = thread_state(false);
	if (!state || !state->mmap_len)
		return 0;
	len = state->mmap_len;
	state->mmap_len = 0;
	if ((unsigned long)ctx->ret >= (unsigned long)-MAX_ERRNO)
		return 0;
	record_block(ctx, state, &mmaps, ctx->ret, len, LS_KIND_MMAP);
	return 0;
}

/* The head of a region was unmapped: the rest stays charged to the same stack. */
static __always_inline void shrink_region(__u64 addr, __u64 len, struct alloc_record *rec)
{
	struct alloc_record rest = *rec;
	struct stack_stats *stats;
	__u64 rest_addr = addr + len;

	if (bpf_map_delete_elem(&mmaps, &addr))
		return;
	stats = stats_of(rec->stack_hash, LS_KIND_MMAP);
	rest.size = rec->size - len;
	if (bpf_map_update_elem(&mmaps, &rest_addr, &rest, BPF_NOEXIST)) {
		count(LS_CNT_DROP_ALLOC_FULL, 1);
		if (stats)
			stats_sub(stats, rec);
		return;
	}
	if (stats)
		__sync_fetch_and_add(&stats->outstanding_bytes, -(__s64)len);
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int munmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct alloc_record released, *rec;
	__u64 addr = ctx->args[0], len = ctx->args[1];

	if (!is_target() || !(rec = bpf_map_lookup_elem(&mmaps, &addr)))
		return 0;
	if (len < rec->size) {
		released = *rec;
		shrink_region(addr, len, &released);
		return 0;
	}
	release_block(&mmaps, addr, LS_KIND_MMAP, &released);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int mremap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct thread_state *state;
	__u64 old_addr = ctx->args[0];

	if (!is_target() || !bpf_map_lookup_elem(&mmaps, &old_addr))
		return 0;
	state = thread_state(true);
	if (state) {
		state->mremap_old_addr = old_addr;
		state->mmap_len = ctx->args[2];
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int mremap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct thread_state *state;
	struct alloc_record released;
	__u64 old_addr, new_len;

	if (!is_target())
		return 0;
	state = thread_state(false);
	if (!state || !state->mremap_old_addr)
		return 0;
	old_addr = state->mremap_old_addr;
	new_len = state->mmap_len;
	state->mremap_old_addr = 0;
	state->mmap_len = 0;
	if ((unsigned long)ctx->ret >= (unsigned long)-MAX_ERRNO)
		return 0;
	/* The region moved or resized: re-key it, charged to the remapping stack. */
	if (release_block(&mmaps, old_addr, LS_KIND_MMAP, &released))
		record_block(ctx, state, &mmaps, ctx->ret, new_len, LS_KIND_MMAP);
	return 0;
}
