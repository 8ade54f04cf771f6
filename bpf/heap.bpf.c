// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Heap and anonymous-mmap probes.
 *
 * Entry probes stash the arguments of an allocator call in the thread's call
 * slot; one return probe (uretprobe) sees the result, captures the user stack
 * once and folds the block into its stack's counters.  Frees undo exactly what the
 * matching allocation did.  Everything here is mechanism; thresholds,
 * sorting and ages are decided in user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "stack.bpf.h"
#include "unwind.bpf.h"
#include "procs.bpf.h" /* the target itself is known without a lookup: proc_of() */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by user space before load. */
const volatile __u32 target_tgid = 0;    /* the target (proc 0 until it execs); 0 system-wide */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
const volatile __u32 sample_rate = 1;    /* record one allocation in N */
const volatile __u32 bucket_count = 1;   /* buckets in `allocs` */
const volatile __u32 call_slot_mask = LS_CALL_SLOTS - 1; /* fewer only to test sharing */
const volatile __u32 system_wide = 0;   /* no target: every process calling the allocator */
const volatile __u32 self_tgid = 0;     /* leaksnoop itself, never traced */
__u32 watch_mappings = 0;               /* set when new executable mappings are told */
const volatile char comm_filter[16] = {}; /* system-wide --comm: only processes named so */
const volatile __u64 cgroup_filter = 0;   /* system-wide --cgroup: only this cgroup v2 subtree */
const volatile __u32 cgroup_level = 0;    /* ... whose depth below the root is this */

#define MAP_ANONYMOUS 0x20
#define MAX_ERRNO 4095

enum pending_call {
	CALL_NONE = 0,
	CALL_MALLOC,         /* malloc, calloc, memalign, aligned_alloc, valloc, pvalloc */
	CALL_REALLOC,        /* realloc, reallocarray */
	CALL_POSIX_MEMALIGN,
};

/*
 * An allocator call in flight: what the entry probe tells the return probe.
 * 64 bytes, so that in the page-aligned `call_slots` each thread's call is
 * on a cache line of its own: two threads' calls on one line would make
 * every probe of each wait for the line to come back from the other CPU.
 */
struct call_state {
	__u32 owner;         /* the calling TID (in `call_slots`); 0: free */
	__u8 call;           /* enum pending_call */
	__u8 in_allocator;   /* the allocator's own mmaps are heap, not kind mmap */
	__u8 record;         /* the returned block is to be recorded (size, sampling) */
	__u8 nested;         /* probed calls made by the allocator itself, e.g. musl's calloc -> malloc */
	__u64 sp;            /* %rsp at entry: a call further down the stack is nested in this one */
	__u64 size;
	__u64 out_ptr;       /* posix_memalign's memptr */
	__u64 old_ptr;       /* realloc's block, already released at entry */
	struct alloc_record old_record;
};
_Static_assert(sizeof(struct call_state) == 64, "a call slot is one cache line");

/*
 * Calls in flight, one slot per TID modulo LS_CALL_SLOTS, claimed by
 * compare-and-swap on `owner`.  An array slot costs a few instructions where
 * task storage costs ~40 ns per probe; a thread whose slot is held by another
 * thread's call (TIDs equal modulo LS_CALL_SLOTS) uses its task storage.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* values page-aligned: slots on cache lines */
	__uint(max_entries, LS_CALL_SLOTS);
	__type(key, __u32);
	__type(value, struct call_state);
} call_slots SEC(".maps");

/* Per thread, in task storage: what does not fit the fast paths above and below. */
struct thread_state {
	struct call_state call; /* when the thread's call slot is taken */
	__u64 mmap_len;
	__u64 mremap_old_addr;
	struct stack_scratch scratch; /* for the syscall tracepoints */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} thread_states SEC(".maps");

/*
 * Stack scratch per CPU.  A return probe can be preempted in the middle of a
 * capture (uprobe programs run with migration, not preemption, disabled) and
 * another thread run the probe on the same CPU: the `busy` flag sends that
 * one to the next scratch of the CPU.
 */
#define LS_CPU_SCRATCHES 4

struct cpu_scratch {
	__u64 busy;
	struct stack_scratch scratch;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LS_CPU_SCRATCHES);
	__type(key, __u32);
	__type(value, struct cpu_scratch);
} cpu_scratches SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* values page-aligned: buckets on cache lines */
	__uint(max_entries, LS_DEFAULT_MAX_ALLOCS / LS_BUCKET_SLOTS);
	__type(key, __u32);
	__type(value, struct block_bucket);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LS_DEFAULT_MAX_ALLOCS);
	__type(key, __u64);
	__type(value, struct alloc_record);
} mmaps SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LS_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct proc_entry);
} proc_table SEC(".maps");

/* The target's current proc: 0 until it execs. */
__u32 target_proc = 0;
/* Set at the first fork or exec followed: until then every probed call is the target's. */
__u32 procs_followed = 0;


