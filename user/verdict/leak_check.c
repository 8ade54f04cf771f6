// SPDX-License-Identifier: MIT
/*
 * One leak check (leak_check.h): the hold, the copy, the roots chosen from
 * the copy's mappings, the mark, the verdicts added up per slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "collect/blocks.h"
#include "freeze.h"
#include "image.h"
#include "leak_check.h"

/* Below the stack pointer, the x86-64 ABI lets leaf functions keep data. */
#define RED_ZONE 128
/* Words of a vtable looked at for function pointers, as valgrind does. */
#define VTABLE_WORDS 20
#define VTABLE_CACHE 4096

struct vtable_memo {
	uint64_t addr; /* 0: empty */
	bool is_vtable;
};

struct leak_check {
	struct leak_check_params params;
	struct frozen frozen;
	struct block_table table;
	struct block_list blocks;
	struct block_list own_mmaps; /* the program's own anonymous regions */
	bool own_mmaps_known;
	struct mapping_list maps;
	struct root_range *thread_stacks; /* [top - size, top + THREAD_TOP_ROOM) of each */
	size_t thread_stack_count, thread_stack_cap;
	uint32_t proc; /* whose blocks in the table: the target's image (map `proc_table`) */
	struct target_image image;
	bool held, copied;
	unsigned long long hold_start_ns;
	struct reachability *slots;
	bool *slot_seen;
	struct root_range *roots;
	size_t root_count, root_cap;
	uint64_t *words;
	size_t word_count, word_cap;
	struct vtable_memo vtables[VTABLE_CACHE];
	int mem_fd;
	struct leak_check_result result;
};

struct leak_check *leak_check_new(const struct leak_check_params *params)
{
	struct leak_check *lc = calloc(1, sizeof(*lc));

	if (!lc)
		return NULL;
	lc->params = *params;
	lc->mem_fd = -1;
	if (block_table_map(params->blocks_fd, params->buckets, &lc->table)) {
		free(lc);
		return NULL;
	}
	lc->slots = calloc(params->max_slots, sizeof(*lc->slots));
	lc->slot_seen = calloc(params->max_slots, sizeof(*lc->slot_seen));
	if (!lc->slots || !lc->slot_seen) {
		leak_check_free(lc);
		return NULL;
	}
	return lc;
}

/* Everything a check copied, given back: between checks the tracer holds none of it. */
static void drop_copy(struct leak_check *lc)
{
	image_free(&lc->image);
	mappings_free(&lc->maps);
	blocks_free(&lc->blocks);
	blocks_free(&lc->own_mmaps);
	lc->copied = false;
}

void leak_check_free(struct leak_check *lc)
{
	if (!lc)
		return;
	frozen_free(&lc->frozen);
	drop_copy(lc);
	blocks_free(&lc->blocks);
	block_table_unmap(&lc->table);
	blocks_free(&lc->own_mmaps);
	free(lc->thread_stacks);
	free(lc->slots);
	free(lc->slot_seen);
	free(lc->roots);
	free(lc->words);
	if (lc->mem_fd >= 0)
		close(lc->mem_fd);
	free(lc);
}

int leak_check_hold(struct leak_check *lc, uint32_t proc, bool leader_stopped)
{
	int err;

	memset(&lc->result, 0, sizeof(lc->result));
	lc->proc = proc;
	/* Room for the copy first, while the target runs: mappings rarely change in between. */
	if (!mappings_read_pid(lc->params.pid, &lc->maps)) {
		uint64_t bytes = image_size(&lc->maps);

		if (bytes <= lc->params.max_bytes)
			image_reserve(&lc->image, bytes + bytes / 16);
		mappings_free(&lc->maps);
	}
	blocks_reserve(&lc->blocks, blocks_count(&lc->table, proc) * 9 / 8 + 4096);
	lc->hold_start_ns = monotonic_ns();
	err = freeze_process(lc->params.pid, lc->params.traced_leader, leader_stopped, &lc->frozen,
			     lc->result.why, sizeof(lc->result.why));
	lc->held = !err;
	return err;
}

