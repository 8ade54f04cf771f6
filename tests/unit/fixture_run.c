// SPDX-License-Identifier: MIT
/* Fixture programs started for the symbolizer tests, their printed addresses read (fixture_run.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_run.h"

int fixture_start(const char *path, struct fixture *f)
{
	int in[2], out[2];
	char line[256];
	FILE *stream;

	memset(f, 0, sizeof(*f));
	if (pipe(in) || pipe(out))
		return -1;
	f->pid = fork();
	if (f->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->stdin_fd = in[1];
	stream = fdopen(out[0], "r");
	if (!stream || !fgets(line, sizeof(line), stream))
		return -1;
	fclose(stream);
	for (char *tok = strtok(line, " \n"); tok && f->count < 4; tok = strtok(NULL, " \n"))
		f->addrs[f->count++] = strtoull(tok, NULL, 16);
	return 0;
}

void fixture_stop(struct fixture *f)
{
	close(f->stdin_fd);
	waitpid(f->pid, NULL, 0);
}
