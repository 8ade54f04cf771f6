// SPDX-License-Identifier: MIT
/* --listen's /metrics: the Prometheus text exposition format, version 0.0.4. */
#include <inttypes.h>
#include <stdio.h>

#include "report.h"

static void write_label_value(FILE *out, const char *value)
{
	fputc('"', out);
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', out);
		if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void metric_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void process_metric(FILE *out, const struct report *r, const char *name,
			   const char *type, const char *help, uint64_t value)
{
	metric_head(out, name, type, help);
	fprintf(out, "%s{pid=\"%d\",comm=", name, (int)r->pid);
	write_label_value(out, r->comm);
	fprintf(out, "} %" PRIu64 "\n", value);
}

/*
 * Per stack: a stable label (the stack's hash), its allocation site,
 * readable, and the process holding it: one stack in two processes is two
 * series.  System-wide, its cgroup and container too.
 */
static void stack_labels(FILE *out, const struct report_stack *s)
{
	const struct frame *site = s->depth ? &s->frames[0] : NULL;

	fprintf(out, "{stack=\"%016" PRIx64 "\",kind=\"%s\",site=", (uint64_t)s->row->sample->key.stack_hash,
		kind_name(s->row->sample->key.kind));
	write_label_value(out, site && site->symbol ? site->symbol : "[unknown]");
	fprintf(out, ",pid=\"%d\"", (int)s->pid);
	if (s->cgroup) {
		fputs(",cgroup=", out);
		write_label_value(out, s->cgroup);
	}
	if (s->container_id) {
		fputs(",container_id=", out);
		write_label_value(out, s->container_id);
	}
	fputc('}', out);
}

/* --leak-check: the last check's verdicts, per process and per stack. */
static void write_verdict_metrics(FILE *out, const struct report *r)
{
	static const char *const help[VERDICT_COUNT] = {
		"Bytes in blocks no pointer reaches (last leak check).",
		"Bytes in blocks reached only from lost blocks (last leak check).",
		"Bytes in blocks reached only by pointers into their interior (last leak check).",
		"Bytes in blocks reached from the roots (last leak check).",
	};

	for (int v = 0; v < VERDICT_COUNT; v++) {
		char name[80];

		snprintf(name, sizeof(name), "leaksnoop_%s_bytes", verdict_name((enum verdict)v));
		process_metric(out, r, name, "gauge", help[v], r->verdicts.of[v].bytes);
	}
	metric_head(out, "leaksnoop_leak_check_frozen_seconds", "gauge",
		    "How long the last leak check held the target.");
	fprintf(out, "leaksnoop_leak_check_frozen_seconds{pid=\"%d\",comm=", (int)r->pid);
	write_label_value(out, r->comm);
	fprintf(out, "} %.6f\n", r->leak_check->frozen_ms / 1000.0);
	metric_head(out, "leaksnoop_stack_lost_bytes", "gauge",
		    "Definitely and indirectly lost bytes of one allocation stack (last leak check).");
	for (size_t i = 0; i < r->stack_count; i++) {
		const struct reachability *reach = r->stacks[i].reach;

		if (!reach || r->stacks[i].suppressed_by)
			continue;
		fputs("leaksnoop_stack_lost_bytes", out);
		stack_labels(out, &r->stacks[i]);
		fprintf(out, " %llu\n", (unsigned long long)reachability_lost(reach).bytes);
	}
}

void report_write_metrics(FILE *out, const struct report *r)
{
	process_metric(out, r, "leaksnoop_outstanding_bytes", "gauge",
		       "Bytes held now in blocks older than the age threshold.",
		       (uint64_t)r->outstanding_bytes);
	process_metric(out, r, "leaksnoop_outstanding_allocs", "gauge",
		       "Blocks held now, older than the age threshold.",
		       (uint64_t)r->outstanding_allocs);
	process_metric(out, r, "leaksnoop_allocated_bytes_total", "counter",
		       "Bytes allocated since attach.", r->alloc_bytes);
	process_metric(out, r, "leaksnoop_allocations_total", "counter",
		       "Blocks allocated since attach.", r->allocs);
	process_metric(out, r, "leaksnoop_frees_total", "counter",
		       "Blocks allocated since attach and freed.", r->frees);
	process_metric(out, r, "leaksnoop_dropped_events_total", "counter",
		       "Allocations not recorded because a map was full.", r->dropped_events);
	process_metric(out, r, "leaksnoop_dropped_stacks_total", "counter",
		       "Stacks not captured or not stored.", r->dropped_stacks);
	if (r->threads_tracked) {
		process_metric(out, r, "leaksnoop_threads_live", "gauge",
			       "Threads created since attach and running.", r->threads_live);
		process_metric(out, r, "leaksnoop_threads_leaked", "gauge",
			       "Threads exited but never joined nor detached.", r->threads_leaked);
	}
	if (r->goroutines_tracked) {
		process_metric(out, r, "leaksnoop_goroutines_live", "gauge",
			       "Goroutines started since attach and running.", r->goroutines_live);
		process_metric(out, r, "leaksnoop_goroutines_preexisting", "gauge",
			       "Goroutines alive at attach and still running.",
			       r->goroutines_preexisting);
	}
	if (r->memory.read) {
		process_metric(out, r, "leaksnoop_rss_anon_bytes", "gauge",
			       "The target's resident anonymous memory.",
			       r->memory.now.rss_anon_bytes);
		process_metric(out, r, "leaksnoop_unexplained_bytes", "gauge",
			       "Resident anonymous memory the tracked blocks and regions do not "
			       "account for.", (uint64_t)r->memory.unexplained_bytes);
	}
	if (r->fds_tracked) {
		process_metric(out, r, "leaksnoop_fds_open", "gauge",
			       "Descriptors opened since attach and still open.", (uint64_t)r->fds_open);
		process_metric(out, r, "leaksnoop_fds_opened_total", "counter",
			       "Descriptors opened since attach.", r->fds_opened);
		metric_head(out, "leaksnoop_stack_open_fds", "gauge",
			    "Descriptors one stack opened and has not closed (top stacks).");
		for (size_t i = 0; i < r->stack_count; i++) {
			if (r->stacks[i].row->sample->key.kind != LS_KIND_FD)
				continue;
			fputs("leaksnoop_stack_open_fds", out);
			stack_labels(out, &r->stacks[i]);
			fprintf(out, " %" PRId64 "\n", r->stacks[i].row->count);
		}
	}
	process_metric(out, r, "leaksnoop_oom_kills_total", "counter",
		       "Traced processes the kernel's OOM killer chose since attach.", r->oom_kills);
	if (r->go_heap_read) {
		process_metric(out, r, "leaksnoop_go_heap_inuse_bytes", "gauge",
			       "The Go heap in use, as the runtime's memory profile has it.",
			       (uint64_t)r->go_heap.inuse_bytes);
		process_metric(out, r, "leaksnoop_go_heap_inuse_objects", "gauge",
			       "Go objects in use, as the runtime's memory profile has it.",
			       (uint64_t)r->go_heap.inuse_objects);
	}
	metric_head(out, "leaksnoop_stack_outstanding_bytes", "gauge",
		    "Bytes held by one allocation stack (top stacks).");
	for (size_t i = 0; i < r->stack_count; i++) {
		fputs("leaksnoop_stack_outstanding_bytes", out);
		stack_labels(out, &r->stacks[i]);
		fprintf(out, " %" PRId64 "\n", r->stacks[i].row->bytes);
	}
	metric_head(out, "leaksnoop_stack_allocated_bytes_total", "counter",
		    "Bytes one stack allocated since attach (growth mode: new memory it wrote).");
	for (size_t i = 0; i < r->stack_count; i++) {
		fputs("leaksnoop_stack_allocated_bytes_total", out);
		stack_labels(out, &r->stacks[i]);
		fprintf(out, " %" PRIu64 "\n", (uint64_t)r->stacks[i].row->sample->stats.alloc_bytes);
	}
	if (r->leak_check)
		write_verdict_metrics(out, r);
	metric_head(out, "leaksnoop_stack_leak_score_bytes_per_second", "gauge",
		    "Median growth of the stack over the last reports.");
	for (size_t i = 0; i < r->stack_count; i++) {
		fputs("leaksnoop_stack_leak_score_bytes_per_second", out);
		stack_labels(out, &r->stacks[i]);
		fprintf(out, " %.1f\n", r->stacks[i].row->leak_score);
	}
	fflush(out);
}
