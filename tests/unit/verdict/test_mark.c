// SPDX-License-Identifier: MIT
/*
 * The mark phase (user/verdict/mark.c) on a made-up address space: globals
 * at 0x10000, a heap at 0x200000 whose blocks are laid out by each test,
 * the categories as valgrind defines them (its memcheck/tests/leak-cases.c
 * cases of pointers between blocks among them).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "verdict/mark.h"

#define GLOBALS 0x10000ULL
#define HEAP 0x200000ULL
#define HEAP_SIZE 0x10000ULL

static uint64_t globals[512];
static uint64_t heap[HEAP_SIZE / 8];
static struct heap_block blocks[64];
static size_t block_count;

/* A block of size bytes at HEAP + offset (tests add them in address order). */
static uint64_t add_block(uint64_t offset, uint64_t size)
{
	blocks[block_count++] = (struct heap_block){ .start = HEAP + offset, .size = size };
	return HEAP + offset;
}

static void store(uint64_t addr, uint64_t value)
{
	if (addr >= HEAP)
		heap[(addr - HEAP) / 8] = value;
	else
		globals[(addr - GLOBALS) / 8] = value;
}

static bool vtable_at_0x9000(void *ctx, uint64_t addr)
{
	(void)ctx;
	return addr >= 0x9000 && addr < 0xa000;
}

static enum verdict verdict_of(uint64_t start)
{
	for (size_t i = 0; i < block_count; i++)
		if (blocks[i].start == start)
			return (enum verdict)blocks[i].state;
	cr_assert_fail("no block at %#llx", (unsigned long long)start);
	return VERDICT_COUNT;
}

static struct mark_result mark(const uint64_t *registers, size_t register_count)
{
	struct image_region regions[] = {
		{ GLOBALS, GLOBALS + sizeof(globals), (const uint8_t *)globals },
		{ HEAP, HEAP + HEAP_SIZE, (const uint8_t *)heap },
	};
	struct root_range roots[] = { { GLOBALS, GLOBALS + sizeof(globals) } };
	struct mark_space space = { regions, 2, vtable_at_0x9000, NULL };
	struct mark_roots r = { roots, 1, registers, register_count };
	struct mark_result result;

	cr_assert_eq(mark_blocks(blocks, block_count, &space, &r, &result), 0);
	return result;
}

static void reset(void)
{
	memset(globals, 0, sizeof(globals));
	memset(heap, 0, sizeof(heap));
	block_count = 0;
}

TestSuite(mark, .init = reset);

Test(mark, a_pointer_to_the_start_from_a_root_is_reachable_and_so_is_what_it_points_to)
{
	uint64_t a = add_block(0x100, 64), b = add_block(0x200, 64);

	store(GLOBALS + 8, a);
	store(a + 16, b);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(a), VERDICT_REACHABLE);
	cr_assert_eq(verdict_of(b), VERDICT_REACHABLE);
}

Test(mark, no_pointer_is_definitely_lost_and_what_only_it_reaches_indirectly)
{
	uint64_t head = add_block(0x100, 32), n1 = add_block(0x200, 32), n2 = add_block(0x300, 32);

	store(head, n1);
	store(n1, n2);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(head), VERDICT_DEFINITELY_LOST);
	cr_assert_eq(verdict_of(n1), VERDICT_INDIRECTLY_LOST);
	cr_assert_eq(verdict_of(n2), VERDICT_INDIRECTLY_LOST);
}

Test(mark, a_lost_list_whose_nodes_come_first_in_memory_still_has_one_definite_head)
{
	uint64_t n2 = add_block(0x100, 32), n1 = add_block(0x200, 32), head = add_block(0x300, 32);

	store(head, n1);
	store(n1, n2);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(head), VERDICT_DEFINITELY_LOST);
	cr_assert_eq(verdict_of(n1), VERDICT_INDIRECTLY_LOST);
	cr_assert_eq(verdict_of(n2), VERDICT_INDIRECTLY_LOST);
}

Test(mark, a_lost_cycle_is_lost_as_a_whole)
{
	uint64_t a = add_block(0x100, 32), b = add_block(0x200, 32);

	store(a, b);
	store(b, a);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(a), VERDICT_DEFINITELY_LOST);
	cr_assert_eq(verdict_of(b), VERDICT_INDIRECTLY_LOST);
}

Test(mark, an_interior_pointer_only_is_possibly_lost_and_so_is_what_it_reaches)
{
	uint64_t a = add_block(0x100, 64), b = add_block(0x200, 64);

	store(GLOBALS, a + 40);
	store(a, b);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(a), VERDICT_POSSIBLY_LOST);
	cr_assert_eq(verdict_of(b), VERDICT_POSSIBLY_LOST, "reached from a possible block");
}

Test(mark, a_start_pointer_later_makes_a_possible_block_and_its_pointees_reachable)
{
	uint64_t a = add_block(0x100, 64), b = add_block(0x200, 64);

	store(GLOBALS, a + 40);
	store(GLOBALS + 8, a);
	store(a, b);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(a), VERDICT_REACHABLE);
	cr_assert_eq(verdict_of(b), VERDICT_REACHABLE);
}

Test(mark, registers_are_roots_and_blocks_in_a_root_range_are_not_roots_themselves)
{
	uint64_t a = add_block(0x100, 64), b = add_block(0x200, 64), c = add_block(0x300, 64);
	uint64_t registers[] = { 0, 12345, c };

	store(a, b); /* a is lost: its pointer to b does not make b reachable */
	mark(registers, 3);
	cr_assert_eq(verdict_of(a), VERDICT_DEFINITELY_LOST);
	cr_assert_eq(verdict_of(b), VERDICT_INDIRECTLY_LOST);
	cr_assert_eq(verdict_of(c), VERDICT_REACHABLE);
}

