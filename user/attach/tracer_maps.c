// SPDX-License-Identifier: MIT
/*
 * The maps' descriptors that collect/ and attach/procs.c read: handed out
 * here so that nothing past attach/ needs the skeletons.  -1 for a map of a
 * program family the run did not load.
 */
#include <bpf/libbpf.h>

#include "goroutines.skel.h"
#include "heap.skel.h"
#include "threads.skel.h"
#include "tracer.h"

int tracer_unwind_rows_fd(const struct tracer *t)
{
	return t->skel ? bpf_map__fd(t->skel->maps.unwind_rows) : -1;
}

int tracer_unwind_spaces_fd(const struct tracer *t)
{
	return t->skel ? bpf_map__fd(t->skel->maps.unwind_spaces) : -1;
}

int tracer_go_sites_fd(const struct tracer *t)
{
	return t->goroutines ? bpf_map__fd(t->goroutines->maps.go_sites) : -1;
}

int tracer_threads_fd(const struct tracer *t)
{
	return t->threads ? bpf_map__fd(t->threads->maps.threads) : -1;
}

int tracer_thread_stacks_fd(const struct tracer *t)
{
	return t->threads ? bpf_map__fd(t->threads->maps.thread_stacks) : -1;
}

int tracer_stats_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.stack_stats);
}

void tracer_delta_banks(const struct tracer *t, struct delta_banks *banks)
{
	banks->switch_fd = bpf_map__fd(t->skel->maps.delta_banks);
	banks->bank_fd[0] = bpf_map__fd(t->skel->maps.delta_bank_a);
	banks->bank_fd[1] = bpf_map__fd(t->skel->maps.delta_bank_b);
	banks->slots = t->skel->rodata->banked_slots;
	banks->age_epoch_ns = t->skel->rodata->age_epoch_ns;
}

int tracer_slots_used_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.stack_slots_used);
}

int tracer_traces_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.stack_traces);
}

int tracer_counters_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.counters);
}

int tracer_procs_table_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.proc_table);
}

int tracer_new_mappings_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.new_mappings);
}

int tracer_procs_used_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.procs_used);
}

int tracer_blocks_fd(const struct tracer *t, uint32_t *buckets)
{
	if (!t->skel)
		return -1;
	*buckets = bpf_map__max_entries(t->skel->maps.allocs);
	return bpf_map__fd(t->skel->maps.allocs);
}

int tracer_mmaps_fd(const struct tracer *t, uint32_t *max_entries)
{
	if (!t->skel)
		return -1;
	*max_entries = bpf_map__max_entries(t->skel->maps.mmaps);
	return bpf_map__fd(t->skel->maps.mmaps);
}
