// SPDX-License-Identifier: MIT
/* Walking a BPF hash map key by key (map_walk.h). */
#include <bpf/bpf.h>
#include <stdint.h>
#include <string.h>

#include "map_walk.h"

size_t map_walk(int fd, size_t key_size, size_t value_size, size_t max,
		bool (*each)(const void *key, const void *value, void *arg), void *arg)
{
	uint8_t key[MAP_WALK_MAX_KEY], next[MAP_WALK_MAX_KEY], value[MAP_WALK_MAX_VALUE];
	size_t n = 0;
	bool first = true;

	if (key_size > sizeof(key) || value_size > sizeof(value))
		return 0;
	while (n < max && !bpf_map_get_next_key(fd, first ? NULL : key, next)) {
		first = false;
		memcpy(key, next, key_size);
		if (bpf_map_lookup_elem(fd, key, value))
			continue; /* deleted since */
		n++;
		if (!each(key, value, arg))
			break;
	}
	return n;
}
