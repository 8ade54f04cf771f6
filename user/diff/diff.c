// SPDX-License-Identifier: MIT
/*
 * `leaksnoop diff A B` (diff.h): both files loaded (JSON lines or gzip'd
 * pprof), stacks matched by function names, changes printed largest first.
 * It reads files only: no BPF, no privileges, no target.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "diff.h"
#include "json_reader.h"

const char *const diff_value_names[DIFF_VALUES] = {
	"alloc_objects", "alloc_space", "inuse_objects", "inuse_space", "fds",
};

static int read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16;

	if (!f)
		return -errno;
	*len = 0;
	*data = malloc(cap + 1);
	while (*data) {
		size_t n = fread(*data + *len, 1, cap - *len, f);

		*len += n;
		if (*len < cap)
			break;
		cap *= 2;
		unsigned char *grown = realloc(*data, cap + 1);

		if (!grown) {
			free(*data);
			*data = NULL;
		}
		*data = grown;
	}
	fclose(f);
	if (!*data)
		return -ENOMEM;
	(*data)[*len] = '\0';
	return 0;
}

static int add_stack(struct diff_profile *p, const char *key, const int64_t *values)
{
	for (size_t i = 0; i < p->count; i++) {
		if (strcmp(p->stacks[i].key, key))
			continue;
		for (int v = 0; v < DIFF_VALUES; v++)
			p->stacks[i].values[v] += values[v];
		return 0;
	}
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct diff_stack *grown = realloc(p->stacks, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		p->stacks = grown;
		p->cap = cap;
	}
	p->stacks[p->count].key = strdup(key);
	if (!p->stacks[p->count].key)
		return -ENOMEM;
	memcpy(p->stacks[p->count].values, values, sizeof(int64_t) * DIFF_VALUES);
	p->count++;
	return 0;
}

/* Append one frame's name to key: its symbol, or module+offset when unknown. */
static void append_frame(char *key, size_t size, const char *symbol, const char *module,
			 uint64_t offset)
{
	size_t len = strlen(key);
	const char *base = module ? strrchr(module, '/') : NULL;

	base = base ? base + 1 : module;
	if (symbol && strcmp(symbol, "[unknown]"))
		snprintf(key + len, size - len, "%s%s", len ? " < " : "", symbol);
	else
		snprintf(key + len, size - len, "%s%s+0x%" PRIx64, len ? " < " : "",
			 base ? base : "?", offset);
}

static int64_t number(const struct json_value *object, const char *key)
{
	const struct json_value *v = json_get(object, key);

	return v && v->type == JSON_NUMBER ? (int64_t)v->number : 0;
}

/* The last report of a JSON-lines file, or with peak the stacks of its peak. */
static int load_json(const char *path, char *text, bool peak, struct diff_profile *out)
{
	char *line = text, *last = NULL;
	const struct json_value *stacks, *comm, *from;
	struct json_value *report;
	int err = 0;

	for (char *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strspn(line, " \t\r") != strlen(line))
			last = line;
	}
	report = last ? json_parse(last) : NULL;
	from = peak ? json_get(report, "peak") : report;
	stacks = json_get(from, "stacks");
	if (!stacks || stacks->type != JSON_ARRAY) {
		json_free(report);
		return peak && report && !from ? -ENOENT : -EINVAL;
	}
	comm = json_get(report, "comm");
	snprintf(out->label, sizeof(out->label), "%s: pid %" PRId64 " (%s), %sreport %" PRId64
		 " after %.1f s", path, number(report, "pid"),
		 comm && comm->string ? comm->string : "?", peak ? "the peak, at " : "",
		 number(from, "seq"),
		 json_get(from, "elapsed_s") ? json_get(from, "elapsed_s")->number : 0.0);
	for (size_t i = 0; i < stacks->count && !err; i++) {
		const struct json_value *s = &stacks->items[i], *frames = json_get(s, "frames");
		const struct json_value *kind = json_get(s, "kind");
		bool fd = kind && kind->string && !strcmp(kind->string, "fd");
		/* A descriptor stack weighs in DIFF_FDS alone, as in the pprof profile. */
		int64_t values[DIFF_VALUES] = {
			fd ? 0 : number(s, "allocs"), fd ? 0 : number(s, "alloc_bytes"),
			fd ? 0 : number(s, "outstanding_allocs"), fd ? 0 : number(s, "outstanding_bytes"),
			fd ? number(s, "outstanding_allocs") : 0,
		};
		char key[4096] = "";

		for (size_t f = 0; frames && f < frames->count; f++) {
			const struct json_value *sym = json_get(&frames->items[f], "symbol");
			const struct json_value *mod = json_get(&frames->items[f], "module");

			append_frame(key, sizeof(key), sym ? sym->string : NULL, mod ? mod->string : NULL,
				     (uint64_t)number(&frames->items[f], "offset"));
		}
		err = add_stack(out, key[0] ? key : "[no stack]", values);
	}
	json_free(report);
	return err;
}

