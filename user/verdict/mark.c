// SPDX-License-Identifier: MIT
/*
 * The mark phase (mark.h), as valgrind's memcheck defines the categories:
 * first every word of the roots, then of each block reached, is looked up
 * among the blocks; a pointer to a block's start from a root or a reachable
 * block makes it reachable, any other pointer into it (or one from a
 * possibly-lost block) possibly lost.  Then each block still unreached leads
 * a clique: whatever it reaches, start or interior, is indirectly lost, and
 * the leaders that no other lost block reaches are definitely lost (so a lost
 * cycle has one definitely lost block, the rest indirectly).
 *
 * A word is looked up in two steps: a range test against the lowest and
 * highest block, then a hash of its 4 KiB page giving the blocks that overlap
 * the page, searched by bisection.  Most words (zeros, small numbers, text)
 * end at the range test.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mark.h"

#define PAGE_SHIFT 12
#define WORD sizeof(uint64_t) /* pointers are looked for in aligned 8-byte words */

/* The mark phase's working states (turned into enum verdict at the end). */
enum {
	STATE_UNREACHED = 0,
	STATE_POSSIBLE,
	STATE_REACHABLE,
	STATE_INDIRECT,
};

/* Blocks overlapping one page: blocks[first..last). */
struct page_entry {
	uint64_t page_plus_one; /* 0: empty */
	uint32_t first, last;
};

struct marker {
	struct heap_block *blocks;
	size_t count;
	const struct mark_space *space;
	uint64_t lo, hi; /* lowest block start, highest block end (at least start + 1) */
	struct page_entry *pages;
	size_t page_mask;
	uint32_t *stack;
	size_t stack_len, stack_cap;
	struct mark_result *result;
	bool failed; /* out of memory for the mark stack */
};

uint64_t mark_untag(uint64_t word)
{
#if defined(__aarch64__)
	return word & ((1ULL << 56) - 1); /* top-byte ignore */
#else
	return word & ~(0x3fULL << 57);   /* x86-64 linear address masking (LAM_U57) */
#endif
}

const char *verdict_name(enum verdict v)
{
	static const char *const names[VERDICT_COUNT] = {
		"definitely_lost", "indirectly_lost", "possibly_lost", "reachable",
	};

	return v < VERDICT_COUNT ? names[v] : "unknown";
}

static size_t page_hash(uint64_t page, size_t mask)
{
	return (size_t)((page * 0x9e3779b97f4a7c15ULL) >> 20) & mask;
}

static struct page_entry *page_slot(struct marker *m, uint64_t page)
{
	size_t i = page_hash(page, m->page_mask);

	for (;;) {
		struct page_entry *e = &m->pages[i];

		if (!e->page_plus_one || e->page_plus_one == page + 1)
			return e;
		i = (i + 1) & m->page_mask;
	}
}

/* Pages each block overlaps (a block of size 0 counts its start's page). */
static uint64_t block_last_page(const struct heap_block *b)
{
	return (b->size ? b->start + b->size - 1 : b->start) >> PAGE_SHIFT;
}

static int build_page_index(struct marker *m)
{
	size_t pages = 0, cap = 16;

	for (size_t i = 0; i < m->count; i++) {
		const struct heap_block *b = &m->blocks[i];
		uint64_t first = b->start >> PAGE_SHIFT, last = block_last_page(b);

		/* Consecutive blocks share pages: count a page once per run. */
		if (i && (m->blocks[i - 1].start + m->blocks[i - 1].size - 1) >> PAGE_SHIFT == first &&
		    m->blocks[i - 1].size)
			first++;
		if (last >= first)
			pages += last - first + 1;
	}
	while (cap < 2 * pages + 2)
		cap <<= 1;
	m->pages = calloc(cap, sizeof(*m->pages));
	if (!m->pages)
		return -ENOMEM;
	m->page_mask = cap - 1;
	for (size_t i = 0; i < m->count; i++) {
		const struct heap_block *b = &m->blocks[i];

		for (uint64_t p = b->start >> PAGE_SHIFT; p <= block_last_page(b); p++) {
			struct page_entry *e = page_slot(m, p);

			if (!e->page_plus_one) {
				e->page_plus_one = p + 1;
				e->first = (uint32_t)i;
			}
			e->last = (uint32_t)i + 1;
		}
	}
	return 0;
}

