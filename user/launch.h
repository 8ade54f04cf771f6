/* SPDX-License-Identifier: MIT */
#ifndef LS_LAUNCH_H
#define LS_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * -c CMD: the child is forked at once but execs only when released, so the
 * probes are attached before the command's first instruction.
 */
struct launched {
	pid_t pid;
	int release_fd;   /* write end: a byte releases the child */
	char exe[4096];   /* resolved executable path */
};

/* Split cmd like a shell would (no expansion of commands), fork, wait. */
int launch_prepare(const char *cmd, struct launched *child);

/* Let the child exec; returns 0 or -errno. */
int launch_release(struct launched *child);

/*
 * The child is ptrace-seized with exit and exec events only, so that its
 * mappings can be read when it execs and just before it exits (a short-lived
 * command would otherwise be gone before its stacks are symbolized).  Every
 * other stop is resumed at once with its signal.  Call on each SIGCHLD:
 * on_image(arg) runs at the exec and exit stops.  Returns true once the child
 * has exited and been reaped.
 */
bool launch_poll(struct launched *child, void (*on_image)(void *arg), void *arg);

/* Kill and reap a child that will not be released. */
void launch_abort(struct launched *child);

#endif
