// SPDX-License-Identifier: MIT
/*
 * Checks before attach (preflight.h): read-only questions to the kernel and
 * /proc, with one line each on what fails.  Nothing is loaded here, and the
 * target is not touched beyond reading /proc/PID.
 */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fail.h"
#include "preflight.h"
#include "target/proc_status.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define CGROUP2_MAGIC 0x63677270

static bool has_capability(int cap)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &header, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

int check_privileges(void)
{
	bool admin = has_capability(CAP_SYS_ADMIN);
	bool bpf = admin || has_capability(CAP_BPF);
	bool perfmon = admin || has_capability(CAP_PERFMON);

	if (bpf && perfmon)
		return 0;
	return fail(-EPERM, "missing %s%s%s: run as root (sudo leaksnoop ...) or grant "
		      "CAP_BPF and CAP_PERFMON", bpf ? "" : "CAP_BPF",
		      !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON");
}

int check_kernel(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return fail(-ENOSYS, "this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			      "it needs CONFIG_DEBUG_INFO_BTF=y");
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK))
		return fail(-ENOSYS, "this kernel has no uprobes: it needs CONFIG_UPROBES=y "
			      "and CONFIG_UPROBE_EVENTS=y");
	return 0;
}

int ensure_tracefs(bool verbose)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return fail(-errno, "tracefs is not mounted and mounting it on "
			      "/sys/kernel/tracing failed: %s (or use --no-mmap)", strerror(errno));
	if (verbose)
		fprintf(stderr, "leaksnoop: mounted tracefs on /sys/kernel/tracing\n");
	return 0;
}

pid_t tgid_of(pid_t pid)
{
	pid_t tgid = (pid_t)proc_status_number(pid, "Tgid", pid);

	return tgid > 0 ? tgid : pid;
}

int check_pid(pid_t pid)
{
	char path[64];

	if (kill(pid, 0) && errno == ESRCH)
		return fail(-ESRCH, "PID %d not found (is the process running?)", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (access(path, R_OK))
		return fail(-errno, "cannot read %s: %s (run as root to trace another "
			      "user's process)", path, strerror(errno));
	return 0;
}

static bool on_cgroup2(const char *path, struct stat *st)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == CGROUP2_MAGIC && !stat(path, st) &&
	       S_ISDIR(st->st_mode);
}

int resolve_cgroup(const char *path, uint64_t *id, uint32_t *level)
{
	char real[PATH_MAX], *slash;
	struct stat st, up;

	if (!realpath(path, real) || !on_cgroup2(real, &st))
		return fail(-EINVAL, "--cgroup %s: not a cgroup v2 directory (e.g. "
			      "/sys/fs/cgroup/system.slice/nginx.service)", path);
	*id = st.st_ino;
	*level = 0;
	while ((slash = strrchr(real, '/')) && slash != real) {
		*slash = '\0';
		if (!on_cgroup2(real, &up) || up.st_dev != st.st_dev)
			break;
		++*level;
	}
	return 0;
}
