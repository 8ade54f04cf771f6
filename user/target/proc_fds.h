/* SPDX-License-Identifier: MIT */
/* A process's open descriptors as /proc/PID/fd lists them (--fds: those open at attach). */
#ifndef LS_PROC_FDS_H
#define LS_PROC_FDS_H

#include <sys/types.h>

/* How many descriptors pid has open; 0 when it cannot be read. */
unsigned proc_fds_count(pid_t pid);

#endif
