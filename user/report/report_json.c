// SPDX-License-Identifier: MIT
/* -f json: one object per report, one line each, as ../INTERFACE.md defines. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attach/late_allocators.h"
#include "json_writer.h"
#include "report.h"

/* One frame object, under key (NULL in an array). */
static void write_frame(struct json_writer *w, const char *key, const struct frame *f)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)f->addr);
	json_object_begin(w, key);
	json_string(w, "addr", addr);
	json_string(w, "symbol", f->symbol ? f->symbol : "[unknown]");
	json_uint(w, "offset", f->offset);
	if (f->module)
		json_string(w, "module", f->module);
	if (f->file) {
		json_string(w, "file", f->file);
		json_int(w, "line", f->line);
	}
	json_object_end(w);
}

static void write_frames(struct json_writer *w, const struct frame *frames, size_t depth)
{
	json_array_begin(w, "frames");
	for (size_t i = 0; i < depth; i++)
		write_frame(w, NULL, &frames[i]);
	json_array_end(w);
}

/* --leak-check: bytes and blocks per verdict. */
static void write_reachability(struct json_writer *w, const char *key,
			       const struct reachability *reach)
{
	json_object_begin(w, key);
	for (int v = 0; v < VERDICT_COUNT; v++) {
		json_object_begin(w, verdict_name((enum verdict)v));
		json_uint(w, "bytes", reach->of[v].bytes);
		json_uint(w, "allocs", reach->of[v].allocs);
		json_object_end(w);
	}
	json_object_end(w);
}

/* --leak-check, per report: how the check went and what it found. */
static void write_leak_check(struct json_writer *w, const struct report *r)
{
	const struct leak_check_result *lc = r->leak_check;
	static const char *const heuristics[HEURISTIC_COUNT] = {
		[HEURISTIC_STDSTRING] = "stdstring", [HEURISTIC_LENGTH64] = "length64",
		[HEURISTIC_NEWARRAY] = "newarray",
		[HEURISTIC_MULTIPLE_INHERITANCE] = "multipleinheritance",
	};

	json_object_begin(w, "leak_check");
	if (!lc) {
		json_string(w, "skipped", r->leak_check_skipped);
		json_object_end(w);
		return;
	}
	json_double(w, "frozen_ms", lc->frozen_ms);
	json_double(w, "mark_ms", lc->mark_ms);
	json_uint(w, "copied_bytes", lc->copied_bytes);
	json_uint(w, "scanned_bytes", lc->scanned_bytes);
	json_uint(w, "unreadable_bytes", lc->unreadable_bytes);
	json_uint(w, "blocks", lc->blocks);
	json_bool(w, "allocator_memory_scanned", !lc->exact);
	for (int v = 0; v < VERDICT_COUNT; v++) {
		char key[48];

		snprintf(key, sizeof(key), "%s_bytes", verdict_name((enum verdict)v));
		json_uint(w, key, r->verdicts.of[v].bytes);
		snprintf(key, sizeof(key), "%s_allocs", verdict_name((enum verdict)v));
		json_uint(w, key, r->verdicts.of[v].allocs);
	}
	json_uint(w, "suppressed_bytes", reachability_all(&r->suppressed).bytes);
	json_uint(w, "suppressed_allocs", reachability_all(&r->suppressed).allocs);
	json_object_begin(w, "reachable_via_heuristic");
	for (int h = 1; h < HEURISTIC_COUNT; h++)
		json_uint(w, heuristics[h], lc->heuristic_blocks[h]);
	json_object_end(w);
	json_object_end(w);
}

/* The target's memory beside what is tracked (report.h's struct report_memory). */
static void write_memory(struct json_writer *w, const struct report_memory *m)
{
	json_object_begin(w, "memory");
	json_uint(w, "rss_bytes", m->now.rss_bytes);
	json_uint(w, "rss_anon_bytes", m->now.rss_anon_bytes);
	json_uint(w, "rss_file_bytes", m->now.rss_file_bytes);
	json_uint(w, "rss_shmem_bytes", m->now.rss_shmem_bytes);
	json_uint(w, "swap_bytes", m->now.swap_bytes);
	json_int(w, "held_bytes", m->held_bytes);
	json_int(w, "unexplained_bytes", m->unexplained_bytes);
	json_int(w, "rss_anon_growth_bytes", m->anon_growth_bytes);
	json_int(w, "held_growth_bytes", m->held_growth_bytes);
	json_object_end(w);
}

