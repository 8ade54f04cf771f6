// SPDX-License-Identifier: MIT
/*
 * -f pprof: one gzip'd profile.proto per report, with Go's four heap sample
 * types (alloc_objects, alloc_space, inuse_objects, inuse_space), so that
 * `go tool pprof` reads it as it reads a Go heap profile: -top, -list,
 * -http, -diff_base.  Field numbers follow github.com/google/pprof's
 * proto/profile.proto.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <zlib.h>

#include "pprof_writer.h"
#include "common/array.h"
#include "report.h"

enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
};

/* Interned strings, locations, functions and mappings of one profile. */
struct pprof_tables {
	const char **strings;
	size_t string_count, string_cap;
	uint64_t *loc_addrs; /* location id = index + 1 */
	size_t loc_count, loc_cap;
	struct pb_buffer locations, functions, mappings;
	const char **func_keys; /* "name\0file" identity as (name, file) pairs */
	const char **func_files;
	size_t func_count, func_cap;
	uint64_t *map_starts;
	size_t map_count, map_cap;
	int failed;
};

static uint64_t intern(struct pprof_tables *t, const char *s)
{
	if (!s)
		s = "";
	for (size_t i = 0; i < t->string_count; i++)
		if (!strcmp(t->strings[i], s))
			return i;
	if (array_reserve_one((void **)&t->strings, &t->string_cap, t->string_count, sizeof(*t->strings))) {
		t->failed = 1;
		return 0;
	}
	t->strings[t->string_count] = s;
	return t->string_count++;
}

static uint64_t mapping_id(struct pprof_tables *t, const struct frame *f)
{
	struct pb_buffer m = { 0 };

	if (!f->module)
		return 0;
	for (size_t i = 0; i < t->map_count; i++)
		if (t->map_starts[i] == f->map_start)
			return i + 1;
	if (array_reserve_one((void **)&t->map_starts, &t->map_cap, t->map_count, sizeof(*t->map_starts))) {
		t->failed = 1;
		return 0;
	}
	t->map_starts[t->map_count++] = f->map_start;
	pb_varint_field(&m, 1, t->map_count);
	pb_varint_field(&m, 2, f->map_start);
	pb_varint_field(&m, 3, f->map_end);
	pb_varint_field(&m, 4, f->map_file_offset);
	pb_varint_field(&m, 5, intern(t, f->module));
	pb_varint_field(&m, 6, intern(t, f->build_id));
	pb_varint_field(&m, 7, 1); /* has_functions */
	pb_message_field(&t->mappings, PROFILE_MAPPING, &m);
	pb_free(&m);
	return t->map_count;
}

static uint64_t function_id(struct pprof_tables *t, const struct frame *f)
{
	struct pb_buffer fn = { 0 };
	const char *file = f->file ? f->file : "";

	for (size_t i = 0; i < t->func_count; i++)
		if (!strcmp(t->func_keys[i], f->symbol) && !strcmp(t->func_files[i], file))
			return i + 1;
	if (array_reserve_one((void **)&t->func_keys, &t->func_cap, t->func_count, sizeof(*t->func_keys)) ||
	    !(t->func_files = realloc(t->func_files, t->func_cap * sizeof(*t->func_files)))) {
		t->failed = 1;
		return 0;
	}
	t->func_keys[t->func_count] = f->symbol;
	t->func_files[t->func_count++] = file;
	pb_varint_field(&fn, 1, t->func_count);
	pb_varint_field(&fn, 2, intern(t, f->symbol));
	pb_varint_field(&fn, 3, intern(t, f->symbol));
	pb_varint_field(&fn, 4, intern(t, file));
	pb_message_field(&t->functions, PROFILE_FUNCTION, &fn);
	pb_free(&fn);
	return t->func_count;
}