/* ---- profile.proto: just enough decoding for samples, locations and functions ---- */

struct pb_reader {
	const uint8_t *p, *end;
};

static int pb_read_varint(struct pb_reader *r, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -EINVAL;
}

/* Next field: its number, wire type, varint value or bytes. */
static int pb_next(struct pb_reader *r, unsigned *field, unsigned *wire, uint64_t *value,
		   struct pb_reader *bytes)
{
	uint64_t tag, len;

	if (r->p >= r->end || pb_read_varint(r, &tag))
		return -1;
	*field = (unsigned)(tag >> 3);
	*wire = tag & 7;
	switch (*wire) {
	case 0: return pb_read_varint(r, value);
	case 1: if (r->end - r->p < 8) return -1; r->p += 8; return 0;
	case 5: if (r->end - r->p < 4) return -1; r->p += 4; return 0;
	case 2:
		if (pb_read_varint(r, &len) || len > (uint64_t)(r->end - r->p))
			return -1;
		bytes->p = r->p;
		bytes->end = r->p + len;
		r->p += len;
		return 0;
	}
	return -1;
}

/* Repeated varints, packed (wire 2) or one at a time (wire 0). */
static size_t pb_varints(unsigned wire, uint64_t value, struct pb_reader *bytes, uint64_t *out,
			 size_t max)
{
	size_t n = 0;

	if (wire == 0) {
		if (max)
			out[n++] = value;
		return n;
	}
	while (n < max && bytes->p < bytes->end && !pb_read_varint(bytes, &out[n]))
		n++;
	return n;
}

struct proto_tables {
	struct pb_reader strings[65536];
	size_t string_count;
	uint64_t *func_ids, *func_names;
	size_t func_count;
	uint64_t *loc_ids, *loc_funcs, *loc_addrs;
	size_t loc_count;
	int value_index[DIFF_VALUES];
	size_t type_count;
};

static const char *proto_string(const struct proto_tables *t, uint64_t index, char *buf,
				size_t size)
{
	size_t len;

	if (index >= t->string_count)
		return "";
	len = (size_t)(t->strings[index].end - t->strings[index].p);
	if (len >= size)
		len = size - 1;
	memcpy(buf, t->strings[index].p, len);
	buf[len] = '\0';
	return buf;
}

static int grow_u64(uint64_t **array, size_t count)
{
	if (count & (count - 1))
		return 0; /* grow at powers of two */
	uint64_t *grown = realloc(*array, (count ? count * 2 : 1) * sizeof(**array));

	if (!grown)
		return -ENOMEM;
	*array = grown;
	return 0;
}

