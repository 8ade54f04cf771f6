// SPDX-License-Identifier: MIT
/*
 * --escalate: growth mode, left on, turns exact for a while when the target
 * keeps growing.  After each growth report the new memory it showed is
 * counted; once --escalate-after reports in a row showed --escalate-bytes or
 * more, the allocator's probes are attached to the target in a tracer of
 * their own, beside the page-fault tracepoint that keeps running; its exact
 * reports ("escalated") take the growth reports' place for --escalate-for
 * seconds, then it is detached and growth mode reports again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/allocator.h"
#include "attach/tracer.h"
#include "collect/aggregate.h"
#include "collect/collect.h"
#include "common/clock.h"
#include "run.h"
#include "verdict/leak_check.h"
#include "session_state.h"

struct escalation {
	unsigned growing_reports;     /* growth reports in a row that grew enough */
	uint64_t grown_before;        /* new memory since attach at the previous report */
	bool active;
	bool given_up;                /* it cannot be done for this target: said once */
	unsigned long long until_ns;  /* CLOCK_MONOTONIC when it ends */
	struct allocator alloc;
	struct tracer tracer;
	struct collector *collector;
	struct leak_check *leak_check; /* --leak-check: its table's verdicts, or NULL */
	struct report_state st;       /* the exact reports' trends */
};

struct escalation *escalation_new(const struct session *s)
{
	return s->opts->escalate ? calloc(1, sizeof(struct escalation)) : NULL;
}

/* Detach the exact probes; growth mode goes on. */
static void stop_exact(struct escalation *e, const struct session *s)
{
	leak_check_free(e->leak_check);
	e->leak_check = NULL;
	tracer_destroy(&e->tracer, s->opts->verbose);
	collector_free(e->collector);
	report_state_free(&e->st);
	memset(&e->tracer, 0, sizeof(e->tracer));
	memset(&e->st, 0, sizeof(e->st));
	e->collector = NULL;
	e->active = false;
	e->growing_reports = 0;
}

/* The allocator's probes on the target, in a tracer of their own.  0 or -errno. */
static int start_exact(struct escalation *e, struct session *s)
{
	const struct options *o = s->opts;
	struct tracer_config cfg;
	int err;

	run_tracer_config(o, s->pid, &cfg);
	cfg.growth = false; /* the options' growth mode is what goes on beside it */
	if (run_find_allocator(o, s->pid, NULL, &e->alloc))
		return -ENOENT; /* said */
	err = tracer_load(&e->tracer, &cfg);
	if (!err)
		err = tracer_attach_allocator(&e->tracer, s->pid, &e->alloc, o->verbose) ? -EIO : 0;
	if (!err && !o->no_mmap)
		err = tracer_attach_mmap(&e->tracer, o->verbose) ? -EIO : 0;
	if (!err) {
		e->collector = run_new_collector(&e->tracer, o);
		err = e->collector ? report_state_init(&e->st, s) : -ENOMEM;
	}
	/* --leak-check: verdicts on this table's blocks (mid-life, as -p's); -c's is ptrace'd. */
	if (!err && o->leak_check &&
	    !(e->leak_check = run_new_leak_check(o, s->pid, &e->tracer, s->child != NULL)))
		err = -errno;
	if (!err) {
		/* Its trends start now, not at attach. */
		e->st.prev_ns = monotonic_ns();
		growth_history_set_start(e->st.history, e->st.prev_ns);
	}
	if (err) {
		stop_exact(e, s);
		return err;
	}
	e->active = true;
	return 0;
}

void escalation_after_report(struct escalation *e, struct session *s,
			     const struct report_state *st)
{
	const struct options *o = s->opts;
	uint64_t grown;
	int err;

	if (!e || e->active || e->given_up)
		return;
	grown = st->alloc_bytes_seen - e->grown_before;
	e->grown_before = st->alloc_bytes_seen;
	e->growing_reports = grown >= o->escalate_bytes ? e->growing_reports + 1 : 0;
	if (e->growing_reports < o->escalate_after)
		return;
	err = start_exact(e, s);
	if (err) {
		e->given_up = true;
		fprintf(stderr, "leaksnoop: cannot trace pid %d exactly (%s): growth mode goes on, "
			"without escalation\n", (int)s->pid, strerror(-err));
		return;
	}
	e->until_ns = monotonic_ns() + (unsigned long long)o->escalate_for_s * 1000000000ULL;
	e->st.seq = st->seq;
	fprintf(stderr, "leaksnoop: pid %d grew %u reports in a row (%llu bytes in the last): "
		"tracing its allocations exactly for %u s (%s)\n", (int)s->pid, e->growing_reports,
		(unsigned long long)grown, o->escalate_for_s, e->alloc.name);
}

bool escalation_active(const struct escalation *e)
{
	return e && e->active;
}

int escalation_write_report(struct escalation *e, struct session *s, struct report_state *st,
			    bool final, bool exited)
{
	struct collector *growth = s->collector;
	bool ending = final || monotonic_ns() >= e->until_ns;
	int err;

	/* The same writers, given the exact tracer's maps (and its leak check). */
	s->collector = e->collector;
	s->leak_check = e->leak_check;
	s->escalated = true;
	err = write_report(s, &e->st, final, exited);
	s->escalated = false;
	s->leak_check = NULL;
	s->collector = growth;
	st->seq = e->st.seq;
	if (ending) {
		stop_exact(e, s);
		e->grown_before = st->alloc_bytes_seen;
		if (!final)
			fprintf(stderr, "leaksnoop: pid %d: exact tracing ended, back to growth mode\n",
				(int)s->pid);
	}
	return err;
}

void escalation_free(struct escalation *e, const struct session *s)
{
	if (!e)
		return;
	if (e->active)
		stop_exact(e, s);
	free(e);
}
