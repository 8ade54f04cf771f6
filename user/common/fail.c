// SPDX-License-Identifier: MIT
/* The one-line failure message (fail.h). */
#include <stdarg.h>
#include <stdio.h>

#include "fail.h"

int fail(int status, const char *fmt, ...)
{
	va_list args;

	fputs("leaksnoop: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	return status;
}