/* The proc of process tgid, LS_NO_PROC when it is not traced. */
static __always_inline __u32 proc_of(__u32 tgid)
{
	__u32 *found;

	if (tgid == target_tgid)
		return target_proc;
	found = bpf_map_lookup_elem(&procs, &tgid);
	return found && *found != LS_IGNORED_PROC ? *found : LS_NO_PROC;
}

static __always_inline __u32 current_proc(void)
{
	return proc_of(bpf_get_current_pid_tgid() >> 32);
}

/*
 * current_proc() in a uprobe, which fires only in the processes it was
 * attached to: while no fork or exec was followed that is the target, and
 * the call is spared the helper that reads the current TGID.
 */
static __always_inline __u32 probed_proc(void)
{
	return procs_followed ? current_proc() : 0;
}

/* A user address as a key of `allocs` or `mmaps`: the same address in a forked child differs. */
static __always_inline __u64 block_key(__u64 addr, __u32 proc)
{
	return addr | (__u64)proc << LS_PROC_SHIFT;
}

/*
 * A new proc for tgid (forked, a new image, or system-wide a process seen
 * allocating); user space reads its entry once `tgid` is set, and attaches
 * a forked child's probes.  Returns the proc tgid now has.
 */
static __noinline __u32 add_proc(__u32 tgid, __u32 origin, __u32 parent)
{
	__u32 zero = 0, index, *used = bpf_map_lookup_elem(&procs_used, &zero), *winner;
	struct proc_entry *entry;

	if (!used)
		return LS_NO_PROC;
	index = __sync_fetch_and_add(used, 1);
	entry = bpf_map_lookup_elem(&proc_table, &index);
	if (!entry) {
		count(LS_CNT_DROP_PROC, 1);
		return LS_NO_PROC;
	}
	entry->origin = origin;
	entry->parent = parent;
	bpf_get_current_comm(entry->comm, sizeof(entry->comm)); /* a fork: the parent's, the same */
	entry->cgroup_id = bpf_get_current_cgroup_id();
	/* Two threads of a new process may race to add it: the first one wins. */
	if (bpf_map_update_elem(&procs, &tgid, &index,
				origin == LS_PROC_SEEN ? BPF_NOEXIST : BPF_ANY)) {
		entry->origin = LS_PROC_UNUSED;
		entry->tgid = tgid;
		winner = bpf_map_lookup_elem(&procs, &tgid);
		return winner ? *winner : LS_NO_PROC;
	}
	entry->tgid = tgid;
	procs_followed = 1;
	if (tgid == target_tgid)
		target_proc = index;
	return index;
}

/* --comm and --cgroup: whether the calling process is one to trace. */
static __always_inline bool wanted_process(void)
{
	struct task_struct *leader;
	char comm[16];

	if (cgroup_filter && bpf_get_current_ancestor_cgroup_id(cgroup_level) != cgroup_filter)
		return false;
	if (!comm_filter[0])
		return true;
	/* The process's name is its main thread's: other threads may rename themselves. */
	leader = BPF_CORE_READ(bpf_get_current_task_btf(), group_leader);
	if (bpf_probe_read_kernel_str(comm, sizeof(comm), &leader->comm) < 0)
		return false;
	for (int i = 0; i < sizeof(comm); i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* System-wide: a process not seen before, unless it is ours or already judged. */
static __noinline __u32 first_allocation(__u32 tgid)
{
	__u32 ignored = LS_IGNORED_PROC;

	if (tgid == self_tgid || bpf_map_lookup_elem(&procs, &tgid))
		return LS_NO_PROC;
	if (!wanted_process()) {
		bpf_map_update_elem(&procs, &tgid, &ignored, BPF_NOEXIST);
		return LS_NO_PROC;
	}
	return add_proc(tgid, LS_PROC_SEEN, 0);
}

/*
 * probed_proc(), and system-wide a process allocating for the first time gets
 * a proc, or is marked left out by the filters (so it is judged once).
 */
static __always_inline __u32 allocating_proc(void)
{
	__u32 proc = probed_proc();

	if (proc != LS_NO_PROC || !system_wide)
		return proc;
	return first_allocation(bpf_get_current_pid_tgid() >> 32);
}

/*
 * (process, file) pairs already reported to user space.  Per process
 * system-wide too: a file every process maps (libc) still tells user space
 * that this one has its libraries now, and its kept mappings are read again.
 */
struct mapped_file {
	__u64 ino;
	__u32 dev;
	__u32 tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LS_MAX_MAPPED_FILES);
	__type(key, struct mapped_file);
	__type(value, __u8);
} mapped_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LS_MAPPING_RING_BYTES);
} new_mappings SEC(".maps");

#define LS_PROT_EXEC 0x4

/*
 * Whether file is new to process tgid, and remember it.  The key is the file the process opened; user space judges
 * what is under it.
 */
