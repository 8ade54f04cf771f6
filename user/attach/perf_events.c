// SPDX-License-Identifier: MIT
/*
 * Opening uprobe and tracepoint perf events (perf_events.h), as libbpf does
 * inside its attach calls: the uprobe PMU's type and retprobe bit from sysfs,
 * a tracepoint's id from tracefs.  No BPF here.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "perf_events.h"

/* A number read from a sysfs or tracefs file after an optional prefix; -errno when absent. */
static long read_number(const char *path, const char *prefix)
{
	char text[64];
	size_t skip = prefix ? strlen(prefix) : 0;
	long value;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(text, sizeof(text), f) || (skip && strncmp(text, prefix, skip)) ||
	    sscanf(text + skip, "%ld", &value) != 1)
		value = -EINVAL;
	fclose(f);
	return value;
}

static int open_event(struct perf_event_attr *attr, pid_t pid)
{
	/*
	 * A process's events follow its threads on every CPU; every process's
	 * are per CPU, and CPU 0's will do for a BPF program, which runs on all.
	 */
	int fd = (int)syscall(__NR_perf_event_open, attr, pid, pid == -1 ? 0 : -1, -1,
			      PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int perf_event_uprobe(const char *path, uint64_t offset, bool retprobe, pid_t pid)
{
	static long type = -1, retprobe_bit = -1;
	struct perf_event_attr attr = { .size = sizeof(attr) };

	if (type < 0)
		type = read_number("/sys/bus/event_source/devices/uprobe/type", NULL);
	if (retprobe_bit < 0)
		retprobe_bit = read_number("/sys/bus/event_source/devices/uprobe/format/retprobe",
					   "config:");
	if (type < 0)
		return (int)type;
	attr.type = (__u32)type;
	attr.config = retprobe && retprobe_bit >= 0 ? 1ULL << retprobe_bit : 0;
	attr.config1 = (__u64)(unsigned long)path;
	attr.config2 = offset;
	return open_event(&attr, pid);
}

int perf_event_tracepoint_task(long id, pid_t tid, bool inherit)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT, .config = (__u64)id,
		.inherit = inherit,
	};

	return open_event(&attr, tid);
}

long tracepoint_id(const char *category, const char *name)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	long id = -ENOENT;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]) && id < 0; i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], category, name);
		id = read_number(path, NULL);
	}
	return id;
}

bool tracepoint_of_section(const char *section, char category[64], char name[64])
{
	return sscanf(section, "tracepoint/%63[^/]/%63s", category, name) == 2;
}

int perf_event_tracepoint(const char *category, const char *name)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT };
	long id = tracepoint_id(category, name);

	if (id < 0)
		return (int)id;
	attr.config = (__u64)id;
	return open_event(&attr, -1);
}
