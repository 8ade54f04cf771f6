/* SPDX-License-Identifier: MIT */
/* Arrays that grow by doubling, for the lists leaksnoop keeps of unknown length. */
#ifndef LS_ARRAY_H
#define LS_ARRAY_H

#include <stddef.h>

/*
 * Room in *array (of *cap items of size bytes, count used) for one more:
 * doubled when full (64 at first).  0, or -ENOMEM with *array unchanged.
 */
int array_reserve_one(void **array, size_t *cap, size_t count, size_t size);

#endif
