/* SPDX-License-Identifier: MIT */
/*
 * Every failure's one line on stderr, "leaksnoop: WHAT (and what to do)".
 * Below every stage; it includes none.
 */
#ifndef LS_FAIL_H
#define LS_FAIL_H

/* Print "leaksnoop: MESSAGE" on stderr and return status (an exit status or a -errno). */
int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