/* First pass: strings, functions, locations, sample types. */
static int read_tables(struct pb_reader whole, struct proto_tables *t)
{
	struct pb_reader r = whole, sub, inner, line;
	unsigned field, wire, f2, w2, f3, w3;
	uint64_t value, v2, v3;

	while (!pb_next(&r, &field, &wire, &value, &sub)) {
		if (field == 6 && wire == 2 && t->string_count < 65536)
			t->strings[t->string_count++] = sub;
	}
	r = whole;
	for (int i = 0; i < DIFF_VALUES; i++)
		t->value_index[i] = -1;
	while (!pb_next(&r, &field, &wire, &value, &sub)) {
		uint64_t id = 0, name = 0, func = 0, addr = 0, type = 0;
		char buf[64];

		if (wire != 2)
			continue;
		if (field == 1) { /* sample_type */
			while (!pb_next(&sub, &f2, &w2, &v2, &inner))
				if (f2 == 1)
					type = v2;
			for (int i = 0; i < DIFF_VALUES; i++)
				if (!strcmp(proto_string(t, type, buf, sizeof(buf)), diff_value_names[i]))
					t->value_index[i] = (int)t->type_count;
			t->type_count++;
		} else if (field == 5) { /* function */
			while (!pb_next(&sub, &f2, &w2, &v2, &inner)) {
				if (f2 == 1)
					id = v2;
				else if (f2 == 2)
					name = v2;
			}
			if (grow_u64(&t->func_ids, t->func_count) || grow_u64(&t->func_names, t->func_count))
				return -ENOMEM;
			t->func_ids[t->func_count] = id;
			t->func_names[t->func_count++] = name;
		} else if (field == 4) { /* location: the first line's function */
			while (!pb_next(&sub, &f2, &w2, &v2, &inner)) {
				if (f2 == 1)
					id = v2;
				else if (f2 == 3)
					addr = v2;
				else if (f2 == 4 && !func)
					while (!pb_next(&inner, &f3, &w3, &v3, &line))
						if (f3 == 1)
							func = v3;
			}
			if (grow_u64(&t->loc_ids, t->loc_count) || grow_u64(&t->loc_funcs, t->loc_count) ||
			    grow_u64(&t->loc_addrs, t->loc_count))
				return -ENOMEM;
			t->loc_ids[t->loc_count] = id;
			t->loc_funcs[t->loc_count] = func;
			t->loc_addrs[t->loc_count++] = addr;
		}
	}
	return 0;
}

static void location_name(const struct proto_tables *t, uint64_t loc, char *key, size_t size)
{
	char buf[1024];

	for (size_t i = 0; i < t->loc_count; i++) {
		if (t->loc_ids[i] != loc)
			continue;
		for (size_t f = 0; t->loc_funcs[i] && f < t->func_count; f++)
			if (t->func_ids[f] == t->loc_funcs[i]) {
				append_frame(key, size, proto_string(t, t->func_names[f], buf, sizeof(buf)),
					     NULL, 0);
				return;
			}
		append_frame(key, size, NULL, "?", t->loc_addrs[i]);
		return;
	}
}

static int load_profile(const char *path, const uint8_t *data, size_t len, struct diff_profile *out)
{
	struct pb_reader whole = { data, data + len }, r = whole, sub;
	struct proto_tables *t = calloc(1, sizeof(*t));
	unsigned field, wire;
	uint64_t value;
	int err;

	if (!t)
		return -ENOMEM;
	err = read_tables(whole, t);
	if (!err && t->value_index[DIFF_INUSE_SPACE] < 0 && t->value_index[DIFF_ALLOC_SPACE] < 0)
		err = -EINVAL; /* not a heap profile */
	snprintf(out->label, sizeof(out->label), "%s: pprof heap profile", path);
	while (!err && !pb_next(&r, &field, &wire, &value, &sub)) {
		uint64_t locs[256], vals[16];
		size_t nlocs = 0, nvals = 0;
		int64_t values[DIFF_VALUES] = { 0 };
		struct pb_reader part;
		unsigned f2, w2;
		uint64_t v2;
		char key[4096] = "";

		if (field != 2 || wire != 2)
			continue;
		while (!pb_next(&sub, &f2, &w2, &v2, &part)) {
			if (f2 == 1)
				nlocs += pb_varints(w2, v2, &part, locs + nlocs, 256 - nlocs);
			else if (f2 == 2)
				nvals += pb_varints(w2, v2, &part, vals + nvals, 16 - nvals);
		}
		for (int i = 0; i < DIFF_VALUES; i++)
			if (t->value_index[i] >= 0 && (size_t)t->value_index[i] < nvals)
				values[i] = (int64_t)vals[t->value_index[i]];
		for (size_t l = 0; l < nlocs; l++)
			location_name(t, locs[l], key, sizeof(key));
		err = add_stack(out, key[0] ? key : "[no stack]", values);
	}
	free(t->func_ids);
	free(t->func_names);
	free(t->loc_ids);
	free(t->loc_funcs);
	free(t->loc_addrs);
	free(t);
	return err;
}

