// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Thread life cycle: which pthread_create call sites leave threads behind.
 *
 * pthread_create's return records the new thread (its TID comes from the
 * clone syscall made inside it) with its creation stack; pthread_detach and a
 * successful pthread_join mark it; sched_process_exit marks its exit.  A
 * thread joined, or detached and exited, holds nothing any more: its record
 * is deleted and counted as gone for its stack.  What stays is live (running)
 * or leaked (exited, never joined nor detached: its stack is still mapped).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "stack.bpf.h"
#include "procs.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 target_tgid = 0;

/* glibc's struct pthread_attr: flags at 8 (bit 0: detached), stacksize at 32. */
#define ATTR_FLAGS_OFFSET 8
#define ATTR_STACKSIZE_OFFSET 32
#define ATTR_FLAG_DETACHSTATE 1

struct create_state {
	__u64 handle_out; /* pthread_create's first argument */
	__u64 attr;
	__u64 join_handle;
	__u32 child_tid;  /* from the clone made inside pthread_create */
	__u32 creating;
	struct stack_scratch scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct create_state);
} create_states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_MAX_TRACKED_THREADS);
	__type(key, __u32);
	__type(value, struct thread_record);
} threads SEC(".maps");

/* pthread_t | proc << LS_PROC_SHIFT -> TID, for detach and join (a forked child has the same pthread_t values). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_MAX_TRACKED_THREADS);
	__type(key, __u64);
	__type(value, __u32);
} handles SEC(".maps");

/* Threads that exited before their creator's pthread_create returned. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} early_exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_DEFAULT_MAX_STACKS);
	__type(key, struct thread_stack_key);
	__type(value, struct thread_stack_stats);
} thread_stacks SEC(".maps");

static __always_inline struct create_state *create_state(bool create)
{
	return bpf_task_storage_get(&create_states, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* The proc of the calling process, or LS_NO_PROC when it is not traced. */
static __always_inline __u32 traced_proc(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, *found;

	found = bpf_map_lookup_elem(&procs, &tgid);
	if (found)
		return *found == LS_IGNORED_PROC ? LS_NO_PROC : *found; /* a child, a new image */
	return tgid == target_tgid ? 0 : LS_NO_PROC;
}

static __always_inline __u64 handle_key(__u64 handle, __u32 proc)
{
	return handle | (__u64)proc << LS_PROC_SHIFT;
}

static __always_inline struct thread_stack_stats *stack_stats_of(__u64 hash, __u32 proc)
{
	static const struct thread_stack_stats zero;
	struct thread_stack_key key = { .stack_hash = hash, .proc = proc };

	return lookup_or_init(&thread_stacks, &key, &zero);
}

/* The thread holds nothing any more: forget it, count it as gone. */
static __always_inline void retire(__u32 tid, struct thread_record *rec)
{
	struct thread_stack_stats *stats = stack_stats_of(rec->stack_hash, rec->proc);
	__u64 handle = handle_key(rec->handle, rec->proc);

	if (bpf_map_delete_elem(&threads, &tid))
		return; /* someone else retired it */
	bpf_map_delete_elem(&handles, &handle);
	if (stats)
		__sync_fetch_and_add(&stats->gone, 1);
}

/* The thread has exited; detached too, it holds nothing any more. */
static __always_inline void mark_exited(__u32 tid, struct thread_record *rec)
{
	rec->exited = 1;
	if (rec->detached)
		retire(tid, rec);
}

SEC("uprobe")
int BPF_KPROBE(create_enter, __u64 handle_out, __u64 attr)
{
	struct create_state *state = create_state(true);

	if (!state)
		return 0;
	state->handle_out = handle_out;
	state->attr = attr;
	state->child_tid = 0;
	state->creating = 1;
	return 0;
}