/* One location per distinct address, with its function and line when known. */
static uint64_t location_id(struct pprof_tables *t, const struct frame *f)
{
	struct pb_buffer loc = { 0 }, line = { 0 };

	for (size_t i = 0; i < t->loc_count; i++)
		if (t->loc_addrs[i] == f->addr)
			return i + 1;
	if (array_reserve_one((void **)&t->loc_addrs, &t->loc_cap, t->loc_count, sizeof(*t->loc_addrs))) {
		t->failed = 1;
		return 0;
	}
	t->loc_addrs[t->loc_count++] = f->addr;
	pb_varint_field(&loc, 1, t->loc_count);
	pb_varint_field(&loc, 2, mapping_id(t, f));
	/* A return address: the call is the byte before, as pprof expects of a leaf-first stack. */
	pb_varint_field(&loc, 3, f->addr);
	if (f->symbol) {
		pb_varint_field(&line, 1, function_id(t, f));
		pb_varint_field(&line, 2, (uint64_t)(f->line > 0 ? f->line : 0));
		pb_message_field(&loc, 4, &line);
	}
	pb_message_field(&t->locations, PROFILE_LOCATION, &loc);
	pb_free(&line);
	pb_free(&loc);
	return t->loc_count;
}

static void value_type(struct pprof_tables *t, struct pb_buffer *out, unsigned field,
		       const char *type, const char *unit)
{
	struct pb_buffer vt = { 0 };

	pb_varint_field(&vt, 1, intern(t, type));
	pb_varint_field(&vt, 2, intern(t, unit));
	pb_message_field(out, field, &vt);
	pb_free(&vt);
}

/* A sample's label: a string, or with str NULL a number. */
static void add_label(struct pprof_tables *t, struct pb_buffer *sample, const char *key,
		      const char *str, int64_t num)
{
	struct pb_buffer label = { 0 };

	pb_varint_field(&label, 1, intern(t, key));
	if (str)
		pb_varint_field(&label, 2, intern(t, str));
	else
		pb_varint_field(&label, 3, (uint64_t)num);
	pb_message_field(sample, 3, &label);
	pb_free(&label);
}

/*
 * With --leak-check, four more sample types: definitely and indirectly lost
 * (`go tool pprof -sample_index=lost_space` ranks the leaks), possibly lost.
 */
static void add_sample(struct pprof_tables *t, struct pb_buffer *out, const struct report_stack *s,
		       pid_t target, bool verdicts, bool fds)
{
	const struct stack_stats *stats = &s->row->sample->stats;
	const struct reachability *v = s->reach;
	uint64_t locations[LS_MAX_STACK_DEPTH];
	bool descriptors = s->row->sample->key.kind == LS_KIND_FD;
	int64_t values[9] = { 0 };
	size_t count = verdicts ? 8 : 4;

	/* A descriptor stack's only value is its open descriptors, the "fds" type. */
	if (!descriptors) {
		values[0] = (int64_t)stats->alloc_count;
		values[1] = (int64_t)stats->alloc_bytes;
		values[2] = s->row->count;
		values[3] = s->row->bytes;
	}
	if (v && !s->suppressed_by) {
		values[4] = (int64_t)reachability_lost(v).allocs;
		values[5] = (int64_t)reachability_lost(v).bytes;
		values[6] = (int64_t)v->of[VERDICT_POSSIBLY_LOST].allocs;
		values[7] = (int64_t)v->of[VERDICT_POSSIBLY_LOST].bytes;
	}
	if (fds)
		values[count++] = descriptors ? s->row->count : 0;
	struct pb_buffer sample = { 0 };

	for (size_t i = 0; i < s->depth; i++)
		locations[i] = location_id(t, &s->frames[i]);
	pb_packed_field(&sample, 1, locations, s->depth);
	pb_packed_field(&sample, 2, (const uint64_t *)values, count);
	add_label(t, &sample, "kind", kind_name(s->row->sample->key.kind), 0);
	/* As the Go runtime labels a heap sample: the size of its objects. */
	if (s->row->sample->key.kind == LS_KIND_GO_HEAP)
		add_label(t, &sample, "bytes", NULL, (int64_t)s->row->sample->object_size);
	/* Another process than the target (a child; system-wide, any): which, and where. */
	if (s->pid != target) {
		add_label(t, &sample, "pid", NULL, s->pid);
		if (s->comm)
			add_label(t, &sample, "comm", s->comm, 0);
		if (s->cgroup)
			add_label(t, &sample, "cgroup", s->cgroup, 0);
		if (s->container_id)
			add_label(t, &sample, "container_id", s->container_id, 0);
	}
	pb_message_field(out, PROFILE_SAMPLE, &sample);
	pb_free(&sample);
}