static __noinline bool first_mapping_of(__u32 tgid, struct file *file)
{
	struct mapped_file key = {};
	__u8 seen = 1;

	if (!file)
		return false;
	key.ino = BPF_CORE_READ(file, f_inode, i_ino);
	key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	key.tgid = tgid;
	return !bpf_map_update_elem(&mapped_files, &key, &seen, BPF_NOEXIST);
}

/* Tell user space that process tgid has a new executable file mapping. */
static __noinline void tell_new_mapping(__u32 tgid, __u64 time_ns)
{
	struct mapping_event *event = bpf_ringbuf_reserve(&new_mappings, sizeof(*event), 0);

	if (!event) {
		count(LS_CNT_DROP_MAPPING, 1);
		return;
	}
	event->time_ns = time_ns;
	event->tgid = tgid;
	event->pad = 0;
	bpf_ringbuf_submit(event, 0);
}

/* Whether process tgid's new executable mappings are to be told. */
static __always_inline bool watched_process(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	return system_wide ? wanted_process() : proc_of(tgid) != LS_NO_PROC;
}

/* A traced process forked: its child is traced too (threads are not new processes). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(follow_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_proc = proc_of(parent->tgid), child_proc;

	if (parent_proc == LS_NO_PROC || child->pid != child->tgid)
		return 0;
	child_proc = add_proc(child->tgid, LS_PROC_FORK, parent_proc);
	if (unwind_dwarf && child_proc != LS_NO_PROC)
		inherit_unwind_space(parent_proc, child_proc);
	return 0;
}

/* A traced process replaced its image: what the old one held is gone with it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(follow_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = task->tgid, proc = proc_of(tgid);

	if (proc != LS_NO_PROC)
		add_proc(tgid, LS_PROC_EXEC, proc);
	else if (system_wide)
		bpf_map_delete_elem(&procs, &tgid); /* left out by name? judged again as the new program */
	/* The kernel mapped the executable and its loader: no mmap call tells of them. */
	if (watch_mappings && watched_process(tgid) && first_mapping_of(tgid, bprm->file))
		tell_new_mapping(tgid, bpf_ktime_get_ns());
	return 0;
}

static __always_inline struct thread_state *thread_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&thread_states, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

/* Where a new call of thread tid is kept: its slot, or its task storage. */
static __always_inline struct call_state *claim_call(__u32 tid)
{
	__u32 index = tid & call_slot_mask;
	struct call_state *slot = bpf_map_lookup_elem(&call_slots, &index);
	struct thread_state *state;

	if (slot && (slot->owner == tid || __sync_val_compare_and_swap(&slot->owner, 0, tid) == 0))
		return slot;
	count(LS_CNT_CALLS_IN_TASK_STORAGE, 1);
	state = thread_state(true);
	return state ? &state->call : NULL;
}

/* The call of thread tid in flight (its `call` is CALL_NONE when there is none). */
static __always_inline struct call_state *current_call(__u32 tid)
{
	__u32 index = tid & call_slot_mask;
	struct call_state *slot = bpf_map_lookup_elem(&call_slots, &index);
	struct thread_state *state;

	if (slot && slot->owner == tid)
		return slot;
	state = thread_state(false);
	return state ? &state->call : NULL;
}

static __always_inline void end_call(struct call_state *c)
{
	c->call = CALL_NONE;
	c->in_allocator = 0;
	c->nested = 0;
	/*
	 * Release the slot last: once owner is 0 another thread may claim it and
	 * fill it, and a store of ours that the compiler moved past this one
	 * would overwrite that thread's call (seen as calls lost under load).
	 */
	asm volatile("" ::: "memory");
	c->owner = 0;
}

/* Scratch for one capture: a free one of this CPU's (one unless captures were preempted). */
static __always_inline struct cpu_scratch *take_scratch(void)
{
	for (__u32 i = 0; i < LS_CPU_SCRATCHES; i++) {
		struct cpu_scratch *cpu = bpf_map_lookup_elem(&cpu_scratches, &i);

		if (cpu && __sync_val_compare_and_swap(&cpu->busy, 0, 1) == 0)
			return cpu;
	}
	return NULL;
}