static int gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = len * 4 + 1024;
	int ret;

	if (inflateInit2(&z, 15 + 32))
		return -ENOMEM;
	*out = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	do {
		if (!*out)
			break;
		z.next_out = *out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret == Z_STREAM_END)
			break;
		if (ret != Z_OK) {
			free(*out);
			*out = NULL;
			break;
		}
		if (!z.avail_out) {
			uint8_t *grown = realloc(*out, cap * 2);

			if (!grown) {
				free(*out);
				*out = NULL;
			} else {
				*out = grown;
				cap *= 2;
			}
		}
	} while (*out);
	*out_len = z.total_out;
	inflateEnd(&z);
	return *out ? 0 : -EINVAL;
}

/* A JSON report file's last report (or its peak), or a gzip'd profile (no peak). */
static int load(const char *path, bool peak, struct diff_profile *out)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int err = read_file(path, &data, &len);
	bool gzipped = !err && len >= 2 && data[0] == 0x1f && data[1] == 0x8b;

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	if (gzipped && !peak) {
		uint8_t *raw = NULL;
		size_t raw_len = 0;

		err = gunzip(data, len, &raw, &raw_len);
		if (!err) {
			err = load_profile(path, raw, raw_len, out);
			free(raw);
		}
	} else {
		err = gzipped ? -EINVAL : load_json(path, (char *)data, peak, out);
	}
	free(data);
	return err;
}

int diff_load_peak(const char *path, struct diff_profile *out)
{
	return load(path, true, out);
}

int diff_load(const char *path, struct diff_profile *out)
{
	return load(path, false, out);
}

void diff_free(struct diff_profile *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->stacks[i].key);
	free(p->stacks);
	memset(p, 0, sizeof(*p));
}

struct diff_row {
	const char *key;
	int64_t a, b;
};

static int compare_change(const void *x, const void *y)
{
	const struct diff_row *p = x, *q = y;
	int64_t dp = llabs(p->b - p->a), dq = llabs(q->b - q->a);

	if (dp != dq)
		return dp > dq ? -1 : 1;
	return strcmp(p->key, q->key);
}

/* p's stack with this key, or NULL. */
static const struct diff_stack *stack_of(const struct diff_profile *p, const char *key)
{
	for (size_t i = 0; i < p->count; i++)
		if (!strcmp(p->stacks[i].key, key))
			return &p->stacks[i];
	return NULL;
}

static int64_t value_of(const struct diff_profile *p, const char *key, int value)
{
	const struct diff_stack *stack = stack_of(p, key);

	return stack ? stack->values[value] : 0;
}

