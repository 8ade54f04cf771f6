// SPDX-License-Identifier: MIT
/*
 * Reading the block table (blocks.h).  The map is an mmapable array, so it
 * is read through a shared read-only mapping of it, without a system call
 * per bucket; it is read while the target is held, so no slot changes.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "leaksnoop.h"
#include "blocks.h"

static int by_start(const void *a, const void *b)
{
	const struct heap_block *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int append(struct block_list *list, const struct heap_block *b)
{
	if (list->count == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 4096;
		struct heap_block *grown = realloc(list->items, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		list->items = grown;
		list->cap = cap;
	}
	list->items[list->count++] = *b;
	return 0;
}

int blocks_read(int allocs_fd, uint32_t buckets, uint32_t proc, struct block_list *list)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = ((size_t)buckets * sizeof(struct block_bucket) + page - 1) / page * page;
	const struct block_bucket *table;
	int err = 0;

	list->count = 0;
	table = mmap(NULL, len, PROT_READ, MAP_SHARED, allocs_fd, 0);
	if (table == MAP_FAILED)
		return -errno;
	for (uint32_t i = 0; i < buckets && !err; i++) {
		const struct block_bucket *bucket = &table[i];

		for (int j = 0; j < LS_BUCKET_SLOTS && !err; j++) {
			uint64_t key = bucket->addr[j];
			struct heap_block b = { 0 };

			if (!key || key >> LS_PROC_SHIFT != proc)
				continue;
			b.start = key & ((1ULL << LS_PROC_SHIFT) - 1);
			b.size = bucket->slot[j].info >> LS_SLOT_BITS;
			b.slot = (uint32_t)(bucket->slot[j].info & ((1u << LS_SLOT_BITS) - 1));
			b.time_ns = bucket->slot[j].time_ns;
			err = append(list, &b);
		}
	}
	munmap((void *)table, len);
	return err;
}

int mmaps_read(int mmaps_fd, uint32_t proc, struct block_list *list)
{
	__u64 key, next;
	void *prev = NULL;

	list->count = 0;
	while (!bpf_map_get_next_key(mmaps_fd, prev, &next)) {
		struct alloc_record rec;

		key = next;
		prev = &key;
		if (key >> LS_PROC_SHIFT != proc || bpf_map_lookup_elem(mmaps_fd, &key, &rec))
			continue;
		if (append(list, &(struct heap_block){
				.start = key & ((1ULL << LS_PROC_SHIFT) - 1),
				.size = rec.size, .slot = rec.slot, .time_ns = rec.time_ns }))
			return -ENOMEM;
	}
	return 0;
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
