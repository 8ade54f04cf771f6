/* SPDX-License-Identifier: MIT */
/* Start a fixture program, read the addresses it prints, stop it. */
#ifndef FIXTURE_RUN_H
#define FIXTURE_RUN_H

#include <stdint.h>
#include <sys/types.h>

struct fixture {
	pid_t pid;
	int stdin_fd;
	uint64_t addrs[4];
	int count;
};

int fixture_start(const char *path, struct fixture *f);
void fixture_stop(struct fixture *f);

#endif