static void free_tables(struct pprof_tables *t)
{
	free(t->strings);
	free(t->loc_addrs);
	free(t->func_keys);
	free(t->func_files);
	free(t->map_starts);
	pb_free(&t->locations);
	pb_free(&t->functions);
	pb_free(&t->mappings);
}

/*
 * After the samples: the mapping, location and function tables (protobuf
 * fields may come in any order) and the profile's time.  On failure the
 * tables are freed and -ENOMEM returned.
 */
static int append_tables(struct pprof_tables *t, struct pb_buffer *out, const struct report *r)
{
	if (out->failed || t->failed || t->mappings.failed || t->locations.failed ||
	    t->functions.failed) {
		free_tables(t);
		return -ENOMEM;
	}
	pb_append(out, &t->mappings);
	pb_append(out, &t->locations);
	pb_append(out, &t->functions);
	pb_varint_field(out, PROFILE_TIME_NANOS,
			(uint64_t)r->wall_time.tv_sec * 1000000000ULL + r->wall_time.tv_nsec);
	return 0;
}

/* The string table last (every string is interned by now), then the tables freed. */
static int finish_profile(struct pprof_tables *t, struct pb_buffer *out)
{
	for (size_t i = 0; i < t->string_count; i++)
		pb_bytes_field(out, PROFILE_STRING_TABLE, t->strings[i], strlen(t->strings[i]));
	free_tables(t);
	return out->failed ? -ENOMEM : 0;
}

