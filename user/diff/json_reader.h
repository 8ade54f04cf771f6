/* SPDX-License-Identifier: MIT */
/*
 * A JSON parser for reading reports back.
 */
#ifndef LS_JSON_READER_H
#define LS_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>

/* A parsed JSON value (RFC 8259), for reading leaksnoop's own reports back. */
enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
	enum json_type type;
	double number;
	bool boolean;
	char *string;                /* JSON_STRING (unescaped, UTF-8) */
	struct json_value *items;    /* JSON_ARRAY elements or JSON_OBJECT values */
	char **keys;                 /* JSON_OBJECT keys, parallel to items */
	size_t count;
};

/* Parse text; NULL on a syntax error or out of memory. */
struct json_value *json_parse(const char *text);
void json_free(struct json_value *value);

/* Member of an object by key, or NULL. */
const struct json_value *json_get(const struct json_value *object, const char *key);

#endif
