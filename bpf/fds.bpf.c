// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --fds: file descriptors per opening stack.  Each system call that makes a
 * descriptor in a traced process is caught at its exit, where the new
 * number is known and the user stack is its caller's (through libc's
 * wrapper); its arguments are read there from the user registers saved at
 * its entry, which a system call leaves as they were.  The descriptor is
 * recorded in `fds` under its stack (kind LS_KIND_FD, size 0) and its type,
 * read from the open file itself, counted in `fd_types`.  It is forgotten
 * at close, when dup2/dup3 put another file at its number, and after
 * close_range or an exec by a sweep of the process's records against its
 * descriptor table.  A forked child's copies are not its records: closing
 * them frees nothing in the parent.  Every process on the machine that
 * makes or closes a descriptor runs these programs: one that is not traced
 * is told apart first, and cheaply (traced_proc).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "stack.bpf.h"
#include "procs.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_DEFAULT_MAX_FDS);
	__type(key, struct fd_key);
	__type(value, struct fd_record);
} fds SEC(".maps");

/*
 * The target's descriptors below LS_TARGET_FDS, by number, beside `fds`
 * (every other one, and every other process's): read and written in place,
 * an open and a close of the target take no hash map's lock.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LS_TARGET_FDS);
	__type(key, __u32);
	__type(value, struct fd_record);
} target_fds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LS_DEFAULT_MAX_STACKS);
	__type(key, __u32);
	__type(value, struct fd_type_counts);
} fd_types SEC(".maps");

/* Tracepoint programs do not nest on a CPU: one scratch each. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
} fd_scratch SEC(".maps");

#define LS_S_IFMT 0170000
#define LS_S_IFSOCK 0140000
#define LS_S_IFIFO 0010000
#define LS_S_IFDIR 0040000
#define LS_S_IFCHR 0020000
#define LS_S_IFBLK 0060000
#define LS_AF_UNIX 1
#define LS_AF_INET 2
#define LS_AF_INET6 10
#define LS_AF_NETLINK 16
#define LS_F_DUPFD 0
#define LS_F_DUPFD_CLOEXEC 1030
#define LS_SOL_SOCKET 1
#define LS_SCM_RIGHTS 1
/* A hint: made by a call whose descriptors have no type of their own here. */
#define LS_FD_HINT_OTHER LS_FD_TYPES
/* Descriptors of one SCM_RIGHTS message recorded at most. */
#define LS_RIGHTS_MAX 16

/* [0]: the procs handed out (bpf/procs.bpf.h); 1 while only the target is traced. */
static __always_inline bool followed_others(void)
{
	__u32 zero = 0, *used = bpf_map_lookup_elem(&procs_used, &zero);

	return used && *used > 1;
}

/*
 * The proc of process tgid (map `procs`; the target's is 0 until it execs),
 * LS_NO_PROC when it is not traced.  While the target is the only process
 * traced (no fork or exec followed), no hash lookup is needed: this runs in
 * every process on the machine that makes or closes a descriptor.
 */
static __always_inline __u32 traced_proc(__u32 tgid)
{
	__u32 *found;

	if (!followed_others())
		return tgid == target_tgid ? 0 : LS_NO_PROC;
	found = bpf_map_lookup_elem(&procs, &tgid);
	if (found)
		return *found == LS_IGNORED_PROC ? LS_NO_PROC : *found;
	return tgid == target_tgid ? 0 : LS_NO_PROC;
}

/* The open file at descriptor fd of the current process, or NULL. */
static __always_inline struct file *file_at(__u32 fd)
{
	/* Typed pointers, read directly; the table's slot with one copy. */
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file *file = NULL;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), (struct file **)fdt->fd + fd);
	return file;
}

/* Does the NUL-terminated name start with prefix (a literal)? */
static __always_inline bool starts_with(const char *name, const char *prefix, int len)
{
	for (int i = 0; i < len; i++)
		if (name[i] != prefix[i])
			return false;
	return true;
}

#define NAMED(name, literal) starts_with(name, literal, sizeof(literal) - 1)

/* A socket's type by its family. */
static __always_inline __u32 socket_type(struct file *file)
{
	struct socket *sock = BPF_CORE_READ(file, private_data);
	__u16 family = sock ? BPF_CORE_READ(sock, sk, __sk_common.skc_family) : 0;

	switch (family) {
	case LS_AF_UNIX: return LS_FD_SOCKET_UNIX;
	case LS_AF_INET: return LS_FD_SOCKET_INET;
	case LS_AF_INET6: return LS_FD_SOCKET_INET6;
	case LS_AF_NETLINK: return LS_FD_SOCKET_NETLINK;
	}
	return LS_FD_SOCKET_OTHER;
}

