// SPDX-License-Identifier: MIT
/*
 * --near-limit: an extra report when the target's memory cgroup nears the
 * limit that binds it, before the OOM killer has to choose (target/memcg.h
 * says how the kernel tells it, v1 and v2).  The cgroup is looked up again
 * at each report: a command may move itself into one after its start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "report/report.h"
#include "session_state.h"
#include "target/memcg.h"

struct pressure_watch {
	struct memcg memcg;
	bool watching;
	int fd;
	short events;
	unsigned long long last_report_ns; /* at most one extra report an interval */
	struct report_pressure pressure;
};

struct pressure_watch *pressure_watch_new(const struct session *s)
{
	struct pressure_watch *w;

	if (!s->pid || s->more_targets || !s->opts->near_limit_percent)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fd = -1;
	pressure_watch_rearm(w, s);
	return w;
}

static void unwatch(struct pressure_watch *w)
{
	if (w->watching)
		memcg_unwatch(&w->memcg, w->fd);
	w->watching = false;
	w->fd = -1;
}

void pressure_watch_free(struct pressure_watch *w)
{
	if (!w)
		return;
	unwatch(w);
	free(w);
}

int pressure_watch_fd(const struct pressure_watch *w, short *events)
{
	*events = w ? w->events : 0;
	return w && w->watching ? w->fd : -1;
}

void pressure_watch_rearm(struct pressure_watch *w, const struct session *s)
{
	struct memcg now;
	int fd;

	if (!w || memcg_read(s->pid, &now))
		return;
	if (w->watching && !strcmp(now.dir, w->memcg.dir) &&
	    now.limit_bytes == w->memcg.limit_bytes)
		return; /* the same cgroup and limit: the same watch */
	unwatch(w);
	w->memcg = now;
	fd = memcg_watch(&w->memcg, s->opts->near_limit_percent, &w->events);
	if (fd < 0)
		return; /* no limit (v1), or no memory.events */
	w->fd = fd;
	w->watching = true;
	if (s->opts->verbose)
		fprintf(stderr, "leaksnoop: pid %d is in memory cgroup %s (v%d%s): a report when it "
			"nears its limit\n", (int)s->pid, w->memcg.path, w->memcg.version,
			w->memcg.limit_bytes ? "" : ", no limit yet");
}

int pressure_watch_handle(struct pressure_watch *w, struct session *s, struct report_state *st)
{
	unsigned long long now = monotonic_ns();
	unsigned long long interval_ns = (unsigned long long)s->opts->interval_s * 1000000000ULL;

	if (!w || !w->watching ||
	    !memcg_watch_fired(&w->memcg, w->fd, w->pressure.why, sizeof(w->pressure.why)))
		return 0;
	if (w->last_report_ns && now - w->last_report_ns < interval_ns)
		return 0;
	w->last_report_ns = now;
	w->pressure.memcg = &w->memcg;
	fprintf(stderr, "leaksnoop: pid %d's memory cgroup %s: %s: writing a report\n",
		(int)s->pid, w->memcg.path, w->pressure.why);
	return write_pressure_report(s, st, &w->pressure);
}
