// SPDX-License-Identifier: MIT
/*
 * Reading `.gopclntab` (gopclntab.h).  The header gives the offsets of the
 * tables that follow it: function names, compilation units (each a list of
 * file indexes), file names, pc-value tables and the function table, a
 * sorted array of (entry, offset of the function's record).  A pc-value
 * table is a run of (value delta, pc delta) varint pairs, the value delta
 * zig-zag coded, starting from value -1 at the function's entry.
 */
#include <stdlib.h>
#include <string.h>

#include "gopclntab.h"

enum {
	MAGIC_GO116 = 0xfffffffa,
	MAGIC_GO118 = 0xfffffff0,
	MAGIC_GO120 = 0xfffffff1,
};

struct gopclntab {
	const uint8_t *data;
	size_t size;
	uint32_t magic;
	unsigned pc_quantum, ptr_size;
	uint64_t nfunc, text_start;
	uint64_t funcname_off, cu_off, filetab_off, pctab_off, functab_off;
	size_t functab_entry_size; /* 8 (two uint32) from Go 1.18, 2 words before */
};

static uint64_t read_uint(const uint8_t *data, size_t size, size_t off, unsigned width, bool *ok)
{
	uint64_t value = 0;

	if (off + width > size || off + width < off) {
		*ok = false;
		return 0;
	}
	memcpy(&value, data + off, width); /* little-endian: amd64, arm64 */
	return value;
}

static uint64_t word(const struct gopclntab *t, size_t off, bool *ok)
{
	return read_uint(t->data, t->size, off, t->ptr_size, ok);
}

static uint32_t u32(const struct gopclntab *t, size_t off, bool *ok)
{
	return (uint32_t)read_uint(t->data, t->size, off, 4, ok);
}

struct gopclntab *gopclntab_open(const uint8_t *data, size_t size, uint32_t *version_magic)
{
	struct gopclntab *t;
	bool ok = true;
	size_t h = 8; /* magic, two pad bytes, pc quantum, pointer size */

	*version_magic = 0;
	if (size < 8)
		return NULL;
	memcpy(version_magic, data, 4);
	if (*version_magic != MAGIC_GO116 && *version_magic != MAGIC_GO118 &&
	    *version_magic != MAGIC_GO120)
		return NULL;
	if (data[4] || data[5] || (data[6] != 1 && data[6] != 2 && data[6] != 4) ||
	    (data[7] != 4 && data[7] != 8))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->data = data;
	t->size = size;
	t->magic = *version_magic;
	t->pc_quantum = data[6];
	t->ptr_size = data[7];
	t->nfunc = word(t, h, &ok);
	h += 2 * t->ptr_size; /* nfunc, nfiles */
	if (t->magic != MAGIC_GO116) {
		t->text_start = word(t, h, &ok);
		h += t->ptr_size;
	}
	t->funcname_off = word(t, h, &ok);
	t->cu_off = word(t, h + t->ptr_size, &ok);
	t->filetab_off = word(t, h + 2 * t->ptr_size, &ok);
	t->pctab_off = word(t, h + 3 * t->ptr_size, &ok);
	t->functab_off = word(t, h + 4 * t->ptr_size, &ok);
	t->functab_entry_size = t->magic == MAGIC_GO116 ? 2 * t->ptr_size : 8;
	if (!ok || !t->nfunc || t->functab_off > size ||
	    (size - t->functab_off) / t->functab_entry_size < t->nfunc + 1) {
		free(t);
		return NULL;
	}
	return t;
}

void gopclntab_free(struct gopclntab *t)
{
	free(t);
}

void gopclntab_set_text_start_if_unset(struct gopclntab *t, uint64_t text_start)
{
	if (t->magic != MAGIC_GO116 && !t->text_start)
		t->text_start = text_start;
}

size_t gopclntab_count(const struct gopclntab *t)
{
	return (size_t)t->nfunc;
}

/* The i-th function table entry: its entry pc and its record's offset. */
static uint64_t functab(const struct gopclntab *t, size_t i, uint64_t *func_off, bool *ok)
{
	size_t at = t->functab_off + i * t->functab_entry_size;

	if (t->magic == MAGIC_GO116) {
		*func_off = word(t, at + t->ptr_size, ok);
		return word(t, at, ok);
	}
	*func_off = u32(t, at + 4, ok);
	return t->text_start + u32(t, at, ok);
}

uint64_t gopclntab_entry(const struct gopclntab *t, size_t i)
{
	uint64_t off;
	bool ok = true;

	return functab(t, i, &off, &ok);
}

static const char *string_at(const struct gopclntab *t, uint64_t off)
{
	if (off >= t->size || !memchr(t->data + off, '\0', t->size - off))
		return NULL;
	return (const char *)t->data + off;
}

static bool varint(const struct gopclntab *t, size_t *off, uint64_t *value)
{
	unsigned shift = 0;

	*value = 0;
	while (*off < t->size && shift < 64) {
		uint8_t b = t->data[(*off)++];

		*value |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

/* The value a pc-value table (at table_off) gives target, -1 when none. */
static int64_t pc_value(const struct gopclntab *t, uint64_t table_off, uint64_t entry,
			uint64_t target)
{
	size_t off = t->pctab_off + table_off;
	int64_t value = -1;
	uint64_t pc = entry;
	bool first = true;

	if (!table_off)
		return -1;
	for (;;) {
		uint64_t delta, step;

		if (!varint(t, &off, &delta) || (!delta && !first))
			return -1;
		value += (delta & 1) ? -(int64_t)((delta + 1) >> 1) : (int64_t)(delta >> 1);
		if (!varint(t, &off, &step))
			return -1;
		pc += step * t->pc_quantum;
		first = false;
		if (target < pc)
			return value;
	}
}

bool gopclntab_lookup(const struct gopclntab *t, uint64_t pc, struct go_pc_info *info)
{
	size_t lo = 0, hi = (size_t)t->nfunc, rec;
	uint64_t func_off, entry, end, name_off, pcfile, pcln, cu;
	int64_t file_index, line;
	bool ok = true;
	unsigned w;

	memset(info, 0, sizeof(*info));
	if (pc < gopclntab_entry(t, 0) || pc >= gopclntab_entry(t, t->nfunc))
		return false; /* the last entry is the end of the text */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (gopclntab_entry(t, mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	entry = functab(t, lo, &func_off, &ok);
	end = gopclntab_entry(t, lo + 1);
	if (!ok || pc >= end)
		return false;
	/* The record: its entry (a word before Go 1.18, a 32-bit offset after), then int32s. */
	rec = t->functab_off + func_off;
	w = t->magic == MAGIC_GO116 ? t->ptr_size : 4;
	name_off = u32(t, rec + w, &ok);
	pcfile = u32(t, rec + w + 16, &ok);
	pcln = u32(t, rec + w + 20, &ok);
	cu = u32(t, rec + w + 28, &ok);
	if (!ok)
		return false;
	info->function = string_at(t, t->funcname_off + name_off);
	info->entry = entry;
	if (!info->function)
		return false;
	line = pc_value(t, pcln, entry, pc);
	file_index = pc_value(t, pcfile, entry, pc);
	info->line = line > 0 ? (int)line : 0;
	if (file_index >= 0) {
		/* Go 1.16 too keeps per-unit file indexes into the file table's offsets. */
		uint32_t file_off = u32(t, t->cu_off + 4 * (cu + (uint64_t)file_index), &ok);

		if (ok && file_off != UINT32_MAX)
			info->file = string_at(t, t->filetab_off + file_off);
	}
	return true;
}
