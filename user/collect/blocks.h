/* SPDX-License-Identifier: MIT */
/*
 * The outstanding heap blocks themselves, read from the block table (map
 * `allocs`, include/leaksnoop.h): what the leak check marks.  Reports need
 * only the per-stack maps (collect.h); this is read only for --leak-check.
 */
#ifndef LS_BLOCKS_H
#define LS_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

/* An outstanding heap block (a list of them is sorted by start). */
struct heap_block {
	uint64_t start, size;
	uint64_t time_ns; /* when it was allocated (0 without the age filter) */
	uint32_t slot;    /* its stack's slot in `stack_stats` */
	uint8_t state;    /* the leak check's: working state, then an enum verdict */
	uint8_t heuristic; /* the heuristic that made it reachable, or 0 */
};

struct block_list {
	struct heap_block *items;
	size_t count, cap;
};

/* The block table mapped read-only into leaksnoop, its pages faulted in at once. */
struct block_table {
	const struct block_bucket *buckets;
	uint32_t count;
	size_t len;
};

/* Map `allocs` (its fd, buckets long) for reading; 0 or -errno. */
int block_table_map(int allocs_fd, uint32_t buckets, struct block_table *table);
void block_table_unmap(struct block_table *table);

/* How many blocks of process proc the table holds now (to make room before reading). */
size_t blocks_count(const struct block_table *table, uint32_t proc);

/* Room for count blocks in list; 0 or -ENOMEM. */
int blocks_reserve(struct block_list *list, size_t count);

/* Every block of process proc in the table, in the table's order.  0 or -errno. */
int blocks_read(const struct block_table *table, uint32_t proc, struct block_list *list);

/*
 * The anonymous mmap regions of process proc that the program made itself
 * (map `mmaps`: the allocator's own are never recorded there), as blocks
 * with their slot; in the map's order, at most max_regions (the map's
 * size).  Returns 0 or -errno.
 */
int mmaps_read(int mmaps_fd, uint32_t max_regions, uint32_t proc, struct block_list *list);

/* By address, as the mark phase needs them (done after the target is let go). */
void blocks_sort(struct block_list *list);

void blocks_free(struct block_list *list);

#endif
