/* SPDX-License-Identifier: MIT */
/*
 * `leaksnoop diff`: comparing two saved reports.
 */
#ifndef LS_DIFF_H
#define LS_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * `leaksnoop diff A B`: per-stack change between two reports (JSON lines,
 * the last report of the file, or gzip'd pprof profiles), like
 * `go tool pprof -diff_base A B`.  Stacks are matched by their frames'
 * function names (a module and offset when unknown), not by addresses, so
 * two runs of one program compare.
 */

/* Values of a stack, in pprof's order; DIFF_FDS: descriptors open (--fds), apart from the heap's. */
enum {
	DIFF_ALLOC_OBJECTS, DIFF_ALLOC_SPACE, DIFF_INUSE_OBJECTS, DIFF_INUSE_SPACE, DIFF_FDS,
	DIFF_VALUES
};

/* The values' names, as pprof's sample types and --sample name them. */
extern const char *const diff_value_names[DIFF_VALUES];

struct diff_stack {
	char *key;     /* frames, innermost first, joined by " < " */
	int64_t values[DIFF_VALUES];
};

struct diff_profile {
	char label[256];
	struct diff_stack *stacks;
	size_t count, cap;
};

/* Read a JSON report file or a gzip'd profile.proto; 0 or -errno / -EINVAL. */
int diff_load(const char *path, struct diff_profile *out);
/* The peak the last report of a JSON file keeps (its "peak" stacks); -ENOENT when it has none. */
int diff_load_peak(const char *path, struct diff_profile *out);
void diff_free(struct diff_profile *p);

/* Print the change from a to b for value index `value`, the top rows by size of change. */
void diff_print(FILE *out, const struct diff_profile *a, const struct diff_profile *b,
		int value, size_t top);

/* The `diff` subcommand: argv[0] is "diff".  Returns the exit status. */
int diff_main(int argc, char **argv);

#endif
