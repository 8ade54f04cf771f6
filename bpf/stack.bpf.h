/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What every probe file shares: the per-stack maps, the rare-event counters
 * and the user stack capture.  Each BPF object declares `stack_traces`,
 * `stack_index`, `stack_stats`, `stack_slots_used` and `counters` through
 * this header (and `age_clock`); user space makes them one map each
 * (bpf_map__reuse_fd), so a
 * stack seen by the heap probes and by the thread or goroutine probes is
 * stored once.
 */
#ifndef LS_STACK_BPF_H
#define LS_STACK_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "leaksnoop.h"

#define LS_NO_SLOT 0xffffffffu

/*
 * Recently seen (stack, kind, proc) and their slots, direct-mapped by stack
 * hash: a program allocates from a few hot sites in turn (a loop's malloc,
 * calloc and realloc), and a hit spares both hash lookups of a new stack
 * (`stack_traces`, `stack_index`).  Stacks are never removed, so an entry
 * never goes stale.
 */
#define LS_SLOT_CACHE 8
#define LS_SLOT_CACHE_USED 0x80000000u

/* Code addresses judged by follows_call(), direct-mapped (trace_syscall_stack). */
#define LS_CALL_CACHE 16

struct slot_cache_entry {
	__u64 stack_hash;
	__u32 tag;  /* LS_SLOT_CACHE_USED | proc << 8 | kind */
	__u32 slot;
};

/* Per-thread scratch for one capture (too big for the BPF stack). */
struct stack_scratch {
	__u64 last_hash; /* known to be in `stack_traces` already */
	struct slot_cache_entry slot_cache[LS_SLOT_CACHE];
	__u64 after_call[LS_CALL_CACHE];     /* addresses that follow a call instruction */
	__u64 not_after_call[LS_CALL_CACHE]; /* and addresses that do not */
	/*
	 * bpf/unwind.bpf.h: the walk's registers and a search's bounds.  Kept in
	 * map memory, which the verifier does not track value by value, so
	 * that the paths of each frame's step merge instead of multiplying.
	 */
	struct {
		__u64 ip, sp, bp;
		__u64 copy_base, window; /* stack_copy holds [copy_base, copy_base + window) */
		__u32 depth;
		__u32 search_lo, search_hi;
	} unwind;
	struct stack_trace trace;
	__u64 stack_copy[LS_STACK_COPY_WORDS]; /* the top of the user stack, copied at once */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_DEFAULT_MAX_STACKS);
	__type(key, __u64);
	__type(value, struct stack_trace);
} stack_traces SEC(".maps");

/*
 * Per-stack totals of blocks (heap, mmap), growth and Go allocation samples:
 * one slot of the array `stack_stats` per (stack, kind), handed out in order
 * from `stack_slots_used` and found through `stack_index`.  A block's record
 * keeps its slot, so a free reaches its totals without a hash lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_DEFAULT_MAX_STACKS);
	__type(key, struct stack_key);
	__type(value, __u32);
} stack_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LS_DEFAULT_MAX_STACKS);
	__type(key, __u32);
	__type(value, struct stack_slot);
} stack_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} stack_slots_used SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which, __u64 amount)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &which);

	if (value)
		__sync_fetch_and_add(value, amount);
}

/* The value at key, created zeroed when absent (NULL only when the map is full). */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline struct stack_stats *stats_at(__u32 slot)
{
	struct stack_slot *entry = bpf_map_lookup_elem(&stack_stats, &slot);

	return entry ? &entry->stats : NULL;
}

/* A fresh slot for key; LS_NO_SLOT when `stack_stats` is full. */
static __always_inline __u32 new_slot(const struct stack_key *key)
{
	__u32 zero = 0, slot, *used = bpf_map_lookup_elem(&stack_slots_used, &zero), *won;
	struct stack_slot *entry;

	if (!used)
		return LS_NO_SLOT;
	slot = __sync_fetch_and_add(used, 1);
	entry = bpf_map_lookup_elem(&stack_stats, &slot);
	if (!entry)
		return LS_NO_SLOT;
	entry->key = *key;
	entry->used = 1;
	if (!bpf_map_update_elem(&stack_index, key, &slot, BPF_NOEXIST))
		return slot;
	/* Another CPU indexed the same stack first: use its slot, give up ours. */
	entry->used = 0;
	won = bpf_map_lookup_elem(&stack_index, key);
	return won ? *won : LS_NO_SLOT;
}

