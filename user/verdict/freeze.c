// SPDX-License-Identifier: MIT
/*
 * Stopping a process's threads for the leak check and letting them go
 * (freeze.h).  PTRACE_SEIZE does not stop a thread and sends it no signal;
 * PTRACE_INTERRUPT then stops it at once, even inside a system call, which
 * resumes (or restarts) when it is let go.  A signal that arrives meanwhile
 * shows up as a signal-delivery stop: it is remembered and handed back at
 * PTRACE_DETACH, so the target sees it as it would have.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "freeze.h"
#include "target/proc_status.h"

/* How long a thread may take to stop (one in uninterruptible sleep may take long). */
#define STOP_TIMEOUT_NS (2000ULL * 1000000ULL)

static struct frozen_thread *find_thread(struct frozen *f, pid_t tid)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->threads[i].tid == tid)
			return &f->threads[i];
	return NULL;
}

static struct frozen_thread *add_thread(struct frozen *f, pid_t tid)
{
	if (f->count == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct frozen_thread *grown = realloc(f->threads, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		f->threads = grown;
		f->cap = cap;
	}
	memset(&f->threads[f->count], 0, sizeof(f->threads[0]));
	f->threads[f->count].tid = tid;
	return &f->threads[f->count++];
}

/* General registers, then the vector registers' bytes (XSAVE area) as words. */
static void read_registers(struct frozen_thread *t)
{
#if defined(__x86_64__)
	struct user_regs_struct regs;
	static uint8_t xsave[8192];
	struct iovec iov = { xsave, sizeof(xsave) };
	size_t n = 0;

	if (ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) == 0) {
		const unsigned long long *w = (const unsigned long long *)&regs;

		for (size_t i = 0; i < sizeof(regs) / sizeof(*w); i++)
			t->words[n++] = w[i];
		t->sp = regs.rsp;
	}
	/* XMM registers at 160..416 of the legacy area; AVX and AVX-512 state from 576. */
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)(long)NT_X86_XSTATE, &iov) == 0) {
		for (size_t off = 160; off + 8 <= 416 && n < FREEZE_MAX_REG_WORDS; off += 8)
			memcpy(&t->words[n++], xsave + off, 8);
		for (size_t off = 576; off + 8 <= iov.iov_len && n < FREEZE_MAX_REG_WORDS; off += 8)
			memcpy(&t->words[n++], xsave + off, 8);
	}
	t->word_count = n;
#else
	(void)t;
#endif
}

/*
 * Wait for tid's stop after PTRACE_INTERRUPT.  Returns 1 stopped, 0 gone,
 * -ETIMEDOUT.  A stop that is not the interrupt's is kept: a signal's for
 * release, -c's own events in f->leader_status.
 */
static int wait_stopped(struct frozen *f, struct frozen_thread *t, unsigned long long deadline)
{
	for (;;) {
		int status;
		pid_t got = waitpid(t->tid, &status, WNOHANG | __WALL);

		if (got < 0)
			return errno == ECHILD ? 0 : -errno;
		if (got == 0) {
			struct timespec pause = { 0, 50000 };

			if (monotonic_ns() > deadline)
				return -ETIMEDOUT;
			nanosleep(&pause, NULL);
			continue;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (t->tid == f->pid)
				f->exiting = true;
			return 0;
		}
		if (!WIFSTOPPED(status))
			continue;
		t->stopped = true;
		if ((status >> 16) == PTRACE_EVENT_STOP && WSTOPSIG(status) == SIGTRAP)
			return 1; /* the interrupt */
		if (!t->ours) {
			f->leader_status = status; /* launch_poll handles it after the thaw */
			if ((status >> 16) == PTRACE_EVENT_EXIT)
				f->exiting = true;
			return 1;
		}
		if ((status >> 16) == 0) /* a signal-delivery stop: the signal waits for release */
			t->resume_signal = WSTOPSIG(status);
		/* A job-control stop (PTRACE_EVENT_STOP with SIGSTOP...) also holds it: stopped. */
		return 1;
	}
}