/*
 * The type of the open file: its inode's mode, a socket's family, or the
 * name an anonymous inode's file has ("[eventfd]", ...); hint is what the
 * system call that made it says, for those a name would not tell.
 */
static __always_inline __u32 file_type(struct file *file, __u32 hint)
{
	char name[16] = {};
	const unsigned char *at;
	umode_t mode;

	if (!file)
		return hint == LS_FD_HINT_OTHER ? LS_FD_OTHER : hint;
	mode = BPF_CORE_READ(file, f_inode, i_mode) & LS_S_IFMT;
	if (mode == LS_S_IFSOCK)
		return socket_type(file);
	if (mode == LS_S_IFIFO)
		return LS_FD_PIPE;
	if (mode == LS_S_IFDIR)
		return LS_FD_DIRECTORY;
	if (mode == LS_S_IFCHR || mode == LS_S_IFBLK)
		return LS_FD_DEVICE;
	if (hint == LS_FD_HINT_OTHER)
		return LS_FD_OTHER;
	if (hint != LS_FD_FILE && hint != LS_FD_OTHER)
		return hint; /* made by eventfd, timerfd_create, ...: it says */
	at = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(name, sizeof(name), at);
	if (NAMED(name, "memfd:"))
		return LS_FD_MEMFD;
	if (name[0] != '[' && !NAMED(name, "inotify"))
		return hint == LS_FD_OTHER ? LS_FD_FILE : hint;
	if (NAMED(name, "[eventfd]"))
		return LS_FD_EVENTFD;
	if (NAMED(name, "[timerfd]"))
		return LS_FD_TIMERFD;
	if (NAMED(name, "[signalfd]"))
		return LS_FD_SIGNALFD;
	if (NAMED(name, "[eventpoll]"))
		return LS_FD_EPOLL;
	if (NAMED(name, "inotify"))
		return LS_FD_INOTIFY;
	if (NAMED(name, "[pidfd]"))
		return LS_FD_PIDFD;
	if (NAMED(name, "[userfaultfd]"))
		return LS_FD_USERFAULTFD;
	return LS_FD_OTHER;
}

static __always_inline void count_type(__u32 slot, __u32 type, __s32 delta)
{
	struct fd_type_counts *counts = bpf_map_lookup_elem(&fd_types, &slot);

	if (counts && type < LS_FD_TYPES)
		__sync_fetch_and_add(&counts->open[type], delta);
}

/* The record is gone: its stack holds one descriptor less. */
static __always_inline void release(const struct fd_record *record)
{
	struct stack_stats *stats = stats_at(record->rec.slot);

	if (stats)
		stats_sub(stats, &record->rec);
	count_type(record->rec.slot, record->type, -1);
}

/* The target's record slot for fd in `target_fds`, NULL when its record is in `fds`. */
static __always_inline struct fd_record *target_record(__u32 tgid, __u32 fd)
{
	return tgid == target_tgid && fd < LS_TARGET_FDS ? bpf_map_lookup_elem(&target_fds, &fd) :
							    NULL;
}

static __always_inline void forget(__u32 tgid, __u32 fd)
{
	struct fd_record *record = target_record(tgid, fd);
	struct fd_key key = { .tgid = tgid, .fd = fd };

	if (record) {
		if (record->used) {
			release(record);
			record->used = 0;
		}
		return;
	}
	record = bpf_map_lookup_elem(&fds, &key);
	if (record) {
		release(record);
		bpf_map_delete_elem(&fds, &key);
	}
}

/* Keep the record of descriptor fd; false when `fds` is full. */
static __always_inline bool keep(__u32 tgid, __u32 fd, const struct fd_record *record)
{
	struct fd_record *in_place = target_record(tgid, fd);
	struct fd_key key = { .tgid = tgid, .fd = fd };

	if (in_place) {
		if (in_place->used)
			release(in_place); /* another file at its number: that one was closed */
		*in_place = *record;
		return true;
	}
	if (!bpf_map_update_elem(&fds, &key, record, BPF_NOEXIST))
		return true;
	/* Another file at its number (dup2 onto it, a close unseen): that one was closed. */
	forget(tgid, fd);
	return !bpf_map_update_elem(&fds, &key, record, BPF_NOEXIST);
}

