// SPDX-License-Identifier: MIT
/*
 * tracefs uprobe events (uprobe_events.h).  A definition is one line written
 * to uprobe_events: "p:GROUP/NAME PATH:0xOFFSET" (r: for a return probe),
 * removed with "-:GROUP/NAME" once no perf event has it open.  The janitor
 * is a grandchild of leaksnoop (so no one waits for it) that holds the read
 * end of a pipe whose write end every process of the instance inherits: end
 * of file means all of them are gone, their perf events closed with them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/keeper.h"
#include "uprobe_events.h"

#define GROUP_PREFIX "leaksnoop_"
/* A definition still held by a closing event is retried for this long. */
#define REMOVE_RETRY_MS 5000

static const char *const tracefs_roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

struct uprobe_events {
	char root[64];     /* the tracefs mount used */
	char group[32];    /* "leaksnoop_PID" */
	unsigned defined;  /* names p0, p1, ... */
	int keepalive_fd;  /* the write end of the janitor's pipe, kept open until exit */
	pid_t owner;       /* this leaksnoop, whose group the janitor removes */
	bool verbose;
};

static int write_definition(const char *root, const char *line)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/uprobe_events", root);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		err = -errno;
	close(fd);
	return err;
}

/* The pid in "leaksnoop_PID", or 0 when group is not an instance's. */
static pid_t group_owner(const char *group)
{
	char *end;
	long pid;

	if (strncmp(group, GROUP_PREFIX, strlen(GROUP_PREFIX)))
		return 0;
	pid = strtol(group + strlen(GROUP_PREFIX), &end, 10);
	return *end || pid <= 0 ? 0 : (pid_t)pid;
}

/* Is pid a leaksnoop still running (not a reused pid)? */
static bool instance_alive(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "leaksnoop", 9);
}

/*
 * Remove every definition of the groups owned (owner > 0) or of those whose
 * owner is dead (owner 0), retrying while an event closing elsewhere holds
 * one; returns how many were removed.
 */
static int remove_groups(const char *root, pid_t owner, int retry_ms)
{
	struct timespec pause = { 0, 20 * 1000000L };
	int removed = 0;

	for (int waited = 0;; waited += 20) {
		char path[128], line[4096];
		bool busy = false;
		FILE *f;

		snprintf(path, sizeof(path), "%s/uprobe_events", root);
		f = fopen(path, "re");
		if (!f)
			return removed;
		while (fgets(line, sizeof(line), f)) {
			char group[64], name[64], remove[160];
			pid_t pid;

			if (sscanf(line, "%*c:%63[^/]/%63s", group, name) != 2)
				continue;
			pid = group_owner(group);
			if (!pid || (owner ? pid != owner : instance_alive(pid)))
				continue;
			snprintf(remove, sizeof(remove), "-:%s/%s\n", group, name);
			if (write_definition(root, remove))
				busy = true;
			else
				removed++;
		}
		fclose(f);
		if (!busy || waited >= retry_ms)
			return removed;
		nanosleep(&pause, NULL);
	}
}

/* The janitor's job (common/keeper.h), once the run and its event closer are gone. */
static void remove_own_groups(int kept, void *arg)
{
	struct uprobe_events *ev = arg;

	(void)kept;
	remove_groups(ev->root, ev->owner, REMOVE_RETRY_MS);
}

static int start_janitor(struct uprobe_events *ev)
{
	int fd;

	ev->owner = getpid();
	fd = keeper_start("leaksnoop-clean", -1, remove_own_groups, ev);
	if (fd < 0)
		return fd;
	ev->keepalive_fd = fd;
	return 0;
}

int uprobe_events_new(struct uprobe_events **out, bool verbose)
{
	struct uprobe_events *ev = calloc(1, sizeof(*ev));
	int err = -ENOENT;

	if (!ev)
		return -ENOMEM;
	ev->keepalive_fd = -1;
	ev->verbose = verbose;
	snprintf(ev->group, sizeof(ev->group), GROUP_PREFIX "%d", (int)getpid());
	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(*tracefs_roots) && err; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/uprobe_events", tracefs_roots[i]);
		if (access(path, W_OK)) {
			if (errno != ENOENT || err == -ENOENT)
				err = errno == ENOENT && err != -ENOENT ? err : -errno;
			continue;
		}
		snprintf(ev->root, sizeof(ev->root), "%s", tracefs_roots[i]);
		err = 0;
	}
	if (!err) {
		int stale = remove_groups(ev->root, 0, 0);

		if (stale && verbose)
			fprintf(stderr, "leaksnoop: removed %d uprobe event%s left by a leaksnoop that "
				"was killed\n", stale, stale == 1 ? "" : "s");
		err = start_janitor(ev);
	}
	if (err) {
		free(ev);
		return err;
	}
	*out = ev;
	return 0;
}

int uprobe_events_take_keepalive(struct uprobe_events *ev)
{
	int fd = ev ? ev->keepalive_fd : -1;

	if (ev)
		ev->keepalive_fd = -1;
	return fd;
}

void uprobe_events_free(struct uprobe_events *ev)
{
	if (!ev)
		return;
	/* The janitor removes the definitions once every event is closed. */
	if (ev->keepalive_fd >= 0)
		close(ev->keepalive_fd);
	free(ev);
}

static long read_id(const char *root, const char *group, const char *name)
{
	char path[192];
	long id = -EINVAL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", root, group, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%ld", &id) != 1)
		id = -EINVAL;
	fclose(f);
	return id;
}

long uprobe_events_define(struct uprobe_events *ev, const char *path, uint64_t offset,
			  bool retprobe)
{
	char name[32], line[4352];
	int err;

	/* tracefs splits the line at spaces: such a path cannot be named there. */
	if (strpbrk(path, " \t\n") || strlen(path) > 4096)
		return -EINVAL;
	snprintf(name, sizeof(name), "%c%u", retprobe ? 'r' : 'p', ev->defined++);
	snprintf(line, sizeof(line), "%c:%s/%s %s:0x%llx\n", retprobe ? 'r' : 'p', ev->group,
		 name, path, (unsigned long long)offset);
	err = write_definition(ev->root, line);
	return err ? err : read_id(ev->root, ev->group, name);
}
