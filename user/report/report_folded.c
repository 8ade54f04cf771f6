// SPDX-License-Identifier: MIT
/* -f folded: "comm;outer;...;inner bytes", one line per stack holding memory. */
#include <inttypes.h>
#include <stdio.h>

#include "report.h"

static void write_frame_name(FILE *out, const struct frame *f)
{
	if (f->symbol) {
		/* ';' separates frames and ' ' the value: keep them out of names. */
		for (const char *p = f->symbol; *p; p++)
			fputc(*p == ';' ? ':' : *p == ' ' ? '_' : *p, out);
	} else if (f->module) {
		const char *base = f->module;

		for (const char *p = f->module; *p; p++)
			if (*p == '/')
				base = p + 1;
		fprintf(out, "[%s+0x%" PRIx64 "]", base, f->offset);
	} else {
		fprintf(out, "[0x%" PRIx64 "]", f->addr);
	}
}

int64_t sample_value(const struct report_stack *s, enum sample_type type)
{
	const struct stack_stats *stats = &s->row->sample->stats;

	/* Descriptors weigh in their own type only, blocks in the others. */
	if ((s->row->sample->key.kind == LS_KIND_FD) != (type == SAMPLE_FDS))
		return 0;
	switch (type) {
	case SAMPLE_FDS: return s->row->count;
	case SAMPLE_INUSE_SPACE: return s->row->bytes;
	case SAMPLE_INUSE_OBJECTS: return s->row->count;
	case SAMPLE_ALLOC_SPACE: return (int64_t)stats->alloc_bytes;
	case SAMPLE_ALLOC_OBJECTS: return (int64_t)stats->alloc_count;
	}
	return 0;
}

void report_write_folded(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->stack_count; i++) {
		const struct report_stack *s = &r->stacks[i];
		int64_t value = sample_value(s, r->sample);

		if (value <= 0)
			continue;
		fputs(r->comm[0] ? r->comm : "process", out);
		for (size_t d = s->depth; d-- > 0;) {
			fputc(';', out);
			write_frame_name(out, &s->frames[d]);
		}
		fprintf(out, " %" PRId64 "\n", value);
	}
	fflush(out);
}