/*
 * Descriptor fd was made by the current call of a traced process, proc.
 * 0, 1 and 2 are not recorded: putting a file there (a shell's redirection)
 * is no leak.  A function of its own, verified once for all its callers.
 */
__noinline int record_fd(__u32 tgid, __u32 proc, long fd, __u32 hint)
{
	struct fd_record record = { .used = 1 };
	struct stack_scratch *scratch;
	struct stack_stats *stats;
	__u32 zero = 0, slot;

	if (fd <= 2)
		return 0;
	scratch = bpf_map_lookup_elem(&fd_scratch, &zero);
	if (!scratch)
		return 0;
	slot = trace_stack(NULL, scratch, true) ? trace_slot(scratch, LS_KIND_FD, proc) :
						  proc_slot_of(LS_UNKNOWN_STACK, LS_KIND_FD, proc);
	stats = stats_at(slot);
	if (!stats) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return 0;
	}
	record.rec.slot = slot;
	record.rec.time_ns = age_epoch_ns ? age_now_ns() : 0;
	record.type = file_type(file_at((__u32)fd), hint);
	if (!keep(tgid, (__u32)fd, &record)) {
		count(LS_CNT_DROP_FD, 1);
		return 0;
	}
	stats_add(stats, &record.rec);
	count_type(slot, record.type, 1);
	return 0;
}

/* pipe, pipe2 and socketpair wrote their two descriptors to the caller's array. */
static __always_inline void record_pair(__u32 tgid, __u32 proc, __u64 array, __u32 hint)
{
	int pair[2];

	if (bpf_probe_read_user(pair, sizeof(pair), (void *)array))
		return;
	record_fd(tgid, proc, pair[0], hint);
	record_fd(tgid, proc, pair[1], hint);
}

struct rights_walk {
	__u32 tgid, proc;
	int fds[LS_RIGHTS_MAX];
	__u32 count;
};

static long record_right(__u64 index, void *arg)
{
	struct rights_walk *walk = arg;

	if (index >= walk->count || index >= LS_RIGHTS_MAX)
		return 1;
	record_fd(walk->tgid, walk->proc, walk->fds[index], LS_FD_OTHER);
	return 0;
}

/* recvmsg: descriptors passed with SCM_RIGHTS, in the first control message. */
static __noinline void record_rights(__u32 tgid, __u32 proc, __u64 msg_at)
{
	struct rights_walk walk = { .tgid = tgid, .proc = proc };
	struct user_msghdr msg;
	struct cmsghdr cmsg;

	if (bpf_probe_read_user(&msg, sizeof(msg), (void *)msg_at) || !msg.msg_control ||
	    msg.msg_controllen < sizeof(cmsg) ||
	    bpf_probe_read_user(&cmsg, sizeof(cmsg), msg.msg_control) ||
	    cmsg.cmsg_level != LS_SOL_SOCKET || cmsg.cmsg_type != LS_SCM_RIGHTS ||
	    cmsg.cmsg_len < sizeof(cmsg))
		return;
	walk.count = (cmsg.cmsg_len - sizeof(cmsg)) / sizeof(int);
	if (walk.count > LS_RIGHTS_MAX)
		walk.count = LS_RIGHTS_MAX;
	if (bpf_probe_read_user(walk.fds, sizeof(walk.fds), (char *)msg.msg_control + sizeof(cmsg)))
		return;
	bpf_loop(LS_RIGHTS_MAX, record_right, &walk, 0);
}

/* The records of one process whose descriptor is no longer open: forgotten. */
static long sweep_closed(struct bpf_map *map, struct fd_key *key, struct fd_record *record,
			 __u32 *tgid)
{
	if (key->tgid == *tgid && !file_at(key->fd)) {
		release(record);
		bpf_map_delete_elem(&fds, key);
	}
	return 0;
}

static long sweep_target_closed(struct bpf_map *map, __u32 *fd, struct fd_record *record,
				void *unused)
{
	if (record->used && !file_at(*fd)) {
		release(record);
		record->used = 0;
	}
	return 0;
}

static __always_inline void sweep(__u32 tgid)
{
	if (tgid == target_tgid)
		bpf_for_each_map_elem(&target_fds, sweep_target_closed, NULL, 0);
	bpf_for_each_map_elem(&fds, sweep_closed, &tgid, 0);
}

/* result_hint() of a call whose result is no new descriptor. */
#define LS_FD_NOT_RESULT (LS_FD_TYPES + 1)

