// SPDX-License-Identifier: MIT
/*
 * Parsing JSON (json_reader.h) into a tree, for `leaksnoop diff`.  The
 * input is any file a user names: every length and depth is bounded (fuzzed).
 */
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"

#define MAX_DEPTH 64

struct parser {
	const char *p;
	int depth;
};

static void skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static int parse_value(struct parser *ps, struct json_value *out);

static void free_contents(struct json_value *v)
{
	for (size_t i = 0; i < v->count; i++) {
		free_contents(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
}

static int append_utf8(char **buf, size_t *len, unsigned code)
{
	char bytes[4];
	size_t n = 0;

	if (code < 0x80) {
		bytes[n++] = (char)code;
	} else if (code < 0x800) {
		bytes[n++] = (char)(0xc0 | code >> 6);
		bytes[n++] = (char)(0x80 | (code & 0x3f));
	} else {
		bytes[n++] = (char)(0xe0 | code >> 12);
		bytes[n++] = (char)(0x80 | ((code >> 6) & 0x3f));
		bytes[n++] = (char)(0x80 | (code & 0x3f));
	}
	memcpy(*buf + *len, bytes, n);
	*len += n;
	return 0;
}

static int parse_string(struct parser *ps, char **out)
{
	const char *start = ++ps->p; /* past the quote */
	size_t len = 0;
	char *buf;

	while (*ps->p && *ps->p != '"')
		ps->p += *ps->p == '\\' && ps->p[1] ? 2 : 1;
	if (*ps->p != '"')
		return -1;
	buf = malloc(ps->p - start + 1); /* unescaping never grows the text */
	if (!buf)
		return -1;
	for (const char *c = start; c < ps->p; c++) {
		if (*c != '\\') {
			buf[len++] = *c;
			continue;
		}
		switch (*++c) {
		case 'n': buf[len++] = '\n'; break;
		case 't': buf[len++] = '\t'; break;
		case 'r': buf[len++] = '\r'; break;
		case 'b': buf[len++] = '\b'; break;
		case 'f': buf[len++] = '\f'; break;
		case 'u': {
			char hex[5] = { 0 };

			if (ps->p - c < 5) {
				free(buf);
				return -1;
			}
			memcpy(hex, c + 1, 4);
			append_utf8(&buf, &len, (unsigned)strtoul(hex, NULL, 16));
			c += 4;
			break;
		}
		default: buf[len++] = *c; break; /* \" \\ \/ */
		}
	}
	buf[len] = '\0';
	ps->p++;
	*out = buf;
	return 0;
}

static int parse_container(struct parser *ps, struct json_value *out, bool object)
{
	size_t cap = 0;
	char close = object ? '}' : ']';

	out->type = object ? JSON_OBJECT : JSON_ARRAY;
	if (++ps->depth > MAX_DEPTH)
		return -1;
	ps->p++;
	skip_space(ps);
	if (*ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		skip_space(ps);
		if (object) {
			if (*ps->p != '"' || parse_string(ps, &key))
				return -1;
			skip_space(ps);
			if (*ps->p++ != ':') {
				free(key);
				return -1;
			}
		}
		if (out->count == cap) {
			size_t grown = cap ? cap * 2 : 8;
			struct json_value *items = realloc(out->items, grown * sizeof(*items));
			char **keys = object ? realloc(out->keys, grown * sizeof(*keys)) : NULL;

			if (items)
				out->items = items;
			if (keys)
				out->keys = keys;
			if (!items || (object && !keys)) {
				free(key);
				return -1;
			}
			cap = grown;
		}
		memset(&out->items[out->count], 0, sizeof(*out->items));
		if (object)
			out->keys[out->count] = key;
		out->count++;
		if (parse_value(ps, &out->items[out->count - 1]))
			return -1;
		skip_space(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p != close)
			return -1;
		ps->p++;
		ps->depth--;
		return 0;
	}
}

static int parse_value(struct parser *ps, struct json_value *out)
{
	char *end;

	skip_space(ps);
	switch (*ps->p) {
	case '{': return parse_container(ps, out, true);
	case '[': return parse_container(ps, out, false);
	case '"':
		out->type = JSON_STRING;
		return parse_string(ps, &out->string);
	case 't': case 'f': case 'n': {
		static const char *const words[] = { "true", "false", "null" };

		for (int i = 0; i < 3; i++) {
			size_t n = strlen(words[i]);

			if (!strncmp(ps->p, words[i], n)) {
				out->type = i == 2 ? JSON_NULL : JSON_BOOL;
				out->boolean = i == 0;
				ps->p += n;
				return 0;
			}
		}
		return -1;
	}
	}
	out->type = JSON_NUMBER;
	out->number = strtod(ps->p, &end);
	if (end == ps->p)
		return -1;
	ps->p = end;
	return 0;
}

struct json_value *json_parse(const char *text)
{
	struct parser ps = { text, 0 };
	struct json_value *root = calloc(1, sizeof(*root));

	if (!root)
		return NULL;
	if (parse_value(&ps, root)) {
		json_free(root);
		return NULL;
	}
	skip_space(&ps);
	if (*ps.p) {
		json_free(root);
		return NULL;
	}
	return root;
}

void json_free(struct json_value *value)
{
	if (!value)
		return;
	free_contents(value);
	free(value);
}

const struct json_value *json_get(const struct json_value *object, const char *key)
{
	if (!object || object->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < object->count; i++)
		if (!strcmp(object->keys[i], key))
			return &object->items[i];
	return NULL;
}