static void skip(struct leak_check *lc, const char *fmt, const char *detail)
{
	snprintf(lc->result.why, sizeof(lc->result.why), fmt, detail);
	drop_copy(lc);
}

void leak_check_copy(struct leak_check *lc)
{
	uint64_t bytes;
	int err;

	if (!lc->held)
		return;
	err = blocks_read(&lc->table, lc->proc, &lc->blocks);
	if (err) {
		skip(lc, "cannot read the block table: %s", strerror(-err));
		return;
	}
	lc->own_mmaps_known = lc->params.mmaps_fd >= 0 &&
			      !mmaps_read(lc->params.mmaps_fd, lc->params.mmaps_max, lc->proc,
					  &lc->own_mmaps);
	err = mappings_read_pid(lc->params.pid, &lc->maps);
	if (err) {
		skip(lc, "cannot read the target's mappings: %s", strerror(-err));
		return;
	}
	bytes = image_size(&lc->maps);
	if (bytes > lc->params.max_bytes) {
		char detail[96];

		snprintf(detail, sizeof(detail), "%llu MiB to scan, more than --leak-check-max-bytes "
			 "(%llu MiB)", (unsigned long long)(bytes >> 20),
			 (unsigned long long)(lc->params.max_bytes >> 20));
		skip(lc, "%s", detail);
		return;
	}
	err = image_copy(lc->params.pid, &lc->maps, &lc->image);
	if (err) {
		skip(lc, "cannot copy the target's memory: %s", strerror(-err));
		return;
	}
	lc->copied = true;
}

int leak_check_release(struct leak_check *lc)
{
	int leader_status = lc->frozen.leader_status;

	if (!lc->held)
		return 0;
	/* The registers are kept for the mark: copy them out of the threads first. */
	lc->word_count = 0;
	for (size_t i = 0; i < lc->frozen.count; i++) {
		const struct frozen_thread *t = &lc->frozen.threads[i];

		if (lc->word_count + t->word_count + 1 > lc->word_cap) {
			size_t cap = (lc->word_cap + t->word_count + 1) * 2;
			uint64_t *grown = realloc(lc->words, cap * sizeof(*grown));

			if (!grown)
				break;
			lc->words = grown;
			lc->word_cap = cap;
		}
		memcpy(lc->words + lc->word_count, t->words, t->word_count * sizeof(*t->words));
		lc->word_count += t->word_count;
	}
	/* thaw_process keeps each thread's stack pointer, for the stacks' roots. */
	thaw_process(&lc->frozen);
	lc->held = false;
	lc->result.frozen_ms = (double)(monotonic_ns() - lc->hold_start_ns) / 1e6;
	return leader_status;
}