/* What a call whose result is a new descriptor says of its type; LS_FD_NOT_RESULT for others. */
static __always_inline __u32 result_hint(long nr)
{
	switch (nr) {
	case LS_NR_open: case LS_NR_openat: case LS_NR_openat2: case LS_NR_creat:
	case LS_NR_open_by_handle_at:
		return LS_FD_FILE;
	case LS_NR_socket: case LS_NR_accept: case LS_NR_accept4:
		return LS_FD_SOCKET_OTHER;
	case LS_NR_dup: case LS_NR_dup3: case LS_NR_pidfd_getfd:
		return LS_FD_OTHER;
	case LS_NR_eventfd: case LS_NR_eventfd2:
		return LS_FD_EVENTFD;
	case LS_NR_timerfd_create:
		return LS_FD_TIMERFD;
	case LS_NR_epoll_create: case LS_NR_epoll_create1:
		return LS_FD_EPOLL;
	case LS_NR_inotify_init: case LS_NR_inotify_init1:
		return LS_FD_INOTIFY;
	case LS_NR_memfd_create:
		return LS_FD_MEMFD;
	case LS_NR_pidfd_open:
		return LS_FD_PIDFD;
	case LS_NR_userfaultfd:
		return LS_FD_USERFAULTFD;
	case LS_NR_perf_event_open: case LS_NR_fanotify_init: case LS_NR_io_uring_setup:
		return LS_FD_HINT_OTHER;
	}
	return LS_FD_NOT_RESULT;
}

/* System call nr of traced process tgid (proc) returned ret: its records follow. */
static __always_inline void descriptor_call_exit(long nr, long ret, __u32 tgid, __u32 proc)
{
	__u32 hint = result_hint(nr);
	struct pt_regs *regs;

	if (hint != LS_FD_NOT_RESULT) {
		if (ret >= 0)
			record_fd(tgid, proc, ret, hint);
		return;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return;
	switch (nr) {
	case LS_NR_dup2: /* onto itself: nothing changed */
		if (ret >= 0 && regs->di != regs->si)
			record_fd(tgid, proc, ret, LS_FD_OTHER);
		break;
	case LS_NR_fcntl: /* a descriptor for F_DUPFD and F_DUPFD_CLOEXEC only */
		if (ret >= 0 && (regs->si == LS_F_DUPFD || regs->si == LS_F_DUPFD_CLOEXEC))
			record_fd(tgid, proc, ret, LS_FD_OTHER);
		break;
	case LS_NR_signalfd: case LS_NR_signalfd4: /* given a descriptor, its mask changes */
		if (ret >= 0 && (int)regs->di == -1)
			record_fd(tgid, proc, ret, LS_FD_SIGNALFD);
		break;
	case LS_NR_pipe: case LS_NR_pipe2:
		if (ret == 0)
			record_pair(tgid, proc, regs->di, LS_FD_PIPE);
		break;
	case LS_NR_socketpair:
		if (ret == 0)
			record_pair(tgid, proc, regs->r10, LS_FD_SOCKET_OTHER);
		break;
	case LS_NR_recvmsg:
		if (ret >= 0)
			record_rights(tgid, proc, regs->si);
		break;
	case LS_NR_close_range: /* closed a range, or with CLOSE_RANGE_CLOEXEC only marked it */
		if (ret == 0)
			sweep(tgid);
		break;
	}
}

/* A syscalls/sys_exit_* tracepoint's record (its format file; not raw_syscalls' layout). */
struct syscall_exit_record {
	__u64 common;
	int nr;
	long ret;
};

/*
 * At the exit of each call of LS_FD_EXIT_CALLS (user space attaches this one
 * program to every one's tracepoint, which only those calls pay for): the
 * call's number tells which it was.
 */
SEC("tracepoint/syscalls/sys_exit_openat")
int fd_sys_exit(struct syscall_exit_record *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 proc = traced_proc(tgid);

	if (proc != LS_NO_PROC)
		descriptor_call_exit(ctx->nr, ctx->ret, tgid, proc);
	return 0;
}

/*
 * close, at its entry: the record goes before the number can be handed out
 * again, so a new descriptor another thread gets there is never taken for
 * the old one.
 */
SEC("tracepoint/syscalls/sys_enter_close")
int fd_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (traced_proc(tgid) != LS_NO_PROC)
		forget(tgid, (__u32)ctx->args[0]);
	return 0;
}

/* An exec closed the close-on-exec descriptors. */
SEC("tracepoint/sched/sched_process_exec")
int fd_exec(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (traced_proc(tgid) != LS_NO_PROC)
		sweep(tgid);
	return 0;
}
