// SPDX-License-Identifier: MIT
/* Memory cgroups of processes, v2 or v1, their limits and counters (memcg.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup.h"
#include "memcg.h"

/* v1's "no limit" is PAGE_COUNTER_MAX pages, near 2^63: anything from 2^62 up. */
#define V1_UNLIMITED (1ULL << 62)

int memcg_path_in(const char *proc_cgroup, char *path, size_t size)
{
	const char *line = proc_cgroup;
	int version = -ENOENT;

	while (line && *line) {
		/* "ID:CONTROLLERS:PATH"; v2's line is "0::PATH". */
		const char *first = strchr(line, ':'), *second = first ? strchr(first + 1, ':') : NULL;
		const char *end = strchr(line, '\n');
		size_t len;

		if (!second)
			break;
		len = (size_t)((end ? end : second + strlen(second)) - (second + 1));
		if (second == first + 1 && version < 0) {
			snprintf(path, size, "%.*s", (int)len, second + 1);
			version = 2;
		} else {
			char controllers[256];

			snprintf(controllers, sizeof(controllers), ",%.*s,",
				 (int)(second - first - 1), first + 1);
			if (strstr(controllers, ",memory,")) {
				snprintf(path, size, "%.*s", (int)len, second + 1);
				return 1; /* v1's memory controller is the one that limits */
			}
		}
		line = end ? end + 1 : NULL;
	}
	return version;
}

int memcg_parse_limit(const char *text, uint64_t *bytes)
{
	char *end;
	unsigned long long value;

	if (!strncmp(text, "max", 3)) {
		*bytes = 0;
		return 0;
	}
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	*bytes = value >= V1_UNLIMITED ? 0 : value;
	return 0;
}

uint64_t memcg_parse_key(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, key, n) && line[n] == ' ')
			return strtoull(line + n + 1, NULL, 10);
	return 0;
}

/* dir/name's first 4 KiB, NUL-terminated.  0 or a negative errno. */
static int read_small(const char *dir, const char *name, char *buf, size_t size)
{
	char file[4096];
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The smallest limit from m's cgroup up to the hierarchy's root. */
static void find_limit(struct memcg *m, size_t root_len)
{
	const char *file = m->version == 2 ? "memory.max" : "memory.limit_in_bytes";
	char dir[sizeof(m->dir)], text[64];

	snprintf(dir, sizeof(dir), "%s", m->dir);
	m->limit_bytes = 0;
	m->limit_path[0] = '\0';
	m->limit_dir[0] = '\0';
	for (;;) {
		uint64_t limit;
		char *slash;

		if (!read_small(dir, file, text, sizeof(text)) && !memcg_parse_limit(text, &limit) &&
		    limit && (!m->limit_bytes || limit < m->limit_bytes)) {
			m->limit_bytes = limit;
			snprintf(m->limit_dir, sizeof(m->limit_dir), "%s", dir);
			snprintf(m->limit_path, sizeof(m->limit_path), "%s",
				 dir[root_len] ? dir + root_len : "/");
		}
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < root_len)
			break;
		*slash = '\0';
	}
}

int memcg_refresh(struct memcg *m)
{
	char text[4096];
	int err;

	bool root = !strcmp(m->path, "/");

	/* v2's root cgroup has neither file: the machine's memory is not a cgroup's. */
	err = read_small(m->dir, m->version == 2 ? "memory.current" : "memory.usage_in_bytes",
			 text, sizeof(text));
	if (err && !root)
		return err;
	m->usage_bytes = err ? 0 : strtoull(text, NULL, 10);
	err = read_small(m->dir, m->version == 2 ? "memory.events" : "memory.oom_control", text,
			 sizeof(text));
	if (err && !root)
		return err;
	if (err)
		text[0] = '\0';
	m->oom_kills = memcg_parse_key(text, "oom_kill");
	m->high_events = m->version == 2 ? memcg_parse_key(text, "high") : 0;
	m->max_events = m->version == 2 ? memcg_parse_key(text, "max") : 0;
	return 0;
}

