// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --fds: file descriptors per opening stack.  Each system call that makes a
 * descriptor in a traced process is caught at its exit, where the new
 * number is known and the user stack is its caller's (through libc's
 * wrapper): the descriptor is recorded in `fds` under its stack (kind
 * LS_KIND_FD, size 0) and its type, read from the open file itself, counted
 * in `fd_types`.  It is forgotten at close, when dup2/dup3 put another file
 * at its number, and after close_range or an exec by a sweep of the process's
 * records against its descriptor table.  A forked child's copies are not its
 * records: closing them frees nothing in the parent.
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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LS_DEFAULT_MAX_STACKS);
	__type(key, __u32);
	__type(value, struct fd_type_counts);
} fd_types SEC(".maps");

/* What a call's exit needs of its entry's arguments (an array of two descriptors, a command). */
struct fd_call {
	__u64 arg;
	__u64 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct fd_call);
} fd_calls SEC(".maps");

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
/* Descriptors of one SCM_RIGHTS message recorded at most. */
#define LS_RIGHTS_MAX 16

/* The proc of the current process (map `procs`, the target 0), LS_NO_PROC when not traced. */
static __always_inline __u32 traced_proc(__u32 tgid)
{
	__u32 *found = bpf_map_lookup_elem(&procs, &tgid);

	if (found)
		return *found == LS_IGNORED_PROC ? LS_NO_PROC : *found;
	return tgid == target_tgid ? 0 : LS_NO_PROC;
}

/* The open file at descriptor fd of the current process, or NULL. */
static __always_inline struct file *file_at(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **table = BPF_CORE_READ(task, files, fdt, fd);
	struct file *file = NULL;

	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return NULL;
	bpf_core_read(&file, sizeof(file), &table[fd]);
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
		return hint;
	mode = BPF_CORE_READ(file, f_inode, i_mode) & LS_S_IFMT;
	if (mode == LS_S_IFSOCK)
		return socket_type(file);
	if (mode == LS_S_IFIFO)
		return LS_FD_PIPE;
	if (mode == LS_S_IFDIR)
		return LS_FD_DIRECTORY;
	if (mode == LS_S_IFCHR || mode == LS_S_IFBLK)
		return LS_FD_DEVICE;
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

/* The record at key is gone: its stack holds one descriptor less. */
static __always_inline void forget_record(const struct fd_key *key, struct fd_record *record)
{
	struct stack_stats *stats = stats_at(record->rec.slot);

	if (stats)
		stats_sub(stats, &record->rec);
	count_type(record->rec.slot, record->type, -1);
	bpf_map_delete_elem(&fds, key);
}

static __always_inline void forget(__u32 tgid, __u32 fd)
{
	struct fd_key key = { .tgid = tgid, .fd = fd };
	struct fd_record *record = bpf_map_lookup_elem(&fds, &key);

	if (record)
		forget_record(&key, record);
}

/*
 * Descriptor fd was made by the current call of a traced process.  0, 1
 * and 2 are not recorded: putting a file there (a shell's redirection) is
 * no leak.
 */
static __always_inline void record_fd(void *ctx, long fd, __u32 hint)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, proc, zero = 0, slot;
	struct fd_key key = { .tgid = tgid, .fd = (__u32)fd };
	struct fd_record record = {};
	struct stack_scratch *scratch;
	struct stack_stats *stats;

	if (fd <= 2 || (proc = traced_proc(tgid)) == LS_NO_PROC)
		return;
	forget(tgid, (__u32)fd); /* another file at its number: the old one was closed */
	scratch = bpf_map_lookup_elem(&fd_scratch, &zero);
	if (!scratch)
		return;
	slot = trace_stack(ctx, scratch, true) ? trace_slot(scratch, LS_KIND_FD, proc) :
						 proc_slot_of(LS_UNKNOWN_STACK, LS_KIND_FD, proc);
	stats = stats_at(slot);
	if (!stats) {
		count(LS_CNT_DROP_STATS_FULL, 1);
		return;
	}
	record.rec.slot = slot;
	record.rec.time_ns = age_epoch_ns ? age_now_ns() : 0;
	record.type = file_type(file_at((__u32)fd), hint);
	if (bpf_map_update_elem(&fds, &key, &record, BPF_NOEXIST)) {
		count(LS_CNT_DROP_FD, 1);
		return;
	}
	stats_add(stats, &record.rec);
	count_type(slot, record.type, 1);
}