/* Allocators probed after attach, and how long each ran unprobed after its mapping. */
static void write_late_allocators(struct json_writer *w, const struct report *r)
{
	json_array_begin(w, "late_allocators");
	for (size_t i = 0; i < r->late_allocator_count; i++) {
		const struct late_allocator *a = &r->late_allocators[i];

		json_object_begin(w, NULL);
		json_int(w, "pid", a->pid);
		json_string(w, "path", a->path);
		json_string(w, "allocator", a->name);
		json_double(w, "probed_after_ms", a->probed_after_ms);
		json_object_end(w);
	}
	json_array_end(w);
}

/* A descriptor stack's open ones by type, and its sockets by family. */
static void write_fd_types(struct json_writer *w, const struct fd_type_counts *types)
{
	int64_t by_name[LS_FD_TYPES] = { 0 };
	const char *names[LS_FD_TYPES];
	size_t named = 0;

	/* The socket types share one name: summed. */
	for (uint32_t t = 0; t < LS_FD_TYPES; t++) {
		const char *name = fd_type_name(t, NULL);
		size_t at = 0;

		while (at < named && strcmp(names[at], name))
			at++;
		if (at == named)
			names[named++] = name;
		by_name[at] += types->open[t] > 0 ? types->open[t] : 0;
	}
	json_object_begin(w, "fd_types");
	for (size_t i = 0; i < named; i++)
		if (by_name[i])
			json_int(w, names[i], by_name[i]);
	json_object_end(w);
	json_object_begin(w, "socket_families");
	for (uint32_t t = 0; t < LS_FD_TYPES; t++) {
		const char *family;

		fd_type_name(t, &family);
		if (family && types->open[t] > 0)
			json_int(w, family, types->open[t]);
	}
	json_object_end(w);
}

static void write_stack(struct json_writer *w, const struct report_stack *stack)
{
	const struct stack_row *row = stack->row;
	const struct stack_stats *stats = &row->sample->stats;
	char id[24];

	snprintf(id, sizeof(id), "%016llx", (unsigned long long)row->sample->key.stack_hash);
	json_object_begin(w, NULL);
	json_string(w, "kind", kind_name(row->sample->key.kind));
	json_string(w, "stack_id", id);
	json_int(w, "pid", stack->pid);
	if (stack->comm && stack->comm[0])
		json_string(w, "comm", stack->comm);
	if (stack->cgroup)
		json_string(w, "cgroup", stack->cgroup);
	if (stack->container_id)
		json_string(w, "container_id", stack->container_id);
	if (stack->process_exited)
		json_bool(w, "process_exited", true);
	json_int(w, "outstanding_bytes", row->bytes);
	json_int(w, "outstanding_allocs", row->count);
	json_int(w, "outstanding_bytes_all_ages", stats->outstanding_bytes);
	json_int(w, "outstanding_allocs_all_ages", stats->outstanding_count);
	json_uint(w, "alloc_bytes", stats->alloc_bytes);
	json_uint(w, "allocs", stats->alloc_count);
	if (row->sample->key.kind == LS_KIND_FD) {
		/* Descriptors have no size: open ones a second. */
		json_double(w, "growth_per_s", row->growth_bytes_per_s);
		json_double(w, "growth_total_per_s", row->growth_total_bytes_per_s);
		write_fd_types(w, &stack->fd_types);
	} else {
		json_double(w, "growth_bytes_per_s", row->growth_bytes_per_s);
		json_double(w, "growth_total_bytes_per_s", row->growth_total_bytes_per_s);
	}
	json_double(w, "leak_score", row->leak_score);
	json_uint(w, "grew_intervals", row->grew_intervals);
	json_bool(w, "plateaued", row->plateaued);
	json_uint(w, "oldest_age_ms", row->oldest_age_ms);
	json_string(w, "stack_quality", stack->complete ? "complete" : "truncated");
	if (stack->no_fp_module)
		json_string(w, "no_frame_pointers_in", stack->no_fp_module);
	if (stack->reach)
		write_reachability(w, "reachability", stack->reach);
	if (stack->suppressed_by)
		json_string(w, "suppressed", stack->suppressed_by);
	write_frames(w, stack->frames, stack->depth);
	json_object_end(w);
}

/* The runtime's states of a group's goroutines: {"chan receive": 30, ...}. */
static void write_goroutine_states(struct json_writer *w, const struct report *r,
				   const struct goroutine_group *g)
{
	json_object_begin(w, "states");
	for (unsigned slot = 0; slot < GO_STATE_SLOTS; slot++) {
		char unnamed[32];
		const char *name;

		if (!g->states[slot])
			continue;
		name = slot >= GO_STATE_WAIT ?
			go_state_name(r->go_reasons, GO_STATUS_WAITING, slot - GO_STATE_WAIT) :
			go_state_name(r->go_reasons, slot, 0);
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "wait reason %u", slot - GO_STATE_WAIT);
			name = unnamed;
		}
		json_uint(w, name, g->states[slot]);
	}
	json_object_end(w);
}

