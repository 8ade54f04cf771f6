/* SPDX-License-Identifier: MIT */
/*
 * Everything the BPF side (bpf/) and the user side (user/) both see: map keys
 * and values, counters, limits.  Fixed-width types only, so that clang -target
 * bpf and the host compiler lay the structs out identically.
 *
 * Flow of a record: a probe in bpf/heap.bpf.c sees an allocation, keeps one
 * record per outstanding block (map `allocs`, a table of buckets; `mmaps` for
 * regions) and folds it into the totals of its stack's slot, one slot of the
 * array `stack_stats` per (stack, kind), found through `stack_index`: per CPU
 * in the banks of `delta_banks` (struct slot_delta) or, past their budget, in
 * `stack_stats` itself; the frames live once in map `stack_traces`.  User
 * space reads only the used slots of the banks, `stack_stats`,
 * `stack_traces` and `counters`, so a report costs O(stacks).
 */
#ifndef LEAKSNOOP_H
#define LEAKSNOOP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Frames kept per stack; deeper stacks are truncated (innermost kept). */
#define LS_MAX_STACK_DEPTH 64

/* Words of user stack copied at once for the frame walk (a power of two). */
#define LS_STACK_COPY_WORDS 128

/* Slots for allocator calls in flight, indexed by TID modulo this (bpf/heap.bpf.c). */
#define LS_CALL_SLOTS 65536

/* Default map sizes; each can be changed before load (see user/options.c). */
#define LS_DEFAULT_MAX_ALLOCS (1u << 20) /* outstanding blocks tracked */
#define LS_DEFAULT_MAX_STACKS (1u << 14) /* distinct allocation stacks */
#define LS_MAX_STACKS_LIMIT ((1u << LS_SLOT_BITS) - 1)
#define LS_DEFAULT_MAX_REGIONS (1u << 16) /* outstanding anonymous mmap regions */

/*
 * Young-allocation ring per stack, for the age filter (-o MS) without a walk
 * over every block: time is cut into epochs of MS/LS_AGE_EPOCHS_PER_WINDOW,
 * and slot (epoch % LS_AGE_SLOTS) counts what that epoch allocated and still
 * holds.  A report subtracts the slots younger than MS from the stack's
 * outstanding total.  Frees stop touching a slot LS_AGE_GUARD_EPOCHS before
 * its reuse, so a reset never races a late decrement.
 */
#define LS_AGE_SLOTS 8
#define LS_AGE_EPOCHS_PER_WINDOW 4
#define LS_AGE_GUARD_EPOCHS 2

/*
 * Map `age_clock`: CLOCK_MONOTONIC in ns, written every sixteenth of an
 * epoch (at least LS_AGE_CLOCK_TICK_NS) by a thread of the tracer
 * (user/attach/age_clock.c), while probes that date blocks are attached.  The probes date blocks for
 * the age filter by it instead of asking the kernel, which costs ~35 ns a
 * call here, twice per block (its allocation and its free), whenever the
 * filter's epochs are long enough (LS_AGE_CLOCK_MIN_EPOCH_NS) for the tick
 * not to matter; otherwise, and until the clock is set, the kernel's.
 */
#define LS_AGE_CLOCK_TICK_NS 2000000ULL
#define LS_AGE_CLOCK_MAX_TICK_NS 100000000ULL
#define LS_AGE_CLOCK_MIN_EPOCH_NS (16 * LS_AGE_CLOCK_TICK_NS)

/* Stack hash used when the stack could not be captured or stored. */
#define LS_UNKNOWN_STACK 0ULL

enum ls_kind {
	LS_KIND_HEAP = 0, /* malloc family, C++ new */
	LS_KIND_MMAP = 1, /* anonymous mmap not yet unmapped */
	LS_KIND_GO_ALLOC = 2, /* Go allocations, sampled: allocated totals only (GC frees) */
	LS_KIND_GROWTH = 3,   /* --growth: bytes of new memory first written, per stack */
	LS_KIND_KERNEL = 4,   /* --kernel: slab objects, pages, percpu and vmalloc areas */
	LS_KIND_GO_HEAP = 5,  /* the Go runtime's memory profile, read from outside (no probe) */
	LS_KIND_FD = 6,       /* --fds: descriptors open, per opening stack (no bytes) */
	LS_KIND_MAX,
};

