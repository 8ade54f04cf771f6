/* SPDX-License-Identifier: MIT */
/*
 * --suppressions FILE in LeakSanitizer's syntax: one `leak:PATTERN` a line,
 * `#` comments and blank lines ignored.  A stack is suppressed when one of
 * its frames' function name, module path or source file matches a pattern:
 * `*` is any run of characters, and as in LeakSanitizer a pattern matches
 * anywhere in the name unless it starts with `^` or ends with `$`.
 */
#ifndef LS_SUPPRESSIONS_H
#define LS_SUPPRESSIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "symbols/symbolize.h"

struct suppressions;

/*
 * Read FILE.  NULL on failure, with one line naming the file, the line and
 * what is wrong in why.
 */
struct suppressions *suppressions_load(const char *path, char *why, size_t why_size);

/* The same from text already read (name: what messages call it). */
struct suppressions *suppressions_parse(const char *text, const char *name, char *why,
					size_t why_size);

void suppressions_free(struct suppressions *s);

/* The pattern that suppresses frames[0..depth), or NULL. */
const char *suppressions_match(const struct suppressions *s, const struct frame *frames,
			       size_t depth);

/* Whether name matches pattern (wildcards and anchors as above). */
bool suppression_pattern_matches(const char *pattern, const char *name);

#endif