static void write_goroutine_group(struct json_writer *w, const struct report *r,
				  const struct report_goroutine *rg)
{
	const struct goroutine_group *g = rg->group;

	json_object_begin(w, NULL);
	json_string(w, "state", "live");
	json_uint(w, "count", g->live);
	json_double(w, "growth_per_s", g->growth_per_s);
	json_uint(w, "created", g->created);
	json_uint(w, "exited", g->exited);
	if (r->goroutine_list_read) {
		json_uint(w, "preexisting", g->preexisting);
		write_goroutine_states(w, r, g);
		if (g->waiting_count) {
			write_frame(w, "waiting_in", &rg->waiting_in);
			json_uint(w, "waiting_in_count", g->waiting_count);
		}
	}
	write_frames(w, rg->frames, rg->depth);
	json_object_end(w);
}

static void write_thread_group(struct json_writer *w, const struct report_thread *t)
{
	const struct thread_group *g = t->group;

	json_object_begin(w, NULL);
	json_string(w, "state", thread_state_name(g->state));
	json_int(w, "pid", t->pid);
	json_uint(w, "count", g->count);
	json_uint(w, "stack_bytes", g->stack_bytes);
	json_uint(w, "created", g->created);
	json_uint(w, "gone", g->gone);
	if (g->state == THREAD_LIVE)
		json_double(w, "growth_per_s", g->growth_per_s);
	write_frames(w, t->frames, t->depth);
	json_object_end(w);
}

/* The OOM killer's choice: the victim's size then, and the cgroup whose limit it met. */
/* A memory cgroup, its usage and the limit that binds it (when one does). */
static void write_memcg(struct json_writer *w, const struct memcg *m)
{
	json_string(w, "cgroup", m->path);
	json_uint(w, "cgroup_version", (uint64_t)m->version);
	json_uint(w, "cgroup_usage_bytes", m->usage_bytes);
	if (m->limit_bytes) {
		json_uint(w, "cgroup_limit_bytes", m->limit_bytes);
		json_string(w, "cgroup_limit_set_by", m->limit_path);
	}
}

static void write_oom(struct json_writer *w, const struct oom_kill *kill)
{
	json_object_begin(w, "oom");
	json_int(w, "pid", kill->tgid);
	json_string(w, "comm", kill->comm);
	json_int(w, "chosen_by_pid", kill->chooser);
	json_uint(w, "total_vm_bytes", kill->total_vm_bytes);
	json_uint(w, "rss_anon_bytes", kill->rss_anon_bytes);
	json_uint(w, "rss_file_bytes", kill->rss_file_bytes);
	json_uint(w, "rss_shmem_bytes", kill->rss_shmem_bytes);
	if (kill->memcg_read) {
		write_memcg(w, &kill->memcg);
		json_bool(w, "cgroup_limit_reached", kill->limit_reached);
		json_uint(w, "cgroup_oom_kills", kill->memcg.oom_kills);
	}
	json_object_end(w);
}

/* Why this report was written now: the target's memory cgroup nears its limit. */
static void write_pressure(struct json_writer *w, const struct report_pressure *p)
{
	json_object_begin(w, "memory_pressure");
	json_string(w, "reason", p->why);
	write_memcg(w, p->memcg);
	json_object_end(w);
}