/* Key of map `stack_index` (value: the slot in `stack_stats`). */
struct stack_key {
	__u64 stack_hash; /* key into `stack_traces`, or LS_UNKNOWN_STACK */
	__u32 kind;       /* enum ls_kind */
	__u32 proc;       /* which traced process image (map `proc_table`); 0: the target */
};

/*
 * Traced processes: the target is proc 0; a child it forks, or an image it
 * execs, gets the next index (bpf/heap.bpf.c).  Blocks are keyed by address
 * | proc << LS_PROC_SHIFT, since a forked child has the same addresses as
 * its parent (user addresses are below 2^47 on x86-64).
 */
#define LS_MAX_PROCS 8192
#define LS_PROC_SHIFT 48
#define LS_NO_PROC 0xffffffffu      /* not a traced process */
#define LS_IGNORED_PROC 0xfffffffeu /* map `procs`: system-wide, a process the filters leave out */

enum ls_proc_origin {
	LS_PROC_TARGET = 0, /* the process given with -p or started with -c */
	LS_PROC_FORK = 1,   /* forked by a traced process */
	LS_PROC_EXEC = 2,   /* a traced process's new image after execve */
	LS_PROC_SEEN = 3,   /* system-wide: a process seen allocating */
	LS_PROC_UNUSED = 4, /* an index lost to a race: no process has it */
	LS_PROC_GIVEN = 5,  /* another process named with -p */
};

/* Map `proc_table`, an array indexed by proc. */
struct proc_entry {
	__u32 tgid;
	__u32 origin; /* enum ls_proc_origin */
	__u32 parent; /* proc that forked it, or the image it replaced */
	__u32 pad;
	char comm[16]; /* its name when it got its index: kept if it exits unseen */
	__u64 cgroup_id; /* its cgroup v2 (the directory's inode number) then */
};

/*
 * A traced process mapped a file executable that it had not mapped before
 * (ring buffer `new_mappings`, sent once the mapping exists): user space
 * lists its file mappings (iterator `list_file_vmas`) and probes any new
 * allocator among them (user/attach/late_allocators.c).
 */
struct mapping_event {
	__u64 time_ns; /* CLOCK_MONOTONIC at the mmap (or the exec) */
	__u32 tgid;
	__u32 pad;
};

/*
 * A process the kernel's OOM killer chose (tracepoint oom/mark_victim, for a
 * global and a memory cgroup's kill alike; ring buffer `oom_victims`).  It has
 * been sent SIGKILL already: its blocks are still in the maps; its size and
 * memory cgroup are read here, before it leaves the cgroup on its way out
 * (user/attach/oom_watch.c).  Sizes in pages, as the kernel counts them.
 */
struct oom_victim_event {
	__u64 total_vm_pages;
	__u64 anon_pages;
	__u64 file_pages;
	__u64 shmem_pages;
	__u64 memcg_id;      /* its memory cgroup's directory inode in the hierarchy that has it */
	/*
	 * The nearest limit up from its memory cgroup that usage had reached
	 * (within a tenth) when it was chosen: a cgroup's own kill.  0: none
	 * was, the machine ran out.
	 */
	__u64 limit_pages;
	__u64 usage_pages;   /* that cgroup's usage then (its own cgroup's when none) */
	__u32 tgid;
	__u32 chooser_tgid;  /* the process whose allocation ran out of memory */
	char comm[16];
};

/*
 * One file mapping as the kernel holds it (iterator `list_file_vmas`).  The
 * file is the one under the mapping, as the uprobes see it: on overlayfs the
 * layer's file, one inode for every container of an image, where
 * /proc/PID/maps shows one inode per overlay mount.
 */
struct vma_record {
	__u64 start, end;
	__u64 ino;
	__u32 dev;   /* the kernel's encoding: major << 20 | minor */
	__u32 tgid;
	__u32 exec;  /* VM_EXEC */
	__u32 pad;
};

/* Distinct (process, file) pairs told already; past it, repeats reach user space. */
#define LS_MAX_MAPPED_FILES 16384
#define LS_MAPPING_RING_BYTES (256 * 1024)

struct age_slot {
	__u64 epoch; /* which epoch the slot currently counts */
	__s64 bytes;
	__s64 count;
};