/* Append [start, end) to a growing array of ranges (nothing when empty); 0 or -ENOMEM. */
static int push_range(struct root_range **ranges, size_t *count, size_t *cap, uint64_t start,
		      uint64_t end)
{
	if (end <= start)
		return 0;
	if (*count == *cap) {
		size_t grown_cap = *cap ? 2 * *cap : 256;
		struct root_range *grown = realloc(*ranges, grown_cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		*ranges = grown;
		*cap = grown_cap;
	}
	(*ranges)[(*count)++] = (struct root_range){ start, end };
	return 0;
}

static int add_root(struct leak_check *lc, uint64_t start, uint64_t end)
{
	return push_range(&lc->roots, &lc->root_count, &lc->root_cap, start, end);
}

/* The first block starting at or after addr. */
static size_t first_block_from(const struct block_list *blocks, uint64_t addr)
{
	size_t lo = 0, hi = blocks->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (blocks->items[mid].start < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The parts of [start, end) that the program mmap'd itself, as roots. */
static int add_own_mmaps(struct leak_check *lc, uint64_t start, uint64_t end)
{
	const struct block_list *own = &lc->own_mmaps;
	size_t i = first_block_from(own, start);
	int err = 0;

	if (i > 0 && own->items[i - 1].start + own->items[i - 1].size > start)
		i--; /* one that begins before the mapping */
	for (; i < own->count && own->items[i].start < end && !err; i++) {
		uint64_t from = own->items[i].start, to = from + own->items[i].size;

		err = add_root(lc, from > start ? from : start, to < end ? to : end);
	}
	return err;
}

/* Room above pthread_t kept as root: the rest of struct pthread (glibc) or TLS (musl). */
#define THREAD_TOP_ROOM (64ULL << 10)

void leak_check_thread_stacks(struct leak_check *lc, const struct thread_snapshot *threads,
			      uint64_t default_stack_bytes)
{
	lc->thread_stack_count = 0;
	for (size_t i = 0; i < threads->thread_count; i++) {
		const struct thread_record *t = &threads->threads[i].record;
		uint64_t size = t->stack_bytes ? t->stack_bytes : default_stack_bytes;

		if (t->proc != lc->proc || !t->handle)
			continue;
		if (push_range(&lc->thread_stacks, &lc->thread_stack_count, &lc->thread_stack_cap,
			       t->handle > size ? t->handle - size : 0, t->handle + THREAD_TOP_ROOM))
			return;
	}
}

/* The parts of [start, end) that are a known thread's stack, as roots. */
static int add_thread_stacks(struct leak_check *lc, uint64_t start, uint64_t end)
{
	int err = 0;

	for (size_t i = 0; i < lc->thread_stack_count && !err; i++) {
		uint64_t from = lc->thread_stacks[i].start, to = lc->thread_stacks[i].end;

		if (to > start && from < end)
			err = add_root(lc, from > start ? from : start, to < end ? to : end);
	}
	return err;
}

/* Where the stack of a stopped thread begins in r: its stack pointer less the red zone. */
static uint64_t stack_scan_start(const struct leak_check *lc, const struct image_region *r)
{
	for (size_t i = 0; i < lc->frozen.count; i++) {
		uint64_t sp = lc->frozen.threads[i].sp;

		if (sp >= r->start && sp < r->end)
			return sp - RED_ZONE > r->start ? (sp - RED_ZONE) & ~7ULL : r->start;
	}
	return r->start;
}

/*
 * A mapping right above an inaccessible anonymous one (a guard page) is
 * taken for a thread's stack, which the kernel may have merged with the
 * allocator's memory above it (musl): scanned whole, blocks aside.
 */
static bool above_guard(const struct leak_check *lc, const struct image_region *r)
{
	const struct mapping *below = r->start ? mappings_find(&lc->maps, r->start - 1) : NULL;

	return below && below->end == r->start && !below->readable && !mapping_is_file(below);
}

static int choose_roots(struct leak_check *lc, bool exact)
{
	int err = 0;

	lc->root_count = 0;
	for (size_t i = 0; i < lc->image.count && !err; i++) {
		const struct image_region *r = &lc->image.regions[i];
		size_t first = first_block_from(&lc->blocks, r->start);
		bool holds_blocks = first < lc->blocks.count && lc->blocks.items[first].start < r->end;

		if (exact && holds_blocks && lc->image.anonymous[i] && !above_guard(lc, r)) {
			err = add_own_mmaps(lc, r->start, r->end);
			if (!err)
				err = add_thread_stacks(lc, r->start, r->end);
		}
		else
			err = add_root(lc, stack_scan_start(lc, r), r->end);
	}
	return err;
}

static const struct mapping *mapping_at(const struct leak_check *lc, uint64_t addr)
{
	return mappings_find(&lc->maps, addr);
}

static bool read_target_word(struct leak_check *lc, uint64_t addr, uint64_t *out)
{
	if (lc->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)lc->params.pid);
		lc->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (lc->mem_fd < 0)
			return false;
	}
	return pread(lc->mem_fd, out, sizeof(*out), (off_t)addr) == sizeof(*out);
}

/*
 * valgrind's test of a vtable: in a readable file mapping, and its first
 * words (zeros skipped) point into executable file mappings, two of them at
 * least.  vtables live in read-only data, which was not copied: read from
 * the target, which may run again by now (they do not change).
 */
static bool looks_like_vtable(void *ctx, uint64_t addr)
{
	struct leak_check *lc = ctx;
	struct vtable_memo *memo = &lc->vtables[(addr >> 3) % VTABLE_CACHE];
	const struct mapping *m = mapping_at(lc, addr);
	int functions = 0;

	if (memo->addr == addr)
		return memo->is_vtable;
	if (m && m->readable && mapping_is_file(m)) {
		for (int i = 0; i < VTABLE_WORDS && addr + 8 * (i + 1) <= m->end; i++) {
			uint64_t word;
			const struct mapping *code;

			if (!read_target_word(lc, addr + 8 * i, &word))
				break;
			if (!word)
				continue;
			code = mapping_at(lc, word);
			if (!code || !code->executable || !mapping_is_file(code))
				break;
			if (++functions == 2)
				break;
		}
	}
	memo->addr = addr;
	memo->is_vtable = functions == 2;
	return memo->is_vtable;
}

void leak_check_mark(struct leak_check *lc, bool exact, uint64_t epoch_ns,
		     uint64_t first_young_epoch)
{
	struct leak_check_result *res = &lc->result;
	struct mark_space space;
	struct mark_roots roots;
	struct mark_result marked;
	unsigned long long started = monotonic_ns();

	if (!lc->copied) {
		if (!res->why[0])
			snprintf(res->why, sizeof(res->why), "the target could not be held");
		drop_copy(lc); /* the room made before the hold */
		return;
	}
	blocks_sort(&lc->blocks);
	blocks_sort(&lc->own_mmaps);
	if (choose_roots(lc, exact && lc->own_mmaps_known)) {
		skip(lc, "%s", "out of memory");
		return;
	}
	space = (struct mark_space){ lc->image.regions, lc->image.count, looks_like_vtable, lc };
	roots = (struct mark_roots){ lc->roots, lc->root_count, lc->words, lc->word_count };
	if (mark_blocks(lc->blocks.items, lc->blocks.count, &space, &roots, &marked)) {
		skip(lc, "%s", "out of memory");
		return;
	}
	memset(lc->slots, 0, lc->params.max_slots * sizeof(*lc->slots));
	memset(lc->slot_seen, 0, lc->params.max_slots * sizeof(*lc->slot_seen));
	for (size_t i = 0; i < lc->blocks.count; i++) {
		const struct heap_block *b = &lc->blocks.items[i];

		if (b->slot >= lc->params.max_slots ||
		    (epoch_ns && b->time_ns / epoch_ns >= first_young_epoch))
			continue;
		lc->slots[b->slot].of[b->state].bytes += b->size;
		lc->slots[b->slot].of[b->state].allocs++;
		lc->slot_seen[b->slot] = true;
	}
	res->done = true;
	res->exact = exact;
	res->blocks = lc->blocks.count;
	res->copied_bytes = lc->image.bytes;
	res->scanned_bytes = marked.scanned_bytes;
	res->unreadable_bytes = lc->image.unreadable_bytes;
	memcpy(res->heuristic_blocks, marked.heuristic_blocks, sizeof(res->heuristic_blocks));
	res->mark_ms = (double)(monotonic_ns() - started) / 1e6;
	drop_copy(lc);
	if (lc->mem_fd >= 0) {
		close(lc->mem_fd);
		lc->mem_fd = -1;
	}
}

const struct leak_check_result *leak_check_result(const struct leak_check *lc)
{
	return &lc->result;
}

const struct reachability *leak_check_verdicts(const struct leak_check *lc,
					       const struct stack_key *key, uint32_t slot)
{
	if (!lc->result.done || key->kind != LS_KIND_HEAP || key->proc != lc->proc ||
	    slot >= lc->params.max_slots || !lc->slot_seen[slot])
		return NULL;
	return &lc->slots[slot];
}

struct verdict_count reachability_lost(const struct reachability *r)
{
	return (struct verdict_count){
		r->of[VERDICT_DEFINITELY_LOST].bytes + r->of[VERDICT_INDIRECTLY_LOST].bytes,
		r->of[VERDICT_DEFINITELY_LOST].allocs + r->of[VERDICT_INDIRECTLY_LOST].allocs,
	};
}

struct verdict_count reachability_all(const struct reachability *r)
{
	struct verdict_count all = { 0, 0 };

	for (int v = 0; v < VERDICT_COUNT; v++) {
		all.bytes += r->of[v].bytes;
		all.allocs += r->of[v].allocs;
	}
	return all;
}
