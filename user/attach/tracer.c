// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor.skel.h"
#include "heap.skel.h"
#include "thread_probes.h"
#include "threads.skel.h"
#include "goroutines.skel.h"
#include "growth.skel.h"
#include "kernel.skel.h"
#include "go_runtime.h"
#include "leaksnoop.h"
#include "tracer.h"

static int keep_link(struct tracer *t, struct bpf_link *link)
{
	if (t->link_count == t->link_cap) {
		size_t grown = t->link_cap ? t->link_cap * 2 : 32;
		struct bpf_link **links = realloc(t->links, grown * sizeof(*links));

		if (!links) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		t->links = links;
		t->link_cap = grown;
	}
	t->links[t->link_count++] = link;
	return 0;
}

/* Attach a program that needs no target (a tracepoint) and keep its link. */
static int attach_kept(struct tracer *t, struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach(prog);

	return link ? keep_link(t, link) : -errno;
}

/*
 * Buckets of `allocs` for max_allocs blocks, with a quarter more room: a
 * table of two-choice buckets refuses its first block at ~90% full.
 */
uint32_t block_buckets(uint32_t max_allocs)
{
	uint64_t slots = (uint64_t)max_allocs + max_allocs / 4;

	return (slots + LS_BUCKET_SLOTS - 1) / LS_BUCKET_SLOTS;
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
static bool age_clock_ticks(const struct tracer_config *cfg)
{
	return age_clock_tick_ns(cfg->age_epoch_ns) != 0;
}

/* Start the clock the probes date blocks by, once, when the first of them dates any. */
static int start_age_clock(struct tracer *t, const struct tracer_config *cfg)
{
	if (!age_clock_ticks(cfg) || t->age_clock.running)
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
	skel->rodata->age_clock_ticks = age_clock_ticks(cfg);
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
	err = cfg->growth ? 0 : start_age_clock(t, cfg);
	if (err) {
		heap_bpf__destroy(skel);
		t->skel = NULL;
	}
	return err;
}

int tracer_unwind_rows_fd(const struct tracer *t)
{
	return t->skel ? bpf_map__fd(t->skel->maps.unwind_rows) : -1;
}

int tracer_unwind_spaces_fd(const struct tracer *t)
{
	return t->skel ? bpf_map__fd(t->skel->maps.unwind_spaces) : -1;
}

static struct bpf_program *entry_program(struct heap_bpf *skel, enum alloc_handler handler)
{
	switch (handler) {
	case HANDLER_MALLOC: return skel->progs.malloc_enter;
	case HANDLER_CALLOC: return skel->progs.calloc_enter;
	case HANDLER_MEMALIGN: return skel->progs.memalign_enter;
	case HANDLER_POSIX_MEMALIGN: return skel->progs.posix_memalign_enter;
	case HANDLER_REALLOC: return skel->progs.realloc_enter;
	case HANDLER_REALLOCARRAY: return skel->progs.reallocarray_enter;
	case HANDLER_FREE: return skel->progs.free_enter;
	}
	return NULL;
}

static int attach_one(struct tracer *t, struct bpf_program *prog, pid_t pid, const char *path,
		      uint64_t offset, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, path, offset, &opts);

	if (!link)
		return -errno;
	return keep_link(t, link);
}

int tracer_attach_allocator(struct tracer *t, pid_t pid, const struct allocator *alloc,
			    bool verbose)
{
	for (size_t i = 0; i < alloc->probe_count; i++) {
		const struct alloc_probe *p = &alloc->probes[i];
		int err;

		if (p->alias_of) {
			if (verbose)
				fprintf(stderr, "leaksnoop: %s is %s (same address), probed once\n",
					p->name, p->alias_of);
			continue;
		}
		err = attach_one(t, entry_program(t->skel, p->handler), pid, alloc->path,
				 p->file_offset, false);
		/* The return probe shares the entry's point: one trap serves both. */
		if (!err && p->has_return)
			err = attach_one(t, t->skel->progs.alloc_exit, pid, alloc->path,
					 p->file_offset, true);
		if (err) {
			fprintf(stderr, "leaksnoop: cannot attach to %s in %s: %s\n", p->name,
				alloc->shown_path, strerror(-err));
			return err;
		}
		if (verbose)
			fprintf(stderr, "leaksnoop: %s%s at %s+0x%llx (entry+%llu: %s)\n", p->name,
				p->has_return ? " (entry and return)" : "", alloc->shown_path,
				(unsigned long long)p->file_offset, (unsigned long long)p->delta,
				p->placement);
	}
	return 0;
}

