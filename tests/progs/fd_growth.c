// SPDX-License-Identifier: MIT
/*
 * A server that forgets to close its clients' connections, for --fds.
 * `fd_growth [--wait]` listens on 127.0.0.1 and prints "ready PID"; once
 * released (SIGUSR1 with --wait) it connects to itself every 50 ms from
 * leak_connection (the client's socket kept, the one accept_and_close takes
 * closed), while two threads open and close /dev/null from churn_site as fast
 * as they can, racing for the same numbers.  At SIGUSR2 it stops, joins them
 * and prints "leaked N", "churned M", "done", then sleeps until killed.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go, stop;
static atomic_long churned;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		go = 1;
	else
		stop = 1;
}

__attribute__((noinline)) void churn_site(void)
{
	close(open("/dev/null", O_RDONLY));
}

static void *churn(void *arg)
{
	(void)arg;
	while (!stop) {
		churn_site();
		atomic_fetch_add(&churned, 1);
	}
	return NULL;
}

__attribute__((noinline)) int leak_connection(const struct sockaddr_in *to)
{
	int client = socket(AF_INET, SOCK_STREAM, 0);

	return connect(client, (const struct sockaddr *)to, sizeof(*to));
}

__attribute__((noinline)) void accept_and_close(int listener)
{
	close(accept(listener, NULL, NULL));
}

int main(int argc, char **argv)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	socklen_t len = sizeof(at);
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	pthread_t threads[2];
	long leaked = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	if (bind(listener, (struct sockaddr *)&at, sizeof(at)) || listen(listener, 64) ||
	    getsockname(listener, (struct sockaddr *)&at, &len)) {
		perror("listen");
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	while (argc > 1 && !strcmp(argv[1], "--wait") && !go)
		pause();
	for (int i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, churn, NULL);
	while (!stop) {
		if (leak_connection(&at) == 0)
			leaked++;
		accept_and_close(listener);
		nanosleep(&tick, NULL);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	printf("leaked %ld\nchurned %ld\ndone\n", leaked, (long)atomic_load(&churned));
	for (;;)
		pause();
}
