// SPDX-License-Identifier: MIT
/*
 * Launching -c's command: forked at once, exec'd only when released, seized
 * with ptrace for its exec and exit events (and its entry point with
 * --unwind dwarf) so that its mappings are read before it is gone.  Every
 * other stop is resumed at once with its signal; the child is never left
 * stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

#include "launch.h"

static int resolve_exe(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char *dirs, *dir, *save = NULL;

	if (strchr(name, '/')) {
		snprintf(out, size, "%s", name);
		return access(out, X_OK) ? -errno : 0;
	}
	dirs = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!dirs)
		return -ENOMEM;
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/%s", *dir ? dir : ".", name);
		if (!access(out, X_OK)) {
			free(dirs);
			return 0;
		}
	}
	free(dirs);
	return -ENOENT;
}

static void run_child(int gate, char **argv, const char *exe)
{
	sigset_t none;
	char go;

	/* The tracer blocks its signals; the command must not inherit that. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Never outlive the tracer waiting to release us. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (read(gate, &go, 1) != 1)
		_exit(127);
	close(gate);
	execv(exe, argv);
	fprintf(stderr, "leaksnoop: cannot run %s: %s\n", exe, strerror(errno));
	_exit(127);
}

int launch_prepare(const char *cmd, struct launched *child)
{
	wordexp_t words;
	int gate[2], err;

	memset(child, 0, sizeof(*child));
	child->release_fd = -1;
	child->exit_status = -1;
	if (wordexp(cmd, &words, WRDE_NOCMD | WRDE_UNDEF) || words.we_wordc == 0)
		return -EINVAL;
	err = resolve_exe(words.we_wordv[0], child->exe, sizeof(child->exe));
	if (err)
		goto out;
	if (pipe2(gate, O_CLOEXEC)) {
		err = -errno;
		goto out;
	}
	child->pid = fork();
	if (child->pid < 0) {
		err = -errno;
		close(gate[0]);
		close(gate[1]);
		goto out;
	}
	if (child->pid == 0) {
		close(gate[1]);
		run_child(gate[0], words.we_wordv, child->exe);
	}
	close(gate[0]);
	child->release_fd = gate[1];
	/* Not fatal: without it, a command that exits quickly may stay unsymbolized. */
	ptrace(PTRACE_SEIZE, child->pid, NULL,
	       (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC));
out:
	wordfree(&words);
	return err;
}

int launch_release(struct launched *child)
{
	int err = 0;

	if (write(child->release_fd, "g", 1) != 1)
		err = -errno;
	close(child->release_fd);
	child->release_fd = -1;
	return err;
}

/* The program's entry point (AT_ENTRY) from /proc/PID/auxv, or 0. */
static unsigned long long entry_point(pid_t pid)
{
	unsigned long long pair[2], entry = 0;
	char path[64];
	FILE *auxv;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	auxv = fopen(path, "re");
	if (!auxv)
		return 0;
	while (!entry && fread(pair, sizeof(pair), 1, auxv) == 1 && pair[0])
		if (pair[0] == 9) /* AT_ENTRY */
			entry = pair[1];
	fclose(auxv);
	return entry;
}

/* An int3 on the entry point of the image the child just exec'd (best effort). */
static void arm_entry_stop(struct launched *child)
{
	unsigned long long entry = entry_point(child->pid);
	long word;

	if (!entry)
		return;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, child->pid, (void *)entry, NULL);
	if (errno || ptrace(PTRACE_POKETEXT, child->pid, (void *)entry,
			    (void *)((word & ~0xffL) | 0xcc)))
		return;
	child->entry = entry;
	child->entry_word = word;
	child->entry_armed = true;
}

/* A SIGTRAP from our breakpoint: put the instruction back and resume there. */
static bool disarm_entry_stop(struct launched *child)
{
	struct user_regs_struct regs;

	if (!child->entry_armed || ptrace(PTRACE_GETREGS, child->pid, NULL, &regs) ||
	    regs.rip != child->entry + 1)
		return false;
	child->entry_armed = false;
	regs.rip = child->entry;
	return !ptrace(PTRACE_POKETEXT, child->pid, (void *)child->entry,
		       (void *)child->entry_word) &&
	       !ptrace(PTRACE_SETREGS, child->pid, NULL, &regs);
}

/* A wait status as a shell reports it: the exit code, or 128+N for signal N. */
static int shell_status(int wait_status)
{
	return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

/* What a status from waitpid() means for the child; true once it has gone or is held at exit. */
static bool handle_status(struct launched *child, int status, void (*on_image)(void *arg),
			  void *arg)
{
	int event = status >> 16;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		child->pid = -1;
		child->exit_status = shell_status(status);
		return true;
	}
	if (!WIFSTOPPED(status))
		return false;
	if (event == PTRACE_EVENT_EXIT || event == PTRACE_EVENT_EXEC) {
		on_image(arg);
		if (event == PTRACE_EVENT_EXIT) {
			unsigned long code = 0;

			if (child->hold_at_exit &&
			    !ptrace(PTRACE_GETEVENTMSG, child->pid, NULL, &code)) {
				child->exit_status = shell_status((int)code);
				child->held_at_exit = true;
				return true;
			}
			ptrace(PTRACE_DETACH, child->pid, NULL, NULL);
			return false;
		}
		if (child->stop_at_entry)
			arm_entry_stop(child);
		ptrace(PTRACE_CONT, child->pid, NULL, NULL);
	} else if (!event && WSTOPSIG(status) == SIGTRAP && disarm_entry_stop(child)) {
		on_image(arg);
		ptrace(PTRACE_CONT, child->pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_STOP && WSTOPSIG(status) == SIGTRAP) {
		ptrace(PTRACE_CONT, child->pid, NULL, NULL); /* a PTRACE_INTERRUPT's, left over */
	} else if (event == PTRACE_EVENT_STOP) {
		ptrace(PTRACE_LISTEN, child->pid, NULL, NULL); /* a job-control stop */
	} else {
		ptrace(PTRACE_CONT, child->pid, NULL, (void *)(long)WSTOPSIG(status));
	}
	return false;
}

bool launch_poll(struct launched *child, void (*on_image)(void *arg), void *arg)
{
	int status;

	if (child->held_at_exit)
		return true;
	if (child->requeued_status) {
		status = child->requeued_status;
		child->requeued_status = 0;
		if (handle_status(child, status, on_image, arg))
			return true;
	}
	while (child->pid > 0 && waitpid(child->pid, &status, WNOHANG | __WALL) == child->pid)
		if (handle_status(child, status, on_image, arg))
			return true;
	return false;
}

void launch_requeue(struct launched *child, int status)
{
	child->requeued_status = status;
}

void launch_finish(struct launched *child)
{
	int status;

	if (!child->held_at_exit || child->pid <= 0)
		return;
	ptrace(PTRACE_DETACH, child->pid, NULL, NULL);
	while (waitpid(child->pid, &status, __WALL) == child->pid)
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
	child->pid = -1;
	child->held_at_exit = false;
}

void launch_abort(struct launched *child)
{
	if (child->release_fd >= 0)
		close(child->release_fd);
	child->release_fd = -1;
	if (child->pid > 0) {
		kill(child->pid, SIGKILL);
		waitpid(child->pid, NULL, 0);
	}
}
