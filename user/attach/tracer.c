// SPDX-License-Identifier: MIT
/*
 * The tracer's core: open, size and load the heap object, whose maps every
 * other probe file shares (bpf/stack.bpf.h); keep each link attached; take
 * everything down.  The program families attach in tracer_heap.c,
 * tracer_threads.c, tracer_kernel.c and tracer_procs.c; what the collectors
 * read is handed out by tracer_maps.c.  No map is read here after load.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "detach.h"
#include "floor.skel.h"
#include "goroutines.skel.h"
#include "growth.skel.h"
#include "heap.skel.h"
#include "kernel.skel.h"
#include "fds.skel.h"
#include "leaksnoop.h"
#include "map_sizes.h"
#include "perf_events.h"
#include "threads.skel.h"
#include "tracer.h"
#include "tracer_links.h"
#include "uprobe_events.h"

int tracer_keep_link(struct tracer *t, struct bpf_link *link)
{
	if (array_reserve_one((void **)&t->links, &t->link_cap, t->link_count, sizeof(link))) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	t->links[t->link_count++] = link;
	return 0;
}

/* The link for tracer_destroy, the event's copy for detach.c (tracer_links.h). */
int tracer_attach_through_event(struct tracer *t, struct bpf_program *prog, int fd)
{
	struct bpf_link *link;
	int copy, err;

	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	link = bpf_program__attach_perf_event(prog, fd);
	if (!link) {
		err = -errno;
		close(fd);
		close(copy);
		return err;
	}
	err = tracer_keep_event(t, copy);
	if (err) {
		bpf_link__destroy(link);
		return err;
	}
	return tracer_keep_link(t, link);
}

int tracer_attach_kept(struct tracer *t, struct bpf_program *prog)
{
	char category[64], name[64];
	struct bpf_link *link;
	int fd;

	/* A tracepoint's program goes through a perf event; others (tp_btf) are links alone. */
	if (tracepoint_of_section(bpf_program__section_name(prog), category, name)) {
		fd = perf_event_tracepoint(category, name);
		return fd < 0 ? fd : tracer_attach_through_event(t, prog, fd);
	}
	link = bpf_program__attach(prog);
	return link ? tracer_keep_link(t, link) : -errno;
}

int tracer_keep_event(struct tracer *t, int fd)
{
	if (array_reserve_one((void **)&t->event_fds, &t->event_cap, t->event_count, sizeof(fd))) {
		close(fd);
		return -ENOMEM;
	}
	t->event_fds[t->event_count++] = fd;
	return 0;
}

int tracer_attach_uprobe_pmu(struct tracer *t, struct bpf_program *prog, pid_t pid,
			     const char *path, uint64_t offset, bool retprobe)
{
	int fd = perf_event_uprobe(path, offset, retprobe, pid);

	return fd < 0 ? fd : tracer_attach_through_event(t, prog, fd);
}

int tracer_attach_uprobe(struct tracer *t, struct bpf_program *prog, pid_t pid, const char *path,
			 uint64_t offset, bool retprobe)
{
	if (t->inherit && pid == t->inherit_target)
		return tracer_attach_inherited_uprobe(t, prog, path, offset, retprobe);
	return tracer_attach_uprobe_pmu(t, prog, pid, path, offset, retprobe);
}

/* obj's maps of these names become the heap object's. */
static int share_named(struct tracer *t, struct bpf_object *obj, const char *const *names,
		       size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct bpf_map *mine = bpf_object__find_map_by_name(t->skel->obj, names[i]);
		struct bpf_map *theirs = bpf_object__find_map_by_name(obj, names[i]);
		int err;

		if (!mine || !theirs)
			return -ENOENT;
		err = bpf_map__reuse_fd(theirs, bpf_map__fd(mine));
		if (err)
			return err;
	}
	return 0;
}

/* The maps every probe file declares (bpf/stack.bpf.h) become the heap object's. */
int tracer_share_maps(struct tracer *t, struct bpf_object *obj)
{
	static const char *const shared[] = {
		"stack_traces", "stack_index", "stack_stats", "stack_slots_used", "counters",
		"age_clock",
	};

	return share_named(t, obj, shared, sizeof(shared) / sizeof(shared[0]));
}

/* The followed processes' maps (bpf/procs.bpf.h) become the heap object's. */
int tracer_share_procs(struct tracer *t, struct bpf_object *obj)
{
	static const char *const shared[] = { "procs", "procs_used" };

	return share_named(t, obj, shared, sizeof(shared) / sizeof(shared[0]));
}

