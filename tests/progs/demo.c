// SPDX-License-Identifier: MIT
/*
 * The bundled demo: leaks from two sites and churns from a third.
 * Every 100 ms: leak_request_buffer() leaks 1024 bytes, leak_session_name()
 * leaks 64 bytes every other tick, churn_parse() allocates and frees 4096.
 * Runs for the number of seconds given (default 30), then exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *leak_request_buffer(void)
{
	char *buf = malloc(1024);

	memset(buf, 'r', 1024);
	return buf;
}

static char *leak_session_name(int n)
{
	char *name = malloc(64);

	snprintf(name, 64, "session-%d", n);
	return name;
}

static size_t churn_parse(void)
{
	char *scratch = malloc(4096);
	size_t len;

	memset(scratch, 'p', 4095);
	scratch[4095] = '\0';
	len = strlen(scratch);
	free(scratch);
	return len;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 30;
	volatile size_t sink = 0;

	for (int tick = 0; tick < seconds * 10; tick++) {
		leak_request_buffer();
		if (tick % 2 == 0)
			leak_session_name(tick);
		for (int i = 0; i < 100; i++)
			sink += churn_parse();
		usleep(100 * 1000);
	}
	return (int)(sink & 1);
}
