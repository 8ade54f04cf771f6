// SPDX-License-Identifier: MIT
/*
 * Copying the target's scannable memory (image.h).  One process_vm_readv
 * moves up to IOV_BATCH regions; when it stops short (a page that cannot be
 * read: a truncated file, a guard), the rest of that region is read page by
 * page through /proc/PID/mem and what still fails stays zero, counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdio.h>

#include "image.h"

#define IOV_BATCH 512
#define PAGE 4096

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool image_wants(const struct mapping *m)
{
	const char *path = m->path ? m->path : "";

	if (!m->readable || m->end <= m->start)
		return false;
	if (!strcmp(path, "[vvar]") || !strcmp(path, "[vvar_vclock]") ||
	    !strcmp(path, "[vsyscall]") || !strcmp(path, "[vdso]"))
		return false;
	/* Device memory may have side effects when read; shared memory files are fine. */
	if (starts_with(path, "/dev/") && !starts_with(path, "/dev/shm/") &&
	    !starts_with(path, "/dev/zero"))
		return false;
	return m->writable || !mapping_is_file(m);
}

uint64_t image_size(const struct mapping_list *maps)
{
	uint64_t total = 0;

	for (size_t i = 0; i < maps->count; i++)
		if (image_wants(&maps->items[i]))
			total += maps->items[i].end - maps->items[i].start;
	return total;
}

/* The rest of a region, from offset done, page by page. */
static void read_slowly(int mem_fd, struct image_region *r, uint8_t *dst, size_t done,
			uint64_t *unreadable)
{
	size_t len = r->end - r->start;

	while (done < len) {
		size_t chunk = len - done < PAGE ? len - done : PAGE;
		ssize_t got = mem_fd >= 0 ? pread(mem_fd, dst + done, chunk,
						  (off_t)(r->start + done)) : -1;

		if (got <= 0) {
			memset(dst + done, 0, chunk);
			*unreadable += chunk;
			got = (ssize_t)chunk;
		}
		done += (size_t)got;
	}
}

static int copy_regions(pid_t pid, struct target_image *image)
{
	char path[64];
	int mem_fd;
	size_t i = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	while (i < image->count) {
		struct iovec local[IOV_BATCH], remote[IOV_BATCH];
		size_t n = 0, want = 0;
		ssize_t got;

		for (; n < IOV_BATCH && i + n < image->count; n++) {
			struct image_region *r = &image->regions[i + n];

			local[n] = (struct iovec){ (void *)r->data, r->end - r->start };
			remote[n] = (struct iovec){ (void *)(uintptr_t)r->start, r->end - r->start };
			want += r->end - r->start;
		}
		got = process_vm_readv(pid, local, n, remote, n, 0);
		if (got < 0 && errno == ESRCH) {
			if (mem_fd >= 0)
				close(mem_fd);
			return -ESRCH;
		}
		if (got == (ssize_t)want) {
			i += n;
			continue;
		}
		/* Regions read whole, then the one that stopped it, slowly. */
		if (got < 0)
			got = 0;
		for (size_t j = 0; j < n; j++) {
			struct image_region *r = &image->regions[i + j];
			size_t len = r->end - r->start;

			if ((size_t)got >= len) {
				got -= (ssize_t)len;
				continue;
			}
			read_slowly(mem_fd, r, (uint8_t *)r->data, (size_t)got, &image->unreadable_bytes);
			i += j + 1;
			break;
		}
	}
	if (mem_fd >= 0)
		close(mem_fd);
	return 0;
}

int image_reserve(struct target_image *image, size_t bytes)
{
	void *buffer;

	if (bytes <= image->capacity)
		return 0;
	if (image->buffer)
		munmap(image->buffer, image->capacity);
	image->buffer = NULL;
	image->capacity = 0;
	/* Its own mapping, given back whole after the check. */
	buffer = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
	if (buffer == MAP_FAILED)
		return -ENOMEM;
	image->buffer = buffer;
	image->capacity = bytes;
	return 0;
}

int image_copy(pid_t pid, const struct mapping_list *maps, struct target_image *image)
{
	size_t n = 0, offset = 0;

	free(image->regions);
	free(image->anonymous);
	image->count = 0;
	image->unreadable_bytes = 0;
	for (size_t i = 0; i < maps->count; i++)
		n += image_wants(&maps->items[i]);
	image->bytes = image_size(maps);
	image->regions = calloc(n ? n : 1, sizeof(*image->regions));
	image->anonymous = calloc(n ? n : 1, sizeof(*image->anonymous));
	if (!image->regions || !image->anonymous || image_reserve(image, image->bytes))
		return -ENOMEM;
	for (size_t i = 0; i < maps->count; i++) {
		const struct mapping *m = &maps->items[i];

		if (!image_wants(m))
			continue;
		image->regions[image->count] = (struct image_region){
			m->start, m->end, image->buffer + offset,
		};
		image->anonymous[image->count++] = !mapping_is_file(m);
		offset += m->end - m->start;
	}
	return copy_regions(pid, image);
}

void image_free(struct target_image *image)
{
	if (image->buffer)
		munmap(image->buffer, image->capacity);
	free(image->regions);
	free(image->anonymous);
	memset(image, 0, sizeof(*image));
}
