// SPDX-License-Identifier: MIT
/*
 * Probes a target's children inherit (tracer.h, tracer_inherit_to_children).
 * Each uprobe of the target is a tracefs event (uprobe_events.c) opened
 * twice over: once for the target with no inherit, the BPF program on it
 * (a tracefs event's programs are the event's, whichever of its perf events
 * fires); and once per thread of the target with inherit and no program, so
 * that fork gives each child a copy before it runs, and with it the uprobe's
 * breakpoints stay in the child's memory.  Inheritance is per thread: a fork
 * from a thread with no such event would not carry it, so the threads are
 * listed again until no new one appears.  A thread created later inherits
 * its creator's events.  Closing the target's events takes every child's
 * copy down with them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "perf_events.h"
#include "tracer.h"
#include "tracer_links.h"
#include "uprobe_events.h"

/* A target's thread ids, read from /proc/PID/task; count or -errno. */
static int list_threads(pid_t pid, pid_t **tids)
{
	char path[64];
	struct dirent *d;
	size_t count = 0, cap = 64;
	pid_t *list = malloc(cap * sizeof(*list));
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir || !list) {
		int err = dir ? -ENOMEM : -errno;

		if (dir)
			closedir(dir);
		free(list);
		return err;
	}
	while ((d = readdir(dir))) {
		long tid = strtol(d->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		if (count == cap) {
			pid_t *grown = realloc(list, 2 * cap * sizeof(*list));

			if (!grown)
				break;
			list = grown;
			cap *= 2;
		}
		list[count++] = (pid_t)tid;
	}
	closedir(dir);
	*tids = list;
	return (int)count;
}

static bool listed(const pid_t *tids, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

/* Keep an inherit event apart: they go first at the end (tracer_close_inherited). */
static int keep_inherit_event(struct tracer *t, int fd)
{
	if (t->inherit_count == t->inherit_cap) {
		size_t grown = t->inherit_cap ? t->inherit_cap * 2 : 64;
		int *fds = realloc(t->inherit_fds, grown * sizeof(*fds));

		if (!fds) {
			close(fd);
			return -ENOMEM;
		}
		t->inherit_fds = fds;
		t->inherit_cap = grown;
	}
	t->inherit_fds[t->inherit_count++] = fd;
	return 0;
}

void tracer_close_inherited(struct tracer *t)
{
	/*
	 * Closed here and first: while one is open, every fork and thread of the
	 * target copies it, and the other events' teardown (~0.1 s each, in the
	 * background) would hold those forks up.  With the target's own event
	 * still open, closing these unregisters nothing: it is quick.
	 */
	for (size_t i = 0; i < t->inherit_count; i++)
		close(t->inherit_fds[i]);
	free(t->inherit_fds);
	t->inherit_fds = NULL;
	t->inherit_count = t->inherit_cap = 0;
}

/* The inherit events of tracepoint id for every thread of the target, new ones included. */
static int open_inherit_events(struct tracer *t, long id)
{
	pid_t *done = NULL, *now = NULL;
	size_t done_count = 0;
	bool grew = true;
	int err = 0;

	while (grew && !err) {
		int n = list_threads(t->inherit_target, &now);

		if (n < 0) {
			err = n;
			break;
		}
		grew = false;
		for (int i = 0; i < n && !err; i++) {
			pid_t *grown;
			int fd;

			if (listed(done, done_count, now[i]))
				continue;
			fd = perf_event_tracepoint_task(id, now[i], true);
			/* A thread that ended since the listing needs nothing. */
			if (fd == -ESRCH)
				continue;
			if (fd < 0) {
				err = fd;
				break;
			}
			err = keep_inherit_event(t, fd);
			grown = realloc(done, (done_count + 1) * sizeof(*done));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			done = grown;
			done[done_count++] = now[i];
			grew = true;
		}
		free(now);
	}
	free(done);
	return err;
}

int tracer_attach_inherited_uprobe(struct tracer *t, struct bpf_program *prog, const char *path,
				   uint64_t offset, bool retprobe)
{
	long id = uprobe_events_define(t->inherit, path, offset, retprobe);
	int fd, err;

	if (id < 0) /* a path tracefs cannot name: the children get theirs when seen */
		return tracer_attach_uprobe_pmu(t, prog, t->inherit_target, path, offset, retprobe);
	fd = perf_event_tracepoint_task(id, t->inherit_target, false);
	if (fd < 0)
		return fd;
	err = tracer_attach_through_event(t, prog, fd);
	return err ? err : open_inherit_events(t, id);
}

/*
 * Beyond this many threads at attach the target's children are attached
 * when seen instead: an event per probe and thread would cost more
 * descriptors and kernel memory than a short window in its children.
 */
#define MAX_INHERIT_THREADS 1024
/* Descriptors an instance may need: probes (~30) times threads, and the rest. */
#define FILES_PER_THREAD 40

/* An event per probe and thread: as many descriptors as that takes, if allowed. */
static bool raise_file_limit(size_t threads)
{
	rlim_t want = (rlim_t)(threads * FILES_PER_THREAD + 4096);
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit))
		return false;
	if (limit.rlim_cur >= want)
		return true;
	limit.rlim_cur = want;
	if (limit.rlim_max < want)
		limit.rlim_max = want; /* root may raise it up to fs.nr_open */
	return !setrlimit(RLIMIT_NOFILE, &limit);
}

int tracer_inherit_to_children(struct tracer *t, pid_t target, bool verbose)
{
	pid_t *tids;
	int threads = list_threads(target, &tids), err;

	if (threads > 0)
		free(tids);
	if (threads < 0 || threads > MAX_INHERIT_THREADS || !raise_file_limit((size_t)threads)) {
		if (verbose)
			fprintf(stderr, "leaksnoop: %d threads: the target's children cannot "
				"inherit its probes\n", threads);
		return -E2BIG;
	}
	err = uprobe_events_new(&t->inherit, verbose);
	if (err) {
		if (verbose)
			fprintf(stderr, "leaksnoop: tracefs uprobe_events cannot be written (%s): "
				"the target's children cannot inherit its probes\n", strerror(-err));
		return err;
	}
	t->inherit_target = target;
	if (verbose)
		fprintf(stderr, "leaksnoop: uprobes as tracefs events that the target's children "
			"inherit (traced from their first instruction)\n");
	return 0;
}

bool tracer_children_inherit(const struct tracer *t)
{
	return t->inherit != NULL;
}