/* The slot of (stack, kind, proc), created on first use. */
static __always_inline __u32 proc_slot_of(__u64 stack_hash, __u32 kind, __u32 proc)
{
	struct stack_key key = { .stack_hash = stack_hash, .kind = kind, .proc = proc };
	__u32 *slot = bpf_map_lookup_elem(&stack_index, &key);

	return slot ? *slot : new_slot(&key);
}

/* The target's slot of (stack, kind). */
static __always_inline __u32 slot_of(__u64 stack_hash, __u32 kind)
{
	return proc_slot_of(stack_hash, kind, 0);
}

/* Per-stack totals of (stack, kind), created on first use. */
static __always_inline struct stack_stats *stats_of(__u64 stack_hash, __u32 kind)
{
	return stats_at(slot_of(stack_hash, kind));
}

/* Set by user space before load (-o): epochs of the young-block ring; 0: no age filter. */
const volatile __u64 age_epoch_ns = 0;
/* Set by user space before load: date blocks by `age_clock` (include/leaksnoop.h). */
const volatile bool age_clock_ticks = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} age_clock SEC(".maps");

/* Now, for the age filter. */
static __always_inline __u64 age_now_ns(void)
{
	__u32 zero = 0;
	__u64 *now = age_clock_ticks ? bpf_map_lookup_elem(&age_clock, &zero) : NULL;

	return now && *now ? *now : bpf_ktime_get_ns();
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
	if (age_now_ns() / age_epoch_ns - epoch > LS_AGE_SLOTS - LS_AGE_GUARD_EPOCHS)
		return;
	__sync_fetch_and_add(&slot->bytes, -(__s64)rec->size);
	__sync_fetch_and_add(&slot->count, -1);
}

