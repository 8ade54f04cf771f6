// SPDX-License-Identifier: MIT
/* Parsing JSON back, valid and malformed (user/diff/json_reader.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "diff/json_reader.h"

Test(json_reader, reads_what_the_writer_writes)
{
	struct json_value *v = json_parse(
		" {\"a\": [1, -2.5e3, true, false, null], \"s\": \"q\\\"\\\\\\n\\u00e9\\u0001\","
		" \"o\": {}, \"e\": []} ");
	const struct json_value *a, *s;

	cr_assert_not_null(v);
	a = json_get(v, "a");
	cr_assert_eq(a->type, JSON_ARRAY);
	cr_assert_eq(a->count, 5);
	cr_assert_float_eq(a->items[1].number, -2500.0, 1e-9);
	cr_assert(a->items[2].boolean && !a->items[3].boolean);
	cr_assert_eq(a->items[4].type, JSON_NULL);
	s = json_get(v, "s");
	cr_assert_str_eq(s->string, "q\"\\\n\xc3\xa9\x01");
	cr_assert_eq(json_get(v, "o")->count, 0);
	cr_assert_null(json_get(v, "missing"));
	json_free(v);
}

Test(json_reader, rejects_broken_text)
{
	const char *bad[] = { "", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "[1] 2", "{1: 2}" };
	char deep[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_null(json_parse(bad[i]), "accepted %s", bad[i]);
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	cr_assert_null(json_parse(deep)); /* nesting is bounded */
}