void diff_print(FILE *out, const struct diff_profile *a, const struct diff_profile *b,
		int value, size_t top)
{
	struct diff_row *rows = calloc(a->count + b->count + 1, sizeof(*rows));
	size_t n = 0, shown = 0;
	int64_t total_a = 0, total_b = 0;

	if (!rows)
		return;
	for (size_t i = 0; i < a->count; i++)
		rows[n++] = (struct diff_row){ a->stacks[i].key, a->stacks[i].values[value],
					       value_of(b, a->stacks[i].key, value) };
	for (size_t i = 0; i < b->count; i++)
		if (!stack_of(a, b->stacks[i].key))
			rows[n++] = (struct diff_row){ b->stacks[i].key, 0, b->stacks[i].values[value] };
	for (size_t i = 0; i < n; i++) {
		total_a += rows[i].a;
		total_b += rows[i].b;
	}
	qsort(rows, n, sizeof(*rows), compare_change);
	fprintf(out, "base: %s\nnew:  %s\n%s: %" PRId64 " -> %" PRId64 " (%+" PRId64 ")\n\n",
		a->label, b->label, diff_value_names[value], total_a, total_b, total_b - total_a);
	fprintf(out, "%14s %14s %14s  %s\n", "change", "base", "new", "stack (innermost first)");
	for (size_t i = 0; i < n && shown < top; i++) {
		if (rows[i].a == rows[i].b)
			continue;
		fprintf(out, "%+14" PRId64 " %14" PRId64 " %14" PRId64 "  %s\n", rows[i].b - rows[i].a,
			rows[i].a, rows[i].b, rows[i].key);
		shown++;
	}
	if (!shown)
		fputs("(no change)\n", out);
	free(rows);
}

int diff_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "sample", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 'T' },
		{ "peak", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct diff_profile a, b;
	int value = DIFF_INUSE_SPACE, opt, err;
	long top = 20;
	bool peak = false;
	const char *base_path, *new_path;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "T:h", options, NULL)) != -1) {
		if (opt == 'h') {
			puts("Usage: leaksnoop diff [--sample TYPE] [-T N] BASE NEW\n"
			     "       leaksnoop diff --peak [--sample TYPE] [-T N] REPORTS\n"
			     "Per-stack change from BASE to NEW: JSON report files (the last report of\n"
			     "each) or pprof profiles.  --peak: from the peak that the final report of\n"
			     "the JSON file REPORTS keeps to that final report.  TYPE: inuse_space\n"
			     "(default), inuse_objects, alloc_space, alloc_objects, fds (descriptors\n"
			     "open, --fds).  -T: rows shown (default 20).");
			return 0;
		}
		if (opt == 'p') {
			peak = true;
			continue;
		}
		if (opt == 'T' && (top = strtol(optarg, NULL, 10)) > 0)
			continue;
		if (opt == 's') {
			for (value = 0; value < DIFF_VALUES && strcmp(optarg, diff_value_names[value]);
			     value++)
				;
			if (value < DIFF_VALUES)
				continue;
		}
		fprintf(stderr, "leaksnoop: diff: bad option or value (see leaksnoop diff --help)\n");
		return 2;
	}
	if (peak && argc - optind != 1) {
		fprintf(stderr, "leaksnoop: diff --peak needs one JSON report file: leaksnoop diff "
			"--peak REPORTS\n");
		return 2;
	}
	if (!peak && argc - optind != 2) {
		fprintf(stderr, "leaksnoop: diff needs two reports: leaksnoop diff BASE NEW\n");
		return 2;
	}
	/* --peak: BASE is the peak the file's final report keeps, NEW that report. */
	base_path = argv[optind];
	new_path = peak ? argv[optind] : argv[optind + 1];
	err = peak ? diff_load_peak(base_path, &a) : diff_load(base_path, &a);
	if (err) {
		fprintf(stderr, "leaksnoop: diff: cannot read %s%s: %s\n", peak ? "the peak of " : "",
			base_path, err == -ENOENT && peak ? "its last report has no peak (a final "
							    "JSON report has one)" :
			err == -EINVAL ? "not a leaksnoop JSON report nor a pprof heap profile" :
					 strerror(-err));
		return 1;
	}
	err = diff_load(new_path, &b);
	if (err) {
		fprintf(stderr, "leaksnoop: diff: cannot read %s: %s\n", new_path,
			err == -EINVAL ? "not a leaksnoop JSON report nor a pprof heap profile" :
					 strerror(-err));
		diff_free(&a);
		return 1;
	}
	diff_print(stdout, &a, &b, value, (size_t)top);
	diff_free(&a);
	diff_free(&b);
	return 0;
}