int tracer_attach_floor(struct tracer *t, pid_t pid, const struct allocator *alloc,
			enum floor_mode mode)
{
	memset(t, 0, sizeof(*t));
	t->floor = floor_bpf__open_and_load();
	if (!t->floor)
		return -errno;
	for (size_t i = 0; i < alloc->probe_count; i++) {
		const struct alloc_probe *p = &alloc->probes[i];
		uint64_t offset = p->file_offset - (mode == FLOOR_ENTRY ? p->delta : 0);
		int err;

		if (p->alias_of)
			continue;
		err = attach_one(t, t->floor->progs.floor_entry, pid, alloc->path, offset, false);
		if (!err && p->has_return)
			err = attach_one(t, t->floor->progs.floor_exit, pid, alloc->path, offset, true);
		if (err)
			return err;
	}
	return 0;
}

/* The maps every probe file declares (bpf/stack.bpf.h) become the heap object's. */
static int reuse_shared_maps(struct tracer *t, struct bpf_object *obj)
{
	static const char *const shared[] = {
		"stack_traces", "stack_index", "stack_stats", "stack_slots_used", "counters",
		"age_clock",
	};

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *mine = bpf_object__find_map_by_name(t->skel->obj, shared[i]);
		struct bpf_map *theirs = bpf_object__find_map_by_name(obj, shared[i]);
		int err;

		if (!mine || !theirs)
			return -ENOENT;
		err = bpf_map__reuse_fd(theirs, bpf_map__fd(mine));
		if (err)
			return err;
	}
	return 0;
}

static struct bpf_program *thread_program(struct threads_bpf *skel, enum thread_handler h,
					  bool retprobe)
{
	switch (h) {
	case THREAD_CREATE: return retprobe ? skel->progs.create_exit : skel->progs.create_enter;
	case THREAD_DETACH: return retprobe ? NULL : skel->progs.detach_enter;
	case THREAD_JOIN: return retprobe ? skel->progs.join_exit : skel->progs.join_enter;
	}
	return NULL;
}

static int load_threads(struct tracer *t, pid_t pid)
{
	struct threads_bpf *skel = threads_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = pid;
	err = reuse_shared_maps(t, skel->obj);
	/* The processes followed (forks, execs): their threads are tracked too. */
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.procs, bpf_map__fd(t->skel->maps.procs));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.thread_stacks,
					       bpf_map__max_entries(t->skel->maps.stack_traces));
	if (!err)
		err = threads_bpf__load(skel);
	if (err) {
		threads_bpf__destroy(skel);
		return err;
	}
	t->threads = skel;
	return 0;
}

int tracer_attach_thread_probes(struct tracer *t, pid_t pid, const struct thread_library *lib,
				bool verbose)
{
	int err;

	if (!t->threads)
		return -ENOENT;
	for (size_t i = 0; i < lib->probe_count; i++) {
		const struct thread_probe *p = &lib->probes[i];
		struct bpf_program *ret = thread_program(t->threads, p->handler, true);

		err = attach_one(t, thread_program(t->threads, p->handler, false), pid, lib->path,
				 p->file_offset, false);
		if (!err && ret)
			err = attach_one(t, ret, pid, lib->path, p->file_offset, true);
		if (err)
			return err;
		if (verbose)
			fprintf(stderr, "leaksnoop: %s%s at %s+0x%llx (threads)\n", p->name,
				ret ? " (entry and return)" : "", lib->shown_path,
				(unsigned long long)p->file_offset);
	}
	return 0;
}

int tracer_attach_threads(struct tracer *t, pid_t pid, const struct thread_library *lib,
			  bool verbose)
{
	struct bpf_program *tracepoints[3];
	int err = load_threads(t, pid);

	if (!err)
		err = tracer_attach_thread_probes(t, pid, lib, verbose);
	if (err)
		return err;
	tracepoints[0] = t->threads->progs.clone3_exit;
	tracepoints[1] = t->threads->progs.clone_exit_tp;
	tracepoints[2] = t->threads->progs.thread_exit;
	for (size_t i = 0; i < 3; i++) {
		err = attach_kept(t, tracepoints[i]);
		if (err)
			return err;
		if (verbose)
			fprintf(stderr, "leaksnoop: %s (threads)\n",
				bpf_program__section_name(tracepoints[i]));
	}
	return 0;
}

