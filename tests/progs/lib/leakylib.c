// SPDX-License-Identifier: MIT
/* A shared library that leaks: the site is inside the library, not the caller. */
#include <stdlib.h>

void *lib_held[64]; /* global, so the stores (and the mallocs) are kept */

void lib_leak(int count, size_t size)
{
	for (int i = 0; i < count; i++)
		lib_held[i % 64] = malloc(size);
}