static __always_inline void stats_add(struct stack_stats *stats,
				      const struct alloc_record *rec)
{
	__sync_fetch_and_add(&stats->outstanding_bytes, rec->size);
	if (__sync_fetch_and_add(&stats->outstanding_count, 1) == 0)
		stats->outstanding_since_ns = rec->time_ns ? rec->time_ns : bpf_ktime_get_ns();
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

/* 64-bit hash of the frames: collisions are what a stack-id map would drop. */
static __always_inline __u64 hash_frames(const struct stack_trace *trace)
{
	__u64 hash = 0xcbf29ce484222325ULL;

	for (int i = 0; i < LS_MAX_STACK_DEPTH; i++) {
		if (i >= trace->depth)
			break;
		hash ^= trace->ips[i];
		hash *= 0x9e3779b97f4a7c15ULL;
		hash ^= hash >> 29;
	}
	return hash == LS_UNKNOWN_STACK ? 1 : hash;
}

/* True when the bytes before addr end with a call instruction. */
static __always_inline bool follows_call(__u64 addr)
{
	__u8 code[8];

	if (bpf_probe_read_user(code, sizeof(code), (void *)(addr - sizeof(code))))
		return false;
	return code[3] == 0xe8 ||                               /* call rel32 */
	       (code[6] == 0xff && (code[7] & 0x38) == 0x10) || /* call *%reg */
	       (code[5] == 0xff && (code[6] & 0x38) == 0x10) || /* call *(%reg),+disp8 */
	       (code[2] == 0xff && (code[3] & 0x38) == 0x10);   /* call *disp32(%rip) */
}

/*
 * follows_call() through the scratch's cache of code addresses already
 * judged: a program makes its system calls from a few sites, and each
 * judgement is a read of the target's code.  Code does not change under a
 * mapping (an image an exec replaced is another process's).
 */
static __always_inline bool known_to_follow_call(struct stack_scratch *scratch, __u64 addr)
{
	__u32 at = (addr ^ addr >> 7) & (LS_CALL_CACHE - 1);
	bool after_call;

	if (scratch->after_call[at] == addr)
		return true;
	if (scratch->not_after_call[at] == addr)
		return false;
	after_call = follows_call(addr);
	if (after_call)
		scratch->after_call[at] = addr;
	else
		scratch->not_after_call[at] = addr;
	return after_call;
}

/*
 * While a function's return probe is pending (malloc's, pthread_create's),
 * the return address in its stack slot is the uprobes trampoline, which the
 * kernel maps at the start of a page; the original is in the task's return
 * instances, found by the slot's address.
 */
static __noinline __u64 original_return(__u64 slot, __u64 ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri = BPF_CORE_READ(task, utask, return_instances);

	for (int i = 0; i < 16 && ri; i++) {
		if (BPF_CORE_READ(ri, stack) == slot)
			return BPF_CORE_READ(ri, orig_ret_vaddr);
		ri = BPF_CORE_READ(ri, next);
	}
	return ret;
}

static __always_inline __u64 real_return(__u64 slot, __u64 ret)
{
	return ret & 0xfff ? ret : original_return(slot, ret);
}

/*
 * Copy the top of the user stack from sp into the scratch; returns the bytes
 * copied.  bpf_probe_read_user, not bpf_copy_from_user: with hardened
 * usercopy the latter looks its destination up among the kernel's vmalloc
 * areas (per-CPU map memory is one), ~60 ns more per copy and a lock that
 * the CPUs share.
 */
static __always_inline __u64 copy_stack_window(struct stack_scratch *scratch, __u64 sp)
{
	__u64 window = sizeof(scratch->stack_copy);

	if (bpf_probe_read_user(scratch->stack_copy, sizeof(scratch->stack_copy), (void *)sp)) {
		/* The stack ends within the window: copy up to the end of sp's page. */
		window = 4096 - (sp & 4095);
		if (window > sizeof(scratch->stack_copy) ||
		    bpf_probe_read_user(scratch->stack_copy, window & (sizeof(scratch->stack_copy) - 1),
					(void *)sp))
			window = 0;
	}
	return window;
}

/*
 * One frame of the frame-pointer walk (a bpf_loop step): the frame at
 * scratch->unwind.bp, read from the copied window when it lies inside it.
 * The walk's state is in the scratch (map memory), whose values the verifier
 * does not track one by one, so the step is verified once, not once per
 * depth and path: the walk used to take ~0.4 s of verification per program.
 * Its frame lands at trace.ips[index + first], first a constant of each caller.
 */
static __always_inline long fp_step_into(__u64 index, void *ctx, __u32 first)
{
	struct stack_scratch *scratch = *(struct stack_scratch **)ctx;
	__u64 sp = scratch->unwind.sp, fp = scratch->unwind.bp;
	__u64 offset = fp - sp, frame[2];

	if (fp < sp || (fp & 7))
		return 1;
	if (offset + sizeof(frame) <= scratch->unwind.window &&
	    offset / 8 < LS_STACK_COPY_WORDS - 1) {
		__u64 word = offset / 8;

		/* Hidden from clang, which would drop the masks below that the verifier needs. */
		asm volatile("" : "+r"(word));
		word &= LS_STACK_COPY_WORDS - 1;
		frame[0] = scratch->stack_copy[word];
		frame[1] = scratch->stack_copy[(word + 1) & (LS_STACK_COPY_WORDS - 1)];
	} else if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp)) {
		return 1;
	}
	if (!frame[1])
		return 1;
	index += first;
	scratch->trace.ips[index & (LS_MAX_STACK_DEPTH - 1)] = real_return(fp + 8, frame[1]);
	scratch->unwind.depth = index + 1;
	if (frame[0] <= fp)
		return 1;
	scratch->unwind.bp = frame[0];
	return 0;
}

/* The walk's frames from trace.ips[1]: after the leaf frame (a probe's, a system call's). */
static long fp_step(__u64 index, void *ctx)
{
	return fp_step_into(index, ctx, 1);
}

/* From trace.ips[2]: after a system call wrapper and its return address. */
static long fp_step_past_wrapper(__u64 index, void *ctx)
{
	return fp_step_into(index, ctx, 2);
}

/*
 * Frame-pointer walk of the user stack from regs.  The kernel's walker reads
 * each frame with its own user copy; here the top LS_STACK_COPY_WORDS words of
 * the stack are copied once and frames inside that window are read from the
 * copy, which is several times cheaper per allocation.  A frame chain must
 * move up the stack, so a frame pointer that does not ends the walk.
 */