static __always_inline int clone_exit(long ret)
{
	struct create_state *state;

	if (ret <= 0 || traced_proc() == LS_NO_PROC)
		return 0;
	state = create_state(false);
	if (state && state->creating)
		state->child_tid = ret;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int clone3_exit(struct trace_event_raw_sys_exit *ctx)
{
	return clone_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_clone")
int clone_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	return clone_exit(ctx->ret);
}

static __always_inline void read_attr(__u64 attr, struct thread_record *rec)
{
	__u32 flags = 0;
	__u64 stacksize = 0;

	if (!attr)
		return;
	bpf_probe_read_user(&flags, sizeof(flags), (void *)(attr + ATTR_FLAGS_OFFSET));
	bpf_probe_read_user(&stacksize, sizeof(stacksize), (void *)(attr + ATTR_STACKSIZE_OFFSET));
	rec->detached = flags & ATTR_FLAG_DETACHSTATE;
	rec->stack_bytes = stacksize;
}

SEC("uretprobe")
int BPF_KRETPROBE(create_exit, long ret)
{
	struct create_state *state = create_state(false);
	struct thread_record rec = { .created_ns = bpf_ktime_get_ns() };
	struct thread_stack_stats *stats;
	__u64 handle;
	__u32 tid;

	if (!state || !state->creating)
		return 0;
	state->creating = 0;
	tid = state->child_tid;
	rec.proc = traced_proc();
	if (ret != 0 || rec.proc == LS_NO_PROC)
		return 0;
	if (!tid || bpf_probe_read_user(&rec.handle, sizeof(rec.handle), (void *)state->handle_out)) {
		count(LS_CNT_DROP_THREAD, 1);
		return 0;
	}
	read_attr(state->attr, &rec);
	rec.stack_hash = capture_stack(ctx, &state->scratch, false);
	stats = stack_stats_of(rec.stack_hash, rec.proc);
	if (stats)
		__sync_fetch_and_add(&stats->created, 1);
	handle = handle_key(rec.handle, rec.proc);
	if (bpf_map_update_elem(&threads, &tid, &rec, BPF_ANY) ||
	    bpf_map_update_elem(&handles, &handle, &tid, BPF_ANY)) {
		count(LS_CNT_DROP_THREAD, 1);
		return 0;
	}
	/*
	 * Stored first, looked for second, as thread_exit does the other way
	 * round: however the two interleave, one of them sees the other's entry.
	 */
	if (bpf_map_lookup_elem(&early_exits, &tid)) {
		struct thread_record *stored = bpf_map_lookup_elem(&threads, &tid);

		bpf_map_delete_elem(&early_exits, &tid);
		if (stored)
			mark_exited(tid, stored);
	}
	return 0;
}

static __always_inline struct thread_record *record_of(__u64 handle, __u32 *tid)
{
	__u64 key = handle_key(handle, traced_proc());
	__u32 *found = bpf_map_lookup_elem(&handles, &key);

	if (!found)
		return NULL;
	*tid = *found;
	return bpf_map_lookup_elem(&threads, tid);
}

SEC("uprobe")
int BPF_KPROBE(detach_enter, __u64 handle)
{
	struct thread_record *rec;
	__u32 tid;

	rec = record_of(handle, &tid);
	if (!rec)
		return 0;
	rec->detached = 1;
	if (rec->exited)
		retire(tid, rec);
	return 0;
}

/* pthread_join, pthread_tryjoin_np, pthread_timedjoin_np, pthread_clockjoin_np */
SEC("uprobe")
int BPF_KPROBE(join_enter, __u64 handle)
{
	struct create_state *state = create_state(true);

	if (state)
		state->join_handle = handle;
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(join_exit, long ret)
{
	struct create_state *state = create_state(false);
	struct thread_record *rec;
	__u32 tid;

	if (!state || !state->join_handle)
		return 0;
	rec = (int)ret == 0 ? record_of(state->join_handle, &tid) : NULL;
	state->join_handle = 0;
	if (rec)
		retire(tid, rec); /* a join returns once the thread has exited */
	return 0;
}

/* A raw tracepoint: no perf event, so nothing for the kernel to tear down slowly at stop. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct thread_record *rec;
	__u8 one = 1;

	if (traced_proc() == LS_NO_PROC)
		return 0;
	rec = bpf_map_lookup_elem(&threads, &tid);
	if (!rec && tid != (__u32)(id >> 32)) { /* not a process's main thread */
		/* Its creator's pthread_create has not returned: it finds this entry, or ... */
		bpf_map_update_elem(&early_exits, &tid, &one, BPF_ANY);
		/* ... stored its record just before, which is found now. */
		rec = bpf_map_lookup_elem(&threads, &tid);
		if (rec)
			bpf_map_delete_elem(&early_exits, &tid);
	}
	if (rec)
		mark_exited(tid, rec);
	return 0;
}
