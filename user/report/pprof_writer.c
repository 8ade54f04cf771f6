// SPDX-License-Identifier: MIT
/*
 * A protobuf encoder (pprof_writer.h): growing buffers of varints and
 * length-delimited fields.  It knows nothing of profiles; report_pprof.c does.
 */
#include <stdlib.h>
#include <string.h>

#include "pprof_writer.h"

enum { WIRE_VARINT = 0, WIRE_BYTES = 2 };

static void reserve(struct pb_buffer *b, size_t more)
{
	size_t cap;
	uint8_t *data;

	if (b->failed || b->len + more <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data) {
		b->failed = 1;
		return;
	}
	b->data = data;
	b->cap = cap;
}

void pb_free(struct pb_buffer *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void pb_varint(struct pb_buffer *b, uint64_t value)
{
	reserve(b, 10);
	if (b->failed)
		return;
	do {
		uint8_t byte = value & 0x7f;

		value >>= 7;
		b->data[b->len++] = byte | (value ? 0x80 : 0);
	} while (value);
}

static void tag(struct pb_buffer *b, unsigned field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

void pb_varint_field(struct pb_buffer *b, unsigned field, uint64_t value)
{
	tag(b, field, WIRE_VARINT);
	pb_varint(b, value);
}

void pb_bytes_field(struct pb_buffer *b, unsigned field, const void *data, size_t len)
{
	tag(b, field, WIRE_BYTES);
	pb_varint(b, len);
	reserve(b, len);
	if (b->failed)
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void pb_message_field(struct pb_buffer *b, unsigned field, const struct pb_buffer *msg)
{
	if (msg->failed)
		b->failed = 1;
	pb_bytes_field(b, field, msg->data ? msg->data : (const uint8_t *)"", msg->len);
}

void pb_packed_field(struct pb_buffer *b, unsigned field, const uint64_t *values, size_t n)
{
	struct pb_buffer packed = { 0 };

	for (size_t i = 0; i < n; i++)
		pb_varint(&packed, values[i]);
	pb_message_field(b, field, &packed);
	pb_free(&packed);
}

void pb_append(struct pb_buffer *b, const struct pb_buffer *raw)
{
	if (raw->failed)
		b->failed = 1;
	reserve(b, raw->len);
	if (b->failed || !raw->len)
		return;
	memcpy(b->data + b->len, raw->data, raw->len);
	b->len += raw->len;
}
