// SPDX-License-Identifier: MIT
/* --top-view: one screen per report, redrawn in place, one line per stack. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"

#define CLEAR_SCREEN "\033[H\033[2J"

/* "symbol file:line" of a stack's allocation site, shortened to width. */
static void site_of(const struct report_stack *s, char *buf, size_t size)
{
	const struct frame *f = s->depth ? &s->frames[0] : NULL;
	const char *file = f && f->file ? strrchr(f->file, '/') : NULL;

	if (!f) {
		snprintf(buf, size, "[stack not captured]");
		return;
	}
	file = file ? file + 1 : f && f->file ? f->file : NULL;
	if (file)
		snprintf(buf, size, "%s %s:%d", f->symbol ? f->symbol : "[unknown]", file, f->line);
	else
		snprintf(buf, size, "%s", f->symbol ? f->symbol : "[unknown]");
}

void report_write_top(FILE *out, const struct report *r)
{
	const char *bold = r->color ? "\033[1m" : "", *reset = r->color ? "\033[0m" : "";
	char clock[16], held[32], allocated[32], growth[32], score[32], site[96];
	struct tm tm;

	localtime_r(&r->wall_time.tv_sec, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	fputs(CLEAR_SCREEN, out);
	fprintf(out, "%sleaksnoop%s %s  pid %d (%s)  %s held in %" PRId64 " blocks  "
		"allocated %s  threads %llu live %llu leaked  dropped %llu/%llu\n\n",
		bold, reset, clock, (int)r->pid, r->comm,
		human_bytes((double)r->outstanding_bytes, held, sizeof(held)), r->outstanding_allocs,
		human_bytes((double)r->alloc_bytes, allocated, sizeof(allocated)),
		(unsigned long long)r->threads_live, (unsigned long long)r->threads_leaked,
		(unsigned long long)r->dropped_events, (unsigned long long)r->dropped_stacks);
	fprintf(out, "%s%4s %-5s %10s %8s %11s %11s  %s%s\n", bold, "#", "KIND", "HELD", "BLOCKS",
		"GROWTH/s", "SCORE/s", "SITE", reset);
	for (size_t i = 0; i < r->stack_count; i++) {
		const struct report_stack *s = &r->stacks[i];
		bool leaking = s->row->leak_score > 0;

		if (!s->row->count)
			continue;
		site_of(s, site, sizeof(site));
		fprintf(out, "%s%4zu %-5s %10s %8" PRId64 " %11s %11s  %s%s%s\n",
			leaking && r->color ? "\033[31m" : "", i + 1, kind_name(s->row->sample->key.kind),
			human_bytes((double)s->row->bytes, held, sizeof(held)), s->row->count,
			human_bytes(s->row->growth_bytes_per_s, growth, sizeof(growth)),
			human_bytes(s->row->leak_score, score, sizeof(score)), site,
			s->row->plateaued ? " (plateaued)" : "", leaking ? reset : "");
	}
	fflush(out);
}
