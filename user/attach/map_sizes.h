/* SPDX-License-Identifier: MIT */
/*
 * The sizes the tracer gives its maps before load (include/leaksnoop.h says
 * what each map holds).  Arithmetic only: no map is touched here.
 */
#ifndef LS_MAP_SIZES_H
#define LS_MAP_SIZES_H

#include <stdint.h>

/* Buckets of map `allocs` that hold max_allocs blocks. */
uint32_t block_buckets(uint32_t max_allocs);

/* Slots the per-CPU banks cover: as many as LS_DELTA_BANK_BUDGET allows. */
uint32_t delta_bank_slots(uint32_t max_stacks, int ncpus);

#endif