static __always_inline void give_back_scratch(struct cpu_scratch *held)
{
	asm volatile("" ::: "memory"); /* every use of the scratch before its release */
	held->busy = 0;
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

/* The two buckets a block's address may live in. */
#define BUCKET_HASH_A 0x9e3779b97f4a7c15ULL
#define BUCKET_HASH_B 0xc2b2ae3d27d4eb4fULL
#define BUCKET_MIX 0xbf58476d1ce4e5b9ULL

/*
 * A first bucket holding this many blocks or more is crowded: a new block
 * goes to the emptier of its two buckets.  Below it the first bucket alone
 * is read, as at most loads.  Always the first bucket when it has room, the
 * table's first drop came at ~40% of its capacity on jq's addresses; with
 * the emptier of two past this mark and half again as many slots as blocks
 * (map_sizes.c), above 100% on every pattern tried (tests/progs/strides.c).
 */
#define BUCKET_CROWDED 4

static __always_inline __u32 bucket_index(__u64 addr, __u64 multiplier)
{
	/*
	 * Multiplied, then mixed: a product alone spreads addresses at a regular
	 * stride well but leaves the two buckets of real heaps' addresses
	 * correlated, so that both are full at once.  The top 32 bits are
	 * scaled to [0, bucket_count): no division, any count.
	 */
	__u64 hash = addr * multiplier;

	hash ^= hash >> 29;
	hash *= BUCKET_MIX;
	return ((hash >> 32) * bucket_count) >> 32;
}

/*
 * Blocks in a bucket now (racy: a hint for choosing between two buckets).
 * Counted without a branch: (a | -a) >> 63 is 1 for any address but 0, and a
 * branch per slot would have the verifier follow each count apart (170 ms
 * more to load the program).
 */
static __always_inline __u32 bucket_load(const struct block_bucket *bucket)
{
	__u64 used = 0;

	for (int i = 0; i < LS_BUCKET_SLOTS; i++) {
		__u64 addr = bucket->addr[i];

		used += (addr | -addr) >> 63;
	}
	return used;
}

/*
 * One bit per bucket of `allocs`, set once a block whose first bucket it is
 * had to go to its second (the first was full).  Until then a block of that
 * bucket is in it or nowhere, and a look-up spares the second bucket, a
 * cache miss on every free of an untracked block and every new block.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LS_DEFAULT_MAX_ALLOCS / LS_BUCKET_SLOTS / 64);
	__type(key, __u32);
	__type(value, __u64);
} bucket_overflows SEC(".maps");

static __always_inline bool bucket_overflowed(__u32 first)
{
	__u32 word = first / 64;
	__u64 *bits = bpf_map_lookup_elem(&bucket_overflows, &word);

	return !bits || (*bits >> (first & 63)) & 1;
}

static __always_inline void mark_bucket_overflowed(__u32 first)
{
	__u32 word = first / 64;
	__u64 *bits = bpf_map_lookup_elem(&bucket_overflows, &word);

	if (bits && !((*bits >> (first & 63)) & 1))
		__sync_fetch_and_or(bits, 1ULL << (first & 63));
}

/*
 * With -s N: how many blocks are in the table whose first bucket is in each
 * group of 64 buckets of `allocs` (wherever they went).  Most frees of a
 * sampled run are of blocks never recorded; when their group holds none they
 * skip the bucket (a random line of a 30 MiB table, rarely in the caches)
 * for a word of a 10 KiB array that stays in them.  A block's group is counted up before
 * the block is put and down after it is taken, so while a block is in the
 * table its group's count is not 0.  One entry without sampling, which
 * never reads it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LS_DEFAULT_MAX_ALLOCS / LS_BUCKET_SLOTS >> LS_BUCKET_GROUP_SHIFT);
	__type(key, __u32);
	__type(value, __u32);
} group_blocks SEC(".maps");

static __always_inline void count_group_blocks(__u32 first, __s32 blocks)
{
	__u32 group, *held;

	if (sample_rate <= 1)
		return;
	group = first >> LS_BUCKET_GROUP_SHIFT; /* after the test: nothing left of it unsampled */
	held = bpf_map_lookup_elem(&group_blocks, &group);
	if (held)
		__sync_fetch_and_add(held, blocks);
}

/* False only when no block whose first bucket is in first's group is in the table. */
static __always_inline bool group_may_hold(__u32 first)
{
	__u32 group, *held;

	if (sample_rate <= 1)
		return true;
	group = first >> LS_BUCKET_GROUP_SHIFT;
	held = bpf_map_lookup_elem(&group_blocks, &group);
	return !held || *held;
}

enum take_result { TAKE_ABSENT, TAKE_LOST, TAKE_OURS };

/* Empty addr's slot in bucket into *out; only one of two racing takers wins. */
static __always_inline enum take_result bucket_take(struct block_bucket *bucket, __u64 addr,
						    struct alloc_record *out)
{
	for (int i = 0; i < LS_BUCKET_SLOTS; i++) {
		__u64 info;

		if (bucket->addr[i] != addr)
			continue;
		info = bucket->slot[i].info;
		out->size = info >> LS_SLOT_BITS;
		out->slot = info & ((1u << LS_SLOT_BITS) - 1);
		out->time_ns = age_epoch_ns ? bucket->slot[i].time_ns : 0;
		if (__sync_val_compare_and_swap(&bucket->addr[i], addr, 0) != addr)
			return TAKE_LOST;
		return TAKE_OURS;
	}
	return TAKE_ABSENT;
}