/* The most held since attach, and the top stacks as they were then. */
static void write_peak(struct json_writer *w, const struct report_peak *peak)
{
	char when[32];
	struct tm tm;

	gmtime_r(&peak->wall_time.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_begin(w, "peak");
	json_int(w, "held_bytes", peak->held_bytes);
	json_int(w, "held_allocs", peak->held_allocs);
	json_string(w, "time", when);
	json_double(w, "elapsed_s", peak->elapsed_s);
	json_uint(w, "seq", peak->seq);
	json_array_begin(w, "stacks");
	for (size_t i = 0; i < peak->stack_count; i++)
		write_stack(w, &peak->stacks[i]);
	json_array_end(w);
	json_object_end(w);
}

void report_write_json(FILE *out, const struct report *r)
{
	struct json_writer w;
	char when[32];
	struct tm tm;

	gmtime_r(&r->wall_time.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_init(&w, out);
	json_object_begin(&w, NULL);
	json_string(&w, "type", "report");
	json_uint(&w, "seq", r->seq);
	json_string(&w, "time", when);
	json_double(&w, "elapsed_s", r->elapsed_s);
	json_int(&w, "pid", r->pid);
	json_string(&w, "comm", r->comm);
	json_bool(&w, "final", r->final);
	json_bool(&w, "target_exited", r->target_exited);
	if (r->oom)
		json_bool(&w, "oom_killed", true);
	if (r->escalated)
		json_bool(&w, "escalated", true);
	json_string(&w, "mode", r->growth ? "growth" : r->sample_rate > 1 ? "sampled" : "exact");
	json_uint(&w, "sample_rate", r->sample_rate);
	json_string(&w, "unwind", r->unwind_dwarf ? "dwarf" : "fp");
	json_string(&w, "allocator", r->allocator);
	json_uint(&w, "older_than_ms", r->older_ms);
	json_double(&w, "report_ms", r->report_ms);

	json_object_begin(&w, "totals");
	json_int(&w, "outstanding_bytes", r->outstanding_bytes);
	json_int(&w, "outstanding_allocs", r->outstanding_allocs);
	json_uint(&w, "alloc_bytes", r->alloc_bytes);
	json_uint(&w, "allocs", r->allocs);
	json_uint(&w, "frees", r->frees);
	json_uint(&w, "frees_untracked", r->frees_untracked);
	json_uint(&w, "stacks", r->stacks_holding);
	json_uint(&w, "stacks_complete", r->stacks_complete);
	json_uint(&w, "stacks_reported", r->stack_count);
	json_uint(&w, "threads_live", r->threads_live);
	json_uint(&w, "threads_leaked", r->threads_leaked);
	json_uint(&w, "threads_preexisting", r->threads_preexisting);
	if (r->fds_tracked) {
		json_int(&w, "fds_open", r->fds_open);
		json_uint(&w, "fds_opened", r->fds_opened);
		json_uint(&w, "fd_stacks", r->fd_stacks);
		json_uint(&w, "fds_preexisting", r->fds_preexisting);
	}
	if (r->goroutines_tracked) {
		json_uint(&w, "goroutines_live", r->goroutines_live);
		json_uint(&w, "goroutines_preexisting", r->goroutines_preexisting);
	}
	json_object_end(&w);
	if (r->go_heap_read) {
		json_object_begin(&w, "go_heap");
		json_int(&w, "inuse_bytes", r->go_heap.inuse_bytes);
		json_int(&w, "inuse_objects", r->go_heap.inuse_objects);
		json_uint(&w, "alloc_bytes", r->go_heap.alloc_bytes);
		json_uint(&w, "alloc_objects", r->go_heap.alloc_objects);
		json_uint(&w, "stacks", r->go_heap.stacks);
		json_int(&w, "memprofilerate", r->go_heap_rate);
		json_object_end(&w);
	}

	json_array_begin(&w, "stacks");
	for (size_t i = 0; i < r->stack_count; i++)
		write_stack(&w, &r->stacks[i]);
	json_array_end(&w);
	json_array_begin(&w, "threads");
	for (size_t i = 0; i < r->thread_count; i++)
		write_thread_group(&w, &r->threads[i]);
	json_array_end(&w);
	json_array_begin(&w, "goroutines");
	for (size_t i = 0; i < r->goroutine_count; i++)
		write_goroutine_group(&w, r, &r->goroutines[i]);
	json_array_end(&w);

	if (r->leak_check || r->leak_check_skipped)
		write_leak_check(&w, r);
	if (r->late_allocator_count)
		write_late_allocators(&w, r);
	if (r->memory.read)
		write_memory(&w, &r->memory);
	if (r->oom)
		write_oom(&w, r->oom);
	if (r->peak)
		write_peak(&w, r->peak);
	if (r->pressure)
		write_pressure(&w, r->pressure);
	json_object_begin(&w, "dropped");
	json_uint(&w, "events", r->dropped_events);
	json_uint(&w, "stacks", r->dropped_stacks);
	if (r->dropped_processes)
		json_uint(&w, "processes", r->dropped_processes);
	if (r->dropped_mappings)
		json_uint(&w, "mappings", r->dropped_mappings);
	if (r->dropped_fds)
		json_uint(&w, "fds", r->dropped_fds);
	if (r->dropped_oom_kills)
		json_uint(&w, "oom_kills", r->dropped_oom_kills);
	json_object_end(&w);
	json_object_end(&w);
	fputc('\n', out);
	fflush(out);
}