/* The block holding addr (its start, or inside it), or -1. */
static long find_block(const struct marker *m, uint64_t addr)
{
	const struct page_entry *e;
	size_t lo, hi;

	if (addr < m->lo || addr >= m->hi)
		return -1;
	e = page_slot((struct marker *)m, addr >> PAGE_SHIFT);
	if (!e->page_plus_one)
		return -1;
	lo = e->first;
	hi = e->last;
	while (hi - lo > 1) { /* the last block starting at or before addr */
		size_t mid = lo + (hi - lo) / 2;

		if (m->blocks[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	{
		const struct heap_block *b = &m->blocks[lo];

		if (addr >= b->start && (addr < b->start + b->size || addr == b->start))
			return (long)lo;
	}
	return -1;
}

/* The copy of [addr, addr + len), or NULL when it was not copied whole. */
static const uint8_t *copied(const struct mark_space *space, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi = space->region_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct image_region *r = &space->regions[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return addr + len <= r->end ? r->data + (addr - r->start) : NULL;
	}
	return NULL;
}

static bool read_word(const struct mark_space *space, uint64_t addr, uint64_t *out)
{
	const uint8_t *p = copied(space, addr, sizeof(*out));

	if (!p)
		return false;
	memcpy(out, p, sizeof(*out));
	return true;
}

/* valgrind's heuristics, for a pointer addr into the interior of b. */
static enum mark_heuristic heuristic_of(const struct marker *m, const struct heap_block *b,
					uint64_t addr)
{
	const struct mark_space *space = m->space;
	uint64_t w0, w1;

	if (addr == b->start + 3 * WORD && read_word(space, b->start, &w0) &&
	    read_word(space, b->start + WORD, &w1) && w1 < b->size &&
	    3 * WORD + w1 + 1 == b->size && w0 <= w1)
		return HEURISTIC_STDSTRING;
	if (addr == b->start + WORD && read_word(space, b->start, &w0)) {
		if (w0 > 0 && b->size - WORD == w0)
			return HEURISTIC_LENGTH64;
		if (w0 > 0 && (b->size - WORD) % w0 == 0)
			return HEURISTIC_NEWARRAY;
	}
	if (space->is_vtable && !(addr % WORD) && read_word(space, addr, &w1) &&
	    read_word(space, b->start, &w0) && !(w0 % WORD) && !(w1 % WORD) &&
	    w0 >= 4096 && w1 >= 4096 && space->is_vtable(space->vtable_ctx, w1) &&
	    space->is_vtable(space->vtable_ctx, w0))
		return HEURISTIC_MULTIPLE_INHERITANCE;
	return HEURISTIC_NONE;
}

static void push(struct marker *m, size_t i)
{
	if (m->stack_len == m->stack_cap) {
		size_t cap = m->stack_cap ? 2 * m->stack_cap : 1024;
		uint32_t *grown = realloc(m->stack, cap * sizeof(*grown));

		if (!grown) {
			m->failed = true;
			return;
		}
		m->stack = grown;
		m->stack_cap = cap;
	}
	m->stack[m->stack_len++] = (uint32_t)i;
}

/* A word seen from a root (prior_definite) or from a reachable or possible block. */
static void reach(struct marker *m, uint64_t addr, bool prior_definite)
{
	long i = find_block(m, addr);
	struct heap_block *b;
	bool via_start;
	enum mark_heuristic heuristic = HEURISTIC_NONE;

	if (i < 0)
		return;
	b = &m->blocks[i];
	if (b->state == STATE_REACHABLE) {
		if (addr == b->start)
			b->heuristic = HEURISTIC_NONE; /* reached by its start after all */
		return;
	}
	via_start = addr == b->start;
	if (!via_start)
		heuristic = heuristic_of(m, b, addr);
	if ((via_start || heuristic) && prior_definite) {
		b->state = STATE_REACHABLE;
		b->heuristic = (uint8_t)heuristic;
		push(m, (size_t)i);
	} else if (b->state == STATE_UNREACHED) {
		b->state = STATE_POSSIBLE;
		push(m, (size_t)i);
	}
}

/* A word seen from a block of the clique led by leader. */
static void reach_in_clique(struct marker *m, uint64_t addr, size_t leader)
{
	long i = find_block(m, addr);

	if (i < 0 || (size_t)i == leader || m->blocks[i].state != STATE_UNREACHED)
		return;
	m->blocks[i].state = STATE_INDIRECT;
	push(m, (size_t)i);
}

/*
 * Every aligned word of [start, end), which was copied.  leader: SIZE_MAX in
 * the first phase (then prior_definite applies), else the clique's leader.
 */
static void scan_range(struct marker *m, uint64_t start, uint64_t end, bool prior_definite,
		       size_t leader)
{
	const uint8_t *data;
	uint64_t lo = m->lo, hi = m->hi;

	start = (start + WORD - 1) & ~(uint64_t)(WORD - 1);
	if (end <= start)
		return;
	end &= ~(uint64_t)(WORD - 1);
	data = copied(m->space, start, end - start);
	if (!data) {
		m->result->unreadable_bytes += end - start;
		return;
	}
	m->result->scanned_bytes += end - start;
	for (uint64_t off = 0; off < end - start; off += WORD) {
		uint64_t word;

		memcpy(&word, data + off, sizeof(word));
		word = mark_untag(word);
		if (word < lo || word >= hi)
			continue;
		if (leader == SIZE_MAX)
			reach(m, word, prior_definite);
		else
			reach_in_clique(m, word, leader);
	}
}

static void drain(struct marker *m, size_t leader)
{
	while (m->stack_len && !m->failed) {
		struct heap_block *b = &m->blocks[m->stack[--m->stack_len]];

		scan_range(m, b->start, b->start + b->size, b->state != STATE_POSSIBLE, leader);
	}
}

/* The first block ending after addr. */
static size_t first_block_after(const struct marker *m, uint64_t addr)
{
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->blocks[mid].start + m->blocks[mid].size <= addr && m->blocks[mid].start < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A root range, less the blocks inside it (they are scanned only once reached). */
static void scan_root(struct marker *m, const struct root_range *range)
{
	uint64_t pos = range->start;
	size_t i = first_block_after(m, pos);

	while (pos < range->end) {
		if (i < m->count && m->blocks[i].start < range->end) {
			const struct heap_block *b = &m->blocks[i++];

			if (b->start > pos)
				scan_range(m, pos, b->start, true, SIZE_MAX);
			if (b->start + b->size > pos)
				pos = b->start + b->size;
			drain(m, SIZE_MAX);
			continue;
		}
		scan_range(m, pos, range->end, true, SIZE_MAX);
		break;
	}
	drain(m, SIZE_MAX);
}

static const uint8_t final_verdict[] = {
	[STATE_UNREACHED] = VERDICT_DEFINITELY_LOST,
	[STATE_POSSIBLE] = VERDICT_POSSIBLY_LOST,
	[STATE_REACHABLE] = VERDICT_REACHABLE,
	[STATE_INDIRECT] = VERDICT_INDIRECTLY_LOST,
};

int mark_blocks(struct heap_block *blocks, size_t count, const struct mark_space *space,
		const struct mark_roots *roots, struct mark_result *result)
{
	struct marker m = { .blocks = blocks, .count = count, .space = space, .result = result };
	int err = 0;

	memset(result, 0, sizeof(*result));
	if (!count)
		return 0;
	for (size_t i = 0; i < count; i++) {
		blocks[i].state = STATE_UNREACHED;
		blocks[i].heuristic = HEURISTIC_NONE;
	}
	m.lo = blocks[0].start;
	m.hi = blocks[count - 1].start + (blocks[count - 1].size ? blocks[count - 1].size : 1);
	if (build_page_index(&m))
		return -ENOMEM;
	for (size_t i = 0; i < roots->word_count; i++) {
		reach(&m, mark_untag(roots->words[i]), true);
		drain(&m, SIZE_MAX);
	}
	for (size_t i = 0; i < roots->range_count; i++)
		scan_root(&m, &roots->ranges[i]);
	for (size_t i = 0; i < count && !m.failed; i++) {
		if (blocks[i].state != STATE_UNREACHED)
			continue;
		push(&m, i);
		drain(&m, i);
	}
	if (m.failed)
		err = -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		blocks[i].state = final_verdict[blocks[i].state];
		if (blocks[i].state == VERDICT_REACHABLE && blocks[i].heuristic)
			result->heuristic_blocks[blocks[i].heuristic]++;
	}
	free(m.pages);
	free(m.stack);
	return err;
}
