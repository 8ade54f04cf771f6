/* SPDX-License-Identifier: MIT */
/*
 * Holding a process still for the leak check: every thread stopped with
 * ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT, the thread list read again until
 * it no longer changes), its registers read, then every thread let go with
 * any signal that arrived meanwhile.  The target is never left stopped: if
 * leaksnoop dies while holding it, the kernel detaches its threads and they
 * run on.
 */
#ifndef LS_FREEZE_H
#define LS_FREEZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a thread's registers may hold as pointers: general and vector registers. */
#define FREEZE_MAX_REG_WORDS 512

struct frozen_thread {
	pid_t tid;
	bool ours;       /* seized for the check (else: -c's command, traced all along) */
	bool stopped;    /* in a ptrace stop now */
	int resume_signal; /* a signal that arrived while held: delivered on release */
	uint64_t sp;     /* stack pointer, 0 when unknown */
	uint64_t words[FREEZE_MAX_REG_WORDS];
	size_t word_count;
};

struct frozen {
	pid_t pid;
	struct frozen_thread *threads;
	size_t count, cap;
	/*
	 * -c: a stop of the command's main thread that was not the check's own
	 * (an exec, its exit, a job-control stop), for launch_requeue(); else 0.
	 */
	int leader_status;
	bool exiting; /* the process began to exit while held */
};

/*
 * Stop every thread of pid.  traced_leader: pid is already ptrace'd by us
 * (-c), so its main thread is interrupted, not seized; leader_stopped: it is
 * already in a stop (its exit), and only its registers are read.  On failure
 * returns -errno with a one-line reason in why (EPERM: ptrace denied or
 * another tracer; ESRCH: it exited; ETIMEDOUT: a thread did not stop) and
 * nothing is left held.
 */
int freeze_process(pid_t pid, bool traced_leader, bool leader_stopped, struct frozen *f,
		   char *why, size_t why_size);

/* Let every thread go (with its pending signal); their stack pointers stay.  Safe twice. */
void thaw_process(struct frozen *f);

void frozen_free(struct frozen *f);

#endif
