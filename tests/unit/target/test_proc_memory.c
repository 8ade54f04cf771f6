// SPDX-License-Identifier: MIT
/* A process's memory from /proc/PID/status (user/target/proc_memory.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "target/proc_memory.h"

Test(proc_memory, reads_the_resident_split_and_swap_in_bytes)
{
	static const char status[] =
		"Name:\tserver\nVmPeak:\t  300000 kB\nVmRSS:\t   51200 kB\nRssAnon:\t   40960 kB\n"
		"RssFile:\t   10000 kB\nRssShmem:\t     240 kB\nVmSwap:\t    1024 kB\nThreads:\t4\n";
	FILE *in = fmemopen((void *)status, strlen(status), "r");
	struct proc_memory m;

	cr_assert_eq(proc_memory_parse(in, &m), 0);
	fclose(in);
	cr_assert_eq(m.rss_bytes, 51200ULL * 1024);
	cr_assert_eq(m.rss_anon_bytes, 40960ULL * 1024);
	cr_assert_eq(m.rss_file_bytes, 10000ULL * 1024);
	cr_assert_eq(m.rss_shmem_bytes, 240ULL * 1024);
	cr_assert_eq(m.swap_bytes, 1024ULL * 1024);
}

Test(proc_memory, a_kernel_thread_has_no_resident_memory_to_read)
{
	static const char status[] = "Name:\tkworker/0:1\nState:\tI (idle)\nThreads:\t1\n";
	FILE *in = fmemopen((void *)status, strlen(status), "r");
	struct proc_memory m;

	cr_assert_lt(proc_memory_parse(in, &m), 0);
	fclose(in);
}

Test(proc_memory, this_process_is_resident)
{
	struct proc_memory m;

	cr_assert_eq(proc_memory_read(getpid(), &m), 0);
	cr_assert_gt(m.rss_bytes, 0);
	cr_assert_leq(m.rss_anon_bytes + m.rss_file_bytes + m.rss_shmem_bytes, m.rss_bytes);
}