static __always_inline int walk_user_stack(struct pt_regs *regs, struct stack_scratch *scratch)
{
	__u64 sp = PT_REGS_SP(regs); /* ctx: direct reads */

	scratch->unwind.sp = sp;
	scratch->unwind.bp = PT_REGS_FP(regs);
	scratch->unwind.window = copy_stack_window(scratch, sp);
	scratch->unwind.depth = 1;
	scratch->trace.ips[0] = PT_REGS_IP(regs);
	bpf_loop(LS_MAX_STACK_DEPTH - 1, fp_step, &scratch, 0);
	scratch->trace.depth = scratch->unwind.depth;
	return scratch->trace.depth;
}

/* Store the scratch trace, whose hash is given, once in `stack_traces`; returns the hash. */
static __always_inline __u64 store_hashed_trace(struct stack_scratch *scratch, __u64 hash)
{
	if (hash == scratch->last_hash)
		return hash; /* a loop allocating from one stack skips the lookup */
	if (bpf_map_lookup_elem(&stack_traces, &hash)) {
		scratch->last_hash = hash;
		return hash;
	}
	if (bpf_map_update_elem(&stack_traces, &hash, &scratch->trace, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&stack_traces, &hash)) {
		count(LS_CNT_DROP_STACK, 1);
		return LS_UNKNOWN_STACK;
	}
	return hash;
}

/* Store the scratch trace once in `stack_traces`; returns its hash. */
static __always_inline __u64 store_trace(struct stack_scratch *scratch)
{
	return store_hashed_trace(scratch, hash_frames(&scratch->trace));
}

/* The slot of the scratch trace as (kind, proc): the trace stored and indexed on first sight. */
static __always_inline __u32 trace_slot(struct stack_scratch *scratch, __u32 kind, __u32 proc)
{
	__u64 hash = hash_frames(&scratch->trace);
	struct slot_cache_entry *cached = &scratch->slot_cache[hash & (LS_SLOT_CACHE - 1)];
	__u32 tag = LS_SLOT_CACHE_USED | proc << 8 | kind, slot;

	if (cached->stack_hash == hash && cached->tag == tag)
		return cached->slot;
	hash = store_hashed_trace(scratch, hash);
	slot = proc_slot_of(hash, kind, proc);
	if (slot != LS_NO_SLOT && hash != LS_UNKNOWN_STACK) {
		cached->stack_hash = hash;
		cached->tag = tag;
		cached->slot = slot;
	}
	return slot;
}

/* Words above %rsp searched for a wrapper's return address. */
#define LS_WRAPPER_WORDS 24
/* Where user code can be: above the first pages, below the top of user space, off the stack. */
#define LS_LOWEST_CODE 0x10000ULL
#define LS_USER_TOP 0x800000000000ULL
#define LS_STACK_REACH (64ULL << 20)

/* Could word, read from the stack at sp, be a return address? */
static __always_inline bool return_address(struct stack_scratch *scratch, __u64 word, __u64 sp)
{
	/* Only what could be a code address is read (numbers, stack addresses are not). */
	return word >= LS_LOWEST_CODE && word < LS_USER_TOP &&
	       (word > sp ? word - sp : sp - word) > LS_STACK_REACH &&
	       known_to_follow_call(scratch, word);
}

/* A wrapper's code is shorter than this: a return address so near the call is its own. */
#define LS_WRAPPER_BYTES 256

/* Could v be a frame pointer saved for (or kept by) a frame above stack word i? */
static __always_inline bool frame_above(__u64 v, __u64 sp, __u32 i)
{
	return v > sp + 8 * i && v - sp < LS_STACK_REACH && !(v & 7);
}

