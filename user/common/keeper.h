/* SPDX-License-Identifier: MIT */
/*
 * A keeper: a process that outlives leaksnoop to finish what a killed
 * leaksnoop could not (remove its tracefs definitions, continue the children
 * it held).  A grandchild, out of the terminal's process group, holding
 * nothing of leaksnoop's but a pipe's read end and one descriptor it needs;
 * at the pipe's end of file (every process of the run gone) it does its job
 * and exits.
 */
#ifndef LS_KEEPER_H
#define LS_KEEPER_H

/*
 * Start keeper `name`; at the end it calls at_end(kept, arg), kept being its
 * copy of kept_fd (-1: none).  Returns the pipe's write end, to keep open
 * until leaksnoop is done (close-on-exec), or a negative errno.
 */
int keeper_start(const char *name, int kept_fd, void (*at_end)(int kept, void *arg), void *arg);

#endif
