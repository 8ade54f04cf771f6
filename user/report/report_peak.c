// SPDX-License-Identifier: MIT
/*
 * The peak (report.h's struct report_peak): the periodic report that held
 * the most since attach, its top stacks copied with every string their
 * frames name, since the symbolizers those point into may be gone by the
 * final report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void report_peak_free(struct report_peak *p)
{
	free(p->stacks);
	free(p->rows);
	free(p->samples);
	free(p->strings);
	memset(p, 0, sizeof(*p));
}

/* Bytes the strings of one stack take, each with its NUL. */
static size_t stack_strings_size(const struct report_stack *s)
{
	const char *const named[] = { s->comm, s->cgroup, s->container_id, s->no_fp_module };
	size_t size = 0;

	for (size_t i = 0; i < sizeof(named) / sizeof(*named); i++)
		size += named[i] ? strlen(named[i]) + 1 : 0;
	for (size_t f = 0; f < s->depth; f++) {
		const struct frame *frame = &s->frames[f];

		size += frame->symbol ? strlen(frame->symbol) + 1 : 0;
		size += frame->module ? strlen(frame->module) + 1 : 0;
		size += frame->file ? strlen(frame->file) + 1 : 0;
		size += frame->build_id ? strlen(frame->build_id) + 1 : 0;
	}
	return size;
}

/* Copy text to *at (room counted by stack_strings_size) and return the copy. */
static const char *keep_string(const char *text, char **at)
{
	char *copy = *at;
	size_t len;

	if (!text)
		return NULL;
	len = strlen(text) + 1;
	memcpy(copy, text, len);
	*at += len;
	return copy;
}

/* Stack i of r into p, its row, sample and strings p's own. */
static void copy_stack(struct report_peak *p, size_t i, const struct report_stack *from,
		       char **strings)
{
	struct report_stack *to = &p->stacks[i];

	p->samples[i] = *from->row->sample;
	p->samples[i].trace = NULL; /* the collector's: not needed to print */
	p->rows[i] = *from->row;
	p->rows[i].sample = &p->samples[i];
	*to = *from;
	to->row = &p->rows[i];
	to->reach = NULL; /* verdicts are the final report's */
	to->suppressed_by = NULL;
	to->comm = keep_string(from->comm, strings);
	to->cgroup = keep_string(from->cgroup, strings);
	to->container_id = keep_string(from->container_id, strings);
	to->no_fp_module = keep_string(from->no_fp_module, strings);
	for (size_t f = 0; f < to->depth; f++) {
		to->frames[f].symbol = keep_string(from->frames[f].symbol, strings);
		to->frames[f].module = keep_string(from->frames[f].module, strings);
		to->frames[f].file = keep_string(from->frames[f].file, strings);
		to->frames[f].build_id = keep_string(from->frames[f].build_id, strings);
	}
}

int report_peak_consider(struct report_peak *p, const struct report *r)
{
	struct report_peak next = { .set = true };
	size_t strings = 0;
	char *at;

	if (p->set && r->outstanding_bytes <= p->held_bytes)
		return 0;
	for (size_t i = 0; i < r->stack_count; i++)
		strings += stack_strings_size(&r->stacks[i]);
	next.stacks = calloc(r->stack_count + 1, sizeof(*next.stacks));
	next.rows = calloc(r->stack_count + 1, sizeof(*next.rows));
	next.samples = calloc(r->stack_count + 1, sizeof(*next.samples));
	next.strings = malloc(strings + 1);
	if (!next.stacks || !next.rows || !next.samples || !next.strings) {
		report_peak_free(&next);
		return -ENOMEM;
	}
	at = next.strings;
	for (size_t i = 0; i < r->stack_count; i++)
		copy_stack(&next, i, &r->stacks[i], &at);
	next.stack_count = r->stack_count;
	next.held_bytes = r->outstanding_bytes;
	next.held_allocs = r->outstanding_allocs;
	next.wall_time = r->wall_time;
	next.elapsed_s = r->elapsed_s;
	next.seq = r->seq;
	report_peak_free(p);
	*p = next;
	return 1;
}

void report_peak_as_report(const struct report_peak *p, const struct report *final,
			   struct report *out)
{
	*out = *final;
	out->final = false;
	out->seq = p->seq;
	out->wall_time = p->wall_time;
	out->elapsed_s = p->elapsed_s;
	out->outstanding_bytes = p->held_bytes;
	out->outstanding_allocs = p->held_allocs;
	out->stacks = p->stacks;
	out->stack_count = p->stack_count;
	out->peak = NULL;
	out->oom = NULL;
	out->leak_check = NULL;
	out->leak_check_skipped = NULL;
	out->thread_count = 0;
	out->goroutine_count = 0;
	out->memory.read = false;
}