int report_encode_pprof(const struct report *r, struct pb_buffer *out)
{
	struct pprof_tables t = { 0 };
	char comment[128];

	intern(&t, ""); /* string 0 is always empty */
	/* pprof takes the first mapping for the main binary: make it the executable's. */
	for (size_t i = 0; r->exe && i < r->stack_count && !t.map_count; i++)
		for (size_t d = 0; d < r->stacks[i].depth; d++)
			if (r->stacks[i].frames[d].module &&
			    !strcmp(r->stacks[i].frames[d].module, r->exe)) {
				mapping_id(&t, &r->stacks[i].frames[d]);
				break;
			}
	value_type(&t, out, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(&t, out, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(&t, out, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(&t, out, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	if (r->leak_check) {
		value_type(&t, out, PROFILE_SAMPLE_TYPE, "lost_objects", "count");
		value_type(&t, out, PROFILE_SAMPLE_TYPE, "lost_space", "bytes");
		value_type(&t, out, PROFILE_SAMPLE_TYPE, "possibly_lost_objects", "count");
		value_type(&t, out, PROFILE_SAMPLE_TYPE, "possibly_lost_space", "bytes");
	}
	if (r->fds_tracked)
		value_type(&t, out, PROFILE_SAMPLE_TYPE, "fds", "count");
	/* A Go program's profile is its Go heap, as its own /debug/pprof/heap would be. */
	for (size_t i = 0; i < r->stack_count; i++)
		if (!r->go_heap_read || r->stacks[i].row->sample->key.kind == LS_KIND_GO_HEAP)
			add_sample(&t, out, &r->stacks[i], r->pid, r->leak_check != NULL,
				   r->fds_tracked);
	if (append_tables(&t, out, r))
		return -ENOMEM;
	pb_varint_field(out, PROFILE_DURATION_NANOS, (uint64_t)(r->elapsed_s * 1e9));
	value_type(&t, out, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb_varint_field(out, PROFILE_PERIOD, r->go_heap_read && r->go_heap_rate > 1 ?
				 (uint64_t)r->go_heap_rate : r->sample_rate > 1 ? r->sample_rate : 1);
	snprintf(comment, sizeof(comment), "leaksnoop pid %d (%s), blocks older than %u ms%s",
		 (int)r->pid, r->comm, r->older_ms,
		 r->oom ? ": killed by the OOM killer, what it held when chosen" : "");
	pb_varint_field(out, PROFILE_COMMENT, intern(&t, comment));
	pb_varint_field(out, PROFILE_DEFAULT_SAMPLE_TYPE, intern(&t, "inuse_space"));
	return finish_profile(&t, out);
}

/*
 * The goroutine profile: a sample per creation site (its stack from the `go`
 * statement up), valued by the goroutines live there, labelled with where
 * most of them wait.
 */
int report_encode_goroutine_pprof(const struct report *r, struct pb_buffer *out)
{
	struct pprof_tables t = { 0 };
	char comment[128];

	intern(&t, "");
	value_type(&t, out, PROFILE_SAMPLE_TYPE, "goroutine", "count");
	for (size_t i = 0; i < r->goroutine_count; i++) {
		const struct report_goroutine *g = &r->goroutines[i];
		uint64_t locations[LS_MAX_STACK_DEPTH], value = g->group->live;
		struct pb_buffer sample = { 0 }, label = { 0 };

		if (!value)
			continue;
		for (size_t d = 0; d < g->depth; d++)
			locations[d] = location_id(&t, &g->frames[d]);
		pb_packed_field(&sample, 1, locations, g->depth);
		pb_packed_field(&sample, 2, &value, 1);
		if (g->group->waiting_count && g->waiting_in.symbol) {
			pb_varint_field(&label, 1, intern(&t, "waiting_in"));
			pb_varint_field(&label, 2, intern(&t, g->waiting_in.symbol));
			pb_message_field(&sample, 3, &label);
		}
		pb_message_field(out, PROFILE_SAMPLE, &sample);
		pb_free(&label);
		pb_free(&sample);
	}
	if (append_tables(&t, out, r))
		return -ENOMEM;
	value_type(&t, out, PROFILE_PERIOD_TYPE, "goroutine", "count");
	pb_varint_field(out, PROFILE_PERIOD, 1);
	snprintf(comment, sizeof(comment), "leaksnoop pid %d (%s): goroutines by creation site",
		 (int)r->pid, r->comm);
	pb_varint_field(out, PROFILE_COMMENT, intern(&t, comment));
	return finish_profile(&t, out);
}

/* Gzip profile bytes into a new buffer (*data, freed by the caller); 0 or -errno. */
static int gzip_profile(const struct pb_buffer *profile, unsigned char **data, size_t *len)
{
	z_stream z = { 0 };
	uLong bound;
	int err = 0;

	*data = NULL;
	/* windowBits 15 + 16: a gzip wrapper, as Go's net/http/pprof sends. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)) {
		err = -ENOMEM;
		goto out;
	}
	bound = deflateBound(&z, profile->len) + 32;
	*data = malloc(bound);
	if (!*data) {
		deflateEnd(&z);
		err = -ENOMEM;
		goto out;
	}
	z.next_in = profile->data;
	z.avail_in = (uInt)profile->len;
	z.next_out = *data;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		free(*data);
		*data = NULL;
		err = -EIO;
	}
	*len = z.total_out;
	deflateEnd(&z);
out:
	return err;
}

/* A profile of r made by encode, gzip'd into a new buffer. */
static int gzip_encoded(const struct report *r,
			int (*encode)(const struct report *, struct pb_buffer *),
			unsigned char **data, size_t *len)
{
	struct pb_buffer profile = { 0 };
	int err = encode(r, &profile);

	*data = NULL;
	if (!err)
		err = gzip_profile(&profile, data, len);
	pb_free(&profile);
	return err;
}

int report_gzip_pprof(const struct report *r, unsigned char **data, size_t *len)
{
	return gzip_encoded(r, report_encode_pprof, data, len);
}

int report_gzip_goroutine_pprof(const struct report *r, unsigned char **data, size_t *len)
{
	return gzip_encoded(r, report_encode_goroutine_pprof, data, len);
}

int report_write_pprof(const char *path, const struct report *r)
{
	unsigned char *data;
	size_t len;
	int fd, err = report_gzip_pprof(r, &data, &len);

	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
	} else {
		if (write(fd, data, len) != (ssize_t)len)
			err = -EIO;
		if (close(fd) && !err)
			err = -errno;
	}
	free(data);
	return err;
}
