// SPDX-License-Identifier: MIT
/*
 * `strides N`: holds N heap blocks allocated class by class (16 B to 4 KiB),
 * so that each class's blocks sit at a regular stride, then exits holding
 * them: the block-table test's known truth (N blocks from hold_class).
 */
#include <stdio.h>
#include <stdlib.h>

static const size_t classes[] = { 16, 24, 32, 48, 64, 80, 96, 128, 192, 256, 512, 1024, 4096 };
#define CLASS_COUNT (sizeof(classes) / sizeof(classes[0]))

void *volatile sink;

void hold_class(size_t size, long count)
{
	for (long i = 0; i < count; i++)
		sink = malloc(size);
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 100000;

	for (size_t c = 0; c < CLASS_COUNT; c++)
		hold_class(classes[c], total / CLASS_COUNT + (c < (size_t)(total % CLASS_COUNT)));
	printf("held %ld\n", total);
	return 0;
}