static __always_inline bool bucket_put(struct block_bucket *bucket, __u64 addr,
				       const struct alloc_record *rec)
{
	for (int i = 0; i < LS_BUCKET_SLOTS; i++) {
		if (bucket->addr[i] || __sync_val_compare_and_swap(&bucket->addr[i], 0, addr))
			continue;
		bucket->slot[i].info = rec->size << LS_SLOT_BITS | rec->slot;
		if (age_epoch_ns)
			bucket->slot[i].time_ns = rec->time_ns;
		return true;
	}
	return false;
}

/* Forget a heap block's record; true when this call removed it (into *released). */
static __always_inline bool take_block(__u64 addr, struct alloc_record *released)
{
	__u32 first = bucket_index(addr, BUCKET_HASH_A), second;
	struct block_bucket *bucket;
	enum take_result taken;

	if (!group_may_hold(first))
		return false;
	bucket = bpf_map_lookup_elem(&allocs, &first);
	taken = bucket ? bucket_take(bucket, addr, released) : TAKE_ABSENT;
	if (taken == TAKE_ABSENT && bucket_overflowed(first)) {
		second = bucket_index(addr, BUCKET_HASH_B);
		bucket = bpf_map_lookup_elem(&allocs, &second);
		if (bucket)
			taken = bucket_take(bucket, addr, released);
	}
	if (taken != TAKE_OURS)
		return false;
	count_group_blocks(first, -1);
	return true;
}

/*
 * Record a block in the table; 1 when it is in, 0 when both its buckets are
 * full.  A crowded first bucket yields to an emptier second one; the second
 * is hashed and read only then, or when the first is full.  A global
 * function, verified once on its own: inlined, its choice multiplied the
 * paths of every program that records a block (alloc_exit took 40-170 ms to
 * load; ~30 ms so, 7 ms without the choice).
 */
__noinline int put_block(__u64 addr, const struct alloc_record *rec)
{
	__u32 first = bucket_index(addr, BUCKET_HASH_A), second;
	struct block_bucket *bucket = bpf_map_lookup_elem(&allocs, &first), *other = NULL, *swap;
	__u32 load;

	if (!bucket || !rec)
		return 0;
	count_group_blocks(first, 1);
	load = bucket_load(bucket);
	if (load >= BUCKET_CROWDED) {
		second = bucket_index(addr, BUCKET_HASH_B);
		other = bpf_map_lookup_elem(&allocs, &second);
		if (other && bucket_load(other) < load) {
			swap = bucket;
			bucket = other;
			other = swap;
			/* Before a block is put in its second bucket: look-ups from then on try both. */
			mark_bucket_overflowed(first);
		}
	}
	if (bucket_put(bucket, addr, rec))
		return 1;
	if (!other) {
		second = bucket_index(addr, BUCKET_HASH_B);
		other = bpf_map_lookup_elem(&allocs, &second);
	}
	mark_bucket_overflowed(first);
	if (other && bucket_put(other, addr, rec))
		return 1;
	count_group_blocks(first, -1);
	return 0;
}

/*
 * Per-CPU totals (include/leaksnoop.h, struct slot_delta) for slots below
 * banked_slots, set by user space.  User space swaps the banks before each
 * report; the swap (an update of `delta_banks`) returns only once every
 * program that may still count into the old bank has finished, so what it
 * reads there is an exact cut.
 */
const volatile __u32 banked_slots = 0;

struct delta_bank {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* banked_slots (at least 1), set by user space */
	__type(key, __u32);
	__type(value, struct slot_delta);
} delta_bank_a SEC(".maps"), delta_bank_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct delta_bank);
} delta_banks SEC(".maps") = {
	.values = { &delta_bank_a },
};

/* This CPU's cell for slot in the live bank; NULL: slot counted in `stack_stats`. */
static __always_inline struct slot_delta *live_delta(__u32 slot)
{
	__u32 zero = 0;
	void *bank;

	if (slot >= banked_slots)
		return NULL;
	bank = bpf_map_lookup_elem(&delta_banks, &zero);
	return bank ? bpf_map_lookup_elem(bank, &slot) : NULL;
}

/*
 * Count a block of the epoch of time_ns into this CPU's young cells.  A cell
 * holding a later epoch means the block is older than the ring: nothing to
 * do.  One holding an earlier epoch is taken over; what it counted is older
 * than the ring by then.
 */
static __always_inline void age_cell_add(struct slot_delta *delta, __u64 time_ns, __s64 bytes,
					 __s32 blocks)
{
	__u32 epoch = time_ns / age_epoch_ns;
	struct age_cell *cell = &delta->young[epoch & (LS_AGE_SLOTS - 1)];
	__u32 seen = cell->epoch;

	if ((__s32)(epoch - seen) < 0)
		return;
	if (epoch != seen && __sync_val_compare_and_swap(&cell->epoch, seen, epoch) == seen) {
		cell->count = 0;
		cell->bytes = 0;
	}
	__sync_fetch_and_add(&cell->bytes, bytes);
	__sync_fetch_and_add(&cell->count, blocks);
}

