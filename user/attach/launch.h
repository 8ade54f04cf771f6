/* SPDX-License-Identifier: MIT */
/*
 * -c CMD: the command started held, released once the probes are attached,
 * and followed to its exit.
 */
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
	bool stop_at_entry; /* also stop a new image at its entry point (libraries mapped) */
	/* The breakpoint at the entry point while it is set. */
	unsigned long long entry;
	long entry_word;
	bool entry_armed;
	int exit_status;  /* once it has exited: its status, 128+N if signal N killed it; else -1 */
	bool hold_at_exit; /* --leak-check: keep it stopped at its exit until launch_finish */
	bool held_at_exit; /* it is: exit_status is known, its memory still there */
	int requeued_status; /* a stop taken by someone else (the leak check's hold), or 0 */
};

/* Split cmd like a shell would (no expansion of commands), fork, wait. */
int launch_prepare(const char *cmd, struct launched *child);

/* Let the child exec; returns 0 or -errno. */
int launch_release(struct launched *child);

/*
 * The child is ptrace-seized with exit and exec events only, so that its
 * mappings can be read when it execs and just before it exits (a short-lived
 * command would otherwise be gone before its stacks are symbolized).  With
 * stop_at_entry, a breakpoint at the new image's entry point stops it once
 * more, when the loader has mapped its libraries.  Every other stop is
 * resumed at once with its signal.  Call on each SIGCHLD: on_image(arg) runs
 * at each of these stops.  Returns true once the child has exited and been
 * reaped (its status in exit_status), or with hold_at_exit once it is held
 * at its exit (held_at_exit; launch_finish lets it go).
 */
bool launch_poll(struct launched *child, void (*on_image)(void *arg), void *arg);

/*
 * A stop of the child's that another waitpid() took (the leak check holds
 * the child while it checks): handled by the next launch_poll as if it had
 * just arrived.  The child is still in that stop.
 */
void launch_requeue(struct launched *child, int status);

/* With hold_at_exit: let the child held at its exit finish, and reap it. */
void launch_finish(struct launched *child);

/* Kill and reap a child that will not be released. */
void launch_abort(struct launched *child);

#endif
