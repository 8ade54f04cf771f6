// SPDX-License-Identifier: MIT
/*
 * How large the maps are made at load, from the options and the machine:
 * pure arithmetic, so that the unit tests check it.
 */
#include "leaksnoop.h"
#include "map_sizes.h"

/*
 * Buckets of `allocs` for max_allocs blocks, with half again as many slots:
 * filled as bpf/heap.bpf.c's put_block fills them, the table refused its
 * first block above max_allocs on every pattern tried (with a quarter more,
 * at 84-92% on addresses of random-like spread).
 */
uint32_t block_buckets(uint32_t max_allocs)
{
	uint64_t slots = (uint64_t)max_allocs + max_allocs / 2;

	return (slots + LS_BUCKET_SLOTS - 1) / LS_BUCKET_SLOTS;
}

uint32_t delta_bank_slots(uint32_t max_stacks, int ncpus)
{
	uint64_t per_slot = 2 * sizeof(struct slot_delta) * (uint64_t)(ncpus > 0 ? ncpus : 1);
	uint64_t fit = LS_DELTA_BANK_BUDGET / per_slot;

	return fit < max_stacks ? (uint32_t)fit : max_stacks;
}
