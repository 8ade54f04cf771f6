// SPDX-License-Identifier: MIT
/*
 * Suppression files (suppressions.h): parsed once at start, so that a
 * malformed file fails the run before anything is attached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suppressions.h"

struct suppressions {
	char **patterns;
	size_t count;
};

void suppressions_free(struct suppressions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		free(s->patterns[i]);
	free(s->patterns);
	free(s);
}

static char *trimmed(char *line)
{
	char *end;

	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			      end[-1] == '\n'))
		*--end = '\0';
	return line;
}

static int add_pattern(struct suppressions *s, const char *pattern)
{
	char **grown = realloc(s->patterns, (s->count + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	s->patterns = grown;
	s->patterns[s->count] = strdup(pattern);
	if (!s->patterns[s->count])
		return -ENOMEM;
	s->count++;
	return 0;
}

struct suppressions *suppressions_parse(const char *text, const char *name, char *why,
					size_t why_size)
{
	struct suppressions *s = calloc(1, sizeof(*s));
	char *copy = strdup(text), *next = copy;
	unsigned lineno = 0;

	if (!s || !copy)
		goto nomem;
	while (next) {
		char *line = next, *pattern;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line = trimmed(line);
		if (!*line || *line == '#')
			continue;
		if (strncmp(line, "leak:", 5)) {
			snprintf(why, why_size, "%s:%u: expected 'leak:PATTERN', got '%.60s'", name,
				 lineno, line);
			goto fail;
		}
		pattern = trimmed(line + 5);
		if (!*pattern) {
			snprintf(why, why_size, "%s:%u: 'leak:' needs a pattern", name, lineno);
			goto fail;
		}
		if (add_pattern(s, pattern))
			goto nomem;
	}
	free(copy);
	return s;
nomem:
	snprintf(why, why_size, "%s: out of memory", name);
fail:
	free(copy);
	suppressions_free(s);
	return NULL;
}

struct suppressions *suppressions_load(const char *path, char *why, size_t why_size)
{
	FILE *f = fopen(path, "re");
	struct suppressions *s;
	char *text = NULL;
	size_t len = 0;

	if (!f) {
		snprintf(why, why_size, "cannot read suppressions file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (getdelim(&text, &len, '\0', f) < 0 && ferror(f)) {
		snprintf(why, why_size, "cannot read suppressions file %s: %s", path, strerror(errno));
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	s = suppressions_parse(text ? text : "", path, why, why_size);
	free(text);
	return s;
}

/* Glob with `*` only, over the whole of name[0..len). */
static bool glob(const char *p, const char *name, size_t len)
{
	size_t star_p = (size_t)-1, star_n = 0, i = 0, n = 0;
	size_t plen = strlen(p);

	while (n < len) {
		if (i < plen && p[i] == '*') {
			star_p = i++;
			star_n = n;
		} else if (i < plen && p[i] == name[n]) {
			i++;
			n++;
		} else if (star_p != (size_t)-1) {
			i = star_p + 1;
			n = ++star_n;
		} else {
			return false;
		}
	}
	while (i < plen && p[i] == '*')
		i++;
	return i == plen;
}

bool suppression_pattern_matches(const char *pattern, const char *name)
{
	bool at_start = pattern[0] == '^';
	size_t plen;
	char *core;
	bool matched;

	if (!name || !*name)
		return false;
	if (at_start)
		pattern++;
	plen = strlen(pattern);
	core = malloc(plen + 3);
	if (!core)
		return false;
	/* Unanchored ends match anywhere: a `*` on that side. */
	snprintf(core, plen + 3, "%s%.*s%s", at_start ? "" : "*",
		 (int)(plen && pattern[plen - 1] == '$' ? plen - 1 : plen), pattern,
		 plen && pattern[plen - 1] == '$' ? "" : "*");
	matched = glob(core, name, strlen(name));
	free(core);
	return matched;
}

/* A frame matches by its function, its module's path or its source file. */
static bool frame_matches(const char *pattern, const struct frame *f)
{
	return suppression_pattern_matches(pattern, f->symbol) ||
	       suppression_pattern_matches(pattern, f->module) ||
	       suppression_pattern_matches(pattern, f->file);
}

const char *suppressions_match(const struct suppressions *s, const struct frame *frames,
			       size_t depth)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->count; i++)
		for (size_t j = 0; j < depth; j++)
			if (frame_matches(s->patterns[i], &frames[j]))
				return s->patterns[i];
	return NULL;
}