static __always_inline bool in_traced_process(void)
{
	return traced_proc(bpf_get_current_pid_tgid() >> 32) != LS_NO_PROC;
}

/* Keep what the exit needs of this call's arguments. */
static __always_inline void remember_call(__u64 arg, __u64 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct fd_call call = { .arg = arg, .flags = flags };

	if (in_traced_process())
		bpf_map_update_elem(&fd_calls, &id, &call, BPF_ANY);
}

/* The entry's arguments, taken (false when it was not remembered). */
static __always_inline bool take_call(struct fd_call *call)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct fd_call *found = bpf_map_lookup_elem(&fd_calls, &id);

	if (!found)
		return false;
	*call = *found;
	bpf_map_delete_elem(&fd_calls, &id);
	return true;
}

/* Calls whose result is the new descriptor. */
#define FD_FROM_RESULT(call, hint)                                              \
	SEC("tracepoint/syscalls/sys_exit_" #call)                             \
	int fd_exit_##call(struct trace_event_raw_sys_exit *ctx)               \
	{                                                                      \
		if (ctx->ret >= 0)                                             \
			record_fd(ctx, ctx->ret, hint);                        \
		return 0;                                                      \
	}

FD_FROM_RESULT(open, LS_FD_FILE)
FD_FROM_RESULT(openat, LS_FD_FILE)
FD_FROM_RESULT(openat2, LS_FD_FILE)
FD_FROM_RESULT(creat, LS_FD_FILE)
FD_FROM_RESULT(open_by_handle_at, LS_FD_FILE)
FD_FROM_RESULT(socket, LS_FD_SOCKET_OTHER)
FD_FROM_RESULT(accept, LS_FD_SOCKET_OTHER)
FD_FROM_RESULT(accept4, LS_FD_SOCKET_OTHER)
FD_FROM_RESULT(dup, LS_FD_OTHER)
FD_FROM_RESULT(dup2, LS_FD_OTHER)
FD_FROM_RESULT(dup3, LS_FD_OTHER)
FD_FROM_RESULT(eventfd, LS_FD_EVENTFD)
FD_FROM_RESULT(eventfd2, LS_FD_EVENTFD)
FD_FROM_RESULT(timerfd_create, LS_FD_TIMERFD)
FD_FROM_RESULT(epoll_create, LS_FD_EPOLL)
FD_FROM_RESULT(epoll_create1, LS_FD_EPOLL)
FD_FROM_RESULT(inotify_init, LS_FD_INOTIFY)
FD_FROM_RESULT(inotify_init1, LS_FD_INOTIFY)
FD_FROM_RESULT(memfd_create, LS_FD_MEMFD)
FD_FROM_RESULT(pidfd_open, LS_FD_PIDFD)
FD_FROM_RESULT(pidfd_getfd, LS_FD_OTHER)
FD_FROM_RESULT(userfaultfd, LS_FD_USERFAULTFD)

/* signalfd(-1, ...) makes one; given a descriptor it changes that one's mask. */
SEC("tracepoint/syscalls/sys_enter_signalfd4")
int fd_enter_signalfd4(struct trace_event_raw_sys_enter *ctx)
{
	remember_call(ctx->args[0], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_signalfd4")
int fd_exit_signalfd4(struct trace_event_raw_sys_exit *ctx)
{
	struct fd_call call;

	if (take_call(&call) && (int)call.arg == -1 && ctx->ret >= 0)
		record_fd(ctx, ctx->ret, LS_FD_SIGNALFD);
	return 0;
}

/* fcntl's result is a descriptor for F_DUPFD and F_DUPFD_CLOEXEC only. */
SEC("tracepoint/syscalls/sys_enter_fcntl")
int fd_enter_fcntl(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[1] == LS_F_DUPFD || ctx->args[1] == LS_F_DUPFD_CLOEXEC)
		remember_call(ctx->args[1], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_fcntl")
int fd_exit_fcntl(struct trace_event_raw_sys_exit *ctx)
{
	struct fd_call call;

	if (take_call(&call) && ctx->ret >= 0)
		record_fd(ctx, ctx->ret, LS_FD_OTHER);
	return 0;
}

/* pipe, pipe2 and socketpair write their two descriptors to the caller's array. */
static __always_inline void record_pair(void *ctx, long ret, __u32 hint)
{
	struct fd_call call;
	int pair[2];

	if (!take_call(&call) || ret != 0 ||
	    bpf_probe_read_user(pair, sizeof(pair), (void *)call.arg))
		return;
	record_fd(ctx, pair[0], hint);
	record_fd(ctx, pair[1], hint);
}

SEC("tracepoint/syscalls/sys_enter_pipe")
int fd_enter_pipe(struct trace_event_raw_sys_enter *ctx)
{
	remember_call(ctx->args[0], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pipe")
int fd_exit_pipe(struct trace_event_raw_sys_exit *ctx)
{
	record_pair(ctx, ctx->ret, LS_FD_PIPE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_pipe2")
int fd_enter_pipe2(struct trace_event_raw_sys_enter *ctx)
{
	remember_call(ctx->args[0], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pipe2")
int fd_exit_pipe2(struct trace_event_raw_sys_exit *ctx)
{
	record_pair(ctx, ctx->ret, LS_FD_PIPE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_socketpair")
int fd_enter_socketpair(struct trace_event_raw_sys_enter *ctx)
{
	remember_call(ctx->args[3], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_socketpair")
int fd_exit_socketpair(struct trace_event_raw_sys_exit *ctx)
{
	record_pair(ctx, ctx->ret, LS_FD_SOCKET_OTHER);
	return 0;
}

/* recvmsg: descriptors passed with SCM_RIGHTS, in the first control message. */
SEC("tracepoint/syscalls/sys_enter_recvmsg")
int fd_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	remember_call(ctx->args[1], 0);
	return 0;
}

struct rights_walk {
	void *ctx;
	int fds[LS_RIGHTS_MAX];
	__u32 count;
};

static long record_right(__u64 index, void *arg)
{
	struct rights_walk *walk = arg;

	if (index >= walk->count || index >= LS_RIGHTS_MAX)
		return 1;
	record_fd(walk->ctx, walk->fds[index], LS_FD_OTHER);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int fd_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	struct rights_walk walk = { .ctx = ctx };
	struct user_msghdr msg;
	struct cmsghdr cmsg;
	struct fd_call call;
	__u64 data_len;

	if (!take_call(&call) || ctx->ret < 0 ||
	    bpf_probe_read_user(&msg, sizeof(msg), (void *)call.arg) || !msg.msg_control ||
	    msg.msg_controllen < sizeof(cmsg) ||
	    bpf_probe_read_user(&cmsg, sizeof(cmsg), msg.msg_control) ||
	    cmsg.cmsg_level != LS_SOL_SOCKET || cmsg.cmsg_type != LS_SCM_RIGHTS ||
	    cmsg.cmsg_len < sizeof(cmsg))
		return 0;
	data_len = cmsg.cmsg_len - sizeof(cmsg);
	walk.count = data_len / sizeof(int);
	if (walk.count > LS_RIGHTS_MAX)
		walk.count = LS_RIGHTS_MAX;
	if (bpf_probe_read_user(walk.fds, sizeof(walk.fds), (char *)msg.msg_control + sizeof(cmsg)))
		return 0;
	bpf_loop(LS_RIGHTS_MAX, record_right, &walk, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int fd_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (traced_proc(tgid) != LS_NO_PROC)
		forget(tgid, (__u32)ctx->args[0]);
	return 0;
}

/* The records of one process whose descriptor is no longer open: forgotten. */
static long sweep_closed(struct bpf_map *map, struct fd_key *key, struct fd_record *record,
			 __u32 *tgid)
{
	if (key->tgid == *tgid && !file_at(key->fd))
		forget_record(key, record);
	return 0;
}

static __always_inline void sweep(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (traced_proc(tgid) != LS_NO_PROC)
		bpf_for_each_map_elem(&fds, sweep_closed, &tgid, 0);
}

/* close_range closed a range (or, with CLOSE_RANGE_CLOEXEC, only marked it). */
SEC("tracepoint/syscalls/sys_exit_close_range")
int fd_exit_close_range(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret == 0)
		sweep();
	return 0;
}

/* An exec closed the close-on-exec descriptors. */
SEC("tracepoint/sched/sched_process_exec")
int fd_exec(void *ctx)
{
	sweep();
	return 0;
}
