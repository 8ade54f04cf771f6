// SPDX-License-Identifier: MIT
/*
 * Reading the block table (blocks.h).  The map is an mmapable array, so it
 * is read through a shared read-only mapping of it, without a system call
 * per bucket; it is read while the target is held, so no slot changes, and
 * mapped (its pages faulted in) and counted before, so that the hold pays
 * for the reading alone.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "leaksnoop.h"
#include "blocks.h"
#include "map_walk.h"

static int by_start(const void *a, const void *b)
{
	const struct heap_block *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int blocks_reserve(struct block_list *list, size_t count)
{
	struct heap_block *grown;

	if (count <= list->cap)
		return 0;
	grown = realloc(list->items, count * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	/* Written now, so that its pages are not faulted in while the target is held. */
	memset(grown + list->cap, 0, (count - list->cap) * sizeof(*grown));
	list->items = grown;
	list->cap = count;
	return 0;
}

static int append(struct block_list *list, const struct heap_block *b)
{
	if (list->count == list->cap && blocks_reserve(list, list->cap ? 2 * list->cap : 4096))
		return -ENOMEM;
	list->items[list->count++] = *b;
	return 0;
}

int block_table_map(int allocs_fd, uint32_t buckets, struct block_table *table)
{
	long page = sysconf(_SC_PAGESIZE);
	void *mapped;

	table->len = ((size_t)buckets * sizeof(struct block_bucket) + page - 1) / page * page;
	mapped = mmap(NULL, table->len, PROT_READ, MAP_SHARED | MAP_POPULATE, allocs_fd, 0);
	if (mapped == MAP_FAILED)
		return -errno;
	table->buckets = mapped;
	table->count = buckets;
	return 0;
}

void block_table_unmap(struct block_table *table)
{
	if (table->buckets)
		munmap((void *)table->buckets, table->len);
	table->buckets = NULL;
}

static bool in_proc(uint64_t key, uint32_t proc)
{
	return key && key >> LS_PROC_SHIFT == proc;
}

size_t blocks_count(const struct block_table *table, uint32_t proc)
{
	size_t count = 0;

	for (uint32_t i = 0; i < table->count; i++)
		for (int j = 0; j < LS_BUCKET_SLOTS; j++)
			count += in_proc(table->buckets[i].addr[j], proc);
	return count;
}

int blocks_read(const struct block_table *table, uint32_t proc, struct block_list *list)
{
	list->count = 0;
	for (uint32_t i = 0; i < table->count; i++) {
		const struct block_bucket *bucket = &table->buckets[i];

		for (int j = 0; j < LS_BUCKET_SLOTS; j++) {
			uint64_t key = bucket->addr[j];
			struct heap_block b = { 0 };

			if (!in_proc(key, proc))
				continue;
			b.start = key & ((1ULL << LS_PROC_SHIFT) - 1);
			b.size = bucket->slot[j].info >> LS_SLOT_BITS;
			b.slot = (uint32_t)(bucket->slot[j].info & ((1u << LS_SLOT_BITS) - 1));
			b.time_ns = bucket->slot[j].time_ns;
			if (append(list, &b))
				return -ENOMEM;
		}
	}
	return 0;
}

struct mmaps_walk {
	uint32_t proc;
	struct block_list *list;
	bool failed;
};

static bool add_region(const void *key, const void *value, void *arg)
{
	struct mmaps_walk *w = arg;
	const struct alloc_record *rec = value;
	uint64_t addr;

	memcpy(&addr, key, sizeof(addr));
	if (!in_proc(addr, w->proc))
		return true;
	w->failed = append(w->list, &(struct heap_block){
		.start = addr & ((1ULL << LS_PROC_SHIFT) - 1),
		.size = rec->size, .slot = rec->slot, .time_ns = rec->time_ns });
	return !w->failed;
}

int mmaps_read(int mmaps_fd, uint32_t max_regions, uint32_t proc, struct block_list *list)
{
	struct mmaps_walk w = { proc, list, false };

	list->count = 0;
	map_walk(mmaps_fd, sizeof(__u64), sizeof(struct alloc_record), max_regions, add_region, &w);
	return w.failed ? -ENOMEM : 0;
}

void blocks_sort(struct block_list *list)
{
	qsort(list->items, list->count, sizeof(*list->items), by_start);
}

void blocks_free(struct block_list *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}
