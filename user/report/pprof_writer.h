/* SPDX-License-Identifier: MIT */
/*
 * The protobuf encoding -f pprof writes.
 */
#ifndef LS_PPROF_WRITER_H
#define LS_PPROF_WRITER_H

#include <stddef.h>
#include <stdint.h>

/*
 * A small protobuf encoder: just what profile.proto (github.com/google/pprof,
 * proto/profile.proto) needs: varints, length-delimited fields and nesting.
 * Hand-written rather than libprotobuf-c because the schema is tiny and
 * stable, and generated code would outweigh it.
 */
struct pb_buffer {
	uint8_t *data;
	size_t len, cap;
	int failed; /* out of memory: everything after is dropped */
};

void pb_free(struct pb_buffer *b);
void pb_varint_field(struct pb_buffer *b, unsigned field, uint64_t value);
void pb_bytes_field(struct pb_buffer *b, unsigned field, const void *data, size_t len);
/* A nested message: its encoded bytes as a length-delimited field. */
void pb_message_field(struct pb_buffer *b, unsigned field, const struct pb_buffer *msg);
/* Packed repeated varints. */
void pb_packed_field(struct pb_buffer *b, unsigned field, const uint64_t *values, size_t n);

/* Append the bytes of raw, which already holds whole encoded fields. */
void pb_append(struct pb_buffer *b, const struct pb_buffer *raw);

/* Append one varint (exposed for tests). */
void pb_varint(struct pb_buffer *b, uint64_t value);

#endif