static int load_goroutines(struct tracer *t, const struct go_runtime *rt)
{
	struct goroutines_bpf *skel = goroutines_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->g_goid_offset = rt->goid_offset;
	skel->rodata->g_gopc_offset = rt->gopc_offset;
	skel->rodata->probes_on_stack_check = rt->probes_on_stack_check;
	if (rt->sample_bytes)
		skel->rodata->go_sample_bytes = rt->sample_bytes;
	err = reuse_shared_maps(t, skel->obj);
	if (!err)
		err = goroutines_bpf__load(skel);
	if (err) {
		goroutines_bpf__destroy(skel);
		return err;
	}
	t->goroutines = skel;
	return 0;
}

int tracer_attach_goroutines(struct tracer *t, pid_t pid, const struct go_runtime *rt,
			     const uint64_t *goids, size_t goid_count, bool verbose)
{
	int fd, err = load_goroutines(t, rt);
	__u8 one = 1;

	if (err)
		return err;
	fd = bpf_map__fd(t->goroutines->maps.go_preexisting);
	for (size_t i = 0; i < goid_count; i++)
		bpf_map_update_elem(fd, &goids[i], &one, BPF_ANY);
	/* Entry probes only: a uretprobe would rewrite a return address on a goroutine
	 * stack, and Go moves its stacks. */
	err = attach_one(t, t->goroutines->progs.newproc_enter, pid, rt->path, rt->newproc_offset,
			 false);
	if (!err)
		err = attach_one(t, t->goroutines->progs.goexit1_enter, pid, rt->path,
				 rt->goexit1_offset, false);
	if (!err && rt->alloc_probe == GO_ALLOC_PROFILEALLOC)
		err = attach_one(t, t->goroutines->progs.profilealloc_enter, pid, rt->path,
				 rt->profilealloc_offset, false);
	if (!err && rt->alloc_probe == GO_ALLOC_MALLOCGC)
		err = attach_one(t, t->goroutines->progs.mallocgc_enter, pid, rt->path,
				 rt->mallocgc_offset, false);
	if (!err && verbose && rt->alloc_probe != GO_ALLOC_NONE)
		fprintf(stderr, "leaksnoop: Go allocations sampled every %llu bytes through %s\n",
			(unsigned long long)rt->sample_bytes,
			rt->alloc_probe == GO_ALLOC_MALLOCGC ? "runtime.mallocgc (--go-allocs)" :
							       "runtime.profilealloc (the runtime's own samples)");
	if (!err && verbose)
		fprintf(stderr, "leaksnoop: runtime.newproc at +0x%llx and runtime.goexit1 at +0x%llx "
			"(goroutines; runtime.g: goid at %llu, gopc at %llu, from DWARF; %s)\n",
			(unsigned long long)rt->newproc_offset, (unsigned long long)rt->goexit1_offset,
			(unsigned long long)rt->goid_offset, (unsigned long long)rt->gopc_offset,
			rt->probes_on_stack_check ? "on the stack checks' jumps" :
						    "at entry: g.stackguard0 read at each call");
	return err;
}

int tracer_attach_growth(struct tracer *t, pid_t pid, bool verbose)
{
	struct growth_bpf *skel = growth_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = pid;
	skel->rodata->page_bytes = (__u64)sysconf(_SC_PAGESIZE);
	err = reuse_shared_maps(t, skel->obj);
	if (!err)
		err = growth_bpf__load(skel);
	if (err) {
		growth_bpf__destroy(skel);
		return err;
	}
	t->growth = skel;
	err = attach_kept(t, skel->progs.user_write_fault);
	if (!err && verbose)
		fprintf(stderr, "leaksnoop: tracepoint/exceptions/page_fault_user (growth mode: "
			"write faults charged to the writing stack)\n");
	return err;
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

int tracer_attach_mmap(struct tracer *t, bool verbose)
{
	struct bpf_program *progs[] = {
		t->skel->progs.mmap_enter, t->skel->progs.mmap_exit, t->skel->progs.munmap_enter,
		t->skel->progs.mremap_enter, t->skel->progs.mremap_exit,
	};

	for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++) {
		int err = attach_kept(t, progs[i]);

		if (err) {
			fprintf(stderr, "leaksnoop: cannot attach tracepoint %s: %s\n",
				bpf_program__section_name(progs[i]), strerror(-err));
			return err;
		}
		if (verbose)
			fprintf(stderr, "leaksnoop: %s (anonymous regions as kind mmap)\n",
				bpf_program__section_name(progs[i]));
	}
	return 0;
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

int tracer_follow_processes(struct tracer *t, bool verbose)
{
	struct bpf_program *progs[] = { t->skel->progs.follow_fork, t->skel->progs.follow_exec };

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		int err = attach_kept(t, progs[i]);

		if (err)
			return err;
	}
	if (verbose)
		fprintf(stderr, "leaksnoop: sched_process_fork, sched_process_exec (children and "
			"new images followed)\n");
	return 0;
}

