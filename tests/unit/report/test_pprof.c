// SPDX-License-Identifier: MIT
/* The protobuf encoder against hand-computed encodings. */
#include <criterion/criterion.h>
#include <string.h>

#include "report/pprof_writer.h"

Test(pprof, varints_are_little_endian_base_128)
{
	struct pb_buffer b = { 0 };

	pb_varint(&b, 0);
	pb_varint(&b, 1);
	pb_varint(&b, 300);
	pb_varint(&b, UINT64_MAX);
	cr_assert_eq(b.len, 1 + 1 + 2 + 10);
	cr_assert_eq(b.data[0], 0x00);
	cr_assert_eq(b.data[1], 0x01);
	cr_assert_eq(b.data[2], 0xac);
	cr_assert_eq(b.data[3], 0x02);
	cr_assert_eq(b.data[13], 0x01);
	pb_free(&b);
}

Test(pprof, fields_tags_and_nesting)
{
	struct pb_buffer outer = { 0 }, inner = { 0 };
	const uint64_t packed[] = { 3, 270 };
	const uint8_t expected[] = {
		0x08, 0x96, 0x01,             /* field 1 varint 150 */
		0x32, 0x03, 'a', 'b', 'c',    /* field 6 "abc" */
		0x12, 0x05,                   /* field 2, nested message of 5 bytes: */
		0x0a, 0x03, 0x03, 0x8e, 0x02, /*   field 1 packed [3, 270] */
	};

	pb_varint_field(&outer, 1, 150);
	pb_bytes_field(&outer, 6, "abc", 3);
	pb_packed_field(&inner, 1, packed, 2);
	pb_message_field(&outer, 2, &inner);
	cr_assert_eq(outer.len, sizeof(expected));
	cr_assert_eq(memcmp(outer.data, expected, sizeof(expected)), 0);
	pb_free(&inner);
	pb_free(&outer);
}