/* Value of map `stack_stats`: kept current by every alloc and free. */
struct stack_stats {
	__s64 outstanding_bytes;
	__s64 outstanding_count;
	__u64 alloc_bytes; /* since attach */
	__u64 alloc_count;
	__u64 outstanding_since_ns; /* when outstanding_count last left zero */
	struct age_slot young[LS_AGE_SLOTS];
};

/* Value of map `stack_stats`, an array indexed by the slot `stack_index` gives. */
struct stack_slot {
	struct stack_key key;
	__u32 used; /* 0: a slot lost to a race, or not yet written */
	__u32 pad;
	struct stack_stats stats;
};

/*
 * Heap and mmap totals of the first slots of `stack_stats` are counted per
 * CPU instead (bpf/heap.bpf.c, `delta_banks`): threads allocating from one
 * stack on different CPUs then never write the same cache line, which each
 * call would wait for (~40 ns a call on two-thread workloads here).  Two banks, each a per-CPU
 * array of these per slot; the probes count into the live one, and user
 * space reads the other after swapping them (user/collect/collect.c), so a report
 * is an exact cut.  Both banks over all CPUs take at most
 * LS_DELTA_BANK_BUDGET bytes; slots beyond it keep their totals in
 * `stack_stats`.
 */
#define LS_DELTA_BANK_BUDGET (16u << 20)

struct age_cell {
	__u32 epoch; /* low 32 bits of the epoch the cell counts */
	__s32 count;
	__s64 bytes;
};

struct slot_delta {
	__s64 alloc_bytes;
	__s64 allocs;
	__s64 freed_bytes;
	__s64 frees;
	__u64 first_alloc_ns; /* this CPU's first allocation into this bank; 0: none */
	/* With the age filter: what recent epochs allocated and freed here (see `young`) */
	struct age_cell young[LS_AGE_SLOTS];
};

/* An outstanding block or region, as the probes see it. */
struct alloc_record {
	__u64 size;
	__u64 time_ns; /* 0 unless the age filter needs it */
	__u32 slot;    /* in `stack_stats` */
	__u32 pad;
};

/*
 * --fds (bpf/fds.bpf.c): each descriptor a traced process creates after
 * attach, map `fds`, keyed by process and number (the target's below
 * LS_TARGET_FDS in `target_fds`, by number), until it is closed
 * (close, close_range, replaced by dup2/dup3, closed at exec); its stack's
 * totals are kind LS_KIND_FD in `stack_stats` (a size of 0), and per stack
 * slot the open ones by type in `fd_types`.
 */
#define LS_DEFAULT_MAX_FDS (1u << 16)
/* The target's descriptors below this are kept apart, by number (map `target_fds`). */
#define LS_TARGET_FDS 4096

/*
 * The system calls whose exit --fds watches, with their x86-64 numbers
 * (arch/x86/entry/syscalls/syscall_64.tbl): one program attached to each
 * one's sys_exit_ tracepoint tells them apart by number.  close is watched
 * at its entry.
 */
#define LS_FD_EXIT_CALLS(X)                                                    \
	X(open, 2) X(pipe, 22) X(dup, 32) X(dup2, 33) X(socket, 41) X(accept, 43) \
	X(recvmsg, 47) X(socketpair, 53) X(fcntl, 72) X(creat, 85)               \
	X(epoll_create, 213) X(inotify_init, 253) X(openat, 257) X(signalfd, 282) \
	X(timerfd_create, 283) X(eventfd, 284) X(accept4, 288) X(signalfd4, 289) \
	X(eventfd2, 290) X(epoll_create1, 291) X(dup3, 292) X(pipe2, 293)         \
	X(inotify_init1, 294) X(perf_event_open, 298) X(fanotify_init, 300)      \
	X(open_by_handle_at, 304) X(memfd_create, 319) X(userfaultfd, 323)       \
	X(io_uring_setup, 425) X(pidfd_open, 434) X(close_range, 436)            \
	X(openat2, 437) X(pidfd_getfd, 438)

#define LS_FD_CALL_NR(name, nr) LS_NR_##name = nr,
enum ls_fd_call { LS_FD_EXIT_CALLS(LS_FD_CALL_NR) };
#undef LS_FD_CALL_NR

