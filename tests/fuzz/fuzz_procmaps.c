// SPDX-License-Identifier: MIT
/* libFuzzer target: /proc/PID/maps lines and files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct mapping_list list;
	struct mapping m;
	FILE *stream;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!mapping_parse_line(text, &m))
		free(m.path);
	stream = fmemopen(text, size ? size : 1, "r");
	if (stream && !mappings_read_stream(stream, &list)) {
		for (size_t i = 0; i < list.count; i++) {
			mapping_is_file(&list.items[i]);
			mapping_is_deleted(&list.items[i]);
			mappings_find(&list, list.items[i].start);
		}
		mappings_free(&list);
	}
	if (stream)
		fclose(stream);
	free(text);
	return 0;
}