Test(mark, one_past_the_end_points_to_nothing)
{
	uint64_t a = add_block(0x100, 64);

	add_block(0x200, 64);
	store(GLOBALS, a + 64);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(a), VERDICT_DEFINITELY_LOST);
}

Test(mark, new_arrays_and_length_prefixes_are_reachable_through_their_heuristics)
{
	uint64_t array = add_block(0x100, 8 + 10 * 8), prefixed = add_block(0x200, 8 + 24);
	struct mark_result result;

	store(array, 10);             /* new Obj[10]: the count, then the objects */
	store(GLOBALS, array + 8);
	store(prefixed, 24);          /* a 64-bit length equal to the rest */
	store(GLOBALS + 8, prefixed + 8);
	result = mark(NULL, 0);
	cr_assert_eq(verdict_of(array), VERDICT_REACHABLE);
	cr_assert_eq(verdict_of(prefixed), VERDICT_REACHABLE);
	cr_assert_eq(result.heuristic_blocks[HEURISTIC_NEWARRAY], 1);
	cr_assert_eq(result.heuristic_blocks[HEURISTIC_LENGTH64], 1);
}

Test(mark, a_copy_on_write_string_is_reachable_through_its_characters)
{
	uint64_t rep = add_block(0x100, 3 * 8 + 40 + 1);
	struct mark_result result;

	store(rep, 5);       /* length */
	store(rep + 8, 40);  /* capacity: the block is 3 words, capacity and a NUL */
	store(GLOBALS, rep + 24);
	result = mark(NULL, 0);
	cr_assert_eq(verdict_of(rep), VERDICT_REACHABLE);
	cr_assert_eq(result.heuristic_blocks[HEURISTIC_STDSTRING], 1);
}

Test(mark, a_second_base_with_its_own_vtable_is_reachable_through_multiple_inheritance)
{
	uint64_t object = add_block(0x100, 48), other = add_block(0x200, 48);

	store(object, 0x9010);       /* first base's vtable pointer */
	store(object + 16, 0x9050);  /* second base's */
	store(GLOBALS, object + 16);
	store(other + 16, 0x9050);   /* not a vtable at the start: no heuristic */
	store(GLOBALS + 8, other + 16);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(object), VERDICT_REACHABLE);
	cr_assert_eq(verdict_of(other), VERDICT_POSSIBLY_LOST);
}

Test(mark, tag_bits_a_user_pointer_may_carry_are_ignored)
{
	uint64_t a = add_block(0x100, 64);

	store(GLOBALS, a | (0x15ULL << 57));
	mark(NULL, 0);
	cr_assert_eq(verdict_of(a), VERDICT_REACHABLE);
	cr_assert_eq(mark_untag(0x7f0000001000ULL), 0x7f0000001000ULL);
}

Test(mark, every_block_of_a_large_block_is_found_on_any_of_its_pages)
{
	uint64_t big = add_block(0x1000, 0x8000), after = add_block(0x9000, 16);

	store(GLOBALS, big + 0x7ff8); /* its last word, seven pages in */
	store(GLOBALS + 8, after);
	mark(NULL, 0);
	cr_assert_eq(verdict_of(big), VERDICT_POSSIBLY_LOST);
	cr_assert_eq(verdict_of(after), VERDICT_REACHABLE);
}

/*
 * The nine cases of valgrind's memcheck/tests/leak-cases.c: root pointers
 * (to the start or the interior of A) and A's pointer to B (start or
 * interior), with the categories valgrind gives each pair.
 */
Test(mark, valgrinds_nine_cases_of_pointers_between_two_blocks)
{
	static const struct {
		int root;  /* 0: none, 1: to A's start, 2: into A */
		int a_to_b; /* 0: no B, 1: to B's start, 2: into B, -1: B, but no pointer */
		enum verdict a, b;
	} cases[] = {
		{ 1, 0, VERDICT_REACHABLE, 0 },
		{ 1, 1, VERDICT_REACHABLE, VERDICT_REACHABLE },
		{ 0, 0, VERDICT_DEFINITELY_LOST, 0 },
		{ 0, 1, VERDICT_DEFINITELY_LOST, VERDICT_INDIRECTLY_LOST },
		{ 2, 0, VERDICT_POSSIBLY_LOST, 0 },
		{ 1, 2, VERDICT_REACHABLE, VERDICT_POSSIBLY_LOST },
		{ 2, 1, VERDICT_POSSIBLY_LOST, VERDICT_POSSIBLY_LOST },
		{ 2, 2, VERDICT_POSSIBLY_LOST, VERDICT_POSSIBLY_LOST },
		{ 0, 2, VERDICT_DEFINITELY_LOST, VERDICT_INDIRECTLY_LOST },
	};
	uint64_t a[9], b[9];

	for (size_t i = 0; i < 9; i++) { /* in address order: each A, then its B */
		a[i] = add_block(0x100 * (2 * i + 1), 16);
		b[i] = cases[i].a_to_b ? add_block(0x100 * (2 * i + 2), 16) : 0;
		if (cases[i].root)
			store(GLOBALS + 8 * i, a[i] + (cases[i].root == 2 ? 8 : 0));
		if (cases[i].a_to_b > 0)
			store(a[i], b[i] + (cases[i].a_to_b == 2 ? 8 : 0));
	}
	mark(NULL, 0);
	for (size_t i = 0; i < 9; i++) {
		cr_expect_eq(verdict_of(a[i]), cases[i].a, "case %zu: A is %s", i + 1,
			     verdict_name(verdict_of(a[i])));
		if (b[i])
			cr_expect_eq(verdict_of(b[i]), cases[i].b, "case %zu: B is %s", i + 1,
				     verdict_name(verdict_of(b[i])));
	}
}