enum ls_fd_type {
	LS_FD_FILE,
	LS_FD_DIRECTORY,
	LS_FD_DEVICE,
	LS_FD_PIPE,
	LS_FD_SOCKET_UNIX,
	LS_FD_SOCKET_INET,
	LS_FD_SOCKET_INET6,
	LS_FD_SOCKET_NETLINK,
	LS_FD_SOCKET_OTHER,
	LS_FD_EVENTFD,
	LS_FD_TIMERFD,
	LS_FD_SIGNALFD,
	LS_FD_EPOLL,
	LS_FD_INOTIFY,
	LS_FD_MEMFD,
	LS_FD_PIDFD,
	LS_FD_USERFAULTFD,
	LS_FD_OTHER,
	LS_FD_TYPES,
};

struct fd_key {
	__u32 tgid;
	__u32 fd;
};

struct fd_record {
	struct alloc_record rec; /* size 0; the stack's slot, its time for the age filter */
	__u32 type;              /* enum ls_fd_type */
	__u32 used;              /* 1 while it holds a descriptor (map `target_fds`) */
};

/* Map `fd_types`, indexed by stack slot: its open descriptors by type. */
struct fd_type_counts {
	__s32 open[LS_FD_TYPES];
};

/*
 * Map `allocs`: outstanding heap blocks in an array of buckets instead of a
 * hash map, because an array lookup is a few instructions where a hash-map
 * insert and delete cost ~250 ns per block.  A block lives in one of two
 * buckets chosen by two hashes of its address (with 8 slots a bucket, tables
 * fill to ~90% before the first block finds both full; that block is dropped
 * and counted).  A slot is claimed and freed by compare-and-swap on addr[i];
 * a block's free can only follow its allocation's return, so the rest of the
 * slot is always written before anyone looks it up.
 */
#define LS_BUCKET_SLOTS 8
#define LS_BUCKET_GROUP_SHIFT 6 /* with -s N, blocks are counted per 64 buckets */
#define LS_SLOT_BITS 24 /* block_slot.info: size << LS_SLOT_BITS | stack slot */
#define LS_MAX_BLOCK_SIZE ((1ULL << (64 - LS_SLOT_BITS)) - 1)

/* The record of the block at addr[i], in slot[i]. */
struct block_slot {
	__u64 info;    /* size << LS_SLOT_BITS | stack slot */
	__u64 time_ns; /* when it was allocated, with the age filter */
};

/*
 * 192 bytes on three cache lines (the map is mmapable, so its values start
 * on a page): a scan of the addresses reads one line, a block's record one more.
 */
struct block_bucket {
	__u64 addr[LS_BUCKET_SLOTS]; /* 0: free slot */
	struct block_slot slot[LS_BUCKET_SLOTS];
};

/* Value of map `stack_traces` (key: stack hash). */
struct stack_trace {
	__u32 depth;
	__u32 pad;
	__u64 ips[LS_MAX_STACK_DEPTH];
};

/*
 * Per-CPU counters of rare events, map `counters`; user space sums the CPUs.
 * Allocations and frees are not counted here: they are the sums over
 * `stack_stats` (frees = allocated - outstanding), which spares every event
 * two more map updates.
 */
enum ls_counter {
	LS_CNT_FREES_UNTRACKED, /* frees of blocks never recorded (e.g. older than attach) */
	LS_CNT_DROP_ALLOC_FULL, /* block not recorded: `allocs`/`mmaps` full */
	LS_CNT_DROP_STATS_FULL, /* block not recorded: `stack_stats` full */
	LS_CNT_DROP_STACK,      /* stack lost (unwind failed or `stack_traces` full) */
	LS_CNT_DROP_STATE,      /* call lost: no per-thread slot for the arguments */
	LS_CNT_REALLOC_FAILED,  /* realloc returned NULL and kept the old block */
	LS_CNT_DROP_THREAD,     /* thread not tracked: `threads` full or its TID unknown;
				 * reported in dropped.events */
	LS_CNT_GO_PREEXISTING_EXITS, /* goroutines from before attach that ended */
	LS_CNT_GO_UNKNOWN_EXITS,     /* ended goroutines not seen created (attach window) */
	LS_CNT_CALLS_IN_TASK_STORAGE, /* calls kept in task storage: their TID's slot was taken */
	LS_CNT_DROP_PROC,       /* a fork or exec not followed: `proc_table` full */
	LS_CNT_DROP_MAPPING,    /* an executable mapping not reported: `new_mappings` full */
	LS_CNT_DROP_FD,         /* a descriptor not recorded: `fds` full */
	LS_CNT_MAX,
};

