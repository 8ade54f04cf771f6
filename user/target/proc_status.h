/* SPDX-License-Identifier: MIT */
/*
 * A number from a process's /proc/PID/status ("Tgid:", "TracerPid:", ...),
 * for the stages that need one field of it.
 */
#ifndef LS_PROC_STATUS_H
#define LS_PROC_STATUS_H

#include <sys/types.h>

/* The value of field (without its colon) for pid, or fallback when unreadable. */
long proc_status_number(pid_t pid, const char *field, long fallback);

#endif