/*
 * Calls in flight share LS_CALL_SLOTS slots; LEAKSNOOP_CALL_SLOTS (a power of
 * two) makes them fewer, so that the tests can make threads share a slot and
 * take the task-storage path.
 */
static uint32_t call_slot_mask(void)
{
	const char *env = getenv("LEAKSNOOP_CALL_SLOTS");
	unsigned long slots = env ? strtoul(env, NULL, 10) : 0;

	if (!slots || slots > LS_CALL_SLOTS || (slots & (slots - 1)))
		slots = LS_CALL_SLOTS;
	return slots - 1;
}

/*
 * Processes followed: LS_MAX_PROCS; LEAKSNOOP_MAX_PROCS makes the table
 * smaller, so that the tests can fill it and see the rest counted as dropped.
 */
static uint32_t max_procs(void)
{
	const char *env = getenv("LEAKSNOOP_MAX_PROCS");
	unsigned long procs = env ? strtoul(env, NULL, 10) : 0;

	return procs && procs < LS_MAX_PROCS ? (uint32_t)procs : LS_MAX_PROCS;
}

/* The target is proc 0; the next fork or exec gets proc 1. */
static int init_procs(struct heap_bpf *skel, pid_t tgid)
{
	struct proc_entry target = { .tgid = (__u32)tgid, .origin = LS_PROC_TARGET };
	__u32 zero = 0, one = 1;

	if (bpf_map__update_elem(skel->maps.proc_table, &zero, sizeof(zero), &target,
				 sizeof(target), BPF_ANY) ||
	    bpf_map__update_elem(skel->maps.procs_used, &zero, sizeof(zero), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	return 0;
}

/* Whether the probes date blocks by the tracer's clock (include/leaksnoop.h). */
bool tracer_clock_ticks(const struct tracer_config *cfg)
{
	return age_clock_tick_ns(cfg->age_epoch_ns) != 0;
}

/* Start the clock the probes date blocks by, once, when the first of them dates any. */
int tracer_start_age_clock(struct tracer *t, const struct tracer_config *cfg)
{
	if (!tracer_clock_ticks(cfg) || t->age_clock.running)
		return 0;
	return age_clock_start(&t->age_clock, bpf_map__fd(t->skel->maps.age_clock),
			       age_clock_tick_ns(cfg->age_epoch_ns));
}

/*
 * Per-CPU banks for as many slots as LS_DELTA_BANK_BUDGET allows
 * (include/leaksnoop.h).  Made here because their size depends on the CPUs;
 * the first also serves as the template of `delta_banks`'s values.
 */
static int make_delta_banks(struct heap_bpf *skel, const struct tracer_config *cfg)
{
	/* Fewer only to test the counters past the banks. */
	const char *cap = getenv("LEAKSNOOP_BANKED_STACKS");
	uint32_t slots = delta_bank_slots(cfg->max_stacks, libbpf_num_possible_cpus());

	if (cap && strtoul(cap, NULL, 10) < slots)
		slots = strtoul(cap, NULL, 10);
	uint32_t entries = slots ? slots : 1; /* an array has at least one */
	struct bpf_map *banks[2] = { skel->maps.delta_bank_a, skel->maps.delta_bank_b };

	skel->rodata->banked_slots = slots;
	for (int i = 0; i < 2; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, bpf_map__name(banks[i]),
					sizeof(__u32), sizeof(struct slot_delta), entries, NULL);
		int err;

		if (fd < 0)
			return -errno;
		err = bpf_map__reuse_fd(banks[i], fd); /* keeps a copy of fd */
		close(fd);
		if (err)
			return err;
	}
	return bpf_map__set_inner_map_fd(skel->maps.delta_banks, bpf_map__fd(banks[0]));
}

int tracer_load(struct tracer *t, const struct tracer_config *cfg)
{
	struct heap_bpf *skel = heap_bpf__open();
	int err;

	memset(t, 0, sizeof(*t));
	if (!skel)
		return -errno;
	skel->rodata->target_tgid = cfg->tgid;
	skel->rodata->min_size = cfg->min_size;
	skel->rodata->max_size = cfg->max_size;
	skel->rodata->age_epoch_ns = cfg->age_epoch_ns;
	skel->rodata->age_clock_ticks = tracer_clock_ticks(cfg);
	skel->rodata->sample_rate = cfg->sample_rate;
	skel->rodata->bucket_count = block_buckets(cfg->max_allocs);
	skel->rodata->call_slot_mask = call_slot_mask();
	skel->rodata->system_wide = cfg->system_wide;
	skel->rodata->self_tgid = (__u32)getpid();
	if (cfg->comm)
		strncpy((char *)skel->rodata->comm_filter, cfg->comm,
			sizeof(skel->rodata->comm_filter) - 1);
	skel->rodata->cgroup_filter = cfg->cgroup_id;
	skel->rodata->cgroup_level = cfg->cgroup_level;
	/* System-wide, every uprobe call must read its process's TGID from the start. */
	skel->bss->procs_followed = cfg->system_wide;
	bpf_map__set_max_entries(skel->maps.allocs, block_buckets(cfg->max_allocs));
	bpf_map__set_max_entries(skel->maps.bucket_overflows, (block_buckets(cfg->max_allocs) + 63) / 64);
	bpf_map__set_max_entries(skel->maps.group_blocks,
				 cfg->sample_rate > 1 ?
				 (block_buckets(cfg->max_allocs) >> LS_BUCKET_GROUP_SHIFT) + 1 : 1);
	bpf_map__set_max_entries(skel->maps.mmaps, LS_DEFAULT_MAX_REGIONS);
	bpf_map__set_max_entries(skel->maps.proc_table, max_procs());
	bpf_map__set_max_entries(skel->maps.stack_index, cfg->max_stacks);
	bpf_map__set_max_entries(skel->maps.stack_stats, cfg->max_stacks);
	bpf_map__set_max_entries(skel->maps.stack_traces, cfg->max_stacks);
	if (cfg->unwind_rows) {
		skel->rodata->unwind_dwarf = true;
		bpf_map__set_max_entries(skel->maps.unwind_rows, cfg->unwind_rows);
		bpf_map__set_max_entries(skel->maps.unwind_spaces, LS_UNWIND_PROCS);
	}
	if (!cfg->track_mmap) {
		bpf_program__set_autoload(skel->progs.mmap_enter, false);
		bpf_program__set_autoload(skel->progs.mmap_exit, false);
		bpf_program__set_autoload(skel->progs.munmap_enter, false);
		bpf_program__set_autoload(skel->progs.mremap_enter, false);
		bpf_program__set_autoload(skel->progs.mremap_exit, false);
	}
	err = make_delta_banks(skel, cfg);
	if (!err)
		err = heap_bpf__load(skel);
	if (!err)
		err = init_procs(skel, cfg->tgid);
	if (err) {
		heap_bpf__destroy(skel);
		return err;
	}
	t->skel = skel;
	/* Before any probe is attached: the first blocks are dated by it too. */
	err = cfg->growth ? 0 : tracer_start_age_clock(t, cfg);
	if (err) {
		heap_bpf__destroy(skel);
		t->skel = NULL;
	}
	return err;
}

void tracer_destroy(struct tracer *t, bool verbose)
{
	tracer_release_held(t);
	links_destroy_parallel(t->links, t->link_count);
	free(t->links);
	t->links = NULL;
	t->link_count = t->link_cap = 0;
	age_clock_stop(&t->age_clock);
	if (t->skel)
		heap_bpf__destroy(t->skel);
	if (t->floor)
		floor_bpf__destroy(t->floor);
	if (t->threads)
		threads_bpf__destroy(t->threads);
	if (t->goroutines)
		goroutines_bpf__destroy(t->goroutines);
	if (t->growth)
		growth_bpf__destroy(t->growth);
	if (t->kernel)
		kernel_bpf__destroy(t->kernel);
	if (t->fds)
		fds_bpf__destroy(t->fds);
	t->fds = NULL;
	t->growth = NULL;
	t->kernel = NULL;
	t->threads = NULL;
	t->goroutines = NULL;
	t->skel = NULL;
	t->floor = NULL;
	/* Last: nothing is attached to them any more, and nothing here waits for them. */
	tracer_close_inherited(t);
	/* The tracefs definitions go once every event is closed (the janitor, uprobe_events.c). */
	events_release_in_background(t->event_fds, t->event_count,
				     uprobe_events_take_keepalive(t->inherit), verbose);
	free(t->event_fds);
	t->event_fds = NULL;
	t->event_count = t->event_cap = 0;
	uprobe_events_free(t->inherit);
	t->inherit = NULL;
}
