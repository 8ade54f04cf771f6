// SPDX-License-Identifier: MIT
/* libFuzzer target: the JSON reader behind `leaksnoop diff`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff/json_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct json_value *v;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	v = json_parse(text);
	json_get(v, "stacks");
	json_free(v);
	free(text);
	return 0;
}
