// SPDX-License-Identifier: MIT
/* Suppression files in LeakSanitizer's syntax (user/verdict/suppressions.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "verdict/suppressions.h"

Test(suppressions, patterns_match_anywhere_unless_anchored)
{
	cr_assert(suppression_pattern_matches("dropped", "dropped"));
	cr_assert(suppression_pattern_matches("drop", "my_dropped_thing"));
	cr_assert(suppression_pattern_matches("^list_", "list_head"));
	cr_assert_not(suppression_pattern_matches("^list_", "my_list_head"));
	cr_assert(suppression_pattern_matches("node$", "cycle_node"));
	cr_assert_not(suppression_pattern_matches("node$", "node_x"));
	cr_assert(suppression_pattern_matches("lib*.so", "/usr/lib/libfoo.so.6"));
	cr_assert(suppression_pattern_matches("^a*c$", "abbbc"));
	cr_assert_not(suppression_pattern_matches("^a*c$", "abbbd"));
	cr_assert_not(suppression_pattern_matches("x", NULL));
}

Test(suppressions, a_frame_matches_by_function_module_or_file)
{
	char why[256];
	struct suppressions *s = suppressions_parse("# comment\n\n  leak:libcrypto\nleak:parser.c\n"
						    "leak:^init_cache$\n", "s.txt", why,
						    sizeof(why));
	struct frame frames[2] = {
		{ .symbol = "malloc", .module = "/usr/lib/libc.so.6" },
		{ .symbol = "init_cache", .module = "/usr/bin/server", .file = "cache.c" },
	};

	cr_assert_not_null(s, "%s", why);
	cr_assert_str_eq(suppressions_match(s, frames, 2), "^init_cache$");
	frames[1].symbol = "init_cache_2";
	cr_assert_null(suppressions_match(s, frames, 2));
	frames[1].file = "src/parser.c";
	cr_assert_str_eq(suppressions_match(s, frames, 2), "parser.c");
	frames[0].module = "/usr/lib/x86_64-linux-gnu/libcrypto.so.3";
	cr_assert_str_eq(suppressions_match(s, frames, 2), "libcrypto");
	cr_assert_null(suppressions_match(NULL, frames, 2));
	suppressions_free(s);
}

Test(suppressions, a_malformed_line_is_named_with_its_number)
{
	char why[256];

	cr_assert_null(suppressions_parse("leak:a\nleek:b\n", "s.txt", why, sizeof(why)));
	cr_assert_str_eq(why, "s.txt:2: expected 'leak:PATTERN', got 'leek:b'");
	cr_assert_null(suppressions_parse("leak:   \n", "s.txt", why, sizeof(why)));
	cr_assert_str_eq(why, "s.txt:1: 'leak:' needs a pattern");
	cr_assert_null(suppressions_load("/nonexistent/s.txt", why, sizeof(why)));
	cr_assert(strstr(why, "No such file"));
}