/* A recorded block or region joins its stack's totals. */
static __always_inline void account(const struct alloc_record *rec)
{
	struct slot_delta *delta = live_delta(rec->slot);
	struct stack_stats *stats;

	if (delta) {
		__sync_fetch_and_add(&delta->alloc_bytes, rec->size);
		__sync_fetch_and_add(&delta->allocs, 1);
		if (!delta->first_alloc_ns)
			delta->first_alloc_ns = rec->time_ns ? rec->time_ns : bpf_ktime_get_ns();
		if (age_epoch_ns)
			age_cell_add(delta, rec->time_ns, rec->size, 1);
		return;
	}
	stats = stats_at(rec->slot);
	if (stats)
		stats_add(stats, rec);
}

/* This CPU's count of what slot released (negative: given back). */
static __always_inline void delta_release(struct slot_delta *delta, __s64 bytes, __s64 blocks)
{
	__sync_fetch_and_add(&delta->freed_bytes, bytes);
	__sync_fetch_and_add(&delta->frees, blocks);
}

/* Bytes and blocks of slot released (negative: given back) other than by a whole record. */
static __always_inline void release_part(__u32 slot, __s64 bytes, __s64 blocks)
{
	struct slot_delta *delta = live_delta(slot);
	struct stack_stats *stats;

	if (delta) {
		delta_release(delta, bytes, blocks);
		return;
	}
	stats = stats_at(slot);
	if (stats) {
		__sync_fetch_and_add(&stats->outstanding_bytes, -bytes);
		__sync_fetch_and_add(&stats->outstanding_count, -blocks);
	}
}

/* Undo what recording the block added to its stack. */
static __always_inline void unaccount(const struct alloc_record *rec)
{
	struct slot_delta *delta = live_delta(rec->slot);
	struct stack_stats *stats;

	if (delta) {
		delta_release(delta, rec->size, 1);
		if (age_epoch_ns)
			age_cell_add(delta, rec->time_ns, -(__s64)rec->size, -1);
		return;
	}
	stats = stats_at(rec->slot);
	if (stats)
		stats_sub(stats, rec);
}

/* A heap block was freed (or moved by realloc): forget it and its bytes. */
static __always_inline bool release_block(__u64 addr, struct alloc_record *released)
{
	if (!take_block(addr, released)) {
		count(LS_CNT_FREES_UNTRACKED, 1);
		return false;
	}
	unaccount(released);
	return true;
}

/* An anonymous region was unmapped (or moved by mremap). */
static __always_inline bool release_region(__u64 addr, struct alloc_record *released)
{
	struct alloc_record *found = bpf_map_lookup_elem(&mmaps, &addr);

	if (!found)
		return false;
	*released = *found;
	/* Only one of two racing unmaps of the same region gets to account it. */
	if (bpf_map_delete_elem(&mmaps, &addr))
		return false;
	unaccount(released);
	return true;
}

/* A new record for the current user stack; false when it cannot be counted. */
static __always_inline bool new_record(void *ctx, struct stack_scratch *scratch, __u64 size,
				       __u32 kind, __u32 proc, struct alloc_record *rec)
{
	bool traced = unwind_dwarf ?
		trace_stack_unwound(ctx, scratch, kind == LS_KIND_MMAP, proc) :
		trace_stack(ctx, scratch, kind == LS_KIND_MMAP);

	rec->size = size;
	rec->time_ns = age_epoch_ns ? age_now_ns() : 0;
	rec->slot = traced ? trace_slot(scratch, kind, proc) :
			     proc_slot_of(LS_UNKNOWN_STACK, kind, proc);
	if (rec->slot == LS_NO_SLOT) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return false;
	}
	return true;
}

/* Record a new heap block and charge it to the current user stack. */
static __always_inline void record_block(void *ctx, struct stack_scratch *scratch, __u64 addr,
					 __u64 size, __u32 proc)
{
	struct alloc_record rec = {}, stale;

	if (size > LS_MAX_BLOCK_SIZE || !new_record(ctx, scratch, size, LS_KIND_HEAP, proc, &rec))
		return;
	/* A block at this address whose free we never saw: retire it first. */
	if (take_block(block_key(addr, proc), &stale))
		unaccount(&stale);
	if (!put_block(block_key(addr, proc), &rec)) {
		count(LS_CNT_DROP_ALLOC_FULL, 1);
		return;
	}
	account(&rec);
}

/* Record a new anonymous region and charge it to the current user stack. */
static __always_inline void record_region(void *ctx, struct thread_state *state, __u64 addr,
					  __u64 size, __u32 proc)
{
	struct alloc_record rec = {}, stale;

	if (!new_record(ctx, &state->scratch, size, LS_KIND_MMAP, proc, &rec))
		return;
	addr = block_key(addr, proc);
	if (bpf_map_update_elem(&mmaps, &addr, &rec, BPF_NOEXIST)) {
		/* A region at this address whose unmap we never saw: retire it. */
		if (!bpf_map_lookup_elem(&mmaps, &addr)) {
			count(LS_CNT_DROP_ALLOC_FULL, 1);
			return;
		}
		release_region(addr, &stale);
		if (bpf_map_update_elem(&mmaps, &addr, &rec, BPF_NOEXIST)) {
			count(LS_CNT_DROP_ALLOC_FULL, 1);
			return;
		}
	}
	account(&rec);
}

