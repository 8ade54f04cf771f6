// SPDX-License-Identifier: MIT
/*
 * The JSON writer (json_writer.h): commas and escapes placed, values
 * streamed as they come; it knows nothing of reports.
 */
#include <math.h>

#include "json_writer.h"

void json_init(struct json_writer *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->need_comma[0] = false;
}

void json_write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* Comma and key before a value, as the enclosing container needs. */
static void prefix(struct json_writer *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputs(", ", w->out);
	w->need_comma[w->depth] = true;
	if (key) {
		json_write_escaped(w->out, key);
		fputs(": ", w->out);
	}
}

static void open_container(struct json_writer *w, const char *key, char bracket)
{
	prefix(w, key);
	fputc(bracket, w->out);
	if (w->depth < 15)
		w->depth++;
	w->need_comma[w->depth] = false;
}

void json_object_begin(struct json_writer *w, const char *key)
{
	open_container(w, key, '{');
}

void json_object_end(struct json_writer *w)
{
	fputc('}', w->out);
	if (w->depth > 0)
		w->depth--;
}

void json_array_begin(struct json_writer *w, const char *key)
{
	open_container(w, key, '[');
}

void json_array_end(struct json_writer *w)
{
	fputc(']', w->out);
	if (w->depth > 0)
		w->depth--;
}

void json_string(struct json_writer *w, const char *key, const char *value)
{
	prefix(w, key);
	if (value)
		json_write_escaped(w->out, value);
	else
		fputs("null", w->out);
}

void json_int(struct json_writer *w, const char *key, int64_t value)
{
	prefix(w, key);
	fprintf(w->out, "%lld", (long long)value);
}

void json_uint(struct json_writer *w, const char *key, uint64_t value)
{
	prefix(w, key);
	fprintf(w->out, "%llu", (unsigned long long)value);
}

void json_double(struct json_writer *w, const char *key, double value)
{
	prefix(w, key);
	if (isfinite(value))
		fprintf(w->out, "%.1f", value);
	else
		fputs("0.0", w->out);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
	prefix(w, key);
	fputs(value ? "true" : "false", w->out);
}
