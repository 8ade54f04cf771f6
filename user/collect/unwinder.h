/* SPDX-License-Identifier: MIT */
/*
 * The DWARF unwind tables the BPF stack walk reads.
 */
#ifndef LS_UNWINDER_H
#define LS_UNWINDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_follower;

/*
 * --unwind dwarf, user side: fills the BPF maps `unwind_rows` (each module's
 * rows once, however many processes map it) and `unwind_spaces` (each traced
 * process's executable mappings).  A process is given its space when it is
 * first seen and again when the BPF walk met a pc outside every mapping (a
 * module loaded since, e.g. by dlopen), by a thread of its own within ~20 ms.
 * A process without a space is walked with frame pointers.
 */
struct unwinder;

struct unwinder *unwinder_new(int rows_fd, uint32_t row_capacity, int spaces_fd, bool verbose);
void unwinder_free(struct unwinder *u);

/* Write proc's space from pid's mappings now; 0 or -errno. */
int unwinder_load(struct unwinder *u, uint32_t proc, pid_t pid);

/* Read the mappings of pid's traced images again now (e.g. at a launched command's entry point). */
void unwinder_reload_pid(struct unwinder *u, pid_t pid);

/* Load the procs the follower found since the last call; forget those it hid. */
void unwinder_poll(struct unwinder *u, struct proc_follower *procs);

#endif
