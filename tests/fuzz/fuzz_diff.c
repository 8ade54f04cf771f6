// SPDX-License-Identifier: MIT
/* libFuzzer target: `leaksnoop diff` inputs (JSON lines, gzip'd or raw profile.proto). */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diff/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-diff", MFD_CLOEXEC);
	struct diff_profile p;
	char path[64];

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!diff_load(path, &p)) {
			FILE *null = fopen("/dev/null", "w");

			if (null) {
				diff_print(null, &p, &p, DIFF_INUSE_SPACE, 5);
				fclose(null);
			}
			diff_free(&p);
		}
	}
	close(fd);
	return 0;
}