/* Seize and interrupt every thread not yet held; how many were new, or -errno. */
static int stop_new_threads(struct frozen *f, bool traced_leader, bool leader_stopped,
			    char *why, size_t why_size)
{
	char path[64];
	struct dirent *d;
	int fresh = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)f->pid);
	dir = opendir(path);
	if (!dir) {
		snprintf(why, why_size, "PID %d has exited", (int)f->pid);
		return -ESRCH;
	}
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)atoi(d->d_name);
		bool leader = tid == f->pid;
		struct frozen_thread *t;

		if (tid <= 0 || find_thread(f, tid))
			continue;
		if (leader && leader_stopped) {
			if (!(t = add_thread(f, tid)))
				goto nomem;
			t->stopped = true;
			continue; /* already held at its exit */
		}
		if (leader_stopped)
			continue; /* exiting: the other threads are being killed */
		if (!leader || !traced_leader) {
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL)) {
				if (errno == ESRCH)
					continue; /* exited meanwhile */
				snprintf(why, why_size, "cannot ptrace thread %d: %s%s", (int)tid,
					 strerror(errno), errno == EPERM ? " (CAP_SYS_PTRACE needed, "
					 "and Yama's kernel.yama.ptrace_scope below 3)" : "");
				closedir(dir);
				return -EPERM;
			}
		}
		if (!(t = add_thread(f, tid)))
			goto nomem;
		t->ours = !leader || !traced_leader;
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) && errno == ESRCH)
			continue;
		fresh++;
	}
	closedir(dir);
	return fresh;
nomem:
	closedir(dir);
	snprintf(why, why_size, "out of memory");
	return -ENOMEM;
}

int freeze_process(pid_t pid, bool traced_leader, bool leader_stopped, struct frozen *f,
		   char *why, size_t why_size)
{
	unsigned long long deadline = monotonic_ns() + STOP_TIMEOUT_NS;
	pid_t tracer = traced_leader ? 0 : (pid_t)proc_status_number(pid, "TracerPid", 0);
	struct frozen_thread *threads = f->threads; /* reused from the last check */
	size_t cap = f->cap;
	int fresh, err = 0;

	memset(f, 0, sizeof(*f));
	f->threads = threads;
	f->cap = cap;
	f->pid = pid;
	f->exiting = leader_stopped; /* then its main thread is left held at thaw */
	if (tracer > 0) {
		snprintf(why, why_size, "PID %d is being traced by PID %d (a debugger?)", (int)pid,
			 (int)tracer);
		return -EBUSY;
	}
	/* Threads may start while others are being stopped: list them until none is new. */
	do {
		fresh = stop_new_threads(f, traced_leader, leader_stopped, why, why_size);
		if (fresh < 0) {
			err = fresh;
			break;
		}
		for (size_t i = 0; i < f->count; i++) {
			struct frozen_thread *t = &f->threads[i];
			int got;

			if (t->stopped || t->tid == 0)
				continue;
			got = wait_stopped(f, t, deadline);
			if (got == -ETIMEDOUT) {
				snprintf(why, why_size, "thread %d did not stop within 2 s", (int)t->tid);
				err = -ETIMEDOUT;
				break;
			}
			if (got <= 0)
				t->tid = 0; /* gone: nothing to let go */
		}
	} while (!err && fresh > 0 && !f->exiting && !leader_stopped);
	if (err) {
		thaw_process(f);
		return err;
	}
	for (size_t i = 0; i < f->count; i++)
		if (f->threads[i].tid && f->threads[i].stopped)
			read_registers(&f->threads[i]);
	return 0;
}

void thaw_process(struct frozen *f)
{
	for (size_t i = 0; i < f->count; i++) {
		struct frozen_thread *t = &f->threads[i];

		if (!t->tid)
			continue;
		if (t->ours) {
			/* Detaching also cancels an interrupt that has not stopped it yet. */
			ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->resume_signal);
		} else if (t->stopped && !f->leader_status && !(f->exiting && f->pid == t->tid)) {
			ptrace(PTRACE_CONT, t->tid, NULL, NULL);
		}
		t->tid = 0; /* let go; its stack pointer stays for the mark */
	}
}

void frozen_free(struct frozen *f)
{
	thaw_process(f);
	free(f->threads);
	f->threads = NULL;
	f->count = f->cap = 0;
}