/* m->path's cgroup in the hierarchy of its version: directory, limit, counters. */
static int read_path(struct memcg *m)
{
	char root[1024];
	int err = cgroup_mount(m->version == 1 ? "memory" : NULL, root, sizeof(root));

	if (err)
		return err;
	m->watched_usage_fd = -1;
	snprintf(m->dir, sizeof(m->dir), "%s%s", root, strcmp(m->path, "/") ? m->path : "");
	find_limit(m, strlen(root));
	return memcg_refresh(m);
}

int memcg_read_id(uint64_t id, struct memcg *m)
{
	char root[1024];
	int err;

	/* Where the memory controller is: v1's hierarchy when one is mounted (hybrid). */
	m->version = cgroup_mount("memory", root, sizeof(root)) ? 2 : 1;
	err = cgroup_path_of_id_in(m->version == 1 ? "memory" : NULL, id, m->path, sizeof(m->path));
	return err ? err : read_path(m);
}

int memcg_read(pid_t pid, struct memcg *m)
{
	char file[64], text[8192];
	int fd, version;
	ssize_t n;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	text[n] = '\0';
	version = memcg_path_in(text, m->path, sizeof(m->path));
	if (version < 0)
		return version;
	m->version = version;
	return read_path(m);
}

/* v1: the kernel's usage threshold notification on the limiting cgroup. */
static int watch_v1(struct memcg *m, unsigned percent)
{
	char file[4096];
	int event_fd, usage_fd, control_fd, err = 0;

	if (!m->limit_bytes)
		return -ENOENT;
	m->threshold_bytes = m->limit_bytes / 100 * percent;
	m->threshold_percent = percent;
	event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(file, sizeof(file), "%s/memory.usage_in_bytes", m->limit_dir);
	usage_fd = open(file, O_RDONLY | O_CLOEXEC);
	snprintf(file, sizeof(file), "%s/cgroup.event_control", m->limit_dir);
	control_fd = open(file, O_WRONLY | O_CLOEXEC);
	if (event_fd < 0 || usage_fd < 0 || control_fd < 0)
		err = -errno;
	else if (dprintf(control_fd, "%d %d %llu", event_fd, usage_fd,
			 (unsigned long long)m->threshold_bytes) < 0)
		err = -errno;
	if (control_fd >= 0)
		close(control_fd);
	if (err) {
		if (event_fd >= 0)
			close(event_fd);
		if (usage_fd >= 0)
			close(usage_fd);
		return err;
	}
	m->watched_usage_fd = usage_fd;
	return event_fd;
}

int memcg_watch(struct memcg *m, unsigned percent, short *events)
{
	char file[4096];
	int fd;

	if (m->version == 1) {
		*events = POLLIN;
		return watch_v1(m, percent);
	}
	snprintf(file, sizeof(file), "%s/memory.events", m->dir);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*events = POLLPRI;
	return fd;
}

void memcg_unwatch(struct memcg *m, int fd)
{
	if (fd >= 0)
		close(fd);
	if (m->watched_usage_fd >= 0)
		close(m->watched_usage_fd);
	m->watched_usage_fd = -1;
}

bool memcg_watch_fired(struct memcg *m, int fd, char *why, size_t size)
{
	uint64_t high = m->high_events, max = m->max_events, crossings;
	char text[4096], usage[64];
	ssize_t n;

	if (m->version == 1) {
		if (read(fd, &crossings, sizeof(crossings)) != sizeof(crossings))
			return false;
		/* The limiting cgroup's usage: the threshold is on it. */
		if (read_small(m->limit_dir, "memory.usage_in_bytes", usage, sizeof(usage)))
			return false;
		m->usage_bytes = strtoull(usage, NULL, 10);
		snprintf(why, size, "usage reached %u%% of the limit", m->threshold_percent);
		return m->usage_bytes >= m->threshold_bytes;
	}
	n = pread(fd, text, sizeof(text) - 1, 0); /* read again, the change is seen */
	if (n <= 0 || memcg_refresh(m))
		return false;
	if (m->max_events > max)
		snprintf(why, size, "memory.max reached (%llu more times)",
			 (unsigned long long)(m->max_events - max));
	else if (m->high_events > high)
		snprintf(why, size, "memory.high exceeded (%llu more times)",
			 (unsigned long long)(m->high_events - high));
	return m->max_events > max || m->high_events > high;
}