/*
 * Is the word at index i above sp the wrapper's return address?  At i = 0 it
 * is a leaf's (one that keeps no frame).  Higher up, the wrapper has a frame
 * of its own, and the walk must go on from a frame pointer above it: the
 * caller's %rbp pushed just below it (glibc's open64 pushes %rbp, then keeps
 * an argument in it), or %rbp itself, which a wrapper that leaves it alone
 * (glibc's accept, sub $0x28,%rsp) still holds.  What its frame's other
 * slots keep of earlier calls is not taken: a return address into the
 * wrapper itself (from its own call to a helper), or one with no frame
 * pointer above it.  The registers are read from the scratch (map memory)
 * each time, not kept: what a comparison teaches the verifier of a kept one
 * would make each word's paths differ from the last's, and their number
 * double with every word.
 */
static __always_inline bool wrapper_return_at(struct stack_scratch *scratch, __u32 i)
{
	__u64 word = scratch->stack_copy[i & (LS_STACK_COPY_WORDS - 1)];
	__u64 sp = scratch->unwind.sp, bp = scratch->unwind.bp, ip = scratch->trace.ips[0];

	if (word + LS_WRAPPER_BYTES >= ip && word <= ip + LS_WRAPPER_BYTES)
		return false;
	if (i > 0 && !frame_above(bp, sp, i) &&
	    !frame_above(scratch->stack_copy[(i - 1) & (LS_STACK_COPY_WORDS - 1)], sp, i))
		return false;
	return return_address(scratch, word, sp);
}

/*
 * The user stack of the current system call (or fault) from the user
 * registers saved at its entry, in one copy of the stack's top: the
 * wrapper's address, its return address (wrapper_return_at), then the
 * caller's frames from its frame pointer; from the wrapper's own %rbp when
 * no return address is found.  The kernel's walker would read every frame
 * with a user copy of its own and, starting at the wrapper's %rbp, miss the
 * caller or take an argument for a frame.  A function of its own, verified
 * once per program, whose search is a plain loop: a bpf_loop step costs a
 * call and a return, dear with this CPU's return-stack mitigations.
 * Returns 0 when the registers cannot be had.
 */
__noinline int trace_syscall_stack(struct stack_scratch *scratch)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u64 sp, window, saved;
	int found = -1;

	if (!regs || !scratch)
		return 0;
	sp = regs->sp;
	window = copy_stack_window(scratch, sp);
	scratch->trace.ips[0] = regs->ip;
	scratch->unwind.sp = sp;
	scratch->unwind.window = window;
	scratch->unwind.bp = regs->bp; /* a leaf wrapper's, or one that left it alone: its caller's */
	for (__u32 i = 0; i < LS_WRAPPER_WORDS && i * 8 + 8 <= window; i++) {
		if (wrapper_return_at(scratch, i)) {
			found = i;
			break;
		}
	}
	saved = found > 0 ? scratch->stack_copy[(found - 1) & (LS_STACK_COPY_WORDS - 1)] : 0;
	if (found > 0 && frame_above(saved, sp, found))
		scratch->unwind.bp = saved;
	if (found >= 0) {
		scratch->trace.ips[1] = scratch->stack_copy[found & (LS_STACK_COPY_WORDS - 1)];
		scratch->unwind.depth = 2;
		bpf_loop(LS_MAX_STACK_DEPTH - 2, fp_step_past_wrapper, &scratch, 0);
	} else {
		scratch->unwind.depth = 1;
		bpf_loop(LS_MAX_STACK_DEPTH - 1, fp_step, &scratch, 0);
	}
	scratch->trace.depth = scratch->unwind.depth;
	return 1;
}

/*
 * The user stack of the current call into the scratch trace; false when it
 * cannot be had.  in_syscall: a tracepoint in a system call or a fault,
 * where the user registers are those saved at its entry.
 */
static __always_inline bool trace_stack(void *ctx, struct stack_scratch *scratch, bool in_syscall)
{
	if (in_syscall && !trace_syscall_stack(scratch)) {
		count(LS_CNT_DROP_STACK, 1);
		return false;
	}
	if (!in_syscall)
		walk_user_stack(ctx, scratch);
	return true;
}

/* The user stack of the current call, stored once; returns its hash. */
static __always_inline __u64 capture_stack(void *ctx, struct stack_scratch *scratch, bool in_syscall)
{
	return trace_stack(ctx, scratch, in_syscall) ? store_trace(scratch) : LS_UNKNOWN_STACK;
}

#endif /* LS_STACK_BPF_H */