/*
 * --unwind dwarf: stacks unwound in BPF from each module's .eh_frame instead
 * of frame pointers.  User space turns the call frame information of every
 * executable mapping into rows (user/collect/unwind_table.c), one sorted run per
 * module in the array map `unwind_rows`, and gives each traced process its
 * mappings in `unwind_spaces` (indexed by proc).  A row says, from its pc up
 * to the next row's, where the canonical frame address (CFA) is and where the
 * caller's %rbp was saved; the return address is always the word at CFA - 8
 * on x86-64.
 */
#define LS_UNWIND_MAPPINGS 64            /* executable mappings per process */
#define LS_UNWIND_PROCS 64               /* processes with tables; others walk frame pointers */
#define LS_DEFAULT_UNWIND_ROWS (1u << 21) /* rows of every module together */
#define LS_UNWIND_SEARCH_STEPS 24        /* binary search steps: 16M rows a module */

enum ls_cfa_rule {
	LS_CFA_UNKNOWN = 0, /* no information here: the walk ends */
	LS_CFA_SP = 1,      /* CFA = %rsp + cfa_offset */
	LS_CFA_BP = 2,      /* CFA = %rbp + cfa_offset */
	LS_CFA_PLT = 3,     /* a PLT entry: %rsp + 8, or + 16 past its push */
	LS_CFA_ROOT = 4,    /* the return address is undefined: the thread's first frame */
};

enum ls_bp_rule {
	LS_BP_SAME = 0,   /* %rbp unchanged in this frame */
	LS_BP_AT_CFA = 1, /* the caller's %rbp is saved at CFA + bp_offset */
};

struct unwind_row {
	__u64 pc;         /* link-time address where the row starts */
	__s32 cfa_offset;
	__s16 bp_offset;
	__u8 cfa_rule;    /* enum ls_cfa_rule */
	__u8 bp_rule;     /* enum ls_bp_rule */
};

struct unwind_mapping {
	__u64 start, end; /* the executable mapping in the process */
	__u64 bias;       /* runtime address - link-time address */
	__u32 first_row;  /* the module's rows in `unwind_rows` */
	__u32 row_count;  /* 0: a module without rows (the walk ends there) */
};

/* Value of map `unwind_spaces`: one process's executable mappings, sorted by start. */
struct unwind_space {
	__u32 count;
	__u32 misses; /* pcs in no mapping: modules mapped since the space was written */
	struct unwind_mapping mappings[LS_UNWIND_MAPPINGS];
};

/* Map `kernel_blocks` (bpf/kernel.bpf.c): what kind of address `addr` is. */
enum ls_kernel_space {
	LS_KSPACE_SLAB,    /* kmalloc, kmem_cache_alloc: object address */
	LS_KSPACE_PAGE,    /* alloc_pages: page frame number */
	LS_KSPACE_PERCPU,  /* alloc_percpu: per-CPU pointer */
	LS_KSPACE_VMALLOC, /* vmalloc, vmap: area start */
};

struct kernel_block_key {
	__u64 addr;
	__u32 space; /* enum ls_kernel_space */
	__u32 pad;
};

/* Threads created after attach (bpf/threads.bpf.c), map `threads`, key: TID. */
#define LS_MAX_TRACKED_THREADS (1u << 16)

struct thread_record {
	__u64 handle;       /* pthread_t as the program sees it */
	__u64 stack_hash;   /* pthread_create's caller, key into `stack_traces` */
	__u64 stack_bytes;  /* from the attr, 0 when the default applies */
	__u64 created_ns;
	__u32 detached;     /* by attr or by pthread_detach */
	__u32 exited;
	__u32 proc;         /* the process that created it (map `proc_table`) */
	__u32 pad;
};

/* Key of map `thread_stacks`: a creation stack in one process. */
struct thread_stack_key {
	__u64 stack_hash;
	__u32 proc;
	__u32 pad;
};

/* Per creation stack, map `thread_stacks`: what no longer has a record. */
struct thread_stack_stats {
	__u64 created;
	__u64 gone; /* joined, or detached and exited: nothing held any more */
};

/* Go goroutines (bpf/goroutines.bpf.c), map `go_sites`, key: the go statement's PC. */
struct go_site {
	__u64 created;    /* since attach */
	__u64 exited;     /* of those created since attach */
	__u64 stack_hash; /* the go statement and its callers, key into `stack_traces` */
};

#endif /* LEAKSNOOP_H */
