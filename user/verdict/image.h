/* SPDX-License-Identifier: MIT */
/*
 * A copy of the memory the leak check scans, taken while the target is held:
 * every readable mapping that is writable or anonymous (module data and bss,
 * heaps, stacks, TLS, anonymous mmaps), read with process_vm_readv in large
 * batches (/proc/PID/mem page by page where that fails).  Read-only file
 * mappings (code, constants) cannot hold a heap pointer the program stored
 * and are not copied; device mappings are never touched.
 */
#ifndef LS_IMAGE_H
#define LS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/procmaps.h"
#include "mark.h"

struct target_image {
	struct image_region *regions; /* sorted by start */
	bool *anonymous;              /* per region: not file-backed */
	size_t count;
	uint8_t *buffer;              /* every region's bytes, one after the other */
	size_t bytes;                 /* of them */
	size_t capacity;              /* of buffer */
	uint64_t unreadable_bytes;    /* pages that could not be read (left zero) */
};

/* Whether the leak check copies mapping m. */
bool image_wants(const struct mapping *m);

/* Bytes image_copy would copy from maps. */
uint64_t image_size(const struct mapping_list *maps);

/*
 * Room for bytes, its pages faulted in now: done before the target is held,
 * so that the hold pays for the copy alone.  Returns 0 or -ENOMEM.
 */
int image_reserve(struct target_image *image, size_t bytes);

/* Copy what image_wants of pid's maps (more room taken if needed).  Returns 0 or -errno. */
int image_copy(pid_t pid, const struct mapping_list *maps, struct target_image *image);

void image_free(struct target_image *image);

#endif
