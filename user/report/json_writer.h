/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer for the reports.
 */
#ifndef LS_JSON_WRITER_H
#define LS_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A streaming JSON writer that places the commas; nesting up to 16 levels. */
struct json_writer {
	FILE *out;
	int depth;
	bool need_comma[16];
};

void json_init(struct json_writer *w, FILE *out);
void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
void json_int(struct json_writer *w, const char *key, int64_t value);
void json_uint(struct json_writer *w, const char *key, uint64_t value);
void json_double(struct json_writer *w, const char *key, double value);
void json_bool(struct json_writer *w, const char *key, bool value);

/* Write s as a JSON string literal, escaping what RFC 8259 requires. */
void json_write_escaped(FILE *out, const char *s);

#endif
