/* SPDX-License-Identifier: MIT */
/*
 * The mark phase of the leak check: given the target's outstanding heap
 * blocks, a copy of its memory and its roots, which blocks are reachable,
 * possibly, indirectly or definitely lost, with valgrind's meanings and its
 * four heuristics.  Pure logic on copies: nothing here reads the target.
 */
#ifndef LS_MARK_H
#define LS_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/blocks.h"

/* What the mark phase concluded about a block, in valgrind's words. */
enum verdict {
	VERDICT_DEFINITELY_LOST = 0, /* no pointer to it at all */
	VERDICT_INDIRECTLY_LOST,     /* pointed to only from lost blocks */
	VERDICT_POSSIBLY_LOST,       /* only pointers into its interior */
	VERDICT_REACHABLE,           /* a pointer to its start from a root or a reachable block */
	VERDICT_COUNT,
};

/* valgrind's --leak-check-heuristics, all on as valgrind's default is. */
enum mark_heuristic {
	HEURISTIC_NONE = 0,
	HEURISTIC_STDSTRING,  /* pre-C++11 std::string: a pointer past length, capacity, refcount */
	HEURISTIC_LENGTH64,   /* a pointer past a 64-bit length equal to the rest of the block */
	HEURISTIC_NEWARRAY,   /* new[] of objects with a destructor: a pointer past the count */
	HEURISTIC_MULTIPLE_INHERITANCE, /* a pointer to a base's vtable pointer inside the object */
	HEURISTIC_COUNT,
};

/* A copied range of the target's memory. */
struct image_region {
	uint64_t start, end;
	const uint8_t *data; /* end - start bytes */
};

/* A range of the target to scan as roots (inside a copied region; blocks in it are skipped). */
struct root_range {
	uint64_t start, end;
};

/*
 * Where the mark phase reads: the copied regions, sorted by start, and for
 * the multiple-inheritance heuristic a test of whether an address looks like
 * a vtable (NULL: that heuristic off).
 */
struct mark_space {
	const struct image_region *regions;
	size_t region_count;
	bool (*is_vtable)(void *ctx, uint64_t addr);
	void *vtable_ctx;
};

struct mark_roots {
	const struct root_range *ranges;
	size_t range_count;
	const uint64_t *words; /* registers */
	size_t word_count;
};

struct mark_result {
	uint64_t scanned_bytes;   /* roots and blocks read */
	uint64_t unreadable_bytes; /* of blocks outside every copied region */
	uint64_t heuristic_blocks[HEURISTIC_COUNT];
};

/*
 * Classify blocks[0..count) (sorted by start): each one's state becomes an
 * enum verdict.  Returns 0, or -ENOMEM (no block is classified then).
 */
int mark_blocks(struct heap_block *blocks, size_t count, const struct mark_space *space,
		const struct mark_roots *roots, struct mark_result *result);

/* The value a word holds as a pointer: the tag bits a user pointer may carry cleared. */
uint64_t mark_untag(uint64_t word);

const char *verdict_name(enum verdict v);

#endif