static __always_inline struct call_state *enter_alloc(struct pt_regs *ctx, __u32 call, __u64 size)
{
	struct call_state *c = claim_call(current_tid());

	if (!c) {
		count(LS_CNT_DROP_STATE, 1);
		return NULL;
	}
	/*
	 * A call made inside another (musl's calloc calls malloc, its realloc
	 * malloc and free): the outer call is the one to record, with its
	 * caller's stack, so the inner one is only counted until it returns.  An
	 * entry not below the outer call's stack means that call ended unseen.
	 */
	if (c->in_allocator && PT_REGS_SP(ctx) < c->sp) {
		c->nested++;
		return NULL;
	}
	c->nested = 0;
	c->sp = PT_REGS_SP(ctx);
	c->in_allocator = 1;
	c->call = call;
	c->record = size_wanted(size) && !sampled_out();
	c->size = size;
	return c;
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
	enter_alloc(ctx, CALL_MALLOC, size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 nmemb, __u64 size)
{
	/* On overflow calloc fails: nothing to record. */
	enter_alloc(ctx, product_overflows(nmemb, size) ? CALL_NONE : CALL_MALLOC, nmemb * size);
	return 0;
}

/* memalign(align, size) and aligned_alloc(align, size) */
SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 alignment, __u64 size)
{
	enter_alloc(ctx, CALL_MALLOC, size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 alignment, __u64 size)
{
	struct call_state *c = enter_alloc(ctx, CALL_POSIX_MEMALIGN, size);

	if (c)
		c->out_ptr = memptr;
	return 0;
}

/*
 * realloc releases the old block at entry, before the allocator can hand its
 * address to another thread; a failed realloc puts it back on return.
 */
static __always_inline int enter_realloc(struct pt_regs *ctx, __u64 ptr, __u64 size)
{
	struct call_state *c = enter_alloc(ctx, CALL_REALLOC, size);
	__u32 proc = probed_proc();

	if (!c)
		return 0;
	c->old_ptr = 0; /* a block key, put back as it is */
	if (ptr && proc != LS_NO_PROC && release_block(block_key(ptr, proc), &c->old_record))
		c->old_ptr = block_key(ptr, proc);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	return enter_realloc(ctx, ptr, size);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 ptr, __u64 nmemb, __u64 size)
{
	if (product_overflows(nmemb, size)) {
		enter_alloc(ctx, CALL_NONE, 0); /* overflow: fails, block kept */
		return 0;
	}
	return enter_realloc(ctx, ptr, nmemb * size);
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	struct alloc_record released;

	__u32 proc;

	if (!ptr)
		return 0;
	proc = probed_proc();
	if (proc != LS_NO_PROC)
		release_block(block_key(ptr, proc), &released);
	return 0;
}

/* The realloc failed: the old block is still the caller's. */
static __always_inline void restore_old_block(struct call_state *c)
{
	__u64 addr = c->old_ptr;

	if (!addr)
		return;
	if (!put_block(addr, &c->old_record))
		return;
	release_part(c->old_record.slot, -(__s64)c->old_record.size, -1);
	count(LS_CNT_REALLOC_FAILED, 1);
}

/* What a returning call did, as its entry described it. */
static __always_inline void finish_call(struct pt_regs *ctx, struct call_state *c, __u64 ret)
{
	struct cpu_scratch *scratch;
	__u64 addr = ret;
	__u32 proc;

	if (c->call == CALL_POSIX_MEMALIGN) {
		if ((int)ret != 0 || bpf_probe_read_user(&addr, sizeof(addr), (void *)c->out_ptr))
			return;
	} else if (c->call == CALL_REALLOC && !ret) {
		/* realloc(p, 0) freed p; any other NULL is a failure that kept it. */
		if (c->size)
			restore_old_block(c);
		return;
	}
	/* Sampled out or filtered by size: nothing else to do, not even naming the process. */
	if (!addr || !c->record)
		return;
	proc = allocating_proc();
	if (proc == LS_NO_PROC)
		return;
	scratch = take_scratch();
	if (!scratch) {
		count(LS_CNT_DROP_STATE, 1);
		return;
	}
	record_block(ctx, &scratch->scratch, addr, c->size, proc);
	give_back_scratch(scratch);
}

/* One return probe serves the whole family: the entry said what was called. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	struct call_state *c = current_call(current_tid());

	if (!c)
		return 0;
	if (c->nested) {
		c->nested--; /* an inner call's return: the outer one is still in flight */
		return 0;
	}
	if (c->call != CALL_NONE)
		finish_call(ctx, c, ret);
	end_call(c);
	return 0;
}

