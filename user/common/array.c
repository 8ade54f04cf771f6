// SPDX-License-Identifier: MIT
/* Arrays that grow by doubling (array.h). */
#include <errno.h>
#include <stdlib.h>

#include "array.h"

int array_reserve_one(void **array, size_t *cap, size_t count, size_t size)
{
	size_t wanted = *cap ? *cap * 2 : 64;
	void *grown;

	if (count < *cap)
		return 0;
	grown = realloc(*array, wanted * size);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*cap = wanted;
	return 0;
}
