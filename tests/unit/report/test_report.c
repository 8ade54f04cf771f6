// SPDX-License-Identifier: MIT
/* The writers: JSON escaping and schema, text and folded output. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_writer.h"
#include "report/report.h"

static char *capture_json(void (*write)(struct json_writer *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct json_writer w;

	json_init(&w, out);
	write(&w);
	fclose(out);
	return buf;
}

static void nested(struct json_writer *w)
{
	json_object_begin(w, NULL);
	json_string(w, "s", "a\"b\\c\n\x01");
	json_array_begin(w, "list");
	json_int(w, NULL, -3);
	json_uint(w, NULL, 18446744073709551615ULL);
	json_object_begin(w, NULL);
	json_bool(w, "t", true);
	json_object_end(w);
	json_array_end(w);
	json_double(w, "d", 2.25);
	json_string(w, "n", NULL);
	json_object_end(w);
}

Test(json, escapes_and_places_commas)
{
	char *text = capture_json(nested);

	cr_assert_str_eq(text, "{\"s\": \"a\\\"b\\\\c\\n\\u0001\", \"list\": [-3, "
			       "18446744073709551615, {\"t\": true}], \"d\": 2.2, \"n\": null}");
	free(text);
}

static struct report sample_report(struct stack_row *row, struct stack_sample *sample,
				   struct report_stack *stack)
{
	struct report r;

	memset(&r, 0, sizeof(r));
	memset(sample, 0, sizeof(*sample));
	memset(stack, 0, sizeof(*stack));
	sample->key.stack_hash = 0xabc;
	sample->stats.alloc_bytes = 2048;
	sample->stats.alloc_count = 2;
	*row = (struct stack_row){ .sample = sample, .bytes = 1024, .count = 1,
				   .growth_bytes_per_s = 512.0, .oldest_age_ms = 1500 };
	stack->row = row;
	stack->depth = 2;
	stack->frames[0] = (struct frame){ .addr = 0x401126, .symbol = "leak_site", .offset = 9,
					   .module = "/usr/bin/server", .file = "server.c",
					   .line = 42 };
	stack->frames[1] = (struct frame){ .addr = 0x7f0000001000, .offset = 0x1000,
					   .module = "/lib/libx.so" };
	r.seq = 3;
	r.wall_time.tv_sec = 1795443962; /* 2026-11-22T... */
	r.elapsed_s = 15.0;
	r.pid = 1234;
	strcpy(r.comm, "server");
	r.allocator = "glibc";
	r.older_ms = 500;
	r.outstanding_bytes = 1024;
	r.outstanding_allocs = 1;
	r.stacks_holding = 1;
	r.alloc_bytes = 99;
	r.allocs = 10;
	r.frees = 9;
	r.dropped_events = 4;
	r.dropped_stacks = 5;
	r.stacks = stack;
	r.stack_count = 1;
	r.final = true;
	return r;
}

static char *render(void (*writer)(FILE *, const struct report *), const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	writer(out, r);
	fclose(out);
	return buf;
}

Test(report, json_has_every_field_of_the_interface)
{
	struct stack_row row;
	struct stack_sample sample;
	struct report_stack stack;
	struct report r = sample_report(&row, &sample, &stack);
	char *text = render(report_write_json, &r);
	const char *expected[] = {
		"{\"type\": \"report\", \"seq\": 3, \"time\": \"", "\"elapsed_s\": 15.0",
		"\"pid\": 1234", "\"comm\": \"server\"", "\"final\": true",
		"\"totals\": {\"outstanding_bytes\": 1024, \"outstanding_allocs\": 1, "
		"\"alloc_bytes\": 99, \"allocs\": 10, \"frees\": 9",
		"\"threads_live\": 0, \"threads_leaked\": 0",
		"\"stacks\": [{\"kind\": \"heap\"", "\"outstanding_bytes\": 1024",
		"\"outstanding_allocs\": 1", "\"alloc_bytes\": 2048", "\"allocs\": 2",
		"\"growth_bytes_per_s\": 512.0", "\"oldest_age_ms\": 1500",
		"\"frames\": [{\"addr\": \"0x401126\", \"symbol\": \"leak_site\", \"offset\": 9, "
		"\"module\": \"/usr/bin/server\", \"file\": \"server.c\", \"line\": 42}",
		"{\"addr\": \"0x7f0000001000\", \"symbol\": \"[unknown]\", \"offset\": 4096, "
		"\"module\": \"/lib/libx.so\"}",
		"\"dropped\": {\"events\": 4, \"stacks\": 5}}\n",
	};

	for (size_t i = 0; i < sizeof(expected) / sizeof(*expected); i++)
		cr_assert(strstr(text, expected[i]), "missing %s in %s", expected[i], text);
	cr_assert_eq(strchr(text, '\n'), text + strlen(text) - 1, "one line per report");
	free(text);
}

Test(report, text_has_header_totals_and_frames)
{
	struct stack_row row;
	struct stack_sample sample;
	struct report_stack stack;
	struct report r = sample_report(&row, &sample, &stack);
	char *text = render(report_write_text, &r);

	cr_assert(strstr(text, "final report #3 pid 1234 (server)"), "%s", text);
	cr_assert(strstr(text, "1.0 KiB held in 1 allocations older than 500 ms"), "%s", text);
	cr_assert(strstr(text, "dropped: 4 events, 5 stacks"), "%s", text);
	cr_assert(strstr(text, "heap held: 1.0 KiB (1024 bytes) in 1 allocations | growth 512 B/s"
			       " | oldest 1.5 s"), "%s", text);
	cr_assert(strstr(text, "leak_site+0x9 (/usr/bin/server) server.c:42"), "%s", text);
	cr_assert(strstr(text, "[unknown] (/lib/libx.so+0x1000)"), "%s", text);
	free(text);
}

Test(report, folded_lists_outer_frames_first)
{
	struct stack_row row;
	struct stack_sample sample;
	struct report_stack stack;
	struct report r = sample_report(&row, &sample, &stack);
	char *text = render(report_write_folded, &r);

	cr_assert_str_eq(text, "server;[libx.so+0x1000];leak_site 1024\n");
	free(text);
}

Test(report, human_sizes)
{
	char buf[32];

	cr_assert_str_eq(human_bytes(512, buf, sizeof(buf)), "512 B");
	cr_assert_str_eq(human_bytes(1536, buf, sizeof(buf)), "1.5 KiB");
	cr_assert_str_eq(human_bytes(-3 * 1048576.0, buf, sizeof(buf)), "-3.0 MiB");
}