static __always_inline bool is_target(void)
{
	return current_proc() != LS_NO_PROC;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct thread_state *state;
	struct call_state *in_call;
	__u64 len = ctx->args[1], prot = ctx->args[2], flags = ctx->args[3];

	/* PROT_NONE is a reservation of address space (an arena, a guard), not memory. */
	if (!is_target() || !(flags & MAP_ANONYMOUS) || !prot || !size_wanted(len))
		return 0;
	in_call = current_call(current_tid());
	if (in_call && in_call->in_allocator)
		return 0;
	state = thread_state(true);
	if (state)
		state->mmap_len = len;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct thread_state *state;
	__u32 proc = current_proc();
	__u64 len;

	if (proc == LS_NO_PROC)
		return 0;
	state = thread_state(false);
	if (!state || !state->mmap_len)
		return 0;
	len = state->mmap_len;
	state->mmap_len = 0;
	if ((unsigned long)ctx->ret >= (unsigned long)-MAX_ERRNO)
		return 0;
	record_region(ctx, state, ctx->ret, len, proc);
	return 0;
}

/* Threads in an mmap of a file new to their process: when it began. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} exec_mmaps SEC(".maps");

/* The open file behind descriptor fd of the calling process, or NULL. */
static __always_inline struct file *current_fd_file(__u64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **files = BPF_CORE_READ(task, files, fdt, fd);
	struct file *file = NULL;

	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return NULL;
	bpf_core_read(&file, sizeof(file), &files[fd]);
	return file;
}

/* The loader mapping a library's code, at start or in dlopen: told once the mapping exists. */
SEC("tracepoint/syscalls/sys_enter_mmap")
int watch_exec_mmap(struct trace_event_raw_sys_enter *ctx)
{
	__u64 prot = ctx->args[2], flags = ctx->args[3], fd = ctx->args[4], *began;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!(prot & LS_PROT_EXEC) || (flags & MAP_ANONYMOUS) || (__s64)fd < 0 ||
	    !watched_process(tgid) || !first_mapping_of(tgid, current_fd_file(fd)))
		return 0;
	began = bpf_task_storage_get(&exec_mmaps, bpf_get_current_task_btf(), 0,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (began)
		*began = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int watch_exec_mmap_done(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 *began = bpf_task_storage_get(&exec_mmaps, task, 0, 0);

	if (!began || !*began)
		return 0;
	if ((unsigned long)ctx->ret < (unsigned long)-MAX_ERRNO)
		tell_new_mapping(bpf_get_current_pid_tgid() >> 32, *began);
	*began = 0;
	return 0;
}

#define LS_VM_EXEC 0x4

/* Every file mapping of the processes asked for (all, or one: the link's pid). */
SEC("iter/task_vma")
int list_file_vmas(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct vma_record rec = {};
	struct file *file;

	if (!vma || !task || !(file = vma->vm_file))
		return 0;
	rec.start = vma->vm_start;
	rec.end = vma->vm_end;
	rec.ino = file->f_inode->i_ino;
	rec.dev = file->f_inode->i_sb->s_dev;
	rec.tgid = task->tgid;
	rec.exec = !!(vma->vm_flags & LS_VM_EXEC);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/* The head of a region was unmapped: the rest stays charged to the same stack. */
static __always_inline void shrink_region(__u64 addr, __u64 len, struct alloc_record *rec)
{
	struct alloc_record rest = *rec;
	__u64 rest_addr = addr + len;

	if (bpf_map_delete_elem(&mmaps, &addr))
		return;
	rest.size = rec->size - len;
	if (bpf_map_update_elem(&mmaps, &rest_addr, &rest, BPF_NOEXIST)) {
		count(LS_CNT_DROP_ALLOC_FULL, 1);
		unaccount(rec);
		return;
	}
	release_part(rec->slot, len, 0);
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int munmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct alloc_record released, *rec;
	__u32 proc = current_proc();
	__u64 addr = block_key(ctx->args[0], proc), len = ctx->args[1];

	if (proc == LS_NO_PROC || !(rec = bpf_map_lookup_elem(&mmaps, &addr)))
		return 0;
	if (len < rec->size) {
		released = *rec;
		shrink_region(addr, len, &released);
		return 0;
	}
	release_region(addr, &released);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int mremap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct thread_state *state;
	__u32 proc = current_proc();
	__u64 old_addr = block_key(ctx->args[0], proc);

	if (proc == LS_NO_PROC || !bpf_map_lookup_elem(&mmaps, &old_addr))
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
	__u32 proc = current_proc();
	__u64 old_addr, new_len;

	if (proc == LS_NO_PROC)
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
	if (release_region(old_addr, &released))
		record_region(ctx, state, ctx->ret, new_len, proc);
	return 0;
}
