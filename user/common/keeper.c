// SPDX-License-Identifier: MIT
/* Processes that finish a run's cleanup after leaksnoop has gone (keeper.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keeper.h"

int keeper_start(const char *name, int kept_fd, void (*at_end)(int kept, void *arg), void *arg)
{
	int pipe_fds[2];
	pid_t child;

	if (pipe2(pipe_fds, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return -errno;
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		char byte;

		setsid();
		if (fork() != 0)
			_exit(0);
		/*
		 * Nothing of leaksnoop's (maps, programs, events, nor its output: a
		 * pipe reading it would wait for this process) stays open here.
		 */
		if (dup2(pipe_fds[0], 3) != 3 || (kept_fd >= 0 && dup2(kept_fd, 4) != 4))
			_exit(1);
		for (int fd = 0; fd < 3 && null >= 0; fd++)
			dup2(null, fd);
		close_range(kept_fd >= 0 ? 5 : 4, ~0U, 0);
		prctl(PR_SET_NAME, name);
		while (read(3, &byte, 1) > 0 || errno == EINTR)
			;
		at_end(kept_fd >= 0 ? 4 : -1, arg);
		_exit(0);
	}
	close(pipe_fds[0]);
	waitpid(child, NULL, 0); /* the keeper's parent, gone at once */
	return pipe_fds[1];
}
