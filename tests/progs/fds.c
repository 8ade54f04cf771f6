// SPDX-License-Identifier: MIT
/*
 * Descriptors left open and closed from known sites, for --fds.
 * `fds [--wait]` prints "ready PID" (with --wait it waits for SIGUSR1), then:
 *
 *   leak_files       4 open("/etc/passwd")                    kept
 *   leak_sockets     3 socket(AF_INET), 1 socketpair(AF_UNIX)  kept (5)
 *   leak_pipes       2 pipe                                    kept (4)
 *   leak_dups        3 dup of a leak_files descriptor          kept
 *   leak_eventfds    2 eventfd                                 kept
 *   leak_perf_events 1 perf_event_open                         kept
 *   uring_site       1 io_uring_setup (close-on-exec, always)    0 left after exec
 *   self_dup2_site   dup2 of a leak_files descriptor onto itself  (nothing made)
 *   replace_site     2 open, each then replaced by dup2_site   0 left
 *   dup2_site        2 dup2 onto replace_site's                kept
 *   closed_site      10 open, each closed                      0 left
 *   range_site       5 open, closed with close_range           0 left
 *   cloexec_range    2 open, marked CLOSE_RANGE_CLOEXEC        0 left after exec
 *   cloexec_site     3 open(O_CLOEXEC)                         0 left after exec
 *   child_site       a forked child closes every descriptor it inherited
 *                    (the parent's stay open) and opens 2, then exits
 *
 * At start it prints "pre N TARGET" for each descriptor it has open; at the
 * end "site NAME FD..." for each kept descriptor, then execs itself with
 * --after-exec; the new image prints "fd N TARGET" for each descriptor in
 * /proc/self/fd, then "done", and sleeps until killed (with --exit as the
 * first argument, exits instead).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void say(const char *site, const int *fds, int count)
{
	printf("site %s", site);
	for (int i = 0; i < count; i++)
		printf(" %d", fds[i]);
	printf("\n");
}

__attribute__((noinline)) void leak_files(int *fds)
{
	for (int i = 0; i < 4; i++)
		fds[i] = open("/etc/passwd", O_RDONLY);
}

__attribute__((noinline)) void leak_sockets(int *fds)
{
	for (int i = 0; i < 3; i++)
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
	socketpair(AF_UNIX, SOCK_STREAM, 0, fds + 3);
}

__attribute__((noinline)) void leak_pipes(int *fds)
{
	pipe(fds);
	pipe(fds + 2);
}

__attribute__((noinline)) void leak_dups(int *fds, int of)
{
	for (int i = 0; i < 3; i++)
		fds[i] = dup(of);
}

__attribute__((noinline)) void leak_eventfds(int *fds)
{
	for (int i = 0; i < 2; i++)
		fds[i] = eventfd(0, 0);
}

/* A descriptor whose file has no type of its own: a perf event. */
__attribute__((noinline)) void leak_perf_events(int *fds)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr), .config = PERF_COUNT_SW_DUMMY,
	};

	fds[0] = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

/* An io_uring instance: the kernel makes its descriptor close-on-exec. */
__attribute__((noinline)) void uring_site(void)
{
	struct io_uring_params params = { 0 };

	syscall(SYS_io_uring_setup, 4, &params);
}

/* dup2 of a descriptor onto itself makes none: it stays leak_files'. */
__attribute__((noinline)) void self_dup2_site(int fd)
{
	dup2(fd, fd);
}

__attribute__((noinline)) void replace_site(int *fds)
{
	for (int i = 0; i < 2; i++)
		fds[i] = open("/dev/null", O_RDONLY);
}

__attribute__((noinline)) void dup2_site(const int *onto, int of)
{
	for (int i = 0; i < 2; i++)
		dup2(of, onto[i]);
}

__attribute__((noinline)) void closed_site(void)
{
	for (int i = 0; i < 10; i++)
		close(open("/dev/null", O_RDONLY));
}

/* Five consecutive descriptors: the lowest free numbers, above every other. */
__attribute__((noinline)) void range_site(int *fds, int count)
{
	for (int i = 0; i < count; i++)
		fds[i] = open("/dev/null", O_RDONLY);
}

__attribute__((noinline)) void child_site(void)
{
	open("/etc/passwd", O_RDONLY);
	open("/etc/passwd", O_RDONLY);
}

/* A child's copies are its own: closing them closes none of the parent's. */
static void fork_child(void)
{
	pid_t child = fork();

	if (child == 0) {
		syscall(SYS_close_range, 3, ~0U, 0);
		child_site();
		_exit(0);
	}
	waitpid(child, NULL, 0);
}

__attribute__((noinline)) void cloexec_site(int *fds)
{
	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void list_own_descriptors(const char *tag)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;

	while ((entry = readdir(dir))) {
		char link[64], target[256];
		ssize_t n;

		if (entry->d_name[0] == '.' || atoi(entry->d_name) == dirfd(dir))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", entry->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf("%s %s %s\n", tag, entry->d_name, target);
	}
	closedir(dir);
}

int main(int argc, char **argv)
{
	int files[4], sockets[5], pipes[4], dups[3], eventfds[2], replaced[2], range[5];
	int cloexec_range[2], cloexec[3], perf_events[1];

	bool exit_at_end = argc > 1 && !strcmp(argv[1], "--exit");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--after-exec")) {
		list_own_descriptors("fd");
		printf("done\n");
		if (argc > 2)
			return 0;
		for (;;)
			pause();
	}
	signal(SIGUSR1, on_usr1);
	list_own_descriptors("pre");
	printf("ready %d\n", (int)getpid());
	while (argc > 1 && !strcmp(argv[1], "--wait") && !go)
		pause();
	leak_files(files);
	leak_sockets(sockets);
	leak_pipes(pipes);
	leak_dups(dups, files[0]);
	leak_eventfds(eventfds);
	leak_perf_events(perf_events);
	uring_site();
	self_dup2_site(files[2]);
	fork_child();
	replace_site(replaced);
	dup2_site(replaced, files[1]);
	closed_site();
	range_site(range, 5);
	syscall(SYS_close_range, range[0], range[4], 0);
	range_site(cloexec_range, 2);
	syscall(SYS_close_range, cloexec_range[0], cloexec_range[1], CLOSE_RANGE_CLOEXEC);
	cloexec_site(cloexec);
	say("leak_files", files, 4);
	say("leak_sockets", sockets, 5);
	say("leak_pipes", pipes, 4);
	say("leak_dups", dups, 3);
	say("leak_eventfds", eventfds, 2);
	say("leak_perf_events", perf_events, 1);
	say("dup2_site", replaced, 2);
	printf("exec\n");
	execl("/proc/self/exe", argv[0], "--after-exec", exit_at_end ? "--exit" : (char *)NULL,
	      (char *)NULL);
	return 1;
}