int tracer_add_process(struct tracer *t, pid_t tgid)
{
	__u32 zero = 0, index = 0, key = (__u32)tgid;
	struct proc_entry entry = { .tgid = (__u32)tgid, .origin = LS_PROC_GIVEN };

	if (bpf_map__lookup_elem(t->skel->maps.procs_used, &zero, sizeof(zero), &index,
				 sizeof(index), 0))
		return -errno;
	if (index >= LS_MAX_PROCS)
		return -ENOSPC;
	if (bpf_map__update_elem(t->skel->maps.proc_table, &index, sizeof(index), &entry,
				 sizeof(entry), BPF_ANY) ||
	    bpf_map__update_elem(t->skel->maps.procs, &key, sizeof(key), &index, sizeof(index),
				 BPF_ANY))
		return -errno;
	index++;
	if (bpf_map__update_elem(t->skel->maps.procs_used, &zero, sizeof(zero), &index,
				 sizeof(index), BPF_ANY))
		return -errno;
	/* From now on the probes read each call's TGID. */
	t->skel->bss->procs_followed = 1;
	return 0;
}

int tracer_procs_table_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.proc_table);
}

int tracer_procs_used_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.procs_used);
}

/* Whether tracefs has the event (vmalloc's appeared in Linux 6.3, for one). */
static bool tracepoint_exists(const char *category, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s", category, name);
	if (!access(path, F_OK))
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/%s", category, name);
	return !access(path, F_OK);
}

int tracer_attach_kernel(struct tracer *t, const struct tracer_config *cfg, bool verbose)
{
	struct kernel_bpf *skel = kernel_bpf__open();
	struct bpf_program *prog;
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = cfg->tgid;
	skel->rodata->self_tgid = (__u32)getpid();
	skel->rodata->page_bytes = (__u64)sysconf(_SC_PAGESIZE);
	skel->rodata->age_epoch_ns = cfg->age_epoch_ns;
	skel->rodata->age_clock_ticks = age_clock_ticks(cfg);
	bpf_map__set_max_entries(skel->maps.kernel_blocks, cfg->max_allocs);
	bpf_object__for_each_program(prog, skel->obj) {
		/* Section "tracepoint/CATEGORY/NAME". */
		char category[64], name[64];

		if (sscanf(bpf_program__section_name(prog), "tracepoint/%63[^/]/%63s", category,
			   name) == 2 && !tracepoint_exists(category, name)) {
			bpf_program__set_autoload(prog, false);
			if (verbose)
				fprintf(stderr, "leaksnoop: this kernel has no tracepoint %s/%s: "
					"not traced\n", category, name);
		}
	}
	err = reuse_shared_maps(t, skel->obj);
	/* Children the target forks: their kernel allocations are theirs too. */
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.procs, bpf_map__fd(t->skel->maps.procs));
	if (!err)
		err = kernel_bpf__load(skel);
	if (err) {
		kernel_bpf__destroy(skel);
		return err;
	}
	t->kernel = skel;
	err = start_age_clock(t, cfg); /* with --growth, no heap probe has started it */
	if (err)
		return err;
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		err = attach_kept(t, prog);
		if (err)
			return err;
		if (verbose)
			fprintf(stderr, "leaksnoop: %s\n", bpf_program__section_name(prog));
	}
	return 0;
}

void tracer_destroy(struct tracer *t)
{
	for (size_t i = t->link_count; i-- > 0;)
		bpf_link__destroy(t->links[i]);
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
	t->growth = NULL;
	t->kernel = NULL;
	t->threads = NULL;
	t->goroutines = NULL;
	t->skel = NULL;
	t->floor = NULL;
}
